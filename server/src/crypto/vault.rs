//! The keys at work: the deployment keys, and the data keys of drafts and cases, unwrapped on
//! first use and kept in memory. Lives in `Db`, so that every reader that has the database
//! can decrypt what it reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use sqlx::{AnyConnection, AnyPool, Row};

use super::aead::{self, KEY_LEN};
use super::file::{self, Head, Opener, Sealer};
use super::{text, CryptoError, Keyring};
use crate::storage::{ByteStream, Storage};

/// An unwrapped data key; its bytes never reach a log.
#[derive(Clone)]
pub struct DataKey {
    pub id: String,
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, [redacted])", self.id)
    }
}

/// Unwrapped data keys kept at most; beyond that the cache starts over (a key is unwrapped
/// again from its row, which costs one query and one AEAD call).
const CACHE_LIMIT: usize = 50_000;

#[derive(Clone, Default)]
pub struct Vault {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    keyring: Keyring,
    cache: Mutex<HashMap<String, [u8; KEY_LEN]>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault")
    }
}

/// Associated data of a wrapped data key: a wrapped key cannot be moved to another id.
fn wrap_aad(id: &str) -> Vec<u8> {
    format!("amtsweg-data-key:{id}").into_bytes()
}

pub(super) fn wrap(keyring: &Keyring, id: &str, key: &[u8; KEY_LEN]) -> (String, String) {
    let kek = keyring.active();
    let sealed = aead::seal(kek.key.expose(), &wrap_aad(id), key);
    (kek.id.clone(), STANDARD.encode(sealed))
}

pub(super) fn unwrap(
    keyring: &Keyring,
    id: &str,
    kek_id: &str,
    wrapped: &str,
) -> Result<[u8; KEY_LEN], CryptoError> {
    let kek = keyring.get(kek_id).ok_or_else(|| CryptoError::MissingKek {
        data_key: id.to_string(),
        kek: kek_id.to_string(),
    })?;
    let sealed = STANDARD
        .decode(wrapped)
        .map_err(|_| CryptoError::Malformed)?;
    aead::open(kek.key.expose(), &wrap_aad(id), &sealed)?
        .try_into()
        .map_err(|_| CryptoError::Malformed)
}

impl Vault {
    pub fn new(keyring: Keyring) -> Self {
        Self {
            inner: Some(Arc::new(Inner {
                keyring,
                cache: Mutex::new(HashMap::new()),
            })),
        }
    }

    /// The deployment keys; an error for tools started without them.
    pub fn keyring(&self) -> Result<&Keyring, CryptoError> {
        self.inner
            .as_ref()
            .map(|i| &i.keyring)
            .ok_or(CryptoError::NoKeys)
    }

    fn cached(&self, id: &str) -> Option<DataKey> {
        let inner = self.inner.as_ref()?;
        let cache = inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(id).map(|k| DataKey {
            id: id.to_string(),
            key: *k,
        })
    }

    fn remember(&self, key: &DataKey) {
        if let Some(inner) = &self.inner {
            let mut cache = inner.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key.id.clone(), key.key);
        }
    }

    /// Drops a data key from memory (after it was deleted or re-wrapped).
    pub fn forget(&self, id: &str) {
        if let Some(inner) = &self.inner {
            inner
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id);
        }
    }

    /// A new random data key, wrapped by the active deployment key and inserted on `conn`
    /// (inside the caller's transaction, if any).
    pub async fn create(&self, conn: &mut AnyConnection) -> Result<DataKey, CryptoError> {
        let keyring = self.keyring()?;
        let key = DataKey {
            id: uuid::Uuid::new_v4().to_string(),
            key: aead::random_key(),
        };
        let (kek_id, wrapped) = wrap(keyring, &key.id, &key.key);
        sqlx::query(
            "INSERT INTO data_keys (id, kek_id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&key.id)
        .bind(&kek_id)
        .bind(&wrapped)
        .bind(crate::time::now_ms())
        .execute(&mut *conn)
        .await?;
        self.remember(&key);
        Ok(key)
    }

    /// The data key `id`, from memory or unwrapped from its row.
    pub async fn get(&self, conn: &mut AnyConnection, id: &str) -> Result<DataKey, CryptoError> {
        if let Some(k) = self.cached(id) {
            return Ok(k);
        }
        let keyring = self.keyring()?;
        let row = sqlx::query("SELECT kek_id, wrapped FROM data_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| CryptoError::MissingDataKey(id.to_string()))?;
        let (kek_id, wrapped): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let key = DataKey {
            id: id.to_string(),
            key: unwrap(keyring, id, &kek_id, &wrapped)?,
        };
        self.remember(&key);
        Ok(key)
    }

    /// `get` with a connection from the pool, taken only when the key is not in memory.
    pub async fn get_pooled(&self, pool: &AnyPool, id: &str) -> Result<DataKey, CryptoError> {
        if let Some(k) = self.cached(id) {
            return Ok(k);
        }
        let mut conn = pool.acquire().await?;
        self.get(&mut conn, id).await
    }

    /// The data key of a case or draft (`table` is `cases` or `drafts`), given one first if
    /// it has none (rows from before encryption). A concurrent first use keeps one of them.
    pub async fn key_of(
        &self,
        conn: &mut AnyConnection,
        table: Owner,
        id: &str,
    ) -> Result<DataKey, CryptoError> {
        let table = table.table();
        let current: Option<Option<String>> =
            sqlx::query_scalar(&format!("SELECT data_key_id FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(Some(key_id)) = current {
            return self.get(conn, &key_id).await;
        }
        let key = self.create(conn).await?;
        sqlx::query(&format!(
            "UPDATE {table} SET data_key_id = $1 WHERE id = $2 AND data_key_id IS NULL"
        ))
        .bind(&key.id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        let now: Option<String> =
            sqlx::query_scalar(&format!("SELECT data_key_id FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .flatten();
        match now {
            Some(k) if k != key.id => self.get(conn, &k).await,
            _ => Ok(key),
        }
    }

    /// `key_of` with a connection from the pool.
    pub async fn key_of_pooled(
        &self,
        pool: &AnyPool,
        table: Owner,
        id: &str,
    ) -> Result<DataKey, CryptoError> {
        let mut conn = pool.acquire().await?;
        self.key_of(&mut conn, table, id).await
    }

    /// Seals a text value for a database column.
    pub fn seal(&self, key: &DataKey, plaintext: &str) -> String {
        text::seal(&key.id, &key.key, plaintext)
    }

    /// Opens a column value; plaintext from before encryption comes back as it is.
    pub async fn open(&self, pool: &AnyPool, value: String) -> Result<String, CryptoError> {
        match text::key_id(&value)? {
            None => Ok(value),
            Some(id) => {
                let key = self.get_pooled(pool, id).await?;
                text::open(&value, &key.id, &key.key)
            }
        }
    }

    /// Opens a column value with a connection (inside a transaction).
    pub async fn open_on(
        &self,
        conn: &mut AnyConnection,
        value: String,
    ) -> Result<String, CryptoError> {
        match text::key_id(&value)? {
            None => Ok(value),
            Some(id) => {
                let key = self.get(conn, id).await?;
                text::open(&value, &key.id, &key.key)
            }
        }
    }

    /// Encrypts a file as it is written (`Storage::begin_sealed`).
    pub fn sealer(&self, key: &DataKey) -> Sealer {
        Sealer::new(&key.id, &key.key)
    }

    /// A stored file's plaintext, decrypted as it streams; legacy plaintext files as they are.
    pub async fn open_file(
        &self,
        pool: &AnyPool,
        storage: &Storage,
        storage_key: &str,
    ) -> Result<ByteStream, CryptoError> {
        let mut raw = storage.open(storage_key).await?;
        let mut first = Vec::new();
        let (key_id, len) = loop {
            match file::head(&first)? {
                Head::Sealed { key_id, len } => break (key_id, len),
                Head::Plain => return Ok(prepend(first, raw)),
                Head::NeedMore => match raw.next().await {
                    Some(chunk) => first.extend_from_slice(&chunk?),
                    // Shorter than any header: a (tiny) legacy file.
                    None => return Ok(prepend(first, raw)),
                },
            }
        };
        let key = self.get_pooled(pool, &key_id).await?;
        let opener = Opener::new(&first[..len], &key.key)?;
        let rest = first.split_off(len);
        Ok(decrypting(raw, opener, rest))
    }
}

/// Whose data key `Vault::key_of` looks up.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    Case,
    Draft,
}

impl Owner {
    fn table(self) -> &'static str {
        match self {
            Owner::Case => "cases",
            Owner::Draft => "drafts",
        }
    }
}

fn prepend(first: Vec<u8>, rest: ByteStream) -> ByteStream {
    if first.is_empty() {
        rest
    } else {
        stream::once(async move { Ok(Bytes::from(first)) })
            .chain(rest)
            .boxed()
    }
}

struct Decrypting {
    raw: ByteStream,
    opener: Option<Opener>,
    pending: Option<Vec<u8>>,
}

fn decrypting(raw: ByteStream, opener: Opener, rest: Vec<u8>) -> ByteStream {
    let start = Decrypting {
        raw,
        opener: Some(opener),
        pending: Some(rest),
    };
    stream::unfold(start, |mut st| async move {
        loop {
            st.opener.as_ref()?;
            let input = match st.pending.take() {
                Some(p) => Some(Ok(Bytes::from(p))),
                None => st.raw.next().await,
            };
            let opener = st.opener.as_mut()?;
            let out = match input {
                Some(Ok(chunk)) => match opener.feed(&chunk) {
                    Ok(plain) if plain.is_empty() => continue,
                    Ok(plain) => Ok(Bytes::from(plain)),
                    Err(e) => Err(e.into()),
                },
                Some(Err(e)) => Err(e),
                None => st
                    .opener
                    .take()
                    .map(|o| o.finish().map(Bytes::from).map_err(std::io::Error::from))
                    .unwrap_or_else(|| Ok(Bytes::new())),
            };
            if out.is_err() {
                // One error ends the stream: nothing after a failed chunk is trusted.
                st.opener = None;
            }
            return Some((out, st));
        }
    })
    .boxed()
}

#[cfg(test)]
pub(super) fn test_key(id: &str) -> DataKey {
    DataKey {
        id: id.to_string(),
        key: aead::random_key(),
    }
}

#[cfg(test)]
pub(super) fn raw(key: &DataKey) -> &[u8; KEY_LEN] {
    &key.key
}
