//! What fee notices take from the administration, on SQLite and PostgreSQL: the authority's
//! account (holder, IBAN with checksum, optional BIC; refusals keep what was typed and say
//! why, in German and English), whether online payment is configured, the postbox's template
//! (instructions on legal remedies, payment period) prefilled into a caseworker's new notice,
//! an audit entry for each change, and nobody but administrators reaching any of it.

mod common;

use amtsweg_server::domain::Role;
use common::apply::submit_parking;
use common::people::{citizen, href, staff, text};
use common::{form, Backend, TestApp};

const AUTHORITY: &str = "/verwaltung/admin/behoerden/a-stuttgart";
const ACCOUNT: &str = "/verwaltung/admin/behoerden/a-stuttgart/konto";
const POSTBOX: &str = "/verwaltung/admin/postfaecher/p-stuttgart-parken";
const TEMPLATE: &str = "/verwaltung/admin/postfaecher/p-stuttgart-parken/gebuehren";

/// The demo, with Stuttgart's account removed so that it can be set up through the pages.
async fn demo_without_account(app: &TestApp) {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    sqlx::query(
        "UPDATE authorities SET payee_name = '', payee_iban = '', payee_bic = '' WHERE id = 'a-stuttgart'",
    )
    .execute(&app.state.db.pool)
    .await
    .unwrap();
}

async fn admin(app: &TestApp) -> reqwest::Client {
    staff(app, "admin@stuttgart.example", Role::Admin, &[]).await
}

/// Posts a form with the token of its own page; returns (status, location, body).
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    page: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let r = form(app, client, page, page, fields).await;
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

async fn payee(app: &TestApp) -> (String, String, String) {
    sqlx::query_as(
        "SELECT payee_name, payee_iban, payee_bic FROM authorities WHERE id = 'a-stuttgart'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap()
}

async fn template(app: &TestApp) -> (i64, String) {
    sqlx::query_as("SELECT fee_due_days, fee_remedy FROM postboxes WHERE id = 'p-stuttgart-parken'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// The details of the audit entries for an action, oldest first.
async fn audited(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT actor_label, subject_id, detail FROM audit_log WHERE action = $1 ORDER BY seq",
    )
    .bind(action)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap()
}

fn account<'a>(name: &'a str, iban: &'a str, bic: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("payee_name", name),
        ("payee_iban", iban),
        ("payee_bic", bic),
    ]
}

/// The problem shown for a field: in the error summary, linked to the field.
fn summary_names(html: &str, field: &str, message: &str) -> bool {
    let Some((_, summary)) = html.split_once("aw-error-summary") else {
        return false;
    };
    summary
        .split(&format!("href=\"#{field}\""))
        .skip(1)
        .any(|link| {
            link.split_once('>')
                .is_some_and(|(_, text)| text.starts_with(message))
        })
}

db_test!(
    an_administrator_sets_up_the_account_for_fee_notices,
    |app| {
        demo_without_account(&app).await;
        let admin = admin(&app).await;

        // Without an account, the authority page says so and what it means.
        let (status, page) = text(&app, &admin, AUTHORITY).await;
        assert_eq!(status, 200);
        assert!(page.contains("Konto für Gebührenbescheide"), "{page}");
        assert!(page.contains("nicht hinterlegt") && page.contains("keine Gebührenbescheide"));
        assert!(
            page.contains("nicht eingerichtet – Bürgerinnen und Bürger zahlen per Überweisung")
                && page.contains("AMTSWEG_PAYMENT_PROVIDERS"),
            "online payment is not configured in tests, and operators configure it"
        );
        assert_eq!(href(&page, ACCOUNT), ACCOUNT);
        let (status, page) = text(&app, &admin, ACCOUNT).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("<h1>Konto für Gebührenbescheide</h1>"),
            "{page}"
        );

        // A wrong check digit: named, translated, and everything typed is still there.
        let typed = account(
            "Landeshauptstadt Stuttgart, Stadtkasse",
            "de89 3704 0044 0532 0130 01",
            "soladest600",
        );
        let (status, _, page) = post(&app, &admin, ACCOUNT, &typed).await;
        assert_eq!(status, 422);
        assert!(
            summary_names(&page, "payee_iban", "Diese IBAN ist ungültig."),
            "{page}"
        );
        assert!(
            page.contains("value=\"de89 3704 0044 0532 0130 01\"")
                && page.contains("value=\"Landeshauptstadt Stuttgart, Stadtkasse\"")
                && page.contains("value=\"soladest600\""),
            "{page}"
        );

        // The holder must fit into the GiroCode: 70 characters, counted as characters.
        let long = "Ä".repeat(71);
        let iban = "de89 3704 0044 0532 0130 00";
        let (status, _, page) = post(&app, &admin, ACCOUNT, &account(&long, iban, "")).await;
        assert_eq!(status, 422);
        assert!(
            summary_names(
                &page,
                "payee_name",
                "Der Kontoinhaber darf höchstens 70 Zeichen"
            ),
            "{page}"
        );
        assert!(page.contains(&format!("value=\"{long}\"")));

        // Nothing given: every problem at once.
        let (status, _, page) = post(&app, &admin, ACCOUNT, &account(" ", "", "")).await;
        assert_eq!(status, 422);
        assert!(summary_names(
            &page,
            "payee_name",
            "Geben Sie den Kontoinhaber ein."
        ));
        assert!(summary_names(
            &page,
            "payee_iban",
            "Geben Sie die IBAN des Kontos ein."
        ));

        // The BIC is optional, but if given it has the shape banks and the GiroCode expect.
        for bad in [
            "SOLADEST60",
            "SOLADES",
            "SOLADEST6000",
            "S0LADEST",
            "SOLA-DEST",
        ] {
            let (status, _, page) =
                post(&app, &admin, ACCOUNT, &account("Stadtkasse", iban, bad)).await;
            assert_eq!(status, 422, "{bad}");
            assert!(
                summary_names(&page, "payee_bic", "Ein BIC besteht aus 8 oder 11 Zeichen"),
                "{bad}: {page}"
            );
        }
        assert!(
            audited(&app, "admin.authority.payee").await.is_empty(),
            "nothing refused is saved or audited"
        );
        assert_eq!(
            payee(&app).await,
            (String::new(), String::new(), String::new())
        );

        // Saved: IBAN compact and in capitals, BIC in capitals; shown grouped.
        let (status, location, _) = post(
            &app,
            &admin,
            ACCOUNT,
            &account(
                " Landeshauptstadt Stuttgart, Stadtkasse ",
                iban,
                "soladest600",
            ),
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(location, format!("{AUTHORITY}?ok=saved"));
        assert_eq!(
            payee(&app).await,
            (
                "Landeshauptstadt Stuttgart, Stadtkasse".to_string(),
                "DE89370400440532013000".to_string(),
                "SOLADEST600".to_string()
            )
        );
        let (_, page) = text(&app, &admin, &location).await;
        assert!(page.contains("Die Änderungen sind gespeichert."));
        assert!(
            page.contains("DE89 3704 0044 0532 0130 00") && page.contains("SOLADEST600"),
            "{page}"
        );
        assert!(!page.contains("nicht hinterlegt"));
        let (_, form_page) = text(&app, &admin, ACCOUNT).await;
        assert!(form_page.contains("value=\"DE89 3704 0044 0532 0130 00\""));
        let entries = audited(&app, "admin.authority.payee").await;
        assert_eq!(entries.len(), 1);
        let (actor, subject, detail) = &entries[0];
        assert_eq!(
            (actor.as_str(), subject.as_str()),
            ("admin@stuttgart.example", "a-stuttgart")
        );
        assert_eq!(
        detail,
        "payee_name=Landeshauptstadt Stuttgart, Stadtkasse; payee_iban=DE89370400440532013000; payee_bic=SOLADEST600"
    );

        // Without a BIC; a BIC typed in groups counts without its spaces.
        let (status, _, _) = post(&app, &admin, ACCOUNT, &account("Stadtkasse", iban, "")).await;
        assert_eq!(status, 303);
        assert_eq!(payee(&app).await.2, "");
        let (_, page) = text(&app, &admin, AUTHORITY).await;
        assert!(page.contains("nicht angegeben"));
        let (status, _, _) = post(
            &app,
            &admin,
            ACCOUNT,
            &account("Stadtkasse", iban, "sola de st"),
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(payee(&app).await.2, "SOLADEST");
        assert_eq!(audited(&app, "admin.authority.payee").await.len(), 3);

        // An unknown authority has no account page.
        let (status, _) = text(&app, &admin, "/verwaltung/admin/behoerden/unknown/konto").await;
        assert_eq!(status, 404);
        let r = form(
            &app,
            &admin,
            ACCOUNT,
            "/verwaltung/admin/behoerden/unknown/konto",
            &account("Stadtkasse", iban, ""),
        )
        .await;
        assert_eq!(r.status(), 404);

        // In English, too.
        let r = form(
            &app,
            &admin,
            ACCOUNT,
            "/sprache",
            &[("lang", "en"), ("back", "/")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, page) = text(&app, &admin, AUTHORITY).await;
        assert!(
            page.contains("Account for fee notices") && page.contains("Online payment"),
            "{page}"
        );
        let (status, _, page) =
            post(&app, &admin, ACCOUNT, &account(&long, "DE00 0000", "XX")).await;
        assert_eq!(status, 422);
        for (field, message) in [
            (
                "payee_name",
                "The account holder may be at most 70 characters long",
            ),
            ("payee_iban", "This IBAN is not valid."),
            ("payee_bic", "A BIC consists of 8 or 11 characters"),
        ] {
            assert!(summary_names(&page, field, message), "{field}: {page}");
        }
        let (_, log) = text(
            &app,
            &admin,
            "/verwaltung/admin/protokoll?action=admin.authority.payee",
        )
        .await;
        assert!(log.contains("Account for fee notices changed"), "{log}");
    }
);

db_test!(the_postbox_template_prefills_new_fee_notices, |app| {
    demo_without_account(&app).await;
    let admin = admin(&app).await;
    let anna = citizen(&app, "anna@example.org").await;
    let reference = submit_parking(&app, &anna, "70173").await;
    let cw = staff(
        &app,
        "cw@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "caseworker")],
    )
    .await;
    let notice_form = format!("/verwaltung/vorgaenge/{reference}/gebuehren/neu");

    // Without an account the caseworker cannot issue a notice yet.
    let (status, page) = text(&app, &cw, &notice_form).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Für diese Behörde ist kein Konto hinterlegt"),
        "{page}"
    );
    let (status, _, _) = post(
        &app,
        &admin,
        ACCOUNT,
        &account(
            "Landeshauptstadt Stuttgart, Stadtkasse",
            "DE89370400440532013000",
            "",
        ),
    )
    .await;
    assert_eq!(status, 303);

    // The postbox page shows the template and links to its form.
    let (status, page) = text(&app, &admin, POSTBOX).await;
    assert_eq!(status, 200);
    assert!(page.contains("Vorlage für Gebührenbescheide"), "{page}");
    assert_eq!(href(&page, TEMPLATE), TEMPLATE);
    let (status, page) = text(&app, &admin, TEMPLATE).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Vorlage für Gebührenbescheide</h1>"));

    // Refused: every problem named, everything typed kept.
    let long = "x".repeat(5001);
    let (status, _, page) = post(
        &app,
        &admin,
        TEMPLATE,
        &[("fee_due_days", "366"), ("fee_remedy", &long)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(summary_names(
        &page,
        "fee_due_days",
        "Die Zahlungsfrist muss eine ganze Zahl von 1 bis 365 sein."
    ));
    assert!(summary_names(
        &page,
        "fee_remedy",
        "Die Rechtsbehelfsbelehrung darf höchstens 5.000 Zeichen lang sein."
    ));
    assert!(page.contains("value=\"366\"") && page.contains(&long));
    let (status, _, _) = post(
        &app,
        &admin,
        TEMPLATE,
        &[("fee_due_days", "zwei Wochen"), ("fee_remedy", "")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(audited(&app, "admin.postbox.fees").await.is_empty());

    // Saved with its line breaks, as the browser sends them (CRLF), stored as LF.
    let remedy = "Gegen diesen Bescheid kann innerhalb eines Monats Widerspruch erhoben werden.\r\n\r\nDer Widerspruch ist schriftlich oder zur Niederschrift\r\nbei der Landeshauptstadt Stuttgart einzulegen.";
    let (status, location, _) = post(
        &app,
        &admin,
        TEMPLATE,
        &[("fee_due_days", " 14 "), ("fee_remedy", remedy)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("{POSTBOX}?ok=saved"));
    let stored = remedy.replace("\r\n", "\n");
    assert_eq!(template(&app).await, (14, stored.clone()));
    let (_, page) = text(&app, &admin, &location).await;
    assert!(page.contains("Die Änderungen sind gespeichert."));
    assert!(
        page.contains("erhoben werden.</p><p>Der Widerspruch")
            && page.contains("zur Niederschrift<br>bei der Landeshauptstadt"),
        "paragraphs and line breaks shown: {page}"
    );
    let entries = audited(&app, "admin.postbox.fees").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1, "p-stuttgart-parken");
    assert_eq!(
        entries[0].2,
        format!("fee_due_days=14; fee_remedy={stored}")
    );

    // The caseworker's new notice starts from the template.
    let (status, page) = text(&app, &cw, &notice_form).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&stored),
        "remedy prefilled with its line breaks: {page}"
    );
    let due = time::OffsetDateTime::now_utc().date() + time::Duration::days(14);
    let due = format!(
        "{:04}-{:02}-{:02}",
        due.year(),
        u8::from(due.month()),
        due.day()
    );
    assert!(
        page.contains(&format!("value=\"{due}\"")),
        "due in 14 days: {page}"
    );

    // The instructions may be left empty; caseworkers then write them into each notice.
    let (status, _, _) = post(
        &app,
        &admin,
        TEMPLATE,
        &[("fee_due_days", "30"), ("fee_remedy", "")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(template(&app).await, (30, String::new()));
    let (_, page) = text(&app, &admin, POSTBOX).await;
    assert!(page.contains("Nicht hinterlegt. Die Sachbearbeitung schreibt"));
    let (_, page) = text(&app, &cw, &notice_form).await;
    assert!(!page.contains("Niederschrift"));

    let (status, _) = text(
        &app,
        &admin,
        "/verwaltung/admin/postfaecher/unknown/gebuehren",
    )
    .await;
    assert_eq!(status, 404);
});

db_test!(only_administrators_reach_the_fee_settings, |app| {
    demo_without_account(&app).await;
    let before = template(&app).await;
    let cw = staff(
        &app,
        "lead@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "lead")],
    )
    .await;
    let anna = citizen(&app, "anna@example.org").await;
    for (who, client) in [("caseworker", &cw), ("citizen", &anna)] {
        let (_, konto) = text(&app, client, "/konto").await;
        let token = common::csrf(&konto);
        for path in [ACCOUNT, TEMPLATE] {
            let (status, _) = text(&app, client, path).await;
            assert_eq!(status, 404, "{who} GET {path}");
            let r = client
                .post(app.url(path))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("payee_name", "Someone Else"),
                    ("payee_iban", "DE89370400440532013000"),
                    ("fee_due_days", "1"),
                    ("fee_remedy", "Nothing"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{who} POST {path}");
        }
        let (status, _) = text(&app, client, AUTHORITY).await;
        assert_eq!(status, 404, "{who} GET {AUTHORITY}");
    }
    assert_eq!(
        payee(&app).await,
        (String::new(), String::new(), String::new())
    );
    assert_eq!(template(&app).await, before);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'admin.%'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(audited, 0);
    assert_eq!(
        app.get(ACCOUNT).await.status(),
        303,
        "anonymous visitors are sent to the login"
    );
});
