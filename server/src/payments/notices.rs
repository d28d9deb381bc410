//! Fee notices: issued by a caseworker on a case, delivered into the citizen's thread with the
//! notice as PDF, cancelled or corrected (a correction is a new notice that replaces the old;
//! both stay). A notice stores everything it said when it was issued, so a later change of the
//! authority's account or the citizen's address never rewrites a notice after the fact.

use sqlx::Row;

use crate::db::Db;
use crate::domain::{CreditorReference, Iban, Money};

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

/// What a notice may say, the same from the form and from the API. The total is what a
/// GiroCode can carry (999,999,999.99 EUR).
pub const MAX_TOTAL_CENTS: i64 = 99_999_999_999;
pub const MAX_LEGAL_BASIS: usize = 2000;
pub const MAX_REMEDY: usize = 5000;
/// Of a cancellation's reason, which the citizen reads.
pub const MAX_REASON: usize = 2000;

/// A due date from today to a year ahead.
pub fn due_date_allowed(due: time::Date, today: time::Date) -> bool {
    due >= today && due <= today + time::Duration::days(366)
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
    // The items of all these notices in one query, not one per notice.
    let mut items: std::collections::HashMap<String, Vec<(String, Money)>> =
        std::collections::HashMap::new();
    let sql = format!(
        "SELECT i.notice_id, i.label, i.amount_cents FROM fee_items i
         JOIN fee_notices n ON n.id = i.notice_id JOIN cases c ON c.id = n.case_id
         WHERE {filter} ORDER BY i.notice_id, i.position"
    );
    for r in sqlx::query(&sql).bind(arg).fetch_all(&db.pool).await? {
        items
            .entry(r.try_get(0)?)
            .or_default()
            .push((r.try_get(1)?, Money(r.try_get(2)?)));
    }
    for n in &mut notices {
        n.items = items.remove(&n.id).unwrap_or_default();
    }
    Ok(notices)
}

pub async fn for_case(db: &Db, case_id: &str) -> sqlx::Result<Vec<Notice>> {
    query(db, "n.case_id = $1", case_id).await
}

pub async fn for_citizen(db: &Db, user_id: &str) -> sqlx::Result<Vec<Notice>> {
    query(db, "c.user_id = $1", user_id).await
}

/// Notice `number` of a case.
pub async fn by_number(db: &Db, case_id: &str, number: i64) -> sqlx::Result<Option<Notice>> {
    Ok(for_case(db, case_id)
        .await?
        .into_iter()
        .find(|n| n.number == number))
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
