//! Who may open what in the back office. Every staff route goes through these checks on the
//! server; a record the user may not see answers 404, exactly like one that does not exist, so
//! ids cannot be probed.

use std::sync::LazyLock;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::inbox::{self, Tab};
use super::search;
use crate::accounts::auth::User;
use crate::db::Db;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::http::client_ip::ClientIp;
use crate::http::ctx::Authed;
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::now_ms;

/// A logged-in caseworker or administrator. Citizens get 404: the staff area does not exist
/// for them.
pub struct Staff {
    pub ctx: Ctx,
    pub user: User,
    pub ip: String,
}

/// A logged-in administrator.
pub struct Admin {
    pub ctx: Ctx,
    pub user: User,
    pub ip: String,
}

impl<S> FromRequestParts<S> for Staff
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authed(ctx, user) = Authed::from_request_parts(parts, state).await?;
        if user.role == Role::Citizen {
            return Err(AppError::NotFound.into_response());
        }
        let ClientIp(ip) = match ClientIp::from_request_parts(parts, state).await {
            Ok(ip) => ip,
            Err(never) => match never {},
        };
        Ok(Staff {
            ctx,
            user,
            ip: ip.to_string(),
        })
    }
}

impl<S> FromRequestParts<S> for Admin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.user.role != Role::Admin {
            return Err(AppError::NotFound.into_response());
        }
        Ok(Admin {
            ctx: staff.ctx,
            user: staff.user,
            ip: staff.ip,
        })
    }
}

/// A member's role in a postbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRole {
    Caseworker,
    Lead,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Caseworker => "caseworker",
            MemberRole::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "caseworker" => Some(MemberRole::Caseworker),
            "lead" => Some(MemberRole::Lead),
            _ => None,
        }
    }
}

/// A postbox the user works in.
#[derive(Clone, Debug)]
pub struct Membership {
    pub postbox_id: String,
    pub postbox_name: String,
    pub authority_name: String,
    pub role: MemberRole,
}

/// The user's memberships, all of them or (`postbox` given) the one in that postbox.
async fn query_memberships(
    db: &Db,
    user_id: &str,
    postbox: Option<&str>,
) -> sqlx::Result<Vec<Membership>> {
    let rows = sqlx::query(
        "SELECT m.postbox_id, p.name, a.name, m.role FROM memberships m
         JOIN postboxes p ON p.id = m.postbox_id JOIN authorities a ON a.id = p.authority_id
         WHERE m.user_id = $1 AND ($2 = '' OR m.postbox_id = $2) ORDER BY a.name, p.name",
    )
    .bind(user_id)
    .bind(postbox.unwrap_or(""))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let role: String = r.try_get(3)?;
            Ok(Membership {
                postbox_id: r.try_get(0)?,
                postbox_name: r.try_get(1)?,
                authority_name: r.try_get(2)?,
                role: MemberRole::parse(&role).unwrap_or(MemberRole::Caseworker),
            })
        })
        .collect()
}

pub async fn memberships(db: &Db, user_id: &str) -> sqlx::Result<Vec<Membership>> {
    query_memberships(db, user_id, None).await
}

/// The user's membership in a postbox, or 404.
pub async fn member_of(db: &Db, user_id: &str, postbox_id: &str) -> AppResult<Membership> {
    if postbox_id.is_empty() {
        return Err(AppError::NotFound);
    }
    query_memberships(db, user_id, Some(postbox_id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The members of a postbox: (account id, mail address), by address.
pub async fn postbox_members(db: &Db, postbox_id: &str) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.postbox_id = $1 ORDER BY u.email",
    )
    .bind(postbox_id)
    .fetch_all(&db.pool)
    .await
}

/// What an inbox view shows around its rows.
pub struct InboxFrame {
    pub membership: Membership,
    /// All members of the postbox (id, mail address, by address), for the assignee filter.
    pub members: Vec<(String, String)>,
    pub counts: Vec<(Tab, i64)>,
    /// The indexed words the search's lead word stands for; empty without a name search.
    pub words: Vec<String>,
}

/// The frame's statement without a name search (a view without one does not pay for the words'
/// subquery) and with one.
static FRAME_SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
    let sql = |words: String| {
        format!(
            "SELECT u.id, u.email, m.role, p.name, a.name, {}{words} FROM memberships m
             JOIN users u ON u.id = m.user_id
             JOIN postboxes p ON p.id = m.postbox_id JOIN authorities a ON a.id = p.authority_id
             WHERE m.postbox_id = $1 ORDER BY u.email",
            inbox::count_columns()
        )
    };
    [
        sql(String::new()),
        sql(format!(", {}", search::words_column(4))),
    ]
});

/// The user's membership in the postbox, its members, every tab's count and, for a name search
/// led by `lead`, the words it stands for, in one statement: the counts and the words are
/// columns that do not depend on the member row (each computed once), so a view makes one
/// statement for all of them instead of three (BENCHMARKS.md: +14 % inbox views and +17 % name
/// searches per second on SQLite for the counts alone). 404 if the user is not a member.
pub async fn inbox_frame(
    db: &Db,
    user_id: &str,
    postbox_id: &str,
    lead: Option<&str>,
) -> AppResult<InboxFrame> {
    let mut args = vec![postbox_id.into(), user_id.into(), now_ms().into()];
    let sql = match lead {
        None => &FRAME_SQL[0],
        Some(lead) => {
            args.push(lead.into());
            args.push(search::prefix_end(lead).into());
            &FRAME_SQL[1]
        }
    };
    let rows = db.read(sql, &args).await?;
    let mut own = None;
    let mut members = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = r.text(0)?;
        if id == user_id {
            let role = r.text(2)?;
            let counts = Tab::ALL
                .iter()
                .enumerate()
                .map(|(i, tab)| Ok((*tab, r.int(5 + i)?)))
                .collect::<sqlx::Result<Vec<_>>>()?;
            let words = match lead {
                Some(_) => search::split_words(r.opt_text(5 + Tab::ALL.len())?),
                None => Vec::new(),
            };
            own = Some((
                Membership {
                    postbox_id: postbox_id.to_string(),
                    postbox_name: r.text(3)?,
                    authority_name: r.text(4)?,
                    role: MemberRole::parse(&role).unwrap_or(MemberRole::Caseworker),
                },
                counts,
                words,
            ));
        }
        members.push((id, r.text(1)?));
    }
    let (membership, counts, words) = own.ok_or(AppError::NotFound)?;
    Ok(InboxFrame {
        membership,
        members,
        counts,
        words,
    })
}

/// A case as the back office handles it.
#[derive(Clone, Debug)]
pub struct StaffCase {
    pub id: String,
    pub reference: String,
    pub postbox_id: String,
    pub user_id: Option<String>,
    pub service_key: String,
    pub version: i64,
    pub answers: String,
    pub state: String,
    pub assignee_id: Option<String>,
    pub applicant_name: String,
    pub submitted_at: i64,
    pub due_at: i64,
    pub reply_due_at: Option<i64>,
    /// Citizen replies no staff member has opened yet.
    pub staff_unread: i64,
    pub membership: Membership,
}

/// Loads a case by reference if it lies in one of the user's postboxes; 404 otherwise. The
/// membership comes with it, from the same query.
pub async fn staff_case(db: &Db, user_id: &str, reference: &str) -> AppResult<StaffCase> {
    let row = sqlx::query(&format!(
        "{CASE_SELECT}, m.role
         FROM cases c JOIN memberships m ON m.postbox_id = c.postbox_id AND m.user_id = $2
         JOIN postboxes p ON p.id = c.postbox_id JOIN authorities a ON a.id = p.authority_id
         WHERE c.reference = $1"
    ))
    .bind(reference)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    case_from_row(&row)
}

/// A case of `postbox_id`, as a back-office system acting for the whole postbox sees it (it
/// acts as a caseworker of that postbox, never as its lead).
pub async fn postbox_case(db: &Db, postbox_id: &str, reference: &str) -> AppResult<StaffCase> {
    let row = sqlx::query(&format!(
        "{CASE_SELECT}, 'caseworker'
         FROM cases c JOIN postboxes p ON p.id = c.postbox_id JOIN authorities a ON a.id = p.authority_id
         WHERE c.reference = $1 AND c.postbox_id = $2"
    ))
    .bind(reference)
    .bind(postbox_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    case_from_row(&row)
}

const CASE_SELECT: &str = "SELECT c.id, c.reference, c.postbox_id, c.user_id, c.service_key, c.version, c.answers, c.state,
                c.assignee_id, c.applicant_name, c.submitted_at, c.due_at, c.reply_due_at, c.staff_unread,
                p.name, a.name";

fn case_from_row(row: &sqlx::any::AnyRow) -> AppResult<StaffCase> {
    let postbox_id: String = row.try_get(2)?;
    let role: String = row.try_get(16)?;
    Ok(StaffCase {
        id: row.try_get(0)?,
        reference: row.try_get(1)?,
        user_id: row.try_get(3)?,
        service_key: row.try_get(4)?,
        version: row.try_get(5)?,
        answers: row.try_get(6)?,
        state: row.try_get(7)?,
        assignee_id: row.try_get(8)?,
        applicant_name: row.try_get(9)?,
        submitted_at: row.try_get(10)?,
        due_at: row.try_get(11)?,
        reply_due_at: row.try_get(12)?,
        staff_unread: row.try_get(13)?,
        membership: Membership {
            postbox_id: postbox_id.clone(),
            postbox_name: row.try_get(14)?,
            authority_name: row.try_get(15)?,
            role: MemberRole::parse(&role).unwrap_or(MemberRole::Caseworker),
        },
        postbox_id,
    })
}
