//! The caseworker's inbox: tabs, filters, search and keyset pagination that stays fast with a
//! million cases (every query walks an index in order and stops after one page).

use super::search::{self, prefix_end};
use crate::db::read::Arg;
use crate::db::Db;
use crate::time::now_ms;

pub const PAGE_SIZE: i64 = 25;
/// Tab counts stop here ("99+"): counting a million rows on every page view is not worth it.
pub const COUNT_CAP: i64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    New,
    Mine,
    Waiting,
    Overdue,
    All,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::New, Tab::Mine, Tab::Waiting, Tab::Overdue, Tab::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::New => "neu",
            Tab::Mine => "meine",
            Tab::Waiting => "wartend",
            Tab::Overdue => "ueberfaellig",
            Tab::All => "alle",
        }
    }

    pub fn parse(s: &str) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .unwrap_or(Tab::New)
    }

    /// The tab's condition on `c` (parameters: $1 postbox, $2 user, $3 now).
    fn condition(self) -> &'static str {
        match self {
            Tab::New => "c.state = 'received'",
            Tab::Mine => "c.assignee_id = $2 AND c.state IN ('received', 'in_progress', 'awaiting_citizen')",
            Tab::Waiting => "c.state = 'awaiting_citizen'",
            Tab::Overdue => "((c.state IN ('received', 'in_progress') AND c.due_at < $3) OR (c.state = 'awaiting_citizen' AND c.reply_due_at < $3))",
            Tab::All => "1 = 1",
        }
    }

    /// The tab's condition on the search words `s` where the state alone decides (so a name
    /// search reads only rows of the tab from `case_search_state`); `None` for the others.
    fn search_condition(self) -> Option<&'static str> {
        match self {
            Tab::New => Some(" AND s.state = 'received'"),
            Tab::Waiting => Some(" AND s.state = 'awaiting_citizen'"),
            Tab::Mine | Tab::Overdue | Tab::All => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Query {
    pub service: String,
    pub state: String,
    pub assignee: String,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Reference number or words of the applicant's name.
    pub search: String,
    pub newest_first: bool,
    /// Keyset cursor: (submitted_at, id) of the last row of the previous page.
    pub after: Option<(i64, String)>,
}

#[derive(Clone, Debug)]
pub struct Row_ {
    pub id: String,
    pub reference: String,
    pub service_key: String,
    pub applicant_name: String,
    pub state: String,
    pub assignee: Option<String>,
    pub submitted_at: i64,
    pub due_at: i64,
    pub reply_due_at: Option<i64>,
    pub unread: i64,
}

pub struct Page {
    pub rows: Vec<Row_>,
    /// Cursor of the next page, if there is one.
    pub next: Option<(i64, String)>,
}

/// One page of a tab. `terms` are the search's name words (`search::terms` of `q.search`, which
/// the handler has already parsed for the frame); `words` are the indexed words that their lead
/// word (`search::lead`) stands for, as `access::inbox_frame` read them.
pub async fn page(
    db: &Db,
    postbox: &str,
    user_id: &str,
    tab: Tab,
    q: &Query,
    terms: &[String],
    words: &[String],
) -> sqlx::Result<Page> {
    let now = now_ms();
    let reference = crate::domain::Reference::parse(q.search.trim());
    let lead = search::lead(terms);
    // Words only ever stand for a lead word: without one, the page is not a name search.
    let words = if lead.is_some() { words } else { &[] };
    if lead.is_some() && words.is_empty() {
        return Ok(Page {
            rows: Vec::new(),
            next: None,
        });
    }
    let order = if q.newest_first { "DESC" } else { "ASC" };
    let cmp = if q.newest_first { "<" } else { ">" };
    let (from, key_t, key_id) = if words.is_empty() {
        ("cases c", "c.submitted_at", "c.id")
    } else {
        (
            "case_search s JOIN cases c ON c.id = s.case_id",
            "s.submitted_at",
            "s.case_id",
        )
    };
    let mut filter = String::new();
    let mut binds: Vec<Arg> = vec![postbox.into(), user_id.into(), now.into()];
    let mut n = 3;
    let mut push = |sql: &mut String, clause: &str, b: Arg| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
        binds.push(b);
    };
    for t in terms.iter().filter(|t| Some(t.as_str()) != lead) {
        push(
            &mut filter,
            " AND EXISTS (SELECT 1 FROM case_search s2 WHERE s2.case_id = c.id AND s2.term >= ?",
            Arg::Text(t.clone()),
        );
        push(&mut filter, " AND s2.term < ?)", Arg::Text(prefix_end(t)));
    }
    if let Some(r) = &reference {
        push(
            &mut filter,
            " AND c.reference = ?",
            Arg::Text(r.to_string()),
        );
    }
    if !q.service.is_empty() {
        push(
            &mut filter,
            " AND c.service_key = ?",
            Arg::Text(q.service.clone()),
        );
    }
    if !q.state.is_empty() {
        push(&mut filter, " AND c.state = ?", Arg::Text(q.state.clone()));
    }
    if !q.assignee.is_empty() {
        push(
            &mut filter,
            " AND c.assignee_id = ?",
            Arg::Text(q.assignee.clone()),
        );
    }
    if let Some(f) = q.from_ms {
        push(&mut filter, &format!(" AND {key_t} >= ?"), Arg::Int(f));
    }
    if let Some(t) = q.to_ms {
        push(&mut filter, &format!(" AND {key_t} < ?"), Arg::Int(t));
    }
    if let Some((t, id)) = &q.after {
        n += 2;
        filter.push_str(&format!(
            " AND ({key_t}, {key_id}) {cmp} (${}, ${})",
            n - 1,
            n
        ));
        binds.push(Arg::Int(*t));
        binds.push(Arg::Text(id.clone()));
    }
    let select = |extra: &str| {
        format!(
            "SELECT c.id, c.reference, c.service_key, c.applicant_name, c.state, u.email, c.submitted_at,
                    c.due_at, c.reply_due_at, c.staff_unread
             FROM {from} LEFT JOIN users u ON u.id = c.assignee_id
             WHERE c.postbox_id = $1 AND {} AND ($2 = $2) AND ($3 = $3){extra}{filter}
             ORDER BY {key_t} {order}, {key_id} {order} LIMIT {}",
            tab.condition(),
            PAGE_SIZE + 1
        )
    };
    let sql = if words.is_empty() {
        select("")
    } else {
        // One index range per matching word, each already in date order, merged here.
        let parts: Vec<String> = (0..words.len())
            .map(|i| {
                format!(
                    "SELECT * FROM ({}) w{i}",
                    select(&format!(
                        " AND s.postbox_id = $1 AND s.term = ${}{}",
                        n + 1 + i,
                        tab.search_condition().unwrap_or("")
                    ))
                )
            })
            .collect();
        format!(
            "SELECT * FROM ({}) m ORDER BY 7 {order}, 1 {order} LIMIT {}",
            parts.join(" UNION "),
            PAGE_SIZE + 1
        )
    };
    for w in words {
        binds.push(Arg::Text(w.clone()));
    }
    let rows = db.read(&sql, &binds).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Row_ {
            id: r.text(0)?,
            reference: r.text(1)?,
            service_key: r.text(2)?,
            applicant_name: r.text(3)?,
            state: r.text(4)?,
            assignee: r.opt_text(5)?,
            submitted_at: r.int(6)?,
            due_at: r.int(7)?,
            reply_due_at: r.opt_int(8)?,
            unread: r.int(9)?,
        });
    }
    let next = if out.len() as i64 > PAGE_SIZE {
        out.truncate(PAGE_SIZE as usize);
        out.last().map(|r| (r.submitted_at, r.id.clone()))
    } else {
        None
    };
    Ok(Page { rows: out, next })
}

/// The statement counting one tab's cases up to `COUNT_CAP` (parameters: $1 postbox, $2 user,
/// $3 now).
fn count_sql(tab: Tab) -> String {
    format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM cases c WHERE c.postbox_id = $1 AND {} AND ($2 = $2) AND ($3 = $3) LIMIT {COUNT_CAP}) x",
        tab.condition()
    )
}

/// Cases in one tab, counted up to `COUNT_CAP`.
pub async fn count(db: &Db, postbox: &str, user_id: &str, tab: Tab) -> sqlx::Result<i64> {
    let rows = db
        .read(
            &count_sql(tab),
            &[postbox.into(), user_id.into(), now_ms().into()],
        )
        .await?;
    rows.first().ok_or(sqlx::Error::RowNotFound)?.int(0)
}

/// Every tab's count as columns of one select list (same parameters as `count_sql`). They do
/// not depend on the rows of the statement they are part of, so each is computed once: the
/// inbox shows every tab's count on every view, and reading them with the statement it makes
/// anyway saves one (`access::inbox_frame`).
pub fn count_columns() -> String {
    Tab::ALL
        .iter()
        .map(|tab| format!("({})", count_sql(*tab)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_are_parsed_from_their_names() {
        assert_eq!(Tab::parse("wartend"), Tab::Waiting);
        assert_eq!(Tab::parse("whatever"), Tab::New);
    }
}
