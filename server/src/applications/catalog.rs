//! The service catalogue: form definitions imported as versioned documents, the catalogue
//! details taken from the current version, and search over both languages.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sqlx::{AnyConnection, Row};

use super::definition::{self, Definition};
use crate::db::Db;
use crate::time::now_ms;

pub const DEMO_DEFINITIONS: [(&str, &str); 4] = [
    (
        "parking-permit.toml",
        include_str!("../../forms/parking-permit.toml"),
    ),
    ("dog-tax.toml", include_str!("../../forms/dog-tax.toml")),
    (
        "registration-certificate.toml",
        include_str!("../../forms/registration-certificate.toml"),
    ),
    (
        "maintenance-advance.toml",
        include_str!("../../forms/maintenance-advance.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("version {version} of service {key} exists already; import a higher version")]
    VersionExists { key: String, version: u32 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn search_text(d: &Definition) -> String {
    let mut parts = vec![
        d.service_key.clone(),
        d.title.de.clone(),
        d.title.en.clone(),
        d.summary.de.clone(),
        d.summary.en.clone(),
    ];
    for words in d.keywords.values() {
        parts.extend(words.iter().cloned());
    }
    parts.join(" ").to_lowercase()
}

/// Imports a definition as a new version and makes it the current one.
pub async fn import(db: &Db, text: &str) -> Result<(String, u32), ImportError> {
    let def = definition::parse(text).map_err(ImportError::Invalid)?;
    let mut tx = db.begin_write().await?;
    import_parsed(&mut tx, text, &def).await?;
    tx.commit().await?;
    Ok((def.service_key, def.version))
}

/// The import inside the caller's transaction, so that an audit entry can share it.
pub async fn import_parsed(
    conn: &mut AnyConnection,
    text: &str,
    def: &Definition,
) -> Result<(), ImportError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO services (service_key, title_de, title_en, summary_de, summary_en, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service_key) DO NOTHING",
    )
    .bind(&def.service_key)
    .bind(&def.title.de)
    .bind(&def.title.en)
    .bind(&def.summary.de)
    .bind(&def.summary.en)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO service_definitions (service_key, version, definition, imported_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (service_key, version) DO NOTHING",
    )
    .bind(&def.service_key)
    .bind(i64::from(def.version))
    .bind(text)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ImportError::VersionExists {
            key: def.service_key.clone(),
            version: def.version,
        });
    }
    make_current(conn, &def.service_key, Some(def)).await?;
    Ok(())
}

/// Points the service at `def` (catalogue details included), or takes it out of the catalogue
/// when no version is left to offer.
async fn make_current(
    conn: &mut AnyConnection,
    key: &str,
    def: Option<&Definition>,
) -> sqlx::Result<()> {
    let Some(def) = def else {
        sqlx::query("UPDATE services SET current_version = NULL WHERE service_key = $1")
            .bind(key)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    };
    sqlx::query(
        "UPDATE services SET title_de = $1, title_en = $2, summary_de = $3, summary_en = $4,
            current_version = $5, search_text = $6, life_situations = $7
         WHERE service_key = $8",
    )
    .bind(&def.title.de)
    .bind(&def.title.en)
    .bind(&def.summary.de)
    .bind(&def.summary.en)
    .bind(i64::from(def.version))
    .bind(search_text(def))
    .bind(def.life_situations.join(","))
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What retiring a version did to the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retired {
    /// The version is retired; new applications use `Some(version)` (or none: the service left
    /// the catalogue).
    Done { current: Option<i64> },
    /// No such version, or it was retired already.
    NotFound,
}

/// Retires a version inside the caller's transaction. New drafts are only ever started on
/// `current_version`, so it moves to the newest version still offered; drafts and cases keep
/// the version they were started with (their definition stays stored and readable).
pub async fn retire(conn: &mut AnyConnection, key: &str, version: i64) -> sqlx::Result<Retired> {
    let changed = sqlx::query(
        "UPDATE service_definitions SET retired_at = $1
         WHERE service_key = $2 AND version = $3 AND retired_at IS NULL",
    )
    .bind(now_ms())
    .bind(key)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(Retired::NotFound);
    }
    let newest = sqlx::query(
        "SELECT version, definition FROM service_definitions
         WHERE service_key = $1 AND retired_at IS NULL ORDER BY version DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let def = match newest {
        Some(r) => {
            let text: String = r.try_get(1)?;
            match definition::read_stored(&text) {
                Ok(d) => Some(d),
                Err(_) => {
                    tracing::error!(
                        service = key,
                        version = r.try_get::<i64, _>(0)?,
                        "stored definition no longer parses; the service leaves the catalogue"
                    );
                    None
                }
            }
        }
        None => None,
    };
    make_current(conn, key, def.as_ref()).await?;
    Ok(Retired::Done {
        current: def.map(|d| i64::from(d.version)),
    })
}

/// The stored text of a definition version (the current one when `version` is `None`).
pub async fn export(db: &Db, key: &str, version: Option<u32>) -> sqlx::Result<Option<String>> {
    let v = match version {
        Some(v) => Some(i64::from(v)),
        None => sqlx::query_scalar::<_, Option<i64>>(
            "SELECT current_version FROM services WHERE service_key = $1",
        )
        .bind(key)
        .fetch_optional(&db.pool)
        .await?
        .flatten(),
    };
    let Some(v) = v else { return Ok(None) };
    sqlx::query_scalar(
        "SELECT definition FROM service_definitions WHERE service_key = $1 AND version = $2",
    )
    .bind(key)
    .bind(v)
    .fetch_optional(&db.pool)
    .await
}

type Cache = RwLock<HashMap<(String, i64), Arc<Definition>>>;

fn cache() -> &'static Cache {
    static C: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    C.get_or_init(Default::default)
}

/// A definition version, parsed once per process (versions never change once imported).
pub async fn definition(db: &Db, key: &str, version: i64) -> sqlx::Result<Option<Arc<Definition>>> {
    if let Some(d) = cache()
        .read()
        .ok()
        .and_then(|c| c.get(&(key.to_string(), version)).cloned())
    {
        return Ok(Some(d));
    }
    let text: Option<String> = sqlx::query_scalar(
        "SELECT definition FROM service_definitions WHERE service_key = $1 AND version = $2",
    )
    .bind(key)
    .bind(version)
    .fetch_optional(&db.pool)
    .await?;
    let Some(text) = text else { return Ok(None) };
    let Ok(def) = definition::read_stored(&text) else {
        tracing::error!(service = key, version, "stored definition no longer parses");
        return Ok(None);
    };
    let def = Arc::new(def);
    if let Ok(mut c) = cache().write() {
        c.insert((key.to_string(), version), def.clone());
    }
    Ok(Some(def))
}

/// The current version of a service's definition.
pub async fn current(db: &Db, key: &str) -> sqlx::Result<Option<Arc<Definition>>> {
    let v: Option<Option<i64>> =
        sqlx::query_scalar("SELECT current_version FROM services WHERE service_key = $1")
            .bind(key)
            .fetch_optional(&db.pool)
            .await?;
    match v.flatten() {
        Some(v) => definition(db, key, v).await,
        None => Ok(None),
    }
}

#[derive(Clone, Debug)]
pub struct Listed {
    pub key: String,
    pub title_de: String,
    pub title_en: String,
    pub summary_de: String,
    pub summary_en: String,
}

/// A published service with what the catalogue search matches on. The whole published
/// catalogue is small (hundreds of services) and the same for every visitor, so it is loaded
/// once into `AppState::catalogue` and searched in memory.
#[derive(Clone, Debug)]
pub struct Entry {
    pub listed: Listed,
    search_text: String,
    situations: Vec<String>,
}

/// Every service that is offered (has a current version), in German title order.
pub async fn published(db: &Db) -> sqlx::Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT service_key, title_de, title_en, summary_de, summary_en, search_text, life_situations
         FROM services WHERE current_version IS NOT NULL ORDER BY title_de",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let situations: String = r.try_get(6)?;
            Ok(Entry {
                listed: Listed {
                    key: r.try_get(0)?,
                    title_de: r.try_get(1)?,
                    title_en: r.try_get(2)?,
                    summary_de: r.try_get(3)?,
                    summary_en: r.try_get(4)?,
                },
                search_text: r.try_get(5)?,
                situations: situations
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

/// The services among `entries` matching all words of `query` (in either language) and the
/// life situation.
pub fn search(entries: &[Entry], query: &str, situation: Option<&str>) -> Vec<Listed> {
    let words: Vec<String> = query
        .to_lowercase()
        .split_whitespace()
        .take(10)
        .map(str::to_string)
        .collect();
    let situation = situation.filter(|s| !s.is_empty());
    entries
        .iter()
        .filter(|e| words.iter().all(|w| e.search_text.contains(w.as_str())))
        .filter(|e| situation.is_none_or(|s| e.situations.iter().any(|x| x == s)))
        .map(|e| e.listed.clone())
        .collect()
}

/// The service title column (of `services s`) in the page language, for list queries.
pub fn title_column(lang: amtsweg_app::i18n::Lang) -> &'static str {
    if lang == amtsweg_app::i18n::Lang::De {
        "s.title_de"
    } else {
        "s.title_en"
    }
}
