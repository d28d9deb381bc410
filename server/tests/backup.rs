//! `amtsweg backup` and `amtsweg restore` (the real binary, as operators run it) on SQLite: a
//! backup taken while citizens keep submitting with evidence restores into a fresh data
//! directory, where a new instance finds every case of the snapshot, serves its evidence byte
//! for byte and lets people log in; a damaged backup is refused before anything is written;
//! nothing is ever overwritten; PostgreSQL is pointed to its own tools.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use amtsweg_server::domain::Role;
use amtsweg_server::time::now_ms;
use common::apply::{page_with, start_with, upload_with, PARKING};
use common::people::{citizen, href, staff, text};
use common::{csrf, login, Backend, TestApp, PW};

/// Runs the binary with a data directory and nothing else from the environment that could
/// point it elsewhere.
fn amtsweg(data_dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amtsweg"));
    cmd.args(args)
        .env("AMTSWEG_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    for var in ["DATABASE_URL", "AMTSWEG_STORAGE_URL", "AMTSWEG_CONFIG"] {
        cmd.env_remove(var);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("the amtsweg binary runs")
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("amtsweg-{name}-{}", uuid::Uuid::new_v4()))
}

/// A PNG header with bytes of its own after it, so every submission's evidence differs.
fn evidence(n: usize) -> Vec<u8> {
    let mut bytes = common::apply::PNG.to_vec();
    bytes.extend_from_slice(format!("submission {n} {}", uuid::Uuid::new_v4()).as_bytes());
    bytes
}

/// Fills in and submits a parking permit with `bytes` as evidence; returns the reference.
async fn submit_with(app: &TestApp, client: &reqwest::Client, bytes: Vec<u8>) -> String {
    let draft = start_with(app, client, PARKING).await;
    for (page, fields) in [
        (
            "person",
            vec![
                ("given_name", "Erika"),
                ("family_name", "Mustermann"),
                ("birth_date.day", "27"),
                ("birth_date.month", "3"),
                ("birth_date.year", "1990"),
            ],
        ),
        (
            "address",
            vec![
                ("street", "Hauptstraße"),
                ("house_number", "1"),
                ("postal_code", "70173"),
                ("place", "Stuttgart"),
            ],
        ),
        ("vehicle", vec![("plate", "S-AB 1234"), ("keeper", "self")]),
    ] {
        let r = page_with(app, client, &draft, page, &fields).await;
        assert_eq!(r.status(), 303, "{page}");
    }
    let r = upload_with(
        app,
        client,
        &draft,
        "evidence",
        "registration_certificate",
        "fahrzeugschein.png",
        bytes,
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(
        page_with(app, client, &draft, "evidence", &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        page_with(app, client, &draft, "period", &[("months", "12")])
            .await
            .status(),
        303
    );
    let (_, check) = text(app, client, &format!("/antraege/{draft}/pruefen")).await;
    let r = client
        .post(app.url(&format!("/antraege/{draft}/absenden")))
        .form(&[("_csrf", csrf(&check).as_str()), ("declaration", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    sqlx::query_scalar("SELECT c.reference FROM cases c WHERE c.draft_id = $1")
        .bind(&draft)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// The evidence of a case as a caseworker downloads it.
async fn download(app: &TestApp, cw: &reqwest::Client, reference: &str) -> Vec<u8> {
    let page = format!("/verwaltung/vorgaenge/{reference}");
    let (s, html) = text(app, cw, &page).await;
    assert_eq!(s, 200, "{reference}");
    let link = href(&html, &format!("{page}/dokumente/"));
    let r = cw.get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_backup_taken_while_citizens_submit_restores_everything_into_a_fresh_instance() {
    let app = Arc::new(TestApp::spawn(Backend::Sqlite).await);
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let anna = citizen(&app, "anna@example.org").await;
    staff(
        &app,
        "cw@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "lead")],
    )
    .await;
    // Reference -> the evidence submitted with it.
    let submitted: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    for n in 0..3 {
        let bytes = evidence(n);
        let reference = submit_with(&app, &anna, bytes.clone()).await;
        submitted.lock().unwrap().insert(reference, bytes);
    }

    // Citizens keep submitting (three at a time) while the backup runs. A backup that
    // happened to fall between two writes proves nothing, so it is taken again until uploads
    // and submissions were committed while it ran.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (app, anna, submitted, stop) =
                (app.clone(), anna.clone(), submitted.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 1000 * (w + 1);
                while !stop.load(Ordering::Relaxed) {
                    let bytes = evidence(n);
                    let reference = submit_with(&app, &anna, bytes.clone()).await;
                    submitted.lock().unwrap().insert(reference, bytes);
                    n += 1;
                }
            })
        })
        .collect();
    while submitted.lock().unwrap().len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut attempt = 0;
    let (backup_dir, before_backup, out) = loop {
        attempt += 1;
        let before: Vec<String> = submitted.lock().unwrap().keys().cloned().collect();
        let dir = temp("backup");
        let (from, to) = (app.dir.clone(), dir.clone());
        let started = now_ms();
        let out = tokio::task::spawn_blocking(move || {
            amtsweg(&from, &["backup", "--to", to.to_str().unwrap()], &[])
        })
        .await
        .unwrap();
        let ended = now_ms();
        assert!(out.status.success(), "{}", said(&out));
        let written: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM documents WHERE created_at BETWEEN $1 AND $2),
                    (SELECT COUNT(*) FROM cases WHERE submitted_at BETWEEN $1 AND $2)",
        )
        .bind(started)
        .bind(ended)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        let snapshot_at = serde_json::from_slice::<serde_json::Value>(
            &std::fs::read(dir.join("manifest.json")).unwrap(),
        )
        .unwrap()["created_at_ms"]
            .as_i64()
            .unwrap();
        println!(
            "backup {attempt} took {} ms (snapshot after {} ms); meanwhile {} uploads and {} submissions were committed",
            ended - started,
            snapshot_at - started,
            written.0,
            written.1
        );
        if written.0 > 0 && written.1 > 0 {
            break (dir, before, out);
        }
        assert!(attempt < 20, "no backup overlapped with writes");
        let _ = std::fs::remove_dir_all(dir);
    };
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(said(&out).contains("backup of"), "{}", said(&out));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["database"], "sqlite");
    assert_eq!(manifest["files"][0]["path"], "amtsweg.db");
    assert!(manifest["migration_version"].as_i64().unwrap() >= 20261123000011);
    assert!(manifest["files"].as_array().unwrap().len() > before_backup.len());

    // A second backup into the same directory is refused; so is a restore over a database.
    let again = amtsweg(
        &app.dir,
        &["backup", "--to", backup_dir.to_str().unwrap()],
        &[],
    );
    assert!(
        !again.status.success() && said(&again).contains("not empty"),
        "{}",
        said(&again)
    );
    let over = amtsweg(
        &app.dir,
        &["restore", "--from", backup_dir.to_str().unwrap()],
        &[],
    );
    assert!(
        !over.status.success() && said(&over).contains("exists"),
        "{}",
        said(&over)
    );

    // A backup with one changed byte is refused, and nothing is written.
    let damaged = temp("damaged");
    copy_tree(&backup_dir, &damaged);
    let victim = damaged.join(manifest["files"][1]["path"].as_str().unwrap());
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    let refused_dir = temp("refused");
    let out = amtsweg(
        &refused_dir,
        &["restore", "--from", damaged.to_str().unwrap()],
        &[],
    );
    assert!(!out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("damaged"), "{}", said(&out));
    assert!(!refused_dir.join("amtsweg.db").exists());
    assert!(
        !refused_dir.join("files").exists()
            || std::fs::read_dir(refused_dir.join("files"))
                .unwrap()
                .next()
                .is_none()
    );

    // Restore into a fresh data directory and start a new instance on it.
    let restored_dir = temp("restored");
    let out = amtsweg(
        &restored_dir,
        &["restore", "--from", backup_dir.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("encryption keys"), "{}", said(&out));
    // The keys are not part of a backup; the operator restores the key file from its own.
    assert!(!backup_dir.join("encryption.key").exists());
    std::fs::copy(
        app.dir.join("encryption.key"),
        restored_dir.join("encryption.key"),
    )
    .unwrap();
    let restored =
        TestApp::spawn_with(Backend::Sqlite, |c| c.data_dir = restored_dir.clone()).await;
    let found: Vec<String> = sqlx::query_scalar("SELECT reference FROM cases")
        .fetch_all(&restored.state.db.pool)
        .await
        .unwrap();
    for reference in &before_backup {
        assert!(
            found.contains(reference),
            "{reference} existed before the backup"
        );
    }
    // Whatever the snapshot holds is complete: every case was submitted, and its evidence
    // comes back byte for byte.
    let cw = {
        let (client, _) = restored.other_client();
        assert_eq!(
            login(&restored, &client, "cw@stuttgart.example", PW)
                .await
                .status(),
            303
        );
        client
    };
    let all = submitted.lock().unwrap().clone();
    for reference in &found {
        let want = all
            .get(reference)
            .unwrap_or_else(|| panic!("{reference} was never submitted"));
        assert_eq!(
            &download(&restored, &cw, reference).await,
            want,
            "{reference}"
        );
    }
    let (client, _) = restored.other_client();
    assert_eq!(
        login(&restored, &client, "anna@example.org", PW)
            .await
            .status(),
        303
    );
    let (_, list) = text(&restored, &client, "/konto/postfach").await;
    assert!(before_backup.iter().all(|r| list.contains(r.as_str())));
    println!(
        "{} cases restored, {} of them before the backup started",
        found.len(),
        before_backup.len()
    );

    for dir in [&backup_dir, &damaged, &refused_dir, &restored_dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn postgres_is_pointed_to_its_own_tools() {
    let dir = temp("pg");
    let url = format!("{}/amtsweg", common::postgres_server());
    for args in [["backup", "--to"], ["restore", "--from"]] {
        let target = dir.join("b");
        let out = amtsweg(
            &dir,
            &[args[0], args[1], target.to_str().unwrap()],
            &[("DATABASE_URL", url.as_str())],
        );
        assert!(!out.status.success());
        let text = said(&out);
        assert!(
            text.contains("pg_dump") || text.contains("pg_restore"),
            "{text}"
        );
        assert!(text.contains("README"), "{text}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_file_lost_before_the_backup_is_reported_not_hidden() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let anna = citizen(&app, "anna@example.org").await;
    submit_with(&app, &anna, evidence(1)).await;
    let key: String = sqlx::query_scalar("SELECT storage_key FROM documents")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    std::fs::remove_file(app.dir.join("files").join(&key[..2]).join(&key)).unwrap();
    let to = temp("lost");
    let out = amtsweg(&app.dir, &["backup", "--to", to.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains(&format!("warning: file {key} is referenced")),
        "{}",
        said(&out)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(to.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["missing_files"], serde_json::json!([key]));
    let _ = std::fs::remove_dir_all(to);
}

#[tokio::test]
async fn with_object_storage_only_the_database_is_copied() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let bucket = [("AMTSWEG_STORAGE_URL", "s3://amtsweg-files/prod")];
    let to = temp("s3-backup");
    let out = amtsweg(&app.dir, &["backup", "--to", to.to_str().unwrap()], &bucket);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("object storage (s3://amtsweg-files/prod)"),
        "{}",
        said(&out)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(to.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["storage"]["files_included"], false);
    assert_eq!(
        manifest["files"].as_array().unwrap().len(),
        1,
        "the database only"
    );
    // Restored with a storage directory, every file would be missing: refused.
    let fresh = temp("s3-restore");
    let out = amtsweg(&fresh, &["restore", "--from", to.to_str().unwrap()], &[]);
    assert!(!out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("AMTSWEG_STORAGE_URL"), "{}", said(&out));
    assert!(!fresh.join("amtsweg.db").exists());
    let out = amtsweg(
        &fresh,
        &["restore", "--from", to.to_str().unwrap()],
        &bucket,
    );
    assert!(out.status.success(), "{}", said(&out));
    assert!(fresh.join("amtsweg.db").exists());
    for dir in [&to, &fresh] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
