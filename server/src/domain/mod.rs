//! Domain newtypes: input is parsed into these at the edge, so the rest of the code only ever
//! sees valid values.

mod ags;
mod creditor_reference;
mod email;
mod iban;
mod reference;
mod role;

pub use ags::{Ags, PostalCode};
pub use creditor_reference::CreditorReference;
pub use email::{Email, EmailError};
pub use iban::{Iban, Money};
pub use reference::Reference;
pub use role::Role;

/// Plain single-line text as people type it: no control characters, bounded length.
pub fn is_plain_text(s: &str, max_chars: usize) -> bool {
    s.chars().count() <= max_chars && !s.chars().any(char::is_control)
}
