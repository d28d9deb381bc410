use sqlx::AnyConnection;

use crate::db::batch::Batch;
use crate::time::now_ms;

/// A rendered mail ready for the outbox. Recipients are validated addresses; subjects come from
/// templates, never from user input, so nothing user-typed ends up in a header.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Writes the mail into the outbox inside the caller's transaction.
pub async fn enqueue(conn: &mut AnyConnection, mail: &OutgoingMail) -> sqlx::Result<String> {
    let mut batch = Batch::new();
    let id = enqueue_into(&mut batch, mail);
    batch.run_in(conn).await?;
    Ok(id)
}

/// `enqueue` as part of a batched write; returns the mail's id.
pub fn enqueue_into(batch: &mut Batch, mail: &OutgoingMail) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    batch
        .add(
            "INSERT INTO mail_outbox (id, recipient, subject, body_text, body_html, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.clone())
        .bind(mail.to.clone())
        .bind(mail.subject.clone())
        .bind(mail.text.clone())
        .bind(mail.html.clone())
        .bind(now)
        .bind(now);
    id
}

/// Counts per status, for `amtsweg mail status` and the readiness of operators' dashboards.
pub async fn status_counts(db: &crate::db::Db) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status ORDER BY status")
        .fetch_all(&db.pool)
        .await
}

/// Unresolved administrator alerts, newest first.
pub async fn open_alerts(db: &crate::db::Db) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT created_at, message FROM admin_alerts WHERE resolved_at IS NULL
         ORDER BY created_at DESC LIMIT 100",
    )
    .fetch_all(&db.pool)
    .await
}
