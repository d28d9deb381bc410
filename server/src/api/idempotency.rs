//! Idempotency keys on every POST: a back-office system that did not get the answer (timeout,
//! lost connection) repeats the request with the same `Idempotency-Key` and gets the first
//! answer again instead of a second message or notice. The same key with a different request
//! is refused, as is a repeat while the first is still running.

use axum::body::{to_bytes, Body};
use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::auth::ApiKey;
use super::problem::ApiError;
use crate::state::AppState;
use crate::time::now_ms;

/// Largest request body: a message with attachments in Base64.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Answers are small JSON documents; anything larger is not kept.
const ANSWER_LIMIT: usize = 1024 * 1024;
/// How long an answer is kept for repeats.
pub const KEEP_MS: i64 = 24 * 3600 * 1000;

pub(crate) fn valid(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The routes that take POST (from the OpenAPI document), so that a POST elsewhere is
/// answered by the router (405) rather than asked for a key it would never use.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub post_paths: Arc<HashSet<String>>,
}

pub async fn layer(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let is_post_route = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| guard.post_paths.contains(p.as_str()));
    if req.method() != Method::POST || !is_post_route {
        return next.run(req).await;
    }
    let state = guard.state;
    let Some(api_key) = req.extensions().get::<ApiKey>().cloned() else {
        return ApiError::unauthorized().into_response();
    };
    let idem = match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        Some(Ok(k)) if valid(k) => k.to_string(),
        _ => {
            return ApiError::bad_request(
                "Every POST needs an `Idempotency-Key` header (1 to 255 visible ASCII characters), unique per intended change.",
            )
            .into_response()
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is larger than 16 MB.",
            )
            .into_response()
        }
    };
    let mut h = Sha256::new();
    h.update(parts.uri.path().as_bytes());
    h.update([0]);
    h.update(&bytes);
    let request_sha = hex::encode(h.finalize());
    match claim(&state, &api_key.id, &idem, &request_sha).await {
        Ok(None) => {}
        Ok(Some(answer)) => return answer,
        Err(e) => return ApiError::from(e).into_response(),
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (rparts, rbody) = resp.into_parts();
    let Ok(answer) = to_bytes(rbody, ANSWER_LIMIT).await else {
        let _ = release(&state, &api_key.id, &idem).await;
        return ApiError::internal("API answer too large to keep").into_response();
    };
    let kept = if rparts.status.is_server_error() {
        // Nothing happened: the request may be tried again with the same key.
        release(&state, &api_key.id, &idem).await
    } else {
        sqlx::query(
            "UPDATE api_idempotency SET status = $1, body = $2 WHERE key_id = $3 AND idempotency_key = $4",
        )
        .bind(i64::from(rparts.status.as_u16()))
        .bind(String::from_utf8_lossy(&answer).into_owned())
        .bind(&api_key.id)
        .bind(&idem)
        .execute(&state.db.pool)
        .await
        .map(|_| ())
    };
    if let Err(e) = kept {
        tracing::error!(error = %e, "idempotency answer not kept");
    }
    Response::from_parts(rparts, Body::from(answer))
}

/// Registers the key for this request; `Some` is the answer to give instead of running it.
async fn claim(
    state: &AppState,
    key_id: &str,
    idem: &str,
    request_sha: &str,
) -> sqlx::Result<Option<Response>> {
    let inserted = sqlx::query(
        "INSERT INTO api_idempotency (key_id, idempotency_key, request_sha256, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (key_id, idempotency_key) DO NOTHING",
    )
    .bind(key_id)
    .bind(idem)
    .bind(request_sha)
    .bind(now_ms())
    .execute(&state.db.pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(None);
    }
    let (sha, status, body): (String, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT request_sha256, status, body FROM api_idempotency WHERE key_id = $1 AND idempotency_key = $2",
    )
    .bind(key_id)
    .bind(idem)
    .fetch_one(&state.db.pool)
    .await?;
    if sha != request_sha {
        return Ok(Some(
            ApiError::conflict("This Idempotency-Key was used for a different request.")
                .into_response(),
        ));
    }
    let Some(status) = status.and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
    else {
        return Ok(Some(
            ApiError::conflict("The first request with this Idempotency-Key is still running.")
                .into_response(),
        ));
    };
    let mut resp = Response::new(Body::from(body.unwrap_or_default()));
    *resp.status_mut() = status;
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Some(resp))
}

async fn release(state: &AppState, key_id: &str, idem: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM api_idempotency WHERE key_id = $1 AND idempotency_key = $2")
        .bind(key_id)
        .bind(idem)
        .execute(&state.db.pool)
        .await
        .map(|_| ())
}

/// Forgets answers older than a day (maintenance job).
pub async fn purge(db: &crate::db::Db) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
        .bind(now_ms() - KEEP_MS)
        .execute(&db.pool)
        .await
        .map(|r| r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::valid;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(valid("a"));
        assert!(valid(&"x".repeat(255)));
        assert!(!valid(""));
        assert!(!valid(&"x".repeat(256)));
        assert!(!valid("with space"));
        assert!(!valid("ümlaut"));
    }
}
