//! Periodic clean-up: expired sessions, used-up tokens, old throttling counters.

use std::time::Duration;

use tokio::sync::watch;
use tower_sessions::session_store::ExpiredDeletion;

use crate::accounts::session::Store;
use crate::accounts::{throttle, tokens};
use crate::db::Db;

const EVERY: Duration = Duration::from_secs(60);

pub async fn maintenance(db: Db, sessions: Store, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = sessions.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
        if let Err(e) = tokens::purge(&db).await {
            tracing::warn!(error = %e, "purging tokens failed");
        }
        if let Err(e) = throttle::purge(&db).await {
            tracing::warn!(error = %e, "purging rate limits failed");
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
