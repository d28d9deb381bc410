//! Reading a case's thread and timeline, for the caseworker's case page and the citizen's
//! postbox alike (each side filters what it may see).

use sqlx::Row;

use crate::db::Db;

#[derive(Clone, Debug)]
pub struct Attachment {
    pub document_id: String,
    pub file_name: String,
    pub size: i64,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub id: String,
    pub kind: String,
    pub from_citizen: bool,
    pub author: String,
    pub body: String,
    pub outcome: Option<String>,
    pub deadline_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub created_at: i64,
    pub attachments: Vec<Attachment>,
}

pub async fn messages(db: &Db, case_id: &str) -> sqlx::Result<Vec<Message>> {
    let rows = sqlx::query(
        "SELECT id, kind, from_citizen, author_label, body, outcome, deadline_at, answered_at, read_at, created_at
         FROM messages WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(&db.pool)
    .await?;
    let docs = sqlx::query(
        "SELECT md.message_id, d.id, d.file_name, d.size FROM message_documents md
         JOIN messages m ON m.id = md.message_id JOIN documents d ON d.id = md.document_id
         WHERE m.case_id = $1 ORDER BY d.file_name",
    )
    .bind(case_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get(0)?;
        let mut attachments = Vec::new();
        for d in &docs {
            if d.try_get::<String, _>(0)? == id {
                attachments.push(Attachment {
                    document_id: d.try_get(1)?,
                    file_name: d.try_get(2)?,
                    size: d.try_get(3)?,
                });
            }
        }
        out.push(Message {
            id,
            kind: r.try_get(1)?,
            from_citizen: r.try_get::<i64, _>(2)? != 0,
            author: r.try_get(3)?,
            body: r.try_get(4)?,
            outcome: r.try_get(5)?,
            deadline_at: r.try_get(6)?,
            answered_at: r.try_get(7)?,
            read_at: r.try_get(8)?,
            created_at: r.try_get(9)?,
            attachments,
        });
    }
    for m in &mut out {
        m.body = db.vault.open(&db.pool, std::mem::take(&mut m.body)).await?;
    }
    Ok(out)
}

#[derive(Clone, Debug)]
pub struct Event {
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

/// The timeline; `public_only` for the citizen.
pub async fn events(db: &Db, case_id: &str, public_only: bool) -> sqlx::Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT at, actor_label, kind, detail FROM case_events
         WHERE case_id = $1 AND (public = 1 OR $2 = 0) ORDER BY at, id",
    )
    .bind(case_id)
    .bind(i64::from(public_only))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Event {
                at: r.try_get(0)?,
                actor: r.try_get(1)?,
                kind: r.try_get(2)?,
                detail: r.try_get(3)?,
            })
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct Note {
    pub author: String,
    pub body: String,
    pub at: i64,
}

pub async fn notes(db: &Db, case_id: &str) -> sqlx::Result<Vec<Note>> {
    let rows = sqlx::query(
        "SELECT author_label, body, created_at FROM case_notes WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Note {
            author: r.try_get(0)?,
            body: db.vault.open(&db.pool, r.try_get(1)?).await?,
            at: r.try_get(2)?,
        });
    }
    Ok(out)
}

/// Whether a document belongs to the case: submitted evidence or attached to its thread.
pub async fn case_document(
    db: &Db,
    case_id: &str,
    document_id: &str,
) -> sqlx::Result<Option<(String, String, String, i64)>> {
    let row = sqlx::query(
        "SELECT d.storage_key, d.file_name, d.content_type, d.size FROM documents d
         WHERE d.id = $1 AND (
            EXISTS (SELECT 1 FROM case_documents cd WHERE cd.document_id = d.id AND cd.case_id = $2)
            OR EXISTS (SELECT 1 FROM message_documents md JOIN messages m ON m.id = md.message_id
                       WHERE md.document_id = d.id AND m.case_id = $2))",
    )
    .bind(document_id)
    .bind(case_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .transpose()
}
