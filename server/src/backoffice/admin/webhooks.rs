//! A postbox's webhook endpoints: add (the signing secret is shown once, carried through the
//! redirect in the session rather than in the address), enable, disable, delete, and the
//! delivery history. Every change is audited; the secret never is.

use crate::accounts::reauth::{Recent, RecentForm};
use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use sqlx::Row;
use tower_sessions::Session;

use super::{invalid, postbox_preline, session_err, state_with};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::{format_ms, now_ms};
use crate::webhooks::{check_url, signature, Event, UrlProblem};

/// Enough for a postbox's systems; a bound keeps one postbox from fanning out without end.
const MAX_ENDPOINTS: i64 = 10;
/// Session key of (postbox id, address, secret) between the creation and the page after it.
const NEW_SECRET: &str = "webhook_secret";
const HISTORY: i64 = 50;

fn base(postbox: &str) -> String {
    format!("/verwaltung/admin/postfaecher/{postbox}/webhooks")
}

/// `?ok=` after a redirect, mapped to the message shown.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Done {
    ok: String,
}

impl Done {
    fn key(&self) -> Option<&'static str> {
        Some(match self.ok.as_str() {
            "created" => "webhooks.done.created",
            "enabled" => "webhooks.done.enabled",
            "disabled" => "webhooks.done.disabled",
            "deleted" => "webhooks.done.deleted",
            _ => return None,
        })
    }
}

const ENDPOINT_COLUMNS: &str =
    "id, url, events, enabled, disabled_reason, failing_since, created_at";

fn endpoint_row(r: &sqlx::any::AnyRow) -> sqlx::Result<admin::WebhookRow> {
    let events: String = r.try_get(2)?;
    Ok(admin::WebhookRow {
        id: r.try_get(0)?,
        url: r.try_get(1)?,
        events: events.split_whitespace().map(str::to_string).collect(),
        enabled: r.try_get::<i64, _>(3)? == 1,
        disabled_reason: r.try_get(4)?,
        failing_since: r.try_get::<Option<i64>, _>(5)?.map(format_ms),
        created: format_ms(r.try_get(6)?),
    })
}

async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    postbox: &str,
    form: FormState,
    new_secret: Option<(String, String)>,
    notice: Option<&'static str>,
) -> AppResult<String> {
    let preline = postbox_preline(state, postbox).await?;
    let endpoints = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE postbox_id = $1 ORDER BY created_at, id"
    ))
    .bind(postbox)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(endpoint_row)
    .collect::<sqlx::Result<Vec<_>>>()?;
    let v = admin::WebhooksView {
        postbox_id: postbox.to_string(),
        preline,
        endpoints,
        events: Event::ALL.iter().map(|e| e.as_str().to_string()).collect(),
        new_secret,
        form,
        allow_http: state.config.is_dev(),
    };
    Ok(admin::webhooks(&ctx.page(), v, notice))
}

pub async fn list(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(postbox): Path<String>,
    Query(done): Query<Done>,
    session: Session,
    _: Recent,
) -> AppResult<Response> {
    // Taken out of the session on the first look, so a reload no longer shows it.
    let new_secret = session
        .remove::<(String, String, String)>(NEW_SECRET)
        .await
        .map_err(session_err)?
        .filter(|(p, _, _)| *p == postbox)
        .map(|(_, url, secret)| (url, secret));
    let fs = state_with(&[("events", "")]);
    let body = render_list(&state, &ctx, &postbox, fs, new_secret, done.key()).await?;
    Ok(private_html(body))
}

/// Checks address and events together, so that all problems are reported at once.
fn validate(
    sent: &[(String, String)],
    lang: Lang,
    allow_http: bool,
) -> Result<(String, Vec<Event>), FormState> {
    let raw_url = sent
        .iter()
        .find(|(k, _)| k == "url")
        .map_or("", |(_, v)| v.as_str());
    let events: Vec<Event> = Event::ALL
        .into_iter()
        .filter(|e| sent.iter().any(|(k, v)| k == "events" && v == e.as_str()))
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    let mut fs = state_with(&[("url", raw_url), ("events", &names.join(" "))]);
    let url = match check_url(raw_url, allow_http) {
        Ok(u) => Some(u),
        Err(problem) => {
            let key = match problem {
                UrlProblem::Empty => "webhooks.v.url_empty",
                UrlProblem::TooLong => "webhooks.v.url_long",
                UrlProblem::Invalid => "webhooks.v.url",
                UrlProblem::Scheme => "webhooks.v.url_https",
                UrlProblem::Credentials => "webhooks.v.url_credentials",
            };
            fs.add_error(lang, "url", key);
            None
        }
    };
    if events.is_empty() {
        fs.add_error(lang, "events", "webhooks.v.events");
    }
    match url {
        Some(u) if fs.is_valid() => Ok((u, events)),
        _ => Err(fs),
    }
}

/// The list page again, with the add form's entries and problems.
async fn refused(state: &AppState, ctx: &Ctx, postbox: &str, fs: FormState) -> AppResult<Response> {
    Ok(invalid(
        render_list(state, ctx, postbox, fs, None, None).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(postbox): Path<String>,
    session: Session,
    RecentForm(sent): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    postbox_preline(&state, &postbox).await?;
    let (url, events) = match validate(&sent, ctx.lang, state.config.is_dev()) {
        Ok(v) => v,
        Err(fs) => return refused(&state, &ctx, &postbox, fs).await,
    };
    let events = events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let id = uuid::Uuid::new_v4().to_string();
    let secret = signature::new_secret();
    let mut tx = state.db.begin_write().await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE postbox_id = $1")
            .bind(&postbox)
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_ENDPOINTS {
        drop(tx);
        let mut fs = state_with(&[("url", &url), ("events", &events)]);
        fs.add_error(ctx.lang, "url", "webhooks.v.too_many");
        return refused(&state, &ctx, &postbox, fs).await;
    }
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, postbox_id, url, events, secret, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&postbox)
    .bind(&url)
    .bind(&events)
    .bind(&secret)
    .bind(&user.id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "webhooks.endpoint.create",
        Subject::Postbox(&postbox),
        &format!("endpoint={id}; url={url}; events={events}"),
    )
    .await?;
    tx.commit().await?;
    session
        .insert(NEW_SECRET, (&postbox, &url, &secret))
        .await
        .map_err(session_err)?;
    Ok(see_other(&format!("{}?ok=created", base(&postbox))))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Enable,
    Disable,
    Delete,
}

/// Enabling starts afresh: no failure run, and the alert about the disabling is settled.
const ENABLE: &[&str] =
    &["UPDATE webhook_endpoints SET enabled = 1, disabled_reason = '', failing_since = NULL WHERE id = $1"];
/// Pending messages are given up: a paused endpoint would otherwise receive a burst of stale
/// events when enabled again.
const DISABLE: &[&str] = &[
    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'admin' WHERE id = $1 AND enabled = 1",
    "UPDATE webhook_deliveries SET state = 'failed', claimed_until = NULL,
            last_error = CASE WHEN last_error = '' THEN 'endpoint disabled' ELSE last_error END
     WHERE endpoint_id = $1 AND state = 'pending'",
];
/// The delivery history goes with the endpoint; the audit log keeps what happened.
const DELETE: &[&str] = &[
    "DELETE FROM webhook_deliveries WHERE endpoint_id = $1",
    "DELETE FROM webhook_endpoints WHERE id = $1",
];

async fn change(
    state: &AppState,
    Admin { user, ip, .. }: Admin,
    (postbox, endpoint): (String, String),
    what: Change,
) -> AppResult<Response> {
    let (statements, action, ok) = match what {
        Change::Enable => (ENABLE, "webhooks.endpoint.enable", "enabled"),
        Change::Disable => (DISABLE, "webhooks.endpoint.disable", "disabled"),
        Change::Delete => (DELETE, "webhooks.endpoint.delete", "deleted"),
    };
    let mut tx = state.db.begin_write().await?;
    let url: String =
        sqlx::query_scalar("SELECT url FROM webhook_endpoints WHERE id = $1 AND postbox_id = $2")
            .bind(&endpoint)
            .bind(&postbox)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
    for sql in statements {
        sqlx::query(sql).bind(&endpoint).execute(&mut *tx).await?;
    }
    if what != Change::Disable {
        sqlx::query(
            "UPDATE admin_alerts SET resolved_at = $1
             WHERE kind = 'webhook_disabled' AND subject_id = $2 AND resolved_at IS NULL",
        )
        .bind(now_ms())
        .bind(&endpoint)
        .execute(&mut *tx)
        .await?;
    }
    let detail = format!("endpoint={endpoint}; url={url}");
    audit::record(
        &mut tx,
        &user,
        &ip,
        action,
        Subject::Postbox(&postbox),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!("{}?ok={ok}", base(&postbox))))
}

pub async fn enable(
    State(state): State<AppState>,
    admin: Admin,
    Path(ids): Path<(String, String)>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    change(&state, admin, ids, Change::Enable).await
}

pub async fn disable(
    State(state): State<AppState>,
    admin: Admin,
    Path(ids): Path<(String, String)>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    change(&state, admin, ids, Change::Disable).await
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(ids): Path<(String, String)>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    change(&state, admin, ids, Change::Delete).await
}

pub async fn deliveries(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path((postbox, endpoint)): Path<(String, String)>,
) -> AppResult<Response> {
    let preline = postbox_preline(&state, &postbox).await?;
    let row = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND postbox_id = $2"
    ))
    .bind(&endpoint)
    .bind(&postbox)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let rows = sqlx::query(
        "SELECT event, created_at, state, next_attempt_at, attempts, last_status, last_error, delivered_at
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(&endpoint)
    .bind(HISTORY)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        let state: String = r.try_get(2)?;
        let next: i64 = r.try_get(3)?;
        Ok(admin::DeliveryRow {
            event: r.try_get(0)?,
            created: format_ms(r.try_get(1)?),
            next_attempt: (state == "pending").then(|| format_ms(next)),
            state,
            attempts: r.try_get(4)?,
            last_status: r.try_get(5)?,
            last_error: r.try_get(6)?,
            delivered: r.try_get::<Option<i64>, _>(7)?.map(format_ms),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let v = admin::DeliveriesView {
        postbox_id: postbox,
        preline,
        endpoint: endpoint_row(&row)?,
        rows,
    };
    Ok(private_html(admin::webhook_deliveries(&ctx.page(), v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_problem_at_once_with_the_entries_kept() {
        let fs = match validate(&sent(&[("url", "http://bo.example.de/x")]), Lang::De, false) {
            Err(fs) => fs,
            Ok(_) => panic!("accepted"),
        };
        let fields: Vec<&str> = fs.errors.iter().map(|e| e.field_id.as_str()).collect();
        assert_eq!(fields, ["url", "events"]);
        assert_eq!(fs.value("url"), "http://bo.example.de/x");
        let (url, events) = validate(
            &sent(&[
                ("url", "https://bo.example.de/x"),
                ("events", "fee.paid"),
                ("events", "nonsense"),
                ("events", "submission.received"),
            ]),
            Lang::De,
            false,
        )
        .unwrap_or_else(|_| panic!("refused"));
        assert_eq!(url, "https://bo.example.de/x");
        assert_eq!(events, [Event::SubmissionReceived, Event::FeePaid]);
    }
}
