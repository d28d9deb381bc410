//! Sessions on the same database as everything else, via tower-sessions' sqlx stores, so that
//! several instances share them. Idle timeout by cookie expiry; absolute lifetime and
//! "log out everywhere" checked per request against the account's session epoch.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::config::Config;
use crate::db::Backend;

/// Keys of the values kept in a session.
pub const USER_ID: &str = "uid";
pub const EPOCH: &str = "epoch";
pub const LOGIN_AT: &str = "login_at";
pub const CSRF: &str = "csrf";
pub const LAST_SEEN: &str = "seen";

#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    pub async fn connect(url: &str, backend: Backend) -> sqlx::Result<Self> {
        Ok(match backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?;
                Store::Sqlite(SqliteStore::new(pool))
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
                Store::Postgres(PostgresStore::new(pool))
            }
        })
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.create(record).await,
            Store::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.save(record).await,
            Store::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(s) => s.load(id).await,
            Store::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete_expired().await,
            Store::Postgres(s) => s.delete_expired().await,
        }
    }
}

/// The cookie is `__Host-` prefixed and `Secure` whenever the portal is served over TLS; only
/// plain-HTTP development (localhost) gets an unprefixed, non-secure cookie.
pub fn cookie_name(config: &Config) -> &'static str {
    if config.served_over_tls() {
        "__Host-aw_session"
    } else {
        "aw_session"
    }
}

pub fn layer(store: Store, config: &Config) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(cookie_name(config))
        .with_secure(config.served_over_tls())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            i64::try_from(config.session_idle_minutes).unwrap_or(30),
        )))
}
