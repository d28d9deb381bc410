//! A case with a caseworker and a citizen, and fee notices issued through the pages, for the
//! tests of fees and payments.

use amtsweg_server::domain::Role;

use super::apply::submit_parking;
use super::people::{citizen, staff};
use super::{form, TestApp};

/// The account `write_sample_statement` books on; the demo's Stuttgart account is set to it.
pub const ACCOUNT: &str = "DE89370400440532013000";

pub fn in_days(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub struct World {
    pub app: TestApp,
    pub anna: reqwest::Client,
    pub cw: reqwest::Client,
    pub reference: String,
}

pub async fn world(app: TestApp) -> World {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    sqlx::query("UPDATE authorities SET payee_iban = $1 WHERE id = 'a-stuttgart'")
        .bind(ACCOUNT)
        .execute(&app.state.db.pool)
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
    World {
        app,
        anna,
        cw,
        reference,
    }
}

/// Issues a notice through the form with the given lines; returns the response.
pub async fn issue(w: &World, lines: &[(&str, &str)], extra: &[(&str, &str)]) -> reqwest::Response {
    let page = format!("/verwaltung/vorgaenge/{}/gebuehren/neu", w.reference);
    let mut fields: Vec<(String, String)> = Vec::new();
    for (i, (label, amount)) in lines.iter().enumerate() {
        fields.push((format!("item_label_{i}"), label.to_string()));
        fields.push((format!("item_amount_{i}"), amount.to_string()));
    }
    for i in lines.len()..6 {
        fields.push((format!("item_label_{i}"), String::new()));
        fields.push((format!("item_amount_{i}"), String::new()));
    }
    let due = in_days(14);
    fields.push(("due_date".into(), due));
    fields.push(("legal_basis".into(), "GebOSt Nr. 265".into()));
    fields.push((
        "remedy".into(),
        "Gegen diesen Bescheid kann Widerspruch erhoben werden.".into(),
    ));
    for (k, v) in extra {
        fields.retain(|(key, _)| key != k);
        fields.push((k.to_string(), v.to_string()));
    }
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form(&w.app, &w.cw, &page, &page, &refs).await
}

/// The citizen's notices as (id, payment reference, state), newest first.
pub async fn notices(w: &World) -> Vec<(String, String, String, i64)> {
    sqlx::query_as(
        "SELECT n.id, n.payment_reference, n.state, n.paid_cents FROM fee_notices n JOIN cases c ON c.id = n.case_id
         WHERE c.reference = $1 ORDER BY n.number DESC",
    )
    .bind(&w.reference)
    .fetch_all(&w.app.state.db.pool)
    .await
    .unwrap()
}
