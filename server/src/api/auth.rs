//! Authentication of API calls by key, the rate limit per key, and the audit entry of every
//! call. Keys are read from `Authorization: Bearer`, never from cookies: a browser session
//! reaches nothing here, and a key reaches no web page (those only know sessions).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::keys::{hash, parse_scopes, Scope};
use super::problem::{ApiError, ApiResult};
use crate::accounts::auth::User;
use crate::accounts::throttle::{self, Limit};
use crate::backoffice::audit::{self, Subject};
use crate::domain::Role;
use crate::http::client_ip::ClientIp;
use crate::state::AppState;
use crate::time::now_ms;

/// The calling key, put into the request by `authenticate`.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub id: String,
    pub postbox_id: String,
    pub scopes: Vec<Scope>,
    /// The key as the author of timeline events, messages and audit entries.
    pub actor: User,
    pub ip: String,
    last_used_at: Option<i64>,
}

impl ApiKey {
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This key lacks the scope `{}`.",
                scope.as_str()
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ApiKey>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| t.starts_with("aw_") && t.len() < 200)
}

async fn lookup(state: &AppState, token: &str, ip: String) -> ApiResult<Option<ApiKey>> {
    let Some(r) = sqlx::query(
        "SELECT id, postbox_id, name, prefix, scopes, last_used_at FROM api_keys
         WHERE secret_sha256 = $1 AND revoked_at IS NULL",
    )
    .bind(hash(token))
    .fetch_optional(&state.db.pool)
    .await?
    else {
        return Ok(None);
    };
    let id: String = r.try_get(0)?;
    let name: String = r.try_get(2)?;
    let prefix: String = r.try_get(3)?;
    Ok(Some(ApiKey {
        last_used_at: r.try_get(5)?,
        actor: User {
            id: format!("api-key:{id}"),
            email: format!("API {name} ({prefix})"),
            role: Role::Caseworker,
            lang: amtsweg_app::i18n::Lang::De,
            epoch: 0,
        },
        id,
        postbox_id: r.try_get(1)?,
        scopes: parse_scopes(&r.try_get::<String, _>(4)?),
        ip,
    }))
}

/// Lets authenticated calls through, within the key's rate limit, and audits each of them
/// with method, path and answer status.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let ClientIp(ip) = match ClientIp::from_request_parts(&mut parts, &state).await {
        Ok(ip) => ip,
        Err(never) => match never {},
    };
    let key = match bearer(&parts.headers) {
        Some(token) => match lookup(&state, token, ip.to_string()).await {
            Ok(Some(k)) => k,
            Ok(None) => return ApiError::unauthorized().into_response(),
            Err(e) => return e.into_response(),
        },
        None => return ApiError::unauthorized().into_response(),
    };
    let limit = Limit {
        max: state.config.api_requests_per_minute,
        window_secs: 60,
    };
    if let Err(e) = throttle::hit(&state.db, &format!("api:{}", key.id), limit).await {
        return ApiError::from(e).into_response();
    }
    let what = format!("{} {}", parts.method, parts.uri.path());
    parts.extensions.insert(key.clone());
    let resp = next.run(Request::from_parts(parts, body)).await;
    let detail = format!("{what} -> {}", resp.status().as_u16());
    if let Err(e) = record(&state, &key, &detail).await {
        tracing::error!(error = %e, "API call not audited");
    }
    resp
}

/// The audit entry of a call, and when the key was last used (at most once a minute: enough to
/// see which keys are in use), in the one write the call costs after its answer.
async fn record(state: &AppState, key: &ApiKey, detail: &str) -> sqlx::Result<()> {
    let mut tx = state.db.begin_write().await?;
    let now = now_ms();
    if key.last_used_at.is_none_or(|t| now - t > 60_000) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&key.id)
            .execute(&mut *tx)
            .await?;
    }
    audit::record(
        &mut tx,
        &key.actor,
        &key.ip,
        "api.call",
        Subject::Postbox(&key.postbox_id),
        detail,
    )
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_keys_of_ours_are_read() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::AUTHORIZATION, v.parse().unwrap());
            m
        };
        assert_eq!(bearer(&h("Bearer aw_x_y")), Some("aw_x_y"));
        assert_eq!(bearer(&h("bearer  aw_x_y ")), Some("aw_x_y"));
        assert_eq!(bearer(&h("Basic aw_x_y")), None);
        assert_eq!(bearer(&h("Bearer other")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
