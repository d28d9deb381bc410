use axum::extract::State;
use axum::http::StatusCode;

use crate::db::Db;

/// The process is up and answering; says nothing about its dependencies.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: the database answers. Load balancers take an instance out while it does not.
pub async fn readyz(State(db): State<Db>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(std::time::Duration::from_secs(2), db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database timeout"),
    }
}
