//! Two-factor login on SQLite and PostgreSQL: enrolment with QR code and typed key, login with
//! a code, wrong and replayed codes, recovery codes used once, throttling, staff forced into
//! enrolment, a half-logged-in session that reaches nothing, re-authentication before
//! sensitive changes (redirect and return, or the posted change carried along), reset by an
//! administrator and on the command line, each audited.

mod common;

use amtsweg_server::accounts::totp;
use amtsweg_server::accounts::users::{self, NewUser};
use amtsweg_server::demo::{ACCOUNTS, PASSWORD, TOTP_SECRET};
use amtsweg_server::domain::{Email, Role};
use amtsweg_server::secret::Secret;
use amtsweg_server::time::now_ms;
use common::mfa::*;
use common::people::{citizen, text};
use common::{csrf, enrolment_key, form, login, Backend, TestApp, ENROL_PATH, PW, STEP_PATH};

db_test!(citizen_enrols_and_logs_in_with_a_code_once, |app| {
    let email = "zwei@example.org";
    let client = citizen(&app, email).await;
    let (_, html) = text(&app, &client, SETTINGS).await;
    assert!(html.contains("Ausgeschaltet"));
    let (key, codes) = enrol(&app, &client).await;
    let (_, html) = text(&app, &client, SETTINGS).await;
    assert!(html.contains("10 von 10"), "{html}");
    // Only hashes are stored, and the key is the one the page showed.
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT code_sha256 FROM mfa_recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|h| h.len() == 64 && !codes.contains(h)));
    let secret: String = sqlx::query_scalar(
        "SELECT secret FROM mfa_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert!(
        amtsweg_server::crypto::is_sealed(&secret),
        "the TOTP key is stored encrypted"
    );
    let secret = app
        .state
        .db
        .vault
        .open(&app.state.db.pool, secret)
        .await
        .unwrap();
    assert_eq!(totp::base32_decode(&secret).unwrap(), key);
    assert_eq!(audit(&app, "mfa.enrol").await.len(), 1);

    // The password alone leads to the second step, under a new session id.
    log_out(&app, &client).await;
    let (other, jar) = app.other_client();
    let _ = text(&app, &other, "/anmelden").await;
    let before = cookie(&app, &jar);
    assert_eq!(password_step(&app, &other, email, PW).await, STEP_PATH);
    let pending = cookie(&app, &jar);
    assert_ne!(before, pending, "new session id after the password");
    assert_eq!(
        other.get(app.url("/konto")).send().await.unwrap().status(),
        303
    );

    let r = form(&app, &other, STEP_PATH, STEP_PATH, &[("code", "")]).await;
    assert_eq!(r.status(), 422);
    // The code that confirmed the enrolment was used up there.
    let step = totp::step_at(now_ms());
    let used: i64 = count(
        &app,
        "SELECT last_step FROM mfa_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
        email,
    )
    .await;
    let replay = totp::code(&key, used);
    let r = form(&app, &other, STEP_PATH, STEP_PATH, &[("code", &replay)]).await;
    assert_eq!(r.status(), 422, "a used code is refused");
    assert!(r.text().await.unwrap().contains("schon verwendet"));
    let fresh = totp::code(&key, (used + 1).max(step));
    let r = form(&app, &other, STEP_PATH, STEP_PATH, &[("code", &fresh)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/konto");
    assert_ne!(cookie(&app, &jar), pending, "new session id after the code");
    assert_eq!(
        other.get(app.url("/konto")).send().await.unwrap().status(),
        200
    );

    // The same code again on a third device: refused.
    let (third, _) = app.other_client();
    assert_eq!(password_step(&app, &third, email, PW).await, STEP_PATH);
    let r = form(&app, &third, STEP_PATH, STEP_PATH, &[("code", &fresh)]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        third.get(app.url("/konto")).send().await.unwrap().status(),
        303
    );
    let (_, overview) = text(&app, &other, "/konto").await;
    assert!(overview.contains("Zwei-Faktor-Authentisierung") && overview.contains("Eingeschaltet"));
});

db_test!(recovery_codes_work_once_and_codes_are_throttled, |app| {
    let email = "rettung@example.org";
    let client = citizen(&app, email).await;
    let (_, codes) = enrol(&app, &client).await;
    log_out(&app, &client).await;

    assert_eq!(password_step(&app, &client, email, PW).await, STEP_PATH);
    // Typed in lower case and without hyphens: still the code.
    let typed = codes[0].to_lowercase().replace('-', " ");
    let r = form(&app, &client, STEP_PATH, STEP_PATH, &[("code", &typed)]).await;
    assert_eq!(r.status(), 303);
    let used = audit(&app, "mfa.recovery_used").await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].1, "left=9");
    let (_, html) = text(&app, &client, SETTINGS).await;
    assert!(html.contains("9 von 10"));
    log_out(&app, &client).await;

    assert_eq!(password_step(&app, &client, email, PW).await, STEP_PATH);
    let r = form(&app, &client, STEP_PATH, STEP_PATH, &[("code", &codes[0])]).await;
    assert_eq!(r.status(), 422, "a recovery code works once");
    // Ten attempts per account; the eleventh waits, even with a right code.
    for _ in 0..9 {
        let r = form(
            &app,
            &client,
            STEP_PATH,
            STEP_PATH,
            &[("code", "0000-0000-0000-0000")],
        )
        .await;
        assert_eq!(r.status(), 422);
    }
    let r = form(&app, &client, STEP_PATH, STEP_PATH, &[("code", &codes[1])]).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().await.unwrap().contains("Zu viele Versuche"));
    assert_eq!(
        client.get(app.url("/konto")).send().await.unwrap().status(),
        303
    );
    assert_eq!(
        audit(&app, "mfa.recovery_used").await.len(),
        1,
        "nothing used up"
    );
});

/// Pages of every part of the portal that need a login, and a few changes.
const GUARDED: &[&str] = &[
    "/konto",
    "/konto/passwort",
    "/konto/daten",
    "/konto/profil",
    "/konto/postfach",
    "/konto/gebuehren",
    "/konto/zwei-faktor",
    "/konto/zwei-faktor/einrichten",
    "/verwaltung",
    "/verwaltung/postfach/p-stuttgart-parken",
    "/verwaltung/postfach/p-stuttgart-parken/vorlagen",
    "/verwaltung/vorgaenge/A7K-3M9-XQ2",
    "/verwaltung/zahlungen",
    "/verwaltung/admin",
    "/verwaltung/admin/mitarbeitende",
    "/verwaltung/admin/mitarbeitende/neu",
    "/verwaltung/admin/protokoll",
    "/verwaltung/admin/protokoll.csv",
];

/// Nothing of `GUARDED` opens, no change is made, and the API does not know the session.
async fn reaches_nothing(app: &TestApp, client: &reqwest::Client, token: &str) {
    for path in GUARDED {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/anmelden?next="), "{path}");
    }
    let epoch = "SELECT COUNT(*) FROM users WHERE session_epoch > 0 AND email = $1";
    let before = count(app, epoch, ACCOUNTS[2].0).await;
    for (path, fields) in [
        ("/konto/abmelden-ueberall", vec![]),
        (
            "/verwaltung/admin/behoerden/neu",
            vec![("name", "Heimlich"), ("ags", "08111000")],
        ),
        ("/konto/zwei-faktor/ausschalten", vec![]),
    ] {
        let mut all = fields.clone();
        all.push(("_csrf", token));
        let r = client.post(app.url(path)).form(&all).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/anmelden"), "{path}");
    }
    assert_eq!(count(app, epoch, ACCOUNTS[2].0).await, before);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM authorities WHERE name = 'Heimlich'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let r = client.get(app.url("/api/v1/cases")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

db_test!(half_logged_in_session_reaches_nothing, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let admin = ACCOUNTS[2].0;
    let (client, _) = app.other_client();
    assert_eq!(
        password_step(&app, &client, admin, PASSWORD).await,
        STEP_PATH
    );
    let (status, page) = text(&app, &client, STEP_PATH).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sicherheitscode"));
    assert!(
        !page.contains(admin),
        "the page does not say who is half logged in"
    );
    let token = csrf(&page);
    reaches_nothing(&app, &client, &token).await;
    // The step is still open; the code completes it and everything opens.
    let r = form(
        &app,
        &client,
        STEP_PATH,
        STEP_PATH,
        &[("code", &common::totp_code(&app, admin).await)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");
    for path in ["/verwaltung", "/verwaltung/admin/protokoll", "/konto"] {
        assert_eq!(
            client.get(app.url(path)).send().await.unwrap().status(),
            200,
            "{path}"
        );
    }
    // The demo key is the published one.
    let key = totp::base32_decode(TOTP_SECRET).unwrap();
    assert_eq!(key.len(), 20);
    let citizen_mfa = count(
        &app,
        "SELECT COUNT(*) FROM mfa_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
        ACCOUNTS[0].0,
    )
    .await;
    assert_eq!(citizen_mfa, 0, "the demo citizen has no second factor");
});

db_test!(staff_without_a_second_factor_must_enrol_first, |app| {
    let email = "neu@behoerde.example";
    let user = NewUser {
        email: Email::parse(email).unwrap(),
        password: Secret::new(PW.to_string()),
        role: Role::Caseworker,
        lang: amtsweg_app::i18n::Lang::De,
        verified: true,
    };
    users::create(&app.state.db, user, "http://localhost", false)
        .await
        .unwrap();
    let (client, _) = app.other_client();
    assert_eq!(password_step(&app, &client, email, PW).await, ENROL_PATH);
    let (status, html) = text(&app, &client, ENROL_PATH).await;
    assert_eq!(status, 200);
    assert!(html.contains("vorgeschrieben"));
    assert!(html.contains("<svg"));
    reaches_nothing(&app, &client, &csrf(&html)).await;
    // The code page belongs to another stage and sends back to the login.
    let r = client.get(app.url(STEP_PATH)).send().await.unwrap();
    assert_eq!(location(&r), "/anmelden");
    // The key stays the same on a reload (the app may have scanned it already).
    let key = enrolment_key(&html);
    let (_, again) = text(&app, &client, ENROL_PATH).await;
    assert_eq!(enrolment_key(&again), key);
    let code = totp::code(&key, totp::step_at(now_ms()));
    let r = form(&app, &client, ENROL_PATH, ENROL_PATH, &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), CODES);
    let (_, html) = text(&app, &client, CODES).await;
    assert_eq!(codes_in(&html).len(), 10);
    assert!(
        html.contains("href=\"/\""),
        "continues where the login was going"
    );
    assert_eq!(
        client
            .get(app.url("/verwaltung"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Staff cannot switch it off.
    let (_, settings) = text(&app, &client, SETTINGS).await;
    assert!(settings.contains("vorgeschrieben"));
    let r = form(
        &app,
        &client,
        SETTINGS,
        "/konto/zwei-faktor/ausschalten",
        &[],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(audit(&app, "mfa.enrol").await.len(), 1);
});

db_test!(citizen_switches_it_off_after_confirming, |app| {
    let email = "aus@example.org";
    let client = citizen(&app, email).await;
    enrol(&app, &client).await;
    let r = form(
        &app,
        &client,
        SETTINGS,
        "/konto/zwei-faktor/ausschalten",
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/konto/zwei-faktor?ok=disabled");
    let mfa = "SELECT COUNT(*) FROM mfa_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1";
    assert_eq!(count(&app, mfa, email).await, 0);
    let left = "SELECT COUNT(*) FROM mfa_recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = $1";
    assert_eq!(count(&app, left, email).await, 0);
    let off = audit(&app, "mfa.disable").await;
    assert_eq!(off.len(), 1);
    assert_eq!(off[0].0, email);
    log_out(&app, &client).await;
    assert_eq!(password_step(&app, &client, email, PW).await, "/konto");
});

/// Re-authentication with a window of two seconds, so that it runs out within the test.
mod reauthentication {
    use super::*;

    const CONFIRM: &str = "/konto/identitaet-bestaetigen";

    async fn wait_out() {
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    }

    async fn run(backend: Backend) {
        let app = TestApp::spawn_with(backend, |c| c.reauth_seconds = 2).await;
        let email = "sicher@example.org";
        let client = citizen(&app, email).await;
        let (status, _) = text(&app, &client, "/konto/passwort").await;
        assert_eq!(status, 200, "the login counts as a confirmation");

        // A page with a sensitive form sends to the confirmation and back.
        wait_out().await;
        let r = client.get(app.url("/konto/passwort")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let confirm = location(&r);
        assert_eq!(confirm, format!("{CONFIRM}?next=%2Fkonto%2Fpasswort"));
        let (status, html) = text(&app, &client, &confirm).await;
        assert_eq!(status, 200);
        assert!(html.contains("_reauth_password") && !html.contains("_reauth_code"));
        let wrong = [
            ("next", "/konto/passwort"),
            ("_reauth_password", "falsch falsch falsch"),
        ];
        let r = form(&app, &client, &confirm, CONFIRM, &wrong).await;
        assert_eq!(r.status(), 422);
        let elsewhere = [("next", "//evil.example"), ("_reauth_password", PW)];
        let r = form(&app, &client, &confirm, CONFIRM, &elsewhere).await;
        assert_eq!(location(&r), "/konto", "only paths of this site");
        let back = [("next", "/konto/passwort"), ("_reauth_password", PW)];
        let r = form(&app, &client, &confirm, CONFIRM, &back).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/konto/passwort");
        assert_eq!(text(&app, &client, "/konto/passwort").await.0, 200);

        // A change posted too late is answered with the confirmation, which carries it along;
        // the password typed into the form is not written back into the page.
        wait_out().await;
        let change = [
            ("new_email", "neu.sicher@example.org"),
            ("current_password", PW),
        ];
        let r = form(&app, &client, "/konto", "/konto/email", &change).await;
        assert_eq!(r.status(), 403);
        let html = r.text().await.unwrap();
        assert!(html.contains("action=\"/konto/email\""));
        assert!(html.contains("name=\"new_email\" value=\"neu.sicher@example.org\""));
        assert!(!html.contains(PW) && !html.contains("current_password"));
        let token = csrf(&html);
        let carried = [
            ("_csrf", token.as_str()),
            ("new_email", "neu.sicher@example.org"),
            ("_reauth_password", PW),
        ];
        let r = client
            .post(app.url("/konto/email"))
            .form(&carried)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "the form asks for its own password again");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("value=\"neu.sicher@example.org\""),
            "nothing lost"
        );
        assert!(html.contains("Geben Sie Ihr Passwort ein"));
        let r = form(&app, &client, "/konto/email", "/konto/email", &change).await;
        assert_eq!(location(&r), "/konto?ok=email_sent");
        app.mail_text("neu.sicher@example.org", 0).await;

        // With a second factor the confirmation asks for a code as well.
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        let admin_email = ACCOUNTS[2].0;
        let (admin, _) = app.other_client();
        assert_eq!(
            login(&app, &admin, admin_email, PASSWORD).await.status(),
            303
        );
        wait_out().await;
        let new_staff = "/verwaltung/admin/mitarbeitende/neu";
        let fields = [
            ("email", "spaet@behoerde.example"),
            ("role", "caseworker"),
            ("lang", "de"),
        ];
        let r = form(&app, &admin, "/verwaltung/admin", new_staff, &fields).await;
        assert_eq!(r.status(), 403);
        let html = r.text().await.unwrap();
        assert!(html.contains("_reauth_code"));
        let token = csrf(&html);
        let mut sent = vec![("_csrf", token.as_str()), ("_reauth_password", PASSWORD)];
        sent.extend(fields);
        let mut with_code = sent.clone();
        with_code.push(("_reauth_code", "12345"));
        let r = admin
            .post(app.url(new_staff))
            .form(&with_code)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("name=\"email\" value=\"spaet@behoerde.example\""),
            "still carried"
        );
        let code = common::totp_code(&app, admin_email).await;
        let mut with_code = sent.clone();
        with_code.push(("_reauth_code", code.as_str()));
        let r = admin
            .post(app.url(new_staff))
            .form(&with_code)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            location(&r),
            "/verwaltung/admin/mitarbeitende?ok=staff_created"
        );
        let created = "SELECT COUNT(*) FROM users WHERE email = $1";
        assert_eq!(count(&app, created, "spaet@behoerde.example").await, 1);
    }

    #[tokio::test]
    async fn sqlite() {
        run(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() {
        run(Backend::Postgres).await
    }
}

async fn user_id(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

const HAS_MFA: &str =
    "SELECT COUNT(*) FROM mfa_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1";

db_test!(administrator_resets_another_accounts_second_factor, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let (caseworker_email, admin_email) = (ACCOUNTS[1].0, ACCOUNTS[2].0);
    let (admin, _) = app.other_client();
    assert_eq!(
        login(&app, &admin, admin_email, PASSWORD).await.status(),
        303
    );
    let (caseworker, _) = app.other_client();
    assert_eq!(
        login(&app, &caseworker, caseworker_email, PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(
        caseworker
            .get(app.url("/verwaltung"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let list = "/verwaltung/admin/mitarbeitende";
    let reset = |id: &str| format!("{list}/{id}/zwei-faktor-zuruecksetzen");
    let (cw_id, admin_id) = (
        user_id(&app, caseworker_email).await,
        user_id(&app, admin_email).await,
    );
    let (_, html) = text(&app, &admin, list).await;
    assert!(html.contains(&reset(&cw_id)));
    assert!(!html.contains(&reset(&admin_id)), "not for the own account");
    let r = form(&app, &admin, list, &reset(&admin_id), &[]).await;
    assert_eq!(r.status(), 404);

    let r = form(&app, &admin, list, &reset(&cw_id), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{list}?ok=mfa_reset"));
    assert_eq!(count(&app, HAS_MFA, caseworker_email).await, 0);
    let entries = audit(&app, "mfa.reset").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, admin_email);
    assert_eq!(entries[0].1, format!("email={caseworker_email}"));
    let (_, html) = text(&app, &admin, list).await;
    assert!(html.contains("noch nicht eingerichtet"));
    // The caseworker's session has ended; the next login sets up a new authenticator.
    let r = caseworker.get(app.url("/verwaltung")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        password_step(&app, &caseworker, caseworker_email, PASSWORD).await,
        ENROL_PATH
    );
    // An account that does not exist.
    assert_eq!(
        form(&app, &admin, list, &reset("no-such-account"), &[])
            .await
            .status(),
        404
    );
});

db_test!(
    command_line_resets_the_last_administrators_second_factor,
    |app| {
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        let admin_email = ACCOUNTS[2].0;
        let database_url = app
            .state
            .config
            .database_url
            .as_ref()
            .map(|u| u.expose().clone());
        let dir = app.dir.clone();
        let run = move |email: &'static str| {
            let (database_url, dir) = (database_url.clone(), dir.clone());
            tokio::task::spawn_blocking(move || {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_amtsweg"));
                cmd.args(["user", "reset-mfa", "--email", email])
                    .env("AMTSWEG_DATA_DIR", &dir)
                    .env("AMTSWEG_LOG_FORMAT", "json")
                    .env_remove("DATABASE_URL");
                if let Some(url) = database_url {
                    cmd.env("DATABASE_URL", url);
                }
                cmd.output().unwrap()
            })
        };
        let out = run(admin_email).await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("removed"));
        assert_eq!(count(&app, HAS_MFA, admin_email).await, 0);
        let entries = audit(&app, "mfa.reset").await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, "amtsweg (command line)");
        // Twice changes nothing; an unknown address is an error.
        let out = run(admin_email).await.unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
        assert_eq!(audit(&app, "mfa.reset").await.len(), 1);
        let out = run("niemand@amtsweg.example").await.unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no account"));
        // The administrator logs in and sets up a new authenticator.
        let (admin, _) = app.other_client();
        assert_eq!(
            password_step(&app, &admin, admin_email, PASSWORD).await,
            ENROL_PATH
        );
        let r = login(&app, &admin, admin_email, PASSWORD).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            admin
                .get(app.url("/verwaltung/admin"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
);
