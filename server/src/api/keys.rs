//! API keys: one postbox each, with scopes. The key is shown once when it is created; only a
//! SHA-256 of it is stored (it holds 256 random bits, so a slow hash would add nothing but
//! latency to every call).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::accounts::auth::User;
use crate::backoffice::audit::{self, Subject};
use crate::db::Db;
use crate::time::now_ms;

/// What a key may do. Reading is separate from everything that changes a case.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// List and fetch cases, their files and export packages.
    Read,
    /// Accept or reject submissions.
    Acknowledge,
    /// Send messages and decisions, set the case state.
    Reply,
    /// Issue and cancel fee notices.
    Fees,
}

pub const ALL_SCOPES: [Scope; 4] = [Scope::Read, Scope::Acknowledge, Scope::Reply, Scope::Fees];

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Acknowledge => "acknowledge",
            Scope::Reply => "reply",
            Scope::Fees => "fees",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_SCOPES.into_iter().find(|x| x.as_str() == s)
    }
}

pub fn parse_scopes(s: &str) -> Vec<Scope> {
    let mut v: Vec<Scope> = s.split_whitespace().filter_map(Scope::parse).collect();
    v.sort();
    v.dedup();
    v
}

fn scopes_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key as administrators see it (never the secret).
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A newly created key: `secret` is the only copy there will ever be.
pub struct Created {
    pub id: String,
    pub secret: crate::secret::Secret<String>,
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `aw_<prefix>_<secret>`: the prefix lets people tell keys apart in lists and logs without
/// revealing them; the `aw_` start lets secret scanners recognise leaked keys.
fn generate() -> (String, String) {
    let mut rng = rand::thread_rng();
    let mut p = [0u8; 5];
    rng.fill_bytes(&mut p);
    let prefix = hex::encode(p);
    let mut s = [0u8; 32];
    rng.fill_bytes(&mut s);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    (prefix.clone(), format!("aw_{prefix}_{secret}"))
}

/// Creates a key for `postbox_id`; audited in the same transaction. `by` is the administrator
/// (None from the command line).
pub async fn create(
    db: &Db,
    postbox_id: &str,
    name: &str,
    scopes: &[Scope],
    by: Option<(&User, &str)>,
) -> sqlx::Result<Created> {
    let (prefix, secret) = generate();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, postbox_id, name, prefix, secret_sha256, scopes, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(postbox_id)
    .bind(name)
    .bind(&prefix)
    .bind(hash(&secret))
    .bind(scopes_string(scopes))
    .bind(by.map(|(u, _)| u.id.clone()))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if let Some((user, ip)) = by {
        audit::record(
            &mut tx,
            user,
            ip,
            "api_key.create",
            Subject::Postbox(postbox_id),
            &format!(
                "key={prefix}; name={name}; scopes={}",
                scopes_string(scopes)
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Created {
        id,
        secret: crate::secret::Secret::new(secret),
    })
}

/// Revokes a key of `postbox_id` at once (the next call with it fails). False if there is no
/// such active key.
pub async fn revoke(
    db: &Db,
    postbox_id: &str,
    id: &str,
    by: &User,
    ip: &str,
) -> sqlx::Result<bool> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND postbox_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(postbox_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    audit::record(
        &mut tx,
        by,
        ip,
        "api_key.revoke",
        Subject::Postbox(postbox_id),
        &format!("key_id={id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn list(db: &Db, postbox_id: &str) -> sqlx::Result<Vec<KeyInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, prefix, scopes, created_at, last_used_at, revoked_at FROM api_keys
         WHERE postbox_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC",
    )
    .bind(postbox_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyInfo {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                prefix: r.try_get(2)?,
                scopes: parse_scopes(&r.try_get::<String, _>(3)?),
                created_at: r.try_get(4)?,
                last_used_at: r.try_get(5)?,
                revoked_at: r.try_get(6)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_are_unique_and_recognisable() {
        let (p1, k1) = generate();
        let (_, k2) = generate();
        assert_ne!(k1, k2);
        assert!(k1.starts_with(&format!("aw_{p1}_")));
        assert_eq!(k1.len(), 3 + 10 + 1 + 43);
        assert_eq!(hash(&k1).len(), 64);
    }

    #[test]
    fn scopes_round_trip() {
        assert_eq!(
            parse_scopes("reply read read unknown"),
            vec![Scope::Read, Scope::Reply]
        );
        assert_eq!(scopes_string(&ALL_SCOPES), "read acknowledge reply fees");
    }

    proptest! {
        #[test]
        fn any_scope_text_parses_without_panic(s in ".{0,80}") {
            let v = parse_scopes(&s);
            prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
