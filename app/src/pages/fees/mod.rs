//! Fee notices and payments: the caseworker's notice form and notice page, the citizen's fee
//! overview and notice page (bank details, GiroCode, online payment), and the payments desk
//! (bank statement import, unmatched payments).

mod citizen;
mod desk;
mod staff;

pub use citizen::*;
pub use desk::*;
pub use staff::*;

/// Number of line-item rows on the notice form; enough for real fee schedules, and it needs
/// no script to add rows.
pub const ITEM_ROWS: usize = 6;
