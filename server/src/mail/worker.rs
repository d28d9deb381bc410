//! Background delivery of the outbox: claim due rows, send, record the outcome, retry with
//! exponential backoff, give up after a configured time and raise an administrator alert.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sqlx::Row;
use tokio::sync::{watch, Notify};

use super::transport::{DevMailMeta, Transport};
use crate::db::Db;
use crate::time::now_ms;

/// How long a claimed row stays reserved for one worker; after that another may retry it.
const LEASE_MS: i64 = 5 * 60 * 1000;
const BATCH: i64 = 20;
const POLL: Duration = Duration::from_secs(5);

pub struct MailWorker {
    pub db: Db,
    pub transport: Arc<Transport>,
    pub from: Mailbox,
    pub give_up_after: Duration,
    pub wakeup: Arc<Notify>,
}

struct Claimed {
    id: String,
    recipient: String,
    subject: String,
    text: String,
    html: String,
    attempts: i64,
    created_at: i64,
}

/// Delay before the next attempt: 30 s, 1 min, 2 min … capped at one hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 8) - 1;
    (30_000_i64 << exp).min(3_600_000)
}

impl MailWorker {
    /// Runs until `shutdown` turns true; a batch in flight is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.run_once().await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "mail outbox: database error"),
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = self.wakeup.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Delivers one batch of due mail; returns how many were attempted.
    pub async fn run_once(&self) -> sqlx::Result<usize> {
        let claimed = self.claim().await?;
        let n = claimed.len();
        for mail in claimed {
            let outcome = self.deliver(&mail).await;
            self.record(&mail, outcome).await?;
        }
        Ok(n)
    }

    async fn claim(&self) -> sqlx::Result<Vec<Claimed>> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let sql = format!(
            "UPDATE mail_outbox SET claimed_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox
                          WHERE status = 'pending' AND next_attempt_at <= $2 AND claimed_until <= $2
                          ORDER BY next_attempt_at LIMIT $3{})
             RETURNING id, recipient, subject, body_text, body_html, attempts, created_at",
            self.db.skip_locked()
        );
        let rows = sqlx::query(&sql)
            .bind(now + LEASE_MS)
            .bind(now)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get(0)?,
                    recipient: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    text: r.try_get(3)?,
                    html: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                    created_at: r.try_get(6)?,
                })
            })
            .collect()
    }

    async fn deliver(&self, mail: &Claimed) -> Result<(), String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|_| "permanent: recipient is not a valid address".to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(format!("<{}@amtsweg>", mail.id)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| format!("permanent: cannot build message: {e}"))?;
        let meta = DevMailMeta {
            id: mail.id.clone(),
            to: mail.recipient.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            created_at: mail.created_at,
        };
        self.transport.send(message, &meta).await
    }

    async fn record(&self, mail: &Claimed, outcome: Result<(), String>) -> sqlx::Result<()> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        match outcome {
            Ok(()) => {
                // Bodies may hold single-use links; once delivered they are not kept.
                sqlx::query(
                    "UPDATE mail_outbox SET status = 'sent', sent_at = $1, claimed_until = 0,
                     body_text = '', body_html = '', last_error = NULL WHERE id = $2",
                )
                .bind(now)
                .bind(&mail.id)
                .execute(&mut *tx)
                .await?;
                tracing::info!(mail_id = %mail.id, attempts = mail.attempts, "mail delivered");
            }
            Err(error) => {
                let give_up_at = mail.created_at
                    + i64::try_from(self.give_up_after.as_millis()).unwrap_or(i64::MAX);
                let permanent = error.starts_with("permanent");
                if permanent || now >= give_up_at {
                    sqlx::query(
                        "UPDATE mail_outbox SET status = 'failed', claimed_until = 0, last_error = $1
                         WHERE id = $2",
                    )
                    .bind(&error)
                    .bind(&mail.id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO admin_alerts (id, kind, subject_id, message, created_at)
                         VALUES ($1, 'mail_undeliverable', $2, $3, $4)",
                    )
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(&mail.id)
                    .bind(format!(
                        "mail {} gave up after {} attempts: {error}",
                        mail.id, mail.attempts
                    ))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    tracing::error!(mail_id = %mail.id, attempts = mail.attempts, %error, "mail given up");
                } else {
                    sqlx::query(
                        "UPDATE mail_outbox SET next_attempt_at = $1, claimed_until = 0, last_error = $2
                         WHERE id = $3",
                    )
                    .bind(now + backoff_ms(mail.attempts))
                    .bind(&error)
                    .bind(&mail.id)
                    .execute(&mut *tx)
                    .await?;
                    tracing::warn!(mail_id = %mail.id, attempts = mail.attempts, %error, "mail delivery failed, will retry");
                }
            }
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(3), 120_000);
        assert_eq!(backoff_ms(50), 3_600_000);
        assert!((1..60).all(|a| backoff_ms(a) <= backoff_ms(a + 1)));
    }
}
