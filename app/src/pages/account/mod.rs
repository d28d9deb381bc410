//! Account pages: login, registration, password reset, account settings, profile, privacy.

mod auth;
mod mfa;
mod profile;
mod settings;

pub use auth::{confirm, forgot, login, notice, register, reset};
pub use mfa::{
    enrol, reauth, recovery_codes, second_step, settings as two_factor, EnrolView, ReauthView,
    SettingsView,
};
pub use profile::{profile, ProfilePage};
pub use settings::{change_email, change_password, delete, overview, Overview};
