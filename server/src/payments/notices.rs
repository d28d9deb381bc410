//! Fee notices: issued by a caseworker on a case, delivered into the citizen's thread with the
//! notice as PDF, cancelled or corrected (a correction is a new notice that replaces the old;
//! both stay). A notice stores everything it said when it was issued, so a later change of the
//! authority's account or the citizen's address never rewrites a notice after the fact.

use amtsweg_app::i18n::{tf, Lang};
use sqlx::{AnyConnection, Row};

use crate::backoffice::access::StaffCase;
use crate::backoffice::audit::{self, Subject};
use crate::backoffice::cases::{event, notify_citizen, Actor};
use crate::backoffice::messages::{insert_message, NewMessage};
use crate::db::Db;
use crate::domain::{CreditorReference, Iban, Money};
use crate::state::AppState;
use crate::time::now_ms;

/// Why a fee operation was refused; the handler turns it into a form error.
#[derive(Debug, thiserror::Error)]
pub enum FeeRefused {
    #[error("the authority has no account for fee notices")]
    NoPayee,
    #[error("the notice is not open")]
    NotOpen,
    #[error("money was received for the notice already")]
    HasPayments,
    #[error("the case changed meanwhile")]
    Stale,
    #[error("the notice document could not be made: {0}")]
    Document(String),
    #[error(transparent)]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The account of an authority as fee notices name it.
#[derive(Clone, Debug)]
pub struct Payee {
    pub name: String,
    pub iban: Iban,
    pub bic: String,
}

/// What a caseworker fills in for a notice.
#[derive(Clone, Debug)]
pub struct NoticeInput {
    pub items: Vec<(String, Money)>,
    pub due_date: time::Date,
    pub legal_basis: String,
    pub remedy: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeState {
    Open,
    Paid,
    Cancelled,
    Replaced,
}

impl NoticeState {
    pub fn parse(s: &str) -> Self {
        match s {
            "paid" => Self::Paid,
            "cancelled" => Self::Cancelled,
            "replaced" => Self::Replaced,
            _ => Self::Open,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Notice {
    pub id: String,
    pub case_id: String,
    pub case_reference: String,
    pub citizen_id: Option<String>,
    pub authority_id: String,
    pub number: i64,
    pub payment_reference: String,
    pub state: NoticeState,
    pub total: Money,
    pub paid: Money,
    pub due_date: String,
    pub legal_basis: String,
    pub remedy: String,
    pub payee_name: String,
    pub payee_iban: String,
    pub payee_bic: String,
    pub recipient: Vec<String>,
    pub replaces_id: Option<String>,
    pub document_id: Option<String>,
    pub issued_by: String,
    pub issued_at: i64,
    pub closed_at: Option<i64>,
    pub close_reason: String,
    pub items: Vec<(String, Money)>,
}

impl Notice {
    /// Past its due date and not fully paid (by the calendar day, UTC).
    pub fn is_overdue(&self, today: &str) -> bool {
        self.state == NoticeState::Open && self.due_date.as_str() < today
    }

    pub fn outstanding(&self) -> Money {
        Money((self.total.0 - self.paid.0).max(0))
    }
}

/// Today as `YYYY-MM-DD` (UTC), the form due dates are stored in.
pub fn today() -> String {
    date_string(time::OffsetDateTime::now_utc().date())
}

pub fn date_string(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `2026-12-07` as German readers expect it: `07.12.2026`.
pub fn date_de(iso: &str) -> String {
    let p: Vec<&str> = iso.split('-').collect();
    match p.as_slice() {
        [y, m, d] => format!("{d}.{m}.{y}"),
        _ => iso.to_string(),
    }
}

/// The RF reference of a case's n-th notice: the case's reference number (which carries its
/// own check character) followed by the notice number, so a payer who quotes only the
/// reference number can still be matched to the case.
pub fn payment_reference(case_reference: &str, number: i64) -> Option<CreditorReference> {
    let compact: String = case_reference.chars().filter(|c| *c != '-').collect();
    CreditorReference::from_payload(&format!("{compact}{number:02}"))
}

const NOTICE_COLUMNS: &str =
    "n.id, n.case_id, c.reference, c.user_id, n.authority_id, n.number, n.payment_reference,
     n.state, n.total_cents, n.paid_cents, n.due_date, n.legal_basis, n.remedy, n.payee_name,
     n.payee_iban, n.payee_bic, n.recipient, n.replaces_id, n.document_id, n.issued_by_label,
     n.issued_at, n.closed_at, n.close_reason";

fn notice_from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Notice> {
    let recipient: String = r.try_get(16)?;
    Ok(Notice {
        id: r.try_get(0)?,
        case_id: r.try_get(1)?,
        case_reference: r.try_get(2)?,
        citizen_id: r.try_get(3)?,
        authority_id: r.try_get(4)?,
        number: r.try_get(5)?,
        payment_reference: r.try_get(6)?,
        state: NoticeState::parse(&r.try_get::<String, _>(7)?),
        total: Money(r.try_get(8)?),
        paid: Money(r.try_get(9)?),
        due_date: r.try_get(10)?,
        legal_basis: r.try_get(11)?,
        remedy: r.try_get(12)?,
        payee_name: r.try_get(13)?,
        payee_iban: r.try_get(14)?,
        payee_bic: r.try_get(15)?,
        recipient: serde_json::from_str(&recipient).unwrap_or_default(),
        replaces_id: r.try_get(17)?,
        document_id: r.try_get(18)?,
        issued_by: r.try_get(19)?,
        issued_at: r.try_get(20)?,
        closed_at: r.try_get(21)?,
        close_reason: r.try_get(22)?,
        items: Vec::new(),
    })
}

/// Notices matching `filter` (an SQL condition on `n` and `c` with `$1`), with their items.
async fn query(db: &Db, filter: &str, arg: &str) -> sqlx::Result<Vec<Notice>> {
    let sql = format!(
        "SELECT {NOTICE_COLUMNS} FROM fee_notices n JOIN cases c ON c.id = n.case_id
         WHERE {filter} ORDER BY n.issued_at DESC, n.number DESC LIMIT 500"
    );
    let mut notices = sqlx::query(&sql)
        .bind(arg)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(notice_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    for n in &mut notices {
        n.items = sqlx::query(
            "SELECT label, amount_cents FROM fee_items WHERE notice_id = $1 ORDER BY position",
        )
        .bind(&n.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, Money(r.try_get(1)?))))
        .collect::<sqlx::Result<_>>()?;
    }
    Ok(notices)
}

pub async fn for_case(db: &Db, case_id: &str) -> sqlx::Result<Vec<Notice>> {
    query(db, "n.case_id = $1", case_id).await
}

pub async fn for_citizen(db: &Db, user_id: &str) -> sqlx::Result<Vec<Notice>> {
    query(db, "c.user_id = $1", user_id).await
}

pub async fn by_id(db: &Db, id: &str) -> sqlx::Result<Option<Notice>> {
    Ok(query(db, "n.id = $1", id).await?.into_iter().next())
}

/// The authority's account and the postbox's template for a case's notices.
pub struct NoticeSetup {
    pub authority_id: String,
    pub payee: Option<Payee>,
    pub remedy: String,
    pub due_days: i64,
    /// Authority name, street, postal code and city, phone, e-mail: the letterhead.
    pub letterhead: Vec<String>,
}

pub async fn setup(db: &Db, postbox_id: &str) -> sqlx::Result<NoticeSetup> {
    let r = sqlx::query(
        "SELECT a.id, a.payee_name, a.payee_iban, a.payee_bic, p.fee_remedy, p.fee_due_days,
                a.name, a.street, a.postal_code, a.city, a.phone, a.email
         FROM postboxes p JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
    )
    .bind(postbox_id)
    .fetch_one(&db.pool)
    .await?;
    let g = |i: usize| r.try_get::<String, _>(i);
    let payee = match Iban::parse(&g(2)?) {
        Some(iban) if !g(1)?.trim().is_empty() => Some(Payee {
            name: g(1)?,
            iban,
            bic: g(3)?,
        }),
        _ => None,
    };
    Ok(NoticeSetup {
        authority_id: g(0)?,
        payee,
        remedy: g(4)?,
        due_days: r.try_get(5)?,
        letterhead: vec![g(6)?, g(7)?, format!("{} {}", g(8)?, g(9)?), g(10)?, g(11)?],
    })
}

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
        super::document::store(state, &mut tx, &pdf, &file_name).await?;
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

/// Books received money onto a notice: it is paid once the total is reached; over-payments
/// stay visible as such. Money for a cancelled or replaced notice is recorded against it too
/// (someone has to pay it back), without reopening it.
pub async fn apply_payment(
    conn: &mut AnyConnection,
    notice_id: &str,
    amount: Money,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE fee_notices SET paid_cents = paid_cents + $1,
             state = CASE WHEN state = 'open' AND paid_cents + $1 >= total_cents THEN 'paid' ELSE state END,
             closed_at = CASE WHEN state = 'open' AND paid_cents + $1 >= total_cents THEN $2 ELSE closed_at END
         WHERE id = $3",
    )
    .bind(amount.0)
    .bind(now_ms())
    .bind(notice_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
