//! The import of one statement file, streamed: the parser runs on a blocking thread and hands
//! over credits in chunks through a bounded channel, and each chunk is matched and booked while
//! the next is read. Memory stays at a few chunks plus the index of open notices, whatever the
//! size of the file; everything is one transaction, so a file that turns out to be broken at
//! its end changes nothing.

use std::collections::HashSet;
use std::path::PathBuf;

use sqlx::{Any, Row, Transaction};
use tokio::sync::mpsc;

use super::camt::{self, CamtError, EntryStatus};
use super::matching::{Index, Match};
use super::reconcile::{
    open_index, push_credits, settle, BookedPayment, Credit, ImportError, Importer, Outcome,
};
use crate::backoffice::audit::{self, Subject};
use crate::db::{Db, Placeholders};
use crate::domain::Iban;
use crate::time::now_ms;

/// Credits per batch statement and per message from the parser.
const CHUNK: usize = 200;

/// What the parser thread sends: credits of one account.
struct Batch {
    account_iban: Option<String>,
    credits: Vec<Credit>,
}

/// Parses `path` on a blocking thread, sending booked EUR credits in chunks. Debits and
/// pending entries are not payments (pending ones come again, booked, in a later statement).
fn spawn_parser(
    path: PathBuf,
    tx: mpsc::Sender<Batch>,
) -> tokio::task::JoinHandle<Result<(), CamtError>> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(CamtError::Io)?;
        let reader = std::io::BufReader::with_capacity(64 * 1024, file);
        let mut pending = Batch {
            account_iban: None,
            credits: Vec::with_capacity(CHUNK),
        };
        let send = |batch: Batch| {
            // The importer stops listening when it refuses the file: stop reading it then.
            tx.blocking_send(batch)
                .map_err(|_| CamtError::Io(std::io::Error::other("import stopped")))
        };
        let mut sink = |statement: &camt::Statement, entry: camt::Entry| {
            if pending.account_iban != statement.account_iban && !pending.credits.is_empty() {
                let full = std::mem::replace(&mut pending.credits, Vec::with_capacity(CHUNK));
                send(Batch {
                    account_iban: pending.account_iban.clone(),
                    credits: full,
                })?;
            }
            pending.account_iban.clone_from(&statement.account_iban);
            if entry.credit && entry.status == EntryStatus::Booked && entry.currency == "EUR" {
                push_credits(&mut pending.credits, entry);
            }
            if pending.credits.len() >= CHUNK {
                let full = std::mem::replace(&mut pending.credits, Vec::with_capacity(CHUNK));
                send(Batch {
                    account_iban: pending.account_iban.clone(),
                    credits: full,
                })?;
            }
            Ok(())
        };
        let headers = camt::parse_each(reader, &camt::Limits::default(), &mut sink)?;
        // Every statement's account is checked, also of statements without credits.
        for h in headers {
            send(Batch {
                account_iban: h.account_iban,
                credits: Vec::new(),
            })?;
        }
        if !pending.credits.is_empty() {
            send(pending)?;
        }
        Ok(())
    })
}

/// Books the statement file's credits for the authority whose account it is for.
pub async fn import_file(
    db: &Db,
    who: &Importer<'_>,
    authority_id: &str,
    file_name: &str,
    sha256: &str,
    path: PathBuf,
    public_url: &str,
) -> Result<Outcome, ImportError> {
    let mut tx = db.begin_write().await?;
    let account: String = sqlx::query_scalar("SELECT payee_iban FROM authorities WHERE id = $1")
        .bind(authority_id)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or_default();
    let account = Iban::parse(&account).ok_or(ImportError::NoAccount)?;
    let index = open_index(&mut tx, authority_id).await?;
    let statement_id = uuid::Uuid::new_v4().to_string();
    // The statement row first: payments refer to it. Counts are filled in at the end.
    sqlx::query(
        "INSERT INTO bank_statements (id, authority_id, file_name, sha256, account_iban, entries, new_payments,
             matched, imported_by, imported_by_label, imported_at)
         VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6, $7, $8)",
    )
    .bind(&statement_id)
    .bind(authority_id)
    .bind(file_name)
    .bind(sha256)
    .bind(account.as_str())
    .bind(&who.user.id)
    .bind(&who.user.email)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;

    let (sender, mut receiver) = mpsc::channel::<Batch>(4);
    let parser = spawn_parser(path, sender);
    let mut outcome = Outcome::default();
    let booking = Booking {
        index: &index,
        authority_id,
        account: &account,
        statement_id: &statement_id,
    };
    while let Some(batch) = receiver.recv().await {
        if batch.account_iban.as_deref().and_then(Iban::parse).as_ref() != Some(&account) {
            // Dropping the receiver stops the parser; dropping the transaction undoes all.
            drop(receiver);
            let _ = parser.await;
            return Err(ImportError::WrongAccount(
                batch.account_iban.unwrap_or_default(),
            ));
        }
        if batch.credits.is_empty() {
            continue;
        }
        let booked = booking.book(&mut tx, &batch.credits, &mut outcome).await?;
        settle(&mut tx, who.user, who.ip, &booked, public_url).await?;
    }
    parser
        .await
        .map_err(|e| ImportError::Camt(CamtError::Io(std::io::Error::other(e))))??;
    sqlx::query(
        "UPDATE bank_statements SET entries = $1, new_payments = $2, matched = $3 WHERE id = $4",
    )
    .bind(i64::try_from(outcome.entries).unwrap_or(i64::MAX))
    .bind(i64::try_from(outcome.new).unwrap_or(i64::MAX))
    .bind(i64::try_from(outcome.matched).unwrap_or(i64::MAX))
    .bind(&statement_id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        who.user,
        who.ip,
        "payments.import",
        Subject::Statement(&statement_id),
        &format!(
            "{file_name}: {} entries, {} new, {} matched",
            outcome.entries, outcome.new, outcome.matched
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// What every chunk of one import is booked against.
struct Booking<'a> {
    index: &'a Index,
    authority_id: &'a str,
    account: &'a Iban,
    statement_id: &'a str,
}

impl Booking<'_> {
    /// Inserts the chunk's payments that are new (the bank's entry reference is unique per
    /// account) and returns those matched to a notice.
    async fn book(
        &self,
        tx: &mut Transaction<'static, Any>,
        chunk: &[Credit],
        outcome: &mut Outcome,
    ) -> Result<Vec<BookedPayment>, ImportError> {
        let now = now_ms();
        let index = self.index;
        let matches: Vec<(String, Match)> = chunk
            .iter()
            .map(|c| {
                let m = if index.is_empty() {
                    Match::None
                } else {
                    index.find(
                        c.structured.as_deref(),
                        &c.remittance,
                        c.amount.0,
                        &c.payer_name,
                    )
                };
                (uuid::Uuid::new_v4().to_string(), m)
            })
            .collect();
        let sql = format!(
            "INSERT INTO payments (id, authority_id, source, account_iban, entry_ref, statement_id, amount_cents,
                 booking_date, payer_name, payer_iban, remittance, notice_id, matched_by, suggested_notice_id,
                 matched_at, created_at) VALUES {}
             ON CONFLICT (account_iban, entry_ref) DO NOTHING RETURNING id",
            Placeholders::for_connection(tx).rows(chunk.len(), 16)
        );
        let mut q = sqlx::query(&sql);
        for (c, (id, m)) in chunk.iter().zip(&matches) {
            let (notice, how, suggested) = match m {
                Match::Reference(i) => (Some(index.notices[*i].id.clone()), "reference", None),
                Match::Remittance(i) => (Some(index.notices[*i].id.clone()), "remittance", None),
                Match::Suggestion(i) => (None, "none", Some(index.notices[*i].id.clone())),
                Match::None => (None, "none", None),
            };
            q = q
                .bind(id.clone())
                .bind(self.authority_id.to_string())
                .bind("bank")
                .bind(self.account.as_str().to_string())
                .bind(c.entry_ref.clone())
                .bind(self.statement_id.to_string())
                .bind(c.amount.0)
                .bind(c.booking_date.clone())
                .bind(c.payer_name.clone())
                .bind(c.payer_iban.clone())
                .bind(c.remittance.clone())
                .bind(notice.clone())
                .bind(how)
                .bind(suggested)
                .bind(notice.map(|_| now))
                .bind(now);
        }
        let inserted: HashSet<String> = q
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<sqlx::Result<_>>()?;
        outcome.entries += chunk.len();
        outcome.known += chunk.len() - inserted.len();
        let mut booked = Vec::new();
        for (c, (id, m)) in chunk.iter().zip(matches) {
            if !inserted.contains(&id) {
                continue;
            }
            outcome.new += 1;
            match m {
                Match::Reference(i) | Match::Remittance(i) => {
                    outcome.matched += 1;
                    booked.push(BookedPayment {
                        payment_id: id,
                        notice_id: index.notices[i].id.clone(),
                        amount: c.amount,
                    });
                }
                _ => outcome.open += 1,
            }
        }
        Ok(booked)
    }
}
