//! Who is logged in. The session holds the account id, the account's session epoch at login and
//! the login time; a session whose epoch is stale ("log out everywhere", password changed) or
//! that is older than the absolute lifetime is ended on its next request.
//!
//! A login with a second factor has two steps. Between them the session holds only a
//! [`Pending`] record, never the account id, so it grants nothing a visitor could not do.

use amtsweg_app::i18n::Lang;
use base64::Engine;
use rand::RngCore;
use sqlx::Row;
use tower_sessions::Session;

use super::pg_session::{JoinedAccount, JOINED_ACCOUNT};
use super::session::{
    CSRF, ENROL_SECRET, EPOCH, LAST_SEEN, LOGIN_AT, NEW_RECOVERY_CODES, PENDING, REAUTH_AT,
    SECOND_FACTOR, USER_ID,
};
use crate::db::Db;
use crate::domain::Role;
use crate::error::AppError;
use crate::time::now_ms;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub lang: Lang,
    pub epoch: i64,
}

pub(crate) fn session_err(e: tower_sessions::session::Error) -> AppError {
    AppError::Session(e)
}

pub async fn load_user(db: &Db, id: &str) -> Result<Option<User>, AppError> {
    if let Some(u) = db.users.as_ref().and_then(|c| c.get(&id.to_string())) {
        return Ok(Some(u));
    }
    let since = db.users.as_ref().map(|c| c.generation()).unwrap_or(0);
    let row = sqlx::query("SELECT id, email, role, locale, session_epoch FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let user = user_from(JoinedAccount {
        id: r.try_get(0)?,
        email: r.try_get(1)?,
        role: r.try_get(2)?,
        locale: r.try_get(3)?,
        epoch: r.try_get(4)?,
    })?;
    if let Some(c) = &db.users {
        c.fill(since, user.id.clone(), user.clone());
    }
    Ok(Some(user))
}

fn user_from(a: JoinedAccount) -> Result<User, AppError> {
    let role = a
        .role
        .parse()
        .map_err(|()| AppError::Internal(anyhow::anyhow!("unknown role {}", a.role)))?;
    Ok(User {
        id: a.id,
        email: a.email,
        role,
        lang: Lang::from_code(&a.locale).unwrap_or_default(),
        epoch: a.epoch,
    })
}

/// The account of session `uid`: as the PostgreSQL session store read it with the session (one
/// round trip fewer), or else from the database or the account cache.
///
/// The joined account is as old as this request. It is used only if it is still the session's
/// account with the session's epoch: a login or an epoch change earlier in this request (an
/// error page built after a password change) reads the account again, and so does a session
/// about to be ended, which then ends on a fresh read. Other changes this request made to the
/// account (address, language) are not seen by an error page built after them in the same
/// request; the redirect every successful form answers with reads them.
async fn session_user(
    session: &Session,
    db: &Db,
    uid: &str,
    epoch: i64,
) -> Result<Option<User>, AppError> {
    let joined = session
        .get::<JoinedAccount>(JOINED_ACCOUNT)
        .await
        .map_err(session_err)?;
    match joined {
        Some(a) if a.id == uid && a.epoch == epoch => user_from(a).map(Some),
        _ => load_user(db, uid).await,
    }
}

/// How often the idle clock of a session is written back: a write per request would make
/// every page a database write.
const SEEN_GRANULARITY_MS: i64 = 60_000;

#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub idle_ms: i64,
    pub max_ms: i64,
}

/// A session is alive while younger than the absolute lifetime and used within the idle time.
pub fn is_fresh(now: i64, login_at: i64, seen: i64, life: Lifetimes) -> bool {
    now - login_at < life.max_ms && now - seen < life.idle_ms
}

pub async fn current_user(
    session: &Session,
    db: &Db,
    life: Lifetimes,
) -> Result<Option<User>, AppError> {
    let Some(uid) = session.get::<String>(USER_ID).await.map_err(session_err)? else {
        return Ok(None);
    };
    let now = now_ms();
    let epoch = session
        .get::<i64>(EPOCH)
        .await
        .map_err(session_err)?
        .unwrap_or(-1);
    let login_at = session
        .get::<i64>(LOGIN_AT)
        .await
        .map_err(session_err)?
        .unwrap_or(0);
    let seen = session
        .get::<i64>(LAST_SEEN)
        .await
        .map_err(session_err)?
        .unwrap_or(login_at);
    let fresh = is_fresh(now, login_at, seen, life);
    let user = if fresh {
        session_user(session, db, &uid, epoch).await?
    } else {
        None
    };
    // Staff accounts are never logged in without a second factor: a session from before it
    // became mandatory ends here, and the next login leads to enrolment.
    let second_factor = session
        .get::<bool>(SECOND_FACTOR)
        .await
        .map_err(session_err)?
        .unwrap_or(false);
    match user {
        Some(u) if u.epoch == epoch && (second_factor || !super::mfa::required(u.role)) => {
            if now - seen > SEEN_GRANULARITY_MS {
                session.insert(LAST_SEEN, now).await.map_err(session_err)?;
            }
            Ok(Some(u))
        }
        _ => {
            session.flush().await.map_err(session_err)?;
            Ok(None)
        }
    }
}

/// Starts an authenticated session under a new id, so a session id planted before login
/// (fixation) is worthless afterwards. `second_factor` tells whether a code was checked.
pub async fn log_in(
    session: &Session,
    user: &User,
    life: Lifetimes,
    second_factor: bool,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_err)?;
    for key in [PENDING, ENROL_SECRET, NEW_RECOVERY_CODES] {
        session.remove_value(key).await.map_err(session_err)?;
    }
    session
        .insert(SECOND_FACTOR, second_factor)
        .await
        .map_err(session_err)?;
    session
        .insert(REAUTH_AT, now_ms())
        .await
        .map_err(session_err)?;
    // The stored session ends at the absolute lifetime; idleness is checked on each request.
    let end = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(life.max_ms);
    session.set_expiry(Some(tower_sessions::Expiry::AtDateTime(end)));
    session
        .insert(LAST_SEEN, now_ms())
        .await
        .map_err(session_err)?;
    session
        .insert(USER_ID, &user.id)
        .await
        .map_err(session_err)?;
    session
        .insert(EPOCH, user.epoch)
        .await
        .map_err(session_err)?;
    session
        .insert(LOGIN_AT, now_ms())
        .await
        .map_err(session_err)?;
    session
        .insert(CSRF, new_token())
        .await
        .map_err(session_err)?;
    Ok(())
}

/// How long the second step of a login may take before the password must be entered again.
pub const PENDING_MAX_MS: i64 = 10 * 60_000;

/// What the second step of a login asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    /// A code from the authenticator, or a recovery code.
    Code,
    /// A staff account without a second factor sets one up first.
    Enrol,
}

/// A login whose password was right and whose second step is outstanding.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub user_id: String,
    pub stage: Stage,
    /// Where the login leads afterwards (a local path, checked when it was given).
    pub next: String,
    pub since: i64,
}

/// Ends whatever the session was (under a new id: the privilege changes) and remembers the
/// half-done login. Nothing else is kept: in particular no account id.
pub async fn begin_second_step(
    session: &Session,
    user_id: &str,
    stage: Stage,
    next: &str,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_err)?;
    for key in [
        USER_ID,
        EPOCH,
        LOGIN_AT,
        LAST_SEEN,
        SECOND_FACTOR,
        REAUTH_AT,
        ENROL_SECRET,
        NEW_RECOVERY_CODES,
    ] {
        session.remove_value(key).await.map_err(session_err)?;
    }
    let pending = Pending {
        user_id: user_id.to_string(),
        stage,
        next: next.to_string(),
        since: now_ms(),
    };
    session
        .insert(PENDING, &pending)
        .await
        .map_err(session_err)?;
    session
        .insert(CSRF, new_token())
        .await
        .map_err(session_err)?;
    Ok(())
}

/// The half-done login of this session, if it is recent enough.
pub async fn pending(session: &Session) -> Result<Option<Pending>, AppError> {
    let p = session.get::<Pending>(PENDING).await.map_err(session_err)?;
    Ok(p.filter(|p| now_ms() - p.since < PENDING_MAX_MS))
}

/// Records that the user just proved again who they are (password, and code if enabled).
/// The session id changes, as with every change of what the session may do.
pub async fn mark_reauthenticated(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_err)?;
    session
        .insert(REAUTH_AT, now_ms())
        .await
        .map_err(session_err)
}

/// When the user last entered the password (login or re-authentication).
pub async fn reauthenticated_at(session: &Session) -> Result<Option<i64>, AppError> {
    session.get::<i64>(REAUTH_AT).await.map_err(session_err)
}

/// Marks the session as having passed a second factor (the user just set one up).
pub async fn mark_second_factor(session: &Session) -> Result<(), AppError> {
    session
        .insert(SECOND_FACTOR, true)
        .await
        .map_err(session_err)
}

pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_err)
}

/// Keeps the current session valid after the account's epoch moved (password change).
pub async fn adopt_epoch(session: &Session, epoch: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_err)?;
    session.insert(EPOCH, epoch).await.map_err(session_err)
}

/// The session's form token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(t) = session.get::<String>(CSRF).await.map_err(session_err)? {
        return Ok(t);
    }
    let t = new_token();
    session.insert(CSRF, &t).await.map_err(session_err)?;
    Ok(t)
}

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_too_old() {
        let life = Lifetimes {
            idle_ms: 30 * 60_000,
            max_ms: 12 * 3_600_000,
        };
        let login = 1_000_000_000;
        assert!(is_fresh(login + 60_000, login, login, life));
        assert!(
            !is_fresh(login + 31 * 60_000, login, login, life),
            "idle for 31 minutes"
        );
        assert!(
            is_fresh(
                login + 11 * 3_600_000,
                login,
                login + 11 * 3_600_000 - 60_000,
                life
            ),
            "active all day"
        );
        assert!(
            !is_fresh(
                login + 12 * 3_600_000,
                login,
                login + 12 * 3_600_000 - 1,
                life
            ),
            "12 hours at most"
        );
    }
}
