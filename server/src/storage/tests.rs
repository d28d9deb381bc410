//! Both backends behave alike: store, read, list, delete, staging.

use super::*;
use object_store::memory::InMemory;

fn stores(dir: &Path) -> Vec<Storage> {
    vec![
        Storage::local(dir.join("files")),
        Storage::with_store(
            Arc::new(InMemory::new()),
            "amtsweg/files",
            "memory://",
            dir.join("staging"),
        ),
    ]
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amtsweg-storage-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn read(storage: &Storage, key: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut stream = storage.open(key).await?;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

async fn store(storage: &Storage, content: &[u8]) -> String {
    let mut up = storage.begin().await.unwrap();
    for chunk in content.chunks(100_000) {
        up.write(chunk).await.unwrap();
    }
    storage.commit(up).await.unwrap()
}

#[tokio::test]
async fn both_backends_store_read_list_and_delete_alike() {
    let dir = tempdir("alike");
    // Larger than one part, so the object store takes it in several.
    let big: Vec<u8> = (0..(PART_SIZE * 2 + 12345))
        .map(|i| (i % 251) as u8)
        .collect();
    for storage in stores(&dir) {
        let small = store(&storage, b"%PDF-1.7 small").await;
        let large = store(&storage, &big).await;
        assert_eq!(read(&storage, &small).await.unwrap(), b"%PDF-1.7 small");
        assert_eq!(read(&storage, &large).await.unwrap(), big);
        let mut keys = storage.keys().await.unwrap();
        keys.sort();
        let mut want = vec![small.clone(), large.clone()];
        want.sort();
        assert_eq!(keys, want, "{}", storage.describe());
        assert!(storage.temp_files().is_empty(), "staging emptied");
        storage.delete(&large).await.unwrap();
        storage.delete(&large).await.unwrap();
        let err = storage.open(&large).await.err().unwrap();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(storage.keys().await.unwrap(), vec![small]);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn unfinished_uploads_leave_nothing_and_foreign_keys_reach_nothing() {
    let dir = tempdir("unfinished");
    for storage in stores(&dir) {
        let mut up = storage.begin().await.unwrap();
        up.write(b"half").await.unwrap();
        assert_eq!(storage.temp_files().len(), 1);
        // The local staging directory sits inside the files directory, with key-like names.
        assert!(
            storage.keys().await.unwrap().is_empty(),
            "a staging file is no stored file: {}",
            storage.describe()
        );
        drop(up);
        assert!(storage.temp_files().is_empty());
        assert!(storage.keys().await.unwrap().is_empty());
        for key in ["../../etc/passwd", "", "ab", &"g".repeat(32), "../x/../"] {
            assert!(storage.open(key).await.is_err(), "{key}");
            storage.delete(key).await.unwrap();
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn stale_staging_files_are_removed_and_fresh_ones_kept() {
    use std::time::{Duration, SystemTime};
    let dir = tempdir("stale");
    for storage in stores(&dir) {
        let mut live = storage.begin().await.unwrap();
        live.write(b"still arriving").await.unwrap();
        let crashed = storage.temp_dir().join("0123456789abcdef0123456789abcdef");
        std::fs::write(&crashed, b"left by a crash").unwrap();
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&crashed)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        let cutoff = SystemTime::now() - Duration::from_secs(600);
        assert_eq!(
            storage.remove_stale_temp_files(cutoff, true).await.unwrap(),
            1
        );
        assert_eq!(storage.temp_files().len(), 2, "a dry run removes nothing");
        assert_eq!(
            storage
                .remove_stale_temp_files(cutoff, false)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            storage.temp_files().len(),
            1,
            "the upload in progress stays"
        );
        let key = storage.commit(live).await.unwrap();
        let objects = storage.objects().await.unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].key, key);
        let age = SystemTime::now()
            .duration_since(objects[0].modified)
            .unwrap_or_default();
        assert!(age < Duration::from_secs(60), "{age:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn only_s3_urls_are_accepted() {
    let dir = std::env::temp_dir();
    for url in ["", "s3://", "http://bucket", "file:///x", "bucket/prefix"] {
        assert!(
            Storage::object(url, &S3Options::default(), dir.clone()).is_err(),
            "{url}"
        );
    }
}
