//! Administration on SQLite and PostgreSQL: authorities, postboxes, staff accounts with a
//! mailed set-password link, memberships, responsibility rules and the test lookup, service
//! versions (import with errors, retire), routing of unrouted cases, the audit log (view,
//! filter, CSV) with an entry for every change; nobody but administrators reaches any of it,
//! and the database refuses to rewrite the audit log.

mod common;

use amtsweg_server::demo::{ACCOUNTS, PASSWORD};
use common::apply::submit_parking;
use common::{csrf, form, link, login, Backend, TestApp, PW};

const DOG_TAX: &str = "99016001002000";
const DOG_TAX_TOML: &str = include_str!("../forms/dog-tax.toml");

async fn demo(app: &TestApp) {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
}

/// A demo account (citizen, caseworker, admin) logged in on a client of its own.
async fn demo_login(app: &TestApp, role: &str) -> reqwest::Client {
    let email = ACCOUNTS.iter().find(|(_, r)| *r == role).unwrap().0;
    let (client, _) = app.other_client();
    assert_eq!(login(app, &client, email, PASSWORD).await.status(), 303);
    client
}

async fn text(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form with the token of `page` and returns (status, location, body).
async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let r = form(app, client, page, action, fields).await;
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// The id in a location such as `/verwaltung/admin/behoerden/{id}?ok=saved`.
fn id_in(location: &str, prefix: &str) -> String {
    location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location} does not start with {prefix}"))
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

/// Posts the import form (multipart, token in the query) with pasted text.
async fn import(app: &TestApp, client: &reqwest::Client, definition: &str) -> (u16, String) {
    let (_, html) = text(app, client, "/verwaltung/admin/leistungen/import").await;
    let token = csrf(&html);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
        )
        .text("definition", definition.to_string());
    let r = client
        .post(app.url(&format!(
            "/verwaltung/admin/leistungen/import?_csrf={token}"
        )))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// What axe would refuse first on these pages: not exactly one `h1`, a repeated id, or a form
/// control without a label pointing at it.
fn assert_sound(path: &str, html: &str) {
    assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
    let ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "{path}: repeated ids in {ids:?}");
    for tag in ["<input", "<select", "<textarea"] {
        for part in html.split(tag).skip(1) {
            let element = part.split('>').next().unwrap();
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element
                .split(" id=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("{path}: {tag} without id: {element}"));
            assert!(
                html.contains(&format!("for=\"{id}\"")),
                "{path}: no label for {id}"
            );
        }
    }
}

async fn scalar_i64(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(bind)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

db_test!(an_administrator_sets_up_the_back_office, |app| {
    demo(&app).await;
    let admin = demo_login(&app, "admin").await;
    let (status, html) = text(&app, &admin, "/verwaltung/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Administration</h1>"), "{html}");

    // An authority: mistakes are named and nothing typed is lost.
    let new = "/verwaltung/admin/behoerden/neu";
    let mut fields = vec![
        ("name", "Stadt Mühlhausen"),
        ("ags", "1606404"),
        ("street", "Ratsstraße 19"),
        ("postal_code", "99974"),
        ("city", "Mühlhausen"),
        ("email", "buergerbuero@muehlhausen.example"),
        ("phone", "03601 452-0"),
    ];
    let (status, _, html) = post(&app, &admin, new, new, &fields).await;
    assert_eq!(status, 422);
    assert!(html.contains("8 Ziffern") && html.contains("value=\"Ratsstraße 19\""));
    fields[1].1 = "16064046";
    let (status, location, _) = post(&app, &admin, new, new, &fields).await;
    assert_eq!(status, 303);
    let authority = id_in(&location, "/verwaltung/admin/behoerden/");
    let edit = format!("/verwaltung/admin/behoerden/{authority}/bearbeiten");
    fields[0].1 = "Stadtverwaltung Mühlhausen";
    let (status, _, _) = post(&app, &admin, &edit, &edit, &fields).await;
    assert_eq!(status, 303);
    let (_, html) = text(
        &app,
        &admin,
        &format!("/verwaltung/admin/behoerden/{authority}"),
    )
    .await;
    assert!(html.contains("Stadtverwaltung Mühlhausen"));

    // A postbox of it.
    let new_box = format!("/verwaltung/admin/behoerden/{authority}/postfaecher/neu");
    let mut box_fields = vec![
        ("name", "Steueramt"),
        ("email", "steuer@muehlhausen.example"),
        ("processing_days", "0"),
    ];
    let (status, _, html) = post(&app, &admin, &new_box, &new_box, &box_fields).await;
    assert_eq!(status, 422);
    assert!(html.contains("1 bis 365"));
    box_fields[2].1 = "14";
    let (status, location, _) = post(&app, &admin, &new_box, &new_box, &box_fields).await;
    assert_eq!(status, 303);
    let postbox = id_in(&location, "/verwaltung/admin/postfaecher/");
    let (status, _, html) = post(&app, &admin, &new_box, &new_box, &box_fields).await;
    assert_eq!(status, 422, "same name twice in one authority");
    assert!(html.contains("bereits ein Postfach"));
    let edit_box = format!("/verwaltung/admin/postfaecher/{postbox}/bearbeiten");
    box_fields[2].1 = "21";
    let (status, _, _) = post(&app, &admin, &edit_box, &edit_box, &box_fields).await;
    assert_eq!(status, 303);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT processing_days FROM postboxes WHERE id = $1",
            &postbox
        )
        .await,
        21
    );

    // A staff account: no password from the administrator; a link arrives by mail.
    let staff_new = "/verwaltung/admin/mitarbeitende/neu";
    let staff_fields = [
        ("email", "neu.sb@muehlhausen.example"),
        ("role", "caseworker"),
        ("lang", "de"),
    ];
    let (status, location, _) = post(&app, &admin, staff_new, staff_new, &staff_fields).await;
    assert_eq!(status, 303);
    assert_eq!(location, "/verwaltung/admin/mitarbeitende?ok=staff_created");
    let (status, _, html) = post(&app, &admin, staff_new, staff_new, &staff_fields).await;
    assert_eq!(status, 422, "a second account for the same address");
    assert!(html.contains("bereits ein Konto"));
    let mail = app.mail_text("neu.sb@muehlhausen.example", 0).await;
    assert!(mail.contains("Sachbearbeitung"), "{mail}");
    let path = link(&mail, "/passwort-neu/");
    let (staff_client, _) = app.other_client();
    assert_eq!(
        login(&app, &staff_client, "neu.sb@muehlhausen.example", PW)
            .await
            .status(),
        422,
        "nobody knows the first password"
    );
    let r = form(
        &app,
        &staff_client,
        &path,
        &path,
        &[("password", PW), ("password_confirm", PW)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        login(&app, &staff_client, "neu.sb@muehlhausen.example", PW)
            .await
            .status(),
        303
    );
    let staff_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind("neu.sb@muehlhausen.example")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let citizen_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(ACCOUNTS[0].0)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();

    // Memberships: staff only, role changed, removed, added again.
    let box_page = format!("/verwaltung/admin/postfaecher/{postbox}");
    let add = format!("{box_page}/mitglieder");
    let (status, _, html) = post(
        &app,
        &admin,
        &box_page,
        &add,
        &[("user", &citizen_id), ("role", "caseworker")],
    )
    .await;
    assert_eq!(status, 422, "citizens are never members");
    assert!(html.contains("Konto der Sachbearbeitung oder Administration"));
    let (_, page) = text(&app, &admin, &box_page).await;
    assert!(!page.contains(ACCOUNTS[0].0), "citizens are not offered");
    let (status, _, _) = post(
        &app,
        &admin,
        &box_page,
        &add,
        &[("user", &staff_id), ("role", "caseworker")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post(
        &app,
        &admin,
        &box_page,
        &format!("{box_page}/mitglieder/{staff_id}/rolle"),
        &[("role", "lead")],
    )
    .await;
    assert_eq!(status, 303);
    let role: String =
        sqlx::query_scalar("SELECT role FROM memberships WHERE postbox_id = $1 AND user_id = $2")
            .bind(&postbox)
            .bind(&staff_id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(role, "lead");
    let (status, _, _) = post(
        &app,
        &admin,
        &box_page,
        &format!("{box_page}/mitglieder/{staff_id}/entfernen"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post(
        &app,
        &admin,
        &box_page,
        &add,
        &[("user", &staff_id), ("role", "caseworker")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, staff_list) = text(&app, &admin, "/verwaltung/admin/mitarbeitende").await;
    assert!(staff_list.contains("neu.sb@muehlhausen.example") && staff_list.contains("Steueramt"));

    // Responsibility rules and the test lookup.
    let rules = "/verwaltung/admin/zustaendigkeiten";
    let rule = [
        ("service", DOG_TAX),
        ("area_kind", "municipality"),
        ("area_code", "16064046"),
        ("postbox", postbox.as_str()),
    ];
    let (status, _, html) = post(
        &app,
        &admin,
        rules,
        rules,
        &[
            ("service", DOG_TAX),
            ("area_kind", "municipality"),
            ("area_code", "160640"),
            ("postbox", &postbox),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("8 Ziffern") && html.contains("value=\"160640\""));
    let (status, _, _) = post(&app, &admin, rules, rules, &rule).await;
    assert_eq!(status, 303);
    let (status, _, html) = post(&app, &admin, rules, rules, &rule).await;
    assert_eq!(status, 422, "one rule per service and area");
    assert!(html.contains("bereits eine Regel"));
    let (_, page) = text(&app, &admin, &format!("{rules}?leistung={DOG_TAX}")).await;
    assert!(page.contains("16064046") && page.contains("Stadtverwaltung Mühlhausen – Steueramt"));
    let lookup = format!("{rules}/pruefen?leistung={DOG_TAX}&plz=99998");
    let (status, page) = text(&app, &admin, &lookup).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Körner") && page.contains("value=\"16064046\""),
        "an ambiguous postal code asks for the municipality"
    );
    let (_, page) = text(&app, &admin, &format!("{lookup}&ags=16064046")).await;
    assert!(page.contains("Zuständiges Postfach gefunden") && page.contains("Steueramt"));
    let (_, page) = text(&app, &admin, &format!("{lookup}&ags=16064037")).await;
    assert!(page.contains("Keine Regel passt"));
    let (status, page) = text(
        &app,
        &admin,
        &format!("{rules}/pruefen?leistung={DOG_TAX}&plz=123"),
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("5 Ziffern"));
    // A second rule, deleted again.
    let (status, _, _) = post(
        &app,
        &admin,
        rules,
        rules,
        &[
            ("service", DOG_TAX),
            ("area_kind", "county"),
            ("area_code", "16064"),
            ("postbox", &postbox),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let county_rule: String = sqlx::query_scalar(
        "SELECT id FROM responsibility_rules WHERE area_kind = 'county' AND area_code = $1",
    )
    .bind("16064")
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let (status, _, _) = post(
        &app,
        &admin,
        rules,
        &format!("{rules}/{county_rule}/loeschen"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM responsibility_rules WHERE id = $1",
            &county_rule
        )
        .await,
        0
    );

    // A new version of a service: the parser's errors first, with the text kept.
    let broken = DOG_TAX_TOML
        .replace("version = 1", "version = 2")
        .replace("format = 1", "format = 1\nfrobnicate = true");
    let (status, html) = import(&app, &admin, &broken).await;
    assert_eq!(status, 422);
    assert!(html.contains("line "), "line-numbered problems: {html}");
    assert!(
        html.contains("frobnicate = true"),
        "the entered text is kept"
    );
    let v2 = DOG_TAX_TOML.replace("version = 1", "version = 2");
    let (status, _) = import(&app, &admin, &v2).await;
    assert_eq!(status, 303);
    let (status, html) = import(&app, &admin, &v2).await;
    assert_eq!(status, 422, "the same version twice");
    assert!(html.contains("gibt es bereits"));
    let current = |app: &TestApp| {
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT current_version FROM services WHERE service_key = $1",
            )
            .bind(DOG_TAX)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(current(&app).await, Some(2));
    let (_, page) = text(&app, &admin, "/verwaltung/admin/leistungen").await;
    assert!(page.contains("aktuell, für neue Anträge"));
    let retire = format!("/verwaltung/admin/leistungen/{DOG_TAX}/2/stilllegen");
    let (status, _, _) = post(&app, &admin, "/verwaltung/admin/leistungen", &retire, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(
        current(&app).await,
        Some(1),
        "the newest version still offered"
    );
    let def = amtsweg_server::applications::catalog::current(&app.state.db, DOG_TAX)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(def.version, 1);
    let (status, _, _) = post(&app, &admin, "/verwaltung/admin/leistungen", &retire, &[]).await;
    assert_eq!(status, 404, "retired already");

    // An unrouted case (no rule for this Berlin postal code) is routed by hand.
    let citizen = demo_login(&app, "citizen").await;
    let reference = submit_parking(&app, &citizen, "13353").await;
    sqlx::query("UPDATE cases SET applicant_name = 'Erika Mustermann' WHERE reference = $1")
        .bind(&reference)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (_, page) = text(&app, &admin, "/verwaltung/admin/unzugeordnet").await;
    assert!(page.contains(&reference) && page.contains("13353"));
    assert!(!page.contains("S-AB 1234"), "no answer content");
    let route = format!("/verwaltung/admin/unzugeordnet/{reference}");
    let (status, _, _) = post(&app, &admin, &route, &route, &[("postbox", "nope")]).await;
    assert_eq!(status, 422);
    let (status, location, _) = post(
        &app,
        &admin,
        &route,
        &route,
        &[("postbox", "p-berlin-mitte-buergeramt")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/verwaltung/admin/unzugeordnet?ok=routed")
    );
    let row: (String, String, String) = {
        use sqlx::Row;
        let r = sqlx::query("SELECT id, status, postbox_id FROM cases WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(
        (row.1.as_str(), row.2.as_str()),
        ("submitted", "p-berlin-mitte-buergeramt")
    );
    let case_id = row.0;
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM case_search WHERE case_id = $1",
            &case_id
        )
        .await,
        2,
        "both words of the name are searchable"
    );
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM admin_alerts WHERE subject_id = $1 AND resolved_at IS NULL",
            &case_id
        )
        .await,
        0,
        "the alert is resolved"
    );
    let (status, location, _) = post(
        &app,
        &admin,
        "/verwaltung/admin/unzugeordnet",
        &route,
        &[("postbox", &postbox)],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/verwaltung/admin/unzugeordnet?ok=already_routed")
    );

    // Every page of the administration is structurally sound.
    for path in [
        "/verwaltung/admin".to_string(),
        "/verwaltung/admin/behoerden".to_string(),
        "/verwaltung/admin/behoerden/neu".to_string(),
        format!("/verwaltung/admin/behoerden/{authority}"),
        edit.clone(),
        new_box.clone(),
        box_page.clone(),
        edit_box.clone(),
        "/verwaltung/admin/mitarbeitende".to_string(),
        staff_new.to_string(),
        format!("{rules}?leistung={DOG_TAX}"),
        lookup.clone(),
        format!("{lookup}&ags=16064046"),
        "/verwaltung/admin/leistungen".to_string(),
        "/verwaltung/admin/leistungen/import".to_string(),
        "/verwaltung/admin/unzugeordnet".to_string(),
        "/verwaltung/admin/protokoll".to_string(),
    ] {
        let (status, html) = text(&app, &admin, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_sound(&path, &html);
    }

    // The audit log: every change above, filtered, paged and exported.
    let (status, page) = text(
        &app,
        &admin,
        "/verwaltung/admin/protokoll?action=admin.rule.create",
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Zuständigkeitsregel angelegt") && !page.contains("Behörde angelegt"));
    let (status, page) = text(&app, &admin, "/verwaltung/admin/protokoll?from=2026-13-01").await;
    assert_eq!(status, 422);
    assert!(page.contains("JJJJ-MM-TT") && page.contains("value=\"2026-13-01\""));
    let (_, page) = text(&app, &admin, "/verwaltung/admin/protokoll?before=1").await;
    assert!(page.contains("Keine Einträge"));
    let r = admin
        .get(app.url(&format!(
            "/verwaltung/admin/protokoll.csv?actor={}",
            ACCOUNTS[2].0
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let csv = r.text().await.unwrap();
    for action in [
        "admin.authority.create",
        "admin.authority.update",
        "admin.postbox.create",
        "admin.postbox.update",
        "admin.staff.create",
        "admin.membership.add",
        "admin.membership.change",
        "admin.membership.remove",
        "admin.rule.create",
        "admin.rule.delete",
        "admin.service.import",
        "admin.service.retire",
        "admin.case.route",
        "admin.audit.view",
    ] {
        assert!(csv.contains(action), "{action} missing from\n{csv}");
    }
    assert!(csv.starts_with("seq,at_utc,actor,action"));
    assert!(csv.contains(&case_id) && csv.contains(&reference));
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            "admin.audit.export"
        )
        .await,
        1,
        "exporting is audited too"
    );
    // Keyset pages: 50 per page, the next page starts below the last one shown.
    for _ in 0..50 {
        text(&app, &admin, "/verwaltung/admin/protokoll").await;
    }
    let (_, page) = text(
        &app,
        &admin,
        "/verwaltung/admin/protokoll?action=admin.audit.view",
    )
    .await;
    let marker = "before=";
    let i = page.find(marker).expect("a link to older entries") + marker.len();
    let before: String = page[i..].chars().take_while(char::is_ascii_digit).collect();
    let (status, older) = text(
        &app,
        &admin,
        &format!("/verwaltung/admin/protokoll?action=admin.audit.view&before={before}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(older.contains("Neueste Einträge") && older.contains("admin.audit.view"));
});

db_test!(only_administrators_reach_the_administration, |app| {
    demo(&app).await;
    let rule: String = sqlx::query_scalar("SELECT id FROM responsibility_rules LIMIT 1")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let user: String = sqlx::query_scalar("SELECT id FROM users WHERE role = 'caseworker'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let a = "/verwaltung/admin";
    let gets = [
        a.to_string(),
        format!("{a}/behoerden"),
        format!("{a}/behoerden/neu"),
        format!("{a}/behoerden/a-stuttgart"),
        format!("{a}/behoerden/a-stuttgart/bearbeiten"),
        format!("{a}/behoerden/a-stuttgart/postfaecher/neu"),
        format!("{a}/postfaecher/p-stuttgart-parken"),
        format!("{a}/postfaecher/p-stuttgart-parken/bearbeiten"),
        format!("{a}/mitarbeitende"),
        format!("{a}/mitarbeitende/neu"),
        format!("{a}/zustaendigkeiten"),
        format!("{a}/zustaendigkeiten/pruefen?leistung={DOG_TAX}&plz=70173"),
        format!("{a}/leistungen"),
        format!("{a}/leistungen/import"),
        format!("{a}/unzugeordnet"),
        format!("{a}/unzugeordnet/ABC-DEF-GHJ"),
        format!("{a}/protokoll"),
        format!("{a}/protokoll.csv"),
    ];
    let posts = [
        format!("{a}/behoerden/neu"),
        format!("{a}/behoerden/a-stuttgart/bearbeiten"),
        format!("{a}/behoerden/a-stuttgart/postfaecher/neu"),
        format!("{a}/postfaecher/p-stuttgart-parken/bearbeiten"),
        format!("{a}/postfaecher/p-stuttgart-parken/mitglieder"),
        format!("{a}/postfaecher/p-stuttgart-parken/mitglieder/{user}/rolle"),
        format!("{a}/postfaecher/p-stuttgart-parken/mitglieder/{user}/entfernen"),
        format!("{a}/mitarbeitende/neu"),
        format!("{a}/mitarbeitende/{user}/link"),
        format!("{a}/zustaendigkeiten"),
        format!("{a}/zustaendigkeiten/{rule}/loeschen"),
        format!("{a}/leistungen/import"),
        format!("{a}/leistungen/{DOG_TAX}/1/stilllegen"),
        format!("{a}/unzugeordnet/ABC-DEF-GHJ"),
    ];
    assert_eq!(
        app.get("/verwaltung/admin/behoerden").await.status(),
        303,
        "anonymous visitors are sent to the login"
    );
    for role in ["citizen", "caseworker"] {
        let client = demo_login(&app, role).await;
        let (_, konto) = text(&app, &client, "/konto").await;
        let token = csrf(&konto);
        for path in &gets {
            let (status, _) = text(&app, &client, path).await;
            assert_eq!(status, 404, "{role} GET {path}");
        }
        for path in &posts {
            let r = client
                .post(app.url(path))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("name", "x"),
                    ("role", "lead"),
                    ("user", user.as_str()),
                    ("postbox", "p-stuttgart-parken"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{role} POST {path}");
        }
    }
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE $1",
            "admin.%"
        )
        .await,
        0,
        "nothing was changed or viewed"
    );
});

db_test!(the_database_refuses_to_rewrite_the_audit_log, |app| {
    demo(&app).await;
    let admin = demo_login(&app, "admin").await;
    let (status, _) = text(&app, &admin, "/verwaltung/admin/protokoll").await;
    assert_eq!(status, 200);
    let pool = &app.state.db.pool;
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            "admin.audit.view"
        )
        .await,
        1
    );
    assert!(
        sqlx::query("UPDATE audit_log SET actor_label = 'someone else'")
            .execute(pool)
            .await
            .is_err()
    );
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(pool)
        .await
        .is_err());
    let mut tx = app.state.db.begin_write().await.unwrap();
    assert!(sqlx::query("UPDATE audit_log SET detail = ''")
        .execute(&mut *tx)
        .await
        .is_err());
    drop(tx);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE actor_label = $1",
            ACCOUNTS[2].0
        )
        .await,
        1,
        "the entry is unchanged"
    );
});
