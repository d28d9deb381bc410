//! The audit log in the browser: filters, keyset pages (newest first) and a CSV export of the
//! filtered entries. Looking at the log is itself recorded in it.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::{invalid, state_with};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Entry, Filter, Subject};
use crate::error::{AppError, AppResult};
use crate::http::ctx::private_html;
use crate::state::AppState;
use crate::time::{format_ms, now_ms};

const PAGE: i64 = 50;
/// Rows read per query while exporting, so that no single query holds everything.
const EXPORT_CHUNK: i64 = 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct AuditQuery {
    actor: String,
    action: String,
    subject: String,
    from: String,
    to: String,
    before: Option<i64>,
}

impl AuditQuery {
    fn entered(&self) -> FormState {
        state_with(&[
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject", &self.subject),
            ("from", &self.from),
            ("to", &self.to),
        ])
    }

    /// The filters as a query string (without the page cursor).
    fn query_string(&self, before: Option<i64>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject", &self.subject),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        if let Some(b) = before {
            s.append_pair("before", &b.to_string());
        }
        s.finish()
    }

    /// The filters as the audit entry of this view records them.
    fn describe(&self) -> String {
        format!(
            "actor={}; action={}; subject={}; from={}; to={}",
            self.actor.trim(),
            self.action.trim(),
            self.subject.trim(),
            self.from.trim(),
            self.to.trim()
        )
    }
}

/// Midnight UTC of a `YYYY-MM-DD` day, in Unix milliseconds.
fn day_start(raw: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(raw.trim(), &fmt).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

fn filter(q: &AuditQuery, lang: Lang) -> Result<Filter, FormState> {
    let mut fs = q.entered();
    let date = |fs: &mut FormState, field: &str, raw: &str| {
        if raw.trim().is_empty() {
            return None;
        }
        let day = day_start(raw);
        if day.is_none() {
            fs.add_error(lang, field, "admin.v.date");
        }
        day
    };
    let from_ms = date(&mut fs, "from", &q.from);
    let to_ms = date(&mut fs, "to", &q.to).map(|d| d + DAY_MS - 1);
    if let (Some(a), Some(b)) = (from_ms, to_ms) {
        if a > b {
            fs.add_error(lang, "to", "admin.v.date_order");
        }
    }
    if !fs.is_valid() {
        return Err(fs);
    }
    Ok(Filter {
        actor: q.actor.trim().to_string(),
        action: q.action.trim().to_string(),
        subject_id: q.subject.trim().to_string(),
        from_ms,
        to_ms,
        before: q.before,
    })
}

fn row(e: Entry) -> admin::AuditRow {
    admin::AuditRow {
        at: format_ms(e.at),
        actor: e.actor,
        action: e.action,
        subject: if e.subject_id.is_empty() {
            e.subject_kind
        } else {
            format!("{} {}", e.subject_kind, e.subject_id)
        },
        detail: e.detail,
        client_ip: e.client_ip,
    }
}

pub async fn page(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let export_href = format!("/verwaltung/admin/protokoll.csv?{}", q.query_string(None));
    let f = match filter(&q, ctx.lang) {
        Ok(f) => f,
        Err(fs) => {
            let v = admin::AuditView {
                filter: fs,
                rows: Vec::new(),
                older_href: None,
                newest_href: None,
                export_href,
            };
            return Ok(invalid(admin::audit_log(&ctx.page(), v)));
        }
    };
    let mut entries = audit::list(&state.db, &f, PAGE + 1).await?;
    let older_href = if entries.len() > PAGE as usize {
        entries.truncate(PAGE as usize);
        entries.last().map(|e| {
            format!(
                "/verwaltung/admin/protokoll?{}",
                q.query_string(Some(e.seq))
            )
        })
    } else {
        None
    };
    let newest_href = q
        .before
        .map(|_| format!("/verwaltung/admin/protokoll?{}", q.query_string(None)));
    let mut conn = state.db.pool.acquire().await?;
    audit::record(
        &mut conn,
        &user,
        &ip,
        "admin.audit.view",
        Subject::Audit,
        &q.describe(),
    )
    .await?;
    let v = admin::AuditView {
        filter: q.entered(),
        rows: entries.into_iter().map(row).collect(),
        older_href,
        newest_href,
        export_href,
    };
    Ok(private_html(admin::audit_log(&ctx.page(), v)))
}

/// Spreadsheets run cells that start like a formula; a leading apostrophe keeps them text.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub async fn export(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    // The page offers the export only for valid filters; anything else was typed by hand.
    let mut f = filter(&q, ctx.lang).map_err(|_| AppError::NotFound)?;
    f.before = None;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| AppError::Internal(e.into());
    out.write_record([
        "seq",
        "at_utc",
        "actor",
        "action",
        "subject_kind",
        "subject_id",
        "detail",
        "client_ip",
    ])
    .map_err(csv_err)?;
    let mut count = 0usize;
    loop {
        let chunk = audit::list(&state.db, &f, EXPORT_CHUNK).await?;
        let Some(last) = chunk.last().map(|e| e.seq) else {
            break;
        };
        let full = chunk.len() == EXPORT_CHUNK as usize;
        for e in chunk {
            out.write_record([
                e.seq.to_string(),
                format_ms(e.at),
                cell(&e.actor),
                cell(&e.action),
                cell(&e.subject_kind),
                cell(&e.subject_id),
                cell(&e.detail),
                cell(&e.client_ip),
            ])
            .map_err(csv_err)?;
            count += 1;
        }
        if !full {
            break;
        }
        f.before = Some(last);
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    let mut conn = state.db.pool.acquire().await?;
    audit::record(
        &mut conn,
        &user,
        &ip,
        "admin.audit.export",
        Subject::Audit,
        &format!("{}; entries={count}", q.describe()),
    )
    .await?;
    let stamp = format_ms(now_ms())
        .replace([' ', ':'], "-")
        .replace("-UTC", "");
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"audit-log-{stamp}.csv\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
