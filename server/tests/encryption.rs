//! Encryption at rest on SQLite and PostgreSQL: after an application with evidence and a
//! message with an attachment, neither the database rows nor the files under the data
//! directory contain the answers, the message or the files in plaintext; the pages, the
//! download and the export still show them; the inbox still finds the case by name. After a
//! rotation to a new deployment key a server with only that key reads everything; with a
//! wrong key it answers with an error page that gives nothing away.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use amtsweg_server::crypto::Keyring;
use amtsweg_server::db::Db;
use amtsweg_server::domain::Role;
use amtsweg_server::secret::Secret;
use common::apply::{page_with, start_with, upload_with, PARKING};
use common::people::{citizen, href, multipart, staff, text};
use common::{csrf, login, Backend, TestApp, PW};
use sqlx::Row;

const STREET: &str = "Verschwiegenheitsgasse";
const PLATE: &str = "S-QZ 4711";
const MESSAGE: &str = "Vertrauliche Rueckmeldung zum Fahrzeugschein";
const CW: &str = "cw@stuttgart.example";
const CITIZEN: &str = "anna@example.org";

/// A PNG (by its first bytes) larger than two encryption chunks, with a marker in it.
fn evidence() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    while v.len() < 150 * 1024 {
        v.extend_from_slice(b"EVIDENCE-MARKER-7f3a ");
    }
    v
}

fn attachment() -> Vec<u8> {
    b"%PDF-1.4\n% ATTACHMENT-MARKER-91c2\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec()
}

/// Every marker that must never be stored in plaintext.
fn markers() -> Vec<Vec<u8>> {
    vec![
        STREET.as_bytes().to_vec(),
        PLATE.as_bytes().to_vec(),
        MESSAGE.as_bytes().to_vec(),
        b"EVIDENCE-MARKER-7f3a".to_vec(),
        b"ATTACHMENT-MARKER-91c2".to_vec(),
    ]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Applies with evidence as a citizen; returns the reference.
async fn apply(app: &TestApp, client: &reqwest::Client) -> String {
    let draft = start_with(app, client, PARKING).await;
    let pages: [(&str, Vec<(&str, &str)>); 3] = [
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
                ("street", STREET),
                ("house_number", "1"),
                ("postal_code", "70173"),
                ("place", "Stuttgart"),
            ],
        ),
        ("vehicle", vec![("plate", PLATE), ("keeper", "self")]),
    ];
    for (page, fields) in pages {
        let r = page_with(app, client, &draft, page, &fields).await;
        assert_eq!(r.status(), 303, "{page}: {}", r.text().await.unwrap());
    }
    let r = upload_with(
        app,
        client,
        &draft,
        "evidence",
        "registration_certificate",
        "fahrzeugschein.png",
        evidence(),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    page_with(app, client, &draft, "evidence", &[]).await;
    let r = page_with(app, client, &draft, "period", &[("months", "12")]).await;
    assert_eq!(
        r.headers()["location"],
        format!("/antraege/{draft}/pruefen")
    );
    let (_, check) = text(app, client, &format!("/antraege/{draft}/pruefen")).await;
    let r = client
        .post(app.url(&format!("/antraege/{draft}/absenden")))
        .form(&[("_csrf", csrf(&check).as_str()), ("declaration", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let reference: String = sqlx::query_scalar("SELECT reference FROM cases WHERE draft_id = $1")
        .bind(&draft)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    reference
}

/// Every text value of every table, as the database returns it.
async fn all_values(db: &Db) -> Vec<(String, String)> {
    let tables: Vec<String> = match db.backend {
        amtsweg_server::db::Backend::Sqlite => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ),
        amtsweg_server::db::Backend::Postgres => sqlx::query_scalar(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
        ),
    }
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for t in tables {
        // Cast every column to text on PostgreSQL (bytea, arrays); SQLite stores text anyway.
        let rows = sqlx::query(&format!("SELECT * FROM {t}"))
            .fetch_all(&db.pool)
            .await
            .unwrap_or_default();
        for r in rows {
            for i in 0..r.len() {
                if let Ok(Some(v)) = r.try_get::<Option<String>, _>(i) {
                    out.push((t.clone(), v));
                }
            }
        }
    }
    out
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every link in `html` that starts with `prefix`.
fn hrefs(html: &str, prefix: &str) -> Vec<String> {
    let needle = format!("href=\"{prefix}");
    html.match_indices(&needle)
        .map(|(i, _)| html[i + 6..].split('"').next().unwrap().to_string())
        .collect()
}

fn unzip(bytes: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP file");
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().unwrap().into_owned(), content)
        })
        .collect()
}

/// What staff and citizen see: answers, evidence, message and attachment, search.
async fn everything_readable(
    app: &TestApp,
    cw: &reqwest::Client,
    anna: &reqwest::Client,
    reference: &str,
) {
    let case = format!("/verwaltung/vorgaenge/{reference}");
    let (s, page) = text(app, cw, &case).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(STREET) && page.contains(PLATE), "{page}");
    assert!(page.contains(MESSAGE));
    let mut downloads = Vec::new();
    for doc in hrefs(&page, &format!("{case}/dokumente/")) {
        let r = cw.get(app.url(&doc)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        downloads.push(r.bytes().await.unwrap().to_vec());
    }
    assert!(downloads.contains(&evidence()) && downloads.contains(&attachment()));

    let inbox = "/verwaltung/postfach/p-stuttgart-parken";
    let (_, found) = text(app, cw, &format!("{inbox}?tab=alle&q=musterm")).await;
    assert!(found.contains(reference), "name search finds the case");

    let (_, thread) = text(app, anna, &format!("/konto/postfach/{reference}")).await;
    assert!(thread.contains(MESSAGE), "{thread}");
    let att = href(&thread, &format!("/konto/postfach/{reference}/dokumente/"));
    let r = anna.get(app.url(&att)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), attachment());

    let r = cw
        .get(app.url(&format!("{case}/export.zip")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let entries = unzip(r.bytes().await.unwrap().to_vec());
    assert!(
        entries.values().any(|c| *c == evidence()),
        "evidence in the package"
    );
    assert!(entries.values().any(|c| *c == attachment()));
    let answers = entries
        .iter()
        .find(|(k, _)| k.ends_with("answers.json"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .unwrap();
    assert!(answers.contains(STREET) && answers.contains(PLATE));
}

/// `raw_database`: also the database files themselves (SQLite). After rows were rewritten in
/// place, their old versions can linger in free pages until a VACUUM, so that check is only
/// made where nothing was ever stored in plaintext.
async fn nothing_in_plaintext(app: &TestApp, raw_database: bool) {
    for (table, value) in all_values(&app.state.db).await {
        for m in markers() {
            assert!(
                !contains(value.as_bytes(), &m),
                "{table} holds {:?} in plaintext",
                String::from_utf8_lossy(&m)
            );
        }
    }
    let mut files = Vec::new();
    files_under(&app.dir, &mut files);
    if !raw_database {
        files.retain(|f| !f.to_string_lossy().contains("amtsweg.db"));
    }
    assert!(files.iter().any(|f| f.starts_with(app.dir.join("files"))));
    for f in files {
        let bytes = if f.to_string_lossy().contains("amtsweg.db") {
            // SQLite's own files are read by another process: closing a descriptor of the
            // database file in this one would drop every POSIX lock this process holds on it,
            // and a command run next (`amtsweg keys rotate`) could then take this server for
            // gone, check the log into the file and delete it under the server's connections.
            let out = std::process::Command::new("cat").arg(&f).output().unwrap();
            assert!(out.status.success(), "cat {}", f.display());
            out.stdout
        } else {
            std::fs::read(&f).unwrap()
        };
        for m in markers() {
            assert!(
                !contains(&bytes, &m),
                "{} holds {:?} in plaintext",
                f.display(),
                String::from_utf8_lossy(&m)
            );
        }
    }
}

/// Runs `amtsweg keys …` over the test server's database and data directory, as an operator
/// would; `keys` is AMTSWEG_ENCRYPTION_KEYS (none: the data directory's key file). Returns
/// whether it succeeded and what it printed.
fn keys_command(app: &TestApp, keys: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_amtsweg"));
    cmd.arg("keys")
        .args(args)
        .env("AMTSWEG_DATA_DIR", &app.dir)
        .env("DATABASE_URL", app.state.config.database_url())
        .env("RUST_LOG", "warn");
    for var in [
        "AMTSWEG_STORAGE_URL",
        "AMTSWEG_CONFIG",
        "AMTSWEG_ENCRYPTION_KEYS",
        "AMTSWEG_ENCRYPTION_KEY_FILE",
    ] {
        cmd.env_remove(var);
    }
    if let Some(k) = keys {
        cmd.env("AMTSWEG_ENCRYPTION_KEYS", k);
    }
    let o = cmd.output().expect("the amtsweg binary runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), said)
}

/// A second server over the same database and data directory with other keys.
async fn server_with_keys(first: &TestApp, keys: &str) -> TestApp {
    let dir = first.dir.clone();
    let url = first.state.config.database_url.clone();
    let keys = keys.to_string();
    TestApp::spawn_with(first.backend, move |c| {
        c.data_dir = dir;
        c.database_url = url;
        c.encryption_keys = Some(Secret::new(keys));
    })
    .await
}

/// The demo data, the citizen's application and a caseworker's message with a PDF attached:
/// the content both tests look for. Returns citizen, caseworker and the case reference.
async fn case_with_message(app: &TestApp) -> (reqwest::Client, reqwest::Client, String) {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let anna = citizen(app, CITIZEN).await;
    let reference = apply(app, &anna).await;
    let cw = staff(app, CW, Role::Caseworker, &[("p-stuttgart-parken", "lead")]).await;
    let case = format!("/verwaltung/vorgaenge/{reference}");
    let r = multipart(
        app,
        &cw,
        &case,
        &format!("{case}/nachricht"),
        &[("kind", "message"), ("body", MESSAGE)],
        &[("hinweis.pdf", &attachment())],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    (anna, cw, reference)
}

db_test!(content_is_encrypted_at_rest_and_survives_rotation, |app| {
    let (anna, cw, reference) = case_with_message(&app).await;
    let case = format!("/verwaltung/vorgaenge/{reference}");

    nothing_in_plaintext(&app, true).await;
    everything_readable(&app, &cw, &anna, &reference).await;

    // Rotate with the commands of the binary, as DEPLOYMENT.md tells operators: a new active
    // key, the old one still listed while the data keys are re-wrapped.
    let old = std::fs::read_to_string(app.dir.join("encryption.key")).unwrap();
    let old_id = Keyring::parse(&old)
        .unwrap()
        .ids()
        .next()
        .unwrap()
        .to_string();
    let (ok, new) = keys_command(&app, None, &["generate", "--id", "k-new"]);
    assert!(ok && new.starts_with("k-new:"), "{new}");
    let new = new.trim().to_string();
    assert!(Keyring::parse(&new).is_ok());
    let both = format!("{new},{}", old.trim());
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(total >= 1);
    let (ok, said) = keys_command(&app, Some(&both), &["status"]);
    assert!(ok, "{said}");
    assert!(said.contains("k-new (active): wraps 0 data keys"), "{said}");
    assert!(
        said.contains(&format!("{old_id}: wraps {total} data keys")),
        "{said}"
    );
    // One application, one data key: answers, evidence and messages share it.
    let (ok, said) = keys_command(&app, Some(&both), &["rotate"]);
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!(
            "re-wrapped {total} data keys with \"k-new\"; 0 were already"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("no data key needs {old_id} any more")),
        "{said}"
    );
    let (ok, said) = keys_command(&app, Some(&both), &["rotate"]);
    assert!(
        ok && said.contains(&format!(
            "re-wrapped 0 data keys with \"k-new\"; {total} were already"
        )),
        "idempotent: {said}"
    );
    let others: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys WHERE kek_id <> 'k-new'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(others, 0);
    // With only the old key configured, status names the key the data now needs.
    let (ok, said) = keys_command(&app, Some(&old), &["status"]);
    assert!(
        ok && said.contains(&format!("k-new (NOT CONFIGURED): wraps {total} data keys")),
        "{said}"
    );

    // Only the new key: everything still reads.
    let second = server_with_keys(&app, &new).await;
    let (cw2, _) = second.other_client();
    assert_eq!(login(&second, &cw2, CW, PW).await.status(), 303);
    let (anna2, _) = second.other_client();
    assert_eq!(login(&second, &anna2, CITIZEN, PW).await.status(), 303);
    everything_readable(&second, &cw2, &anna2, &reference).await;

    // A wrong key: an error page, no panic, nothing about keys or the cause.
    let wrong = Keyring::generate_line("k-wrong").unwrap();
    let third = server_with_keys(&app, &wrong).await;
    let (cw3, _) = third.other_client();
    assert_eq!(login(&third, &cw3, CW, PW).await.status(), 303);
    let (s, page) = text(&third, &cw3, &case).await;
    assert_eq!(s, 500);
    for leak in [
        "k-new",
        "k-wrong",
        "data key",
        "deployment",
        "decrypt",
        STREET,
    ] {
        assert!(!page.contains(leak), "{leak} in {page}");
    }
    let (anna3, _) = third.other_client();
    assert_eq!(login(&third, &anna3, CITIZEN, PW).await.status(), 303);
    let (s, _) = text(&third, &anna3, &format!("/konto/postfach/{reference}")).await;
    assert_eq!(s, 500);
    // The server keeps serving what needs no key.
    assert_eq!(third.get("/healthz").await.status(), 200);
});

db_test!(
    legacy_plaintext_is_read_and_encrypted_by_the_command,
    |app| {
        let (anna, cw, reference) = case_with_message(&app).await;

        // Turn it into what a version before encryption stored: plaintext rows and files.
        let db = &app.state.db;
        let (case_id, answers): (String, String) =
            sqlx::query_as("SELECT id, answers FROM cases WHERE reference = $1")
                .bind(&reference)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        let plain = db.vault.open(&db.pool, answers).await.unwrap();
        sqlx::query("UPDATE cases SET answers = $1, data_key_id = NULL WHERE id = $2")
            .bind(&plain)
            .bind(&case_id)
            .execute(&db.pool)
            .await
            .unwrap();
        let bodies: Vec<(String, String)> = sqlx::query_as("SELECT id, body FROM messages")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for (id, body) in bodies {
            let body = db.vault.open(&db.pool, body).await.unwrap();
            sqlx::query("UPDATE messages SET body = $1 WHERE id = $2")
                .bind(body)
                .bind(id)
                .execute(&db.pool)
                .await
                .unwrap();
        }
        let docs: Vec<(String, String)> = sqlx::query_as("SELECT id, storage_key FROM documents")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for (id, key) in docs {
            let mut stream = db
                .vault
                .open_file(&db.pool, &app.state.storage, &key)
                .await
                .unwrap();
            let mut upload = app.state.storage.begin().await.unwrap();
            while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                upload.write(&chunk.unwrap()).await.unwrap();
            }
            let new_key = app.state.storage.commit(upload).await.unwrap();
            sqlx::query("UPDATE documents SET storage_key = $1, data_key_id = NULL WHERE id = $2")
                .bind(&new_key)
                .bind(&id)
                .execute(&db.pool)
                .await
                .unwrap();
            app.state.storage.delete(&key).await.unwrap();
        }
        sqlx::query("DELETE FROM data_keys")
            .execute(&db.pool)
            .await
            .unwrap();
        let raw = std::fs::read(
            app.state
                .storage
                .keys()
                .await
                .unwrap()
                .first()
                .map(|k| app.dir.join("files").join(&k[..2]).join(k))
                .unwrap(),
        )
        .unwrap();
        assert!(!raw.starts_with(b"AWE1"), "a plaintext file again");

        // Read as they are ...
        everything_readable(&app, &cw, &anna, &reference).await;
        // ... and encrypted by the binary's command, once.
        let (ok, said) = keys_command(&app, None, &["encrypt-existing"]);
        assert!(ok, "{said}");
        assert!(
            said.contains("1 cases, 1 messages,") && said.contains(" 2 files"),
            "{said}"
        );
        assert!(
            !said.contains(" 0 TOTP keys"),
            "the caseworker's TOTP key: {said}"
        );
        let (ok, said) = keys_command(&app, None, &["encrypt-existing"]);
        assert!(ok, "{said}");
        assert!(
            said.contains(
                "encrypted: 0 drafts, 0 cases, 0 messages, 0 notes, 0 TOTP keys, 0 files"
            ),
            "nothing twice: {said}"
        );
        nothing_in_plaintext(&app, false).await;
        everything_readable(&app, &cw, &anna, &reference).await;
        let (cw2, _) = app.other_client();
        assert_eq!(
            login(&app, &cw2, CW, PW).await.status(),
            303,
            "TOTP still works"
        );
    }
);

#[tokio::test]
async fn malformed_keys_stop_the_start_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("amtsweg-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = common::test_config(&dir);
    config.encryption_keys = Some(Secret::new("k1:not-base64!".into()));
    let err = amtsweg_server::Application::build(config)
        .await
        .err()
        .map(|e| e.to_string())
        .expect("refused");
    assert!(err.contains("k1") && err.contains("base64"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_default_key_file_is_private() {
    let dir = std::env::temp_dir().join(format!("amtsweg-test-{}", uuid::Uuid::new_v4()));
    let config = common::test_config(&dir);
    let first = config.keyring().unwrap();
    let again = config.keyring().unwrap();
    assert_eq!(first.active().id, again.active().id, "created once");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("encryption.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
