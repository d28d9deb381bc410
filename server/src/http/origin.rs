//! Refuses state-changing requests that a browser says come from another site. This is the
//! coarse, session-independent half of CSRF protection; forms also carry a session token.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe_method(req.method()) || same_origin(&state, &req) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "cross-origin request refused");
    AppError::Forbidden.into_response()
}

fn is_safe_method(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn same_origin(state: &AppState, req: &Request) -> bool {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none` is a user-typed navigation; anything from another origin is refused.
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Non-browser clients (and old browsers) send no Origin; the form token covers them.
        return true;
    };
    let public = state.config.public_url.trim_end_matches('/');
    if origin == public {
        return true;
    }
    // In development and tests the server is reached under the address it listens on; in
    // production only the configured public URL counts.
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    state.config.is_dev()
        && !host.is_empty()
        && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}
