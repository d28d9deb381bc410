//! The API for back-office systems on SQLite and PostgreSQL: keys and scopes, the case feed,
//! a case with typed answers and files (hashes checked), acknowledgement exactly once,
//! idempotent POSTs, messages the citizen reads, state changes, fee notices, problem details,
//! and that a key of one postbox never reaches another's cases.

mod common;

use amtsweg_server::api::keys::{self, Scope, ALL_SCOPES};
use common::fees::{world, World};
use common::people::text;
use common::{Backend, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

async fn key(app: &TestApp, postbox: &str, scopes: &[Scope]) -> String {
    keys::create(&app.state.db, postbox, "Fachverfahren", scopes, None)
        .await
        .unwrap()
        .secret
        .expose()
        .clone()
}

struct Api<'a> {
    app: &'a TestApp,
    key: String,
    http: reqwest::Client,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.app.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, idem: &str, body: Value) -> (u16, Value) {
        let r = self.post_raw(path, idem, body).await;
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn post_raw(&self, path: &str, idem: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.app.url(path))
            .bearer_auth(&self.key)
            .header("idempotency-key", idem)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

fn api<'a>(w: &'a World, key: String) -> Api<'a> {
    Api {
        app: &w.app,
        key,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

db_test!(a_back_office_system_takes_a_case_over, |app| {
    let w = world(app).await;
    let a = api(&w, key(&w.app, "p-stuttgart-parken", &ALL_SCOPES).await);
    let r = &w.reference;

    // New work: the submission is pending, with a cursor to page on.
    let (s, list) = a.get("/api/v1/cases?pending=true").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"][0]["reference"], r.as_str());
    assert!(list["items"][0]["acknowledgement"].is_null());

    // The case: typed answers keyed by field ids, files with hashes that match the download.
    let (s, case) = a.get(&format!("/api/v1/cases/{r}")).await;
    assert_eq!(s, 200, "{case}");
    assert_eq!(case["case"]["service_key"], "99058011012000");
    assert_eq!(case["answers"]["family_name"], "Mustermann");
    assert_eq!(case["answers"]["birth_date"], "1990-03-27");
    let file = &case["files"][0];
    let resp = a
        .http
        .get(w.app.url(file["href"].as_str().unwrap()))
        .bearer_auth(&a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let header_sha = resp.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    let bytes = resp.bytes().await.unwrap();
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(sha, file["sha256"].as_str().unwrap());
    assert_eq!(sha, header_sha);

    // Acknowledged exactly once; the same answer again is the first answer.
    let path = format!("/api/v1/cases/{r}/acknowledgement");
    let (s, first) = a.post(&path, "ack-1", json!({"outcome": "accepted"})).await;
    assert_eq!(s, 200, "{first}");
    let (s, again) = a.post(&path, "ack-2", json!({"outcome": "accepted"})).await;
    assert_eq!((s, &again["at"]), (200, &first["at"]));
    let (s, conflict) = a
        .post(
            &path,
            "ack-3",
            json!({"outcome": "rejected", "reason": "x"}),
        )
        .await;
    assert_eq!(s, 409, "{conflict}");
    let (_, list) = a.get("/api/v1/cases?pending=true").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "no longer pending"
    );

    // Idempotency: a repeat is replayed, a different request under the same key refused.
    let msg = json!({"kind": "message", "body": "Wir haben Ihren Antrag übernommen."});
    let path = format!("/api/v1/cases/{r}/messages");
    let first = a.post_raw(&path, "msg-1", msg.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let replay = a.post_raw(&path, "msg-1", msg.clone()).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), first);
    let (s, _) = a
        .post(&path, "msg-1", json!({"kind": "message", "body": "anders"}))
        .await;
    assert_eq!(s, 409, "same key, different request");
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM messages")
        .fetch_all(&w.app.state.db.pool)
        .await
        .unwrap();
    let mut n = 0;
    for b in bodies {
        let b = w
            .app
            .state
            .db
            .vault
            .open(&w.app.state.db.pool, b)
            .await
            .unwrap();
        n += i64::from(b.starts_with("Wir haben"));
    }
    assert_eq!(n, 1, "one message for two requests");
    // The citizen reads it in the account.
    let (_, thread) = text(&w.app, &w.anna, &format!("/konto/postfach/{r}")).await;
    assert!(thread.contains("Wir haben Ihren Antrag übernommen."));

    // A request for information with an attachment, refused first for a forged type.
    let forged = json!({"kind": "request", "body": "Bitte Nachweis", "reply_by": common::fees::in_days(14),
        "attachments": [{"file_name": "a.pdf", "content_base64": "TVqQAAMAAAA="}]});
    let (s, p) = a.post(&path, "req-1", forged).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "attachments[0]");
    let good = json!({"kind": "request", "body": "Bitte Nachweis", "reply_by": common::fees::in_days(14),
        "attachments": [{"file_name": "hinweis.png", "content_base64": base64_png()}]});
    let (s, created) = a.post(&path, "req-2", good).await;
    assert_eq!(s, 201, "{created}");
    let (_, case) = a.get(&format!("/api/v1/cases/{r}")).await;
    assert_eq!(case["case"]["state"], "awaiting_citizen");
    let last = case["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "request");
    assert_eq!(last["attachments"][0]["file_name"], "hinweis.png");

    // State: only what the rules allow.
    let state = format!("/api/v1/cases/{r}/state");
    let (s, _) = a
        .post(&state, "st-1", json!({"state": "in_progress"}))
        .await;
    assert_eq!(s, 200);
    let (s, p) = a.post(&state, "st-2", json!({"state": "closed"})).await;
    assert_eq!(s, 409, "{p}");

    // Fee notices: issue, list, cancel.
    let fees = format!("/api/v1/cases/{r}/fee-notices");
    let (s, notice) = a
        .post(
            &fees,
            "fee-1",
            json!({"items": [{"label": "Bewohnerparkausweis", "amount_cents": 3070}],
            "legal_basis": "GebOSt Nr. 265", "remedy": "Widerspruch binnen eines Monats."}),
        )
        .await;
    assert_eq!(s, 201, "{notice}");
    assert_eq!(notice["total_cents"], 3070);
    assert!(notice["payment_reference"]
        .as_str()
        .unwrap()
        .starts_with("RF"));
    let (_, all) = a.get(&fees).await;
    assert_eq!(all[0]["number"], 1);
    let (s, cancelled) = a
        .post(
            &format!("{fees}/1/cancellation"),
            "fee-2",
            json!({"reason": "Irrtum"}),
        )
        .await;
    assert_eq!((s, cancelled["state"].as_str()), (200, Some("cancelled")));

    // The e-file package, as in the back office.
    let zip = a
        .http
        .get(w.app.url(&format!("/api/v1/cases/{r}/export")))
        .bearer_auth(&a.key)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    assert!(zip.bytes().await.unwrap().starts_with(b"PK\x03\x04"));

    // The change feed shows the case once its changes have settled.
    tokio::time::sleep(std::time::Duration::from_millis(
        amtsweg_server::api::cases::FEED_LAG_MS as u64 + 200,
    ))
    .await;
    let (_, feed) = a.get("/api/v1/cases?limit=1").await;
    assert_eq!(feed["items"][0]["reference"], r.as_str());
    let cursor = feed["next_cursor"].as_str().unwrap().to_string();
    let (_, rest) = a.get(&format!("/api/v1/cases?cursor={cursor}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        rest["next_cursor"],
        cursor.as_str(),
        "poll on from the same place"
    );

    // Every call is in the audit log.
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'api.call'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    assert!(audited >= 15, "{audited}");
});

fn base64_png() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(common::apply::PNG)
}

db_test!(keys_reach_only_their_postbox_and_scopes, |app| {
    let w = world(app).await;
    let r = &w.reference;
    let other = api(
        &w,
        key(&w.app, "p-stuttgart-buergerbuero", &ALL_SCOPES).await,
    );
    let (_, case) = api(&w, key(&w.app, "p-stuttgart-parken", &[Scope::Read]).await)
        .get(&format!("/api/v1/cases/{r}"))
        .await;
    let file = case["files"][0]["href"].as_str().unwrap().to_string();
    for path in [
        format!("/api/v1/cases/{r}"),
        file.clone(),
        format!("/api/v1/cases/{r}/fee-notices"),
    ] {
        let (s, p) = other.get(&path).await;
        assert_eq!(s, 404, "{path}: {p}");
    }
    for (path, body) in [
        (
            format!("/api/v1/cases/{r}/acknowledgement"),
            json!({"outcome": "accepted"}),
        ),
        (
            format!("/api/v1/cases/{r}/messages"),
            json!({"kind": "message", "body": "x"}),
        ),
        (
            format!("/api/v1/cases/{r}/state"),
            json!({"state": "in_progress"}),
        ),
    ] {
        let (s, _) = other.post(&path, &path, body).await;
        assert_eq!(s, 404, "{path}");
    }
    let (_, list) = other.get("/api/v1/cases?pending=true").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    // Scopes: a reading key changes nothing.
    let reader = api(&w, key(&w.app, "p-stuttgart-parken", &[Scope::Read]).await);
    let (s, p) = reader
        .post(
            &format!("/api/v1/cases/{r}/acknowledgement"),
            "k",
            json!({"outcome": "accepted"}),
        )
        .await;
    assert_eq!(s, 403, "{p}");

    // Problems are problem details: no key, a session instead of a key, bad input.
    let resp = reqwest::get(w.app.url("/api/v1/cases")).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = w.cw.get(w.app.url("/api/v1/cases")).send().await.unwrap();
    assert_eq!(resp.status(), 401, "a staff session is not a key");
    let resp = reader
        .http
        .get(w.app.url("/verwaltung"))
        .bearer_auth(&reader.key)
        .send()
        .await
        .unwrap();
    assert_ne!(resp.status(), 200, "a key is not a session");
    let (s, p) = reader.get("/api/v1/cases?limit=0").await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("limit")));
    let (s, _) = reader.get("/api/v1/cases?cursor=%%%").await;
    assert_eq!(s, 422);
    let (s, _) = reader.get("/api/v1/nothing-here").await;
    assert_eq!(s, 404);
    let writer = api(&w, key(&w.app, "p-stuttgart-parken", &ALL_SCOPES).await);
    let no_idem = writer
        .http
        .post(w.app.url(&format!("/api/v1/cases/{r}/state")))
        .bearer_auth(&writer.key)
        .json(&json!({"state": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_idem.status(), 400);
    let bad_json = writer
        .http
        .post(w.app.url(&format!("/api/v1/cases/{r}/state")))
        .bearer_auth(&writer.key)
        .header("idempotency-key", "bad-json")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let (s, p) = writer
        .post(
            &format!("/api/v1/cases/{r}/state"),
            "unknown",
            json!({"state": "approved"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");

    // A revoked key stops at once.
    let admin = common::people::staff(
        &w.app,
        "admin@example.org",
        amtsweg_server::domain::Role::Admin,
        &[],
    )
    .await;
    drop(admin);
    let id: String =
        sqlx::query_scalar("SELECT id FROM api_keys WHERE postbox_id = 'p-stuttgart-buergerbuero'")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
    sqlx::query("UPDATE api_keys SET revoked_at = 1 WHERE id = $1")
        .bind(&id)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    let (s, _) = other.get("/api/v1/cases").await;
    assert_eq!(s, 401);
});

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/cases",
        "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/files/{id}",
        "/api/v1/cases/{reference}/export",
        "/api/v1/cases/{reference}/acknowledgement",
        "/api/v1/cases/{reference}/messages",
        "/api/v1/cases/{reference}/state",
        "/api/v1/cases/{reference}/fee-notices",
        "/api/v1/cases/{reference}/fee-notices/{number}/cancellation",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}

db_test!(
    administrators_create_and_revoke_keys_in_the_back_office,
    |app| {
        let w = world(app).await;
        let admin = common::people::staff(
            &w.app,
            "admin@example.org",
            amtsweg_server::domain::Role::Admin,
            &[],
        )
        .await;
        let page = "/verwaltung/admin/postfaecher/p-stuttgart-parken/api-schluessel";
        // Problems are reported with what was entered kept.
        let r = common::form(&w.app, &admin, page, page, &[("name", "")]).await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Geben Sie eine Bezeichnung") && body.contains("Wählen Sie mindestens")
        );
        let r = common::form(
            &w.app,
            &admin,
            page,
            page,
            &[
                ("name", "Fachverfahren Parken"),
                ("scopes", "read"),
                ("scopes", "acknowledge"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, shown) = text(&w.app, &admin, &format!("{page}?ok=created")).await;
        let secret = shown
            .split("<code class=\"aw-break\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("the new key is shown")
            .to_string();
        let (_, again) = text(&w.app, &admin, page).await;
        assert!(!again.contains(&secret), "shown once only");
        let stored: String = sqlx::query_scalar("SELECT secret_sha256 FROM api_keys")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
        assert_eq!(stored, keys::hash(&secret), "only the hash is stored");
        let a = api(&w, secret);
        assert_eq!(a.get("/api/v1/cases?pending=true").await.0, 200);
        let (s, _) = a
            .post(
                &format!("/api/v1/cases/{}/state", w.reference),
                "s",
                json!({"state": "in_progress"}),
            )
            .await;
        assert_eq!(s, 403, "reply was not granted");
        // Citizens and caseworkers do not get there.
        assert_eq!(text(&w.app, &w.cw, page).await.0, 404);
        // Revoked in the back office: the next call fails.
        let id: String = sqlx::query_scalar("SELECT id FROM api_keys")
            .fetch_one(&w.app.state.db.pool)
            .await
            .unwrap();
        let r = common::form(
            &w.app,
            &admin,
            page,
            &format!("{page}/{id}/widerrufen"),
            &[],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(a.get("/api/v1/cases").await.0, 401);
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('api_key.create', 'api_key.revoke')",
        )
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
        assert_eq!(audited, 2);
    }
);
