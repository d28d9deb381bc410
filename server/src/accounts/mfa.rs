//! The second factor of an account: a TOTP authenticator plus ten one-time recovery codes.
//! Switching it on, off or resetting it, renewing the codes and every use of a recovery code
//! are audited in the transaction that does it. Staff accounts must have it; citizens choose.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::auth::User;
use super::totp;
use crate::backoffice::audit::{self, Subject};
use crate::db::Db;
use crate::domain::Role;
use crate::error::AppError;
use crate::time::now_ms;

pub const RECOVERY_CODES: usize = 10;
/// Crockford's Base32 alphabet: no I, L, O or U, so nothing reads as another character.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 16 characters of 5 bits: 80 random bits per code.
const RECOVERY_LEN: usize = 16;

/// The name under which the portal appears in authenticator apps.
pub const ISSUER: &str = "Amtsweg";

/// Whether an account must have a second factor before it may do anything.
pub fn required(role: Role) -> bool {
    role != Role::Citizen
}

/// An account's second factor as its settings page shows it.
#[derive(Clone, Copy, Debug)]
pub struct Status {
    pub enabled_at: i64,
    pub recovery_left: i64,
}

pub async fn status(db: &Db, user_id: &str) -> sqlx::Result<Option<Status>> {
    let row = sqlx::query(
        "SELECT t.enabled_at,
                (SELECT COUNT(*) FROM mfa_recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL)
         FROM mfa_totp t WHERE t.user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Status {
            enabled_at: r.try_get(0)?,
            recovery_left: r.try_get(1)?,
        })
    })
    .transpose()
}

pub async fn is_enabled(db: &Db, user_id: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM mfa_totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(found.is_some())
}

/// A fresh recovery code, shown as four groups of four (`7K2M-Q9XA-…`).
fn new_recovery_code() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..RECOVERY_LEN)
        .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
        .collect();
    raw.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A recovery code as typed: case, hyphens and spaces do not matter, and the letters Crockford
/// reads as digits (O, I, L) count as those digits. `None` if it cannot be one.
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (s.len() == RECOVERY_LEN && s.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(s)
}

/// Tied to the account, so equal codes of two accounts never share a stored value.
fn recovery_hash(user_id: &str, normalized: &str) -> String {
    hex::encode(Sha256::digest(format!("{user_id}:{normalized}").as_bytes()))
}

/// Replaces the account's recovery codes with ten new ones and returns them (shown once).
async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let now = now_ms();
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let code = new_recovery_code();
        let Some(normalized) = normalize_recovery_code(&code) else {
            unreachable!("generated codes are well-formed")
        };
        if codes.contains(&code) {
            continue;
        }
        sqlx::query(
            "INSERT INTO mfa_recovery_codes (user_id, code_sha256, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(recovery_hash(user_id, &normalized))
        .bind(now)
        .execute(&mut *conn)
        .await?;
        codes.push(code);
    }
    Ok(codes)
}

/// Switches the second factor on (or replaces the authenticator) after the user proved with a
/// code of step `step` that the app has the key. Every other session of the account ends;
/// returns the new recovery codes and the account's new session epoch.
pub async fn enable(
    db: &Db,
    user: &User,
    ip: &str,
    secret_base32: &str,
    step: i64,
) -> Result<(Vec<String>, i64), AppError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    shred_secret(&mut tx, &user.id).await?;
    // The TOTP key is encrypted under a data key of its own (it belongs to no case).
    let data_key = db.vault.create(&mut tx).await?;
    let replaced = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret, last_step, enabled_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&user.id)
    .bind(db.vault.seal(&data_key, secret_base32))
    .bind(step)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let codes = replace_recovery_codes(&mut tx, &user.id).await?;
    let epoch: i64 = sqlx::query_scalar(
        "UPDATE users SET session_epoch = session_epoch + 1, updated_at = $1 WHERE id = $2
         RETURNING session_epoch",
    )
    .bind(now)
    .bind(&user.id)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user,
        ip,
        "mfa.enrol",
        Subject::User(&user.id),
        if replaced { "replaced" } else { "" },
    )
    .await?;
    tx.commit().await?;
    db.forget_user(&user.id);
    Ok((codes, epoch))
}

/// New recovery codes; the old ones stop working.
pub async fn renew_recovery_codes(db: &Db, user: &User, ip: &str) -> Result<Vec<String>, AppError> {
    let mut tx = db.begin_write().await?;
    if !enabled_in(&mut tx, &user.id).await? {
        return Err(AppError::NotFound);
    }
    let codes = replace_recovery_codes(&mut tx, &user.id).await?;
    audit::record(
        &mut tx,
        user,
        ip,
        "mfa.recovery_renew",
        Subject::User(&user.id),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Deletes the data key of an account's stored TOTP key, which is about to be removed or
/// replaced, so no copy of the database can yield it afterwards.
async fn shred_secret(conn: &mut AnyConnection, user_id: &str) -> sqlx::Result<()> {
    let secret: Option<String> =
        sqlx::query_scalar("SELECT secret FROM mfa_totp WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(key) = secret.as_deref().and_then(crate::crypto::sealed_key_id) {
        sqlx::query("DELETE FROM data_keys WHERE id = $1")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn enabled_in(conn: &mut AnyConnection, user_id: &str) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM mfa_totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// Who removes a second factor, and therefore what the audit log says.
pub enum Removal<'a> {
    /// The citizen switches it off in the account settings (after re-authenticating).
    Own,
    /// An administrator resets another account's; its sessions end.
    ByAdmin(&'a User),
    /// The command line (`amtsweg user reset-mfa`), for the administrator who lost the phone.
    ByCommandLine,
}

/// Removes the authenticator and the recovery codes of `target`. False if there was none.
pub async fn remove(db: &Db, target: &User, ip: &str, how: Removal<'_>) -> Result<bool, AppError> {
    let mut tx = db.begin_write().await?;
    shred_secret(&mut tx, &target.id).await?;
    let removed = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
        .bind(&target.id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    if !removed {
        return Ok(false);
    }
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(&target.id)
        .execute(&mut *tx)
        .await?;
    let cli = command_line_actor();
    let (actor, action, detail) = match how {
        Removal::Own => (target, "mfa.disable", String::new()),
        Removal::ByAdmin(admin) => (admin, "mfa.reset", format!("email={}", target.email)),
        Removal::ByCommandLine => (&cli, "mfa.reset", format!("email={}", target.email)),
    };
    if !matches!(how, Removal::Own) {
        // Whoever holds a session of the account may have got in with the lost factor.
        sqlx::query(
            "UPDATE users SET session_epoch = session_epoch + 1, updated_at = $1 WHERE id = $2",
        )
        .bind(now_ms())
        .bind(&target.id)
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        ip,
        action,
        Subject::User(&target.id),
        &detail,
    )
    .await?;
    tx.commit().await?;
    db.forget_user(&target.id);
    Ok(true)
}

/// The audit actor of changes made on the command line, where nobody is logged in.
fn command_line_actor() -> User {
    User {
        id: "command-line".into(),
        email: "amtsweg (command line)".into(),
        role: Role::Admin,
        lang: amtsweg_app::i18n::Lang::De,
        epoch: 0,
    }
}

/// The outcome of checking a second-factor input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// A current authenticator code, now used up.
    Code,
    /// A recovery code, now used up; this many remain.
    RecoveryCode { left: i64 },
    /// Wrong, used before, or the account has no second factor.
    Wrong,
}

/// Checks a code from the authenticator or a recovery code and uses it up. Each acceptance is
/// a conditional update, so of two requests racing with the same code only one succeeds.
/// The caller throttles attempts.
pub async fn check(db: &Db, user: &User, ip: &str, input: &str) -> Result<Check, AppError> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == totp::DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()) {
        return check_code(db, &user.id, &digits).await;
    }
    let Some(normalized) = normalize_recovery_code(input) else {
        return Ok(Check::Wrong);
    };
    let mut tx = db.begin_write().await?;
    let used = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $1
         WHERE user_id = $2 AND code_sha256 = $3 AND used_at IS NULL",
    )
    .bind(now_ms())
    .bind(&user.id)
    .bind(recovery_hash(&user.id, &normalized))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if used != 1 || !enabled_in(&mut tx, &user.id).await? {
        return Ok(Check::Wrong);
    }
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(&user.id)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user,
        ip,
        "mfa.recovery_used",
        Subject::User(&user.id),
        &format!("left={left}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Check::RecoveryCode { left })
}

async fn check_code(db: &Db, user_id: &str, digits: &str) -> Result<Check, AppError> {
    let Some(row) = sqlx::query("SELECT secret, last_step FROM mfa_totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(Check::Wrong);
    };
    let stored: String = row.try_get(0)?;
    let last_step: i64 = row.try_get(1)?;
    let secret = db.vault.open(&db.pool, stored.clone()).await?;
    let key = totp::base32_decode(&secret)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored TOTP key is not Base32")))?;
    let Some(step) = totp::verify(&key, digits, totp::step_at(now_ms()), last_step) else {
        return Ok(Check::Wrong);
    };
    let mut tx = db.begin_write().await?;
    let taken = sqlx::query(
        "UPDATE mfa_totp SET last_step = $1 WHERE user_id = $2 AND last_step < $1 AND secret = $3",
    )
    .bind(step)
    .bind(user_id)
    .bind(&stored)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(if taken == 1 {
        Check::Code
    } else {
        Check::Wrong
    })
}

/// Stores a fixed, published key for a demo account (no recovery codes), unless the account
/// already has a second factor. Only for demonstration data.
pub async fn enrol_demo(
    conn: &mut AnyConnection,
    email: &str,
    secret_base32: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret, last_step, enabled_at)
         SELECT id, $1, 0, $2 FROM users WHERE email = $3
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(secret_base32)
    .bind(now_ms())
    .bind(email)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
