use std::sync::Arc;

use axum::extract::FromRef;
use tokio::sync::Notify;

use crate::cache::TtlCache;
use crate::config::Config;
use crate::db::Db;

/// Everything a handler may need. Extractors clone it several times per request, so it is one
/// shared allocation: cloning the fields themselves (a dozen reference counts, all touched by
/// both cores) was 3 % of the CPU time of the caseworker's inbox (BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    /// Wakes the mail worker right after a mail was committed to the outbox.
    pub mail_wakeup: Arc<Notify>,
    /// Evidence files.
    pub storage: crate::storage::Storage,
    /// Services shown on the start page, both languages, refreshed every few seconds.
    pub home_services: Arc<TtlCache<Vec<ServiceSummary>>>,
    /// The published catalogue with its search texts, refreshed like `home_services`.
    pub catalogue: Arc<TtlCache<Vec<crate::applications::catalog::Entry>>>,
    /// (key, German title, English title) of every service, offered or not, for the back office.
    pub service_titles: Arc<TtlCache<Vec<(String, String, String)>>>,
    /// Online payment providers per authority.
    pub payment_providers: crate::payments::online::PaymentProviders,
}

/// A service as the start page lists it.
#[derive(Clone, Debug)]
pub struct ServiceSummary {
    pub key: String,
    pub title_de: String,
    pub title_en: String,
    pub summary_de: String,
    pub summary_en: String,
}

impl AppState {
    /// After a service was imported or retired here: this instance shows it at once, others
    /// within their cache's TTL.
    pub fn services_changed(&self) {
        self.home_services.invalidate();
        self.catalogue.invalidate();
        self.service_titles.invalidate();
    }
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
