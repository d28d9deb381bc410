//! Periodic clean-up: expired sessions, expired mail tokens, old throttling counters and API
//! idempotency records, drafts past their retention (with a reminder before), closed cases
//! past their service's retention period (`crate::retention`), and files left behind by
//! crashes (hourly, `crate::storage_clean`).

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tower_sessions::session_store::ExpiredDeletion;

use crate::accounts::session::Store;
use crate::accounts::{throttle, tokens};
use crate::applications::retention;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(60);

pub async fn maintenance(state: AppState, sessions: Store, mut shutdown: watch::Receiver<bool>) {
    // Names this instance in `job_leases`, so one instance per hour lists the storage.
    let instance = uuid::Uuid::new_v4().to_string();
    let mut storage_checked: Option<Instant> = None;
    loop {
        pass(&state, &sessions).await;
        if storage_checked.is_none_or(|t| t.elapsed() >= crate::storage_clean::EVERY) {
            match crate::storage_clean::periodic(&state.db, &state.storage, &instance).await {
                Ok(_) => storage_checked = Some(Instant::now()),
                Err(e) => tracing::warn!(error = %e, "storage clean-up failed"),
            }
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One round of every clean-up; a part that fails is logged and retried next round, and does
/// not keep the others from running.
pub async fn pass(state: &AppState, sessions: &Store) {
    let db = &state.db;
    let drafts = retention::Policy {
        retention_days: state.config.draft_retention_days,
        reminder_days: state.config.draft_reminder_days,
    };
    match retention::run(db, drafts, &state.config.public_url).await {
        Ok((reminded, deleted)) if reminded + deleted as usize > 0 => {
            tracing::info!(reminded, deleted, "draft retention")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "draft retention failed"),
    }
    match crate::retention::cases::run(db, &state.storage, state.config.case_retention_days).await {
        Ok(r) if r.cases > 0 => tracing::info!(
            cases = r.cases,
            files = r.files,
            files_failed = r.files_failed,
            "closed cases deleted after their retention period"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "case retention failed"),
    }
    if let Err(e) = sessions.delete_expired().await {
        tracing::warn!(error = %e, "deleting expired sessions failed");
    }
    if let Err(e) = tokens::purge(db).await {
        tracing::warn!(error = %e, "purging tokens failed");
    }
    if let Err(e) = throttle::purge(db).await {
        tracing::warn!(error = %e, "purging rate limits failed");
    }
    if let Err(e) = crate::api::idempotency::purge(db).await {
        tracing::warn!(error = %e, "purging API idempotency keys failed");
    }
}
