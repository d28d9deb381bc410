//! `amtsweg backup --to DIR` and `amtsweg restore --from DIR` (`restore.rs`) for the embedded
//! SQLite database and the local file storage, while the server keeps running.
//!
//! A backup is taken in this order, and the order is what makes it consistent:
//!
//! 1. The database is copied with `VACUUM INTO`, which reads it inside one read transaction:
//!    a snapshot as of one instant, while the server goes on writing (WAL).
//! 2. Then the files the snapshot refers to (`documents.storage_key`) are copied.
//!
//! Every stored file is written once and never changed: `Storage::commit` renames a finished
//! upload to a new random key, and nothing writes to a key afterwards (keys are random, not
//! content hashes, so "immutable" is by construction, not by content). And every code path
//! stores the file *before* the transaction that inserts its `documents` row commits
//! (evidence and attachments in `backoffice::uploads`, notice PDFs in `payments::document`).
//! So every row in the snapshot points to a file that already existed, complete, when the
//! snapshot was taken, and copying files afterwards finds it. Files written after the
//! snapshot have no row in it and are simply not copied.
//!
//! The one thing that can happen in between is a deletion: files are removed after the
//! commit that deletes their row (retention, account deletion), so a file the snapshot still
//! refers to may be gone by the time it is copied. Such a key is looked up in the live
//! database: if its row is gone too, the backup starts again with a new snapshot; if the row
//! is still there, the file was lost before the backup began, which is reported in the
//! manifest (`missing_files`) and on the console instead of failing every backup for ever.
//!
//! PostgreSQL is not backed up here: `pg_dump` (or `pg_basebackup` with WAL archiving) does
//! it better than a wrapper could, must match the server's major version, and needs
//! credentials that do not belong on a command line. The README describes the procedure.
//! With files in object storage only the database is copied; the bucket keeps its own
//! history (versioning).

pub mod manifest;
pub mod restore;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::config::Config;
use manifest::{FileEntry, Manifest, StorageInfo};

pub use restore::restore;

/// New snapshots taken when files vanished between snapshot and copy before giving up.
const ATTEMPTS: usize = 5;

/// Why a backup or restore did not happen; shown to the operator as it is.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "this command backs up the embedded SQLite database only; for PostgreSQL use pg_dump \
         (or pg_basebackup) and keep the file storage (directory or bucket versioning) with it, \
         as described in the README under \"Backup and restore\""
    )]
    Postgres,
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} is not empty; back up into a new or empty directory")]
    TargetNotEmpty(PathBuf),
    #[error(
        "files kept vanishing between the database snapshot and their copy ({0} attempts); \
         try again when fewer deletions run"
    )]
    Unstable(usize),
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// The SQLite database file of the configuration, or `None` on PostgreSQL.
pub(crate) fn sqlite_path(config: &Config) -> Result<Option<PathBuf>, BackupError> {
    let url = config.database_url();
    if !url.starts_with("sqlite:") {
        return Ok(None);
    }
    let options = SqliteConnectOptions::from_str(&url)?;
    Ok(Some(options.get_filename().to_path_buf()))
}

/// What `backup` did, for the console.
#[derive(Debug)]
pub struct Summary {
    pub manifest: Manifest,
    pub attempts: usize,
}

/// Takes a backup into `to`, which must not exist or be empty.
pub async fn backup(config: &Config, to: &Path) -> Result<Summary, BackupError> {
    let db_path = sqlite_path(config)?.ok_or(BackupError::Postgres)?;
    if !db_path.exists() {
        return Err(BackupError::NoDatabase(db_path));
    }
    std::fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    let not_empty = std::fs::read_dir(to)
        .map_err(io(format!("reading {}", to.display())))?
        .next()
        .is_some();
    if not_empty {
        return Err(BackupError::TargetNotEmpty(to.to_path_buf()));
    }
    let storage = match &config.storage_url {
        Some(url) => StorageInfo {
            kind: "s3".into(),
            location: url.clone(),
            files_included: false,
        },
        None => StorageInfo {
            kind: "local".into(),
            location: config.files_dir().display().to_string(),
            files_included: true,
        },
    };
    for attempt in 1..=ATTEMPTS {
        // A failed attempt leaves nothing behind for the next one to trip over.
        let _ = std::fs::remove_file(to.join(manifest::DATABASE));
        let _ = std::fs::remove_dir_all(to.join("files"));
        let created_at_ms = crate::time::now_ms();
        snapshot(&db_path, &to.join(manifest::DATABASE)).await?;
        let (migration_version, keys) = read_snapshot(&to.join(manifest::DATABASE)).await?;
        let mut files = Vec::new();
        let mut missing = Vec::new();
        if storage.files_included {
            let (copied, gone) = copy_files(config.files_dir(), to.to_path_buf(), keys).await?;
            files = copied;
            missing = gone;
        }
        let lost = still_referenced(&db_path, &missing).await?;
        if lost.len() < missing.len() {
            tracing::info!(
                vanished = missing.len() - lost.len(),
                attempt,
                "files were deleted during the backup; taking a new snapshot"
            );
            continue;
        }
        let db_file = to.join(manifest::DATABASE);
        let (size, sha256) = tokio::task::spawn_blocking(move || manifest::hash_file(&db_file))
            .await
            .map_err(|e| BackupError::Refused(e.to_string()))?
            .map_err(io("hashing the database copy"))?;
        files.insert(
            0,
            FileEntry {
                path: manifest::DATABASE.into(),
                size,
                sha256,
            },
        );
        let manifest = Manifest {
            format: manifest::FORMAT,
            created_at_ms,
            created_at: crate::time::format_ms(created_at_ms),
            amtsweg_version: env!("CARGO_PKG_VERSION").into(),
            database: "sqlite".into(),
            migration_version,
            storage: storage.clone(),
            files,
            missing_files: lost,
        };
        manifest::write(to, &manifest).map_err(io("writing the manifest"))?;
        return Ok(Summary {
            manifest,
            attempts: attempt,
        });
    }
    Err(BackupError::Unstable(ATTEMPTS))
}

/// `amtsweg backup --to DIR`, with what the operator needs to know on the console.
pub async fn command_backup(config: &Config, to: &Path) -> anyhow::Result<()> {
    let done = backup(config, to).await?;
    let m = &done.manifest;
    println!(
        "backup of {} written to {}: database (schema {}) and {} files",
        m.created_at,
        to.display(),
        m.migration_version,
        m.files.len() - 1
    );
    if !m.storage.files_included {
        println!(
            "the files are in object storage ({}) and not in this backup: keep them with the bucket's versioning",
            m.storage.location
        );
    }
    // Deliberately not copied: a backup alone must not be readable (encryption at rest).
    println!(
        "the encryption keys are not in the backup: keep the key file (or AMTSWEG_ENCRYPTION_KEYS) backed up separately, or the backup cannot be read"
    );
    for key in &m.missing_files {
        eprintln!(
            "warning: file {key} is referenced by the database but was already missing from storage"
        );
    }
    Ok(())
}

/// `amtsweg restore --from DIR`.
pub async fn command_restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let done = restore(config, from).await?;
    println!(
        "restored the backup of {} into {} with {} files; start the server as usual",
        done.manifest.created_at,
        done.database.display(),
        done.files
    );
    println!(
        "the server needs the encryption keys of the instance that was backed up: put its key file at {} or set AMTSWEG_ENCRYPTION_KEY_FILE / AMTSWEG_ENCRYPTION_KEYS before starting",
        config
            .data_dir
            .join(crate::crypto::keyring::DEFAULT_FILE)
            .display()
    );
    if !done.manifest.storage.files_included {
        println!(
            "the files stay in object storage ({}); restore the bucket to the same time with its versioning",
            done.manifest.storage.location
        );
    }
    Ok(())
}

async fn live_connection(db_path: &Path) -> Result<SqliteConnection, BackupError> {
    let conn = SqliteConnectOptions::new()
        .filename(db_path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await?;
    Ok(conn)
}

/// The consistent copy: `VACUUM INTO` writes the database as one read transaction sees it.
async fn snapshot(db_path: &Path, target: &Path) -> Result<(), BackupError> {
    let mut conn = live_connection(db_path).await?;
    let target = target
        .to_str()
        .ok_or_else(|| BackupError::Refused("the backup directory's path is not UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Schema version and storage keys of the snapshot, read without changing a byte of it.
async fn read_snapshot(path: &Path) -> Result<(i64, Vec<String>), BackupError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await?;
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT storage_key FROM documents ORDER BY storage_key")
            .fetch_all(&mut conn)
            .await?;
    conn.close().await?;
    Ok((version.unwrap_or(0), keys))
}

/// Copies the files of `keys` from the storage directory; returns the entries and the keys
/// whose file was not there.
async fn copy_files(
    files_dir: PathBuf,
    to: PathBuf,
    keys: Vec<String>,
) -> Result<(Vec<FileEntry>, Vec<String>), BackupError> {
    tokio::task::spawn_blocking(move || {
        let mut entries = Vec::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            if !manifest::is_key(&key) {
                // Not a key `Storage` writes: no file can be behind it.
                missing.push(key);
                continue;
            }
            let path = manifest::file_path(&key);
            let from = files_dir.join(&key[..2]).join(&key);
            match manifest::copy_hashed(&from, &to.join(&path)) {
                Ok((size, sha256)) => entries.push(FileEntry { path, size, sha256 }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(key),
                Err(e) => return Err(io(format!("copying {}", from.display()))(e)),
            }
        }
        Ok((entries, missing))
    })
    .await
    .map_err(|e| BackupError::Refused(e.to_string()))?
}

/// Which of `keys` the live database still refers to: those files were lost before the
/// backup; the others were deleted during it.
async fn still_referenced(db_path: &Path, keys: &[String]) -> Result<Vec<String>, BackupError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = live_connection(db_path).await?;
    let mut lost = Vec::new();
    for key in keys {
        let found: Option<String> =
            sqlx::query_scalar("SELECT storage_key FROM documents WHERE storage_key = ?")
                .bind(key)
                .fetch_optional(&mut conn)
                .await?;
        lost.extend(found);
    }
    conn.close().await?;
    Ok(lost)
}
