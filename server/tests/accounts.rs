//! Accounts over HTTP on SQLite and PostgreSQL: registration and verification, login and
//! sessions, CSRF, enumeration resistance, password and address changes, profile, privacy.

mod common;

use common::{csrf, link, Backend, TestApp};

use common::{form, login, registered, PW};

db_test!(register_verify_login_logout, |app| {
    registered(&app, "erika@example.org").await;
    let before = app.cookies();
    let r = login(&app, &app.client, "erika@example.org", PW).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/konto");
    let after = app.cookies();
    assert_ne!(before, after, "the session id changes at login");
    let r = app.get("/konto").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("erika@example.org"));
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'erika@example.org'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    // Logging out ends the session: the old cookie no longer opens the account.
    let page = app.get("/konto").await.text().await.unwrap();
    let r = app
        .client
        .post(app.url("/abmelden"))
        .form(&[("_csrf", csrf(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (other, _) = app.other_client();
    let r = other
        .get(app.url("/konto"))
        .header("cookie", after)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "old session cookie must be rejected");
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/anmelden?next="));
});

db_test!(
    unverified_accounts_cannot_log_in_and_get_a_new_link,
    |app| {
        let r = form(
            &app,
            &app.client,
            "/registrieren",
            "/registrieren",
            &[
                ("email", "new@example.org"),
                ("password", PW),
                ("password_confirm", PW),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        app.mail_text("new@example.org", 0).await;
        let r = login(&app, &app.client, "new@example.org", PW).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("bestätigen Sie zuerst"));
        app.mail_text("new@example.org", 1).await;
    }
);

db_test!(
    weak_and_mismatched_passwords_are_refused_with_values_kept,
    |app| {
        let r = form(
            &app,
            &app.client,
            "/registrieren",
            "/registrieren",
            &[
                ("email", "weak@example.org"),
                ("password", "password1234"),
                ("password_confirm", "password1234"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(body.contains("Listen häufig verwendeter"), "reason shown");
        assert!(
            body.contains("value=\"weak@example.org\""),
            "entered address kept"
        );
        assert!(
            body.contains("href=\"#password\""),
            "error summary links to the field"
        );
        let r = form(
            &app,
            &app.client,
            "/registrieren",
            "/registrieren",
            &[
                ("email", "x@example.org"),
                ("password", PW),
                ("password_confirm", "other"),
            ],
        )
        .await;
        assert!(r.text().await.unwrap().contains("stimmen nicht überein"));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
);

db_test!(
    requests_without_token_or_from_foreign_origins_change_nothing,
    |app| {
        registered(&app, "csrf@example.org").await;
        let r = login(&app, &app.client, "csrf@example.org", PW).await;
        assert_eq!(r.status(), 303);
        // No token.
        let r = app
            .client
            .post(app.url("/konto/abmelden-ueberall"))
            .form(&[("x", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Wrong token.
        let r = app
            .client
            .post(app.url("/konto/abmelden-ueberall"))
            .form(&[("_csrf", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Right token, foreign origin.
        let page = app.get("/konto").await.text().await.unwrap();
        let r = app
            .client
            .post(app.url("/konto/abmelden-ueberall"))
            .header("origin", "https://evil.example")
            .form(&[("_csrf", csrf(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let epoch: i64 =
            sqlx::query_scalar("SELECT session_epoch FROM users WHERE email = 'csrf@example.org'")
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(epoch, 0, "nothing changed");
        assert_eq!(app.get("/konto").await.status(), 200, "still logged in");
    }
);

db_test!(known_and_unknown_addresses_get_identical_answers, |app| {
    registered(&app, "known@example.org").await;
    // Login: wrong password for a known address vs. an unknown address.
    let html = app.get("/anmelden").await.text().await.unwrap();
    let token = csrf(&html);
    let post = |email: &'static str| {
        let (client, token) = (app.client.clone(), token.clone());
        let url = app.url("/anmelden");
        async move {
            let r = client
                .post(url)
                .form(&[
                    ("email", email),
                    ("password", "wrong password here"),
                    ("_csrf", token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s1, b1) = post("known@example.org").await;
    let (s2, b2) = post("unknown@example.org").await;
    assert_eq!(s1, s2);
    assert_eq!(
        b1.replace("known@example.org", "X"),
        b2.replace("unknown@example.org", "X")
    );
    // Registration and reset answer the same redirect.
    for (page, fields, unknown) in [
        (
            "/registrieren",
            vec![("password", PW), ("password_confirm", PW)],
            "fresh@example.org",
        ),
        ("/passwort-vergessen", vec![], "nobody@example.org"),
    ] {
        let mut a = fields.clone();
        a.push(("email", "known@example.org"));
        let mut b = fields.clone();
        b.push(("email", unknown));
        let ra = form(&app, &app.client, page, page, &a).await;
        let rb = form(&app, &app.client, page, page, &b).await;
        assert_eq!(ra.status(), rb.status(), "{page}");
        assert_eq!(
            ra.headers().get("location"),
            rb.headers().get("location"),
            "{page}"
        );
        assert_eq!(ra.text().await.unwrap(), rb.text().await.unwrap(), "{page}");
    }
    // The owner of the known address hears of the attempt (and gets the reset link); a new
    // address gets its verification link; an unknown reset gets no mail.
    let text = app.mail_text("known@example.org", 2).await;
    assert!(text.contains("passwort-neu"), "{text}");
    assert_eq!(app.mail_count("known@example.org"), 3);
    assert!(app
        .mail_text("fresh@example.org", 0)
        .await
        .contains("/konto/bestaetigen/"));
    assert_eq!(app.mail_count("nobody@example.org"), 0);
});

db_test!(
    password_reset_ends_all_sessions_and_tokens_are_single_use,
    |app| {
        registered(&app, "reset@example.org").await;
        assert_eq!(
            login(&app, &app.client, "reset@example.org", PW)
                .await
                .status(),
            303
        );
        let old_cookie = app.cookies();
        let (other, _) = app.other_client();
        let r = form(
            &app,
            &other,
            "/passwort-vergessen",
            "/passwort-vergessen",
            &[("email", "reset@example.org")],
        )
        .await;
        assert_eq!(r.headers()["location"], "/passwort-vergessen/gesendet");
        let text = app.mail_text("reset@example.org", 1).await;
        let path = link(&text, "/passwort-neu/");
        let new_pw = "Kiefer Drachen Nebel Uhr";
        let r = form(
            &app,
            &other,
            &path,
            &path,
            &[("password", new_pw), ("password_confirm", new_pw)],
        )
        .await;
        assert_eq!(r.headers()["location"], "/anmelden?ok=reset");
        // Used once only.
        let r = other.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404);
        // The session that existed before the reset is over.
        let (third, _) = app.other_client();
        let r = third
            .get(app.url("/konto"))
            .header("cookie", old_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            login(&app, &third, "reset@example.org", new_pw)
                .await
                .status(),
            303
        );
    }
);

db_test!(
    password_change_ends_other_sessions_but_keeps_this_one,
    |app| {
        registered(&app, "change@example.org").await;
        assert_eq!(
            login(&app, &app.client, "change@example.org", PW)
                .await
                .status(),
            303
        );
        let (second, _) = app.other_client();
        assert_eq!(
            login(&app, &second, "change@example.org", PW)
                .await
                .status(),
            303
        );
        assert_eq!(
            second.get(app.url("/konto")).send().await.unwrap().status(),
            200
        );
        let new_pw = "Möwe Kompass Laterne Sand";
        let r = form(
            &app,
            &app.client,
            "/konto/passwort",
            "/konto/passwort",
            &[
                ("current_password", "falsch falsch falsch"),
                ("password", new_pw),
                ("password_confirm", new_pw),
            ],
        )
        .await;
        assert_eq!(r.status(), 422, "wrong current password");
        let r = form(
            &app,
            &app.client,
            "/konto/passwort",
            "/konto/passwort",
            &[
                ("current_password", PW),
                ("password", new_pw),
                ("password_confirm", new_pw),
            ],
        )
        .await;
        assert_eq!(r.headers()["location"], "/konto?ok=password");
        assert_eq!(
            app.get("/konto").await.status(),
            200,
            "this session continues"
        );
        assert_eq!(
            second.get(app.url("/konto")).send().await.unwrap().status(),
            303,
            "the other one ended"
        );
        let text = app.mail_text("change@example.org", 1).await;
        assert!(text.contains("Passwort"), "{text}");
    }
);

db_test!(
    email_change_takes_effect_after_confirmation_and_notifies_the_old_address,
    |app| {
        registered(&app, "old@example.org").await;
        assert_eq!(
            login(&app, &app.client, "old@example.org", PW)
                .await
                .status(),
            303
        );
        let r = form(
            &app,
            &app.client,
            "/konto/email",
            "/konto/email",
            &[("new_email", "new@example.org"), ("current_password", PW)],
        )
        .await;
        assert_eq!(r.headers()["location"], "/konto?ok=email_sent");
        let email: String = sqlx::query_scalar("SELECT email FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(email, "old@example.org", "not yet");
        let text = app.mail_text("new@example.org", 0).await;
        let path = link(&text, "/konto/email/");
        let r = form(&app, &app.client, &path, &path, &[]).await;
        assert_eq!(r.headers()["location"], "/konto?ok=email");
        let email: String = sqlx::query_scalar("SELECT email FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(email, "new@example.org");
        let notice = app.mail_text("old@example.org", 1).await;
        assert!(notice.contains("new@example.org"));
    }
);

db_test!(
    profile_with_an_ambiguous_postal_code_asks_for_the_municipality,
    |app| {
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        registered(&app, "profil@example.org").await;
        assert_eq!(
            login(&app, &app.client, "profil@example.org", PW)
                .await
                .status(),
            303
        );
        let fields = [
            ("given_name", "Erika"),
            ("family_name", "Mustermann"),
            ("birth.day", "27"),
            ("birth.month", "3"),
            ("birth.year", "1990"),
            ("street", "Hauptstraße"),
            ("house_number", "1"),
            ("postal_code", "99998"),
            ("place", ""),
            ("phone", ""),
        ];
        let r = form(&app, &app.client, "/konto/profil", "/konto/profil", &fields).await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Körner") && body.contains("Mühlhausen"),
            "both municipalities offered"
        );
        assert!(body.contains("value=\"Erika\""), "entries kept");
        let mut with_choice = fields.to_vec();
        with_choice.push(("ags", "16064046"));
        let r = form(
            &app,
            &app.client,
            "/konto/profil",
            "/konto/profil",
            &with_choice,
        )
        .await;
        assert_eq!(r.headers()["location"], "/konto/profil?ok=1");
        let (ags, place, birth): (String, String, String) =
            sqlx::query_as("SELECT ags, place, birth_date FROM profiles")
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        assert_eq!(
            (ags.as_str(), place.as_str(), birth.as_str()),
            ("16064046", "Mühlhausen", "1990-03-27")
        );
        // Bad input is refused with reasons and nothing stored changes.
        let mut bad = with_choice.clone();
        bad.retain(|(k, _)| *k != "birth.day" && *k != "phone");
        bad.push(("birth.day", "31"));
        bad.push(("phone", "call me\u{7}"));
        let r = form(&app, &app.client, "/konto/profil", "/konto/profil", &bad).await;
        assert_eq!(r.status(), 422);
        let birth: String = sqlx::query_scalar("SELECT birth_date FROM profiles")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(birth, "1990-03-27");
        // Export contains the profile.
        let r = app.get("/konto/daten").await;
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let json: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(json["account"]["email"], "profil@example.org");
        assert_eq!(json["profile"]["municipality_key"], "16064046");
    }
);

db_test!(
    account_deletion_needs_confirmation_and_removes_everything,
    |app| {
        registered(&app, "bye@example.org").await;
        assert_eq!(
            login(&app, &app.client, "bye@example.org", PW)
                .await
                .status(),
            303
        );
        let r = form(
            &app,
            &app.client,
            "/konto/loeschen",
            "/konto/loeschen",
            &[("current_password", PW)],
        )
        .await;
        assert_eq!(r.status(), 422, "confirmation box not ticked");
        let r = form(
            &app,
            &app.client,
            "/konto/loeschen",
            "/konto/loeschen",
            &[("current_password", PW), ("confirm", "yes")],
        )
        .await;
        assert_eq!(r.headers()["location"], "/konto-geloescht");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(app.get("/konto").await.status(), 303);
        let r = login(&app, &app.client, "bye@example.org", PW).await;
        assert_eq!(r.status(), 422);
    }
);

db_test!(
    login_is_throttled_per_account_and_forged_forwarded_for_gains_nothing,
    |app| {
        registered(&app, "target@example.org").await;
        let html = app.get("/anmelden").await.text().await.unwrap();
        let token = csrf(&html);
        let mut last = 0;
        for i in 0..11 {
            let r = app
                .client
                .post(app.url("/anmelden"))
                .header("x-forwarded-for", format!("10.0.0.{i}"))
                .form(&[
                    ("email", "target@example.org"),
                    ("password", "wrong password here"),
                    ("_csrf", token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            last = r.status().as_u16();
        }
        assert_eq!(last, 429);
        // Even the right password waits now, with a clear message and a retry time.
        let r = login(&app, &app.client, "target@example.org", PW).await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_some());
        assert!(r.text().await.unwrap().contains("Zu viele Versuche"));
    }
);

db_test!(redirect_after_login_stays_on_this_site, |app| {
    registered(&app, "next@example.org").await;
    let html = app
        .get("/anmelden?next=//evil.example")
        .await
        .text()
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/anmelden"))
        .form(&[
            ("email", "next@example.org"),
            ("password", PW),
            ("next", "//evil.example"),
            ("_csrf", csrf(&html).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/konto");
    let _ = Backend::Sqlite;
});

/// On PostgreSQL the session store reads the account with the session in one statement
/// (`accounts/pg_session.rs`). The account must still be read afresh on every request (another
/// instance may have changed it), and what the store carries along must never be stored.
#[tokio::test]
async fn postgres_sessions_read_the_account_with_the_session() {
    let app = TestApp::spawn(Backend::Postgres).await;
    registered(&app, "gemeinsam@example.org").await;
    assert_eq!(
        login(&app, &app.client, "gemeinsam@example.org", PW)
            .await
            .status(),
        303
    );
    let stored = || async {
        sqlx::query_as::<_, (Option<String>, i32, i32)>(
            "SELECT s.user_id, \
             position(convert_to('__account', 'UTF8') in s.data), \
             position(convert_to('enrol_secret', 'UTF8') in s.data) \
             FROM tower_sessions.session s JOIN users u ON u.id = s.user_id \
             WHERE u.email IN ('gemeinsam@example.org', 'umgezogen@example.org')",
        )
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
    };
    let rows = stored().await;
    assert_eq!(rows.len(), 1, "the login's session carries its account id");
    assert_eq!(rows[0].1, 0);

    // Changed behind this instance's back, as another instance would: the next page knows.
    sqlx::query("UPDATE users SET email = 'umgezogen@example.org' WHERE email = $1")
        .bind("gemeinsam@example.org")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (status, body) = app.get_text("/konto").await;
    assert_eq!(status, 200);
    assert!(body.contains("umgezogen@example.org"));

    // A page that writes to the session (the enrolment key) stores it without the account.
    assert_eq!(app.get("/konto/zwei-faktor/einrichten").await.status(), 200);
    let rows = stored().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, 0, "the joined account is never written back");
    assert!(rows[0].2 > 0, "the page did write the session");

    // "Log out everywhere" from another instance: the session epoch moves on.
    sqlx::query("UPDATE users SET session_epoch = session_epoch + 1")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let r = app.get("/konto").await;
    assert_eq!(r.status(), 303, "a stale epoch ends the session at once");
}
