//! One database layer for SQLite (embedded default) and PostgreSQL (shared by several instances).
//!
//! Queries go through sqlx's `Any` driver and are written once in the SQL both databases
//! understand (`$1` parameters, `RETURNING`, `ON CONFLICT`); timestamps are Unix milliseconds
//! and flags are integers, so no type behaves differently between the two.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::BoundedMap;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a request waits for a database connection. Long enough to ride out a restart of
/// PostgreSQL (a second or two), short enough that the visitor of a database that stays away
/// soon gets the "try again shortly" page, well inside the request timeout.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The database behind a connection (inside a transaction), as sqlx names it.
    pub fn of(conn: &sqlx::AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    /// On SQLite, write transactions queue for this one connection, first come first served,
    /// instead of each retrying on `SQLITE_BUSY`: SQLite's busy handler sleeps in growing steps
    /// (up to 100 ms), so with many writers at once some slept while the lock was free and
    /// waited for a second (BENCHMARKS.md, submissions at 64 connections). `None` on
    /// PostgreSQL, whose writers take row locks.
    writer: Option<AnyPool>,
    /// On SQLite, batches (`Db::write`) wait here for the writer and share transactions.
    group: group::Group,
    pub backend: Backend,
    /// Accounts as read on every request of a logged-in user. Only on SQLite, where this process
    /// is the only server writing; with PostgreSQL several instances share the database and
    /// every request reads it.
    pub users: Option<Arc<BoundedMap<String, crate::accounts::auth::User>>>,
    /// Drafts as read by every form page, on SQLite only (as `users`).
    pub drafts: Option<Arc<BoundedMap<String, CachedDraft>>>,
    /// On SQLite, connections for reads on the request's own thread (`Db::read`).
    readers: Option<Arc<read::Readers>>,
    /// Keys for encryption at rest. Empty after `connect`: legacy plaintext reads, nothing can
    /// be encrypted or decrypted until `with_keys` (the server and the key commands do).
    pub vault: crate::crypto::Vault,
}

/// A draft row: owner, service key, definition version, answers (JSON).
pub type CachedDraft = (String, String, i64, Arc<str>);

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Why the database could not be used; shown to operators verbatim, so it carries no secrets.
#[derive(Debug, thiserror::Error)]
pub enum DbOpenError {
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error(
        "the database was migrated by a newer Amtsweg (it has schema version {found}, this binary knows up to {known}); run the newer version or restore a backup"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("migrating the database failed: {0}")]
    Migrate(MigrateError),
}

impl Db {
    pub fn with_keys(mut self, keyring: crate::crypto::Keyring) -> Self {
        self.vault = crate::crypto::Vault::new(keyring);
        self
    }

    /// Call after every change of a `users` row, so the next request sees it.
    pub fn forget_user(&self, id: &str) {
        if let Some(c) = &self.users {
            c.remove(&id.to_string());
        }
    }

    /// Call after every change of a `drafts` row (after the commit).
    pub fn forget_draft(&self, id: &str) {
        if let Some(c) = &self.drafts {
            c.remove(&id.to_string());
        }
    }

    /// Call after changes to many drafts at once (retention).
    pub fn forget_drafts(&self) {
        if let Some(c) = &self.drafts {
            c.clear();
        }
    }

    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbOpenError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbOpenError::UnsupportedUrl);
        };
        let readers = match backend {
            Backend::Sqlite => Some(Arc::new(read::Readers::new(
                prepare_sqlite_file(url).await?,
            ))),
            Backend::Postgres => None,
        };
        let options = AnyConnectOptions::from_str(url)
            .map_err(DbOpenError::Connect)?
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool_of = |size: u32| {
            AnyPoolOptions::new()
                .max_connections(size)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // A ping before every query doubled the round trips of each request; a broken
                // connection shows up on its next use instead and is replaced by the pool.
                .test_before_acquire(false)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // Per-connection settings; WAL itself is persistent and set at
                            // creation. Foreign keys and the busy timeout are sqlx's defaults.
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = pool_of(max_connections)
            .connect_with(options.clone())
            .await
            .map_err(DbOpenError::Connect)?;
        let sqlite = backend == Backend::Sqlite;
        let writer = sqlite.then(|| pool_of(1).connect_lazy_with(options));
        let users = sqlite.then(|| Arc::new(BoundedMap::new(Duration::from_secs(30), 100_000)));
        let drafts = sqlite.then(|| Arc::new(BoundedMap::new(Duration::from_secs(30), 20_000)));
        Ok(Self {
            pool,
            writer,
            group: group::Group::default(),
            backend,
            users,
            drafts,
            readers,
            vault: crate::crypto::Vault::default(),
        })
    }

    /// The newest schema version this binary knows, so a restore can refuse a database from a
    /// newer one before writing anything.
    pub fn newest_migration(backend: Backend) -> i64 {
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations; refuses to touch a database a newer binary has migrated.
    pub async fn migrate(&self) -> Result<(), DbOpenError> {
        let migrator = self.migrator();
        match migrator.run(&self.pool).await {
            Ok(()) => self
                .drop_value_samples()
                .await
                .map_err(DbOpenError::Connect),
            Err(MigrateError::VersionMissing(found)) => Err(DbOpenError::NewerSchema {
                found,
                known: migrator.iter().map(|m| m.version).max().unwrap_or(0),
            }),
            Err(e) => Err(DbOpenError::Migrate(e)),
        }
    }

    /// Gathers the planner's statistics (`ANALYZE`); on SQLite only its row estimates are kept
    /// (see `drop_value_samples`).
    pub async fn analyze(&self) -> sqlx::Result<()> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        self.drop_value_samples().await
    }

    /// The bundled SQLite is built with STAT4. Once `ANALYZE` has stored value samples
    /// (`sqlite_stat4`), every prepared statement that compares an indexed column with a bound
    /// parameter expires whenever a value is bound, so it was planned again on every execution:
    /// 44 % of the inbox's CPU at a million cases (BENCHMARKS.md). The row estimates in
    /// `sqlite_stat1` choose the same plans for Amtsweg's queries, so the samples are removed
    /// here and after every start (an operator may have run `ANALYZE` with such a build);
    /// `ANALYZE sqlite_schema` makes open connections reload the statistics.
    async fn drop_value_samples(&self) -> sqlx::Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        // The table exists only once a STAT4 build has run `ANALYZE`.
        let stat4_tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'",
        )
        .fetch_one(&self.pool)
        .await?;
        if stat4_tables > 0 {
            sqlx::query("DELETE FROM sqlite_stat4")
                .execute(&self.pool)
                .await?;
            sqlx::query("ANALYZE sqlite_schema")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Where single-statement writes on busy paths go: on SQLite the writer connection, so
    /// they wait their turn with the write transactions instead of polling SQLite's busy
    /// handler, which a queue handing the lock on without a gap could leave waiting for its
    /// whole timeout.
    pub fn writer(&self) -> &AnyPool {
        self.writer.as_ref().unwrap_or(&self.pool)
    }

    /// The SQLite writer connection's pool, for writers with connections of their own (the
    /// session store) to take turns with.
    pub fn sqlite_writer(&self) -> Option<AnyPool> {
        self.writer.clone()
    }

    /// Starts a write transaction. On SQLite it waits its turn for the one writer connection
    /// and takes the write lock up front (`BEGIN IMMEDIATE`), so two writers never deadlock
    /// upgrading read locks.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => match self.writer().begin_with("BEGIN IMMEDIATE").await {
                // When SQLite ended a transaction by itself (a full disk, an I/O error), its
                // `ROLLBACK` failed and sqlx still counts the connection as inside it, refusing
                // every later `BEGIN`: the writer would stay unusable until a restart. Closing
                // that connection lets the pool open a fresh one.
                Err(sqlx::Error::InvalidSavePointStatement) => {
                    tracing::warn!(
                        "replacing the SQLite writer connection after a lost transaction"
                    );
                    self.writer().acquire().await?.close().await?;
                    self.writer().begin_with("BEGIN IMMEDIATE").await
                }
                other => other,
            },
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Row-claiming suffix for job queues: PostgreSQL lets instances skip rows another one holds;
    /// SQLite has a single writer, so the surrounding `BEGIN IMMEDIATE` already serialises claims.
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    pub async fn ping(&self) -> sqlx::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

/// Creates the database file (and its directory) in WAL mode on first start; returns its path.
async fn prepare_sqlite_file(url: &str) -> Result<std::path::PathBuf, DbOpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(DbOpenError::Connect)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let path = options.get_filename().to_path_buf();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbOpenError::DataDir(dir.display().to_string(), e))?;
    }
    let conn = options.connect().await.map_err(DbOpenError::Connect)?;
    drop(conn);
    Ok(path)
}

/// A row found by a unique key, if its `user_id` column (which the query must select) is
/// `owner`; `None` for a missing row and for another account's alike.
///
/// Such lookups select by the unique key alone and check the owner here: with `AND user_id = $2`
/// in SQL, PostgreSQL may walk the owner's index (every case of the account) instead of the
/// unique key whenever its statistics take the account for a small one, as after an account
/// submitted thousands of applications since the last `ANALYZE` (BENCHMARKS.md, sixth run).
pub fn owned(
    row: Option<sqlx::any::AnyRow>,
    owner: &str,
) -> sqlx::Result<Option<sqlx::any::AnyRow>> {
    use sqlx::Row;
    match row {
        Some(r) if r.try_get::<Option<String>, _>("user_id")?.as_deref() == Some(owner) => {
            Ok(Some(r))
        }
        _ => Ok(None),
    }
}

/// True when the error is a uniqueness violation, so callers can turn it into a form error.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Placeholders for batched statements, numbered the way each database binds them fastest:
/// `$1, $2, …` for PostgreSQL, plain `?` for SQLite, which looks named parameters (`$1` counts
/// as a name there) up by a linear scan per bind, so a batch of thousands binds in quadratic
/// time. sqlx's query builder writes `?` for the `Any` driver, which PostgreSQL does not read,
/// hence this. Placeholders must be taken in the order they appear in the statement.
pub struct Placeholders {
    backend: Backend,
    next: usize,
}

impl Placeholders {
    pub fn one(&mut self) -> String {
        self.next += 1;
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.next),
        }
    }

    /// `(…), (…)`: `rows` rows of `cols` values each.
    pub fn rows(&mut self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|_| {
                let row: Vec<String> = (0..cols).map(|_| self.one()).collect();
                format!("({})", row.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `…, …`: a list of `n` values.
    pub fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }
}

impl Placeholders {
    /// For a connection (inside a transaction), whose backend sqlx names.
    pub fn for_connection(conn: &sqlx::AnyConnection) -> Self {
        Self {
            backend: Backend::of(conn),
            next: 0,
        }
    }
}

impl Db {
    pub fn placeholders(&self) -> Placeholders {
        Placeholders {
            backend: self.backend,
            next: 0,
        }
    }
}

pub mod batch;
mod group;
pub mod read;

#[cfg(test)]
pub(crate) mod tests;
