//! Where uploaded files live: under random keys in a directory that is never served directly.
//! Every access goes through the application, which checks who may read a file.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

#[derive(Clone, Debug)]
pub struct Storage {
    root: PathBuf,
}

/// A file being written; it becomes visible only when `commit` moves it into place, and is
/// removed if it is dropped unfinished.
pub struct Upload {
    file: tokio::fs::File,
    temp: PathBuf,
    done: bool,
}

impl Storage {
    pub fn local(root: PathBuf) -> Self {
        Self { root }
    }

    fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Keys are random and carry no part of the uploaded file name (no path traversal).
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let ok = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.root.join(&key[..2]).join(key))
    }

    pub async fn begin(&self) -> std::io::Result<Upload> {
        tokio::fs::create_dir_all(self.temp_dir()).await?;
        let temp = self
            .temp_dir()
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&temp).await?;
        Ok(Upload {
            file,
            temp,
            done: false,
        })
    }

    pub async fn commit(&self, mut upload: Upload) -> std::io::Result<String> {
        upload.file.flush().await?;
        upload.file.sync_all().await?;
        let key = uuid::Uuid::new_v4().simple().to_string();
        let dest = self
            .path_of(&key)
            .ok_or_else(|| std::io::Error::other("bad key"))?;
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(&upload.temp, &dest).await?;
        upload.done = true;
        Ok(key)
    }

    pub async fn open(&self, key: &str) -> std::io::Result<tokio::fs::File> {
        let path = self
            .path_of(key)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "bad key"))?;
        tokio::fs::File::open(path).await
    }

    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self.path_of(key) {
            Some(p) => match tokio::fs::remove_file(p).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Files in the temporary directory (unfinished uploads), for tests and clean-up.
    pub fn temp_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.temp_dir())
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.file.write_all(chunk).await
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
