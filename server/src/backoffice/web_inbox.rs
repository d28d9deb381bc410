//! The staff start page and the inbox of a postbox.

use amtsweg_app::components::{FieldError, TagKind};
use amtsweg_app::i18n::{t, Lang};
use amtsweg_app::pages::backoffice::{self as pages, InboxFilters, InboxRow, PostboxCard};
use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::access::{inbox_frame, memberships, MemberRole, Staff};
use super::inbox::{self, Tab, COUNT_CAP};
use super::state::CaseState;
use crate::domain::Role;
use crate::error::AppResult;
use crate::http::ctx::private_html;
use crate::state::AppState;
use crate::time::now_ms;

/// The tag a case's state is shown with to staff.
pub fn state_tag(lang: Lang, state: &str) -> (TagKind, String) {
    tag(lang, state, "bo")
}

/// The same for the citizen, who is addressed directly ("waiting for your answer").
pub fn citizen_state_tag(lang: Lang, state: &str) -> (TagKind, String) {
    tag(lang, state, "case")
}

fn tag(lang: Lang, state: &str, table: &str) -> (TagKind, String) {
    let kind = match CaseState::parse(state) {
        Some(CaseState::Received) => TagKind::Info,
        Some(CaseState::InProgress) => TagKind::Neutral,
        Some(CaseState::AwaitingCitizen) => TagKind::Warning,
        Some(CaseState::Approved) => TagKind::Success,
        Some(CaseState::Rejected) => TagKind::Danger,
        Some(CaseState::Closed) | None => TagKind::Neutral,
    };
    (kind, t(lang, &format!("{table}.state.{state}")).to_string())
}

pub fn role_label(lang: Lang, role: MemberRole) -> String {
    t(lang, &format!("bo.role.{}", role.as_str())).to_string()
}

/// The day of a timestamp (UTC): the inbox needs no minutes, and narrow columns.
fn format_day(ms: i64) -> String {
    crate::time::format_ms(ms).chars().take(10).collect()
}

fn count_label(n: i64) -> String {
    if n >= COUNT_CAP {
        format!("{}+", COUNT_CAP - 1)
    } else {
        n.to_string()
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct HomeParams {
    ok: String,
}

pub async fn home(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<HomeParams>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let mut cards = Vec::new();
    for m in memberships(&state.db, &staff.user.id).await? {
        let new = inbox::count(&state.db, &m.postbox_id, &staff.user.id, Tab::New).await?;
        cards.push(PostboxCard {
            href: format!("/verwaltung/postfach/{}", m.postbox_id),
            name: m.postbox_name,
            authority: m.authority_name,
            role: role_label(lang, m.role),
            new_count: count_label(new),
        });
    }
    Ok(private_html(pages::home(
        &staff.ctx.page(),
        pages::HomeView {
            postboxes: cards,
            is_admin: staff.user.role == Role::Admin,
            payments_desk: !crate::payments::web_desk::desk_authorities(&state, &staff)
                .await?
                .is_empty(),
            notice: (p.ok == "forwarded").then(|| t(lang, "bo.case.ok.forwarded").to_string()),
        },
    )))
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct InboxParams {
    tab: String,
    q: String,
    service: String,
    state: String,
    assignee: String,
    from: String,
    to: String,
    sort: String,
    after: String,
}

impl InboxParams {
    /// The query string of these filters (for tab links and paging), without the cursor.
    fn query(&self, tab: &str) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("tab", tab);
        for (k, v) in [
            ("q", &self.q),
            ("service", &self.service),
            ("state", &self.state),
            ("assignee", &self.assignee),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// A date as typed in a filter (`YYYY-MM-DD`) as the Unix ms of its start (UTC).
pub(super) fn parse_day(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), &fmt).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() * 1000)
}

pub async fn inbox(
    State(state): State<AppState>,
    staff: Staff,
    Path(postbox): Path<String>,
    Query(p): Query<InboxParams>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let search: String = p.q.chars().take(100).collect();
    let terms = super::search::terms(&search);
    let frame = inbox_frame(
        &state.db,
        &staff.user.id,
        &postbox,
        super::search::lead(&terms),
    )
    .await?;
    let m = &frame.membership;
    let tab = Tab::parse(&p.tab);
    let mut errors = Vec::new();
    let mut day = |field: &str, raw: &str| -> Option<i64> {
        if raw.trim().is_empty() {
            return None;
        }
        let parsed = parse_day(raw);
        if parsed.is_none() {
            errors.push(FieldError {
                field_id: field.to_string(),
                message: t(lang, "bo.inbox.bad_date").to_string(),
            });
        }
        parsed
    };
    let from_ms = day("from", &p.from);
    let to_ms = day("to", &p.to).map(|d| d + 86_400_000);
    let after = p.after.split_once('_').and_then(|(t, id)| {
        let t: i64 = t.parse().ok()?;
        (id.len() <= 64).then(|| (t, id.to_string()))
    });
    let services = services(&state, lang).await?;
    let q = inbox::Query {
        service: p.service.clone(),
        state: CaseState::parse(&p.state)
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        assignee: p.assignee.chars().take(64).collect(),
        from_ms,
        to_ms,
        search,
        newest_first: p.sort == "neueste",
        after: after.clone(),
    };
    let page = inbox::page(
        &state.db,
        &postbox,
        &staff.user.id,
        tab,
        &q,
        &terms,
        &frame.words,
    )
    .await?;
    let now = now_ms();
    let title_of = |key: &str| {
        services
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| key.to_string())
    };
    let rows = page
        .rows
        .iter()
        .map(|r| {
            let open = CaseState::parse(&r.state).is_some_and(CaseState::is_open);
            let due = if r.state == "awaiting_citizen" {
                r.reply_due_at.unwrap_or(r.due_at)
            } else {
                r.due_at
            };
            InboxRow {
                href: format!("/verwaltung/vorgaenge/{}", r.reference),
                reference: r.reference.clone(),
                applicant: r.applicant_name.clone(),
                service: title_of(&r.service_key),
                state: state_tag(lang, &r.state),
                assignee: r.assignee.clone().unwrap_or_else(|| "–".into()),
                submitted: format_day(r.submitted_at),
                due: open.then(|| format_day(due)),
                overdue: open && due < now,
                unread: r.unread > 0,
            }
        })
        .collect();
    let base = format!("/verwaltung/postfach/{postbox}");
    let view = pages::InboxView {
        postbox_id: postbox.clone(),
        postbox_name: m.postbox_name.clone(),
        authority_name: m.authority_name.clone(),
        is_lead: m.role == MemberRole::Lead,
        tab: tab.as_str().to_string(),
        tabs: frame
            .counts
            .iter()
            .map(|(t, n)| {
                (
                    t.as_str().to_string(),
                    amtsweg_app::i18n::t(lang, &format!("bo.tab.{}", t.as_str())).to_string(),
                    count_label(*n),
                    format!("{base}?{}", p.query(t.as_str())),
                )
            })
            .collect(),
        filters: InboxFilters {
            q: p.q.clone(),
            service: p.service.clone(),
            state: q.state.clone(),
            assignee: p.assignee.clone(),
            from: p.from.clone(),
            to: p.to.clone(),
            sort: p.sort.clone(),
        },
        services,
        states: CaseState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), state_tag(lang, s.as_str()).1))
            .collect(),
        assignees: frame.members,
        errors,
        rows,
        next_href: page
            .next
            .map(|(t, id)| format!("{base}?{}&after={t}_{id}", p.query(tab.as_str()))),
        first_href: after.map(|_| format!("{base}?{}", p.query(tab.as_str()))),
    };
    Ok(private_html(pages::inbox(&staff.ctx.page(), view)))
}

/// (service key, title in the page language) of every service, by title. The list is the same
/// for every caseworker and changes only when a service is imported, so it comes from a
/// short-lived cache like the catalogue.
pub async fn services(state: &AppState, lang: Lang) -> sqlx::Result<Vec<(String, String)>> {
    let all = state
        .service_titles
        .get_or_load(|| async {
            sqlx::query_as::<_, (String, String, String)>(
                "SELECT service_key, title_de, title_en FROM services",
            )
            .fetch_all(&state.db.pool)
            .await
        })
        .await?;
    let mut out: Vec<(String, String)> = all
        .iter()
        .map(|(key, de, en)| {
            let title = if lang == Lang::De { de } else { en };
            (key.clone(), title.clone())
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}
