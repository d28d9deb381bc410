//! Deletes closed cases whose retention period has passed: the case with its answers, search
//! rows, timeline, notes, messages, attachments, evidence and fee notices, in one transaction
//! per batch, each with an audit entry that names no person.
//!
//! A case is "closed" once it has left processing: approved, rejected or closed
//! (`CaseState::is_open` is false); `cases.closed_at` says since when. A reopened case is open
//! again and its clock stops.
//!
//! What is not deleted, and why:
//! - A case with a fee notice still open (unpaid or partly paid), or with a received payment
//!   that still waits for a person to assign it to one of its notices: the authority's claim
//!   or the money is not settled, and the case is the only place the portal shows it. It is
//!   deleted by a later run once that is settled.
//! - Payments. Money received is the authority's bookkeeping, which public budget law (the
//!   Länder's budget and cash regulations, much like § 257 HGB for merchants) requires to be
//!   kept for many years, longer than most cases; the portal does not delete them at all, as
//!   the cash office's own system is the book of record and decides when. And a payment's
//!   row keeps a bank statement from being booked twice. A payment of a deleted notice is
//!   kept with amount, date, account, the bank's entry reference and the notice's payment
//!   reference (Kassenzeichen, `notice_reference`), by which the cash office finds it in its
//!   own books; the payer's name, account and remittance text are cleared, as they were only
//!   needed to match the payment to this case.
//! - The audit log, which is append-only; its entries about the case stay (they carry ids and
//!   actions, and the entry written here).
//!
//! Evidence a citizen uploaded once may be used by several cases (and drafts): a document goes
//! only when nothing references it any more.

use sqlx::{Any, Row, Transaction};

use super::{system_actor, DAY_MS};
use crate::backoffice::audit::{self, Subject};
use crate::db::Db;
use crate::storage::Storage;
use crate::time::now_ms;

/// Cases claimed and deleted per transaction: short write locks, bounded work per statement.
pub const BATCH: usize = 100;

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub cases: usize,
    pub files: usize,
    /// Files whose deletion failed after the commit; left as orphans.
    pub files_failed: usize,
}

/// One claimed case.
struct Expired {
    id: String,
    reference: String,
    closed_at: i64,
}

/// Deletes every case past its service's retention period (`default_days` where the service
/// sets none), batch after batch. Safe to run on several instances at once and to repeat: a
/// case is claimed by locking its row (`SKIP LOCKED` on PostgreSQL; SQLite's write lock
/// serialises runs), and a deleted case is simply not found again.
pub async fn run(db: &Db, storage: &Storage, default_days: i64) -> sqlx::Result<Report> {
    let services: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT service_key, case_retention_days FROM services")
            .fetch_all(&db.pool)
            .await?;
    let mut report = Report::default();
    for (key, days) in services {
        let days = days.unwrap_or(default_days);
        let cutoff = now_ms() - days * DAY_MS;
        loop {
            let (n, keys) = batch(db, &key, days, cutoff).await?;
            report.cases += n;
            // After the commit: a crash between commit and here leaves files no row points
            // to, which the orphan clean-up removes; the other way round a crash would leave
            // rows pointing to missing files.
            for k in keys {
                match storage.delete(&k).await {
                    Ok(()) => report.files += 1,
                    Err(e) => {
                        report.files_failed += 1;
                        tracing::warn!(error = %e, "retention: a deleted case's file stays behind as an orphan");
                    }
                }
            }
            if n < BATCH {
                break;
            }
        }
    }
    Ok(report)
}

/// Claims and deletes up to `BATCH` expired cases of one service in one transaction; returns
/// how many and the storage keys of the files that no longer belong to anything.
async fn batch(
    db: &Db,
    service: &str,
    days: i64,
    cutoff: i64,
) -> sqlx::Result<(usize, Vec<String>)> {
    let mut tx = db.begin_write().await?;
    let sql = format!(
        "SELECT c.id, c.reference, c.closed_at FROM cases c
         WHERE c.service_key = $1 AND c.closed_at < $2
           AND c.state IN ('approved', 'rejected', 'closed')
           AND NOT EXISTS (SELECT 1 FROM fee_notices n WHERE n.case_id = c.id AND n.state = 'open')
           AND NOT EXISTS (SELECT 1 FROM fee_notices n JOIN payments p ON p.suggested_notice_id = n.id
                           WHERE n.case_id = c.id AND p.matched_by = 'none')
         ORDER BY c.closed_at LIMIT {BATCH}{}",
        db.skip_locked()
    );
    let expired: Vec<Expired> = sqlx::query(&sql)
        .bind(service)
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Expired {
                id: r.try_get(0)?,
                reference: r.try_get(1)?,
                closed_at: r.try_get(2)?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    let actor = system_actor("system:retention", "Aufbewahrungsfristen (automatisch)");
    let mut keys = Vec::new();
    for case in &expired {
        keys.extend(delete_case(&db.vault, &mut tx, &case.id).await?);
        let closed = crate::time::format_ms(case.closed_at);
        audit::record(
            &mut tx,
            &actor,
            "",
            "retention.case_deleted",
            Subject::Case(&case.id),
            &format!(
                "reference={}; service={service}; closed={}; retention_days={days}",
                case.reference,
                &closed[..closed.len().min(10)]
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((expired.len(), keys))
}

/// Deletes one case and everything that is only its own; returns the storage keys of the
/// documents deleted with it.
async fn delete_case(
    vault: &crate::crypto::Vault,
    tx: &mut Transaction<'static, Any>,
    case_id: &str,
) -> sqlx::Result<Vec<String>> {
    let case_key: Option<String> =
        sqlx::query_scalar("SELECT data_key_id FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut **tx)
            .await?
            .flatten();
    // Every document the case references: evidence, attachments (both sides), notice PDFs.
    let documents: Vec<String> = sqlx::query_scalar(
        "SELECT document_id FROM case_documents WHERE case_id = $1
         UNION SELECT md.document_id FROM message_documents md JOIN messages m ON m.id = md.message_id
               WHERE m.case_id = $1
         UNION SELECT document_id FROM fee_notices WHERE case_id = $1 AND document_id IS NOT NULL",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    const NOTICES: &str = "SELECT id FROM fee_notices WHERE case_id = $1";
    // Payments stay as bookkeeping records (see the module documentation).
    sqlx::query(&format!(
        "UPDATE payments SET
             notice_reference = (SELECT n.payment_reference FROM fee_notices n WHERE n.id = payments.notice_id),
             notice_id = NULL, suggested_notice_id = NULL, payer_name = '', payer_iban = '', remittance = ''
         WHERE notice_id IN ({NOTICES})"
    ))
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "UPDATE payments SET suggested_notice_id = NULL WHERE suggested_notice_id IN ({NOTICES})"
    ))
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    for table in ["payment_transactions", "fee_items"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE notice_id IN ({NOTICES})"
        ))
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    }
    // Corrections point to the notice they replace, all within the case: one statement.
    for sql in [
        "DELETE FROM fee_notices WHERE case_id = $1",
        "DELETE FROM case_documents WHERE case_id = $1",
        // Replies point to requests of the same case: one statement.
        "DELETE FROM messages WHERE case_id = $1",
        // Search rows, timeline and notes go by ON DELETE CASCADE.
        "DELETE FROM cases WHERE id = $1",
    ] {
        sqlx::query(sql).bind(case_id).execute(&mut **tx).await?;
    }
    let mut keys = Vec::new();
    let mut data_keys: Vec<String> = case_key.into_iter().collect();
    for doc in documents {
        // A citizen's upload may also be evidence of another case or sit in a draft.
        if in_a_draft(vault, tx, &doc).await? {
            continue;
        }
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "DELETE FROM documents WHERE id = $1
               AND NOT EXISTS (SELECT 1 FROM case_documents x WHERE x.document_id = documents.id)
               AND NOT EXISTS (SELECT 1 FROM message_documents x WHERE x.document_id = documents.id)
               AND NOT EXISTS (SELECT 1 FROM fee_notices x WHERE x.document_id = documents.id)
             RETURNING storage_key, data_key_id",
        )
        .bind(&doc)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((key, data_key)) = row {
            keys.push(key);
            data_keys.extend(data_key);
        }
    }
    // Crypto-shredding: with its data key gone, no copy of the case (a backup, a dump) can be
    // read any more. A key that evidence kept for another case still uses stays.
    data_keys.sort();
    data_keys.dedup();
    for k in data_keys {
        if crate::crypto::admin::delete_if_unused(tx, &k).await? {
            vault.forget(&k);
        }
    }
    Ok(keys)
}

/// Whether one of the owner's drafts lists the document. Drafts' answers are encrypted, so
/// they are read and searched here rather than in SQL.
async fn in_a_draft(
    vault: &crate::crypto::Vault,
    tx: &mut Transaction<'static, Any>,
    doc: &str,
) -> sqlx::Result<bool> {
    let answers: Vec<String> = sqlx::query_scalar(
        "SELECT x.answers FROM drafts x JOIN documents d ON d.user_id = x.user_id WHERE d.id = $1",
    )
    .bind(doc)
    .fetch_all(&mut **tx)
    .await?;
    for a in answers {
        if vault.open_on(tx, a).await?.contains(doc) {
            return Ok(true);
        }
    }
    Ok(false)
}
