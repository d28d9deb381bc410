//! Mail server down or refusing, against a real SMTP server process (aiosmtpd from the test
//! venv, `tests/fixtures/smtp/sink.py`) that the test stops and starts: the portal keeps
//! working (registration, submission, a caseworker's message), mail waits in the outbox with
//! its attempts and errors recorded; a temporary refusal (451) is retried, a permanent one
//! (550 for an unknown mailbox) is given up at once with an alert; when the server is back,
//! every waiting mail arrives exactly once (counted by Message-ID).
//!
//! Needs `$AMTSWEG_TEST_VENV` (default `/var/tmp/amtsweg-venv`) with aiosmtpd, as `.ci/test`
//! installs it. Outside CI a missing venv skips the test; with `CI=true` it fails.

mod common;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use amtsweg_server::accounts::users::{self, NewUser};
use amtsweg_server::domain::{Email, Role};
use amtsweg_server::secret::Secret;
use base64::Engine;
use common::apply::submit_parking;
use common::people::{multipart, staff, text};
use common::{form, link, Backend, TestApp, PW};

/// The venv's Python with aiosmtpd, or `None` (outside CI) when it is missing.
fn python() -> Option<PathBuf> {
    let venv = std::env::var("AMTSWEG_TEST_VENV").unwrap_or("/var/tmp/amtsweg-venv".into());
    let python = Path::new(&venv).join("bin/python");
    let usable = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if usable {
        return Some(python);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} with aiosmtpd is missing (.ci/test installs it)",
        python.display()
    );
    eprintln!("skipped: no aiosmtpd in {venv} (run .ci/test once, or set AMTSWEG_TEST_VENV)");
    None
}

/// An SMTP server process storing what it accepts in `dir`.
struct Sink {
    python: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Sink {
    fn new(python: PathBuf) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("amtsweg-smtp-{}", uuid::Uuid::new_v4()));
        Sink {
            python,
            port,
            dir,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn start(&mut self, mode: &str) {
        self.stop();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp/sink.py");
        let mut child = Command::new(&self.python)
            .arg(script)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .arg(mode)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "SMTP server did not start");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every accepted message, raw.
    fn messages(&self) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                    .map(|e| String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How often each Message-ID arrived.
    fn by_message_id(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for m in self.messages() {
            *out.entry(header(&m, "Message-ID")).or_insert(0) += 1;
        }
        out
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn header(message: &str, name: &str) -> String {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
        .unwrap_or_default()
}

/// The plain text of a message: its parts (split at the MIME boundary) decoded from
/// quoted-printable or Base64.
fn body_text(message: &str) -> String {
    let message = message.replace("\r\n", "\n");
    let boundary = message
        .split("boundary=\"")
        .nth(1)
        .and_then(|b| b.split('"').next())
        .map(|b| format!("--{b}"))
        .unwrap_or_default();
    let parts: Vec<&str> = if boundary.is_empty() {
        vec![message.as_str()]
    } else {
        message.split(boundary.as_str()).skip(1).collect()
    };
    let mut out = String::new();
    for part in parts {
        let Some((head, body)) = part.split_once("\n\n") else {
            continue;
        };
        let head = head.to_ascii_lowercase();
        if head.contains("content-transfer-encoding: quoted-printable") {
            let joined = body.replace("=\n", "");
            let bytes = joined.as_bytes();
            let mut decoded = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                let hex = joined
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match (bytes[i], hex) {
                    (b'=', Some(b)) => {
                        decoded.push(b);
                        i += 3;
                    }
                    (c, _) => {
                        decoded.push(c);
                        i += 1;
                    }
                }
            }
            out.push_str(&String::from_utf8_lossy(&decoded));
        } else if head.contains("content-transfer-encoding: base64") {
            let compact: String = body.split_whitespace().collect();
            if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(compact) {
                out.push_str(&String::from_utf8_lossy(&b));
            }
        } else {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

type Outbox = Vec<(String, String, String, i64, Option<String>)>;

/// id, recipient, status, attempts, last error of every mail.
async fn outbox(app: &TestApp) -> Outbox {
    sqlx::query_as(
        "SELECT id, recipient, status, attempts, last_error FROM mail_outbox ORDER BY created_at",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
}

/// Waits (nudging the worker) until `done` holds for the outbox; at most `secs` seconds.
async fn until(app: &TestApp, secs: u64, what: &str, done: impl Fn(&Outbox) -> bool) -> Outbox {
    for _ in 0..secs * 10 {
        app.state.mail_wakeup.notify_one();
        let rows = outbox(app).await;
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {:#?}", outbox(app).await);
}

async fn register(app: &TestApp, email: &str) {
    let (client, _) = app.other_client();
    let r = form(
        app,
        &client,
        "/registrieren",
        "/registrieren",
        &[("email", email), ("password", PW), ("password_confirm", PW)],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

async fn run(backend: Backend) {
    let Some(python) = python() else { return };
    let mut sink = Sink::new(python);
    sink.start("accept");
    let url = sink.url();
    let app = TestApp::spawn_with(backend, |c| {
        c.smtp_url = Some(Secret::new(url));
        c.mail_timeout_secs = 5;
        c.mail_retry_secs = 1;
    })
    .await;
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    users::create(
        &app.state.db,
        NewUser {
            email: Email::parse("anna@example.org").unwrap(),
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
    let (anna, _) = app.other_client();
    assert_eq!(
        common::login(&app, &anna, "anna@example.org", PW)
            .await
            .status(),
        303
    );
    let cw = staff(
        &app,
        "cw@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "lead")],
    )
    .await;

    // The server is down: everything the portal does still works, and mail waits.
    sink.stop();
    register(&app, "bert@example.org").await;
    let reference = submit_parking(&app, &anna, "70173").await;
    let case = format!("/verwaltung/vorgaenge/{reference}");
    let r = form(&app, &cw, &case, &format!("{case}/uebernehmen"), &[]).await;
    assert_eq!(r.status(), 303);
    let r = multipart(
        &app,
        &cw,
        &case,
        &format!("{case}/nachricht"),
        &[
            ("kind", "message"),
            ("body", "Ihr Antrag ist in Bearbeitung."),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    for page in ["/", "/konto/postfach", "/konto/antraege"] {
        let (status, _) = text(&app, &anna, page).await;
        assert_eq!(status, 200, "{page}");
    }
    let waiting = until(&app, 15, "every mail waits with the reason", |rows| {
        rows.len() >= 3
            && rows.iter().all(|r| {
                r.2 == "pending" && r.4.as_deref().is_some_and(|e| e.contains("unreachable"))
            })
            && rows.iter().any(|r| r.3 >= 1)
    })
    .await;
    let recipients: Vec<&str> = waiting.iter().map(|r| r.1.as_str()).collect();
    assert!(recipients.contains(&"bert@example.org"), "{recipients:?}");
    assert!(recipients.contains(&"anna@example.org"), "{recipients:?}");
    let delayed = waiting.len();

    // The server answers but refuses: 451 (later) is retried, 550 (no such mailbox) is final.
    sink.start("refuse-data");
    register(&app, "unbekannt@example.org").await;
    let refused = until(&app, 20, "temporary and permanent refusals", |rows| {
        rows.iter()
            .any(|r| r.1 == "unbekannt@example.org" && r.2 == "failed")
            && rows
                .iter()
                .filter(|r| r.1 != "unbekannt@example.org")
                .all(|r| r.2 == "pending" && r.4.as_deref().is_some_and(|e| e.contains("451")))
    })
    .await;
    let unknown = refused
        .iter()
        .find(|r| r.1 == "unbekannt@example.org")
        .unwrap()
        .clone();
    assert_eq!(unknown.3, 1, "a permanent refusal is not retried");
    assert!(unknown.4.as_deref().unwrap().contains("550"), "{unknown:?}");
    let alerts = amtsweg_server::mail::outbox::open_alerts(&app.state.db)
        .await
        .unwrap();
    assert!(
        alerts.iter().any(|(_, m)| m.contains(&unknown.0)),
        "{alerts:?}"
    );
    assert!(sink.messages().is_empty(), "nothing was accepted yet");

    // Back: every waiting mail arrives, once.
    sink.start("accept");
    let sent = until(&app, 30, "every waiting mail delivered", |rows| {
        rows.iter()
            .all(|r| r.2 == "sent" || r.1 == "unbekannt@example.org")
    })
    .await;
    let bert = sink
        .messages()
        .into_iter()
        .find(|m| header(m, "To").contains("bert@example.org"))
        .expect("bert's verification mail arrived");
    let path = link(&body_text(&bert), "/konto/bestaetigen/");
    let (client, _) = app.other_client();
    let r = form(&app, &client, &path, &path, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/anmelden?ok=verified");
    // Whatever the worker does next, nothing arrives twice.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = until(&app, 30, "later mail delivered too", |rows| {
        rows.len() >= sent.len()
            && rows
                .iter()
                .all(|r| r.2 == "sent" || r.1 == "unbekannt@example.org")
    })
    .await;
    let arrived = sink.by_message_id();
    let delivered: Vec<_> = sent.iter().filter(|r| r.2 == "sent").collect();
    assert_eq!(arrived.len(), delivered.len(), "{arrived:?}");
    for r in &delivered {
        assert_eq!(
            arrived.get(&format!("<{}@amtsweg>", r.0)),
            Some(&1),
            "mail {} to {} arrived exactly once",
            r.0,
            r.1
        );
    }
    assert!(!sink
        .messages()
        .iter()
        .any(|m| header(m, "To").contains("unbekannt")));
    println!(
        "{backend:?}: {delayed} mails delayed while the server was down, {} delivered exactly once \
         afterwards (up to {} attempts each), 1 refused for good",
        delivered.len(),
        sent.iter().map(|r| r.3).max().unwrap_or(0)
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
