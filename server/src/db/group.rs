//! Group commit for SQLite: batches that arrive while the writer is busy share one transaction.
//!
//! Why: on this kind of machine a submission was bound by the disk, not the CPU. Each commit
//! appends every page it changed to the write-ahead log, and a case touches about 25 B-trees'
//! pages; most of them (the newest leaf of each date-ordered index, the tables' last pages) are
//! the same pages the next submission changes again. In one transaction such a page is written
//! once for the whole group instead of once per submission (BENCHMARKS.md, "Group commit").
//!
//! Each batch runs inside its own savepoint, so it stays atomic on its own: a batch that fails
//! (a draft submitted twice hits the unique `draft_id`) is rolled back to its savepoint and gets
//! the database's error; the others go on. A batch is told it succeeded only after the group's
//! `COMMIT`. If SQLite gave up the whole transaction (a full disk, an I/O error) or the commit
//! fails, every batch of the group is told the error: none of them was written, as if each had
//! failed alone.
//!
//! A batch handed over is written even if the request that sent it goes away; callers that
//! must act after the commit run the write in a task of its own (see `submit`).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::batch::Batch;

/// How many batches join one transaction at most. Batches only join when they are already
/// waiting, so an idle server commits each one at once; the cap bounds the time the first batch
/// of a large group waits for the others.
const MAX_GROUP: usize = 32;

struct Job {
    batch: Batch,
    done: oneshot::Sender<sqlx::Result<()>>,
    queued: tokio::time::Instant,
}

/// The queue in front of the SQLite writer connection. The thread that works it is started on
/// the first write and stops when the last `Db` clone is gone.
#[derive(Clone, Default)]
pub(super) struct Group {
    queue: Arc<OnceLock<mpsc::Sender<Job>>>,
    /// Transactions the queue committed, for the tests to see that batches shared one.
    commits: Arc<AtomicU64>,
}

impl Group {
    /// The batch back when the writer thread could not be started, for the caller to write in a
    /// transaction of its own.
    pub(super) async fn write(
        &self,
        writer: &AnyPool,
        batch: Batch,
    ) -> Result<sqlx::Result<()>, Batch> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(1024);
            let (writer, commits) = (writer.clone(), self.commits.clone());
            // A thread with a runtime of its own: woken by SQLite's connection thread, a task
            // of the server's runtime waits in its shared queue behind the requests, and the
            // group task wakes once per batch, so it would be the slowest part of every write.
            let started = std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || {
                    match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(runtime) => runtime.block_on(work(writer, rx, commits)),
                        Err(e) => tracing::error!(error = %e, "cannot start the SQLite writer"),
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "cannot start the SQLite writer thread");
            }
            tx
        });
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = queue
            .send(Job {
                batch,
                done,
                queued: tokio::time::Instant::now(),
            })
            .await
        {
            return Err(job.batch);
        }
        // No answer comes only if the group panicked before its `COMMIT`: nothing of it was
        // committed, and closing the connection rolls the transaction back.
        Ok(answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed)))
    }

    #[cfg(test)]
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

async fn work(writer: AnyPool, mut queue: mpsc::Receiver<Job>, commits: Arc<AtomicU64>) {
    while let Some(first) = queue.recv().await {
        // Those that arrive while the first waits for the writer connection join it. Each
        // batch waits for the writer at most `ACQUIRE_TIMEOUT` from the moment it was queued,
        // as a transaction of its own would, not that long again behind each one before it.
        let deadline = first.queued + super::ACQUIRE_TIMEOUT;
        let conn = match tokio::time::timeout_at(deadline, writer.acquire()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                let _ = first.done.send(Err(e));
                continue;
            }
            Err(_) => {
                let _ = first.done.send(Err(sqlx::Error::PoolTimedOut));
                continue;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut writing = Writing { conn, keep: false };
        // A panic in one group (a bug in sqlx or in our code) must not end the thread, or every
        // later write would fall back to a transaction of its own for the rest of the process.
        // The group's batches are answered `WorkerCrashed` as their senders drop, and
        // `writing` closes the connection, which rolls the open transaction back.
        match AssertUnwindSafe(group(&mut writing.conn, jobs, &commits))
            .catch_unwind()
            .await
        {
            Ok(kept) => writing.keep = kept,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(%message, "the SQLite writer panicked; that group was not written");
            }
        }
        // Unless kept, `writing` closes the connection; a fresh one costs a millisecond on a path
        // this rare.
    }
}

/// The writer connection while a group's transaction is open. The transaction is begun and
/// ended with plain statements, not sqlx's `Transaction`: when SQLite has already ended it, a
/// `ROLLBACK` fails, and sqlx would then take the connection for still being in a transaction
/// and refuse every later `BEGIN` on it. The connection goes back to the pool only after a
/// commit; otherwise (a failed `BEGIN` or `COMMIT`, a lost transaction, a panic) it is closed
/// rather than handed on with a transaction that may still be open.
struct Writing {
    conn: PoolConnection<Any>,
    /// Set once the group committed.
    keep: bool,
}

impl Drop for Writing {
    fn drop(&mut self) {
        if !self.keep {
            self.conn.close_on_drop();
        }
    }
}

/// Runs the jobs in one transaction and answers each; true when they were committed.
async fn group(conn: &mut AnyConnection, jobs: Vec<Job>, commits: &AtomicU64) -> bool {
    if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        for job in jobs {
            let _ = job.done.send(Err(copy(&e)));
        }
        return false;
    }
    let mut written = Vec::with_capacity(jobs.len());
    // Answered after the group ends, like the others: a batch that failed on a row of an
    // earlier batch of the group (a draft submitted twice) must find that row committed when
    // it looks, and if the commit fails the conflict may be gone.
    let mut refused = Vec::new();
    let mut broken = None;
    for job in jobs {
        if let Some(e) = &broken {
            let _ = job.done.send(Err(copy(e)));
            continue;
        }
        match in_savepoint(conn, job.batch).await {
            Ok(()) => written.push(job.done),
            Err(Failed::Alone(e)) => refused.push((job.done, e)),
            Err(Failed::Group(e)) => {
                broken = Some(copy(&e));
                let _ = job.done.send(Err(e));
            }
        }
    }
    let outcome = match broken {
        Some(e) => Err(e),
        None => sqlx::query("COMMIT").execute(&mut *conn).await.map(|_| ()),
    };
    if outcome.is_err() {
        // Ends the transaction if SQLite has not already; fails harmlessly if it has.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    let committed = outcome.is_ok();
    // Counted before any batch is answered, so that a caller sees its own commit counted.
    if committed {
        commits.fetch_add(1, Ordering::Relaxed);
    }
    for done in written {
        let _ = done.send(outcome.as_ref().map(|_| ()).map_err(copy));
    }
    for (done, e) in refused {
        let _ = done.send(Err(match &outcome {
            Ok(()) => e,
            Err(failed) => copy(failed),
        }));
    }
    committed
}

enum Failed {
    /// The batch was rolled back to its savepoint; the transaction goes on.
    Alone(sqlx::Error),
    /// The transaction itself is gone: nothing of the group is written.
    Group(sqlx::Error),
}

async fn in_savepoint(conn: &mut AnyConnection, batch: Batch) -> Result<(), Failed> {
    #[cfg(test)]
    assert!(!batch.panics, "a batch made to panic the writer");
    match batch.run_in_savepoint(conn).await {
        Ok(()) => Ok(()),
        Err(e) => match sqlx::query("ROLLBACK TO amtsweg_batch; RELEASE amtsweg_batch")
            .execute(&mut *conn)
            .await
        {
            Ok(_) => Err(Failed::Alone(e)),
            Err(_) => Err(Failed::Group(e)),
        },
    }
}

/// The same error for each batch of a group. sqlx errors cannot be cloned; a database error
/// keeps what callers look at (its kind, so a uniqueness violation stays one, and its message).
fn copy(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::Database(db) => sqlx::Error::Database(Box::new(Copied {
            message: db.message().to_string(),
            code: db.code().map(|c| c.into_owned()),
            kind: db.kind(),
        })),
        // Kept as they are, so that callers still answer "try again shortly" (`is_unavailable`).
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::WorkerCrashed => sqlx::Error::WorkerCrashed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

#[derive(Debug)]
struct Copied {
    message: String,
    code: Option<String>,
    kind: sqlx::error::ErrorKind,
}

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Copied {}

impl sqlx::error::DatabaseError for Copied {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.as_deref().map(std::borrow::Cow::Borrowed)
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        match self.kind {
            sqlx::error::ErrorKind::UniqueViolation => sqlx::error::ErrorKind::UniqueViolation,
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                sqlx::error::ErrorKind::ForeignKeyViolation
            }
            sqlx::error::ErrorKind::NotNullViolation => sqlx::error::ErrorKind::NotNullViolation,
            sqlx::error::ErrorKind::CheckViolation => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}
