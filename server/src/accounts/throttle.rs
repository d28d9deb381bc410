//! Fixed-window attempt counters in the database, so every instance sees the same counts.

use crate::db::Db;
use crate::error::AppError;
use crate::time::now_ms;

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: i64,
    pub window_secs: i64,
}

pub const LOGIN_PER_ACCOUNT: Limit = Limit {
    max: 10,
    window_secs: 15 * 60,
};
/// Per client address; the maximum comes from the configuration.
pub fn login_per_client(max: i64) -> Limit {
    Limit {
        max,
        window_secs: 15 * 60,
    }
}
pub const REGISTER_PER_CLIENT: Limit = Limit {
    max: 10,
    window_secs: 60 * 60,
};
pub const RESET_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window_secs: 60 * 60,
};
pub const RESET_PER_CLIENT: Limit = Limit {
    max: 20,
    window_secs: 60 * 60,
};

/// Counts one attempt under `key`; refuses with the seconds until the window ends once the
/// limit is exceeded.
pub async fn hit(db: &Db, key: &str, limit: Limit) -> Result<(), AppError> {
    let now = now_ms();
    let window_ms = limit.window_secs * 1000;
    let window_start = now - now.rem_euclid(window_ms);
    let mut tx = db.begin_write().await?;
    let count: i64 = sqlx::query_scalar(
        "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
            count = CASE WHEN rate_limits.window_start = excluded.window_start
                         THEN rate_limits.count + 1 ELSE 1 END,
            window_start = excluded.window_start
         RETURNING count",
    )
    .bind(key)
    .bind(window_start)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if count > limit.max {
        let retry = (window_start + window_ms - now).max(1000) / 1000;
        return Err(AppError::TooManyRequests(
            u64::try_from(retry).unwrap_or(60),
        ));
    }
    Ok(())
}

/// Forgets the counter, e.g. an account's failed logins after a successful one.
pub async fn reset(db: &Db, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Removes counters whose window ended long ago.
pub async fn purge(db: &Db) -> sqlx::Result<u64> {
    let cutoff = now_ms() - 24 * 3600 * 1000;
    let r = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected())
}
