//! The storage clean-up, on SQLite and PostgreSQL: orphaned files older than the grace period
//! go, younger ones and referenced ones stay, stale staging files go, rows without a file are
//! counted and kept; a dry run changes nothing; the maintenance loop takes the job's lease, so
//! one instance per period lists the storage.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use amtsweg_server::storage::Storage;
use amtsweg_server::storage_clean::{self, Report};
use common::{Backend, TestApp};

/// Stores `content` in the files directory under `root` and backdates the file by `age`.
async fn stored(storage: &Storage, root: &Path, content: &[u8], age: Duration) -> String {
    let mut up = storage.begin().await.unwrap();
    up.write(content).await.unwrap();
    let key = storage.commit(up).await.unwrap();
    let path = root.join(&key[..2]).join(&key);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
    key
}

async fn document(app: &TestApp, key: &str, created_at: i64) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO documents (id, user_id, storage_key, file_name, content_type, size, sha256, created_at)
         VALUES ($1, NULL, $2, 'a.pdf', 'application/pdf', 1, '', $3)",
    )
    .bind(&id)
    .bind(key)
    .bind(created_at)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    id
}

db_test!(orphans_and_stale_staging_go_the_rest_stays, |app| {
    let hours = |h: u64| Duration::from_secs(h * 3600);
    let long_ago = amtsweg_server::time::now_ms() - 3 * 3_600_000;
    // A storage of its own: the server's maintenance loop cleans the server's files meanwhile.
    let root = app.dir.join("clean-test");
    let storage = &Storage::local(root.clone());
    let kept = stored(storage, &root, b"%PDF-1.7 kept", hours(3)).await;
    document(&app, &kept, long_ago).await;
    let orphan = stored(storage, &root, b"%PDF-1.7 orphan", hours(2)).await;
    let young = stored(storage, &root, b"%PDF-1.7 row on its way", Duration::ZERO).await;
    let lost = document(&app, "0123456789abcdef0123456789abcdef", long_ago).await;
    // A row written a moment ago whose file the listing may have missed is not "missing".
    document(
        &app,
        "fedcba9876543210fedcba9876543210",
        amtsweg_server::time::now_ms(),
    )
    .await;
    let staging = storage.temp_dir().to_path_buf();
    std::fs::create_dir_all(&staging).unwrap();
    let stale = staging.join("aaaabbbbccccddddeeeeffff00001111");
    std::fs::write(&stale, b"cut off by a crash").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - hours(2))
        .unwrap();
    let live = staging.join("statement-live.xml");
    std::fs::write(&live, b"<Document/>").unwrap();

    let db = &app.state.db;
    let expected = Report {
        stored: 3,
        referenced: 1,
        orphans: 1,
        recent: 1,
        missing: 1,
        staging: 1,
        failed: 0,
    };
    let dry = storage_clean::run(db, storage, storage_clean::GRACE, true)
        .await
        .unwrap();
    assert_eq!(dry, expected);
    assert_eq!(
        storage.keys().await.unwrap().len(),
        3,
        "a dry run deletes nothing"
    );
    assert!(stale.exists());

    let done = storage_clean::run(db, storage, storage_clean::GRACE, false)
        .await
        .unwrap();
    assert_eq!(done, expected);
    let mut keys = storage.keys().await.unwrap();
    keys.sort();
    let mut want = vec![kept.clone(), young.clone()];
    want.sort();
    assert_eq!(keys, want, "the orphan {orphan} went, the rest stayed");
    assert!(!stale.exists() && live.exists());
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE id = $1")
        .bind(&lost)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "a row without its file is reported, not deleted");

    // With no grace at all (the server stopped), the young orphan goes too.
    let last = storage_clean::run(db, storage, Duration::ZERO, false)
        .await
        .unwrap();
    assert_eq!((last.orphans, last.recent), (1, 0));
    assert_eq!(storage.keys().await.unwrap(), vec![kept]);
});

db_test!(one_instance_per_period_lists_the_storage, |app| {
    let db = &app.state.db;
    // The running server's maintenance loop took the lease when it started.
    let mut holder: Option<String> = None;
    for _ in 0..50 {
        holder = sqlx::query_scalar("SELECT holder FROM job_leases WHERE name = 'storage_clean'")
            .fetch_optional(&db.pool)
            .await
            .unwrap();
        if holder.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(holder.is_some(), "the maintenance loop runs the clean-up");
    let other = storage_clean::periodic(db, &app.state.storage, "another instance")
        .await
        .unwrap();
    assert_eq!(
        other.stored, 0,
        "another instance does not list the storage meanwhile"
    );

    let hour = Duration::from_secs(3600);
    assert!(storage_clean::take_lease(db, "test_job", hour, "a")
        .await
        .unwrap());
    assert!(!storage_clean::take_lease(db, "test_job", hour, "b")
        .await
        .unwrap());
    sqlx::query("UPDATE job_leases SET held_until = 0 WHERE name = 'test_job'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(storage_clean::take_lease(db, "test_job", hour, "b")
        .await
        .unwrap());
    let holder: String =
        sqlx::query_scalar("SELECT holder FROM job_leases WHERE name = 'test_job'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(holder, "b");
});
