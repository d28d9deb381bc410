//! Shared helpers for the account forms.

use amtsweg_app::i18n::Lang;
use amtsweg_app::FormState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::domain::Email;

pub fn state_with(values: &[(&str, &str)]) -> FormState {
    FormState {
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        errors: Vec::new(),
    }
}

/// Parses the address field, recording a translated error when it is not usable.
pub fn email_field(state: &mut FormState, lang: Lang, field: &str, raw: &str) -> Option<Email> {
    match Email::parse(raw) {
        Ok(e) => Some(e),
        Err(e) => {
            state.add_error(lang, field, e.message_key());
            None
        }
    }
}

/// A new password with its confirmation, checked against the rules.
pub fn new_password_fields(
    state: &mut FormState,
    lang: Lang,
    password: &str,
    confirm: &str,
    email: &str,
) {
    if let Err(key) = super::password::check_new(password, &[email]) {
        state.add_error(lang, "password", key);
    } else if password != confirm {
        state.add_error(lang, "password_confirm", "error.password.mismatch");
    }
}

/// A form re-rendered with its errors.
pub fn invalid(body: String) -> Response {
    let mut resp = crate::http::ctx::private_html(body);
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp.into_response()
}

/// Translation key of a success message named in `?ok=` after a redirect; only known names.
pub fn notice_key(ok: Option<&str>) -> Option<&'static str> {
    match ok? {
        "verified" => Some("notice.verified"),
        "reset" => Some("notice.reset"),
        "password" => Some("notice.password"),
        "email" => Some("notice.email"),
        "email_sent" => Some("notice.email_sent"),
        "everywhere" => Some("notice.everywhere"),
        _ => None,
    }
}
