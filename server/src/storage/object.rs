//! Object storage specifics: sending a staged file in one request or in parts, and its errors
//! as I/O errors.

use std::path::Path;

use object_store::{path::Path as ObjectPath, ObjectStore, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::{PARTS_IN_FLIGHT, PART_SIZE, SINGLE_PUT_LIMIT};

/// Sends a staged file to the object store: small files in one request, large ones in parts
/// read from disk as they go (never the whole file in memory). A failed upload in parts is
/// aborted, so the store keeps no half-written object.
pub(super) async fn put_file(
    store: &dyn ObjectStore,
    dest: &ObjectPath,
    source: &Path,
    size: u64,
) -> std::io::Result<()> {
    if size <= SINGLE_PUT_LIMIT {
        let bytes = tokio::fs::read(source).await?;
        store
            .put(dest, PutPayload::from(bytes))
            .await
            .map_err(io_error)?;
        return Ok(());
    }
    let parts = store.put_multipart(dest).await.map_err(io_error)?;
    let mut writer = WriteMultipart::new_with_chunk_size(parts, PART_SIZE);
    let result: std::io::Result<()> = async {
        let mut file = tokio::fs::File::open(source).await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(io_error)?;
            writer.write(&buf[..n]);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => writer.finish().await.map(|_| ()).map_err(io_error),
        Err(e) => {
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

pub(super) fn io_error(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e)
        }
        e => std::io::Error::other(e),
    }
}
