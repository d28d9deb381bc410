//! Operations on the keys as a whole: rotation of the deployment key, encryption of rows and
//! files stored before encryption existed, and removal of data keys nothing needs any more.

use futures_util::StreamExt;
use sqlx::{AnyConnection, Row};

use super::vault::{unwrap, wrap, Owner};
use super::{text, CryptoError};
use crate::db::Db;
use crate::storage::Storage;

/// Rows handled per transaction, so a large database is rotated without one huge lock.
const BATCH: i64 = 500;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Data keys now wrapped by the active key that were wrapped by another one.
    pub rewrapped: u64,
    /// Data keys that already were.
    pub current: u64,
}

/// Re-wraps every data key not wrapped by the active deployment key. The data itself is not
/// touched. Safe to repeat and to interrupt; afterwards keys other than the active one can be
/// removed from the configuration. Fails, changing nothing more, at the first data key whose
/// deployment key is not configured.
pub async fn rotate(db: &Db) -> Result<Rotation, CryptoError> {
    let keyring = db.vault.keyring()?;
    let active = keyring.active().id.clone();
    let mut report = Rotation {
        current: u64::try_from(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM data_keys WHERE kek_id = $1")
                .bind(&active)
                .fetch_one(&db.pool)
                .await?,
        )
        .unwrap_or(0),
        ..Rotation::default()
    };
    loop {
        let mut tx = db.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, kek_id, wrapped FROM data_keys WHERE kek_id <> $1 ORDER BY id LIMIT $2",
        )
        .bind(&active)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            let (id, kek_id, wrapped): (String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let key = unwrap(keyring, &id, &kek_id, &wrapped)?;
            let (new_kek, new_wrapped) = wrap(keyring, &id, &key);
            sqlx::query(
                "UPDATE data_keys SET kek_id = $1, wrapped = $2 WHERE id = $3 AND kek_id = $4",
            )
            .bind(&new_kek)
            .bind(&new_wrapped)
            .bind(&id)
            .bind(&kek_id)
            .execute(&mut *tx)
            .await?;
            report.rewrapped += 1;
        }
        tx.commit().await?;
    }
    Ok(report)
}

/// How many data keys each deployment key wraps (for `amtsweg keys status`).
pub async fn usage(db: &Db) -> Result<Vec<(String, i64)>, CryptoError> {
    let rows =
        sqlx::query("SELECT kek_id, COUNT(*) FROM data_keys GROUP BY kek_id ORDER BY kek_id")
            .fetch_all(&db.pool)
            .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Deletes a data key unless a draft, case or document still uses it. After this, every copy
/// of what it encrypted (backups, dumps) is unreadable.
pub async fn delete_if_unused(conn: &mut AnyConnection, id: &str) -> sqlx::Result<bool> {
    let deleted = sqlx::query(
        "DELETE FROM data_keys WHERE id = $1
           AND NOT EXISTS (SELECT 1 FROM cases WHERE data_key_id = $1)
           AND NOT EXISTS (SELECT 1 FROM drafts WHERE data_key_id = $1)
           AND NOT EXISTS (SELECT 1 FROM documents WHERE data_key_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(deleted > 0)
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Conversion {
    pub drafts: u64,
    pub cases: u64,
    pub messages: u64,
    pub notes: u64,
    pub files: u64,
    pub totp: u64,
}

/// Encrypts what was stored before encryption: answers of drafts and cases, message bodies
/// and notes, TOTP keys and files. Each row is changed only if it is still plaintext, so this
/// can be repeated and can run while the server serves.
pub async fn encrypt_existing(db: &Db, storage: &Storage) -> Result<Conversion, CryptoError> {
    let mut report = Conversion::default();
    for (owner, table) in [(Owner::Draft, "drafts"), (Owner::Case, "cases")] {
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM {table} WHERE data_key_id IS NULL OR answers NOT LIKE 'enc:v1:%'"
        ))
        .fetch_all(&db.pool)
        .await?;
        for id in ids {
            let mut tx = db.begin_write().await?;
            let key = db.vault.key_of(&mut tx, owner, &id).await?;
            let answers: Option<String> =
                sqlx::query_scalar(&format!("SELECT answers FROM {table} WHERE id = $1"))
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(a) = answers.filter(|a| !text::is_sealed(a)) {
                sqlx::query(&format!(
                    "UPDATE {table} SET answers = $1 WHERE id = $2 AND answers = $3"
                ))
                .bind(db.vault.seal(&key, &a))
                .bind(&id)
                .bind(&a)
                .execute(&mut *tx)
                .await?;
                match owner {
                    Owner::Draft => report.drafts += 1,
                    Owner::Case => report.cases += 1,
                }
            }
            tx.commit().await?;
            if matches!(owner, Owner::Draft) {
                db.forget_draft(&id);
            }
        }
    }
    for (table, counter) in [
        ("messages", &mut report.messages),
        ("case_notes", &mut report.notes),
    ] {
        let rows = sqlx::query(&format!(
            "SELECT id, case_id, body FROM {table} WHERE body NOT LIKE 'enc:v1:%'"
        ))
        .fetch_all(&db.pool)
        .await?;
        for r in rows {
            let (id, case_id, body): (String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let mut tx = db.begin_write().await?;
            let key = db.vault.key_of(&mut tx, Owner::Case, &case_id).await?;
            *counter += sqlx::query(&format!(
                "UPDATE {table} SET body = $1 WHERE id = $2 AND body = $3"
            ))
            .bind(db.vault.seal(&key, &body))
            .bind(&id)
            .bind(&body)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
        }
    }
    let rows = sqlx::query("SELECT user_id, secret FROM mfa_totp WHERE secret NOT LIKE 'enc:v1:%'")
        .fetch_all(&db.pool)
        .await?;
    for r in rows {
        let (user, secret): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let mut tx = db.begin_write().await?;
        let key = db.vault.create(&mut tx).await?;
        report.totp +=
            sqlx::query("UPDATE mfa_totp SET secret = $1 WHERE user_id = $2 AND secret = $3")
                .bind(db.vault.seal(&key, &secret))
                .bind(&user)
                .bind(&secret)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
    }
    report.files = encrypt_files(db, storage).await?;
    Ok(report)
}

/// The data key a plaintext document should be encrypted with: its case's (evidence,
/// attachments, fee notices), else a draft's that uses it, else one of its own.
async fn key_for_document(
    db: &Db,
    conn: &mut AnyConnection,
    doc: &str,
) -> Result<super::DataKey, CryptoError> {
    let case: Option<String> = sqlx::query_scalar(
        "SELECT case_id FROM case_documents WHERE document_id = $1
         UNION SELECT m.case_id FROM message_documents md JOIN messages m ON m.id = md.message_id
               WHERE md.document_id = $1
         LIMIT 1",
    )
    .bind(doc)
    .fetch_optional(&mut *conn)
    .await?;
    match case {
        Some(case) => db.vault.key_of(conn, Owner::Case, &case).await,
        None => db.vault.create(conn).await,
    }
}

/// Re-stores every file that is still plaintext as an encrypted file under a new storage key,
/// then points its row there and deletes the old file (stored files never change in place,
/// which backups rely on). The write lock is held only for the short steps, not while a file
/// is copied.
async fn encrypt_files(db: &Db, storage: &Storage) -> Result<u64, CryptoError> {
    let docs: Vec<(String, String)> =
        sqlx::query_as("SELECT id, storage_key FROM documents WHERE data_key_id IS NULL")
            .fetch_all(&db.pool)
            .await?;
    let mut done = 0;
    for (id, old_key) in docs {
        let mut raw = match storage.open(&old_key).await {
            Ok(s) => s,
            // A missing file is the storage clean-up's business (it counts them).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let key = {
            let mut tx = db.begin_write().await?;
            let key = key_for_document(db, &mut tx, &id).await?;
            tx.commit().await?;
            key
        };
        let mut upload = storage.begin_sealed(db.vault.sealer(&key)).await?;
        let mut first = true;
        let mut sealed_already = false;
        while let Some(chunk) = raw.next().await {
            let chunk = chunk?;
            if first && chunk.starts_with(super::file::MAGIC) {
                sealed_already = true;
                break;
            }
            first = false;
            upload.write(&chunk).await?;
        }
        if sealed_already {
            // Only a file written by this version starts so; its row is not ours to guess.
            tracing::warn!(document = %id, "file is encrypted but its row names no data key");
            continue;
        }
        let new_key = storage.commit(upload).await?;
        let mut tx = db.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE documents SET storage_key = $1, data_key_id = $2
             WHERE id = $3 AND storage_key = $4 AND data_key_id IS NULL",
        )
        .bind(&new_key)
        .bind(&key.id)
        .bind(&id)
        .bind(&old_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if changed == 1 {
            storage.delete(&old_key).await?;
            done += 1;
        } else {
            storage.delete(&new_key).await?;
        }
    }
    Ok(done)
}
