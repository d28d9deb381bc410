//! The append-only audit log: every staff action and every staff read of a case or of
//! evidence, with who, when, what and from where. The database refuses updates and deletes
//! (triggers in the migration); the application only ever inserts.

use sqlx::AnyConnection;

use crate::accounts::auth::User;
use crate::time::now_ms;

/// What was touched.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    Case(&'a str),
    Document(&'a str),
    Authority(&'a str),
    Postbox(&'a str),
    User(&'a str),
    Rule(&'a str),
    Service(&'a str),
    Template(&'a str),
    FeeNotice(&'a str),
    Payment(&'a str),
    Statement(&'a str),
    Audit,
}

impl Subject<'_> {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Subject::Case(id) => ("case", id),
            Subject::Document(id) => ("document", id),
            Subject::Authority(id) => ("authority", id),
            Subject::Postbox(id) => ("postbox", id),
            Subject::User(id) => ("user", id),
            Subject::Rule(id) => ("rule", id),
            Subject::Service(id) => ("service", id),
            Subject::Template(id) => ("template", id),
            Subject::FeeNotice(id) => ("fee_notice", id),
            Subject::Payment(id) => ("payment", id),
            Subject::Statement(id) => ("statement", id),
            Subject::Audit => ("audit", ""),
        }
    }
}

/// Records one entry inside the caller's transaction, so the entry exists exactly when the
/// change does.
pub async fn record(
    conn: &mut AnyConnection,
    actor: &User,
    ip: &str,
    action: &str,
    subject: Subject<'_>,
    detail: &str,
) -> sqlx::Result<()> {
    let (kind, id) = subject.parts();
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_label, action, subject_kind, subject_id, detail, client_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_ms())
    .bind(&actor.id)
    .bind(&actor.email)
    .bind(action)
    .bind(kind)
    .bind(id)
    .bind(detail)
    .bind(ip)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a read (no other change happens with it).
pub async fn record_read(
    db: &crate::db::Db,
    actor: &User,
    ip: &str,
    action: &str,
    subject: Subject<'_>,
) -> sqlx::Result<()> {
    let mut conn = db.pool.acquire().await?;
    record(&mut conn, actor, ip, action, subject, "").await
}

/// One audit entry as shown and exported.
#[derive(Clone, Debug)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub detail: String,
    pub client_ip: String,
}

/// Filters for viewing and exporting; `before` is the keyset cursor (newest first).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor: String,
    pub action: String,
    pub subject_id: String,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before: Option<i64>,
}

pub async fn list(db: &crate::db::Db, f: &Filter, limit: i64) -> sqlx::Result<Vec<Entry>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT seq, at, actor_label, action, subject_kind, subject_id, detail, client_ip FROM audit_log
         WHERE ($1 = '' OR actor_label = $1) AND ($2 = '' OR action = $2) AND ($3 = '' OR subject_id = $3)
           AND at >= $4 AND at <= $5 AND seq < $6
         ORDER BY seq DESC LIMIT $7",
    )
    .bind(&f.actor)
    .bind(&f.action)
    .bind(&f.subject_id)
    .bind(f.from_ms.unwrap_or(0))
    .bind(f.to_ms.unwrap_or(i64::MAX))
    .bind(f.before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Entry {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                actor: r.try_get(2)?,
                action: r.try_get(3)?,
                subject_kind: r.try_get(4)?,
                subject_id: r.try_get(5)?,
                detail: r.try_get(6)?,
                client_ip: r.try_get(7)?,
            })
        })
        .collect()
}
