//! Responsibility: which postbox handles a service for a citizen's address. The most specific
//! rule wins (postal code, then municipality, county, state); a rule may point to another
//! authority's postbox (delegation between municipalities).

use sqlx::Row;

use crate::db::Db;
use crate::domain::{Ags, PostalCode};
use crate::time::now_ms;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AreaKind {
    PostalCode,
    Municipality,
    County,
    State,
}

impl AreaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::PostalCode => "postal_code",
            AreaKind::Municipality => "municipality",
            AreaKind::County => "county",
            AreaKind::State => "state",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "postal_code" => Some(AreaKind::PostalCode),
            "municipality" => Some(AreaKind::Municipality),
            "county" => Some(AreaKind::County),
            "state" => Some(AreaKind::State),
            _ => None,
        }
    }

    /// Whether `code` has the form this kind of area needs.
    pub fn accepts(self, code: &str) -> bool {
        let len = match self {
            AreaKind::PostalCode => 5,
            AreaKind::Municipality => 8,
            AreaKind::County => 5,
            AreaKind::State => 2,
        };
        code.len() == len && code.bytes().all(|b| b.is_ascii_digit())
    }
}

/// The postbox found for a service and address, with the authority that runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Responsible {
    pub postbox_id: String,
    pub postbox_name: String,
    pub authority_id: String,
    pub authority_name: String,
    /// The kind of rule that matched.
    pub matched: AreaKind,
    /// The authority's own area differs from the citizen's municipality: a delegation.
    pub delegated: bool,
    /// The postbox's time for a decision, from which a new case's due date follows.
    pub processing_days: i64,
}

pub async fn lookup(
    db: &Db,
    service_key: &str,
    ags: &Ags,
    postal_code: Option<&PostalCode>,
) -> sqlx::Result<Option<Responsible>> {
    let row = sqlx::query(
        "SELECT r.postbox_id, p.name, a.id, a.name, r.area_kind, a.ags, p.processing_days
         FROM responsibility_rules r
         JOIN postboxes p ON p.id = r.postbox_id
         JOIN authorities a ON a.id = p.authority_id
         WHERE r.service_key = $1 AND (
               (r.area_kind = 'postal_code' AND r.area_code = $2)
            OR (r.area_kind = 'municipality' AND r.area_code = $3)
            OR (r.area_kind = 'county' AND r.area_code = $4)
            OR (r.area_kind = 'state' AND r.area_code = $5))
         ORDER BY CASE r.area_kind WHEN 'postal_code' THEN 0 WHEN 'municipality' THEN 1
                                   WHEN 'county' THEN 2 ELSE 3 END
         LIMIT 1",
    )
    .bind(service_key)
    .bind(postal_code.map(PostalCode::as_str).unwrap_or(""))
    .bind(ags.as_str())
    .bind(ags.county())
    .bind(ags.state())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        let kind: String = r.try_get(4)?;
        let authority_ags: String = r.try_get(5)?;
        let matched = AreaKind::parse(&kind).unwrap_or(AreaKind::State);
        let delegated = match matched {
            AreaKind::Municipality => authority_ags != ags.as_str(),
            _ => false,
        };
        Ok(Responsible {
            postbox_id: r.try_get(0)?,
            postbox_name: r.try_get(1)?,
            authority_id: r.try_get(2)?,
            authority_name: r.try_get(3)?,
            matched,
            delegated,
            processing_days: r.try_get(6)?,
        })
    })
    .transpose()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub service_key: String,
    pub area_kind: AreaKind,
    pub area_code: String,
    pub postbox_id: String,
}

/// Parses rules as CSV (`service_key,area_kind,area_code,postbox_id`); every bad line is named.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 1 && line.starts_with("service_key")) {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [key, kind, code, postbox] = cols.as_slice() else {
            problems.push(format!(
                "line {n}: expected 4 columns service_key,area_kind,area_code,postbox_id"
            ));
            continue;
        };
        let Some(kind) = AreaKind::parse(kind) else {
            problems.push(format!(
                "line {n}: area kind {kind:?} is not postal_code, municipality, county or state"
            ));
            continue;
        };
        if !(key.len() == 14 && key.bytes().all(|b| b.is_ascii_digit())) {
            problems.push(format!("line {n}: service key {key:?} is not 14 digits"));
            continue;
        }
        if !kind.accepts(code) {
            problems.push(format!(
                "line {n}: {code:?} is not a valid {} code",
                kind.as_str()
            ));
            continue;
        }
        if postbox.is_empty() {
            problems.push(format!("line {n}: postbox id is empty"));
            continue;
        }
        rules.push(Rule {
            service_key: key.to_string(),
            area_kind: kind,
            area_code: code.to_string(),
            postbox_id: postbox.to_string(),
        });
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems.join("\n"))
    }
}

/// Inserts or replaces rules in one transaction; unknown services or postboxes refuse the whole
/// import with the offending rule named.
pub async fn upsert_rules(db: &Db, rules: &[Rule]) -> Result<usize, String> {
    let mut tx = db.begin_write().await.map_err(|e| e.to_string())?;
    for r in rules {
        let res = sqlx::query(
            "INSERT INTO responsibility_rules (id, service_key, area_kind, area_code, postbox_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (service_key, area_kind, area_code) DO UPDATE SET postbox_id = excluded.postbox_id",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&r.service_key)
        .bind(r.area_kind.as_str())
        .bind(&r.area_code)
        .bind(&r.postbox_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await;
        if let Err(e) = res {
            return Err(match e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => format!(
                    "rule {} {} {} → {}: unknown service or postbox",
                    r.service_key,
                    r.area_kind.as_str(),
                    r.area_code,
                    r.postbox_id
                ),
                other => other.to_string(),
            });
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(rules.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_rules_and_names_bad_lines() {
        let ok = parse_rules("service_key,area_kind,area_code,postbox_id\n99058011012000,municipality,08111000,p1\n# comment\n").unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].area_kind, AreaKind::Municipality);
        let err =
            parse_rules("99058011012000,county,0811,p1\n99058011012000,planet,1,p\n").unwrap_err();
        assert!(err.contains("line 1") && err.contains("line 2"), "{err}");
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,200}") {
            let _ = parse_rules(&s);
        }
    }
}
