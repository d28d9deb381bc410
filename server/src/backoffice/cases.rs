//! What caseworkers and citizens do to a case. Each operation is one write transaction that
//! changes the case, appends to its timeline, records the audit entry (staff only) and queues
//! the citizen's notification mail, so either all of it happens or none.

use amtsweg_app::i18n::Lang;
use sqlx::{Any, AnyConnection, Row, Transaction};

use super::access::StaffCase;
use super::audit::{self, Subject};
use super::state::CaseState;
use crate::accounts::auth::User;
use crate::db::batch::Batch;
use crate::db::Db;
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::time::now_ms;

/// Why an operation was refused; the handler turns it into a form error.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the case cannot move from {0} to {1}")]
    Transition(CaseState, CaseState),
    #[error("the colleague is not a member of this postbox")]
    NotMember,
    #[error("the postbox does not exist or is the current one")]
    BadPostbox,
    #[error("the case changed meanwhile")]
    Stale,
    #[error("the request was answered already")]
    Answered,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Who did it, for the timeline and the audit log.
pub struct Actor<'a> {
    pub user: &'a User,
    pub ip: &'a str,
}

pub async fn event(
    conn: &mut AnyConnection,
    case_id: &str,
    actor: Option<&User>,
    kind: &str,
    detail: &str,
    public: bool,
) -> sqlx::Result<()> {
    let mut batch = Batch::new();
    event_into(&mut batch, case_id, actor, kind, detail, public);
    batch.run_in(conn).await
}

/// `event` as part of a batched write.
pub fn event_into(
    batch: &mut Batch,
    case_id: &str,
    actor: Option<&User>,
    kind: &str,
    detail: &str,
    public: bool,
) {
    batch
        .add(
            "INSERT INTO case_events (id, case_id, at, actor_id, actor_label, kind, detail, public)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(case_id.to_string())
        .bind(now_ms())
        .bind(actor.map(|u| u.id.clone()))
        .bind(actor.map(|u| u.email.clone()).unwrap_or_default())
        .bind(kind.to_string())
        .bind(detail.to_string())
        .bind(i64::from(public));
}

/// Moves the state only if nobody else moved it meanwhile (compare-and-set on the row).
pub(super) async fn set_state(
    tx: &mut Transaction<'static, Any>,
    case: &StaffCase,
    to: CaseState,
    extra_sql: &str,
) -> Result<(), Refused> {
    let from = CaseState::parse(&case.state).unwrap_or(CaseState::Received);
    if !from.can_become(to) {
        return Err(Refused::Transition(from, to));
    }
    // The retention period of a case runs from when it last left processing (decided or
    // closed); reopening stops it. Closing a decided case restarts it, so a case is never
    // deleted earlier than its last closing allows.
    let now = now_ms();
    let closed_at = (!to.is_open()).then_some(now);
    let sql = format!(
        "UPDATE cases SET state = $1, updated_at = $2, closed_at = $3{extra_sql} WHERE id = $4 AND state = $5"
    );
    let done = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now)
        .bind(closed_at)
        .bind(&case.id)
        .bind(&case.state)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(Refused::Stale);
    }
    event(&mut *tx, &case.id, None, &format!("state:{to}"), "", true).await?;
    Ok(())
}

/// Queues "something new in your postbox" for the case's citizen, in the citizen's language.
pub(crate) async fn notify_citizen(
    conn: &mut AnyConnection,
    case: &StaffCase,
    public_url: &str,
) -> sqlx::Result<()> {
    let Some(uid) = &case.user_id else {
        return Ok(());
    };
    let row = sqlx::query("SELECT email, locale FROM users WHERE id = $1")
        .bind(uid)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(r) = row {
        let (email, locale): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let mail = render(
            &Template::NewPostboxItem {
                reference: &case.reference,
            },
            Lang::from_code(&locale).unwrap_or_default(),
            &email,
            public_url,
        );
        enqueue(conn, &mail).await?;
    }
    Ok(())
}

/// Makes `to` (mail address `to_email`, for the timeline) the case's assignee.
async fn set_assignee(
    tx: &mut Transaction<'static, Any>,
    a: &Actor<'_>,
    case: &StaffCase,
    to: &str,
    to_email: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE cases SET assignee_id = $1, updated_at = $2 WHERE id = $3")
        .bind(to)
        .bind(now_ms())
        .bind(&case.id)
        .execute(&mut **tx)
        .await?;
    event(tx, &case.id, Some(a.user), "assigned", to_email, false).await
}

/// The caseworker takes the case; an unseen case goes into processing with it.
pub async fn take(db: &Db, a: &Actor<'_>, case: &StaffCase) -> Result<(), Refused> {
    let mut tx = db.begin_write().await?;
    set_assignee(&mut tx, a, case, &a.user.id, &a.user.email).await?;
    if case.state == CaseState::Received.as_str() {
        set_state(&mut tx, case, CaseState::InProgress, "").await?;
    }
    audit::record(
        &mut tx,
        a.user,
        a.ip,
        "case.take",
        Subject::Case(&case.id),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Hands the case to a colleague of the same postbox.
pub async fn assign(db: &Db, a: &Actor<'_>, case: &StaffCase, to: &str) -> Result<(), Refused> {
    let mut tx = db.begin_write().await?;
    let email: Option<String> = sqlx::query_scalar(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.postbox_id = $1 AND m.user_id = $2",
    )
    .bind(&case.postbox_id)
    .bind(to)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(email) = email else {
        return Err(Refused::NotMember);
    };
    set_assignee(&mut tx, a, case, to, &email).await?;
    audit::record(
        &mut tx,
        a.user,
        a.ip,
        "case.assign",
        Subject::Case(&case.id),
        &email,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_state(
    db: &Db,
    a: &Actor<'_>,
    case: &StaffCase,
    to: CaseState,
) -> Result<(), Refused> {
    let mut tx = db.begin_write().await?;
    let clear_reply = if to == CaseState::InProgress {
        ", reply_due_at = NULL"
    } else {
        ""
    };
    set_state(&mut tx, case, to, clear_reply).await?;
    audit::record(
        &mut tx,
        a.user,
        a.ip,
        "case.state",
        Subject::Case(&case.id),
        &format!("{} -> {to}", case.state),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_note(db: &Db, a: &Actor<'_>, case: &StaffCase, body: &str) -> Result<(), Refused> {
    let mut tx = db.begin_write().await?;
    // Internal notes are content like messages: encrypted under the case's data key.
    let key = db
        .vault
        .key_of(&mut tx, crate::crypto::Owner::Case, &case.id)
        .await
        .map_err(sqlx::Error::from)?;
    sqlx::query(
        "INSERT INTO case_notes (id, case_id, author_id, author_label, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&case.id)
    .bind(&a.user.id)
    .bind(&a.user.email)
    .bind(db.vault.seal(&key, body))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    event(&mut tx, &case.id, Some(a.user), "note", "", false).await?;
    audit::record(
        &mut tx,
        a.user,
        a.ip,
        "case.note",
        Subject::Case(&case.id),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub use super::messages::{
    forward, mark_read_by_citizen, mark_read_by_staff, reply, send, Outgoing,
};
