//! Background delivery of the outbox: claim due rows, send, record the outcome, retry with
//! exponential backoff, give up after a configured time and raise an administrator alert.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sqlx::Row;
use tokio::sync::{watch, Notify};

use super::transport::{DevMailMeta, Failure, Transport};
use crate::db::batch::Batch;
use crate::db::Db;
use crate::time::now_ms;

/// How long a claimed row stays reserved for one worker; after that another may retry it.
const LEASE_MS: i64 = 5 * 60 * 1000;
const BATCH: i64 = 20;
const POLL: Duration = Duration::from_secs(5);
/// The longest wait between two attempts, whatever the first retry delay.
const MAX_BACKOFF_MS: i64 = 3_600_000;

pub struct MailWorker {
    pub db: Db,
    pub transport: Arc<Transport>,
    pub from: Mailbox,
    pub give_up_after: Duration,
    /// Delay before the first retry; each later one doubles it (`AMTSWEG_MAIL_RETRY_SECS`).
    pub first_retry: Duration,
    /// Longest time one delivery may take (the transport's timeout). A mail is only started
    /// while this much of the lease is left, so no other instance can claim a mail that is
    /// still being sent and send it a second time.
    pub send_timeout: Duration,
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

/// Delay before the next attempt: the first retry delay (30 s by default), then twice as
/// long each time (1 min, 2 min …), capped at one hour.
pub fn backoff_ms(attempts: i64, first_retry: Duration) -> i64 {
    let first = i64::try_from(first_retry.as_millis()).unwrap_or(MAX_BACKOFF_MS);
    let exp = attempts.clamp(1, 20) - 1;
    first.saturating_mul(1_i64 << exp).min(MAX_BACKOFF_MS)
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

    /// Delivers one batch of due mail; returns how many were attempted. When the server cannot
    /// be reached, or the lease is nearly used up, the rest of the batch is handed back
    /// unattempted.
    pub async fn run_once(&self) -> sqlx::Result<usize> {
        let claimed_at = Instant::now();
        let claimed = self.claim().await?;
        let mut n = 0;
        let lease = Duration::from_millis(LEASE_MS.unsigned_abs());
        let mut mails = claimed.into_iter();
        while let Some(mail) = mails.next() {
            if claimed_at.elapsed() + self.send_timeout + POLL > lease {
                let rest: Vec<Claimed> = std::iter::once(mail).chain(mails).collect();
                self.release(&rest, now_ms(), None).await?;
                break;
            }
            let outcome = self.deliver(&mail).await;
            n += 1;
            let unreachable = match &outcome {
                Err(Failure::Unreachable(e)) => Some(e.clone()),
                _ => None,
            };
            let retry_at = self.record(&mail, outcome).await?;
            if let Some(error) = unreachable {
                let rest: Vec<Claimed> = mails.collect();
                if !rest.is_empty() {
                    let due = retry_at.unwrap_or_else(now_ms);
                    self.release(&rest, due, Some(&error)).await?;
                }
                break;
            }
        }
        Ok(n)
    }

    /// Hands claimed mails back without an attempt (the claim counted one): they become due at
    /// `due_at`, like the mail whose failure stopped the batch, and carry its error so that
    /// operators see why they wait.
    async fn release(
        &self,
        mails: &[Claimed],
        due_at: i64,
        error: Option<&str>,
    ) -> sqlx::Result<()> {
        let mut tx = self.db.begin_write().await?;
        for mail in mails {
            sqlx::query(
                "UPDATE mail_outbox SET claimed_until = 0, attempts = attempts - 1,
                 next_attempt_at = $1, last_error = COALESCE($2, last_error)
                 WHERE id = $3 AND status = 'pending'",
            )
            .bind(due_at)
            .bind(error)
            .bind(&mail.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
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

    async fn deliver(&self, mail: &Claimed) -> Result<(), Failure> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|_| Failure::Permanent("recipient is not a valid address".to_string()))?;
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
            .map_err(|e| Failure::Permanent(format!("cannot build message: {e}")))?;
        let meta = DevMailMeta {
            id: mail.id.clone(),
            to: mail.recipient.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            created_at: mail.created_at,
        };
        self.transport.send(message, &meta).await
    }

    /// Stores the outcome of one attempt; returns when the mail is due again, if it is. One
    /// batched write per mail: every submission queues a mail, so this runs as often.
    async fn record(
        &self,
        mail: &Claimed,
        outcome: Result<(), Failure>,
    ) -> sqlx::Result<Option<i64>> {
        let now = now_ms();
        let mut retry_at = None;
        let mut batch = Batch::new();
        match outcome {
            Ok(()) => {
                // Bodies may hold single-use links; once delivered they are not kept.
                batch
                    .add(
                        "UPDATE mail_outbox SET status = 'sent', sent_at = $1, claimed_until = 0,
                         body_text = '', body_html = '', last_error = NULL WHERE id = $2",
                    )
                    .bind(now)
                    .bind(mail.id.clone());
                tracing::info!(mail_id = %mail.id, attempts = mail.attempts, "mail delivered");
            }
            Err(failure) => {
                let give_up_at = mail.created_at
                    + i64::try_from(self.give_up_after.as_millis()).unwrap_or(i64::MAX);
                let permanent = matches!(failure, Failure::Permanent(_));
                let error = failure.text();
                if permanent || now >= give_up_at {
                    batch
                        .add(
                            "UPDATE mail_outbox SET status = 'failed', claimed_until = 0, last_error = $1
                             WHERE id = $2",
                        )
                        .bind(error.to_string())
                        .bind(mail.id.clone());
                    batch
                        .add(
                            "INSERT INTO admin_alerts (id, kind, subject_id, message, created_at)
                             VALUES ($1, 'mail_undeliverable', $2, $3, $4)",
                        )
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind(mail.id.clone())
                        .bind(format!(
                            "mail {} gave up after {} attempts: {error}",
                            mail.id, mail.attempts
                        ))
                        .bind(now);
                    tracing::error!(mail_id = %mail.id, attempts = mail.attempts, %error, "mail given up");
                } else {
                    let due = now + backoff_ms(mail.attempts, self.first_retry);
                    retry_at = Some(due);
                    batch
                        .add(
                            "UPDATE mail_outbox SET next_attempt_at = $1, claimed_until = 0, last_error = $2
                             WHERE id = $3",
                        )
                        .bind(due)
                        .bind(error.to_string())
                        .bind(mail.id.clone());
                    tracing::warn!(mail_id = %mail.id, attempts = mail.attempts, %error, "mail delivery failed, will retry");
                }
            }
        }
        self.db.write(batch).await?;
        Ok(retry_at)
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = Duration::from_secs(30);
        assert_eq!(backoff_ms(1, first), 30_000);
        assert_eq!(backoff_ms(2, first), 60_000);
        assert_eq!(backoff_ms(3, first), 120_000);
        assert_eq!(backoff_ms(50, first), 3_600_000);
        assert!((1..60).all(|a| backoff_ms(a, first) <= backoff_ms(a + 1, first)));
    }

    #[test]
    fn a_shorter_first_retry_scales_the_schedule() {
        let first = Duration::from_secs(1);
        assert_eq!(backoff_ms(1, first), 1_000);
        assert_eq!(backoff_ms(4, first), 8_000);
        assert_eq!(backoff_ms(60, first), 3_600_000);
        assert_eq!(backoff_ms(1, Duration::ZERO), 0);
    }
}
