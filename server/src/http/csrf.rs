//! The session-bound half of CSRF protection: every state-changing form carries the session's
//! token in `_csrf` (multipart forms in the query string). Checked before any handler runs, so
//! a route cannot forget it.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::accounts::session::CSRF;
use crate::error::AppError;

/// Paths whose POST changes no server-side state: the language switch only sets a preference
/// cookie, and is still covered by the origin check.
const EXEMPT: &[&str] = &["/sprache"];
const FORM_LIMIT: usize = 64 * 1024;

pub async fn verify_csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || EXEMPT.contains(&req.uri().path())
    {
        return next.run(req).await;
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return AppError::Forbidden.into_response();
    };
    let expected = match session.get::<String>(CSRF).await {
        Ok(Some(t)) => t,
        Ok(None) => return refuse(&req),
        // The store could not be read (database unavailable): not the sender's fault.
        Err(e) => return AppError::Session(e).into_response(),
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
            return AppError::PayloadTooLarge.into_response();
        };
        if !token_matches(form_value(&bytes, "_csrf").as_deref(), &expected) {
            tracing::warn!(path = %parts.uri.path(), "form token missing or wrong");
            return AppError::Forbidden.into_response();
        }
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    }
    let query = req.uri().query().unwrap_or("").as_bytes().to_vec();
    if token_matches(form_value(&query, "_csrf").as_deref(), &expected) {
        next.run(req).await
    } else {
        refuse(&req)
    }
}

fn refuse(req: &Request) -> Response {
    tracing::warn!(path = %req.uri().path(), "form token missing or wrong");
    AppError::Forbidden.into_response()
}

fn form_value(bytes: &[u8], key: &str) -> Option<String> {
    form_urlencoded::parse(bytes)
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Compares digests so the time taken says nothing about how much of the token matched.
fn token_matches(given: Option<&str>, expected: &str) -> bool {
    given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_token_among_other_fields() {
        assert_eq!(
            form_value(b"a=1&_csrf=abc%2Bd&b=2", "_csrf").as_deref(),
            Some("abc+d")
        );
        assert_eq!(form_value(b"a=1", "_csrf"), None);
        assert!(token_matches(Some("x"), "x"));
        assert!(!token_matches(Some("y"), "x"));
        assert!(!token_matches(None, "x"));
    }
}
