//! Applying under load: a form page next to /healthz (same run, 64 connections), and
//! submissions per second with their p99, on SQLite (default) or PostgreSQL
//! (BENCH_DATABASE_URL=postgres://…/empty_db).
//!
//!   cargo build --release -p amtsweg-server && cargo bench -p amtsweg-server --bench applications

use std::sync::Arc;
use std::time::Instant;

use sqlx::any::AnyPoolOptions;

mod support;

use support::{load, pct, token, Server, CONNECTIONS};

const SUBMISSIONS: usize = 3000;
const PASSWORD: &str = "Fahrrad Hafen Regen Lampe";

#[tokio::main]
async fn main() {
    let mut server = Server::prepare("apply");
    server.run(&[
        "user",
        "create",
        "--email",
        "bench@example.org",
        "--role",
        "citizen",
        "--no-mail",
    ]);
    server.start().await;
    let base = server.base.clone();
    let backend = server.backend;
    let db_url = server.db_url.clone();
    // Log in and fill in one resident parking permit up to the check page.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let page = client.get(format!("{base}{path}")).send().await.unwrap();
            let status = page.status();
            let html = page.text().await.unwrap();
            assert!(html.contains("_csrf"), "GET {path}: {status}");
            let mut f = fields;
            f.push(("_csrf", token(&html)));
            client
                .post(format!("{base}{path}"))
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(
        "/anmelden".into(),
        vec![
            ("email", "bench@example.org".into()),
            ("password", PASSWORD.into()),
        ],
    )
    .await;
    assert_eq!(
        r.status(),
        303,
        "login: {}",
        r.text()
            .await
            .unwrap_or_default()
            .chars()
            .take(3000)
            .collect::<String>()
    );
    let r = client
        .get(format!("{base}/leistungen/99058011012000"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let html = r.text().await.unwrap();
    assert!(html.contains("_csrf"), "service page: {status}");
    let r = client
        .post(format!("{base}/leistungen/99058011012000/antrag"))
        .form(&[("_csrf", token(&html))])
        .send()
        .await
        .unwrap();
    let draft = r.headers()["location"]
        .to_str()
        .unwrap()
        .split('/')
        .nth(2)
        .unwrap()
        .to_string();
    let s = |v: &str| v.to_string();
    post(
        format!("/antraege/{draft}/person"),
        vec![
            ("given_name", s("Erika")),
            ("family_name", s("Mustermann")),
            ("birth_date.day", s("27")),
            ("birth_date.month", s("3")),
            ("birth_date.year", s("1990")),
        ],
    )
    .await;
    post(
        format!("/antraege/{draft}/address"),
        vec![
            ("street", s("Eberhardstraße")),
            ("house_number", s("1")),
            ("postal_code", s("70173")),
            ("place", s("Stuttgart")),
        ],
    )
    .await;
    post(
        format!("/antraege/{draft}/vehicle"),
        vec![("plate", s("S-AB 1234")), ("keeper", s("self"))],
    )
    .await;
    // The evidence page needs a file: attach one directly so the draft is complete.
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&db_url)
        .await
        .unwrap();
    let uid: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'bench@example.org'")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO documents (id, user_id, storage_key, file_name, content_type, size, sha256, created_at) VALUES ('bench-doc', $1, '00000000000000000000000000000000', 'scan.pdf', 'application/pdf', 1, 'x', 0)")
        .bind(&uid).execute(&pool).await.unwrap();
    let raw: String = sqlx::query_scalar("SELECT answers FROM drafts WHERE id = $1")
        .bind(&draft)
        .fetch_one(&pool)
        .await
        .unwrap();
    // Drafts are stored encrypted, with the key the server generated in its data directory;
    // the copies below are written as (legacy) plaintext, which the server reads as well.
    let keyring = amtsweg_server::crypto::Keyring::read_file(
        &server
            .dir
            .join(amtsweg_server::crypto::keyring::DEFAULT_FILE),
    )
    .unwrap();
    let raw = amtsweg_server::crypto::Vault::new(keyring)
        .open(&pool, raw)
        .await
        .unwrap();
    let mut answers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&raw).unwrap();
    answers.insert(
        "registration_certificate".into(),
        serde_json::json!(["bench-doc"]),
    );
    answers.insert(
        "registration_certificate#files".into(),
        serde_json::json!(["scan.pdf (1 KB)"]),
    );
    answers.insert("months".into(), serde_json::json!("12"));
    let answers = serde_json::Value::Object(answers).to_string();
    let form_url = format!("{base}/antraege/{draft}/vehicle");

    // Form page next to /healthz.
    let health = load(&client, &format!("{base}/healthz"), 10).await;
    let form = load(&client, &form_url, 10).await;

    // Submissions: SUBMISSIONS complete drafts, sent by CONNECTIONS clients at once.
    let mut ids = Vec::new();
    for i in 0..SUBMISSIONS {
        let id = format!("bench-draft-{i}");
        sqlx::query("INSERT INTO drafts (id, user_id, service_key, version, answers, created_at, updated_at) VALUES ($1, $2, '99058011012000', 1, $3, 0, 0)")
            .bind(&id).bind(&uid).bind(&answers).execute(&pool).await.unwrap();
        ids.push(id);
    }
    // Any page of the session carries its form token.
    let r = client.get(&form_url).send().await.unwrap();
    let status = r.status();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    let html = r.text().await.unwrap();
    assert!(html.contains("_csrf"), "check page: {status} {loc:?}");
    let csrf = Arc::new(token(&html));
    let queue = Arc::new(std::sync::Mutex::new(ids));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, base, queue, csrf) =
                (client.clone(), base.clone(), queue.clone(), csrf.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0;
                loop {
                    let Some(id) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let t = Instant::now();
                    let r = client
                        .post(format!("{base}/antraege/{id}/absenden"))
                        .form(&[("_csrf", csrf.as_str()), ("declaration", "yes")])
                        .send()
                        .await;
                    match r {
                        Ok(r)
                            if r.status() == 303
                                && r.headers()["location"]
                                    .to_str()
                                    .unwrap()
                                    .contains("bestaetigung") =>
                        {
                            lat.push(t.elapsed())
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&pool)
        .await
        .unwrap();
    let peak = server.peak_rss_mb();
    server.stop().await;
    let n = lat.len();
    println!(
        "### Applying ({backend}, {} cores, release build, {CONNECTIONS} concurrent clients)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!();
    println!(
        "Command: `cargo bench -p amtsweg-server --bench applications`{}",
        if backend == "PostgreSQL" {
            " with `BENCH_DATABASE_URL=postgres://…`"
        } else {
            ""
        }
    );
    println!();
    println!("| endpoint | requests/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|");
    println!(
        "| /healthz | {:.0} | {:?} | {:?} | {} |",
        health.0, health.1, health.2, health.3
    );
    println!(
        "| form page (logged in) | {:.0} | {:?} | {:?} | {} |",
        form.0, form.1, form.2, form.3
    );
    println!(
        "| submit ({SUBMISSIONS} drafts) | {:.0} | {:?} | {:?} | {} |",
        n as f64 / elapsed.as_secs_f64(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        errors
    );
    println!();
    println!(
        "Form page at {:.0} % of /healthz; {cases} cases created; server peak RSS {peak:.1} MB.",
        100.0 * form.0 / health.0
    );
    assert_eq!(
        cases as usize, SUBMISSIONS,
        "every draft became exactly one case"
    );
}
