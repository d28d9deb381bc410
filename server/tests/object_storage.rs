//! Files in S3-compatible object storage (moto's server), on SQLite and PostgreSQL: evidence
//! uploaded through the form (small in one request, large in parts), a fee notice PDF made by
//! the portal, downloads for citizen and caseworker, refused uploads that leave nothing behind,
//! and nothing written to the local files directory.

mod common;

use common::apply::{start_with, upload_with, PARKING, PNG};
use common::fees::{issue, world};
use common::people::{href, text};
use common::s3::S3;
use common::{Backend, TestApp};
use sha2::{Digest, Sha256};

async fn run(backend: Backend) {
    let s3 = S3::start().await;
    let bucket = s3.bucket().await;
    let app = TestApp::spawn_with(backend, |c| s3.configure(c, &bucket)).await;
    assert!(app.state.storage.describe().starts_with("s3://"));
    let w = world(app).await;
    let app = &w.app;

    let stored_keys = || async {
        let mut keys: Vec<String> = sqlx::query_scalar("SELECT storage_key FROM documents")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
        keys.sort();
        let mut in_store = app.state.storage.keys().await.unwrap();
        in_store.sort();
        assert_eq!(keys, in_store, "every document in the bucket, nothing else");
        keys
    };
    assert_eq!(
        stored_keys().await.len(),
        1,
        "the parking permit's evidence"
    );

    // The citizen and the caseworker download the evidence from the bucket.
    let (doc, sha): (String, String) =
        sqlx::query_as("SELECT id, sha256 FROM documents WHERE user_id IS NOT NULL")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let r = w
        .anna
        .get(app.url(&format!("/dokumente/{doc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"],
        PNG.len().to_string().as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(sha, hex::encode(Sha256::digest(PNG)));
    let (_, case) = text(
        app,
        &w.cw,
        &format!("/verwaltung/vorgaenge/{}", w.reference),
    )
    .await;
    let link = href(
        &case,
        &format!("/verwaltung/vorgaenge/{}/dokumente/", w.reference),
    );
    let r = w.cw.get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    // A generated fee notice goes to the bucket too, and the citizen reads it from there.
    let r = issue(&w, &[("Bewohnerparkausweis", "30,70")], &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(stored_keys().await.len(), 2);
    let id: String = sqlx::query_scalar("SELECT id FROM fee_notices")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let (_, notice) = text(app, &w.anna, &format!("/konto/gebuehren/{id}")).await;
    let pdf = href(
        &notice,
        &format!("/konto/postfach/{}/dokumente/", w.reference),
    );
    let r = w.anna.get(app.url(&pdf)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));

    // A building-plan-sized file goes up in parts and comes back byte for byte.
    let draft = start_with(app, &w.anna, PARKING).await;
    let big = {
        let mut v = b"%PDF-1.7\n".to_vec();
        v.extend((0..9 * 1024 * 1024).map(|i| b'a' + (i % 23) as u8));
        v
    };
    let r = upload_with(
        app,
        &w.anna,
        &draft,
        "evidence",
        "registration_certificate",
        "plan.pdf",
        big.clone(),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let keys = stored_keys().await;
    assert_eq!(keys.len(), 3);
    let doc: String = sqlx::query_scalar("SELECT id FROM documents WHERE file_name = 'plan.pdf'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let r = w
        .anna
        .get(app.url(&format!("/dokumente/{doc}")))
        .send()
        .await
        .unwrap();
    let back = r.bytes().await.unwrap();
    assert!(
        back.as_ref() == big.as_slice(),
        "large file intact ({} bytes back)",
        back.len()
    );

    // Refused files reach neither the bucket nor the database, and no staging file remains.
    for (name, bytes) in [
        ("scan.pdf", b"MZ\x90\x00 not a pdf".to_vec()),
        (
            "js.pdf",
            b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (x) >> >>".to_vec(),
        ),
    ] {
        let r = upload_with(
            app,
            &w.anna,
            &draft,
            "evidence",
            "registration_certificate",
            name,
            bytes,
        )
        .await;
        assert_eq!(r.status(), 422, "{name}");
    }
    assert_eq!(stored_keys().await, keys);
    assert!(app.state.storage.temp_files().is_empty(), "staging emptied");
    assert!(
        !app.dir.join("files").exists(),
        "nothing written to the local files directory"
    );

    // Removing a file removes it from the bucket.
    let key = &keys[0];
    app.state.storage.delete(key).await.unwrap();
    assert!(!app.state.storage.keys().await.unwrap().contains(key));
    assert_eq!(
        app.state.storage.open(key).await.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::NotFound)
    );
}

#[tokio::test]
async fn sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn postgres() {
    run(Backend::Postgres).await
}

/// A bucket that does not exist (or storage that is down) is an error page, not a crash, and
/// the form keeps what was entered.
#[tokio::test]
async fn unreachable_storage_refuses_the_upload_with_a_page() {
    let s3 = S3::start().await;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| s3.configure(c, "no-such-bucket")).await;
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let anna = common::people::citizen(&app, "anna@example.org").await;
    let draft = start_with(&app, &anna, PARKING).await;
    let r = upload_with(
        &app,
        &anna,
        &draft,
        "evidence",
        "registration_certificate",
        "a.png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(r.status(), 500);
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("no-such-bucket") && !body.contains("NoSuchBucket"),
        "no internals: {body}"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert!(app.state.storage.temp_files().is_empty());
}
