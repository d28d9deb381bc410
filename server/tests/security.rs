//! Security suite, on SQLite and PostgreSQL: cross-site and token-less requests, session
//! fixation, other people's ids on every kind of route (API included), path traversal and hostile
//! file names, over-long and control-character input, oversized bodies, and the security headers
//! on every kind of page.

mod common;

use amtsweg_server::api::keys::{self, Scope};
use amtsweg_server::domain::Role;
use common::apply::{start_with, submit_parking, upload_with, PARKING, PNG};
use common::people::{citizen, staff, text};
use common::{csrf, Backend, TestApp};

async fn demo(app: &TestApp) {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

db_test!(cross_site_and_token_less_posts_change_nothing, |app| {
    demo(&app).await;
    let anna = citizen(&app, "anna@example.org").await;
    let (_, html) = text(&app, &anna, &format!("/leistungen/{PARKING}")).await;
    let token = csrf(&html);
    let action = app.url(&format!("/leistungen/{PARKING}/antrag"));
    let drafts = "SELECT COUNT(*) FROM drafts";
    let before = count(&app, drafts).await;
    type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [(&'a str, &'a str)]);
    let attempts: [Attempt; 5] = [
        ("no token", vec![], &[]),
        ("wrong token", vec![("_csrf", "A".repeat(43).leak())], &[]),
        (
            "forged origin",
            vec![("_csrf", token.as_str())],
            &[("origin", "https://evil.example")],
        ),
        (
            "cross-site fetch",
            vec![("_csrf", token.as_str())],
            &[("sec-fetch-site", "cross-site")],
        ),
        (
            "null origin (sandboxed frame)",
            vec![("_csrf", token.as_str())],
            &[("origin", "null")],
        ),
    ];
    for (what, fields, headers) in attempts {
        let mut req = anna.post(&action).form(&fields);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{what}");
        let body = r.text().await.unwrap();
        assert!(body.contains("<html"), "{what}: an error page");
        assert_eq!(count(&app, drafts).await, before, "{what}: nothing created");
    }
    // The same request from the portal's own page goes through.
    let r = anna
        .post(&action)
        .header("origin", "http://localhost")
        .header("sec-fetch-site", "same-origin")
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(count(&app, drafts).await, before + 1);
});

db_test!(
    the_session_id_changes_at_login_and_an_old_one_is_dead,
    |app| {
        demo(&app).await;
        common::registered(&app, "anna@example.org").await;
        let (client, jar) = app.other_client();
        let session = |jar: &std::sync::Arc<reqwest::cookie::Jar>| {
            use reqwest::cookie::CookieStore;
            jar.cookies(&app.address.parse().unwrap())
                .map(|h| h.to_str().unwrap().to_string())
                .unwrap_or_default()
                .split("; ")
                .find(|c| c.starts_with("aw_session="))
                .map(str::to_string)
        };
        // An attacker plants a session id (e.g. through a shared computer) before the login.
        let (_, html) = text(&app, &client, "/anmelden").await;
        let planted = session(&jar).expect("the login form starts a session");
        let r = client
            .post(app.url("/anmelden"))
            .form(&[
                ("email", "anna@example.org"),
                ("password", common::PW),
                ("_csrf", &csrf(&html)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let logged_in = session(&jar).unwrap();
        assert_ne!(planted, logged_in, "login issues a new session id");
        let stale = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = stale
            .get(app.url("/konto"))
            .header("cookie", &planted)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "the planted id is not logged in");
        let r = stale
            .get(app.url("/konto"))
            .header("cookie", &logged_in)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
);

db_test!(other_peoples_ids_are_not_found_on_any_route, |app| {
    demo(&app).await;
    let anna = citizen(&app, "anna@example.org").await;
    let ben = citizen(&app, "ben@example.org").await;
    let reference = submit_parking(&app, &anna, "70173").await;
    let draft = start_with(&app, &anna, PARKING).await;
    let doc: String = sqlx::query_scalar("SELECT id FROM documents LIMIT 1")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let pages = [
        format!("/konto/postfach/{reference}"),
        format!("/vorgaenge/{reference}/zusammenfassung"),
        format!("/vorgaenge/{reference}/zusammenfassung.pdf"),
        format!("/dokumente/{doc}"),
        format!("/antraege/{draft}/person"),
        format!("/antraege/{draft}/pruefen"),
    ];
    for path in &pages {
        let r = anna.get(app.url(path)).send().await.unwrap();
        // The owner's check page of an unfinished draft redirects to its first open page.
        assert!(
            r.status().is_success() || r.status() == 303,
            "{path}: the owner sees it ({})",
            r.status()
        );
        let r = ben.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}: another citizen gets 404");
    }
    // Ben's valid form token does not make Anna's draft his.
    let (_, html) = text(&app, &ben, "/konto").await;
    let token = csrf(&html);
    for (action, fields) in [
        (format!("/antraege/{draft}/loeschen"), vec![]),
        (
            format!("/antraege/{draft}/person"),
            vec![("given_name", "Ben")],
        ),
        (
            format!("/antraege/{draft}/absenden"),
            vec![("declaration", "yes")],
        ),
    ] {
        let mut fields = fields;
        fields.push(("_csrf", token.as_str()));
        let r = ben
            .post(app.url(&action))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "POST {action}");
    }
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM drafts WHERE id = '{draft}'")
        )
        .await,
        1,
        "Anna's draft is still there"
    );
    // Staff of another postbox: the case does not exist for them.
    let outsider = staff(
        &app,
        "amt@esslingen.example",
        Role::Caseworker,
        &[("p-esslingen-buergeramt", "caseworker")],
    )
    .await;
    for path in [
        format!("/verwaltung/vorgaenge/{reference}"),
        format!("/verwaltung/vorgaenge/{reference}/export.zip"),
        "/verwaltung/postfach/p-stuttgart-parken".to_string(),
    ] {
        let r = outsider.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // An API key of another postbox: same answer as for a reference that does not exist.
    let key = keys::create(
        &app.state.db,
        "p-esslingen-buergeramt",
        "Fremdes Fachverfahren",
        &[Scope::Read, Scope::Acknowledge, Scope::Reply, Scope::Fees],
        None,
    )
    .await
    .unwrap()
    .secret
    .expose()
    .clone();
    let api = reqwest::Client::new();
    for (method, path) in [
        ("GET", format!("/api/v1/cases/{reference}")),
        ("GET", format!("/api/v1/cases/{reference}/export")),
        ("GET", format!("/api/v1/cases/{reference}/fees")),
        ("POST", format!("/api/v1/cases/{reference}/acknowledge")),
    ] {
        let r = api
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(&key)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
    }
});

db_test!(path_traversal_and_hostile_file_names_are_harmless, |app| {
    demo(&app).await;
    for path in [
        "/assets/../Cargo.toml",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/dokumente/..%2f..%2famtsweg.db",
        "/dokumente/%00",
        "/verwaltung/postfach/..%2f..%2fetc",
    ] {
        let r = app.get(path).await;
        assert!(
            matches!(r.status().as_u16(), 303 | 400 | 404),
            "{path}: {}",
            r.status()
        );
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("[workspace]") && !body.contains("root:"),
            "{path}"
        );
    }
    let anna = citizen(&app, "anna@example.org").await;
    let draft = start_with(&app, &anna, PARKING).await;
    let hostile = [
        "../../../../etc/passwd.png",
        "..\\..\\windows\\system32.png",
        "bild\u{202e}gnp.exe.png",
        "a\u{0}b\u{7}c\r\nContent-Type: text/html.png",
        &format!("{}.png", "x".repeat(5000)),
        "<script>alert(1)</script>.png",
    ];
    for name in hostile {
        let r = upload_with(
            &app,
            &anna,
            &draft,
            "evidence",
            "registration_certificate",
            name,
            PNG.to_vec(),
        )
        .await;
        assert!(
            r.status() == 303 || r.status() == 422,
            "{name:?}: {}",
            r.status()
        );
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT file_name FROM documents")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    for n in &names {
        assert!(
            !n.contains('/') && !n.contains('\\') && !n.chars().any(|c| c.is_control()),
            "stored name {n:?}"
        );
        assert!(!n.contains('\u{202e}'), "bidi override kept in {n:?}");
        assert!(n.chars().count() <= 255, "stored name of {} chars", n.len());
    }
    // Downloads name the file safely and never as HTML.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM documents")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    for id in ids {
        let r = anna
            .get(app.url(&format!("/dokumente/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_ne!(h["content-type"], "text/html");
        let disposition = h["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(!disposition.contains(".."), "{disposition}");
        assert_eq!(h["x-content-type-options"], "nosniff");
    }
    // Nothing was written outside the storage directory.
    assert!(!app.dir.join("etc").exists());
    assert!(!std::path::Path::new("/etc/passwd.png").exists());
});

db_test!(
    overlong_control_character_and_oversized_input_gets_a_page,
    |app| {
        demo(&app).await;
        let anna = citizen(&app, "anna@example.org").await;
        let draft = start_with(&app, &anna, PARKING).await;
        let path = format!("/antraege/{draft}/person");
        let (_, html) = text(&app, &anna, &path).await;
        let token = csrf(&html);
        let long = "Ä".repeat(5000);
        for (what, given) in [
            ("over-long", long.as_str()),
            ("control characters", "Er\u{7}ika\u{1b}[31m"),
            ("NUL", "Eri\u{0}ka"),
        ] {
            let r = anna
                .post(app.url(&path))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("given_name", given),
                    ("family_name", "Mustermann"),
                    ("birth_date.day", "27"),
                    ("birth_date.month", "3"),
                    ("birth_date.year", "1990"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422, "{what}");
            let body = r.text().await.unwrap();
            assert!(body.contains("kern-alert"), "{what}: error summary");
            assert!(body.contains("Mustermann"), "{what}: the entries are kept");
        }
        // A form body over the limit: a page saying so, not a dropped connection or a 500.
        let huge = "x".repeat(512 * 1024);
        let r = anna
            .post(app.url(&path))
            .form(&[("_csrf", token.as_str()), ("given_name", huge.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("<html") && body.contains("lang=\"de\""),
            "{body}"
        );
        // Nothing of it was stored.
        let answers: String = sqlx::query_scalar("SELECT answers FROM drafts WHERE id = $1")
            .bind(&draft)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        let answers = app
            .state
            .db
            .vault
            .open(&app.state.db.pool, answers)
            .await
            .unwrap();
        assert!(!answers.contains("xxxx") && !answers.contains('\u{7}'));
    }
);

db_test!(every_kind_of_page_carries_the_security_headers, |app| {
    demo(&app).await;
    let anna = citizen(&app, "anna@example.org").await;
    let reference = submit_parking(&app, &anna, "70173").await;
    let lead = staff(
        &app,
        "lead@stuttgart.example",
        Role::Caseworker,
        &[("p-stuttgart-parken", "lead")],
    )
    .await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pages: Vec<(&reqwest::Client, String, bool)> = vec![
        (&anonymous, "/".into(), false),
        (&anonymous, "/leistungen".into(), false),
        (&anonymous, "/anmelden".into(), false),
        (&anonymous, "/gibt-es-nicht".into(), false),
        (&anonymous, "/konto".into(), false),
        (&anna, "/konto".into(), true),
        (&anna, "/konto/postfach".into(), true),
        (&anna, format!("/konto/postfach/{reference}"), true),
        (&anna, "/verwaltung".into(), true),
        (&lead, "/verwaltung".into(), true),
        (
            &lead,
            "/verwaltung/postfach/p-stuttgart-parken".into(),
            true,
        ),
        (&lead, format!("/verwaltung/vorgaenge/{reference}"), true),
    ];
    for (client, path, private) in pages {
        let r = client.get(app.url(&path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("script-src"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.get("server").is_none(), "{path}");
        if private && r.status() == 200 {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    // The API answers with JSON and the same basic headers.
    let r = app.get("/api/v1/cases").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));
});
