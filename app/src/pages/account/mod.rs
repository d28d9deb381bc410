//! Account pages: login, registration, password reset, account settings, profile, privacy.

mod auth;
mod profile;
mod settings;

pub use auth::{confirm, forgot, login, notice, register, reset};
pub use profile::{profile, ProfilePage};
pub use settings::{change_email, change_password, delete, overview, Overview};
