//! Sessions on the same database as everything else, via tower-sessions' sqlx stores, so that
//! several instances share them. Idle timeout by cookie expiry; absolute lifetime and
//! "log out everywhere" checked per request against the account's session epoch.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::cache::BoundedMap;
use crate::config::Config;
use crate::db::Backend;

/// Keys of the values kept in a session.
pub const USER_ID: &str = "uid";
pub const EPOCH: &str = "epoch";
pub const LOGIN_AT: &str = "login_at";
pub const CSRF: &str = "csrf";
pub const LAST_SEEN: &str = "seen";
/// Whether the login passed a second factor; staff sessions without it are worthless.
pub const SECOND_FACTOR: &str = "mfa";
/// When the password (and second factor) were last entered: login or re-authentication.
pub const REAUTH_AT: &str = "reauth_at";
/// A login halfway through: password right, second step (code or enrolment) still to come.
/// None of these make the session logged in.
pub const PENDING: &str = "pending";
/// The key shown on the enrolment page, until a code from it is confirmed.
pub const ENROL_SECRET: &str = "enrol_secret";
/// New recovery codes, carried through the redirect to the page that shows them once.
pub const NEW_RECOVERY_CODES: &str = "new_recovery_codes";

/// Session records as last written by this process. On SQLite this process is the only server,
/// so serving reads from memory (writes go to both) saves a database round trip per request.
type Records = Arc<BoundedMap<Id, Record>>;

#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore, Records),
    Postgres(PostgresStore),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Store::Sqlite(..) => "Store::Sqlite",
            Store::Postgres(_) => "Store::Postgres",
        })
    }
}

fn alive(record: &Record) -> bool {
    record.expiry_date > time::OffsetDateTime::now_utc()
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
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Store::Sqlite(
                    SqliteStore::new(pool),
                    Arc::new(BoundedMap::new(Duration::from_secs(300), 100_000)),
                )
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    // sqlx's default of 30 s would keep a visitor waiting for the whole
                    // request timeout while the database is away.
                    .acquire_timeout(crate::db::ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .connect(url)
                    .await?;
                Store::Postgres(PostgresStore::new(pool))
            }
        })
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s, cache) => {
                s.create(record).await?;
                cache.put(record.id, record.clone());
                Ok(())
            }
            Store::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s, cache) => {
                s.save(record).await?;
                cache.put(record.id, record.clone());
                Ok(())
            }
            Store::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(s, cache) => {
                if let Some(r) = cache.get(id) {
                    return Ok(alive(&r).then_some(r));
                }
                let since = cache.generation();
                let r = s.load(id).await?;
                if let Some(r) = &r {
                    cache.fill(since, *id, r.clone());
                }
                Ok(r)
            }
            Store::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s, cache) => {
                cache.remove(id);
                s.delete(id).await?;
                cache.remove(id);
                Ok(())
            }
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s, cache) => {
                cache.retain(alive);
                s.delete_expired().await
            }
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
