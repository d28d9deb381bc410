//! Webhooks on SQLite and PostgreSQL: an administrator adds an endpoint and sees its secret
//! once; a receiver in this process verifies every request as the Standard Webhooks
//! specification says (with its own HMAC, not the server's code), fails the first one and sees
//! it retried under the same id; submissions, citizen replies and paid notices arrive; an
//! endpoint failing for a day is disabled with an alert; concurrent workers send each delivery
//! once.

mod common;
#[path = "webhooks/receiver.rs"]
mod receiver;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use amtsweg_server::domain::{Money, Role};
use amtsweg_server::payments::camt::{write_sample_statement, CamtVersion, SampleCredit};
use amtsweg_server::webhooks::{self, worker::WebhookWorker, Event};
use common::apply::submit_parking;
use common::fees::{in_days, issue, notices, world, World};
use common::people::{href, multipart, staff, text};
use common::{csrf, form, Backend, TestApp};
use receiver::{receiver, until, Receiver};

const POSTBOX: &str = "p-stuttgart-parken";
const PAGE: &str = "/verwaltung/admin/postfaecher/p-stuttgart-parken/webhooks";

/// Like `db_test!`, with retries a second apart instead of five.
macro_rules! webhook_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            use super::*;

            async fn run($app: TestApp) $body

            #[tokio::test]
            async fn sqlite() {
                run(spawn(Backend::Sqlite).await).await
            }

            #[tokio::test]
            async fn postgres() {
                run(spawn(Backend::Postgres).await).await
            }
        }
    };
}

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| c.webhook_retry_secs = 1).await
}

/// Adds an endpoint through the page; returns the secret shown once.
async fn add_endpoint(
    app: &TestApp,
    admin: &reqwest::Client,
    url: &str,
    events: &[&str],
) -> String {
    let mut fields = vec![("url", url)];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let r = form(app, admin, PAGE, PAGE, &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], format!("{PAGE}?ok=created"));
    let (_, page) = text(app, admin, &format!("{PAGE}?ok=created")).await;
    let start = page.find("whsec_").expect("secret shown after creation");
    let secret: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '/' | '='))
        .collect();
    let (_, again) = text(app, admin, PAGE).await;
    assert!(!again.contains("whsec_"), "shown once only");
    secret
}

async fn import(w: &World, credits: Vec<SampleCredit>) {
    let mut bytes = Vec::new();
    write_sample_statement(&mut bytes, CamtVersion::V08, credits.into_iter()).unwrap();
    let (_, page) = text(&w.app, &w.cw, "/verwaltung/zahlungen").await;
    let token = csrf(&page);
    let form = reqwest::multipart::Form::new()
        .text("authority", "a-stuttgart")
        .part(
            "statement",
            reqwest::multipart::Part::bytes(bytes).file_name("auszug.xml"),
        );
    let url = w
        .app
        .url(&format!("/verwaltung/zahlungen/import?_csrf={token}"));
    let r = w.cw.post(url).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

fn credit(entry_ref: &str, cents: i64, reference: &str) -> SampleCredit {
    SampleCredit {
        entry_ref: entry_ref.into(),
        amount: Money(cents),
        debtor_name: "Erika Mustermann".into(),
        debtor_iban: "DE02120300000000202051".into(),
        reference: Some(reference.into()),
        unstructured: Vec::new(),
        booked: true,
        credit: true,
        booking_date: in_days(0),
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// Waits until `sql` counts `n`: the worker runs on its own schedule.
async fn wait_count(app: &TestApp, sql: &str, n: i64) {
    for _ in 0..200 {
        if count(app, sql).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {n}: {sql}");
}

webhook_test!(events_arrive_signed_and_are_retried, |app| {
    let w = world(app).await;
    let app = &w.app;
    let admin = staff(app, "root@stuttgart.example", Role::Admin, &[]).await;
    let inbox = Arc::new(Receiver::default());
    inbox.fail_first.store(true, Ordering::SeqCst);
    let hook = receiver(inbox.clone()).await;

    // The postbox page leads to the webhooks; bad entries are explained and kept.
    let (_, page) = text(
        app,
        &admin,
        &format!("/verwaltung/admin/postfaecher/{POSTBOX}"),
    )
    .await;
    assert!(page.contains(&format!("href=\"{PAGE}\"")), "{page}");
    let r = form(app, &admin, PAGE, PAGE, &[("url", "ftp://bo.example.de/x")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("mit https:// beginnen") && page.contains("mindestens ein Ereignis"));
    assert!(page.contains("value=\"ftp://bo.example.de/x\""));
    let r = form(
        app,
        &admin,
        PAGE,
        PAGE,
        &[
            ("url", "https://u:pw@bo.example.de/"),
            ("events", "fee.paid"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("kein Passwort"));

    let secret = add_endpoint(
        app,
        &admin,
        &hook,
        &["submission.received", "citizen.replied", "fee.paid"],
    )
    .await;
    *inbox.secret.lock().unwrap() = secret;

    // A new submission: refused once, retried under the same id, signed both times.
    let reference = submit_parking(app, &w.anna, "70173").await;
    let seen = until("the retry", || {
        let s = inbox.seen();
        (s.len() >= 2).then_some(s)
    })
    .await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].answered, seen[1].answered), (500, 204));
    assert_eq!(seen[0].id, seen[1].id);
    assert!(seen.iter().all(|s| s.verified));
    let body = &seen[1].body;
    assert_eq!(body["type"], "submission.received");
    assert_eq!(body["data"]["case_reference"], reference.as_str());
    assert_eq!(body["data"]["postbox_id"], POSTBOX);
    assert!(time::OffsetDateTime::parse(
        body["timestamp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    assert!(
        !body.to_string().contains("Mustermann"),
        "identifiers only: {body}"
    );

    // The history shows both attempts (once the worker has recorded the answer it just got).
    let delivered = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'";
    wait_count(app, delivered, 1).await;
    let (_, list) = text(app, &admin, PAGE).await;
    assert!(
        !list.contains("scheitern seit"),
        "a success ends the failure run"
    );
    let history = href(&list, &format!("{PAGE}/"));
    let (s, page) = text(app, &admin, &history).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("submission.received") && page.contains("Zugestellt"),
        "{page}"
    );
    assert!(
        page.contains(">2<") && page.contains("HTTP 500") && page.contains(">204<"),
        "{page}"
    );

    // The citizen answers a request for information.
    let case = format!("/verwaltung/vorgaenge/{reference}");
    assert_eq!(
        form(app, &w.cw, &case, &format!("{case}/uebernehmen"), &[])
            .await
            .status(),
        303
    );
    let deadline = in_days(7);
    let fields = [
        ("kind", "request"),
        ("body", "Bitte Nachweis nachreichen."),
        ("deadline", deadline.as_str()),
    ];
    let r = multipart(
        app,
        &w.cw,
        &case,
        &format!("{case}/nachricht"),
        &fields,
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    let thread = format!("/konto/postfach/{reference}");
    let (_, page) = text(app, &w.anna, &thread).await;
    let action = {
        let i = page
            .find(&format!("action=\"{thread}/antwort/"))
            .expect("reply form")
            + 8;
        page[i..].split('?').next().unwrap().to_string()
    };
    let r = multipart(app, &w.anna, &thread, &action, &[("body", "Anbei.")], &[]).await;
    assert_eq!(r.status(), 303);
    let replied = until("citizen.replied", || {
        inbox
            .seen()
            .into_iter()
            .find(|s| s.body["type"] == "citizen.replied")
    })
    .await;
    assert!(replied.verified);
    assert_eq!(replied.body["data"]["case_reference"], reference.as_str());
    assert!(action.ends_with(replied.body["data"]["in_reply_to"].as_str().unwrap()));

    // A notice paid in two parts is announced once, when it is paid in full.
    let r = issue(&w, &[("Bewohnerparkausweis", "30,70")], &[]).await;
    assert_eq!(r.status(), 303);
    let (notice, rf, _, _) = notices(&w).await.remove(0);
    import(&w, vec![credit("E-1", 1000, &rf)]).await;
    let paid_events = "SELECT COUNT(*) FROM webhook_deliveries WHERE event = 'fee.paid'";
    assert_eq!(count(app, paid_events).await, 0, "partly paid");
    import(&w, vec![credit("E-2", 2070, &rf)]).await;
    assert_eq!(count(app, paid_events).await, 1);
    let paid = until("fee.paid", || {
        inbox
            .seen()
            .into_iter()
            .find(|s| s.body["type"] == "fee.paid")
    })
    .await;
    assert_eq!(paid.body["data"]["notice_id"], notice.as_str());
    assert_eq!(paid.body["data"]["payment_reference"], rf.as_str());
    assert_eq!(paid.body["data"]["case_reference"], w.reference.as_str());

    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'webhooks.endpoint.create'";
    assert_eq!(count(app, audited).await, 1);
});

webhook_test!(an_endpoint_failing_for_a_day_is_disabled, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let admin = staff(&app, "root@stuttgart.example", Role::Admin, &[]).await;
    // A port nobody listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    add_endpoint(&app, &admin, &dead, &["fee.paid"]).await;
    let endpoint: String = sqlx::query_scalar("SELECT id FROM webhook_endpoints")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let day_ago = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 25 * 3600 * 1000;
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $1")
        .bind(day_ago)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let event = serde_json::json!({ "case_reference": "X" });
    let mut tx = app.state.db.begin_write().await.unwrap();
    webhooks::enqueue(&mut tx, POSTBOX, Event::FeePaid, event.clone())
        .await
        .unwrap();
    webhooks::enqueue(&mut tx, POSTBOX, Event::SubmissionReceived, event.clone())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        1,
        "subscribed events only"
    );

    let disabled = "SELECT COUNT(*) FROM webhook_endpoints WHERE enabled = 0";
    wait_count(&app, disabled, 1).await;
    let (state, error): (String, String) =
        sqlx::query_as("SELECT state, last_error FROM webhook_deliveries")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), error.as_str()),
        ("failed", "connection failed")
    );
    let alerts =
        "SELECT COUNT(*) FROM admin_alerts WHERE kind = 'webhook_disabled' AND resolved_at IS NULL";
    assert_eq!(count(&app, alerts).await, 1);
    let (_, page) = text(&app, &admin, PAGE).await;
    assert!(page.contains("Automatisch deaktiviert"), "{page}");

    // Disabled: nothing more is queued. Enabled again: a fresh start, the alert settled.
    let mut tx = app.state.db.begin_write().await.unwrap();
    webhooks::enqueue(&mut tx, POSTBOX, Event::FeePaid, event)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );
    let action = format!("{PAGE}/{endpoint}/aktivieren");
    let r = form(&app, &admin, PAGE, &action, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(count(&app, alerts).await, 0);
    let (_, page) = text(&app, &admin, PAGE).await;
    assert!(page.contains("Aktiv") && !page.contains("Automatisch deaktiviert"));
    let r = form(
        &app,
        &admin,
        PAGE,
        &format!("{PAGE}/{endpoint}/loeschen"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_endpoints").await,
        0
    );
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'webhooks.endpoint.%'";
    assert_eq!(count(&app, audited).await, 3);
});

webhook_test!(concurrent_workers_send_each_delivery_once, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let admin = staff(&app, "root@stuttgart.example", Role::Admin, &[]).await;
    let inbox = Arc::new(Receiver::default());
    let hook = receiver(inbox.clone()).await;
    *inbox.secret.lock().unwrap() = add_endpoint(&app, &admin, &hook, &["fee.paid"]).await;
    let mut tx = app.state.db.begin_write().await.unwrap();
    for i in 0..40 {
        let data = serde_json::json!({ "case_reference": format!("R-{i}") });
        webhooks::enqueue(&mut tx, POSTBOX, Event::FeePaid, data)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Three more instances' workers next to the application's own.
    let workers: Vec<WebhookWorker> = (0..3)
        .map(|_| WebhookWorker::new(app.state.db.clone(), 1, true).unwrap())
        .collect();
    let pending = "SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'delivered'";
    for _ in 0..100 {
        let runs = workers.iter().map(|w| w.run_once());
        for r in futures_util::future::join_all(runs).await {
            r.unwrap();
        }
        if count(&app, pending).await == 0 {
            break;
        }
    }
    assert_eq!(count(&app, pending).await, 0);
    let seen = inbox.seen();
    let mut ids: Vec<&str> = seen.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (seen.len(), ids.len()),
        (40, 40),
        "each delivery sent exactly once"
    );
    assert!(seen.iter().all(|s| s.verified && s.answered == 204));
});
