//! Test harness: starts the application on port 0 with a fresh database, on SQLite or on
//! PostgreSQL, and gives a client that keeps cookies but follows no redirects.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod apply;
pub mod fees;
pub mod mfa;
pub mod pdf;
pub mod people;
pub mod s3;
pub mod smtp;

use std::path::PathBuf;

use amtsweg_server::config::{Config, Mode};
use amtsweg_server::secret::Secret;
use amtsweg_server::state::AppState;
use amtsweg_server::Application;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub state: AppState,
    pub dir: PathBuf,
    pub backend: Backend,
}

/// Server for PostgreSQL tests; each test gets its own database created in it.
pub fn postgres_server() -> String {
    std::env::var("AMTSWEG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let server = postgres_server();
    let name = format!("amtsweg_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL for tests must be reachable (AMTSWEG_TEST_POSTGRES)");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    format!("{server}/{name}")
}

pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::for_dir(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.mode = Mode::Development;
    config.smtp_url = None;
    config.database_url = None;
    config.public_url = "http://localhost".into();
    config
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        // `AMTSWEG_TEST_LOG=debug` shows the server's log (and the causes of 500s) in a test.
        if let Ok(filter) = std::env::var("AMTSWEG_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let dir = std::env::temp_dir().join(format!("amtsweg-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = test_config(&dir);
        if backend == Backend::Postgres {
            config.database_url = Some(Secret::new(fresh_postgres_database().await));
        }
        adjust(&mut config);
        let app = Application::build(config)
            .await
            .expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = client_with(jar.clone());
        TestApp {
            address,
            client,
            jar,
            state,
            dir,
            backend,
        }
    }

    /// A second, independent browser (its own cookies) against the same server.
    pub fn other_client(&self) -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        (client_with(jar.clone()), jar)
    }

    /// The `Cookie` header this client's jar would send.
    pub fn cookies(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar
            .cookies(&self.address.parse().unwrap())
            .map(|h| h.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// Text of the newest mail the development transport wrote for `to`, waiting for it.
    pub async fn mail_text(&self, to: &str, after: usize) -> String {
        for _ in 0..100 {
            self.state.mail_wakeup.notify_one();
            let mut mails: Vec<(String, String)> = std::fs::read_dir(self.dir.join("mail"))
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                        .filter_map(|e| {
                            let v: serde_json::Value =
                                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
                            (v["to"] == to).then(|| {
                                (
                                    e.file_name().to_string_lossy().into_owned(),
                                    v["text"].as_str().unwrap_or("").to_string(),
                                )
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            mails.sort();
            if mails.len() > after {
                return mails.pop().unwrap().1;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no mail #{} for {to}", after + 1);
    }

    /// Number of mails written for `to` so far.
    pub fn mail_count(&self, to: &str) -> usize {
        std::fs::read_dir(self.dir.join("mail"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .filter(|e| {
                        std::fs::read(e.path())
                            .ok()
                            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                            .is_some_and(|v| v["to"] == to)
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

fn client_with(jar: std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar)
        .build()
        .unwrap()
}

/// The form token in a page.
pub fn csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("page has a form token") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// The first URL in a mail text that starts with `prefix` (after the host).
pub fn link(text: &str, path_prefix: &str) -> String {
    let i = text
        .find(path_prefix)
        .unwrap_or_else(|| panic!("no {path_prefix} link in {text}"));
    text[i..].split_whitespace().next().unwrap().to_string()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Defines one async test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($app: TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                run(TestApp::spawn(Backend::Sqlite).await).await
            }

            #[tokio::test]
            async fn postgres() {
                run(TestApp::spawn(Backend::Postgres).await).await
            }
        }
    };
}

pub const PW: &str = "Fahrrad Hafen Regen Lampe";

pub async fn form(
    app: &TestApp,
    client: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = client
        .get(app.url(page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&html);
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("_csrf", &token));
    client
        .post(app.url(action))
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// Registers and verifies an account through the pages, returning nothing but a usable login.
pub async fn registered(app: &TestApp, email: &str) {
    let r = form(
        app,
        &app.client,
        "/registrieren",
        "/registrieren",
        &[("email", email), ("password", PW), ("password_confirm", PW)],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let text = app.mail_text(email, 0).await;
    let path = link(&text, "/konto/bestaetigen/");
    let r = form(app, &app.client, &path, &path, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/anmelden?ok=verified");
}

/// Logs in through the form and, for an account with a second factor (or a staff account that
/// must set one up), completes the second step as its owner with the app would; returns the
/// last answer (303 when logged in).
pub async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    pw: &str,
) -> reqwest::Response {
    let r = form(
        app,
        client,
        "/anmelden",
        "/anmelden",
        &[("email", email), ("password", pw)],
    )
    .await;
    second_step(app, client, email, r).await
}

pub const STEP_PATH: &str = "/anmelden/sicherheitscode";
pub const ENROL_PATH: &str = "/anmelden/zwei-faktor-einrichten";

/// Completes the second step a password login led to (code, or enrolment of a staff account);
/// any other answer is returned as it is.
pub async fn second_step(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    r: reqwest::Response,
) -> reqwest::Response {
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string();
    match location.as_str() {
        STEP_PATH => {
            let code = totp_code(app, email).await;
            form(app, client, STEP_PATH, STEP_PATH, &[("code", &code)]).await
        }
        ENROL_PATH => {
            let html = client
                .get(app.url(ENROL_PATH))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let key = enrolment_key(&html);
            let code = totp::code(&key, totp::step_at(now_ms()));
            let token = csrf(&html);
            client
                .post(app.url(ENROL_PATH))
                .form(&[("code", code.as_str()), ("_csrf", token.as_str())])
                .send()
                .await
                .unwrap()
        }
        _ => r,
    }
}

use amtsweg_server::accounts::totp;
use amtsweg_server::time::now_ms;

/// The key an enrolment page offers for typing in (its "Schlüssel"/"Key" row).
pub fn enrolment_key(html: &str) -> Vec<u8> {
    let row = html
        .find("Schlüssel</dt>")
        .or_else(|| html.find("Key</dt>"))
        .expect("the enrolment page shows the key");
    let marker = "kern-description-list-item__value\">";
    let start = row + html[row..].find(marker).unwrap() + marker.len();
    let text = html[start..].split('<').next().unwrap();
    totp::base32_decode(text).expect("the key is Base32")
}

/// A code the account's authenticator shows now (or, if that step was used already, the next
/// one the server still accepts; waits for the clock if even that is used).
pub async fn totp_code(app: &TestApp, email: &str) -> String {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT t.secret, t.last_step FROM mfa_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("the account has a second factor");
    // Stored encrypted (or, from people.rs and the demo, as plain Base32).
    let secret = app
        .state
        .db
        .vault
        .open(&app.state.db.pool, row.get::<String, _>(0))
        .await
        .unwrap();
    let key = totp::base32_decode(&secret).unwrap();
    let last: i64 = row.get(1);
    loop {
        let ms = now_ms();
        let now = totp::step_at(ms);
        // The previous step only while it stays inside the server's window for a few seconds.
        let earliest = if totp::STEP_MS - ms.rem_euclid(totp::STEP_MS) > 5_000 {
            now - totp::WINDOW
        } else {
            now
        };
        let step = earliest.max(last + 1);
        if step <= now + totp::WINDOW {
            return totp::code(&key, step);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
