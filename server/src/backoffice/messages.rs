//! The thread between authority and citizen: messages, requests for information, decisions,
//! forwarding notices and the citizen's replies, each written with its state change, timeline
//! event, audit entry and notification in one transaction.

use sqlx::{AnyConnection, Row};

use super::access::StaffCase;
use super::audit::{self, Subject};
use super::cases::{event, notify_citizen, set_state, Actor, Refused};
use super::state::CaseState;
use crate::accounts::auth::User;
use crate::db::Db;
use crate::time::now_ms;

/// What a caseworker sends to the citizen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outgoing {
    Message,
    /// A request for information, to be answered by this time (Unix ms).
    Request {
        deadline: i64,
    },
    Decision {
        approved: bool,
    },
}

/// One item of the thread, as inserted.
pub(crate) struct NewMessage<'a> {
    pub case_id: &'a str,
    pub kind: &'a str,
    pub author: &'a User,
    pub from_citizen: bool,
    pub body: &'a str,
    pub outcome: Option<&'a str>,
    pub deadline: Option<i64>,
    pub in_reply_to: Option<&'a str>,
    pub documents: &'a [String],
}

/// The body is encrypted under the case's data key.
pub(crate) async fn insert_message(
    conn: &mut AnyConnection,
    vault: &crate::crypto::Vault,
    m: NewMessage<'_>,
) -> sqlx::Result<String> {
    let key = vault
        .key_of(conn, crate::crypto::Owner::Case, m.case_id)
        .await?;
    let body = vault.seal(&key, m.body);
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO messages (id, case_id, kind, from_citizen, author_id, author_label, body, outcome,
                               deadline_at, in_reply_to, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(m.case_id)
    .bind(m.kind)
    .bind(i64::from(m.from_citizen))
    .bind(&m.author.id)
    .bind(&m.author.email)
    .bind(&body)
    .bind(m.outcome)
    .bind(m.deadline)
    .bind(m.in_reply_to)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    for doc in m.documents {
        sqlx::query("INSERT INTO message_documents (message_id, document_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(doc)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// Sends a message, a request for information or a decision notice; documents are already
/// stored (uploaded by the caseworker) and are attached here.
pub async fn send(
    db: &Db,
    a: &Actor<'_>,
    case: &StaffCase,
    what: Outgoing,
    body: &str,
    documents: &[String],
    public_url: &str,
) -> Result<String, Refused> {
    let mut tx = db.begin_write().await?;
    let (kind, action) = match what {
        Outgoing::Message => ("message", "case.message"),
        Outgoing::Request { deadline } => {
            set_state(
                &mut tx,
                case,
                CaseState::AwaitingCitizen,
                &format!(", reply_due_at = {deadline}"),
            )
            .await?;
            ("request", "case.request")
        }
        Outgoing::Decision { approved } => {
            let to = if approved {
                CaseState::Approved
            } else {
                CaseState::Rejected
            };
            set_state(&mut tx, case, to, ", reply_due_at = NULL").await?;
            ("decision", "case.decision")
        }
    };
    let (outcome, deadline) = match what {
        Outgoing::Decision { approved } => {
            (Some(if approved { "approved" } else { "rejected" }), None)
        }
        Outgoing::Request { deadline } => (None, Some(deadline)),
        Outgoing::Message => (None, None),
    };
    let id = insert_message(
        &mut tx,
        &db.vault,
        NewMessage {
            case_id: &case.id,
            kind,
            author: a.user,
            from_citizen: false,
            body,
            outcome,
            deadline,
            in_reply_to: None,
            documents,
        },
    )
    .await?;
    sqlx::query(
        "UPDATE cases SET citizen_unread = citizen_unread + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(now_ms())
    .bind(&case.id)
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        &case.id,
        Some(a.user),
        kind,
        &id,
        kind != "message",
    )
    .await?;
    audit::record(&mut tx, a.user, a.ip, action, Subject::Case(&case.id), &id).await?;
    notify_citizen(&mut tx, case, public_url).await?;
    tx.commit().await?;
    Ok(id)
}

/// Forwards the case to another postbox (of this or another authority). The citizen is told
/// which authority handles it now; the reason stays internal.
pub async fn forward(
    db: &Db,
    a: &Actor<'_>,
    case: &StaffCase,
    to_postbox: &str,
    reason: &str,
    public_url: &str,
) -> Result<(), Refused> {
    let mut tx = db.begin_write().await?;
    let target = sqlx::query(
        "SELECT p.id, a.name, p.processing_days FROM postboxes p JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
    )
    .bind(to_postbox)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(target) = target.filter(|_| to_postbox != case.postbox_id) else {
        return Err(Refused::BadPostbox);
    };
    let authority: String = target.try_get(1)?;
    let days: i64 = target.try_get(2)?;
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE cases SET postbox_id = $1, state = 'received', closed_at = NULL, assignee_id = NULL, reply_due_at = NULL,
                due_at = $2, updated_at = $3, citizen_unread = citizen_unread + 1
         WHERE id = $4 AND postbox_id = $5",
    )
    .bind(to_postbox)
    .bind(now + days * 86_400_000)
    .bind(now)
    .bind(&case.id)
    .bind(&case.postbox_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(Refused::Stale);
    }
    sqlx::query("UPDATE case_search SET postbox_id = $1 WHERE case_id = $2")
        .bind(to_postbox)
        .bind(&case.id)
        .execute(&mut *tx)
        .await?;
    crate::webhooks::enqueue(
        &mut tx,
        to_postbox,
        crate::webhooks::Event::SubmissionReceived,
        serde_json::json!({ "case_reference": case.reference, "service_key": case.service_key }),
    )
    .await?;
    insert_message(
        &mut tx,
        &db.vault,
        NewMessage {
            case_id: &case.id,
            kind: "forwarded",
            author: a.user,
            from_citizen: false,
            body: &authority,
            outcome: None,
            deadline: None,
            in_reply_to: None,
            documents: &[],
        },
    )
    .await?;
    event(
        &mut tx,
        &case.id,
        Some(a.user),
        "forwarded",
        &authority,
        true,
    )
    .await?;
    event(
        &mut tx,
        &case.id,
        Some(a.user),
        "forward_reason",
        reason,
        false,
    )
    .await?;
    audit::record(
        &mut tx,
        a.user,
        a.ip,
        "case.forward",
        Subject::Case(&case.id),
        &format!("{} -> {to_postbox}: {reason}", case.postbox_id),
    )
    .await?;
    notify_citizen(&mut tx, case, public_url).await?;
    tx.commit().await?;
    Ok(())
}

/// The citizen answers a request for information; the case returns to the caseworker's queue.
pub async fn reply(
    db: &Db,
    citizen: &User,
    case_id: &str,
    request_id: &str,
    body: &str,
    documents: &[String],
) -> Result<(), Refused> {
    let mut tx = db.begin_write().await?;
    let now = now_ms();
    let answered = sqlx::query(
        "UPDATE messages SET answered_at = $1 WHERE id = $2 AND case_id = $3 AND kind = 'request' AND answered_at IS NULL",
    )
    .bind(now)
    .bind(request_id)
    .bind(case_id)
    .execute(&mut *tx)
    .await?;
    if answered.rows_affected() != 1 {
        return Err(Refused::Answered);
    }
    let reply_id = insert_message(
        &mut tx,
        &db.vault,
        NewMessage {
            case_id,
            kind: "reply",
            author: citizen,
            from_citizen: true,
            body,
            outcome: None,
            deadline: None,
            in_reply_to: Some(request_id),
            documents,
        },
    )
    .await?;
    sqlx::query(
        "UPDATE cases SET state = CASE WHEN state = 'awaiting_citizen' THEN 'in_progress' ELSE state END,
                reply_due_at = NULL, staff_unread = staff_unread + 1, updated_at = $1
         WHERE id = $2",
    )
    .bind(now)
    .bind(case_id)
    .execute(&mut *tx)
    .await?;
    event(&mut tx, case_id, Some(citizen), "citizen_replied", "", true).await?;
    let case = sqlx::query("SELECT reference, postbox_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(&mut *tx)
        .await?;
    if let Some(postbox) = case.try_get::<Option<String>, _>(1)? {
        let data = serde_json::json!({
            "case_reference": case.try_get::<String, _>(0)?,
            "message_id": reply_id,
            "in_reply_to": request_id,
        });
        crate::webhooks::enqueue(
            &mut tx,
            &postbox,
            crate::webhooks::Event::CitizenReplied,
            data,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks what the citizen received as read.
pub async fn mark_read_by_citizen(db: &Db, case_id: &str) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE messages SET read_at = $1 WHERE case_id = $2 AND from_citizen = 0 AND read_at IS NULL")
        .bind(now_ms())
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE cases SET citizen_unread = 0 WHERE id = $1")
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Marks the citizen's replies as read by staff.
pub async fn mark_read_by_staff(db: &Db, case_id: &str) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE messages SET read_at = $1 WHERE case_id = $2 AND from_citizen = 1 AND read_at IS NULL")
        .bind(now_ms())
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE cases SET staff_unread = 0 WHERE id = $1")
        .bind(case_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
