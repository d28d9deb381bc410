//! Retention: what the portal keeps, and for how long. Closed cases are deleted a number of
//! days after they were closed (`cases`), per service or by the deployment's default; drafts,
//! sessions, mail tokens, rate-limit counters and idempotency records have their own
//! clean-up in the maintenance loop (`crate::jobs`).
//!
//! The portal is not the authority's record: a case is handed to the back-office system or
//! the e-file (API, export package), which keeps it as long as the law requires. The portal's
//! copy serves the citizen's postbox and the caseworker while the case runs and some time
//! after (objection periods, questions), and then goes, as data protection demands
//! (storage limitation, Art. 5 (1) (e) GDPR).

pub mod cases;

use std::ops::RangeInclusive;

use sqlx::{AnyConnection, Row};

use crate::accounts::auth::User;
use crate::config::Config;
use crate::db::Db;
use crate::domain::Role;

/// Periods an administrator may set, in days: at least one day, at most a hundred years.
pub const DAYS: RangeInclusive<i64> = 1..=36_500;

pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// A service's retention setting: its own period, if it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSetting {
    pub key: String,
    pub title_de: String,
    pub title_en: String,
    pub days: Option<i64>,
}

/// The setting of one service; `None` if there is no such service.
pub async fn service_setting(db: &Db, key: &str) -> sqlx::Result<Option<ServiceSetting>> {
    let row = sqlx::query(
        "SELECT service_key, title_de, title_en, case_retention_days FROM services WHERE service_key = $1",
    )
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(ServiceSetting {
            key: r.try_get(0)?,
            title_de: r.try_get(1)?,
            title_en: r.try_get(2)?,
            days: r.try_get(3)?,
        })
    })
    .transpose()
}

/// Sets (or, with `None`, clears) a service's own period inside the caller's transaction and
/// audits the change; false if there is no such service. Callers check `days` against `DAYS`.
pub async fn set_service_days(
    conn: &mut AnyConnection,
    actor: &User,
    ip: &str,
    key: &str,
    days: Option<i64>,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE services SET case_retention_days = $1 WHERE service_key = $2")
        .bind(days)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    crate::backoffice::audit::record(
        conn,
        actor,
        ip,
        "retention.service_changed",
        crate::backoffice::audit::Subject::Service(key),
        &format!(
            "case_retention_days={}",
            days.map_or_else(|| "default".to_string(), |d| d.to_string())
        ),
    )
    .await?;
    Ok(true)
}

/// The actor of changes nobody made in a browser: the retention job, the command line.
pub fn system_actor(id: &str, label: &str) -> User {
    User {
        id: id.to_string(),
        email: label.to_string(),
        role: Role::Admin,
        lang: amtsweg_app::i18n::Lang::De,
        epoch: 0,
    }
}

/// `amtsweg service retention`: prints the period in force, after changing it if asked to.
pub async fn command(
    config: &Config,
    key: &str,
    days: Option<i64>,
    default: bool,
) -> anyhow::Result<()> {
    if let Some(d) = days.filter(|d| !DAYS.contains(d)) {
        anyhow::bail!(
            "--days must be between {} and {}, got {d}",
            DAYS.start(),
            DAYS.end()
        );
    }
    let db = Db::connect(&config.database_url(), 2).await?;
    db.migrate().await?;
    if days.is_some() || default {
        let mut tx = db.begin_write().await?;
        let actor = system_actor("cli", "command line");
        if !set_service_days(&mut tx, &actor, "", key, days).await? {
            anyhow::bail!("no service {key}");
        }
        tx.commit().await?;
    }
    let s = service_setting(&db, key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no service {key}"))?;
    match s.days {
        Some(d) => println!("{key} ({}): closed cases are deleted {d} days after closing", s.title_de),
        None => println!(
            "{key} ({}): closed cases are deleted {} days after closing (the default, AMTSWEG_CASE_RETENTION_DAYS)",
            s.title_de, config.case_retention_days
        ),
    }
    Ok(())
}
