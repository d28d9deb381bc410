//! `amtsweg restore --from DIR`: puts a backup into an empty data directory. Everything is
//! checked before anything is written (manifest, paths, sizes, SHA-256, schema version), and
//! the database file appears last, under its name only when complete, so an interrupted
//! restore never leaves something that looks like a working installation.

use std::path::{Path, PathBuf};

use super::manifest::{self, Manifest};
use super::{io, sqlite_path, BackupError};
use crate::config::Config;
use crate::db::{Backend, Db};

/// What `restore` did, for the console.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub database: PathBuf,
    pub files: usize,
}

pub async fn restore(config: &Config, from: &Path) -> Result<Restored, BackupError> {
    let Some(db_path) = sqlite_path(config)? else {
        return Err(BackupError::Refused(
            "restore writes the embedded SQLite database only; restore PostgreSQL with pg_restore \
             or psql as described in the README under \"Backup and restore\""
                .into(),
        ));
    };
    let text = std::fs::read(from.join(manifest::FILE_NAME)).map_err(io(format!(
        "reading {} (is this a finished backup?)",
        from.join(manifest::FILE_NAME).display()
    )))?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| BackupError::Refused(format!("the manifest cannot be read: {e}")))?;
    check_manifest(&m, config)?;
    // Nothing is overwritten: not a database, not a file.
    for p in [
        db_path.clone(),
        with_suffix(&db_path, "-wal"),
        with_suffix(&db_path, "-journal"),
    ] {
        if p.exists() {
            return Err(BackupError::Refused(format!(
                "{} exists; restore only into an empty data directory",
                p.display()
            )));
        }
    }
    let files_dir = config.files_dir();
    if m.storage.files_included && has_files(&files_dir) {
        return Err(BackupError::Refused(format!(
            "{} already holds files; restore only into an empty data directory",
            files_dir.display()
        )));
    }
    let from = from.to_path_buf();
    let target_db = db_path.clone();
    let entries = m.files.clone();
    let files = tokio::task::spawn_blocking(move || -> Result<usize, BackupError> {
        verify(&from, &entries)?;
        let mut files = 0;
        for e in entries.iter().filter(|e| e.path != manifest::DATABASE) {
            let key = manifest::storage_key(&e.path).unwrap_or_default();
            let to = files_dir.join(&key[..2]).join(key);
            copy_checked(&from.join(&e.path), &to, e)?;
            files += 1;
        }
        let db = entries
            .iter()
            .find(|e| e.path == manifest::DATABASE)
            .ok_or_else(|| BackupError::Refused("the manifest lists no database".into()))?;
        if let Some(dir) = target_db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        }
        let partial = with_suffix(&target_db, ".restoring");
        copy_checked(&from.join(manifest::DATABASE), &partial, db)?;
        std::fs::rename(&partial, &target_db).map_err(io("moving the database into place"))?;
        Ok(files)
    })
    .await
    .map_err(|e| BackupError::Refused(e.to_string()))??;
    Ok(Restored {
        manifest: m,
        database: db_path,
        files,
    })
}

fn check_manifest(m: &Manifest, config: &Config) -> Result<(), BackupError> {
    let refuse = |s: String| Err(BackupError::Refused(s));
    if m.format != manifest::FORMAT || m.database != "sqlite" {
        return refuse(format!(
            "this backup (format {}, database {}) was not written by this version's backup command",
            m.format, m.database
        ));
    }
    let known = Db::newest_migration(Backend::Sqlite);
    if m.migration_version > known {
        return refuse(format!(
            "the backup's database has schema version {}, newer than this binary knows ({known}); restore it with Amtsweg {} or newer",
            m.migration_version, m.amtsweg_version
        ));
    }
    for e in &m.files {
        if e.location(Path::new("")).is_none() {
            return refuse(format!(
                "the manifest names an unexpected file {:?}",
                e.path
            ));
        }
    }
    match (m.storage.files_included, &config.storage_url) {
        (true, Some(url)) => refuse(format!(
            "the backup holds the files of a storage directory, but AMTSWEG_STORAGE_URL is {url}; \
             restore with the directory (unset AMTSWEG_STORAGE_URL), then copy files/ into the \
             bucket as the README describes"
        )),
        (false, None) => refuse(format!(
            "the backup's files are in object storage ({}), not in the backup; set \
             AMTSWEG_STORAGE_URL to that bucket",
            m.storage.location
        )),
        _ => Ok(()),
    }
}

/// Every file is there, with its size and SHA-256: a damaged backup is refused as a whole.
fn verify(root: &Path, entries: &[manifest::FileEntry]) -> Result<(), BackupError> {
    for e in entries {
        let path = e
            .location(root)
            .ok_or_else(|| BackupError::Refused(format!("unexpected file {:?}", e.path)))?;
        let (size, sha256) = manifest::hash_file(&path).map_err(io(format!(
            "the backup is incomplete: reading {}",
            path.display()
        )))?;
        if size != e.size || sha256 != e.sha256 {
            return Err(BackupError::Refused(format!(
                "the backup is damaged: {} does not match its checksum in the manifest; nothing was restored",
                e.path
            )));
        }
    }
    Ok(())
}

/// Copies and checks again what was written, so a change after `verify` cannot slip in.
fn copy_checked(from: &Path, to: &Path, e: &manifest::FileEntry) -> Result<(), BackupError> {
    let (size, sha256) =
        manifest::copy_hashed(from, to).map_err(io(format!("copying {}", from.display())))?;
    if size != e.size || sha256 != e.sha256 {
        let _ = std::fs::remove_file(to);
        return Err(BackupError::Refused(format!(
            "{} changed while it was restored",
            e.path
        )));
    }
    Ok(())
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.filter_map(Result::ok).any(|sub| {
            std::fs::read_dir(sub.path()).map_or(true, |mut files| files.next().is_some())
        })
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
