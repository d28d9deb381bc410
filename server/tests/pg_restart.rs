//! PostgreSQL restarted under load. The test runs its own PostgreSQL cluster (Debian's
//! binaries, as the `postgres` OS user, in a temporary directory, on a free port) so that it
//! may stop it: the shared server on 5432 stays untouched. Citizens keep submitting while the
//! cluster is restarted (`pg_ctl restart -m fast`) and then stopped for longer than a request
//! waits for a connection. Meanwhile every answer is a page or the friendly 503 page (German,
//! nothing internal, `Retry-After`), within the request timeout, never a 500; `/readyz` says
//! the database is away, `/healthz` that the process lives. Afterwards the same application
//! serves again without a restart, and every submission a citizen saw confirmed exists once.
//!
//! Outside CI the test is skipped when no PostgreSQL binaries are installed or it cannot run
//! them as `postgres`; with `CI=true` that fails.

mod chaos;
mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amtsweg_server::accounts::users::{self, NewUser};
use amtsweg_server::domain::{Email, Role};
use amtsweg_server::secret::Secret;
use chaos::postgres::Cluster;
use chaos::{Citizen, Shared};
use common::{Backend, TestApp, PW};

const REQUEST_TIMEOUT_SECS: u64 = 15;

/// One answer the watcher got.
#[derive(Debug, Clone)]
struct Seen {
    path: &'static str,
    status: u16,
    took: Duration,
    retry_after: Option<String>,
    body: String,
}

/// A logged-in visitor who looks at pages (and `/readyz`, `/healthz`) every 100 ms and keeps
/// every answer that is not a plain success.
async fn watch(
    base: String,
    client: reqwest::Client,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let paths = ["/konto/antraege", "/readyz", "/healthz", "/leistungen"];
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let path = paths[i % paths.len()];
        i += 1;
        let started = Instant::now();
        let r = client.get(format!("{base}{path}")).send().await;
        let took = started.elapsed();
        let Ok(r) = r else {
            seen.lock().unwrap().push(Seen {
                path,
                status: 0,
                took,
                retry_after: None,
                body: String::new(),
            });
            continue;
        };
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = r.text().await.unwrap_or_default();
        if status != 200 || took > Duration::from_secs(1) {
            seen.lock().unwrap().push(Seen {
                path,
                status,
                took,
                retry_after,
                body,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_answer_503_while_postgres_restarts_and_recover() {
    let Some(cluster) = Cluster::create() else {
        return;
    };
    cluster.ctl("start");
    let url = cluster.url("amtsweg");
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&cluster.url("postgres"))
            .await
            .unwrap();
        sqlx::Executor::execute(&mut conn, "CREATE DATABASE amtsweg")
            .await
            .unwrap();
    }
    let mut app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.database_url = Some(Secret::new(url.clone()));
        c.request_timeout_secs = REQUEST_TIMEOUT_SECS;
    })
    .await;
    app.backend = Backend::Postgres;
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let mut emails = Vec::new();
    for i in 0..4 {
        let email = format!("last{i}@example.org");
        users::create(
            &app.state.db,
            NewUser {
                email: Email::parse(&email).unwrap(),
                password: Secret::new(PW.to_string()),
                role: Role::Citizen,
                lang: amtsweg_app::i18n::Lang::De,
                verified: true,
            },
            "http://localhost",
            false,
        )
        .await
        .unwrap();
        emails.push(email);
    }
    let (watcher, _) = app.other_client();
    assert_eq!(
        common::login(&app, &watcher, &emails[0], PW).await.status(),
        303
    );

    let shared = Arc::new(Shared::new(&app.address));
    let stop = Arc::new(AtomicBool::new(false));
    let citizens: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(i, email)| {
            let c = Citizen::new(shared.clone(), email, i as u64);
            let stop = stop.clone();
            tokio::spawn(async move { c.run(stop).await })
        })
        .collect();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let watch_stop = Arc::new(AtomicBool::new(false));
    let watching = tokio::spawn(watch(
        app.address.clone(),
        watcher,
        watch_stop.clone(),
        seen.clone(),
    ));

    tokio::time::sleep(Duration::from_secs(3)).await;
    let before_restart = shared.confirmed().len();
    let t = Instant::now();
    cluster.ctl("restart");
    println!("pg_ctl restart -m fast took {:.1?}", t.elapsed());
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Away for longer than a request waits for a connection.
    cluster.ctl("stop");
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503, "/readyz while the database is away");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "/readyz answers quickly"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process itself is fine"
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    let during_stop = shared.confirmed().len();
    cluster.ctl("start");
    println!("database away for {:.1?}", stopped.elapsed());

    // Back without restarting the application.
    let recovered = Instant::now();
    loop {
        let r = app.get("/readyz").await;
        if r.status() == 200 {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(20),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after_start = shared.confirmed().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    watch_stop.store(true, Ordering::SeqCst);
    let mut submitted = 0;
    for c in citizens {
        submitted += tokio::time::timeout(Duration::from_secs(60), c)
            .await
            .expect("citizens finish their application")
            .expect("citizen task");
    }
    watching.await.unwrap();
    assert!(
        shared.confirmed().len() > after_start,
        "submissions go through again after the restart"
    );

    let seen = seen.lock().unwrap().clone();
    let stats = shared.stats();
    let unavailable = seen.iter().filter(|s| s.status == 503).count()
        + stats
            .server_errors
            .iter()
            .filter(|e| e.starts_with("503"))
            .count();
    println!(
        "{submitted} submissions confirmed ({before_restart} before the restart, {during_stop} \
         until the stop ended, {after_start} when ready again); {unavailable} answers 503; \
         slowest watched answer {:.1?}",
        seen.iter().map(|s| s.took).max().unwrap_or_default()
    );
    let mut kinds = std::collections::BTreeMap::new();
    for s in &seen {
        *kinds.entry((s.path, s.status)).or_insert(0) += 1;
    }
    println!("watched answers that failed or took over 1 s, by path and status: {kinds:?}");
    // Only 503 (and, for /readyz, its own 503 text): never a 500, never a hang.
    for s in seen.iter().filter(|s| s.status != 200) {
        assert_eq!(s.status, 503, "{s:?}");
        if s.path == "/readyz" {
            continue;
        }
        assert!(
            s.body.contains("vorübergehend nicht erreichbar"),
            "{}",
            s.body
        );
        for internal in [
            "sqlx",
            "PoolTimedOut",
            "database",
            "Datenbank",
            "postgres",
            "error:",
        ] {
            assert!(!s.body.contains(internal), "{internal} in {}", s.body);
        }
        assert_eq!(s.retry_after.as_deref(), Some("10"), "{s:?}");
    }
    for s in &seen {
        assert!(
            s.took < Duration::from_secs(REQUEST_TIMEOUT_SECS),
            "{} took {:.1?}",
            s.path,
            s.took
        );
    }
    assert_eq!(stats.forbidden, 0, "form tokens refused");
    assert!(
        stats.server_errors.iter().all(|e| e.starts_with("503 ")),
        "{:?}",
        stats.server_errors
    );
    assert!(unavailable > 0, "the outage was never noticed");

    let confirmed = shared.confirmed();
    assert_eq!(confirmed.len(), submitted);
    for (draft, reference) in &confirmed {
        let by_draft: Vec<String> =
            sqlx::query_scalar("SELECT reference FROM cases WHERE draft_id = $1")
                .bind(draft)
                .fetch_all(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(by_draft, vec![reference.clone()], "draft {draft}");
    }
    let references: HashSet<&String> = confirmed.iter().map(|(_, r)| r).collect();
    assert_eq!(references.len(), confirmed.len());
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        cases as usize,
        confirmed.len(),
        "cases nobody saw confirmed"
    );
    drop(app);
    drop(cluster);
}
