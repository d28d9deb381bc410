//! Sessions on PostgreSQL, read together with the account they belong to.
//!
//! With tower-sessions' own store, every page behind a login made two round trips before its own
//! query: the session's row, then the account (does it still exist, which role, which session
//! epoch). On a database shared by several instances each round trip costs more CPU than the
//! rest of a small page (BENCHMARKS.md, "What the form page costs on PostgreSQL"). This store
//! keeps the account id of a logged-in session in a column of the session table (`user_id`,
//! migration 16) and reads the account in the same statement as the session. The account is
//! read afresh with every request, so a locked account or "log out everywhere" takes effect on
//! every instance at once, as before.
//!
//! The account reaches [`super::auth::current_user`] inside the loaded record, under
//! [`JOINED_ACCOUNT`]; that key is removed whenever a record is written, so it is never stored.
//! Rows keep tower-sessions' table and encoding (MessagePack of the record): sessions from before
//! the change stay valid, and get their `user_id` with their next write.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPool;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use super::session::USER_ID;

/// The key under which a loaded record carries its account; never written back.
pub const JOINED_ACCOUNT: &str = "__account";

/// The account as the session's statement read it (the columns of `auth::load_user`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedAccount {
    pub id: String,
    pub email: String,
    pub role: String,
    pub locale: String,
    pub epoch: i64,
}

#[derive(Clone, Debug)]
pub struct PgSessions {
    pool: PgPool,
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The record as stored: without the joined account, MessagePack as tower-sessions' store writes
/// it, and the account id for the join.
fn encode(record: &Record) -> session_store::Result<(Vec<u8>, Option<String>)> {
    let user_id = record
        .data
        .get(USER_ID)
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let bytes = if record.data.contains_key(JOINED_ACCOUNT) {
        let mut stored = record.clone();
        stored.data.remove(JOINED_ACCOUNT);
        rmp_serde::to_vec(&stored)
    } else {
        rmp_serde::to_vec(record)
    }
    .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok((bytes, user_id))
}

/// Decodes a stored record and attaches the account the statement joined to it (if any).
fn decode(bytes: &[u8], account: Option<JoinedAccount>) -> session_store::Result<Record> {
    let mut record: Record =
        rmp_serde::from_slice(bytes).map_err(|e| session_store::Error::Decode(e.to_string()))?;
    // Only ever this statement's account: a stored key (there should be none) is not trusted.
    record.data.remove(JOINED_ACCOUNT);
    if let Some(account) = account {
        let value = serde_json::to_value(account)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        record.data.insert(JOINED_ACCOUNT.to_string(), value);
    }
    Ok(record)
}

impl PgSessions {
    pub fn new(pool: PgPool) -> Self {
        PgSessions { pool }
    }

    /// Inserts the record, or with `replace` overwrites a row of the same id; tells whether a
    /// row was written.
    async fn write(&self, record: &Record, replace: bool) -> session_store::Result<bool> {
        let (bytes, user_id) = encode(record)?;
        let sql = if replace {
            "INSERT INTO tower_sessions.session (id, data, expiry_date, user_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
             expiry_date = excluded.expiry_date, user_id = excluded.user_id"
        } else {
            "INSERT INTO tower_sessions.session (id, data, expiry_date, user_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING"
        };
        let done = sqlx::query(sql)
            .bind(record.id.to_string())
            .bind(bytes)
            .bind(record.expiry_date)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl SessionStore for PgSessions {
    /// One statement per attempt instead of a transaction around a lookup and an insert: a
    /// colliding id (2^-128 per draw) only means drawing another.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.write(record, false).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, true).await.map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query(
            "SELECT s.data, u.id, u.email, u.role, u.locale, u.session_epoch \
             FROM tower_sessions.session s LEFT JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.expiry_date > now()",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let account_id: Option<String> = row.try_get(1).map_err(backend)?;
        let account = match account_id {
            Some(id) => Some(JoinedAccount {
                id,
                email: row.try_get(2).map_err(backend)?,
                role: row.try_get(3).map_err(backend)?,
                locale: row.try_get(4).map_err(backend)?,
                epoch: row.try_get(5).map_err(backend)?,
            }),
            None => None,
        };
        let bytes: Vec<u8> = row.try_get(0).map_err(backend)?;
        decode(&bytes, account).map(Some)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM tower_sessions.session WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for PgSessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert(USER_ID.to_string(), serde_json::json!("u-1"));
        data.insert("csrf".to_string(), serde_json::json!("token"));
        Record {
            id: Id::default(),
            data,
            expiry_date: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn account() -> JoinedAccount {
        JoinedAccount {
            id: "u-1".into(),
            email: "a@example.org".into(),
            role: "citizen".into(),
            locale: "de".into(),
            epoch: 3,
        }
    }

    #[test]
    fn the_joined_account_is_attached_on_load_and_never_stored() {
        let (bytes, user_id) = encode(&record()).unwrap();
        assert_eq!(user_id.as_deref(), Some("u-1"));
        let loaded = decode(&bytes, Some(account())).unwrap();
        let carried: JoinedAccount =
            serde_json::from_value(loaded.data[JOINED_ACCOUNT].clone()).unwrap();
        assert_eq!(carried, account());
        // Written back (e.g. after the idle clock moved), the account is left out.
        let (again, _) = encode(&loaded).unwrap();
        let stored: Record = rmp_serde::from_slice(&again).unwrap();
        assert_eq!(stored.data, record().data);
    }

    #[test]
    fn a_stored_account_key_is_not_trusted() {
        let mut forged = record();
        forged.data.insert(
            JOINED_ACCOUNT.to_string(),
            serde_json::to_value(account()).unwrap(),
        );
        let bytes = rmp_serde::to_vec(&forged).unwrap();
        let loaded = decode(&bytes, None).unwrap();
        assert!(!loaded.data.contains_key(JOINED_ACCOUNT));
    }

    #[test]
    fn an_anonymous_session_has_no_account_id() {
        let mut anonymous = record();
        anonymous.data.remove(USER_ID);
        assert_eq!(encode(&anonymous).unwrap().1, None);
    }
}
