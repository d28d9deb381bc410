//! Signed webhooks per postbox, so that back-office systems are told about events instead of
//! polling. An event is written to `webhook_deliveries` in the transaction of the change that
//! causes it (an outbox): it exists exactly when the change committed, and a rolled-back change
//! never announces anything. `worker` sends it, signed as Standard Webhooks specifies.
//!
//! Payloads carry identifiers only, never form contents or personal data: the receiver fetches
//! what it may see through the API, where access is checked.

pub mod signature;
pub mod worker;

use std::collections::HashSet;

use sqlx::{AnyConnection, Row};

use crate::db::batch::Batch;
use crate::db::Placeholders;
use crate::time::now_ms;

/// What a postbox's endpoints can subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A case arrived in the postbox: submitted, routed by an administrator or forwarded.
    SubmissionReceived,
    /// The citizen answered a request for information.
    CitizenReplied,
    /// A fee notice was paid in full.
    FeePaid,
}

impl Event {
    pub const ALL: [Event; 3] = [
        Event::SubmissionReceived,
        Event::CitizenReplied,
        Event::FeePaid,
    ];

    /// The `type` of the payload, and the word stored in `webhook_endpoints.events`.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SubmissionReceived => "submission.received",
            Event::CitizenReplied => "citizen.replied",
            Event::FeePaid => "fee.paid",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Unix milliseconds as RFC 3339 (UTC), the timestamp format of the payload.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Queues `event` for every enabled endpoint of the postbox subscribed to it, inside the
/// caller's transaction. `data` must be a JSON object of identifiers; `postbox_id` is added.
pub async fn enqueue(
    conn: &mut AnyConnection,
    postbox_id: &str,
    event: Event,
    data: serde_json::Value,
) -> sqlx::Result<()> {
    let targets = targets(&mut *conn, postbox_id, event).await?;
    let mut batch = Batch::new();
    deliveries(&mut batch, &targets, postbox_id, event, data);
    batch.run_in(conn).await
}

/// The postbox's enabled endpoints that subscribe to `event`. Read before a batched write: an
/// endpoint added meanwhile is one added just after the change, which it would not have seen
/// either.
pub async fn targets<'c, E>(conn: E, postbox_id: &str, event: Event) -> sqlx::Result<Vec<String>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let endpoints: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, events FROM webhook_endpoints WHERE postbox_id = $1 AND enabled = 1",
    )
    .bind(postbox_id)
    .fetch_all(conn)
    .await?;
    Ok(endpoints
        .into_iter()
        .filter(|(_, events)| events.split_whitespace().any(|e| e == event.as_str()))
        .map(|(id, _)| id)
        .collect())
}

/// Adds one delivery of `event` per endpoint in `targets` to the batch.
pub fn deliveries(
    batch: &mut Batch,
    targets: &[String],
    postbox_id: &str,
    event: Event,
    data: serde_json::Value,
) {
    if targets.is_empty() {
        return;
    }
    let now = now_ms();
    let mut data = data;
    if let serde_json::Value::Object(map) = &mut data {
        map.entry("postbox_id")
            .or_insert_with(|| postbox_id.to_string().into());
    }
    // One body for all attempts: retries differ in timestamp and signature, never in content.
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": rfc3339(now),
        "data": data,
    })
    .to_string();
    for endpoint in targets {
        batch
            .add(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event, payload, state, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(endpoint.clone())
            .bind(event.as_str())
            .bind(payload.clone())
            .bind(now);
    }
}

/// Postboxes with an enabled endpoint for `event`, so that batch work (a bank statement pays
/// thousands of notices) skips the look-up per item when nobody listens.
async fn listening(conn: &mut AnyConnection, event: Event) -> sqlx::Result<HashSet<String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT postbox_id, events FROM webhook_endpoints WHERE enabled = 1")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, events)| events.split_whitespace().any(|e| e == event.as_str()))
        .map(|(postbox, _)| postbox)
        .collect())
}

/// `fee.paid` for notices that became paid in the caller's transaction.
pub async fn fees_paid(conn: &mut AnyConnection, notice_ids: &[String]) -> sqlx::Result<()> {
    if notice_ids.is_empty() {
        return Ok(());
    }
    let postboxes = listening(conn, Event::FeePaid).await?;
    if postboxes.is_empty() {
        return Ok(());
    }
    for chunk in notice_ids.chunks(200) {
        let sql = format!(
            "SELECT n.id, n.number, n.payment_reference, c.reference, c.postbox_id
             FROM fee_notices n JOIN cases c ON c.id = n.case_id WHERE n.id IN ({})",
            Placeholders::for_connection(conn).list(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(&mut *conn).await? {
            let Some(postbox) = r
                .try_get::<Option<String>, _>(4)?
                .filter(|p| postboxes.contains(p))
            else {
                continue;
            };
            let data = serde_json::json!({
                "case_reference": r.try_get::<String, _>(3)?,
                "notice_id": r.try_get::<String, _>(0)?,
                "notice_number": r.try_get::<i64, _>(1)?,
                "payment_reference": r.try_get::<String, _>(2)?,
            });
            enqueue(conn, &postbox, Event::FeePaid, data).await?;
        }
    }
    Ok(())
}

/// Why an endpoint address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlProblem {
    Empty,
    TooLong,
    Invalid,
    /// Not `https://` (or `http://` in development mode).
    Scheme,
    /// User name or password in the address: they would end up in logs and pages.
    Credentials,
}

/// Longest address accepted; real endpoints are far shorter.
const MAX_URL: usize = 2000;

/// The normalised address if events may be sent to it. Plain `http` only in development, so
/// that tests and local trials can use a receiver without a certificate.
pub fn check_url(raw: &str, allow_http: bool) -> Result<String, UrlProblem> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(UrlProblem::Empty);
    }
    if raw.len() > MAX_URL {
        return Err(UrlProblem::TooLong);
    }
    let url = reqwest::Url::parse(raw).map_err(|_| UrlProblem::Invalid)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(UrlProblem::Scheme),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlProblem::Invalid);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        assert_eq!(Event::parse("submission"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            check_url(" https://bo.example.de/hook?x=1 ", false).as_deref(),
            Ok("https://bo.example.de/hook?x=1")
        );
        assert_eq!(check_url("", false), Err(UrlProblem::Empty));
        assert_eq!(
            check_url("http://bo.example.de/", false),
            Err(UrlProblem::Scheme)
        );
        assert!(check_url("http://127.0.0.1:8080/", true).is_ok());
        assert_eq!(
            check_url("ftp://bo.example.de/", true),
            Err(UrlProblem::Scheme)
        );
        assert_eq!(
            check_url("https://user:pw@bo.example.de/", false),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(
            check_url("https://user@bo.example.de/", false),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(
            check_url("fachverfahren.example.de", false),
            Err(UrlProblem::Invalid)
        );
        assert_eq!(
            check_url(&format!("https://e.de/{}", "a".repeat(2000)), false),
            Err(UrlProblem::TooLong)
        );
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_614_265_330_500), "2021-02-25T15:02:10.5Z");
    }
}
