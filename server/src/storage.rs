//! Where uploaded files live: under random keys, never served directly. Every access goes
//! through the application, which checks who may read a file.
//!
//! Two backends behind one interface: a local directory (the default, for one instance) and
//! S3-compatible object storage (for several instances, which must all see every file).
//! Either way an upload is first written to a local staging file, so that a refused or broken
//! upload never reaches the store and nothing is ever held whole in memory; `commit` then
//! moves it into place (a rename, or an upload in parts).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::{path::Path as ObjectPath, ObjectStore};
use tokio::io::AsyncWriteExt;

/// A stored file's content, read in chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Files up to this size go to object storage in one request; larger ones in parts.
const SINGLE_PUT_LIMIT: u64 = 5 * 1024 * 1024;
/// S3 wants parts of at least 5 MiB; bigger parts mean fewer requests for building plans.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight per upload: bounds memory to about this many times `PART_SIZE`.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Clone, Debug)]
pub struct Storage {
    staging: PathBuf,
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Local(PathBuf),
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        url: String,
    },
}

/// A file being written; it becomes visible only when `commit` moves it into place, and is
/// removed if it is dropped unfinished.
pub struct Upload {
    file: tokio::fs::File,
    temp: PathBuf,
    /// Bytes written to the staging file (ciphertext when sealed).
    size: u64,
    done: bool,
    /// Encrypts what is written, when the file belongs to a draft or case (always, but in
    /// tests of storage itself).
    sealer: Option<crate::crypto::file::Sealer>,
}

/// Settings of S3-compatible storage beyond the bucket; each falls back to its `AWS_*`
/// environment variable.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<crate::secret::Secret<String>>,
}

/// Why the configured storage cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StorageConfigError {
    #[error("AMTSWEG_STORAGE_URL must be an s3:// URL such as s3://bucket/prefix, got {0:?}")]
    Scheme(String),
    #[error("object storage {url}: {source}")]
    Store {
        url: String,
        source: object_store::Error,
    },
}

impl Storage {
    pub fn local(root: PathBuf) -> Self {
        Self {
            staging: root.join("tmp"),
            backend: Backend::Local(root),
        }
    }

    /// Object storage at `url` (`s3://bucket/optional/prefix`). What `options` leaves open
    /// comes from the standard `AWS_*` environment variables (or, for credentials, the
    /// machine's role), as operators of S3 know them.
    pub fn object(
        url: &str,
        options: &S3Options,
        staging: PathBuf,
    ) -> Result<Self, StorageConfigError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| StorageConfigError::Scheme(url.to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StorageConfigError::Scheme(url.to_string()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &options.endpoint {
            // Plain http only where the operator wrote it (a storage service on the same host).
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        }
        if let Some(id) = &options.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        let store = builder
            .build()
            .map_err(|source| StorageConfigError::Store {
                url: url.to_string(),
                source,
            })?;
        Ok(Self::with_store(Arc::new(store), prefix, url, staging))
    }

    /// Any object store (tests use this with an in-process or S3 test store).
    pub fn with_store(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        url: &str,
        staging: PathBuf,
    ) -> Self {
        Self {
            staging,
            backend: Backend::Object {
                store,
                prefix: ObjectPath::from(prefix.trim_matches('/')),
                url: url.to_string(),
            },
        }
    }

    /// Where the files are, for the start-up log (never credentials).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local(root) => format!("directory {}", root.display()),
            Backend::Object { url, .. } => url.clone(),
        }
    }

    /// A local directory for files that are being written or only needed for a moment
    /// (uploads before `commit`, bank statements while they are read).
    pub fn temp_dir(&self) -> &Path {
        &self.staging
    }

    /// Keys are random and carry no part of the uploaded file name (no path traversal).
    fn checked(key: &str) -> Option<&str> {
        (key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())).then_some(key)
    }

    fn path_of(root: &Path, key: &str) -> Option<PathBuf> {
        Self::checked(key).map(|k| root.join(&k[..2]).join(k))
    }

    fn object_of(prefix: &ObjectPath, key: &str) -> Option<ObjectPath> {
        Self::checked(key).map(|k| {
            prefix
                .parts()
                .chain([k[..2].into(), k.into()])
                .collect::<ObjectPath>()
        })
    }

    pub async fn begin(&self) -> std::io::Result<Upload> {
        tokio::fs::create_dir_all(&self.staging).await?;
        let temp = self.staging.join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&temp).await?;
        Ok(Upload {
            file,
            temp,
            size: 0,
            done: false,
            sealer: None,
        })
    }

    /// An upload encrypted as it is written: plaintext never reaches the staging directory.
    pub async fn begin_sealed(
        &self,
        sealer: crate::crypto::file::Sealer,
    ) -> std::io::Result<Upload> {
        let mut upload = self.begin().await?;
        upload.sealer = Some(sealer);
        Ok(upload)
    }

    pub async fn commit(&self, mut upload: Upload) -> std::io::Result<String> {
        if let Some(sealer) = upload.sealer.take() {
            let last = sealer.finish()?;
            upload.write_raw(&last).await?;
        }
        upload.file.flush().await?;
        let key = uuid::Uuid::new_v4().simple().to_string();
        match &self.backend {
            Backend::Local(root) => {
                upload.file.sync_all().await?;
                let dest = Self::path_of(root, &key).ok_or_else(bad_key)?;
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                tokio::fs::rename(&upload.temp, &dest).await?;
                upload.done = true;
            }
            Backend::Object { store, prefix, .. } => {
                let dest = Self::object_of(prefix, &key).ok_or_else(bad_key)?;
                put_file(store.as_ref(), &dest, &upload.temp, upload.size).await?;
                // The staging file is removed when `upload` is dropped.
            }
        }
        Ok(key)
    }

    /// The stored bytes as they are: encrypted for every file written since encryption at
    /// rest. Readers go through `crypto::Vault::open_file`, which decrypts.
    pub async fn open(&self, key: &str) -> std::io::Result<ByteStream> {
        match &self.backend {
            Backend::Local(root) => {
                let path = Self::path_of(root, key).ok_or_else(not_found)?;
                let file = tokio::fs::File::open(path).await?;
                Ok(tokio_util::io::ReaderStream::new(file).boxed())
            }
            Backend::Object { store, prefix, .. } => {
                let path = Self::object_of(prefix, key).ok_or_else(not_found)?;
                let got = store.get(&path).await.map_err(io_error)?;
                Ok(got.into_stream().map_err(io_error).boxed())
            }
        }
    }

    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local(root) => match Self::path_of(root, key) {
                Some(p) => match tokio::fs::remove_file(p).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                },
                None => Ok(()),
            },
            Backend::Object { store, prefix, .. } => match Self::object_of(prefix, key) {
                Some(p) => match store.delete(&p).await {
                    Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                    Err(e) => Err(io_error(e)),
                },
                None => Ok(()),
            },
        }
    }

    /// Keys of every stored file, for consistency checks and clean-up of orphans.
    pub async fn keys(&self) -> std::io::Result<Vec<String>> {
        Ok(self.objects().await?.into_iter().map(|o| o.key).collect())
    }

    /// Every stored file with the time it was written, so that clean-up can leave alone a file
    /// whose database row is still being written.
    pub async fn objects(&self) -> std::io::Result<Vec<StoredObject>> {
        match &self.backend {
            Backend::Local(root) => {
                let mut out = Vec::new();
                let Ok(mut dirs) = tokio::fs::read_dir(root).await else {
                    return Ok(out);
                };
                while let Some(dir) = dirs.next_entry().await? {
                    // Only the fan-out directories (`ab/abcd…`): the staging directory lives
                    // in the same root and its files have names like keys.
                    let Some(prefix) = dir.file_name().to_str().map(str::to_string) else {
                        continue;
                    };
                    if prefix.len() != 2
                        || !prefix.bytes().all(|b| b.is_ascii_hexdigit())
                        || !dir.file_type().await?.is_dir()
                    {
                        continue;
                    }
                    let mut files = tokio::fs::read_dir(dir.path()).await?;
                    while let Some(f) = files.next_entry().await? {
                        let Some(name) = f.file_name().to_str().map(str::to_string) else {
                            continue;
                        };
                        if Self::checked(&name).is_none() || !name.starts_with(&prefix) {
                            continue;
                        }
                        // Gone between listing and looking: deleted meanwhile, not stored.
                        let Ok(meta) = f.metadata().await else {
                            continue;
                        };
                        out.push(StoredObject {
                            key: name,
                            modified: meta.modified()?,
                        });
                    }
                }
                Ok(out)
            }
            Backend::Object { store, prefix, .. } => {
                let metas: Vec<_> = store
                    .list(Some(prefix))
                    .try_collect()
                    .await
                    .map_err(io_error)?;
                Ok(metas
                    .into_iter()
                    .filter_map(|m| {
                        let key = m.location.filename()?.to_string();
                        Self::checked(&key)?;
                        Some(StoredObject {
                            key,
                            modified: m.last_modified.into(),
                        })
                    })
                    .collect())
            }
        }
    }

    /// Files in the staging directory (unfinished uploads), for tests and clean-up.
    pub fn temp_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.staging)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    }

    /// Removes staging files last written before `cutoff`: uploads and bank statements cut off
    /// by a crash. A live request writes its file continuously and finishes within the request
    /// timeout; an export being downloaded has no name there any more. Returns how many went.
    pub async fn remove_stale_temp_files(
        &self,
        cutoff: std::time::SystemTime,
        dry_run: bool,
    ) -> std::io::Result<usize> {
        let Ok(mut entries) = tokio::fs::read_dir(&self.staging).await else {
            return Ok(0);
        };
        let mut removed = 0;
        while let Some(e) = entries.next_entry().await? {
            let Ok(meta) = e.metadata().await else {
                continue;
            };
            if !meta.is_file() || meta.modified()? >= cutoff {
                continue;
            }
            if !dry_run {
                match tokio::fs::remove_file(e.path()).await {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
            removed += 1;
        }
        Ok(removed)
    }
}

/// One file in storage.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub key: String,
    pub modified: std::time::SystemTime,
}

fn bad_key() -> std::io::Error {
    std::io::Error::other("bad key")
}

fn not_found() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "bad key")
}

impl Upload {
    /// Writes plaintext (encrypted on the way if the upload is sealed).
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self.sealer.as_mut() {
            Some(sealer) => {
                let sealed = sealer.update(chunk)?;
                self.write_raw(&sealed).await
            }
            None => self.write_raw(chunk).await,
        }
    }

    async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.file.write_all(bytes).await?;
        self.size += bytes.len() as u64;
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

mod object;
use object::{io_error, put_file};

#[cfg(test)]
mod tests;
