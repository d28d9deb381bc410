//! Periodic clean-up: expired sessions, used-up tokens, old throttling counters, drafts past
//! their retention (with a reminder before).

use std::time::Duration;

use tokio::sync::watch;
use tower_sessions::session_store::ExpiredDeletion;

use crate::accounts::session::Store;
use crate::accounts::{throttle, tokens};
use crate::applications::retention;
use crate::db::Db;

const EVERY: Duration = Duration::from_secs(60);

pub async fn maintenance(
    db: Db,
    sessions: Store,
    drafts: retention::Policy,
    public_url: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match retention::run(&db, drafts, &public_url).await {
            Ok((reminded, deleted)) if reminded + deleted as usize > 0 => {
                tracing::info!(reminded, deleted, "draft retention")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "draft retention failed"),
        }
        if let Err(e) = sessions.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
        if let Err(e) = tokens::purge(&db).await {
            tracing::warn!(error = %e, "purging tokens failed");
        }
        if let Err(e) = throttle::purge(&db).await {
            tracing::warn!(error = %e, "purging rate limits failed");
        }
        if let Err(e) = crate::api::idempotency::purge(&db).await {
            tracing::warn!(error = %e, "purging API idempotency keys failed");
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
