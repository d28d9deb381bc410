//! What the package is made of, read from the database in a handful of queries. Access has
//! been checked by the caller; everything here is keyed by the case id.

use std::collections::HashMap;

use sqlx::Row;

use crate::backoffice::thread::{self, Message};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// The case itself, with the names of its service, authority and postbox.
#[derive(Clone, Debug)]
pub struct Facts {
    pub id: String,
    pub reference: String,
    pub service_key: String,
    pub version: i64,
    pub answers: String,
    pub state: String,
    pub applicant_name: String,
    pub submitted_at: i64,
    /// (id, name); none for a case that no rule routed.
    pub authority: Option<(String, String)>,
    pub postbox: Option<(String, String)>,
}

/// A stored document as it is recorded.
#[derive(Clone, Debug)]
pub struct Doc {
    pub id: String,
    pub storage_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Clone, Debug)]
pub struct Evidence {
    pub field_id: String,
    pub doc: Doc,
}

#[derive(Clone, Debug)]
pub struct FeeNotice {
    pub number: i64,
    pub payment_reference: String,
    pub state: String,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub due_date: String,
    pub issued_at: i64,
    pub closed_at: Option<i64>,
    pub doc: Option<Doc>,
}

pub async fn facts(db: &Db, case_id: &str) -> AppResult<Facts> {
    let r = sqlx::query(
        "SELECT c.id, c.reference, c.service_key, c.version, c.answers, c.state, c.applicant_name,
                c.submitted_at, a.id, a.name, p.id, p.name
         FROM cases c LEFT JOIN postboxes p ON p.id = c.postbox_id
         LEFT JOIN authorities a ON a.id = p.authority_id
         WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let pair = |i: usize| -> sqlx::Result<Option<(String, String)>> {
        let id: Option<String> = r.try_get(i)?;
        let name: Option<String> = r.try_get(i + 1)?;
        Ok(id.zip(name))
    };
    Ok(Facts {
        id: r.try_get(0)?,
        reference: r.try_get(1)?,
        service_key: r.try_get(2)?,
        version: r.try_get(3)?,
        answers: db.vault.open(&db.pool, r.try_get(4)?).await?,
        state: r.try_get(5)?,
        applicant_name: r.try_get(6)?,
        submitted_at: r.try_get(7)?,
        authority: pair(8)?,
        postbox: pair(10)?,
    })
}

/// Reads the document columns starting at `i`: id, storage key, name, type, size, hash.
fn doc_at(r: &sqlx::any::AnyRow, i: usize) -> sqlx::Result<Doc> {
    Ok(Doc {
        id: r.try_get(i)?,
        storage_key: r.try_get(i + 1)?,
        file_name: r.try_get(i + 2)?,
        content_type: r.try_get(i + 3)?,
        size: r.try_get(i + 4)?,
        sha256: r.try_get(i + 5)?,
    })
}

const DOC_COLUMNS: &str = "d.id, d.storage_key, d.file_name, d.content_type, d.size, d.sha256";

pub async fn evidence(db: &Db, case_id: &str) -> AppResult<Vec<Evidence>> {
    let rows = sqlx::query(&format!(
        "SELECT cd.field_id, {DOC_COLUMNS} FROM case_documents cd
         JOIN documents d ON d.id = cd.document_id
         WHERE cd.case_id = $1 ORDER BY cd.field_id, d.file_name, d.id"
    ))
    .bind(case_id)
    .fetch_all(&db.pool)
    .await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(Evidence {
                field_id: r.try_get(0)?,
                doc: doc_at(r, 1)?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    Ok(out)
}

pub async fn fee_notices(db: &Db, case_id: &str) -> AppResult<Vec<FeeNotice>> {
    let rows = sqlx::query(&format!(
        "SELECT n.number, n.payment_reference, n.state, n.total_cents, n.paid_cents, n.due_date,
                n.issued_at, n.closed_at, {DOC_COLUMNS}
         FROM fee_notices n LEFT JOIN documents d ON d.id = n.document_id
         WHERE n.case_id = $1 ORDER BY n.number"
    ))
    .bind(case_id)
    .fetch_all(&db.pool)
    .await?;
    let out = rows
        .iter()
        .map(|r| {
            let has_doc = r.try_get::<Option<String>, _>(8)?.is_some();
            Ok(FeeNotice {
                number: r.try_get(0)?,
                payment_reference: r.try_get(1)?,
                state: r.try_get(2)?,
                total_cents: r.try_get(3)?,
                paid_cents: r.try_get(4)?,
                due_date: r.try_get(5)?,
                issued_at: r.try_get(6)?,
                closed_at: r.try_get(7)?,
                doc: if has_doc { Some(doc_at(r, 8)?) } else { None },
            })
        })
        .collect::<sqlx::Result<_>>()?;
    Ok(out)
}

/// The thread as the case page shows it, and the stored documents of its attachments by id.
pub async fn messages(db: &Db, case_id: &str) -> AppResult<(Vec<Message>, HashMap<String, Doc>)> {
    let messages = thread::messages(db, case_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {DOC_COLUMNS} FROM message_documents md
         JOIN messages m ON m.id = md.message_id JOIN documents d ON d.id = md.document_id
         WHERE m.case_id = $1"
    ))
    .bind(case_id)
    .fetch_all(&db.pool)
    .await?;
    let docs = rows
        .iter()
        .map(|r| doc_at(r, 0).map(|d| (d.id.clone(), d)))
        .collect::<sqlx::Result<_>>()?;
    Ok((messages, docs))
}
