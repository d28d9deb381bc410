//! Deployment keys (key-encryption keys): `id:base64-of-32-bytes` entries, one per line in a
//! key file or separated by commas in `AMTSWEG_ENCRYPTION_KEYS`. The first is the active key,
//! which wraps new data keys; the others are kept only to unwrap data keys not yet rotated.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::aead::{self, KEY_LEN};
use crate::secret::Secret;

/// One deployment key.
#[derive(Clone, Debug)]
pub struct Kek {
    pub id: String,
    pub key: Secret<[u8; KEY_LEN]>,
}

/// The configured deployment keys, the active one first.
#[derive(Clone, Debug)]
pub struct Keyring {
    keys: Vec<Kek>,
}

/// Name of the key file generated in the data directory when nothing is configured.
pub const DEFAULT_FILE: &str = "encryption.key";

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl Keyring {
    pub fn new(keys: Vec<Kek>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("no encryption key given".into());
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.id == k.id) {
                return Err(format!("encryption key id {:?} appears twice", k.id));
            }
        }
        Ok(Self { keys })
    }

    /// Parses `id:base64` entries separated by newlines or commas; `#` starts a comment.
    /// Errors name the entry, never its key material.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (n, entry) in text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let (id, b64) = entry
                .split_once(':')
                .ok_or_else(|| format!("encryption key #{}: expected id:base64", n + 1))?;
            let id = id.trim();
            if !valid_id(id) {
                return Err(format!(
                    "encryption key #{}: the id may use letters, digits, '-', '_' and '.' (at most 64)",
                    n + 1
                ));
            }
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| format!("encryption key {id:?}: not valid base64"))?;
            let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
                format!("encryption key {id:?}: must be 32 bytes (44 base64 characters)")
            })?;
            keys.push(Kek {
                id: id.to_string(),
                key: Secret::new(key),
            });
        }
        Self::new(keys)
    }

    pub fn active(&self) -> &Kek {
        &self.keys[0]
    }

    pub fn get(&self, id: &str) -> Option<&Kek> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// A new random key as a key-file line (for `amtsweg keys generate`).
    pub fn generate_line(id: &str) -> Result<String, String> {
        if !valid_id(id) {
            return Err(format!("invalid key id {id:?}"));
        }
        Ok(format!("{id}:{}", STANDARD.encode(aead::random_key())))
    }

    /// The keys as the configuration gives them: `AMTSWEG_ENCRYPTION_KEYS`, else the key file
    /// `AMTSWEG_ENCRYPTION_KEY_FILE`, else `encryption.key` in the data directory, created
    /// (mode 0600) on first start so that the embedded default runs without setup.
    pub fn load(config: &crate::config::Config) -> Result<Self, String> {
        if let Some(keys) = &config.encryption_keys {
            if config.encryption_key_file.is_some() {
                return Err(
                    "set either AMTSWEG_ENCRYPTION_KEYS or AMTSWEG_ENCRYPTION_KEY_FILE, not both"
                        .into(),
                );
            }
            return Self::parse(keys.expose());
        }
        if let Some(path) = &config.encryption_key_file {
            return Self::read_file(path);
        }
        let path = config.data_dir.join(DEFAULT_FILE);
        if !path.exists() {
            create_key_file(&path)?;
            tracing::warn!(
                path = %path.display(),
                "generated a new encryption key file in the data directory; in production keep the key \
                 apart from the data (AMTSWEG_ENCRYPTION_KEY_FILE or AMTSWEG_ENCRYPTION_KEYS) and back it up separately"
            );
        }
        Self::read_file(&path)
    }

    pub fn read_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the encryption key file {}: {e}",
                path.display()
            )
        })?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Writes a new key file readable by the owner only. Written under a temporary name and then
/// linked into place, which fails if another process got there first: several instances
/// starting at once on one data directory end up with the same key.
pub fn create_key_file(path: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot create the key file {}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let temp: PathBuf = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let line = Keyring::generate_line(&format!(
        "k{}",
        time::OffsetDateTime::now_utc().unix_timestamp()
    ))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut f = options.open(&temp).map_err(fail)?;
        writeln!(
            f,
            "# Amtsweg encryption keys (id:base64), the first is active. Back this file up apart from the data."
        )
        .and_then(|()| writeln!(f, "{line}"))
        .and_then(|()| f.sync_all())
        .map_err(fail)?;
    }
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(fail(e)),
    }
}
