//! The transactional outbox and its worker, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use amtsweg_server::mail::{enqueue, OutgoingMail};
use common::{Backend, TestApp};
use sqlx::Row;

fn sample(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: to.into(),
        subject: "Betreff".into(),
        text: "Text mit Link https://x.example/token".into(),
        html: "<p>Text</p>".into(),
    }
}

async fn row(app: &TestApp, id: &str) -> (String, i64, String, Option<String>) {
    let r = sqlx::query(
        "SELECT status, attempts, body_text, last_error FROM mail_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// Waits until the background worker has moved the mail out of `pending` (or attempted it).
async fn wait_for(
    app: &TestApp,
    id: &str,
    done: impl Fn(&(String, i64, String, Option<String>)) -> bool,
) -> (String, i64, String, Option<String>) {
    for _ in 0..100 {
        app.state.mail_wakeup.notify_one();
        let r = row(app, id).await;
        if done(&r) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "mail {id} did not reach the expected state: {:?}",
        row(app, id).await
    );
}

db_test!(rolled_back_changes_send_no_mail, |app| {
    let mut tx = app.state.db.begin_write().await.unwrap();
    let id = enqueue(&mut tx, &sample("a@example.org")).await.unwrap();
    tx.rollback().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
});

db_test!(
    committed_mail_is_delivered_once_and_its_body_purged,
    |app| {
        let mut tx = app.state.db.begin_write().await.unwrap();
        let id = enqueue(&mut tx, &sample("a@example.org")).await.unwrap();
        tx.commit().await.unwrap();
        let (status, attempts, body, err) = wait_for(&app, &id, |r| r.0 == "sent").await;
        assert_eq!(
            (status.as_str(), attempts, body.as_str(), err),
            ("sent", 1, "", None)
        );
        let files: Vec<_> = std::fs::read_dir(app.dir.join("mail"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(&id))
            .collect();
        assert_eq!(files.len(), 2, "one .eml and one .json: {files:?}");
        let eml = std::fs::read_to_string(
            app.dir
                .join("mail")
                .join(files.iter().find(|f| f.ends_with(".eml")).unwrap()),
        )
        .unwrap();
        assert!(eml.contains("To: a@example.org"));
        assert!(eml.contains("multipart/alternative"));
        // The development page lists it and shows its text.
        let (status, page) = app.get_text("/dev/mail").await;
        assert_eq!(status, 200);
        assert!(page.contains("Betreff") && page.contains("a@example.org"));
        let (status, detail) = app.get_text(&format!("/dev/mail/{id}")).await;
        assert_eq!(status, 200);
        assert!(detail.contains("https://x.example/token"));
        let r = app.get(&format!("/dev/mail/{id}/eml")).await;
        assert_eq!(r.headers()["content-type"], "message/rfc822");
        assert_eq!(app.get("/dev/mail/unknown").await.status(), 404);
    }
);

db_test!(unreachable_smtp_server_means_retry_later, |app| {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.smtp_url = Some(amtsweg_server::secret::Secret::new(
            "smtp://127.0.0.1:1".into(),
        ));
        c.mail_timeout_secs = 2;
    })
    .await;
    let mut tx = app.state.db.begin_write().await.unwrap();
    let id = enqueue(&mut tx, &sample("a@example.org")).await.unwrap();
    tx.commit().await.unwrap();
    let (status, attempts, body, err) = wait_for(&app, &id, |r| r.1 >= 1 && r.3.is_some()).await;
    assert_eq!(status, "pending");
    assert_eq!(attempts, 1);
    assert!(!body.is_empty(), "the body is kept until delivery");
    assert!(err.unwrap().contains("SMTP"));
    let next: i64 = sqlx::query_scalar("SELECT next_attempt_at FROM mail_outbox WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(
        next > amtsweg_server::time::now_ms() + 20_000,
        "backs off before retrying"
    );
});

db_test!(
    undeliverable_mail_is_given_up_and_alerts_administrators,
    |app| {
        let app = TestApp::spawn_with(app.backend, |c| {
            c.smtp_url = Some(amtsweg_server::secret::Secret::new(
                "smtp://127.0.0.1:1".into(),
            ));
            c.mail_timeout_secs = 2;
            c.mail_give_up_hours = 0;
        })
        .await;
        let mut tx = app.state.db.begin_write().await.unwrap();
        let id = enqueue(&mut tx, &sample("a@example.org")).await.unwrap();
        tx.commit().await.unwrap();
        let (status, ..) = wait_for(&app, &id, |r| r.0 == "failed").await;
        assert_eq!(status, "failed");
        let alerts = amtsweg_server::mail::outbox::open_alerts(&app.state.db)
            .await
            .unwrap();
        assert!(alerts.iter().any(|(_, m)| m.contains(&id)), "{alerts:?}");
    }
);

db_test!(
    an_unreachable_server_stops_the_batch_after_one_attempt,
    |app| {
        let app = TestApp::spawn_with(app.backend, |c| {
            c.smtp_url = Some(amtsweg_server::secret::Secret::new(
                "smtp://127.0.0.1:1".into(),
            ));
            c.mail_timeout_secs = 2;
        })
        .await;
        let mut tx = app.state.db.begin_write().await.unwrap();
        for i in 0..5 {
            enqueue(&mut tx, &sample(&format!("p{i}@example.org")))
                .await
                .unwrap();
        }
        // All five due at the same instant: a worker poll racing the enqueues must not leave
        // one behind for a later batch, which would be a second attempt of its own.
        sqlx::query("UPDATE mail_outbox SET next_attempt_at = 0")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let rows = || async {
            sqlx::query_as::<_, (i64, Option<String>, i64, String)>(
                "SELECT attempts, last_error, next_attempt_at, status FROM mail_outbox",
            )
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
        };
        for _ in 0..100 {
            app.state.mail_wakeup.notify_one();
            if rows().await.iter().all(|r| r.1.is_some()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let rows = rows().await;
        // One connection attempt tells that the server is away; the other four wait with it,
        // their reason recorded, without an attempt counted.
        assert_eq!(rows.iter().map(|r| r.0).sum::<i64>(), 1, "{rows:?}");
        assert!(rows.iter().all(|r| r.3 == "pending"
            && r.1.as_deref().unwrap().contains("unreachable")
            && r.2 == rows[0].2
            && r.2 > amtsweg_server::time::now_ms() + 20_000));
    }
);
