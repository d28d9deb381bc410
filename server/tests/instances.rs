//! Several stateless instances of the real binary on one PostgreSQL database and one data
//! directory, as behind a load balancer: a citizen's requests spread across them, every mail
//! goes out exactly once, and an instance stopped under load (SIGTERM) finishes what it took on.

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::smtp::Sink;
use common::{csrf, fresh_postgres_database};
use sqlx::Row;

const PARKING: &str = "99058011012000";
const CITIZEN: &str = "buergerin@amtsweg.example";
const PASSWORD: &str = "Amtsweg-Demo-2026";

/// What every instance shares: database, data directory (files), mail server.
struct Cluster {
    db_url: String,
    dir: std::path::PathBuf,
    sink: Sink,
    pool: sqlx::PgPool,
}

struct Instance {
    child: Child,
    base: String,
}

impl Cluster {
    async fn new() -> Cluster {
        let db_url = fresh_postgres_database().await;
        let dir = std::env::temp_dir().join(format!("amtsweg-instances-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Cluster {
            pool: sqlx::PgPool::connect(&db_url).await.unwrap(),
            db_url,
            dir,
            sink: Sink::start().await,
        };
        let status = cluster.command(0).arg("demo").status().unwrap();
        assert!(status.success(), "amtsweg demo");
        cluster
    }

    fn command(&self, port: u16) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_amtsweg"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AMTSWEG_")) {
            c.env_remove(key);
        }
        c.env("DATABASE_URL", &self.db_url)
            .env("AMTSWEG_DATA_DIR", &self.dir)
            .env("AMTSWEG_LISTEN", format!("127.0.0.1:{port}"))
            .env("AMTSWEG_SMTP_URL", self.sink.url())
            .env("AMTSWEG_PUBLIC_URL", "http://localhost")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        c
    }

    async fn start(&self) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = self.command(port).arg("serve").spawn().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        let started = Instant::now();
        while probe.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "instance did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Instance { child, base }
    }

    /// Waits until the outbox holds nothing pending, then until the mail server saw as many
    /// deliveries as the outbox marks sent (plus a grace period in which a duplicate would show).
    async fn mail_settled(&self) -> Vec<String> {
        let started = Instant::now();
        loop {
            let pending: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'")
                    .fetch_one(&self.pool)
                    .await
                    .unwrap();
            if pending == 0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{pending} mails still pending"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        sqlx::query("SELECT id, status FROM mail_outbox")
            .fetch_all(&self.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r.get::<String, _>(1), "sent", "every mail was sent");
                format!("<{}@amtsweg>", r.get::<String, _>(0))
            })
            .collect()
    }

    /// Every outbox row reached the mail server exactly once, and nothing else did.
    fn assert_exactly_once(&self, ids: &[String]) {
        let delivered = self.sink.deliveries();
        let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "delivered more than once: {twice:?}");
        let expected: HashSet<&String> = ids.iter().collect();
        let got: HashSet<&String> = delivered.keys().collect();
        assert_eq!(expected, got, "deliveries match the outbox");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// SIGTERM, as an orchestrator stops a container.
    fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < within, "instance did not stop in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GETs `page` on one instance and posts its form (with the token) to `action` on another.
async fn post(
    client: &reqwest::Client,
    page: (&Instance, &str),
    action: (&Instance, &str),
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let r = client
        .get(format!("{}{}", page.0.base, page.1))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let html = r.text().await.unwrap();
    assert!(html.contains("_csrf"), "GET {}: {status}", page.1);
    let token = csrf(&html);
    let mut all = fields.to_vec();
    all.push(("_csrf", &token));
    client
        .post(format!("{}{}", action.0.base, action.1))
        .form(&all)
        .send()
        .await
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "expected a redirect");
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Logs in on `on`, then fills in a parking permit moving between the instances in `hops`
/// (round robin); returns the draft id, complete up to the check page.
async fn fill_parking(client: &reqwest::Client, on: &Instance, hops: &[&Instance]) -> String {
    let r = post(
        client,
        (on, "/anmelden"),
        (on, "/anmelden"),
        &[("email", CITIZEN), ("password", PASSWORD)],
    )
    .await;
    location(&r);
    let service = format!("/leistungen/{PARKING}");
    let r = post(
        client,
        (hops[0], &service),
        (hops[1], &format!("{service}/antrag")),
        &[],
    )
    .await;
    let draft = location(&r).split('/').nth(2).unwrap().to_string();
    let pages: [(&str, &[(&str, &str)]); 3] = [
        (
            "person",
            &[
                ("given_name", "Erika"),
                ("family_name", "Mustermann"),
                ("birth_date.day", "27"),
                ("birth_date.month", "3"),
                ("birth_date.year", "1990"),
            ],
        ),
        (
            "address",
            &[
                ("street", "Eberhardstraße"),
                ("house_number", "1"),
                ("postal_code", "70173"),
                ("place", "Stuttgart"),
            ],
        ),
        ("vehicle", &[("plate", "S-AB 1234"), ("keeper", "self")]),
    ];
    for (i, (page, fields)) in pages.iter().enumerate() {
        let path = format!("/antraege/{draft}/{page}");
        let r = post(
            client,
            (hops[i % hops.len()], &path),
            (hops[(i + 1) % hops.len()], &path),
            fields,
        )
        .await;
        location(&r);
    }
    // Evidence uploaded on one instance, the page continued on the next.
    let path = format!("/antraege/{draft}/evidence");
    let html = client
        .get(format!("{}{path}", hops[2 % hops.len()].base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let part = reqwest::multipart::Part::bytes(common::apply::PNG.to_vec())
        .file_name("fahrzeugschein.png")
        .mime_str("image/png")
        .unwrap();
    let r = client
        .post(format!(
            "{}{path}/datei/registration_certificate?_csrf={}",
            hops[0].base,
            csrf(&html)
        ))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    location(&r);
    let r = post(client, (hops[1], &path), (hops[2 % hops.len()], &path), &[]).await;
    location(&r);
    let path = format!("/antraege/{draft}/period");
    let r = post(
        client,
        (hops[0], &path),
        (hops[1], &path),
        &[("months", "12")],
    )
    .await;
    assert_eq!(location(&r), format!("/antraege/{draft}/pruefen"));
    draft
}

async fn submit(
    client: &reqwest::Client,
    check: &Instance,
    on: &Instance,
    draft: &str,
) -> reqwest::Response {
    post(
        client,
        (check, &format!("/antraege/{draft}/pruefen")),
        (on, &format!("/antraege/{draft}/absenden")),
        &[("declaration", "yes")],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_moves_between_three_instances_and_every_mail_goes_out_once() {
    let cluster = Cluster::new().await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let c = cluster.start().await;

    // Logged in on A, the draft continued on B and C, submitted on C, confirmed on B.
    let citizen = browser();
    let draft = fill_parking(&citizen, &a, &[&b, &c, &a]).await;
    let r = submit(&citizen, &a, &c, &draft).await;
    let confirmation = location(&r);
    let page = citizen
        .get(format!("{}{confirmation}", b.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "aw-reference\"><strong>";
    let i = page.find(marker).expect("confirmation shows the reference") + marker.len();
    let reference = page[i..].split('<').next().unwrap().trim().to_string();
    // Submitting the same draft again on another instance changes nothing.
    let again = post(
        &citizen,
        (&b, "/konto"),
        (&a, &format!("/antraege/{draft}/absenden")),
        &[("declaration", "yes")],
    )
    .await;
    assert_eq!(location(&again), confirmation);
    // The citizen's postbox on each instance shows the case; the evidence downloads anywhere.
    for instance in [&a, &b, &c] {
        let html = citizen
            .get(format!("{}/konto/postfach", instance.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&reference), "postbox on {}", instance.base);
    }
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE draft_id = $1")
        .bind(&draft)
        .fetch_one(&cluster.pool)
        .await
        .unwrap();
    assert_eq!(cases, 1);

    // Three mail workers race for a burst of 300 mails.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for i in 0..300 {
        sqlx::query(
            "INSERT INTO mail_outbox (id, recipient, subject, body_text, body_html, next_attempt_at, created_at)
             VALUES ($1, 'burst@example.org', $2, 'Text', '<p>Text</p>', $3, $3)",
        )
        .bind(format!("burst-{i:03}"))
        .bind(format!("Burst {i}"))
        .bind(now)
        .execute(&cluster.pool)
        .await
        .unwrap();
    }
    let ids = cluster.mail_settled().await;
    assert!(
        ids.len() > 300,
        "the submission's mails are in the outbox too"
    );
    cluster.assert_exactly_once(&ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_stopped_under_load_finishes_its_requests_and_loses_nothing() {
    let cluster = Cluster::new().await;
    let a = cluster.start().await;
    let b = cluster.start().await;
    let citizen = browser();
    let draft = fill_parking(&citizen, &a, &[&a, &b, &a]).await;
    const DRAFTS: usize = 120;
    let status = cluster
        .command(0)
        .args([
            "seed",
            "drafts",
            "--like",
            &draft,
            "--count",
            &DRAFTS.to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let html = citizen
        .get(format!("{}/antraege/{draft}/pruefen", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&html);
    let cookies = citizen
        .get(format!("{}/konto", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(cookies.status(), 200);

    // Submissions go to A, 16 at a time, each on a fresh connection; A is stopped a moment
    // into the run. A request A no longer takes is retried on B, as a load balancer would.
    let queue = std::sync::Arc::new(std::sync::Mutex::new((0..DRAFTS).collect::<Vec<_>>()));
    let mut a = a;
    let (a_base, b_base) = (a.base.clone(), b.base.clone());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (queue, token, citizen) = (queue.clone(), token.clone(), citizen.clone());
            let (a_base, b_base) = (a_base.clone(), b_base.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                loop {
                    let Some(n) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let id = format!("seed-draft-{n}");
                    let form = [("_csrf", token.as_str()), ("declaration", "yes")];
                    let mut on_a = true;
                    let r = loop {
                        let base = if on_a { &a_base } else { &b_base };
                        match citizen
                            .post(format!("{base}/antraege/{id}/absenden"))
                            .header("connection", "close")
                            .form(&form)
                            .send()
                            .await
                        {
                            Ok(r) => break r,
                            Err(e) => {
                                assert!(on_a, "instance B failed: {e}");
                                on_a = false;
                            }
                        }
                    };
                    outcomes.push((id, on_a, r.status().as_u16()));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                outcomes
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.terminate();
    let exit = a.wait_exit(Duration::from_secs(20)).await;
    assert!(exit.success(), "instance A stopped cleanly: {exit:?}");
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.unwrap());
    }
    assert_eq!(outcomes.len(), DRAFTS);
    let bad: Vec<_> = outcomes.iter().filter(|o| o.2 != 303).collect();
    assert!(bad.is_empty(), "every submission confirmed: {bad:?}");
    let on_a = outcomes.iter().filter(|o| o.1).count();
    assert!(
        on_a > 0 && on_a < DRAFTS,
        "the stop fell into the run ({on_a} of {DRAFTS} on A)"
    );
    // Every draft became exactly one case; none is left over or doubled.
    let rows = sqlx::query(
        "SELECT draft_id, COUNT(*) FROM cases WHERE draft_id LIKE 'seed-draft-%' GROUP BY draft_id",
    )
    .fetch_all(&cluster.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), DRAFTS);
    assert!(rows.iter().all(|r| r.get::<i64, _>(1) == 1));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM drafts WHERE id LIKE 'seed-draft-%'")
        .fetch_one(&cluster.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    // B's worker sends what A queued and did not send before it stopped; nothing twice.
    let ids = cluster.mail_settled().await;
    cluster.assert_exactly_once(&ids);
    drop(b);
}
