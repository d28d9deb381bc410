//! Steps of the two-factor tests: the first login step alone, enrolment through the pages,
//! the recovery codes on their page, audit entries and session cookies.

use amtsweg_server::accounts::totp;
use amtsweg_server::time::now_ms;

use super::people::text;
use super::{csrf, enrolment_key, form, TestApp};

pub const SETTINGS: &str = "/konto/zwei-faktor";
pub const ENROL: &str = "/konto/zwei-faktor/einrichten";
pub const CODES: &str = "/konto/zwei-faktor/wiederherstellungscodes";

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Posts the password only: the first step of a login.
pub async fn password_step(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    pw: &str,
) -> String {
    let r = form(
        app,
        client,
        "/anmelden",
        "/anmelden",
        &[("email", email), ("password", pw)],
    )
    .await;
    assert_eq!(r.status(), 303);
    location(&r)
}

pub async fn audit(app: &TestApp, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT actor_label, detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
}

pub async fn count(app: &TestApp, sql: &str, email: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(email)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// The recovery codes on the page that shows them once.
pub fn codes_in(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect()
}

/// A citizen, logged in on `client`, sets up the app through the pages; returns the key and
/// the recovery codes.
pub async fn enrol(app: &TestApp, client: &reqwest::Client) -> (Vec<u8>, Vec<String>) {
    let (status, html) = text(app, client, ENROL).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<svg") && html.contains("role=\"img\""),
        "QR code inline"
    );
    let key = enrolment_key(&html);
    assert_eq!(key.len(), totp::SECRET_BYTES);
    let r = form(app, client, ENROL, ENROL, &[("code", "000000")]).await;
    let wrong_ok = totp::verify(&key, "000000", totp::step_at(now_ms()), i64::MIN).is_some();
    if !wrong_ok {
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("nicht richtig"));
    }
    let code = totp::code(&key, totp::step_at(now_ms()));
    let r = form(app, client, ENROL, ENROL, &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), CODES);
    let (_, html) = text(app, client, CODES).await;
    let codes = codes_in(&html);
    assert_eq!(codes.len(), 10);
    let r = client.get(app.url(CODES)).send().await.unwrap();
    assert_eq!(r.status(), 303, "shown once only");
    (key, codes)
}

pub async fn log_out(app: &TestApp, client: &reqwest::Client) {
    let (_, page) = text(app, client, "/").await;
    let r = client
        .post(app.url("/abmelden"))
        .form(&[("_csrf", csrf(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// The session cookie the jar holds for the app.
pub fn cookie(app: &TestApp, jar: &std::sync::Arc<reqwest::cookie::Jar>) -> String {
    use reqwest::cookie::CookieStore;
    jar.cookies(&app.address.parse().unwrap())
        .map(|h| h.to_str().unwrap().to_string())
        .unwrap_or_default()
}
