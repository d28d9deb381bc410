//! Security headers on every response, and the error pages for responses that carry none.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ctx::{self, Ctx};
use crate::error::ErrorPage;
use crate::state::AppState;

/// No script may run at all; styles and images only from this origin; no framing.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if state.config.served_over_tls() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages differ by language and (later) by login: revalidate rather than reuse blindly.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// Replaces bare error responses (from handlers, the fallback, body limits, timeouts, panics)
/// with a page in the user's language that reveals nothing internal.
pub async fn error_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let uri = req.uri().clone();
    let session = req.extensions().get::<tower_sessions::Session>().cloned();
    let resp = next.run(req).await;
    let status = resp.status();
    let marked = resp.extensions().get::<ErrorPage>().is_some();
    let has_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.contains("json"));
    if !(marked || (status.is_client_error() || status.is_server_error()) && !has_html) {
        return resp;
    }
    let status = match status {
        // Handler-level panics and other 5xx all look the same to the user.
        s if s.is_server_error() && s != StatusCode::SERVICE_UNAVAILABLE => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        s => s,
    };
    // The page is built only for errors; if even the user cannot be loaded (database down),
    // the page is shown as to an anonymous visitor. A 503 means the database is unavailable or
    // the request ran out of time: asking it again for the user would only add the pool's
    // wait to the answer, so that page is anonymous from the start.
    let ctx = if status == StatusCode::SERVICE_UNAVAILABLE {
        None
    } else {
        ctx::build(&state, &headers, &uri, session).await.ok()
    };
    let ctx = ctx.unwrap_or_else(|| anonymous(&headers, &uri));
    let body = amtsweg_app::pages::error::render(&ctx.page(), status.as_u16());
    let mut page = (status, super::html(body)).into_response();
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        page.headers_mut().insert(header::ALLOW, allow.clone());
    }
    match resp.headers().get(header::RETRY_AFTER) {
        Some(retry) => {
            page.headers_mut()
                .insert(header::RETRY_AFTER, retry.clone());
        }
        None if status == StatusCode::SERVICE_UNAVAILABLE => {
            page.headers_mut()
                .insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECS.into());
        }
        None => {}
    }
    page
}

fn anonymous(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Ctx {
    Ctx {
        lang: ctx::request_lang(headers, None),
        path: uri.path().to_string(),
        dev_mode: false,
        user: None,
        csrf: None,
        session: None,
    }
}

/// Outside the session layer: tower-sessions answers a bare 500 when it cannot save a changed
/// session after the handler ran, which only happens when the database is unavailable. The
/// visitor gets the "try again shortly" page instead of an empty response.
pub async fn session_store_errors(req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let uri = req.uri().clone();
    let resp = next.run(req).await;
    if resp.status() != StatusCode::INTERNAL_SERVER_ERROR
        || resp.headers().contains_key(header::CONTENT_TYPE)
    {
        return resp;
    }
    let body = amtsweg_app::pages::error::render(&anonymous(&headers, &uri).page(), 503);
    let mut page = (StatusCode::SERVICE_UNAVAILABLE, super::html(body)).into_response();
    page.headers_mut()
        .insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECS.into());
    page
}
