//! Errors of the API as RFC 9457 problem details (`application/problem+json`). Back-office
//! systems read `status` and `errors`; the cause of a server error goes to the log only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;

/// A problem with one member of the request body or query.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Name of the member, e.g. `outcome` or `items[0].amount_cents`.
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status code says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Problems with single members of the request, all at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// The problems any reading call may answer with, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
pub enum ReadProblems {
    #[response(
        status = 401,
        description = "No valid key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The key lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(
        status = 404,
        description = "Not in the key's postbox",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 422,
        description = "Invalid parameters",
        content_type = "application/problem+json"
    )]
    Invalid(Problem),
    #[response(
        status = 429,
        description = "Rate limit; see Retry-After",
        content_type = "application/problem+json"
    )]
    TooMany(Problem),
}

/// The problems any changing call may answer with, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
pub enum WriteProblems {
    #[response(
        status = 400,
        description = "Missing Idempotency-Key or malformed JSON",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    #[response(
        status = 401,
        description = "No valid key",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The key lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(
        status = 404,
        description = "Not in the key's postbox",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 409,
        description = "Not possible in the case's state, or the Idempotency-Key was used otherwise",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    #[response(
        status = 413,
        description = "Body larger than 16 MB",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    #[response(
        status = 415,
        description = "Body is not JSON",
        content_type = "application/problem+json"
    )]
    NotJson(Problem),
    #[response(
        status = 422,
        description = "Invalid values, listed in `errors`",
        content_type = "application/problem+json"
    )]
    Invalid(Problem),
    #[response(
        status = 429,
        description = "Rate limit; see Retry-After",
        content_type = "application/problem+json"
    )]
    TooMany(Problem),
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    pub errors: Vec<FieldProblem>,
    retry_after: Option<u64>,
    cause: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "No such resource for this key.")
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// The request body is well-formed but its content is refused; `errors` says where.
    pub fn invalid(errors: Vec<FieldProblem>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The request contains invalid values.",
        );
        e.errors = errors;
        e
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldProblem {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "A valid API key is required: `Authorization: Bearer <key>`.",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request could not be completed. Please try again later.",
        );
        e.cause = Some(cause.to_string());
        e
    }

    pub fn body(&self) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::not_found(),
            AppError::Forbidden => Self::forbidden("This key may not do that."),
            AppError::PayloadTooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            ),
            AppError::TooManyRequests(secs) => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests with this key; see Retry-After.",
                );
                e.retry_after = Some(secs);
                e
            }
            e if e.status() == StatusCode::SERVICE_UNAVAILABLE => {
                let mut out = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable. Please try again shortly.",
                );
                out.cause = Some(e.to_string());
                out.retry_after = Some(5);
                out
            }
            e => Self::internal(e),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Database(e).into()
    }
}

impl From<crate::backoffice::cases::Refused> for ApiError {
    fn from(r: crate::backoffice::cases::Refused) -> Self {
        use crate::backoffice::cases::Refused;
        match r {
            Refused::Database(e) => e.into(),
            Refused::Transition(from, to) => {
                Self::conflict(format!("The case cannot move from {from} to {to}."))
            }
            Refused::Stale => Self::conflict("The case changed meanwhile; fetch it again."),
            Refused::Answered => Self::conflict("The request was answered already."),
            Refused::NotMember | Refused::BadPostbox => {
                Self::conflict("Not possible for this case.")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = %cause, "API request failed");
        }
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}
