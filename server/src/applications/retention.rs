//! Drafts are not kept for ever: after the configured days without a change they are deleted,
//! and their owner is reminded by mail some days before.

use amtsweg_app::i18n::Lang;
use sqlx::Row;

use crate::db::Db;
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::time::{format_ms, now_ms};

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub retention_days: i64,
    pub reminder_days: i64,
}

/// Sends due reminders and deletes expired drafts; returns (reminded, deleted).
pub async fn run(db: &Db, policy: Policy, public_url: &str) -> sqlx::Result<(usize, u64)> {
    let now = now_ms();
    let delete_before = now - policy.retention_days * DAY_MS;
    let remind_before = now - (policy.retention_days - policy.reminder_days).max(0) * DAY_MS;
    let mut tx = db.begin_write().await?;
    // Claimed and marked in one statement, so two instances never remind twice.
    let sql = format!(
        "UPDATE drafts SET reminded_at = $1
         WHERE id IN (SELECT id FROM drafts WHERE reminded_at IS NULL AND updated_at < $2 AND updated_at >= $3
                      ORDER BY updated_at LIMIT 200{})
         RETURNING user_id, service_key, updated_at",
        db.skip_locked()
    );
    let due = sqlx::query(&sql)
        .bind(now)
        .bind(remind_before)
        .bind(delete_before)
        .fetch_all(&mut *tx)
        .await?;
    for r in &due {
        let (user_id, key, updated): (String, String, i64) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let user = sqlx::query("SELECT u.email, u.locale, s.title_de, s.title_en FROM users u, services s WHERE u.id = $1 AND s.service_key = $2")
            .bind(&user_id)
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(u) = user else { continue };
        let (email, locale, de, en): (String, String, String, String) =
            (u.try_get(0)?, u.try_get(1)?, u.try_get(2)?, u.try_get(3)?);
        let lang = Lang::from_code(&locale).unwrap_or_default();
        let title = if lang == Lang::De { de } else { en };
        let date = format_ms(updated + policy.retention_days * DAY_MS);
        let mail = render(
            &Template::DraftReminder {
                service: &title,
                date: &date[..10],
            },
            lang,
            &email,
            public_url,
        );
        enqueue(&mut tx, &mail).await?;
    }
    let data_keys: Vec<String> = sqlx::query_scalar(
        "SELECT data_key_id FROM drafts WHERE updated_at < $1 AND data_key_id IS NOT NULL",
    )
    .bind(delete_before)
    .fetch_all(&mut *tx)
    .await?;
    let deleted = sqlx::query("DELETE FROM drafts WHERE updated_at < $1")
        .bind(delete_before)
        .execute(&mut *tx)
        .await?;
    // Crypto-shredding, unless the citizen's uploads (kept for reuse) still need the key.
    for key in &data_keys {
        if crate::crypto::admin::delete_if_unused(&mut tx, key).await? {
            db.vault.forget(key);
        }
    }
    tx.commit().await?;
    db.forget_drafts();
    Ok((due.len(), deleted.rows_affected()))
}
