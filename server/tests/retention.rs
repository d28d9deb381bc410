//! Retention on SQLite and PostgreSQL: closed cases past their service's period are deleted
//! with everything that is only theirs (files in storage included) and an audit entry without
//! personal content; open, recent, other services' and unsettled cases stay; payments stay as
//! bookkeeping without the payer; two runs at once delete each case once; the maintenance
//! pass also removes expired sessions, tokens and drafts.

mod common;

use amtsweg_server::domain::{Money, Role};
use amtsweg_server::payments::camt::{write_sample_statement, CamtVersion, SampleCredit};
use amtsweg_server::retention::cases::{run as retain, Report};
use amtsweg_server::time::now_ms;
use common::apply::{fill_parking_with, start_with, submit_parking, PARKING, PNG};
use common::fees::{in_days, world, World};
use common::people::{citizen, multipart, staff, text};
use common::{csrf, form, Backend, TestApp};

const DAY: i64 = 24 * 3600 * 1000;
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
/// Dog tax: a second service, which keeps the default period.
const DOG_TAX: &str = "99016001002000";

async fn scalar_i64(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

async fn case_id(app: &TestApp, reference: &str) -> String {
    sqlx::query_scalar("SELECT id FROM cases WHERE reference = $1")
        .bind(reference)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// Storage keys of every document a case refers to.
async fn keys_of(app: &TestApp, case: &str) -> Vec<String> {
    let mut keys: Vec<String> = sqlx::query_scalar(
        "SELECT d.storage_key FROM documents d WHERE d.id IN (
             SELECT document_id FROM case_documents WHERE case_id = $1
             UNION SELECT md.document_id FROM message_documents md JOIN messages m ON m.id = md.message_id WHERE m.case_id = $1
             UNION SELECT document_id FROM fee_notices WHERE case_id = $1)",
    )
    .bind(case)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    keys.sort();
    keys
}

async fn set_closed(app: &TestApp, reference: &str, state: &str, days_ago: i64) {
    sqlx::query("UPDATE cases SET state = $1, closed_at = $2 WHERE reference = $3")
        .bind(state)
        .bind(now_ms() - days_ago * DAY)
        .bind(reference)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

/// Issues a notice of 30,70 € on a case through the form.
async fn issue_on(w: &World, reference: &str) {
    let page = format!("/verwaltung/vorgaenge/{reference}/gebuehren/neu");
    let due = in_days(14);
    let mut fields = vec![
        (
            "item_label_0".to_string(),
            "Bewohnerparkausweis".to_string(),
        ),
        ("item_amount_0".to_string(), "30,70".to_string()),
        ("due_date".to_string(), due),
        ("legal_basis".to_string(), "GebOSt Nr. 265".to_string()),
        ("remedy".to_string(), "Widerspruch ist möglich.".to_string()),
    ];
    for i in 1..6 {
        fields.push((format!("item_label_{i}"), String::new()));
        fields.push((format!("item_amount_{i}"), String::new()));
    }
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = form(&w.app, &w.cw, &page, &page, &refs).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

/// Pays a notice by importing a bank statement that names its payment reference.
async fn pay(w: &World, payment_reference: &str) {
    let mut bytes = Vec::new();
    write_sample_statement(
        &mut bytes,
        CamtVersion::V02,
        std::iter::once(SampleCredit {
            entry_ref: format!("E-{payment_reference}"),
            amount: Money(3070),
            debtor_name: "Erika Mustermann".into(),
            debtor_iban: "DE02120300000000202051".into(),
            reference: Some(payment_reference.into()),
            unstructured: vec!["Parkausweis Erika Mustermann".into()],
            booked: true,
            credit: true,
            booking_date: in_days(0),
        }),
    )
    .unwrap();
    let (_, page) = text(&w.app, &w.cw, "/verwaltung/zahlungen").await;
    let token = csrf(&page);
    let form = reqwest::multipart::Form::new()
        .text("authority", "a-stuttgart")
        .part(
            "statement",
            reqwest::multipart::Part::bytes(bytes).file_name("auszug.xml"),
        );
    let r =
        w.cw.post(
            w.app
                .url(&format!("/verwaltung/zahlungen/import?_csrf={token}")),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

async fn notice_of(app: &TestApp, reference: &str) -> (String, String) {
    sqlx::query_as(
        "SELECT n.payment_reference, n.state FROM fee_notices n JOIN cases c ON c.id = n.case_id
         WHERE c.reference = $1",
    )
    .bind(reference)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap()
}

/// Sets the parking service's period on the administration page (checking its validation).
async fn set_parking_period(app: &TestApp, days: &str) {
    let admin = staff(app, "admin@example.org", Role::Admin, &[]).await;
    let page = format!("/verwaltung/admin/leistungen/{PARKING}/aufbewahrung");
    let (s, html) = text(app, &admin, &page).await;
    assert_eq!(s, 200);
    assert!(html.contains("730 Tage"), "the default is named: {html}");
    let r = form(app, &admin, &page, &page, &[("days", "dreißig")]).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("ganze Zahl von Tagen") && html.contains("value=\"dreißig\""),
        "{html}"
    );
    let r = form(app, &admin, &page, &page, &[("days", "0")]).await;
    assert_eq!(r.status(), 422);
    let r = form(app, &admin, &page, &page, &[("days", days)]).await;
    assert_eq!(r.status(), 303);
    let (_, list) = text(app, &admin, "/verwaltung/admin/leistungen").await;
    assert!(
        list.contains(&format!(
            "Aufbewahrung abgeschlossener Vorgänge: {days} Tage."
        )) && list.contains("730 Tage (Voreinstellung)"),
        "{list}"
    );
    let audited = scalar_i64(
        app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.service_changed' AND detail = $1",
        &format!("case_retention_days={days}"),
    )
    .await;
    assert_eq!(audited, 1);
}

db_test!(
    expired_closed_cases_go_with_their_files_and_others_stay,
    |app| {
        // `old`: decided through the pages, with evidence, a decision with an attachment, a fee
        // notice (PDF) paid by bank transfer, a note; closed 40 days ago.
        let w = world(app).await;
        let old = w.reference.clone();
        let app = &w.app;
        let case_page = format!("/verwaltung/vorgaenge/{old}");
        assert_eq!(
            form(
                app,
                &w.cw,
                &case_page,
                &format!("{case_page}/uebernehmen"),
                &[]
            )
            .await
            .status(),
            303
        );
        issue_on(&w, &old).await;
        let (rf, _) = notice_of(app, &old).await;
        pay(&w, &rf).await;
        assert_eq!(notice_of(app, &old).await.1, "paid");
        let r = multipart(
            app,
            &w.cw,
            &case_page,
            &format!("{case_page}/nachricht"),
            &[
                ("kind", "decision"),
                ("body", "Bewilligt."),
                ("outcome", "approved"),
            ],
            &[("bescheid.pdf", PDF)],
        )
        .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let closed: Option<i64> =
            sqlx::query_scalar("SELECT closed_at FROM cases WHERE reference = $1")
                .bind(&old)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert!(
            closed.is_some_and(|t| now_ms() - t < 60_000),
            "a decision closes the case"
        );
        assert_eq!(
            form(
                app,
                &w.cw,
                &case_page,
                &format!("{case_page}/notiz"),
                &[("note", "intern")]
            )
            .await
            .status(),
            303
        );
        set_closed(app, &old, "approved", 40).await;
        let old_id = case_id(app, &old).await;
        let old_keys = keys_of(app, &old_id).await;
        assert_eq!(old_keys.len(), 3, "evidence, attachment, notice PDF");
        let old_data_key: String =
            sqlx::query_scalar("SELECT data_key_id FROM cases WHERE id = $1")
                .bind(&old_id)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();

        // `recent`: closed 10 days ago; it also uses `old`'s evidence (reused from the library),
        // which must therefore stay.
        let recent = submit_parking(app, &w.anna, "70173").await;
        set_closed(app, &recent, "rejected", 10).await;
        let recent_id = case_id(app, &recent).await;
        sqlx::query(
        "INSERT INTO case_documents (case_id, document_id, field_id)
         SELECT $1, document_id, 'registration_certificate_2' FROM case_documents WHERE case_id = $2",
    )
    .bind(&recent_id)
    .bind(&old_id)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
        let shared: String = sqlx::query_scalar(
        "SELECT d.storage_key FROM documents d JOIN case_documents c ON c.document_id = d.id WHERE c.case_id = $1",
    )
    .bind(&old_id)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();

        // `reopened`: closed, then reopened through the status form: open again, clock stopped.
        let reopened = submit_parking(app, &w.anna, "70173").await;
        let page = format!("/verwaltung/vorgaenge/{reopened}");
        assert_eq!(
            form(app, &w.cw, &page, &format!("{page}/uebernehmen"), &[])
                .await
                .status(),
            303
        );
        set_closed(app, &reopened, "closed", 40).await;
        let r = form(
            app,
            &w.cw,
            &page,
            &format!("{page}/status"),
            &[("state", "in_progress")],
        )
        .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let closed: Option<i64> =
            sqlx::query_scalar("SELECT closed_at FROM cases WHERE reference = $1")
                .bind(&reopened)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(closed, None, "reopening stops the clock");

        // `unpaid`: closed long ago, but its notice is open.
        let unpaid = submit_parking(app, &w.anna, "70173").await;
        issue_on(&w, &unpaid).await;
        set_closed(app, &unpaid, "approved", 400).await;

        // `other`: another service, which keeps the default of 730 days.
        let other = submit_parking(app, &w.anna, "70173").await;
        sqlx::query(
        "UPDATE cases SET service_key = $1, version = (SELECT current_version FROM services WHERE service_key = $1)
         WHERE reference = $2",
    )
    .bind(DOG_TAX)
    .bind(&other)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
        set_closed(app, &other, "closed", 400).await;

        // Nothing is due under the default period.
        let storage = &app.state.storage;
        assert_eq!(
            retain(&app.state.db, storage, 730).await.unwrap(),
            Report::default()
        );

        set_parking_period(app, "30").await;
        let report = retain(&app.state.db, storage, 730).await.unwrap();
        assert_eq!(
            report,
            Report {
                cases: 1,
                files: 2,
                files_failed: 0
            },
            "the shared evidence stays with the case that still uses it"
        );

        // Everything of `old` is gone, in the database and in storage.
        for table in [
            "cases WHERE id",
            "case_events WHERE case_id",
            "case_search WHERE case_id",
            "case_notes WHERE case_id",
            "case_documents WHERE case_id",
            "messages WHERE case_id",
            "fee_notices WHERE case_id",
        ] {
            let n = scalar_i64(app, &format!("SELECT COUNT(*) FROM {table} = $1"), &old_id).await;
            assert_eq!(n, 0, "{table}");
        }
        let stored = storage.keys().await.unwrap();
        for key in &old_keys {
            assert_eq!(stored.contains(key), *key == shared, "{key}");
        }
        // Its data key stays only because the shared evidence is encrypted with it.
        let n = scalar_i64(
            app,
            "SELECT COUNT(*) FROM data_keys WHERE id = $1",
            &old_data_key,
        )
        .await;
        assert_eq!(n, 1, "still needed by the evidence `recent` uses");
        let (s, _) = text(app, &w.cw, &case_page).await;
        assert_eq!(s, 404);
        let (s, _) = text(app, &w.anna, &format!("/konto/postfach/{old}")).await;
        assert_eq!(s, 404);

        // The payment stays for the books, with the payment reference but without the payer.
        let (notice_id, notice_reference, payer, iban, remittance, amount): (
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        i64,
    ) = sqlx::query_as(
        "SELECT notice_id, notice_reference, payer_name, payer_iban, remittance, amount_cents FROM payments",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
        assert_eq!(
            (notice_id, notice_reference.as_deref()),
            (None, Some(rf.as_str()))
        );
        assert_eq!(
            (payer.as_str(), iban.as_str(), remittance.as_str(), amount),
            ("", "", "", 3070)
        );

        // One audit entry, naming reference, service, date closed and period, and no person.
        let (detail, actor): (String, String) = sqlx::query_as(
        "SELECT detail, actor_label FROM audit_log WHERE action = 'retention.case_deleted' AND subject_id = $1",
    )
    .bind(&old_id)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
        assert!(
            detail.contains(&format!("reference={old}"))
                && detail.contains(&format!("service={PARKING}"))
                && detail.contains("retention_days=30")
                && detail.contains("closed=20"),
            "{detail}"
        );
        for personal in ["Erika", "Mustermann", "anna@", "S-AB"] {
            assert!(
                !detail.contains(personal) && !actor.contains(personal),
                "{detail}"
            );
        }

        // The others are all there; the case page of `recent` still offers its evidence.
        for r in [&recent, &reopened, &unpaid, &other] {
            let n = scalar_i64(app, "SELECT COUNT(*) FROM cases WHERE reference = $1", r).await;
            assert_eq!(n, 1, "{r}");
        }
        let (s, page) = text(app, &w.cw, &format!("/verwaltung/vorgaenge/{recent}")).await;
        assert_eq!(s, 200);
        let doc =
            common::people::href(&page, &format!("/verwaltung/vorgaenge/{recent}/dokumente/"));
        let r = w.cw.get(app.url(&doc)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

        // Idempotent: nothing more to do.
        assert_eq!(retain(&app.state.db, storage, 730).await.unwrap().cases, 0);

        // Once the open notice is settled (here: cancelled), a later run deletes that case too.
        let notice = format!("/verwaltung/vorgaenge/{unpaid}/gebuehren/1");
        let r = form(
            app,
            &w.cw,
            &notice,
            &format!("{notice}/aufheben"),
            &[("reason", "Befreit")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let report = retain(&app.state.db, storage, 730).await.unwrap();
        assert_eq!(
            (report.cases, report.files),
            (1, 2),
            "evidence and notice PDF"
        );
        let n = scalar_i64(
            app,
            "SELECT COUNT(*) FROM cases WHERE reference = $1",
            &unpaid,
        )
        .await;
        assert_eq!(n, 0);
    }
);

db_test!(two_runs_at_once_delete_each_case_once, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    amtsweg_server::seed::cases(&app.state.db, "p-stuttgart-parken", 400, None)
        .await
        .unwrap();
    let cutoff = now_ms() - DAY;
    let due: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases WHERE closed_at < $1 AND state IN ('approved', 'rejected', 'closed')",
    )
    .bind(cutoff)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases WHERE state IN ('received', 'in_progress', 'awaiting_citizen')",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert!(due > 100, "more than a batch is due: {due}");
    sqlx::query("UPDATE services SET case_retention_days = 1 WHERE service_key = $1")
        .bind(PARKING)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let storage = &app.state.storage;
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(
        retain(&app.state.db, storage, 730),
        retain(&app.state.db, storage, 730)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    println!(
        "{:?}: {due} cases deleted by two runs at once ({} + {}) in {:?}",
        app.backend,
        a.cases,
        b.cases,
        started.elapsed()
    );
    assert_eq!((a.cases + b.cases) as i64, due, "{a:?} {b:?}");
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT subject_id) FROM audit_log WHERE action = 'retention.case_deleted'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let entries: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.case_deleted'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!((audited, entries), (due, due));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(left >= open, "open cases stay");
    assert_eq!(retain(&app.state.db, storage, 730).await.unwrap().cases, 0);
});

db_test!(
    the_maintenance_pass_removes_expired_sessions_tokens_and_drafts,
    |app| {
        use amtsweg_server::accounts::session::Store;
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        let anna = citizen(&app, "anna@example.org").await;
        let draft = start_with(&app, &anna, PARKING).await;
        fill_parking_with(&app, &anna, &draft, "70173").await;
        let pool = &app.state.db.pool;
        let count = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(pool)
                .await
                .unwrap()
        };
        let (sessions_table, expire) = match app.backend {
            Backend::Sqlite => (
                "SELECT COUNT(*) FROM tower_sessions",
                "UPDATE tower_sessions SET expiry_date = 0",
            ),
            Backend::Postgres => (
                "SELECT COUNT(*) FROM tower_sessions.session",
                "UPDATE tower_sessions.session SET expiry_date = now() - interval '1 day'",
            ),
        };
        assert!(count(sessions_table).await > 0);
        let tokens = count("SELECT COUNT(*) FROM account_tokens").await;
        assert!(tokens > 0, "the verification token of the registration");
        let store = Store::connect(&app.state.config.database_url(), app.state.db.backend)
            .await
            .unwrap();
        amtsweg_server::jobs::pass(&app.state, &store).await;
        assert!(count(sessions_table).await > 0, "live sessions stay");
        assert_eq!(count("SELECT COUNT(*) FROM account_tokens").await, tokens);
        assert_eq!(count("SELECT COUNT(*) FROM drafts").await, 1);

        sqlx::query(expire).execute(pool).await.unwrap();
        sqlx::query("UPDATE account_tokens SET expires_at = $1")
            .bind(now_ms() - 2 * DAY)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("UPDATE drafts SET updated_at = $1")
            .bind(now_ms() - 31 * DAY)
            .execute(pool)
            .await
            .unwrap();
        amtsweg_server::jobs::pass(&app.state, &store).await;
        assert_eq!(count(sessions_table).await, 0);
        assert_eq!(count("SELECT COUNT(*) FROM account_tokens").await, 0);
        assert_eq!(count("SELECT COUNT(*) FROM drafts").await, 0);
    }
);
