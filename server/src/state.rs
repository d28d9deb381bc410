use std::sync::Arc;

use axum::extract::FromRef;
use tokio::sync::Notify;

use crate::config::Config;
use crate::db::Db;

/// Everything a handler may need, cloned cheaply per request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Wakes the mail worker right after a mail was committed to the outbox.
    pub mail_wakeup: Arc<Notify>,
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Db {
        s.db.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(s: &AppState) -> Arc<Config> {
        s.config.clone()
    }
}
