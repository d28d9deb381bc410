//! Synthetic cases for measuring the inbox at scale (`amtsweg seed cases`). Never used by the
//! portal itself: the cases are plausible but invented, and go into one postbox of the demo data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::backoffice::search::name_terms;
use crate::db::Db;
use crate::domain::Reference;
use crate::time::now_ms;

const GIVEN: [&str; 24] = [
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ilse", "Jonas", "Karl",
    "Lena", "Mia", "Noah", "Olga", "Paul", "Quirin", "Rosa", "Sofia", "Tim", "Ute", "Vera",
    "Wilhelm", "Yusuf",
];
const FAMILY: [&str; 40] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
];
const STATES: [(&str, u32); 6] = [
    ("received", 10),
    ("in_progress", 40),
    ("awaiting_citizen", 10),
    ("approved", 20),
    ("rejected", 15),
    ("closed", 5),
];
const BATCH: usize = 400;

/// Inserts `count` cases into `postbox` for the parking permit service, spread over the last
/// two years, with names (searchable) and states; a fixed seed makes runs comparable.
/// Returns the number of cases inserted. Needs the demo data (service and postbox).
pub async fn cases(
    db: &Db,
    postbox: &str,
    count: usize,
    assignee: Option<&str>,
) -> anyhow::Result<usize> {
    let service = "99058011012000";
    let version: i64 =
        sqlx::query_scalar("SELECT current_version FROM services WHERE service_key = $1")
            .bind(service)
            .fetch_optional(&db.pool)
            .await?
            .flatten()
            .ok_or_else(|| anyhow::anyhow!("load the demo data first (amtsweg demo)"))?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&db.pool)
        .await?;
    let mut rng = StdRng::seed_from_u64(2026 + existing as u64);
    let now = now_ms();
    let two_years = 2 * 365 * 86_400_000_i64;
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let mut tx = db.begin_write().await?;
        let mut case_sql = String::from(
            "INSERT INTO cases (id, reference, draft_id, user_id, service_key, version, answers, ags, postal_code,
                                postbox_id, status, submitted_at, state, assignee_id, applicant_name, updated_at, due_at) VALUES ",
        );
        let mut search_sql = String::from(
            "INSERT INTO case_search (postbox_id, term, submitted_at, case_id, state) VALUES ",
        );
        let mut rows = Vec::with_capacity(n);
        let mut terms = Vec::new();
        for i in 0..n {
            let number = (existing as u64) + (done + i) as u64 + 1_000_000_000;
            let id = uuid::Uuid::new_v4().to_string();
            let name = format!(
                "{} {}",
                GIVEN[rng.gen_range(0..GIVEN.len())],
                FAMILY[rng.gen_range(0..FAMILY.len())]
            );
            let at = now - rng.gen_range(0..two_years);
            let mut pick = rng.gen_range(0..100);
            let state = STATES
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map(|(s, _)| *s)
                .unwrap_or("received");
            let mine = assignee.filter(|_| state != "received" && rng.gen_bool(0.3));
            for t in name_terms(&name) {
                terms.push((t, at, id.clone(), state));
            }
            rows.push((
                id,
                Reference::from_number(number).to_string(),
                name,
                at,
                state,
                mine,
            ));
        }
        // Positional placeholders: SQLite binds thousands of numbered ones in quadratic time.
        let mut p = db.placeholders();
        for i in 0..n {
            let v: Vec<String> = (0..10).map(|_| p.one()).collect();
            case_sql.push_str(&format!(
                "{}({}, {}, {}, NULL, '{service}', {version}, '{{}}', '08111000', '70173', {}, 'submitted', {}, {}, {}, {}, {}, {})",
                if i == 0 { "" } else { ", " },
                v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]
            ));
        }
        let mut q = sqlx::query(&case_sql);
        for (id, reference, name, at, state, mine) in &rows {
            q = q
                .bind(id.clone())
                .bind(reference.clone())
                .bind(format!("seed-{id}"))
                .bind(postbox.to_string())
                .bind(*at)
                .bind(state.to_string())
                .bind(mine.map(str::to_string))
                .bind(name.clone())
                .bind(*at)
                .bind(*at + 30 * 86_400_000);
        }
        q.execute(&mut *tx).await?;
        search_sql.push_str(&db.placeholders().rows(terms.len(), 5));
        let mut q = sqlx::query(&search_sql);
        for (t, at, id, state) in &terms {
            q = q
                .bind(postbox.to_string())
                .bind(t.clone())
                .bind(*at)
                .bind(id.clone())
                .bind(state.to_string());
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
        done += n;
    }
    // Decided and closed cases were closed at their last change, as the retention job expects.
    sqlx::query(
        "UPDATE cases SET closed_at = updated_at
         WHERE closed_at IS NULL AND state IN ('approved', 'rejected', 'closed')",
    )
    .execute(&db.pool)
    .await?;
    if db.backend == crate::db::Backend::Postgres {
        // VACUUM as well: a bulk load leaves the visibility map empty, and until autovacuum
        // gets to it, every index-only scan would fetch heap pages.
        sqlx::query("VACUUM (ANALYZE) cases, case_search")
            .execute(&db.pool)
            .await?;
    } else {
        db.analyze().await?;
    }
    Ok(done)
}

/// Copies draft `like` `count` times as `seed-draft-0` … (replacing earlier copies), so that a
/// load generator can submit each exactly once. Returns the number of copies.
pub async fn drafts(db: &Db, like: &str, count: usize) -> anyhow::Result<usize> {
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM drafts WHERE id = $1")
        .bind(like)
        .fetch_optional(&db.pool)
        .await?;
    if exists.is_none() {
        anyhow::bail!("no draft {like}");
    }
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let mut tx = db.begin_write().await?;
        for i in done..done + n {
            let id = format!("seed-draft-{i}");
            sqlx::query("DELETE FROM drafts WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO drafts (id, user_id, service_key, version, answers, created_at, updated_at, data_key_id)
                 SELECT $1, user_id, service_key, version, answers, created_at, updated_at, data_key_id
                 FROM drafts WHERE id = $2",
            )
            .bind(&id)
            .bind(like)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done += n;
    }
    Ok(done)
}
