//! Issuing, correcting and cancelling fee notices: each is one write transaction with the
//! notice, its message in the thread (with the PDF), the timeline event, the audit entry and the
//! citizen's content-free mail.

use amtsweg_app::i18n::{tf, Lang};
use sqlx::{AnyConnection, Row};

use super::notices::{
    date_de, date_string, payment_reference, setup, today, FeeRefused, Notice, NoticeInput,
    NoticeSetup, NoticeState, Payee,
};
use crate::backoffice::access::StaffCase;
use crate::backoffice::audit::{self, Subject};
use crate::backoffice::cases::{event, notify_citizen, Actor};
use crate::backoffice::messages::{insert_message, NewMessage};
use crate::db::Db;
use crate::domain::{CreditorReference, Money};
use crate::state::AppState;
use crate::time::now_ms;

/// The citizen's postal address from the profile as it is now; the applicant's name if the
/// profile has none.
async fn recipient(db: &Db, case: &StaffCase) -> sqlx::Result<Vec<String>> {
    let mut lines = Vec::new();
    if let Some(uid) = &case.user_id {
        if let Some(r) = sqlx::query(
            "SELECT given_name, family_name, street, house_number, postal_code, place FROM profiles
             WHERE user_id = $1",
        )
        .bind(uid)
        .fetch_optional(&db.pool)
        .await?
        {
            let g = |i: usize| r.try_get::<String, _>(i).unwrap_or_default();
            let name = format!("{} {}", g(0), g(1)).trim().to_string();
            if !name.is_empty() {
                lines.push(name);
            }
            let street = format!("{} {}", g(2), g(3)).trim().to_string();
            if !street.is_empty() {
                lines.push(street);
            }
            let place = format!("{} {}", g(4), g(5)).trim().to_string();
            if !place.is_empty() {
                lines.push(place);
            }
        }
    }
    if lines.is_empty() && !case.applicant_name.is_empty() {
        lines.push(case.applicant_name.clone());
    }
    Ok(lines)
}

async fn citizen_lang(conn: &mut AnyConnection, user_id: Option<&str>) -> sqlx::Result<Lang> {
    let Some(uid) = user_id else {
        return Ok(Lang::default());
    };
    let locale: Option<String> = sqlx::query_scalar("SELECT locale FROM users WHERE id = $1")
        .bind(uid)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(locale
        .as_deref()
        .and_then(Lang::from_code)
        .unwrap_or_default())
}

/// Issues a notice (replacing `replaces`, if given): the PDF goes into storage, and the notice,
/// its message in the thread, the timeline event, the audit entry and the citizen's
/// notification are written in one transaction.
pub async fn issue(
    state: &AppState,
    a: &Actor<'_>,
    case: &StaffCase,
    input: &NoticeInput,
    replaces: Option<&Notice>,
) -> Result<String, FeeRefused> {
    let db = &state.db;
    let setup = setup(db, &case.postbox_id).await?;
    let payee = setup.payee.clone().ok_or(FeeRefused::NoPayee)?;
    if let Some(old) = replaces {
        if old.state != NoticeState::Open {
            return Err(FeeRefused::NotOpen);
        }
        if old.paid.0 > 0 {
            return Err(FeeRefused::HasPayments);
        }
    }
    let recipient = recipient(db, case).await?;
    let total = Money(input.items.iter().map(|(_, m)| m.0).sum());
    let mut tx = db.begin_write().await?;
    let number: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM fee_notices WHERE case_id = $1",
    )
    .bind(&case.id)
    .fetch_one(&mut *tx)
    .await?;
    let reference = payment_reference(&case.reference, number)
        .ok_or_else(|| FeeRefused::Document("no payment reference".into()))?;
    let issued_at = now_ms();
    let doc = super::document::NoticeDocument {
        letterhead: &setup.letterhead,
        recipient: &recipient,
        case_reference: &case.reference,
        number,
        issued_on: &today(),
        items: &input.items,
        total,
        due_date: &date_string(input.due_date),
        legal_basis: &input.legal_basis,
        remedy: &input.remedy,
        payee: &payee,
        reference: &reference,
        replaces: replaces.map(|o| o.number),
    };
    let pdf = doc.render().map_err(FeeRefused::Document)?;
    let file_name = format!(
        "Gebuehrenbescheid-{}-{number}.pdf",
        case.reference.replace('-', "")
    );
    let (document_id, storage_key) =
        super::document::store(state, &mut tx, &case.id, &pdf, &file_name).await?;
    let result = write_issue(
        &mut tx,
        state,
        a,
        case,
        input,
        replaces,
        IssueFacts {
            number,
            reference: &reference,
            total,
            payee: &payee,
            setup: &setup,
            recipient: &recipient,
            document_id: &document_id,
            issued_at,
        },
    )
    .await;
    match result {
        Ok(id) => {
            tx.commit().await?;
            Ok(id)
        }
        Err(e) => {
            drop(tx);
            let _ = state.storage.delete(&storage_key).await;
            Err(e)
        }
    }
}

struct IssueFacts<'a> {
    number: i64,
    reference: &'a CreditorReference,
    total: Money,
    payee: &'a Payee,
    setup: &'a NoticeSetup,
    recipient: &'a [String],
    document_id: &'a str,
    issued_at: i64,
}

async fn write_issue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    state: &AppState,
    a: &Actor<'_>,
    case: &StaffCase,
    input: &NoticeInput,
    replaces: Option<&Notice>,
    f: IssueFacts<'_>,
) -> Result<String, FeeRefused> {
    if let Some(old) = replaces {
        let done = sqlx::query(
            "UPDATE fee_notices SET state = 'replaced', closed_at = $1, close_reason = $2
             WHERE id = $3 AND state = 'open' AND paid_cents = 0",
        )
        .bind(f.issued_at)
        .bind(format!("#{}", f.number))
        .bind(&old.id)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(FeeRefused::Stale);
        }
    }
    let lang = citizen_lang(tx, case.user_id.as_deref()).await?;
    let due_de = date_de(&date_string(input.due_date));
    let body = match replaces {
        Some(old) => tf(
            lang,
            "fees.msg.corrected",
            &[
                ("number", &f.number.to_string()),
                ("old", &old.number.to_string()),
                ("amount", &f.total.format_de()),
                ("due", &due_de),
            ],
        ),
        None => tf(
            lang,
            "fees.msg.issued",
            &[
                ("number", &f.number.to_string()),
                ("amount", &f.total.format_de()),
                ("due", &due_de),
            ],
        ),
    };
    let documents = [f.document_id.to_string()];
    let message_id = insert_message(
        tx,
        &state.db.vault,
        NewMessage {
            case_id: &case.id,
            kind: "message",
            author: a.user,
            from_citizen: false,
            body: &body,
            outcome: None,
            deadline: None,
            in_reply_to: None,
            documents: &documents,
        },
    )
    .await?;
    let id = uuid::Uuid::new_v4().to_string();
    let inserted = sqlx::query(
        "INSERT INTO fee_notices (id, case_id, authority_id, number, payment_reference, state, total_cents,
             due_date, legal_basis, remedy, payee_name, payee_iban, payee_bic, recipient, replaces_id,
             message_id, document_id, issued_by, issued_by_label, issued_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&id)
    .bind(&case.id)
    .bind(&f.setup.authority_id)
    .bind(f.number)
    .bind(f.reference.as_str())
    .bind(f.total.0)
    .bind(date_string(input.due_date))
    .bind(&input.legal_basis)
    .bind(&input.remedy)
    .bind(&f.payee.name)
    .bind(f.payee.iban.as_str())
    .bind(&f.payee.bic)
    .bind(serde_json::to_string(f.recipient).unwrap_or_else(|_| "[]".into()))
    .bind(replaces.map(|o| o.id.clone()))
    .bind(&message_id)
    .bind(f.document_id)
    .bind(&a.user.id)
    .bind(&a.user.email)
    .bind(f.issued_at)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => {}
        // Another caseworker issued a notice on the case at the same moment (same number).
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(FeeRefused::Stale),
        Err(e) => return Err(e.into()),
    }
    for (pos, (label, amount)) in input.items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO fee_items (notice_id, position, label, amount_cents) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(i64::try_from(pos).unwrap_or(0))
        .bind(label)
        .bind(amount.0)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE cases SET citizen_unread = citizen_unread + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(f.issued_at)
    .bind(&case.id)
    .execute(&mut **tx)
    .await?;
    event(
        tx,
        &case.id,
        Some(a.user),
        "fee_notice",
        &f.total.format_de(),
        true,
    )
    .await?;
    let detail = format!("#{} {} {}", f.number, f.total.format_de(), f.reference);
    audit::record(
        tx,
        a.user,
        a.ip,
        "fee.issue",
        Subject::FeeNotice(&id),
        &detail,
    )
    .await?;
    notify_citizen(tx, case, &state.config.public_url).await?;
    Ok(id)
}

/// Cancels an open notice that nothing was paid for; the citizen is told why in the thread.
pub async fn cancel(
    state: &AppState,
    a: &Actor<'_>,
    case: &StaffCase,
    notice: &Notice,
    reason: &str,
) -> Result<(), FeeRefused> {
    if notice.state != NoticeState::Open {
        return Err(FeeRefused::NotOpen);
    }
    if notice.paid.0 > 0 {
        return Err(FeeRefused::HasPayments);
    }
    let mut tx = state.db.begin_write().await?;
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE fee_notices SET state = 'cancelled', closed_at = $1, close_reason = $2
         WHERE id = $3 AND state = 'open' AND paid_cents = 0",
    )
    .bind(now)
    .bind(reason)
    .bind(&notice.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(FeeRefused::Stale);
    }
    let lang = citizen_lang(&mut tx, case.user_id.as_deref()).await?;
    let body = tf(
        lang,
        "fees.msg.cancelled",
        &[("number", &notice.number.to_string()), ("reason", reason)],
    );
    insert_message(
        &mut tx,
        &state.db.vault,
        NewMessage {
            case_id: &case.id,
            kind: "message",
            author: a.user,
            from_citizen: false,
            body: &body,
            outcome: None,
            deadline: None,
            in_reply_to: None,
            documents: &[],
        },
    )
    .await?;
    sqlx::query(
        "UPDATE cases SET citizen_unread = citizen_unread + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(&case.id)
    .execute(&mut *tx)
    .await?;
    event(
        &mut tx,
        &case.id,
        Some(a.user),
        "fee_cancelled",
        &notice.number.to_string(),
        true,
    )
    .await?;
    audit::record(
        &mut tx,
        a.user,
        a.ip,
        "fee.cancel",
        Subject::FeeNotice(&notice.id),
        reason,
    )
    .await?;
    notify_citizen(&mut tx, case, &state.config.public_url).await?;
    tx.commit().await?;
    Ok(())
}
