//! Writing the ZIP file. The `zip` crate writes synchronously, so one blocking thread owns the
//! file and the async side hands it entries and chunks through a small bounded channel: a slow
//! disk holds back the reading of stored files, and at most a few chunks are ever in memory,
//! however large the evidence.
//!
//! The async side hashes every entry as it passes, so the manifest (written last) can list
//! what actually went into the package.

use std::io::{BufWriter, Write};

use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::storage::ByteStream;

/// Chunks in flight between the async side and the writing thread.
const CHANNEL_CHUNKS: usize = 8;
/// Entries from this size on need ZIP64 headers, which must be chosen before writing.
const LARGE_ENTRY: u64 = 0xFFFF_0000;

/// One file in the package as the manifest lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PackagedFile {
    pub path: String,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

enum Op {
    Start {
        path: String,
        compress: bool,
        large: bool,
    },
    Data(Bytes),
}

/// The ZIP being written; `finish` completes it.
pub struct Sink {
    tx: mpsc::Sender<Op>,
    task: JoinHandle<std::io::Result<u64>>,
}

/// The writing thread ended early; its own error is what `finish` reports.
fn stopped() -> std::io::Error {
    std::io::Error::other("zip writer stopped")
}

impl Sink {
    /// Starts the writing thread on an already created file (created by the caller, so that
    /// whoever removes the path on failure never races with its creation).
    pub fn start(file: std::fs::File, modified: DateTime) -> Sink {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let task = tokio::task::spawn_blocking(move || write_all(file, rx, modified));
        Sink { tx, task }
    }

    async fn send(&self, op: Op) -> std::io::Result<()> {
        self.tx.send(op).await.map_err(|_| stopped())
    }

    /// A file already in memory (JSON, the generated summary).
    pub async fn add_bytes(
        &self,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
        compress: bool,
    ) -> std::io::Result<PackagedFile> {
        let entry = PackagedFile {
            path: path.to_string(),
            content_type: content_type.to_string(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        };
        self.send(Op::Start {
            path: path.to_string(),
            compress,
            large: false,
        })
        .await?;
        self.send(Op::Data(Bytes::from(bytes))).await?;
        Ok(entry)
    }

    /// A stored file, copied chunk by chunk. Stored documents are PDFs and images, which are
    /// compressed already: they go in as they are, which keeps a large export fast.
    pub async fn add_stream(
        &self,
        path: &str,
        content_type: &str,
        declared_size: u64,
        mut stream: ByteStream,
    ) -> std::io::Result<PackagedFile> {
        self.send(Op::Start {
            path: path.to_string(),
            compress: false,
            large: declared_size >= LARGE_ENTRY,
        })
        .await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            self.send(Op::Data(chunk)).await?;
        }
        Ok(PackagedFile {
            path: path.to_string(),
            content_type: content_type.to_string(),
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// Completes the ZIP (central directory) and returns its size. After an error on the
    /// async side this still ends the thread; the caller discards the file.
    pub async fn finish(self) -> std::io::Result<u64> {
        drop(self.tx);
        self.task.await.map_err(std::io::Error::other)?
    }
}

fn write_all(
    file: std::fs::File,
    mut rx: mpsc::Receiver<Op>,
    modified: DateTime,
) -> std::io::Result<u64> {
    let mut zip = ZipWriter::new(BufWriter::with_capacity(256 * 1024, file));
    while let Some(op) = rx.blocking_recv() {
        match op {
            Op::Start {
                path,
                compress,
                large,
            } => {
                let options = SimpleFileOptions::default()
                    .compression_method(if compress {
                        CompressionMethod::Deflated
                    } else {
                        CompressionMethod::Stored
                    })
                    .last_modified_time(modified)
                    .unix_permissions(0o644)
                    .large_file(large);
                zip.start_file(path, options).map_err(zip_error)?;
            }
            Op::Data(chunk) => zip.write_all(&chunk)?,
        }
    }
    let mut out = zip.finish().map_err(zip_error)?;
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok(file.metadata()?.len())
}

fn zip_error(e: zip::result::ZipError) -> std::io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        e => std::io::Error::other(e),
    }
}

/// The time stamp of every entry: the moment of export, in UTC (ZIP keeps local times without
/// a zone; the manifest has the exact instant).
pub fn zip_time(ms: i64) -> DateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            DateTime::from_date_and_time(
                u16::try_from(t.year()).ok()?,
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use futures_util::stream;

    use super::*;

    #[tokio::test]
    async fn streamed_entries_come_back_whole_with_their_hashes() {
        let path = std::env::temp_dir().join(format!(
            "amtsweg-export-writer-{}.zip",
            uuid::Uuid::new_v4().simple()
        ));
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let chunks: Vec<std::io::Result<Bytes>> = big
            .chunks(65_536)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let sink = Sink::start(std::fs::File::create(&path).unwrap(), zip_time(0));
        let text = sink
            .add_bytes("a.json", "application/json", b"{}".to_vec(), true)
            .await
            .unwrap();
        let streamed = sink
            .add_stream(
                "b/big.bin",
                "application/octet-stream",
                big.len() as u64,
                stream::iter(chunks).boxed(),
            )
            .await
            .unwrap();
        let size = sink.finish().await.unwrap();
        assert_eq!(size, std::fs::metadata(&path).unwrap().len());
        assert_eq!(streamed.size, big.len() as u64);
        assert_eq!(streamed.sha256, hex::encode(Sha256::digest(&big)));
        assert_eq!(text.sha256, hex::encode(Sha256::digest(b"{}")));
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut back = Vec::new();
        zip.by_name("b/big.bin")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == big);
        std::fs::remove_file(&path).unwrap();
    }
}
