//! Sends queued webhook deliveries: claim due rows under a lease, POST them signed, record the
//! outcome, retry on the Standard Webhooks schedule, and disable an endpoint that has failed for
//! a day (with an administrator alert) so that a dead receiver does not pile up work forever.

use std::time::Duration;

use sqlx::Row;
use tokio::sync::watch;

use super::signature;
use crate::db::Db;
use crate::state::AppState;
use crate::time::now_ms;

/// A claimed delivery stays with one worker this long; a crashed instance's claims are retried
/// after it. Far above one batch's time (requests in parallel, each at most `TIMEOUT`).
const LEASE_MS: i64 = 2 * 60 * 1000;
const BATCH: i64 = 16;
/// Receivers should answer at once and do their work afterwards.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Enqueueing happens in other requests' transactions; a short poll finds their rows promptly.
const POLL: Duration = Duration::from_secs(1);
/// An endpoint failing this long is disabled.
pub const DISABLE_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Standard Webhooks' schedule after the first attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 10 h) in multiples of its first step, which `AMTSWEG_WEBHOOK_RETRY_SECS` sets.
const SCHEDULE: [i64; 7] = [1, 60, 360, 1440, 3600, 7200, 7200];

/// Delay before the next attempt after `attempts` failed ones; `None`: give up.
pub fn retry_delay_ms(base_secs: u64, attempts: i64) -> Option<i64> {
    let step = usize::try_from(attempts.max(1) - 1).ok()?;
    let base = i64::try_from(base_secs).unwrap_or(i64::MAX);
    SCHEDULE
        .get(step)
        .map(|m| m.saturating_mul(base).saturating_mul(1000))
}

pub struct WebhookWorker {
    db: Db,
    client: reqwest::Client,
    retry_base_secs: u64,
    allow_http: bool,
}

struct Claimed {
    id: String,
    endpoint_id: String,
    payload: String,
    attempts: i64,
    url: String,
    secret: String,
}

/// What one attempt came to; the error text is shown to administrators, so it never contains
/// the address (which may carry a token in its query) or the secret.
struct Outcome {
    status: Option<i64>,
    error: Option<String>,
}

/// Runs the worker until `shutdown` turns true; started next to the mail worker.
pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    match WebhookWorker::new(
        state.db.clone(),
        state.config.webhook_retry_secs,
        state.config.is_dev(),
    ) {
        Ok(w) => w.run(shutdown).await,
        Err(e) => tracing::error!(error = %e, "webhooks: cannot build the HTTP client"),
    }
}

impl WebhookWorker {
    pub fn new(db: Db, retry_base_secs: u64, allow_http: bool) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            // A redirect would send the signed event somewhere the administrator never entered.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Amtsweg-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            client,
            retry_base_secs: retry_base_secs.max(1),
            allow_http,
        })
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.run_once().await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "webhooks: database error"),
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Sends one batch of due deliveries in parallel; returns how many were attempted.
    pub async fn run_once(&self) -> sqlx::Result<usize> {
        let (claimed, lease) = self.claim().await?;
        let n = claimed.len();
        let outcomes =
            futures_util::future::join_all(claimed.iter().map(|d| self.attempt(d))).await;
        for (d, outcome) in claimed.iter().zip(outcomes) {
            self.record(d, lease, outcome).await?;
        }
        Ok(n)
    }

    /// Takes due deliveries of enabled endpoints. The conditions are repeated on the row being
    /// updated, so of two instances racing for a row only one changes it (PostgreSQL also skips
    /// rows another claim holds; SQLite serialises claims by its write lock).
    async fn claim(&self) -> sqlx::Result<(Vec<Claimed>, i64)> {
        let now = now_ms();
        let lease = now + LEASE_MS;
        let mut tx = self.db.begin_write().await?;
        let sql = format!(
            "UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT d.id FROM webhook_deliveries d
                          WHERE d.state = 'pending' AND d.next_attempt_at <= $2
                            AND (d.claimed_until IS NULL OR d.claimed_until <= $2)
                            AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled = 1)
                          ORDER BY d.next_attempt_at LIMIT $3{})
               AND state = 'pending' AND (claimed_until IS NULL OR claimed_until <= $2)
             RETURNING id, endpoint_id, payload, attempts",
            self.db.skip_locked()
        );
        let rows = sqlx::query(&sql)
            .bind(lease)
            .bind(now)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            let endpoint_id: String = r.try_get(1)?;
            let (url, secret): (String, String) =
                sqlx::query_as("SELECT url, secret FROM webhook_endpoints WHERE id = $1")
                    .bind(&endpoint_id)
                    .fetch_one(&mut *tx)
                    .await?;
            claimed.push(Claimed {
                id: r.try_get(0)?,
                endpoint_id,
                payload: r.try_get(2)?,
                attempts: r.try_get(3)?,
                url,
                secret,
            });
        }
        tx.commit().await?;
        Ok((claimed, lease))
    }

    async fn attempt(&self, d: &Claimed) -> Outcome {
        let fail = |error: &str| Outcome {
            status: None,
            error: Some(error.to_string()),
        };
        // Stored addresses are checked again: the portal may have left development mode.
        if super::check_url(&d.url, self.allow_http).is_err() {
            return fail("address not allowed (https:// required)");
        }
        let Some(key) = signature::key_bytes(&d.secret) else {
            return fail("signing secret unreadable");
        };
        let timestamp = now_ms() / 1000;
        let sig = signature::sign(&key, &d.id, timestamp, d.payload.as_bytes());
        let sent = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sig)
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status();
                Outcome {
                    status: Some(i64::from(status.as_u16())),
                    error: (!status.is_success()).then(|| format!("HTTP {}", status.as_u16())),
                }
            }
            Err(e) if e.is_timeout() => fail("timeout"),
            Err(e) if e.is_connect() => fail("connection failed"),
            Err(_) => fail("request failed"),
        }
    }

    async fn record(&self, d: &Claimed, lease: i64, outcome: Outcome) -> sqlx::Result<()> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let Some(error) = outcome.error else {
            // The last error stays: with the attempts it tells why delivery took a while.
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $1, claimed_until = NULL,
                        last_status = $2
                 WHERE id = $3 AND state = 'pending' AND claimed_until = $4",
            )
            .bind(now)
            .bind(outcome.status)
            .bind(&d.id)
            .bind(lease)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(&d.endpoint_id)
            .execute(&mut *tx)
            .await?;
            tracing::info!(delivery = %d.id, attempts = d.attempts, "webhook delivered");
            return tx.commit().await;
        };
        let next = retry_delay_ms(self.retry_base_secs, d.attempts);
        sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, next_attempt_at = $2, claimed_until = NULL,
                    last_status = $3, last_error = $4
             WHERE id = $5 AND state = 'pending' AND claimed_until = $6",
        )
        .bind(if next.is_some() { "pending" } else { "failed" })
        .bind(now.saturating_add(next.unwrap_or(0)))
        .bind(outcome.status)
        .bind(&error)
        .bind(&d.id)
        .bind(lease)
        .execute(&mut *tx)
        .await?;
        tracing::warn!(delivery = %d.id, attempts = d.attempts, %error, gave_up = next.is_none(), "webhook delivery failed");
        let failing_since = sqlx::query_scalar::<_, Option<i64>>(
            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1)
             WHERE id = $2 RETURNING failing_since",
        )
        .bind(now)
        .bind(&d.endpoint_id)
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        if failing_since.is_some_and(|since| now - since >= DISABLE_AFTER_MS) {
            disable_failing(&mut tx, &d.endpoint_id, &error, now).await?;
        }
        tx.commit().await
    }
}

/// Disables an endpoint that failed for a day, gives up its queue and alerts administrators,
/// once: only the update that actually disables it does the rest.
async fn disable_failing(
    conn: &mut sqlx::AnyConnection,
    endpoint_id: &str,
    error: &str,
    now: i64,
) -> sqlx::Result<()> {
    let row = sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing'
         WHERE id = $1 AND enabled = 1 RETURNING postbox_id, url",
    )
    .bind(endpoint_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let (postbox, url): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'failed', claimed_until = NULL,
                last_error = CASE WHEN last_error = '' THEN 'endpoint disabled' ELSE last_error END
         WHERE endpoint_id = $1 AND state = 'pending'",
    )
    .bind(endpoint_id)
    .execute(&mut *conn)
    .await?;
    let host = reqwest::Url::parse(&url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    sqlx::query(
        "INSERT INTO admin_alerts (id, kind, subject_id, message, created_at)
         VALUES ($1, 'webhook_disabled', $2, $3, $4)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(endpoint_id)
    .bind(format!(
        "webhook endpoint {endpoint_id} (postbox {postbox}, host {host}) disabled after failing for 24 hours: {error}"
    ))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    tracing::error!(endpoint = %endpoint_id, postbox = %postbox, %error, "webhook endpoint disabled after a day of failures");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::retry_delay_ms;

    #[test]
    fn the_standard_schedule() {
        let hours = |h: i64| Some(h * 3_600_000);
        assert_eq!(retry_delay_ms(5, 1), Some(5_000));
        assert_eq!(retry_delay_ms(5, 2), Some(300_000));
        assert_eq!(retry_delay_ms(5, 3), Some(1_800_000));
        assert_eq!(retry_delay_ms(5, 4), hours(2));
        assert_eq!(retry_delay_ms(5, 5), hours(5));
        assert_eq!(retry_delay_ms(5, 6), hours(10));
        assert_eq!(retry_delay_ms(5, 7), hours(10));
        assert_eq!(retry_delay_ms(5, 8), None, "eight attempts, then given up");
        assert_eq!(retry_delay_ms(1, 1), Some(1_000), "tests shorten it");
        assert_eq!(retry_delay_ms(u64::MAX, 7), Some(i64::MAX));
    }
}
