//! Cases that matched no responsibility rule when they were submitted. Nothing is lost: they
//! wait here (with an administrator alert) until an administrator names their postbox. The
//! list shows only what is needed to decide that, never the answers.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::{invalid, postbox_options, state_with, Done};
use crate::applications::routing;
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::backoffice::search;
use crate::domain::{Ags, PostalCode};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::{format_ms, now_ms};

const DAY_MS: i64 = 24 * 3600 * 1000;

pub async fn list(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let rows = sqlx::query(&format!(
        "SELECT c.reference, {}, c.ags, c.postal_code, c.submitted_at
         FROM cases c JOIN services s ON s.service_key = c.service_key
         WHERE c.status = 'unrouted' AND c.postbox_id IS NULL
         ORDER BY c.submitted_at LIMIT 500",
        crate::applications::catalog::title_column(ctx.lang)
    ))
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(admin::UnroutedRow {
            reference: r.try_get(0)?,
            service: r.try_get(1)?,
            ags: r.try_get(2)?,
            postal_code: r.try_get(3)?,
            submitted: format_ms(r.try_get(4)?),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(private_html(admin::unrouted(&ctx.page(), rows, done.key())))
}

struct Unrouted {
    id: String,
    reference: String,
    service_key: String,
    service: String,
    ags: String,
    postal_code: String,
    submitted_at: i64,
    applicant_name: String,
}

/// The case if it still waits for a postbox; `None` when another administrator was quicker.
async fn load(state: &AppState, lang: Lang, reference: &str) -> AppResult<Option<Unrouted>> {
    let r = sqlx::query(&format!(
        "SELECT c.id, c.reference, c.service_key, {}, c.ags, c.postal_code, c.submitted_at,
                c.applicant_name, c.status
         FROM cases c JOIN services s ON s.service_key = c.service_key WHERE c.reference = $1",
        crate::applications::catalog::title_column(lang)
    ))
    .bind(reference)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    if r.try_get::<String, _>(8)? != "unrouted" {
        return Ok(None);
    }
    Ok(Some(Unrouted {
        id: r.try_get(0)?,
        reference: r.try_get(1)?,
        service_key: r.try_get(2)?,
        service: r.try_get(3)?,
        ags: r.try_get(4)?,
        postal_code: r.try_get(5)?,
        submitted_at: r.try_get(6)?,
        applicant_name: r.try_get(7)?,
    }))
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    c: Unrouted,
    fs: Option<FormState>,
) -> AppResult<String> {
    let postboxes = postbox_options(&state.db).await?;
    // The rules may have been completed since the case arrived: offer their answer.
    let suggestion = match Ags::parse(&c.ags) {
        Some(ags) => {
            let pc = PostalCode::parse(&c.postal_code);
            routing::lookup(&state.db, &c.service_key, &ags, pc.as_ref()).await?
        }
        None => None,
    };
    let fs = fs.unwrap_or_else(|| {
        state_with(&[(
            "postbox",
            suggestion.as_ref().map_or("", |r| r.postbox_id.as_str()),
        )])
    });
    let v = admin::RouteView {
        reference: c.reference,
        service: c.service,
        ags: c.ags,
        postal_code: c.postal_code,
        submitted: format_ms(c.submitted_at),
        postboxes,
        suggestion: suggestion.map(|r| format!("{} – {}", r.authority_name, r.postbox_name)),
        state: fs,
    };
    Ok(admin::route(&ctx.page(), v))
}

pub async fn page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    let Some(c) = load(&state, ctx.lang, &reference).await? else {
        return Ok(see_other(
            "/verwaltung/admin/unzugeordnet?ok=already_routed",
        ));
    };
    Ok(private_html(render(&state, &ctx, c, None).await?))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RouteForm {
    postbox: String,
}

pub async fn route(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(reference): Path<String>,
    Form(f): Form<RouteForm>,
) -> AppResult<Response> {
    let already = "/verwaltung/admin/unzugeordnet?ok=already_routed";
    let Some(c) = load(&state, ctx.lang, &reference).await? else {
        return Ok(see_other(already));
    };
    let target = sqlx::query(
        "SELECT p.processing_days, a.name, p.name FROM postboxes p
         JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
    )
    .bind(&f.postbox)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(target) = target else {
        let mut fs = state_with(&[("postbox", &f.postbox)]);
        fs.add_error(ctx.lang, "postbox", "admin.v.postbox");
        return Ok(invalid(render(&state, &ctx, c, Some(fs)).await?));
    };
    let days: i64 = target.try_get(0)?;
    let label = format!(
        "{} – {}",
        target.try_get::<String, _>(1)?,
        target.try_get::<String, _>(2)?
    );
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    // The deadline counts from submission, as it would have had the case been routed at once.
    let changed = sqlx::query(
        "UPDATE cases SET postbox_id = $1, status = 'submitted', updated_at = $2, due_at = $3
         WHERE id = $4 AND status = 'unrouted' AND postbox_id IS NULL",
    )
    .bind(&f.postbox)
    .bind(now)
    .bind(c.submitted_at + days * DAY_MS)
    .bind(&c.id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(see_other(already));
    }
    search::index_name(
        &mut tx,
        &f.postbox,
        &c.id,
        c.submitted_at,
        &c.applicant_name,
    )
    .await?;
    crate::webhooks::enqueue(
        &mut tx,
        &f.postbox,
        crate::webhooks::Event::SubmissionReceived,
        serde_json::json!({ "case_reference": c.reference, "service_key": c.service_key }),
    )
    .await?;
    sqlx::query(
        "UPDATE admin_alerts SET resolved_at = $1
         WHERE kind = 'case_unrouted' AND subject_id = $2 AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(&c.id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.case.route",
        Subject::Case(&c.id),
        &format!("reference={}; postbox={label}", c.reference),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/verwaltung/admin/unzugeordnet?ok=routed"))
}
