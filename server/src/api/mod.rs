//! The JSON API for back-office systems (Fachverfahren) and e-file systems under `/api/v1`:
//! they fetch new and changed cases of their postbox with their files, acknowledge
//! submissions, write to the citizen, move cases on and issue fee notices, in the spirit of
//! FIT-Connect (submit, fetch, acknowledge, reply).
//!
//! The OpenAPI 3.1 document at `/api/v1/openapi.json` is generated from the handlers and types
//! below (utoipa), so it cannot drift from what the server does. A request passes: body limit
//! → `auth::authenticate` (key, rate limit, audit) → `idempotency::layer` (POST) → handler.

pub mod actions;
pub mod auth;
pub mod cases;
pub mod fees;
pub mod idempotency;
pub mod keys;
pub mod problem;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get};
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use problem::ApiError;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Amtsweg API",
        version = "1",
        description = "For back-office and e-file systems of an authority. Every call needs an API key of one postbox (`Authorization: Bearer aw_…`), created by an administrator with the scopes it needs. Every POST needs an `Idempotency-Key`; repeating a request with the same key returns the first answer. Errors are RFC 9457 problem details.",
        license(name = "EUPL-1.2"),
    ),
    modifiers(&KeyScheme),
    components(schemas(problem::Problem, problem::FieldProblem)),
    tags(
        (name = "cases", description = "Cases of the key's postbox"),
        (name = "fees", description = "Fee notices"),
    ),
)]
struct ApiDoc;

struct KeyScheme;

impl Modify for KeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The `Idempotency-Key` header every POST carries.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKey(
    /// Unique per intended change, 1 to 255 visible ASCII characters; a UUID is a good choice.
    #[param(pattern = "^[!-~]{1,255}$")]
    #[expect(
        dead_code,
        reason = "read by the idempotency layer, declared here for the document"
    )]
    String,
);

/// Routes and the document describing them, from the same list.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .routes(routes!(cases::list))
                .routes(routes!(cases::get))
                .routes(routes!(cases::file))
                .routes(routes!(cases::export))
                .routes(routes!(actions::acknowledge))
                .routes(routes!(actions::message))
                .routes(routes!(actions::set_state))
                .routes(routes!(fees::list, fees::create))
                .routes(routes!(fees::cancel)),
        )
        .split_for_parts()
}

/// The OpenAPI document, for tools and tests.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

pub fn router(state: AppState) -> Router<AppState> {
    let (routes, doc) = parts();
    let json: Arc<str> = doc.to_pretty_json().unwrap_or_default().into();
    let post_paths = doc
        .paths
        .paths
        .iter()
        .filter(|(_, item)| item.post.is_some())
        .map(|(path, _)| path.clone())
        .collect();
    let guard = idempotency::Guard {
        state: state.clone(),
        post_paths: Arc::new(post_paths),
    };
    let authenticated = routes
        // Unknown addresses under the API answer as the API does (the web's fallback is a page).
        .route("/api/v1/{*rest}", any(|| async { ApiError::not_found() }))
        .layer(from_fn_with_state(guard, idempotency::layer))
        .layer(from_fn_with_state(state, auth::authenticate));
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        json.to_string(),
                    )
                }
            }),
        )
        .merge(authenticated)
        .layer(axum::extract::DefaultBodyLimit::max(
            idempotency::BODY_LIMIT,
        ))
}

/// Timestamps in answers: RFC 3339, UTC, milliseconds.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A JSON body whose problems are answered as problem details, not as axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The body must be JSON (`Content-Type: application/json`).",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::field("body", e.body_text())),
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::bad_request("The body is not well-formed JSON."))
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            )),
            Err(_) => Err(ApiError::bad_request("The body could not be read.")),
        }
    }
}

/// Query parameters whose problems are answered as problem details.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::field("query", e.body_text()))
    }
}
