//! Accounts for citizens, caseworkers and administrators: registration with verified address,
//! login with an optional (for staff mandatory) second factor, sessions, re-authentication
//! before sensitive changes, password and address changes, the once-only profile and privacy
//! rights.

pub mod auth;
pub mod mfa;
pub mod password;
pub mod pg_session;
pub mod postal;
pub mod reauth;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod users;

mod forms;
mod web_auth;
mod web_mfa;
mod web_mfa_login;
mod web_profile;
mod web_settings;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/anmelden", get(web_auth::login_page).post(web_auth::login))
        .route("/abmelden", post(web_auth::logout))
        .route(
            web_mfa_login::STEP_PATH,
            get(web_mfa_login::step_page).post(web_mfa_login::step),
        )
        .route(
            web_mfa_login::ENROL_PATH,
            get(web_mfa_login::enrol_page).post(web_mfa_login::enrol),
        )
        .route(
            reauth::CONFIRM_PATH,
            get(reauth::confirm_page).post(reauth::confirm_submit),
        )
        .route(web_mfa::SETTINGS_PATH, get(web_mfa::settings))
        .route(
            web_mfa::ENROL_PATH,
            get(web_mfa::enrol_page).post(web_mfa::enrol),
        )
        .route(
            web_mfa::CODES_PATH,
            get(web_mfa::codes_page).post(web_mfa::renew_codes),
        )
        .route(web_mfa::DISABLE_PATH, post(web_mfa::disable))
        .route(
            "/registrieren",
            get(web_auth::register_page).post(web_auth::register),
        )
        .route("/registrieren/pruefen", get(web_auth::register_sent))
        .route(
            "/konto/bestaetigen/{token}",
            get(web_auth::verify_page).post(web_auth::verify),
        )
        .route(
            "/passwort-vergessen",
            get(web_auth::forgot_page).post(web_auth::forgot),
        )
        .route("/passwort-vergessen/gesendet", get(web_auth::forgot_sent))
        .route(
            "/passwort-neu/{token}",
            get(web_auth::reset_page).post(web_auth::reset),
        )
        .route("/konto", get(web_settings::overview))
        .route(
            "/konto/passwort",
            get(web_settings::password_page).post(web_settings::change_password),
        )
        .route(
            "/konto/email",
            get(web_settings::email_page).post(web_settings::change_email),
        )
        .route(
            "/konto/email/{token}",
            get(web_settings::confirm_email_page).post(web_settings::confirm_email),
        )
        .route(
            "/konto/abmelden-ueberall",
            post(web_settings::logout_everywhere),
        )
        .route("/konto/daten", get(web_settings::export))
        .route(
            "/konto/loeschen",
            get(web_settings::delete_page).post(web_settings::delete),
        )
        .route("/konto-geloescht", get(web_settings::deleted))
        .route(
            "/konto/profil",
            get(web_profile::page).post(web_profile::save),
        )
}
