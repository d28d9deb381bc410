//! Sessions on the same database as everything else, so that several instances share them:
//! tower-sessions' sqlx store on SQLite, on PostgreSQL a store of our own that reads the account
//! with the session (`pg_session`). Idle timeout by cookie expiry; absolute lifetime and
//! "log out everywhere" checked per request against the account's session epoch.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use super::pg_session::PgSessions;
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

/// On SQLite, the writer connection of `Db` (see `Store::taking_turns_with`).
type Turn = Option<sqlx::AnyPool>;

#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore, Records, Turn),
    Postgres(PgSessions),
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

/// Waits for the SQLite writer connection and holds it, idle, while this store's own
/// connection writes: session writes then take turns with `Db::begin_write` in arrival order.
/// Polling SQLite's busy handler instead, a login could wait out its timeout while queued
/// submissions handed the write lock on without a gap.
async fn take_turn(turn: &Turn) -> session_store::Result<Option<PoolConnection<sqlx::Any>>> {
    match turn {
        Some(writer) => writer
            .acquire()
            .await
            .map(Some)
            .map_err(|e| session_store::Error::Backend(e.to_string())),
        None => Ok(None),
    }
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
                    None,
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
                Store::Postgres(PgSessions::new(pool))
            }
        })
    }

    /// Session writes wait their turn with the database's write transactions (SQLite only).
    pub fn taking_turns_with(self, db: &crate::db::Db) -> Self {
        match self {
            Store::Sqlite(s, cache, _) => Store::Sqlite(s, cache, db.sqlite_writer()),
            other => other,
        }
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s, cache, turn) => {
                let _turn = take_turn(turn).await?;
                s.create(record).await?;
                cache.put(record.id, record.clone());
                Ok(())
            }
            Store::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s, cache, turn) => {
                let _turn = take_turn(turn).await?;
                s.save(record).await?;
                cache.put(record.id, record.clone());
                Ok(())
            }
            Store::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(s, cache, _) => {
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
            Store::Sqlite(s, cache, turn) => {
                cache.remove(id);
                let _turn = take_turn(turn).await?;
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
            Store::Sqlite(s, cache, turn) => {
                cache.retain(alive);
                let _turn = take_turn(turn).await?;
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::db::Db;

    /// While write transactions queue for SQLite's writer one after the other, a session write
    /// waits only for those queued before it, instead of polling SQLite's busy handler until a
    /// gap happens to come (or its timeout ends). Counted in commits, not in time.
    #[tokio::test]
    async fn session_writes_take_turns_with_queued_transactions() {
        let (dir, url) = crate::db::tests::scratch("turns");
        let db = Db::connect(&url, 4).await.unwrap();
        db.migrate().await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&db.pool)
            .await
            .unwrap();
        let store = Store::connect(&url, Backend::Sqlite)
            .await
            .unwrap()
            .taking_turns_with(&db);
        let commits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        const WRITERS: usize = 6;
        let mut writers = Vec::new();
        for _ in 0..WRITERS {
            let (db, commits, stop) = (db.clone(), commits.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let mut tx = db.begin_write().await.unwrap();
                    sqlx::query("INSERT INTO t (n) VALUES (1)")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    tx.commit().await.unwrap();
                    commits.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut waited = Vec::new();
        for _ in 0..5 {
            let mut record = Record {
                id: Id::default(),
                data: Default::default(),
                expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            };
            let before = commits.load(Ordering::Relaxed);
            store.create(&mut record).await.unwrap();
            store.save(&record).await.unwrap();
            waited.push(commits.load(Ordering::Relaxed) - before);
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
        // Two writes, each behind at most the transactions already queued (and one running).
        assert!(
            waited.iter().all(|n| *n <= 2 * (WRITERS + 1)),
            "commits while one session was written: {waited:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
