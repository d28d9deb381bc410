//! Platform behaviour over HTTP, on SQLite and PostgreSQL: pages, headers, language, assets,
//! limits, error pages and health checks.

mod common;

use common::{Backend, TestApp};

db_test!(health_and_readiness, |app| {
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, body) = app.get_text("/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready"));
});

db_test!(start_page_has_security_headers_and_no_banner, |app| {
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.get("x-request-id").is_some());
    assert!(h.get("server").is_none());
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    let body = r.text().await.unwrap();
    assert!(body.starts_with("<!DOCTYPE html><html lang=\"de\">"));
    assert!(
        !body.contains("<!>"),
        "hydration markers must not reach the page"
    );
    assert!(!body.contains("<script"), "pages need no JavaScript");
});

db_test!(hsts_only_when_served_over_tls, |app| {
    let app = TestApp::spawn_with(app.backend, |c| {
        c.public_url = "https://portal.example".into()
    })
    .await;
    let r = app.get("/").await;
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
});

db_test!(not_found_is_a_translated_page, |app| {
    let (status, body) = app.get_text("/gibt-es-nicht").await;
    assert_eq!(status, 404);
    assert!(body.contains("Seite nicht gefunden"));
    let r = app
        .client
        .get(app.url("/gibt-es-nicht"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page not found"));
});

db_test!(
    language_choice_is_remembered_and_beats_accept_language,
    |app| {
        let r = app
            .client
            .post(app.url("/sprache"))
            .form(&[("lang", "en"), ("back", "/impressum")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/impressum");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("aw_lang=en")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
        );
        let r = app
            .client
            .get(app.url("/impressum"))
            .header("accept-language", "de")
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(body.contains("<html lang=\"en\">") && body.contains("Legal notice"));
    }
);

db_test!(language_switch_never_redirects_off_site, |app| {
    for back in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = app
            .client
            .post(app.url("/sprache"))
            .form(&[("lang", "en"), ("back", back)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/", "{back}");
    }
});

db_test!(cross_site_posts_are_refused_and_change_nothing, |app| {
    let r = app
        .client
        .post(app.url("/sprache"))
        .header("origin", "https://evil.example")
        .form(&[("lang", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("Zugriff nicht erlaubt"));
    let r = app
        .client
        .post(app.url("/sprache"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("lang", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(app.url("/sprache"))
        .header("origin", app.address.clone())
        .header("sec-fetch-site", "same-origin")
        .form(&[("lang", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
});

db_test!(oversized_bodies_get_a_clear_page, |app| {
    let big = "x".repeat(200 * 1024);
    let r = app
        .client
        .post(app.url("/sprache"))
        .form(&[("lang", "en"), ("back", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("Die Daten sind zu groß"));
});

db_test!(wrong_method_gets_a_page, |app| {
    let r = app.client.get(app.url("/sprache")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.text().await.unwrap().contains("Die Anfrage ist ungültig"));
});

db_test!(legal_pages_exist_in_both_languages, |app| {
    for (path, de, en) in [
        ("/impressum", "Impressum", "Legal notice"),
        ("/datenschutz", "Datenschutzerklärung", "Privacy notice"),
        (
            "/barrierefreiheit",
            "Erklärung zur Barrierefreiheit",
            "Accessibility statement",
        ),
    ] {
        let (status, body) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(de), "{path}");
        let r = app
            .client
            .get(app.url(path))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains(en), "{path}");
    }
});

db_test!(assets_are_hashed_compressed_and_cached_for_a_year, |app| {
    let (_, body) = app.get_text("/").await;
    let start = body.find("/assets/app.").expect("stylesheet link");
    let href: String = body[start..].chars().take_while(|c| *c != '"').collect();
    let r = app
        .client
        .get(app.url(&href))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "br");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    let r = app
        .client
        .get(app.url(&href))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let r = app
        .client
        .get(app.url(&href))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert!(!r.bytes().await.unwrap().is_empty());
    let (status, _) = app.get_text("/assets/app.000000000000.css").await;
    assert_eq!(status, 404);
});

db_test!(pages_are_compressed_when_the_client_accepts_it, |app| {
    let page = |encoding: &'static str| {
        app.client
            .get(app.url("/"))
            .header("accept-encoding", encoding)
            .send()
    };
    // What browsers send: pages come gzipped (cheaper to make than brotli, see startup.rs).
    let r = page("br, gzip, deflate").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let zipped = r.bytes().await.unwrap();
    let mut html = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut html)
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        zipped.len() < html.len(),
        "{} of {}",
        zipped.len(),
        html.len()
    );
    // A client that takes brotli only gets the page as it is, never something it cannot read.
    let r = page("br").await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.text().await.unwrap().starts_with("<!DOCTYPE html>"));
});

db_test!(
    start_page_lists_demo_services_in_the_chosen_language,
    |app| {
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        // Loading twice changes nothing and fails nothing.
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        let (_, body) = app.get_text("/").await;
        assert!(body.contains("Bewohnerparkausweis beantragen"));
        let r = app
            .client
            .get(app.url("/"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Apply for a resident parking permit"));
    }
);

db_test!(development_pages_are_absent_in_production, |app| {
    assert_eq!(app.get("/dev/components").await.status(), 200);
    let prod = TestApp::spawn_with(app.backend, |c| {
        c.mode = amtsweg_server::config::Mode::Production;
        c.smtp_url = Some(amtsweg_server::secret::Secret::new(
            "smtp://127.0.0.1:1".into(),
        ));
        c.public_url = "https://portal.example".into();
        c.operator_name = Some("Stadt Musterstadt".into());
        c.operator_address = Some("Rathausplatz 1; 12345 Musterstadt".into());
        c.operator_email = Some("info@musterstadt.example".into());
        // Production on PostgreSQL refuses to start without shared deployment keys.
        c.encryption_keys = Some(amtsweg_server::secret::Secret::new(
            "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
        ));
    })
    .await;
    assert_eq!(prod.get("/dev/mail").await.status(), 404);
    assert_eq!(prod.get("/dev/components").await.status(), 404);
    let (_, body) = prod.get_text("/impressum").await;
    assert!(body.contains("Stadt Musterstadt") && body.contains("12345 Musterstadt"));
});

db_test!(
    security_txt_names_the_operator_and_expires_within_a_year,
    |app| {
        // Without an operator address there is nobody to report to: no file.
        assert_eq!(app.get("/.well-known/security.txt").await.status(), 404);
        let app = TestApp::spawn_with(app.backend, |c| {
            c.operator_email = Some("it-sicherheit@stadt.example".into());
            c.public_url = "https://portal.stadt.example".into();
        })
        .await;
        let r = app.get("/.well-known/security.txt").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        let text = r.text().await.unwrap();
        assert!(
            text.contains("Contact: mailto:it-sicherheit@stadt.example\n"),
            "{text}"
        );
        assert!(text.contains("Canonical: https://portal.stadt.example/.well-known/security.txt\n"));
        let expires = text
            .lines()
            .find_map(|l| l.strip_prefix("Expires: "))
            .expect("Expires is required");
        let expires =
            time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let now = time::OffsetDateTime::now_utc();
        assert!(expires > now && expires < now + time::Duration::days(365));
    }
);
