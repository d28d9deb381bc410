//! Bank statement import: every booked credit of a camt.053 statement becomes a payment once
//! (the bank's entry reference is unique per account), is matched to a fee notice where it can
//! be, and waits for a person where it cannot. One transaction per import: a statement is
//! either booked completely or not at all.

use std::collections::HashMap;

use amtsweg_app::i18n::Lang;
use sqlx::{AnyConnection, Row};

use super::camt::{CamtError, Entry};
use super::matching::{Index, OpenNotice};
use crate::accounts::auth::User;
use crate::db::{Db, Placeholders};
use crate::domain::Money;
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::time::now_ms;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the statement cannot be read: {0}")]
    Camt(#[from] CamtError),
    #[error("the statement is for account {0}, not the authority's")]
    WrongAccount(String),
    #[error("the authority has no account")]
    NoAccount,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A credit as it will be stored.
#[derive(Clone, Debug)]
pub struct Credit {
    pub entry_ref: String,
    pub amount: Money,
    pub booking_date: String,
    pub payer_name: String,
    pub payer_iban: String,
    pub remittance: String,
    pub structured: Option<String>,
}

/// Moves the entry's texts into its credits (a large statement is not held twice).
pub(super) fn push_credits(out: &mut Vec<Credit>, e: Entry) {
    let base_ref = match &e.entry_ref {
        Some(r) => r.clone(),
        None => synthetic_ref(&e),
    };
    let booking_date = e.booking_date.or(e.value_date).unwrap_or_default();
    if e.transactions.is_empty() {
        out.push(Credit {
            entry_ref: base_ref,
            amount: e.amount,
            booking_date,
            payer_name: String::new(),
            payer_iban: String::new(),
            remittance: String::new(),
            structured: None,
        });
        return;
    }
    let single = e.transactions.len() == 1;
    for (i, t) in e.transactions.into_iter().enumerate() {
        out.push(Credit {
            // Each transaction of a batch booking is a payment of its own.
            entry_ref: if single {
                base_ref.clone()
            } else {
                format!("{base_ref}/{i}")
            },
            amount: if single {
                e.amount
            } else {
                t.amount.unwrap_or(e.amount)
            },
            booking_date: booking_date.clone(),
            payer_name: t.debtor_name.unwrap_or_default(),
            payer_iban: t.debtor_iban.unwrap_or_default(),
            remittance: t.unstructured.join(" "),
            structured: t.creditor_reference,
        });
    }
}

/// Entries without the bank's reference (rare; some savings banks) are identified by what
/// they say; two identical transfers on the same day would then count once, which is why the
/// bank's reference is used whenever there is one.
fn synthetic_ref(e: &Entry) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!(
        "{:?}|{:?}|{}",
        e.booking_date, e.value_date, e.amount.0
    ));
    for t in &e.transactions {
        h.update(format!(
            "|{:?}|{:?}|{:?}|{:?}|{}",
            t.end_to_end_id,
            t.debtor_iban,
            t.debtor_name,
            t.creditor_reference,
            t.unstructured.join(" ")
        ));
    }
    format!("sha256:{}", &hex::encode(h.finalize())[..32])
}

/// The open notices of an authority, indexed for matching.
pub async fn open_index(conn: &mut AnyConnection, authority_id: &str) -> sqlx::Result<Index> {
    let rows = sqlx::query(
        "SELECT n.id, n.payment_reference, c.reference, n.number, n.total_cents - n.paid_cents, c.applicant_name
         FROM fee_notices n JOIN cases c ON c.id = n.case_id
         WHERE n.authority_id = $1 AND n.state = 'open'",
    )
    .bind(authority_id)
    .fetch_all(&mut *conn)
    .await?;
    let notices = rows
        .iter()
        .map(|r| {
            let case: String = r.try_get(2)?;
            let name: String = r.try_get(5)?;
            Ok(OpenNotice {
                id: r.try_get(0)?,
                payment_reference: r.try_get(1)?,
                case_reference: case.replace('-', ""),
                number: r.try_get(3)?,
                outstanding: r.try_get(4)?,
                name_words: name
                    .to_lowercase()
                    .split_whitespace()
                    .map(String::from)
                    .collect(),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Index::new(notices))
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub entries: usize,
    pub known: usize,
    pub new: usize,
    pub matched: usize,
    pub open: usize,
}

/// Who imports, for the audit log.
pub struct Importer<'a> {
    pub user: &'a User,
    pub ip: &'a str,
}

/// Rows per batched statement.
const CHUNK: usize = 200;

/// A payment that was matched to a notice and now settles it.
#[derive(Clone, Debug)]
pub struct BookedPayment {
    pub payment_id: String,
    pub notice_id: String,
    pub amount: Money,
}

/// Books matched payments onto their notices, records the audit entries and timeline events,
/// and tells each citizen whose notice is now paid. Batched: a statement can pay 100,000
/// notices in one import.
pub async fn settle(
    conn: &mut AnyConnection,
    actor: &User,
    ip: &str,
    booked: &[BookedPayment],
    public_url: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    let mut per_notice: HashMap<&str, i64> = HashMap::new();
    for b in booked {
        *per_notice.entry(b.notice_id.as_str()).or_default() += b.amount.0;
    }
    let amounts = per_notice.clone();
    let sums: Vec<(&str, i64)> = per_notice.into_iter().collect();
    // Every notice the money went to: paid now, partly paid or paid for a second time.
    let mut touched: Vec<String> = Vec::new();
    // Those of them that reached their total with this money, for `fee.paid`.
    let mut newly_paid: Vec<String> = Vec::new();
    for chunk in sums.chunks(CHUNK) {
        let mut p = Placeholders::for_connection(conn);
        let values = p.rows(chunk.len(), 2);
        let sql = format!(
            "WITH v (id, amount) AS (VALUES {values})
             UPDATE fee_notices SET
                 state = CASE WHEN state = 'open' AND paid_cents + (SELECT amount FROM v WHERE v.id = fee_notices.id) >= total_cents
                              THEN 'paid' ELSE state END,
                 closed_at = CASE WHEN state = 'open' AND paid_cents + (SELECT amount FROM v WHERE v.id = fee_notices.id) >= total_cents
                              THEN {now} ELSE closed_at END,
                 paid_cents = paid_cents + (SELECT amount FROM v WHERE v.id = fee_notices.id)
             WHERE id IN (SELECT id FROM v) RETURNING id, state, paid_cents, total_cents",
            now = p.one()
        );
        let mut q = sqlx::query(&sql);
        for (id, amount) in chunk {
            q = q.bind(id.to_string()).bind(*amount);
        }
        for r in q.bind(now).fetch_all(&mut *conn).await? {
            let id: String = r.try_get(0)?;
            let before = r.try_get::<i64, _>(2)? - amounts.get(id.as_str()).copied().unwrap_or(0);
            if r.try_get::<String, _>(1)? == "paid" && before < r.try_get::<i64, _>(3)? {
                newly_paid.push(id.clone());
            }
            touched.push(id);
        }
    }
    crate::webhooks::fees_paid(conn, &newly_paid).await?;
    // Audit and timeline, one row per payment.
    for chunk in booked.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO audit_log (at, actor_id, actor_label, action, subject_kind, subject_id, detail, client_ip)
             VALUES {}",
            Placeholders::for_connection(conn).rows(chunk.len(), 8)
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(now)
                .bind(actor.id.clone())
                .bind(actor.email.clone())
                .bind("payments.match")
                .bind("payment")
                .bind(p.payment_id.clone())
                .bind(format!("notice {} {}", p.notice_id, p.amount.format_de()))
                .bind(ip.to_string());
        }
        q.execute(&mut *conn).await?;
        let mut p = Placeholders::for_connection(conn);
        let values = p.rows(chunk.len(), 3);
        let sql = format!(
            "WITH v (eid, nid, detail) AS (VALUES {values})
             INSERT INTO case_events (id, case_id, at, actor_id, actor_label, kind, detail, public)
             SELECT v.eid, n.case_id, {}, NULL, '', 'fee_paid', v.detail, 1 FROM v JOIN fee_notices n ON n.id = v.nid",
            p.one()
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(p.notice_id.clone())
                .bind(p.amount.format_de());
        }
        q.bind(now).execute(&mut *conn).await?;
    }
    // One content-free mail per notice the money went to.
    for chunk in touched.chunks(CHUNK) {
        let sql = format!(
            "SELECT c.reference, u.email, u.locale FROM fee_notices n JOIN cases c ON c.id = n.case_id
             JOIN users u ON u.id = c.user_id WHERE n.id IN ({})",
            Placeholders::for_connection(conn).list(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        let rows = q.fetch_all(&mut *conn).await?;
        for r in rows {
            let (reference, email, locale): (String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let mail = render(
                &Template::NewPostboxItem {
                    reference: &reference,
                },
                Lang::from_code(&locale).unwrap_or_default(),
                &email,
                public_url,
            );
            enqueue(conn, &mail).await?;
        }
    }
    Ok(())
}

/// A payment as the notice page lists it.
pub struct PaymentRow {
    pub date: String,
    pub amount: Money,
    pub payer: String,
    pub matched_by: String,
}

pub async fn payments_of(db: &Db, notice_id: &str) -> sqlx::Result<Vec<PaymentRow>> {
    sqlx::query(
        "SELECT booking_date, amount_cents, payer_name, matched_by, created_at FROM payments
         WHERE notice_id = $1 ORDER BY created_at, id",
    )
    .bind(notice_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        let date: String = r.try_get(0)?;
        Ok(PaymentRow {
            date: if date.is_empty() {
                crate::time::format_ms(r.try_get(4)?)
            } else {
                super::notices::date_de(&date)
            },
            amount: Money(r.try_get(1)?),
            payer: r.try_get(2)?,
            matched_by: r.try_get(3)?,
        })
    })
    .collect()
}
