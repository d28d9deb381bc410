//! Encryption at rest (envelope encryption), so that a copy of the database or of the file
//! storage alone reveals no application content.
//!
//! - Deployment keys (key-encryption keys, KEKs) come from the configuration or a key file
//!   (`keyring.rs`); each has an id, the first is the active one.
//! - Every draft and case has a random 256-bit *data key* (`data_keys` table), stored only
//!   wrapped by a KEK together with that KEK's id. A case inherits the data key of the draft
//!   it was submitted from, so answers, evidence and messages of one application share it.
//! - Values are sealed with XChaCha20-Poly1305 (random 24-byte nonces) and carry the id of
//!   their data key (`enc:v1:<data key id>:<base64>`, `text.rs`); files use a chunked
//!   stream format with the data key id in their header (`file.rs`). Anything without the
//!   marker is legacy plaintext and is read as it is (`amtsweg keys encrypt-existing`
//!   converts it).
//! - Rotating a KEK re-wraps the data keys only (`admin.rs`); the data is never re-encrypted.
//! - Deleting a case's data key makes every copy of its content unreadable (crypto-shredding
//!   of backups that still hold it).

pub mod admin;
mod aead;
pub mod command;
pub mod file;
pub mod keyring;
mod text;
mod vault;

pub use keyring::{Kek, Keyring};
pub use text::is_sealed;
pub use vault::{DataKey, Owner, Vault};

/// The data key id a sealed column value names; `None` for plaintext or malformed values.
pub fn sealed_key_id(value: &str) -> Option<String> {
    text::key_id(value).ok().flatten().map(str::to_string)
}

/// Why something could not be encrypted or decrypted. Shown to operators (logs, command
/// line), never to users: the web layer turns it into an error page without details.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "no encryption key is configured (AMTSWEG_ENCRYPTION_KEYS or AMTSWEG_ENCRYPTION_KEY_FILE)"
    )]
    NoKeys,
    #[error("data key {data_key} is wrapped by the deployment key {kek:?}, which is not configured; add it to AMTSWEG_ENCRYPTION_KEYS / the key file (or restore the key file of this database)")]
    MissingKek { data_key: String, kek: String },
    #[error("data key {0} does not exist (deleted with its case?)")]
    MissingDataKey(String),
    #[error("decryption failed: wrong key, or the stored data was changed or cut short")]
    Tampered,
    #[error("malformed encrypted value")]
    Malformed,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("storage: {0}")]
    Io(#[from] std::io::Error),
}

/// Lets decryption run inside the many readers that return `sqlx::Result`: a failure becomes
/// a decode error (a 500 page, the cause in the log); database trouble stays what it was, so
/// an unavailable database is still a 503.
impl From<CryptoError> for sqlx::Error {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Database(e) => e,
            other => sqlx::Error::Decode(Box::new(other)),
        }
    }
}

impl From<CryptoError> for crate::error::AppError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Database(e) => crate::error::AppError::Database(e),
            other => crate::error::AppError::Internal(other.into()),
        }
    }
}

impl From<CryptoError> for std::io::Error {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Io(e) => e,
            other => std::io::Error::other(other),
        }
    }
}

#[cfg(test)]
mod tests;
