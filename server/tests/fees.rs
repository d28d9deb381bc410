//! Fee notices and payments on SQLite and PostgreSQL: a caseworker issues a notice, the citizen
//! finds it with bank details and GiroCode, the PDF carries amount, reference and a QR code
//! that decodes to a valid EPC payload; bank statements pay it (structured reference, mistyped
//! references, partial payments, duplicates, debits and pending entries), what cannot be
//! matched waits for a person; cancellation, correction, online payment and access.

mod common;

use amtsweg_server::domain::{Money, Role};
use amtsweg_server::payments::camt::{write_sample_statement, CamtVersion, SampleCredit};
use common::fees::{in_days, issue, notices, world, World, ACCOUNT};
use common::people::{citizen, href, staff, text};
use common::{csrf, form, Backend, TestApp};

fn credit(entry_ref: &str, cents: i64, reference: Option<&str>, text: &[&str]) -> SampleCredit {
    SampleCredit {
        entry_ref: entry_ref.into(),
        amount: Money(cents),
        debtor_name: "Erika Mustermann".into(),
        debtor_iban: "DE02120300000000202051".into(),
        reference: reference.map(String::from),
        unstructured: text.iter().map(|s| s.to_string()).collect(),
        booked: true,
        credit: true,
        booking_date: in_days(0),
    }
}

fn statement(version: CamtVersion, credits: Vec<SampleCredit>) -> Vec<u8> {
    let mut out = Vec::new();
    write_sample_statement(&mut out, version, credits.into_iter()).unwrap();
    out
}

/// Uploads a statement on the payments desk; returns status and the page it leads to.
async fn import(w: &World, bytes: Vec<u8>) -> (u16, String) {
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
    let status = r.status().as_u16();
    if status == 303 {
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let (_, page) = text(&w.app, &w.cw, &loc).await;
        (status, page)
    } else {
        (status, r.text().await.unwrap())
    }
}

db_test!(a_notice_from_issue_to_payment, |app| {
    let w = world(app).await;
    let case_page = format!("/verwaltung/vorgaenge/{}", w.reference);

    // The form starts from the service's fee schedule and the postbox's template.
    let (s, page) = text(&w.app, &w.cw, &format!("{case_page}/gebuehren/neu")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("30,70") && page.contains("Bewohnerparkausweis"),
        "{page}"
    );
    assert!(
        page.contains("Widerspruch") && page.contains("DE89 3704"),
        "remedy template and payee"
    );

    // Bad input: every problem named, everything typed kept.
    let r = issue(
        &w,
        &[("Parkausweis", "dreißig")],
        &[("due_date", "2020-01-01")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Geben Sie einen Betrag über 0 Euro ein"),
        "{page}"
    );
    assert!(page.contains("Geben Sie ein Datum zwischen heute"));
    assert!(page.contains("value=\"dreißig\"") && page.contains("value=\"Parkausweis\""));
    assert!(notices(&w).await.is_empty());

    // Two lines make the total.
    let r = issue(
        &w,
        &[("Bewohnerparkausweis", "30,70"), ("Auslagen", "2,50")],
        &[],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, page) = text(&w.app, &w.cw, &case_page).await;
    assert!(
        page.contains("Gebührenbescheid Nr. 1") && page.contains("33,20 €"),
        "{page}"
    );
    let list = notices(&w).await;
    assert_eq!(list.len(), 1);
    let (id, rf, state, _) = list[0].clone();
    assert_eq!(state, "open");
    assert!(
        amtsweg_server::domain::CreditorReference::parse(&rf).is_some(),
        "{rf}"
    );

    // The citizen: a mail without content, the notice in the thread and in the fee overview.
    let mails = w.app.mail_count("anna@example.org");
    assert!(mails >= 2, "submission and notice mails");
    let (_, overview) = text(&w.app, &w.anna, "/konto/gebuehren").await;
    assert!(overview.contains("Gebührenbescheid Nr. 1") && overview.contains("33,20 €"));
    let (s, notice) = text(&w.app, &w.anna, &format!("/konto/gebuehren/{id}")).await;
    assert_eq!(s, 200);
    assert!(
        notice.contains("<svg") && notice.contains("GiroCode"),
        "QR code on the page"
    );
    assert!(
        notice.contains("DE89 3704 0044 0532 0130 00"),
        "IBAN in text for people who cannot scan"
    );
    assert!(
        notice.contains("keine Online-Zahlung"),
        "no provider: transfer only, and said so"
    );
    let (_, thread) = text(&w.app, &w.anna, &format!("/konto/postfach/{}", w.reference)).await;
    assert!(
        thread.contains("Gebührenbescheid Nr. 1: Bitte zahlen Sie 33,20 €"),
        "{thread}"
    );

    // The PDF: text with amount and reference, and a QR code with the EPC payload.
    let pdf_link = href(
        &notice,
        &format!("/konto/postfach/{}/dokumente/", w.reference),
    );
    let r = w.anna.get(w.app.url(&pdf_link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let pdf = r.bytes().await.unwrap();
    let text_of_pdf = common::pdf::text(&pdf);
    assert!(text_of_pdf.contains("33,20 €"), "{text_of_pdf}");
    let grouped = amtsweg_server::domain::CreditorReference::parse(&rf)
        .unwrap()
        .to_string();
    assert!(text_of_pdf.contains(&grouped), "{text_of_pdf}");
    assert!(text_of_pdf.contains("Gebührenbescheid") && text_of_pdf.contains(&w.reference));
    let payload = common::pdf::qr_payload(&pdf);
    let lines: Vec<&str> = payload.split('\n').collect();
    assert_eq!(&lines[..4], ["BCD", "002", "1", "SCT"], "{payload}");
    assert_eq!(lines[5], "Landeshauptstadt Stuttgart, Stadtkasse");
    assert_eq!(lines[6], ACCOUNT);
    assert_eq!(lines[7], "EUR33.20");
    assert_eq!(lines[9], rf);
    assert!(
        lines.len() <= 12 && lines.get(10).is_none_or(|l| l.is_empty()),
        "never both references"
    );

    // A statement: a partial payment by the structured reference, a debit and a pending credit
    // (both ignored), and a payment that nobody can match.
    let first = statement(
        CamtVersion::V02,
        vec![
            credit("E-1", 2000, Some(&rf), &[]),
            SampleCredit {
                credit: false,
                ..credit("E-2", 5000, None, &["Miete"])
            },
            SampleCredit {
                booked: false,
                ..credit("E-3", 1320, Some(&rf), &[])
            },
            SampleCredit {
                debtor_name: "Unbekannt GmbH".into(),
                ..credit("E-4", 4711, None, &["Rechnung 12"])
            },
        ],
    );
    let (s, page) = import(&w, first.clone()).await;
    assert_eq!(s, 303);
    assert!(
        page.contains("2 neue Zahlungen, davon 1 zugeordnet, 1 zur Bearbeitung"),
        "{page}"
    );
    assert!(
        page.contains("Unbekannt GmbH") && page.contains("47,11 €"),
        "unmatched waits for a person"
    );
    let (_, _, state, paid) = notices(&w).await[0].clone();
    assert_eq!((state.as_str(), paid), ("open", 2000));
    let (_, notice) = text(&w.app, &w.anna, &format!("/konto/gebuehren/{id}")).await;
    assert!(
        notice.contains("Teilweise bezahlt") && notice.contains("13,20 €"),
        "{notice}"
    );

    // The same statement again counts nothing twice.
    let (_, page) = import(&w, first).await;
    assert!(
        page.contains("0 neue Zahlungen") && page.contains("2 Buchungen waren bereits bekannt"),
        "{page}"
    );
    assert_eq!(notices(&w).await[0].3, 2000);

    // The rest with a mistyped reference in the free text, split over two lines (version 08).
    let broken = format!("RF00{}", &rf[4..]);
    let second = statement(
        CamtVersion::V08,
        // Overlapping with the first statement: E-1 is known and not counted again.
        vec![
            credit("E-1", 2000, Some(&rf), &[]),
            credit("E-5", 1320, None, &["Gebuehr ", &broken[..8], &broken[8..]]),
        ],
    );
    let (_, page) = import(&w, second).await;
    assert!(
        page.contains("1 neue Zahlungen, davon 1 zugeordnet")
            && page.contains("1 Buchungen waren bereits bekannt"),
        "{page}"
    );
    let (_, _, state, paid) = notices(&w).await[0].clone();
    assert_eq!((state.as_str(), paid), ("paid", 3320));
    let (_, notice) = text(&w.app, &w.anna, &format!("/konto/gebuehren/{id}")).await;
    assert!(
        notice.contains("Bezahlt") && !notice.contains("<svg"),
        "paid: nothing more to pay"
    );
    let (_, staff_notice) = text(&w.app, &w.cw, &format!("{case_page}/gebuehren/1")).await;
    assert!(
        staff_notice.contains("Kassenzeichen im Verwendungszweck")
            && staff_notice.contains("Kassenzeichen (strukturiert)")
    );

    // Every match is audited.
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.match'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(audited, 2);
    // The citizen's timeline shows the payments.
    let (_, thread) = text(&w.app, &w.anna, &format!("/konto/postfach/{}", w.reference)).await;
    assert!(
        thread.contains("Ihre Zahlung über 13,20 € ist eingegangen"),
        "{thread}"
    );
});

db_test!(unmatched_payments_are_assigned_by_hand, |app| {
    let w = world(app).await;
    assert_eq!(
        issue(&w, &[("Parkausweis", "30,70")], &[]).await.status(),
        303
    );
    let (_, rf, _, _) = notices(&w).await[0].clone();
    let (_, page) = import(
        &w,
        statement(
            CamtVersion::V04,
            vec![credit("M-1", 3070, None, &["Parkausweis Erika"])],
        ),
    )
    .await;
    // Amount and name fit: a suggestion, not a booking.
    assert!(page.contains("Vorschlag nach Betrag und Name"), "{page}");
    assert_eq!(notices(&w).await[0].3, 0);
    let payment: String = sqlx::query_scalar("SELECT id FROM payments WHERE entry_ref = 'M-1'")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    let action = format!("/verwaltung/zahlungen/{payment}/zuordnen");
    let r = form(
        &w.app,
        &w.cw,
        "/verwaltung/zahlungen",
        &action,
        &[("reference", "RF12 3456")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("keinen Gebührenbescheid dieser Behörde"));
    // The case reference is enough (with O for 0 and without dashes).
    let typed = w
        .reference
        .replace('-', "")
        .replace('0', "O")
        .to_lowercase();
    let r = form(
        &w.app,
        &w.cw,
        "/verwaltung/zahlungen",
        &action,
        &[("reference", &typed)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notices(&w).await[0].2, "paid");
    let r = form(
        &w.app,
        &w.cw,
        "/verwaltung/zahlungen",
        &action,
        &[("reference", &rf)],
    )
    .await;
    assert_eq!(r.status(), 422, "assigned once only");

    // Paid twice: the second transfer is not booked blindly onto a settled notice; a person
    // assigns it and the notice shows the over-payment (to be refunded).
    let (_, page) = import(
        &w,
        statement(CamtVersion::V02, vec![credit("M-2", 3070, Some(&rf), &[])]),
    )
    .await;
    assert!(page.contains("1 zur Bearbeitung"), "{page}");
    let second: String = sqlx::query_scalar("SELECT id FROM payments WHERE entry_ref = 'M-2'")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    let action = format!("/verwaltung/zahlungen/{second}/zuordnen");
    let r = form(
        &w.app,
        &w.cw,
        "/verwaltung/zahlungen",
        &action,
        &[("reference", &rf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notices(&w).await[0].3, 6140);
    let (_, overview) = text(&w.app, &w.anna, "/konto/gebuehren").await;
    assert!(overview.contains("Überzahlt"), "{overview}");
});

db_test!(hostile_statements_change_nothing, |app| {
    let w = world(app).await;
    assert_eq!(
        issue(&w, &[("Parkausweis", "30,70")], &[]).await.status(),
        303
    );
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol2;</Document>"#;
    let (s, page) = import(&w, bomb.to_vec()).await;
    assert_eq!(s, 422);
    assert!(page.contains("kern-error"), "{page}");
    let good = statement(CamtVersion::V02, vec![credit("T-1", 3070, None, &[])]);
    let (s, _) = import(&w, good[..good.len() / 2].to_vec()).await;
    assert_eq!(s, 422, "truncated");
    let (s, _) = import(&w, b"not xml at all".to_vec()).await;
    assert_eq!(s, 422);
    // Another account's statement is refused as a whole.
    let other = String::from_utf8(statement(
        CamtVersion::V02,
        vec![credit("T-2", 3070, None, &[])],
    ))
    .unwrap()
    .replace(ACCOUNT, "DE02120300000000202051");
    let (s, page) = import(&w, other.into_bytes()).await;
    assert_eq!(s, 422);
    assert!(
        page.contains("gehört nicht zum Konto dieser Behörde"),
        "{page}"
    );
    let payments: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(payments, 0);
});

db_test!(cancel_and_correct, |app| {
    let w = world(app).await;
    let case_page = format!("/verwaltung/vorgaenge/{}", w.reference);
    assert_eq!(
        issue(&w, &[("Parkausweis", "30,70")], &[]).await.status(),
        303
    );
    // A correction replaces the notice; both stay.
    let (_, page) = text(
        &w.app,
        &w.cw,
        &format!("{case_page}/gebuehren/neu?ersetzt=1"),
    )
    .await;
    assert!(page.contains("Gebührenbescheid Nr. 1 berichtigen") && page.contains("30,70"));
    let r = issue(&w, &[("Parkausweis", "25,00")], &[("replaces", "1")]).await;
    assert_eq!(r.status(), 303);
    let list = notices(&w).await;
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0].2.as_str(), list[1].2.as_str()),
        ("open", "replaced")
    );
    // The replaced one cannot be corrected again.
    let r = issue(&w, &[("Parkausweis", "20,00")], &[("replaces", "1")]).await;
    assert_eq!(r.status(), 422);
    // Cancelling needs a reason, which the citizen reads.
    let notice = format!("{case_page}/gebuehren/2");
    let r = form(
        &w.app,
        &w.cw,
        &notice,
        &format!("{notice}/aufheben"),
        &[("reason", " ")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = form(
        &w.app,
        &w.cw,
        &notice,
        &format!("{notice}/aufheben"),
        &[("reason", "Gebührenbefreiung")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notices(&w).await[0].2, "cancelled");
    let (_, thread) = text(&w.app, &w.anna, &format!("/konto/postfach/{}", w.reference)).await;
    assert!(thread.contains("wurde aufgehoben") && thread.contains("Gebührenbefreiung"));
    let (_, overview) = text(&w.app, &w.anna, "/konto/gebuehren").await;
    assert!(overview.contains("Aufgehoben") && overview.contains("Ersetzt"));
});

db_test!(nobody_reaches_foreign_notices, |app| {
    let w = world(app).await;
    assert_eq!(
        issue(&w, &[("Parkausweis", "30,70")], &[]).await.status(),
        303
    );
    let (id, _, _, _) = notices(&w).await[0].clone();
    let bob = citizen(&w.app, "bob@example.org").await;
    for path in [
        format!("/konto/gebuehren/{id}"),
        format!("/verwaltung/vorgaenge/{}/gebuehren/1", w.reference),
        "/verwaltung/zahlungen".to_string(),
    ] {
        assert_eq!(text(&w.app, &bob, &path).await.0, 404, "{path}");
    }
    let (_, overview) = text(&w.app, &bob, "/konto/gebuehren").await;
    assert!(!overview.contains(&w.reference));
    // A caseworker elsewhere sees neither the case's notices nor this authority's payments.
    let other = staff(
        &w.app,
        "cw@esslingen.example",
        Role::Caseworker,
        &[("p-esslingen-buergeramt", "caseworker")],
    )
    .await;
    for path in [
        format!("/verwaltung/vorgaenge/{}/gebuehren/1", w.reference),
        format!("/verwaltung/vorgaenge/{}/gebuehren/neu", w.reference),
        format!("/konto/gebuehren/{id}"),
        "/verwaltung/zahlungen".to_string(),
    ] {
        assert_eq!(text(&w.app, &other, &path).await.0, 404, "{path}");
    }
});
