//! `manifest.json` of a backup: what it holds, from which version, and the SHA-256 of every
//! file, so a restore can prove the copy intact before it writes anything.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub const FILE_NAME: &str = "manifest.json";
/// The database's file name inside a backup.
pub const DATABASE: &str = "amtsweg.db";
/// Bumped when the layout changes in a way an older restore would misread.
pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the database snapshot was taken (Unix ms), and the same for people.
    pub created_at_ms: i64,
    pub created_at: String,
    pub amtsweg_version: String,
    /// Always `sqlite`: PostgreSQL is backed up with its own tools.
    pub database: String,
    /// The newest migration applied to the database in the backup.
    pub migration_version: i64,
    pub storage: StorageInfo,
    /// Every file of the backup but this manifest: the database first, then stored files.
    pub files: Vec<FileEntry>,
    /// Storage keys the database refers to that were already missing from the live storage
    /// when the backup was taken (damage that predates the backup, reported, not hidden).
    #[serde(default)]
    pub missing_files: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StorageInfo {
    /// `local` (the data directory's `files/`) or `s3`.
    pub kind: String,
    /// The directory or `s3://bucket/prefix` the files were in.
    pub location: String,
    /// Whether the files are in the backup (only for local storage).
    pub files_included: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    /// Relative, `/`-separated: `amtsweg.db` or `files/ab/<key>`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl FileEntry {
    /// Where the entry lives under `root`, if its path is one a backup can contain. A
    /// manifest is read from a directory someone handed over; nothing in it may point outside.
    pub fn location(&self, root: &Path) -> Option<PathBuf> {
        if self.path == DATABASE {
            return Some(root.join(DATABASE));
        }
        let key = storage_key(&self.path)?;
        Some(root.join("files").join(&key[..2]).join(key))
    }
}

/// A key as `Storage` writes them: 32 hexadecimal digits.
pub fn is_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The storage key of a `files/ab/<key>` path.
pub fn storage_key(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("files/")?;
    let (dir, key) = rest.split_once('/')?;
    (is_key(key) && dir == &key[..2]).then_some(key)
}

/// The path of a key inside a backup (and below the storage directory). `key` must pass
/// `is_key`.
pub fn file_path(key: &str) -> String {
    format!("files/{}/{key}", &key[..2])
}

/// Copies `from` to `to` (creating its directory), hashing on the way; synced to disk before
/// it returns, so a manifest is only ever written after its files are durable.
pub fn copy_hashed(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    let mut src = std::fs::File::open(from)?;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut dst = std::fs::File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
        size += n as u64;
    }
    dst.sync_all()?;
    Ok((size, hex::encode(hasher.finalize())))
}

pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut src = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Writes the manifest last and atomically: a backup directory without one is unfinished.
pub fn write(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let temp = dir.join(format!("{FILE_NAME}.tmp"));
    let mut f = std::fs::File::create(&temp)?;
    f.write_all(&serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(&temp, dir.join(FILE_NAME))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_database_and_storage_keys_are_paths() {
        let root = Path::new("/backup");
        let entry = |p: &str| FileEntry {
            path: p.into(),
            size: 0,
            sha256: String::new(),
        };
        let key = "ab0123456789abcdef0123456789abcd";
        assert_eq!(
            entry(&file_path(key)).location(root),
            Some(root.join("files/ab").join(key))
        );
        assert_eq!(
            entry("amtsweg.db").location(root),
            Some(root.join("amtsweg.db"))
        );
        for bad in [
            "../amtsweg.db",
            "/etc/passwd",
            "files/ab/../../x",
            "files/cd/ab0123456789abcdef0123456789abcd",
            "files/ab/ab0123456789abcdef0123456789abc",
            "files/ab/ab0123456789abcdef0123456789abcd/x",
            "manifest.json",
        ] {
            assert_eq!(entry(bad).location(root), None, "{bad}");
        }
    }
}
