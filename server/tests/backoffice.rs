//! The back office on SQLite and PostgreSQL: a case from submission through a request for
//! information and the citizen's answer to a decision, forwarding, templates, the audit trail,
//! and an access matrix in which nobody reaches anything that is not theirs.

mod common;

use amtsweg_server::domain::Role;
use common::apply::{submit_parking, PNG};
use common::people::{citizen, href, multipart, staff, text};
use common::{csrf, form, Backend, TestApp};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn in_a_week() -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(7);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

db_test!(a_case_from_submission_to_decision, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let anna = citizen(&app, "anna@example.org").await;
    let reference = submit_parking(&app, &anna, "70173").await;
    let cw = staff(
        &app,
        "cw@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "lead")],
    )
    .await;

    // The inbox lists the new case; search finds it by name prefix and by reference.
    let (s, home) = text(&app, &cw, "/verwaltung").await;
    assert_eq!(s, 200);
    assert!(
        home.contains("Parkraummanagement") && home.contains("Neue Vorgänge: 1"),
        "{home}"
    );
    let inbox = "/verwaltung/postfach/p-stuttgart-parken";
    let (_, page) = text(&app, &cw, inbox).await;
    assert!(page.contains(&reference) && page.contains("Erika Mustermann"));
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q=musterm")).await;
    assert!(page.contains(&reference));
    let (_, page) = text(&app, &cw, &format!("{inbox}?q=musterm")).await;
    assert!(page.contains(&reference), "found on the tab New");
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=wartend&q=musterm")).await;
    assert!(
        !page.contains(&reference),
        "not waiting for the citizen yet"
    );
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q=schmidt")).await;
    assert!(!page.contains(&reference));
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q={reference}")).await;
    assert!(page.contains(&reference));
    let (s, page) = text(&app, &cw, &format!("{inbox}?tab=alle&from=23.11.2026")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Format JJJJ-MM-TT"),
        "a bad date is explained"
    );

    // The case page shows the answers as submitted and the evidence; the read is audited.
    let case = format!("/verwaltung/vorgaenge/{reference}");
    let (s, page) = text(&app, &cw, &case).await;
    assert_eq!(s, 200);
    assert!(page.contains("S-AB 1234") && page.contains("fahrzeugschein.png"));
    let evidence = href(&page, &format!("{case}/dokumente/"));
    let r = cw.get(app.url(&evidence)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('case.view', 'document.download') AND actor_label = 'cw@stuttgart.example'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(reads, 2);

    // Take it, then ask for information; a missing deadline keeps the text.
    let r = form(&app, &cw, &case, &format!("{case}/uebernehmen"), &[]).await;
    assert_eq!(r.status(), 303);
    let r = multipart(
        &app,
        &cw,
        &case,
        &format!("{case}/nachricht"),
        &[
            ("kind", "request"),
            ("body", "Bitte Meldebescheinigung nachreichen."),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Bitte Meldebescheinigung nachreichen.")
            && page.contains("Frist in der Zukunft")
    );
    let mails = app.mail_count("anna@example.org");
    let r = multipart(
        &app,
        &cw,
        &case,
        &format!("{case}/nachricht"),
        &[
            ("kind", "request"),
            ("body", "Bitte Meldebescheinigung nachreichen."),
            ("deadline", &in_a_week()),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let mail = app.mail_text("anna@example.org", mails).await;
    assert!(
        mail.contains(&reference) && !mail.contains("Meldebescheinigung"),
        "no content in mail: {mail}"
    );
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=wartend")).await;
    assert!(page.contains(&reference));
    // The search words follow the case's state (a trigger on `cases`): the name is found on
    // the tab the case is on now, and no longer on the one it left.
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=wartend&q=musterm")).await;
    assert!(page.contains(&reference), "found on the tab Waiting");
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=neu&q=musterm")).await;
    assert!(!page.contains(&reference), "gone from the tab New");

    // The citizen reads it in the postbox and answers with an upload.
    let (_, list) = text(&app, &anna, "/konto/postfach").await;
    assert!(list.contains(&reference) && list.contains("1 ungelesen"));
    let thread = format!("/konto/postfach/{reference}");
    let (_, page) = text(&app, &anna, &thread).await;
    assert!(
        page.contains("Bitte Meldebescheinigung nachreichen.")
            && !page.contains("Parkraummanagement")
    );
    assert!(
        page.contains("Landeshauptstadt Stuttgart"),
        "authority with contact details"
    );
    let reply_action = {
        let i = page
            .find(&format!("action=\"{thread}/antwort/"))
            .expect("reply form")
            + 8;
        page[i..].split('?').next().unwrap().to_string()
    };
    let r = multipart(
        &app,
        &anna,
        &thread,
        &reply_action,
        &[("body", "")],
        &[("meldung.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status(), 422, "empty answer refused");
    let r = multipart(
        &app,
        &anna,
        &thread,
        &reply_action,
        &[("body", "Anbei.")],
        &[("meldung.exe", b"MZ\x90\x00binary")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("Anbei."),
        "text kept when a file is refused"
    );
    let r = multipart(
        &app,
        &anna,
        &thread,
        &reply_action,
        &[("body", "Anbei die Bescheinigung.")],
        &[("meldung.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, list) = text(&app, &anna, "/konto/postfach").await;
    assert!(!list.contains("ungelesen"));

    // Back in the caseworker's queue, with the reply marked and its file downloadable.
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=meine")).await;
    assert!(page.contains(&reference) && page.contains("Neue Antwort"));
    let (_, page) = text(&app, &cw, &case).await;
    assert!(page.contains("Anbei die Bescheinigung.") && page.contains("In Bearbeitung"));
    let reply_file = {
        let i = page.find("meldung.pdf").expect("reply attachment listed");
        let start = page[..i].rfind("href=\"").unwrap() + 6;
        page[start..].split('"').next().unwrap().to_string()
    };
    let r = cw.get(app.url(&reply_file)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // A template, then the decision with a notice attached.
    let tpl = "/verwaltung/postfach/p-stuttgart-parken/vorlagen";
    let r = form(
        &app,
        &cw,
        tpl,
        tpl,
        &[
            ("title", "Bewilligung"),
            ("body", "Ihr Antrag wird bewilligt."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = form(
        &app,
        &cw,
        tpl,
        tpl,
        &[("title", "Bewilligung"), ("body", "doppelt")],
    )
    .await;
    assert_eq!(r.status(), 422, "duplicate title is a form error");
    let (_, page) = text(&app, &cw, &case).await;
    let tpl_id = {
        let i = page.find("name=\"vorlage\"").unwrap();
        let rest = &page[i..];
        let j = rest.find("<option value=\"").unwrap() + 15;
        let rest = &rest[j..];
        let k = rest.find("<option value=\"").unwrap() + 15;
        rest[k..].split('"').next().unwrap().to_string()
    };
    let (_, page) = text(&app, &cw, &format!("{case}?vorlage={tpl_id}")).await;
    assert!(page.contains("Ihr Antrag wird bewilligt.</textarea>"));
    let r = multipart(
        &app,
        &cw,
        &case,
        &format!("{case}/nachricht"),
        &[
            ("kind", "decision"),
            ("body", "Ihr Antrag wird bewilligt."),
            ("outcome", "approved"),
        ],
        &[("bescheid.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, page) = text(&app, &anna, &thread).await;
    assert!(page.contains("Ihr Antrag wird bewilligt.") && page.contains("Bewilligt"));
    let notice = href(&page, &format!("{thread}/dokumente/"));
    let r = anna.get(app.url(&notice)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A decided case cannot be decided again.
    let r = multipart(
        &app,
        &cw,
        &case,
        &format!("{case}/nachricht"),
        &[
            ("kind", "decision"),
            ("body", "Doch nicht."),
            ("outcome", "rejected"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status(), 422);

    // Notes stay internal.
    let r = form(
        &app,
        &cw,
        &case,
        &format!("{case}/notiz"),
        &[("note", "Geheim: Rückruf erledigt")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = text(&app, &anna, &thread).await;
    assert!(!page.contains("Geheim"));
    let (_, page) = text(&app, &cw, &case).await;
    assert!(page.contains("Geheim: Rückruf erledigt"));

    // Every staff action is in the audit log, which refuses changes.
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    for a in [
        "case.take",
        "case.request",
        "case.decision",
        "case.note",
        "case.view",
        "template.create",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    assert!(sqlx::query("UPDATE audit_log SET action = 'x'")
        .execute(&app.state.db.pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(&app.state.db.pool)
        .await
        .is_err());
});

db_test!(forwarding_tells_the_citizen_who_handles_it_now, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let anna = citizen(&app, "anna@example.org").await;
    let reference = submit_parking(&app, &anna, "70173").await;
    let cw = staff(
        &app,
        "cw@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "caseworker")],
    )
    .await;
    let berlin = staff(
        &app,
        "cw@berlin.example",
        Role::Caseworker,
        &[("p-berlin-mitte-buergeramt", "caseworker")],
    )
    .await;
    let case = format!("/verwaltung/vorgaenge/{reference}");
    let r = form(
        &app,
        &cw,
        &case,
        &format!("{case}/weiterleiten"),
        &[("postbox", "p-berlin-mitte-buergeramt"), ("reason", "")],
    )
    .await;
    assert_eq!(r.status(), 422, "a reason is required");
    let r = form(
        &app,
        &cw,
        &case,
        &format!("{case}/weiterleiten"),
        &[
            ("postbox", "p-berlin-mitte-buergeramt"),
            ("reason", "Wohnsitz in Berlin"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // Now it is Berlin's case, and no longer Stuttgart's.
    assert_eq!(text(&app, &cw, &case).await.0, 404);
    let (s, page) = text(&app, &berlin, &case).await;
    assert_eq!(s, 200);
    assert!(page.contains("Wohnsitz in Berlin"));
    let (_, page) = text(
        &app,
        &berlin,
        "/verwaltung/postfach/p-berlin-mitte-buergeramt?q=mustermann",
    )
    .await;
    assert!(page.contains(&reference), "search follows the case");
    let (_, page) = text(&app, &anna, &format!("/konto/postfach/{reference}")).await;
    assert!(page.contains("Bezirksamt Mitte") && !page.contains("Wohnsitz in Berlin"));
    assert_eq!(
        app.mail_count("anna@example.org"),
        3,
        "verification, receipt, forwarding"
    );
});

db_test!(nobody_reaches_what_is_not_theirs, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let a = citizen(&app, "a@example.org").await;
    let b = citizen(&app, "b@example.org").await;
    let ref_a = submit_parking(&app, &a, "70173").await;
    let ref_b = submit_parking(&app, &b, "10115").await;
    let c1 = staff(
        &app,
        "c1@stuttgart.example",
        Role::Caseworker,
        &[
            ("p-stuttgart-parken", "lead"),
            ("p-stuttgart-buergerbuero", "caseworker"),
        ],
    )
    .await;
    let c2 = staff(
        &app,
        "c2@berlin.example",
        Role::Caseworker,
        &[("p-berlin-mitte-buergeramt", "lead")],
    )
    .await;
    let admin = staff(&app, "admin@example.org", Role::Admin, &[]).await;
    let (anon, _) = app.other_client();

    // Ask A for information with an attachment, so every kind of route has a real target.
    let case_a = format!("/verwaltung/vorgaenge/{ref_a}");
    let r = multipart(
        &app,
        &c1,
        &case_a,
        &format!("{case_a}/nachricht"),
        &[
            ("kind", "request"),
            ("body", "Bitte nachreichen."),
            ("deadline", &in_a_week()),
        ],
        &[("hinweis.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = text(&app, &c1, &case_a).await;
    let doc_a = href(&page, &format!("{case_a}/dokumente/"))
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (_, thread_a) = text(&app, &a, &format!("/konto/postfach/{ref_a}")).await;
    let request_a = {
        let i = thread_a.find("/antwort/").unwrap() + 9;
        thread_a[i..].split('?').next().unwrap().to_string()
    };

    let citizen_pages = [
        format!("/konto/postfach/{ref_a}"),
        format!("/konto/postfach/{ref_a}/dokumente/{doc_a}"),
        format!("/vorgaenge/{ref_a}/zusammenfassung"),
        format!("/vorgaenge/{ref_a}/zusammenfassung.pdf"),
    ];
    let staff_pages = [
        "/verwaltung/postfach/p-stuttgart-parken".to_string(),
        "/verwaltung/postfach/p-stuttgart-parken/vorlagen".to_string(),
        case_a.clone(),
        format!("{case_a}/dokumente/{doc_a}"),
    ];
    let staff_posts = ["uebernehmen", "zuweisen", "status", "notiz", "weiterleiten"];

    // Citizen B: nothing of A's.
    for p in &citizen_pages {
        assert_eq!(text(&app, &b, p).await.0, 404, "B on {p}");
    }
    // Citizens: no staff area at all.
    for client in [&a, &b] {
        assert_eq!(text(&app, client, "/verwaltung").await.0, 404);
        for p in &staff_pages {
            assert_eq!(text(&app, client, p).await.0, 404, "citizen on {p}");
        }
    }
    // Caseworker of another authority, and an administrator who is no member: 404 too.
    for (who, client) in [("c2", &c2), ("admin", &admin)] {
        for p in &staff_pages {
            assert_eq!(text(&app, client, p).await.0, 404, "{who} on {p}");
        }
        for p in &citizen_pages {
            assert_eq!(text(&app, client, p).await.0, 404, "{who} on {p}");
        }
        let (_, own) = text(&app, client, "/verwaltung").await;
        let token = csrf(&own);
        for action in staff_posts {
            let r = client
                .post(app.url(&format!("{case_a}/{action}")))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("state", "in_progress"),
                    ("note", "x"),
                    ("assignee", "x"),
                    ("postbox", "p-berlin-mitte-buergeramt"),
                    ("reason", "x"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{who} posting {action}");
        }
        let r = client
            .post(app.url(&format!("{case_a}/nachricht?_csrf={token}")))
            .multipart(
                reqwest::multipart::Form::new()
                    .text("kind", "message")
                    .text("body", "x"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{who} sending a message");
    }
    // B cannot answer A's request, even knowing its id.
    let (_, own) = text(&app, &b, "/konto/postfach").await;
    let token = csrf(&own);
    let r = b
        .post(app.url(&format!(
            "/konto/postfach/{ref_a}/antwort/{request_a}?_csrf={token}"
        )))
        .multipart(reqwest::multipart::Form::new().text("body", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // C2 sees B's case, C1 does not.
    assert_eq!(
        text(&app, &c2, &format!("/verwaltung/vorgaenge/{ref_b}"))
            .await
            .0,
        200
    );
    assert_eq!(
        text(&app, &c1, &format!("/verwaltung/vorgaenge/{ref_b}"))
            .await
            .0,
        404
    );
    // Unknown ids look the same as foreign ones.
    assert_eq!(
        text(&app, &c1, "/verwaltung/vorgaenge/AAA-AAA-AAA").await.0,
        404
    );
    assert_eq!(
        text(
            &app,
            &c1,
            &format!("{case_a}/dokumente/00000000-0000-0000-0000-000000000000")
        )
        .await
        .0,
        404
    );
    // Only a lead maintains templates.
    let tpl = "/verwaltung/postfach/p-stuttgart-buergerbuero/vorlagen";
    let r = form(&app, &c1, tpl, tpl, &[("title", "T"), ("body", "B")]).await;
    assert_eq!(r.status(), 404);
    // Anonymous visitors are sent to the login.
    for p in staff_pages.iter().chain(citizen_pages.iter()) {
        let r = anon.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), 303, "anonymous on {p}");
    }
    // The owner and the member do get in.
    for p in &citizen_pages {
        assert_eq!(text(&app, &a, p).await.0, 200, "A on {p}");
    }
    for p in &staff_pages {
        assert_eq!(text(&app, &c1, p).await.0, 200, "C1 on {p}");
    }
});

/// Cases in the Stuttgart parking postbox whose applicant's name is `LIKE` the pattern.
async fn names_like(app: &TestApp, pattern: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases WHERE postbox_id = 'p-stuttgart-parken' AND applicant_name LIKE $1",
    )
    .bind(pattern)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap()
}

/// The cases an inbox page lists.
fn listed(page: &str) -> i64 {
    page.matches("href=\"/verwaltung/vorgaenge/").count() as i64
}

db_test!(the_inbox_pages_through_many_cases_and_finds_names, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let cw = staff(
        &app,
        "cw@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "caseworker")],
    )
    .await;
    let cw_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind("cw@stuttgart.example")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let n = amtsweg_server::seed::cases(&app.state.db, "p-stuttgart-parken", 160, Some(&cw_id))
        .await
        .unwrap();
    assert_eq!(n, 160);
    if app.state.db.backend == amtsweg_server::db::Backend::Sqlite {
        // Row estimates for the planner, but no STAT4 samples: with them every statement that
        // binds a value against an indexed column was planned again on each execution.
        let mut rows = Vec::new();
        for table in ["sqlite_stat1", "sqlite_stat4"] {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = sqlx::query_scalar(&sql)
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
            rows.push(n);
        }
        assert!(rows[0] > 0, "row estimates kept");
        assert_eq!(rows[1], 0, "value samples removed");
    }
    let inbox = "/verwaltung/postfach/p-stuttgart-parken";
    // Walk every page of "all", oldest first: 160 distinct cases, each once, in date order.
    let mut seen = std::collections::HashSet::new();
    let mut next = Some(format!("{inbox}?tab=alle"));
    let mut pages = 0;
    while let Some(url) = next {
        let (s, page) = text(&app, &cw, &url.replace("&amp;", "&")).await;
        assert_eq!(s, 200);
        for part in page.split("href=\"/verwaltung/vorgaenge/").skip(1) {
            assert!(
                seen.insert(part.split('"').next().unwrap().to_string()),
                "no case twice"
            );
        }
        next = page.find("rel=\"next\"").map(|i| {
            let start = page[..i].rfind("href=\"").unwrap() + 6;
            page[start..].split('"').next().unwrap().to_string()
        });
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (160, 7));
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle")).await;
    assert!(page.contains("99+"), "counts stop at 99+");
    // Every tab's badge counts the cases of that tab, checked here with conditions of its own.
    // The seed sets no reply deadline; one that has passed makes a waiting case overdue.
    let now = amtsweg_server::time::now_ms();
    sqlx::query(
        "UPDATE cases SET reply_due_at = $1 WHERE id = (SELECT MIN(id) FROM cases WHERE state = 'awaiting_citizen')",
    )
    .bind(now - 60_000)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle")).await;
    let mut expected = Vec::new();
    for condition in [
        "state = 'received'",
        "assignee_id = $2 AND state IN ('received', 'in_progress', 'awaiting_citizen')",
        "state = 'awaiting_citizen'",
        "((state IN ('received', 'in_progress') AND due_at < $3) OR (state = 'awaiting_citizen' AND reply_due_at < $3))",
        "1 = 1",
    ] {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM cases WHERE postbox_id = $1 AND {condition} AND ($2 = $2) AND ($3 = $3)"
        ))
        .bind("p-stuttgart-parken")
        .bind(&cw_id)
        .bind(now)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
        expected.push(if n >= 100 { "99+".to_string() } else { n.to_string() });
    }
    let tabs = &page[page.find("class=\"aw-tabs\"").unwrap()..];
    let tabs = &tabs[..tabs.find("</ul>").unwrap()];
    let badges: Vec<String> = tabs
        .split("<span class=\"kern-label\">")
        .skip(1)
        .map(|part| part.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(badges, expected);
    // Distinct figures, so that a count shown on the wrong tab is noticed.
    let mut distinct = expected.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        5,
        "the seed gives every tab its own count: {expected:?}"
    );
    // A name search lists only matching names, across pages too.
    let expected = names_like(&app, "%Müller%").await;
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q=M%C3%BCller")).await;
    let rows = listed(&page);
    assert_eq!(rows, expected.min(25));
    assert_eq!(
        page.matches(" Müller</td>").count() as i64,
        rows,
        "every row matches"
    );
    // A prefix stands for every indexed word it begins (Schmid, Schmidt, Schmitt, Schmitz).
    let expected = names_like(&app, "% Schm%").await;
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q=schm")).await;
    let rows = listed(&page);
    assert!(expected > 0);
    assert_eq!(rows, expected.min(25));
    let families: std::collections::HashSet<&str> = page
        .split("<td class=\"kern-table__cell\">")
        .skip(1)
        .filter_map(|cell| cell.split('<').next()?.split(' ').nth(1))
        .filter(|family| family.starts_with("Schm"))
        .collect();
    assert_eq!(
        rows as usize,
        page.matches(" Schm").count(),
        "every row matches"
    );
    assert!(families.len() > 1, "several words found: {families:?}");
    // Two words narrow it down (a seeded name's given name and the start of its family name);
    // a prefix finds the whole word; nonsense finds nothing.
    let name: String = sqlx::query_scalar(
        "SELECT applicant_name FROM cases WHERE postbox_id = 'p-stuttgart-parken' ORDER BY applicant_name LIMIT 1",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let (given, family) = name.split_once(' ').unwrap();
    let start = format!("{given} {}", family.chars().take(3).collect::<String>());
    let expected = names_like(&app, &format!("{start}%")).await;
    let query = start.to_lowercase().replace(' ', "+");
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q={query}")).await;
    let rows = listed(&page);
    assert!(expected > 0);
    assert_eq!(rows, expected.min(25), "{start}");
    assert_eq!(page.matches(&format!(">{start}")).count() as i64, rows);
    let (_, page) = text(&app, &cw, &format!("{inbox}?tab=alle&q=zzzz")).await;
    assert!(page.contains("Keine Vorgänge"));
    assert!(page.contains("99+"), "the tabs keep their counts");
});
