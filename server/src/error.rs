//! The one error type of the web layer. Users see a translated page (or, under `/api`, a JSON
//! problem document); the cause goes to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("payload too large")]
    PayloadTooLarge,
    /// Too many attempts; the user may try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The session store is the database too: when it fails, the database is unreachable.
    #[error("session store: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// Marks a response whose body the error-page middleware renders in the user's language.
#[derive(Clone, Copy, Debug)]
pub struct ErrorPage(pub StatusCode);

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Session(tower_sessions::session::Error::Store(
                tower_sessions::session_store::Error::Backend(_),
            )) => StatusCode::SERVICE_UNAVAILABLE,
            // Operations that return `anyhow` (submission, issuing a notice …) carry the
            // database error inside.
            AppError::Internal(e)
                if e.chain()
                    .any(|c| c.downcast_ref::<sqlx::Error>().is_some_and(is_unavailable)) =>
            {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(_) | AppError::Session(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// Seconds a client is asked to wait when the database is unavailable: about what a restart
/// or a fail-over of the database takes.
pub const RETRY_AFTER_SECS: u64 = 10;

/// Connection trouble is temporary: the user is asked to retry instead of being told of a
/// fault. Besides the pool's own errors, these are the answers of a database that is shutting
/// down, starting up or full, and of SQLite's write lock held beyond the busy timeout.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: class 08 connection exception, 57P01–57P03 admin/crash shutdown and
            // "cannot connect now", 53300 too many connections. SQLite: 5 SQLITE_BUSY and its
            // extended codes (261 recovery, 517 snapshot, 773 timeout).
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "53300" | "5" | "261" | "517" | "773"
                )
        }),
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = status.into_response();
        if let AppError::TooManyRequests(secs) = self {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        resp.extensions_mut().insert(ErrorPage(status));
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
