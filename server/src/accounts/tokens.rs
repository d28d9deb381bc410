//! Single-use tokens sent by mail (verify address, reset password, confirm a new address).
//! Only a SHA-256 of each token is stored, so a database copy cannot be used to take over
//! accounts.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::time::now_ms;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
        }
    }

    pub fn lifetime_ms(self) -> i64 {
        match self {
            Purpose::VerifyEmail | Purpose::ChangeEmail => 24 * 3600 * 1000,
            Purpose::ResetPassword => 3600 * 1000,
        }
    }
}

pub fn hash(raw: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// Issues a token; earlier unused tokens of the same purpose for the account stop working.
pub async fn issue(
    conn: &mut AnyConnection,
    user_id: &str,
    purpose: Purpose,
    new_email: Option<&str>,
) -> sqlx::Result<String> {
    let now = now_ms();
    sqlx::query(
        "DELETE FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await?;
    let raw = super::auth::new_token();
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, user_id, purpose, new_email, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hash(&raw))
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(new_email)
    .bind(now + purpose.lifetime_ms())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(raw)
}

pub struct Valid {
    pub user_id: String,
    pub new_email: Option<String>,
}

/// Checks a token without using it up (for the page that shows the confirm button).
pub async fn peek(db: &Db, raw: &str, purpose: Purpose) -> sqlx::Result<Option<Valid>> {
    let row = sqlx::query(
        "SELECT user_id, new_email FROM account_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(hash(raw))
    .bind(purpose.as_str())
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Valid {
            user_id: r.try_get(0)?,
            new_email: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Uses a token up inside the caller's transaction; a second use finds nothing.
pub async fn consume(
    conn: &mut AnyConnection,
    raw: &str,
    purpose: Purpose,
) -> sqlx::Result<Option<Valid>> {
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE account_tokens SET used_at = $1
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
         RETURNING user_id, new_email",
    )
    .bind(now)
    .bind(hash(raw))
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Valid {
            user_id: r.try_get(0)?,
            new_email: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Removes tokens that expired a day ago or more.
pub async fn purge(db: &Db) -> sqlx::Result<u64> {
    let r = sqlx::query("DELETE FROM account_tokens WHERE expires_at < $1")
        .bind(now_ms() - 24 * 3600 * 1000)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected())
}
