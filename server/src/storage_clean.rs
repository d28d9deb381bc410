//! Clean-up of storage after crashes: files that no row refers to, staging files of uploads
//! that never finished, and a count of rows whose file has gone missing.
//!
//! A file is stored before the row that refers to it is written (`storage.commit`, then
//! `INSERT INTO documents`), and removed after its row is deleted; a process killed in
//! between leaves a file behind, never a row without a file. Such a file is only recognised
//! as an orphan once it is older than a grace period: a younger one may belong to an upload
//! whose row is being written right now, on this instance or another. Rows without a file
//! cannot be repaired here (the content is gone), so they are logged and counted, not deleted.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use crate::db::Db;
use crate::storage::Storage;
use crate::time::now_ms;

/// Files younger than this are never taken for orphans. An upload's row follows its file
/// within the request, and requests end within the request timeout, so an hour is ample.
pub const GRACE: Duration = Duration::from_secs(3600);
/// How often the maintenance loop lists the storage (each instance cleans its own staging
/// directory as often; the listing is done by one instance per period).
pub const EVERY: Duration = Duration::from_secs(3600);
/// A row younger than this at the start of a run may belong to a file stored after the
/// listing began, so it is not reported as missing.
const MISSING_SLACK_MS: i64 = 60_000;
/// Individual missing files named in the log per run; the rest are only counted.
const LOG_MISSING: usize = 20;
const LEASE: &str = "storage_clean";

/// What one run found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Files in storage.
    pub stored: usize,
    /// Files referred to by a row.
    pub referenced: usize,
    /// Files no row refers to, older than the grace period: deleted (unless a dry run).
    pub orphans: usize,
    /// Files no row refers to that are younger than the grace period: left for a later run.
    pub recent: usize,
    /// Rows whose file is not in storage.
    pub missing: usize,
    /// Staging files older than the grace period: removed (unless a dry run).
    pub staging: usize,
    /// Orphans whose deletion failed (logged; tried again next run).
    pub failed: usize,
}

/// Compares the files in storage with the rows that refer to them and removes what no row
/// needs. Safe while the portal runs, on any number of instances: nothing younger than `grace`
/// is touched, and deleting a file twice is harmless.
pub async fn run(
    db: &Db,
    storage: &Storage,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let started = SystemTime::now();
    let started_ms = now_ms();
    let cutoff = started.checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
    // Storage first, rows second: a row written in between refers to a file that is either
    // in the listing or younger than the grace period, so it is never deleted.
    let objects = storage.objects().await?;
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, storage_key, created_at FROM documents")
            .fetch_all(&db.pool)
            .await?;
    let referenced: HashMap<&str, (&str, i64)> = rows
        .iter()
        .map(|(id, key, at)| (key.as_str(), (id.as_str(), *at)))
        .collect();
    let present: HashSet<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    let mut report = Report {
        stored: objects.len(),
        ..Report::default()
    };
    for object in &objects {
        if referenced.contains_key(object.key.as_str()) {
            report.referenced += 1;
        } else if object.modified >= cutoff {
            report.recent += 1;
        } else {
            report.orphans += 1;
            if dry_run {
                continue;
            }
            if let Err(e) = storage.delete(&object.key).await {
                report.failed += 1;
                tracing::warn!(key = %object.key, error = %e, "could not delete an orphaned file");
            }
        }
    }
    for (key, (document, created_at)) in &referenced {
        if present.contains(key) || *created_at > started_ms - MISSING_SLACK_MS {
            continue;
        }
        report.missing += 1;
        if report.missing <= LOG_MISSING {
            tracing::error!(document = %document, key = %key, "a document's file is missing from storage");
        }
    }
    report.staging = storage.remove_stale_temp_files(cutoff, dry_run).await?;
    if report.missing > 0 {
        tracing::error!(
            missing = report.missing,
            "documents whose file is missing from storage"
        );
    }
    if report.orphans + report.staging + report.failed > 0 {
        tracing::info!(
            orphans = report.orphans,
            staging = report.staging,
            failed = report.failed,
            dry_run,
            "storage clean-up"
        );
    }
    Ok(report)
}

/// The maintenance loop's turn: the instance that takes the lease lists the storage; every
/// instance cleans its own staging directory (it is on its own disk).
pub async fn periodic(db: &Db, storage: &Storage, holder: &str) -> anyhow::Result<Report> {
    if take_lease(db, LEASE, EVERY, holder).await? {
        run(db, storage, GRACE, false).await
    } else {
        let cutoff = SystemTime::now()
            .checked_sub(GRACE)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(Report {
            staging: storage.remove_stale_temp_files(cutoff, false).await?,
            ..Report::default()
        })
    }
}

/// Takes the lease on a periodic job for `period` if nobody holds it; true if taken. One
/// statement, so two instances cannot both take it.
pub async fn take_lease(db: &Db, name: &str, period: Duration, holder: &str) -> sqlx::Result<bool> {
    let now = now_ms();
    let until = now.saturating_add(i64::try_from(period.as_millis()).unwrap_or(i64::MAX));
    let done = sqlx::query(
        "INSERT INTO job_leases (name, held_until, holder) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET held_until = excluded.held_until, holder = excluded.holder
         WHERE job_leases.held_until <= $4",
    )
    .bind(name)
    .bind(until)
    .bind(holder)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
