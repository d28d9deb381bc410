//! Crash safety on SQLite: the real `amtsweg` binary is killed with SIGKILL at random moments
//! while citizens log in, upload evidence and submit applications, and started again on the
//! same data directory, many times; the citizens carry on as people would (reload, send again).
//!
//! Afterwards, with the server stopped: every submission a citizen saw confirmed exists exactly
//! once (by reference and by draft), every case has the evidence it names (row, file, hash),
//! SQLite's integrity and foreign-key checks pass, and after `amtsweg storage clean` the stored
//! files are exactly those the rows refer to, with no staging file left.
//!
//! `CRASH_KILLS` (default 15) sets the number of kills and `CRASH_SEED` the seed of the random
//! moments and file sizes (printed, so a run can be repeated). Long run and its last results:
//! `server/tests/RELIABILITY.md`.

mod common;

mod chaos;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amtsweg_server::accounts::users::{self, NewUser};
use amtsweg_server::db::Db;
use amtsweg_server::domain::{Email, Role};
use amtsweg_server::secret::Secret;
use amtsweg_server::storage::Storage;
use chaos::server::Server;
use chaos::{Citizen, Shared};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const CITIZENS: usize = 4;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn submissions_survive_sigkill_at_random_moments() {
    let kills = env_number("CRASH_KILLS").unwrap_or(15);
    let seed = env_number("CRASH_SEED").unwrap_or_else(rand::random);
    println!("crash test: {kills} kills, seed {seed} (repeat with CRASH_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = std::env::temp_dir().join(format!("amtsweg-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_url = format!("sqlite://{}", dir.join("amtsweg.db").display());

    // Demo services and rules, and verified citizens, written before the first start.
    let db = Db::connect(&db_url, 2).await.unwrap();
    db.migrate().await.unwrap();
    amtsweg_server::demo::load(&db, "http://localhost")
        .await
        .unwrap();
    let mut emails = Vec::new();
    for i in 0..CITIZENS {
        let email = format!("crash{i}@example.org");
        let user = NewUser {
            email: Email::parse(&email).unwrap(),
            password: Secret::new(common::PW.to_string()),
            role: Role::Citizen,
            lang: amtsweg_app::i18n::Lang::De,
            verified: true,
        };
        users::create(&db, user, "http://localhost", false)
            .await
            .unwrap();
        emails.push(email);
    }
    db.pool.close().await;

    let started = Instant::now();
    let mut server = Server::start(&dir);
    let shared = Arc::new(Shared::new(&server.base));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(i, email)| {
            let citizen = Citizen::new(shared.clone(), email, seed.wrapping_add(i as u64));
            let stop = stop.clone();
            tokio::spawn(async move { citizen.run(stop).await })
        })
        .collect();

    for _ in 0..kills {
        // A random moment: early ones hit start-up and log-in, later ones uploads and submits.
        let wait = rng.gen_range(150..1500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill();
        server = Server::start(&dir);
        shared.set_base(&server.base);
    }
    // Everyone finishes the application in hand against a server that stays up.
    stop.store(true, Ordering::SeqCst);
    let mut submitted = 0;
    for c in clients {
        submitted += tokio::time::timeout(Duration::from_secs(60), c)
            .await
            .expect("citizens finish their application")
            .expect("citizen task");
    }
    server.kill();
    let stats = shared.stats();
    let server_errors = server.error_lines();
    println!(
        "{kills} kills survived in {:.1?}: {submitted} submissions confirmed, {} uploads confirmed; \
         requests cut off by a kill: {} uploads, {} submits, {} other; {} re-sent submits",
        started.elapsed(),
        stats.uploads,
        stats.cut_uploads,
        stats.cut_submits,
        stats.cut_other,
        stats.resubmits,
    );
    assert!(submitted > 0, "no submission got through");
    assert!(
        stats.cut_uploads + stats.cut_submits + stats.cut_other > 0 || kills == 0,
        "no kill hit a request"
    );
    assert_eq!(stats.forbidden, 0, "form tokens refused");
    assert!(
        stats.server_errors.is_empty(),
        "answers with a server error: {:?}\nserver log errors: {server_errors:?}",
        stats.server_errors
    );

    // The database, with the server stopped, and the key file the server generated.
    let keyring = amtsweg_server::crypto::Keyring::read_file(
        &dir.join(amtsweg_server::crypto::keyring::DEFAULT_FILE),
    )
    .unwrap();
    let db = Db::connect(&db_url, 2).await.unwrap().with_keys(keyring);
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(integrity, vec!["ok".to_string()]);
    let broken_keys: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert!(broken_keys.is_empty(), "{broken_keys:?}");

    let confirmed = shared.confirmed();
    assert_eq!(confirmed.len(), submitted);
    for (draft, reference) in &confirmed {
        let by_draft: Vec<String> =
            sqlx::query_scalar("SELECT reference FROM cases WHERE draft_id = $1")
                .bind(draft)
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(by_draft, vec![reference.clone()], "draft {draft}");
        let by_reference: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE reference = $1")
                .bind(reference)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(by_reference, 1, "reference {reference}");
    }
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let distinct: HashSet<&String> = confirmed.iter().map(|(_, r)| r).collect();
    assert_eq!(distinct.len(), confirmed.len(), "one reference per draft");
    // A submit cut off after its commit is confirmed by the repeat, so every case was seen.
    assert_eq!(
        cases as usize,
        confirmed.len(),
        "cases nobody saw confirmed"
    );

    let storage = Storage::local(dir.join("files"));
    check_evidence(&db, &storage).await;

    // Clean-up as an operator runs it; nothing is younger than the grace period that matters.
    let clean = chaos::server::clean(&dir);
    println!("storage clean: {clean:?}");
    assert_eq!(clean.get("rows with missing file"), Some(&0), "{clean:?}");
    let mut referenced: Vec<String> = sqlx::query_scalar("SELECT storage_key FROM documents")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    referenced.sort();
    let mut stored = storage.keys().await.unwrap();
    stored.sort();
    assert_eq!(stored, referenced, "no orphaned file, no missing one");
    assert!(
        storage.temp_files().is_empty(),
        "{:?}",
        storage.temp_files()
    );
    println!(
        "figures: kills={kills} confirmed={submitted} orphans_removed={} staging_removed={} seed={seed}",
        clean.get("orphaned files").copied().unwrap_or(0),
        clean.get("stale staging files").copied().unwrap_or(0),
    );
    db.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every case's evidence, as its answers name it: the link row, the document row and the
/// stored file with the recorded size and SHA-256.
async fn check_evidence(db: &Db, storage: &Storage) {
    let cases: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, reference, answers FROM cases")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let links: Vec<(String, String)> =
        sqlx::query_as("SELECT case_id, document_id FROM case_documents")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let links: HashSet<(String, String)> = links.into_iter().collect();
    let docs: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT id, storage_key, size, sha256 FROM documents")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let docs: HashMap<String, (String, i64, String)> = docs
        .into_iter()
        .map(|(id, key, size, sha)| (id, (key, size, sha)))
        .collect();
    for (case_id, reference, answers) in cases {
        let answers = db.vault.open(&db.pool, answers).await.unwrap();
        let answers: serde_json::Value = serde_json::from_str(&answers).unwrap();
        let files = answers["registration_certificate"]
            .as_array()
            .unwrap_or_else(|| panic!("case {reference} names no evidence: {answers}"));
        assert!(!files.is_empty(), "case {reference} without its evidence");
        for f in files {
            let doc = f["document_id"].as_str().unwrap().to_string();
            assert!(
                links.contains(&(case_id.clone(), doc.clone())),
                "case {reference}: evidence {doc} not linked"
            );
            let (key, size, sha) = docs
                .get(&doc)
                .unwrap_or_else(|| panic!("case {reference}: document {doc} missing"));
            assert_eq!(f["sha256"].as_str(), Some(sha.as_str()));
            assert_eq!(f["size"].as_i64(), Some(*size));
            let mut stream = db
                .vault
                .open_file(&db.pool, storage, key)
                .await
                .unwrap_or_else(|e| panic!("case {reference}: file of {doc}: {e}"));
            let mut hasher = Sha256::new();
            let mut n = 0;
            while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                let chunk = chunk.unwrap();
                n += chunk.len() as i64;
                hasher.update(&chunk);
            }
            assert_eq!(n, *size, "case {reference}: file of {doc} cut short");
            assert_eq!(&hex::encode(hasher.finalize()), sha);
        }
    }
}
