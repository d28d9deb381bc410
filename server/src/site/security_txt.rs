//! `/.well-known/security.txt` (RFC 9116): where to report a vulnerability.
//!
//! The contact is the operator's address from the configuration; without one there is nobody to
//! report to, so the file is not served (404) rather than naming a made-up address. `Expires` is
//! required and should stay under a year ahead: it is computed per request (90 days), so a
//! running portal never serves an expired file, and the file always reflects the configuration.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

const VALID_DAYS: i64 = 90;

pub async fn security_txt(State(state): State<AppState>) -> Result<Response, AppError> {
    let config = &state.config;
    let email = config
        .operator_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or(AppError::NotFound)?;
    let body = render(
        email,
        &config.public_url,
        time::OffsetDateTime::now_utc() + time::Duration::days(VALID_DAYS),
    );
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(resp)
}

fn render(email: &str, public_url: &str, expires: time::OffsetDateTime) -> String {
    let expires = expires
        .replace_nanosecond(0)
        .unwrap_or(expires)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let base = public_url.trim_end_matches('/');
    format!(
        "Contact: mailto:{email}\n\
         Expires: {expires}\n\
         Preferred-Languages: de, en\n\
         Canonical: {base}/.well-known/security.txt\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_required_fields() {
        let at = time::macros::datetime!(2026-11-23 10:00:00.5 UTC);
        let text = render("it@stadt.example", "https://portal.example/", at);
        assert_eq!(
            text,
            "Contact: mailto:it@stadt.example\nExpires: 2026-11-23T10:00:00Z\nPreferred-Languages: de, en\nCanonical: https://portal.example/.well-known/security.txt\n"
        );
    }
}
