//! Postboxes of an authority: create, edit, and the page that lists their members.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::{email_field, invalid, state_with, text_field, Done};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::db::is_unique_violation;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::now_ms;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PostboxForm {
    name: String,
    email: String,
    processing_days: String,
}

fn entered(f: &PostboxForm) -> FormState {
    state_with(&[
        ("name", &f.name),
        ("email", &f.email),
        ("processing_days", &f.processing_days),
    ])
}

fn validate(f: &PostboxForm, lang: Lang) -> Result<(String, String, i64), FormState> {
    let mut fs = entered(f);
    let name = text_field(&mut fs, lang, "name", &f.name, 200, true);
    let email = email_field(&mut fs, lang, "email", &f.email);
    let days = f
        .processing_days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=365).contains(d));
    if days.is_none() {
        fs.add_error(lang, "processing_days", "admin.v.processing_days");
    }
    match (name, email, days) {
        (Some(n), Some(e), Some(d)) => Ok((n, e.as_str().to_string(), d)),
        _ => Err(fs),
    }
}

async fn authority_name(state: &AppState, id: &str) -> AppResult<String> {
    sqlx::query_scalar("SELECT name FROM authorities WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)
}

fn render_form(ctx: &Ctx, fs: &FormState, authority: &str, action: &str, back: &str) -> String {
    admin::postbox_form(
        &ctx.page(),
        fs,
        authority,
        action,
        back,
        action.ends_with("/bearbeiten"),
    )
}

pub async fn new_page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(authority): Path<String>,
) -> AppResult<Response> {
    let name = authority_name(&state, &authority).await?;
    let fs = state_with(&[("processing_days", "30")]);
    Ok(private_html(render_form(
        &ctx,
        &fs,
        &name,
        &format!("/verwaltung/admin/behoerden/{authority}/postfaecher/neu"),
        &format!("/verwaltung/admin/behoerden/{authority}"),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(authority): Path<String>,
    Form(f): Form<PostboxForm>,
) -> AppResult<Response> {
    let authority_label = authority_name(&state, &authority).await?;
    let action = format!("/verwaltung/admin/behoerden/{authority}/postfaecher/neu");
    let back = format!("/verwaltung/admin/behoerden/{authority}");
    let (name, email, days) = match validate(&f, ctx.lang) {
        Ok(v) => v,
        Err(fs) => {
            return Ok(invalid(render_form(
                &ctx,
                &fs,
                &authority_label,
                &action,
                &back,
            )))
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO postboxes (id, authority_id, name, email, processing_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&authority)
    .bind(&name)
    .bind(&email)
    .bind(days)
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let mut fs = entered(&f);
            fs.add_error(ctx.lang, "name", "admin.v.postbox_exists");
            return Ok(invalid(render_form(
                &ctx,
                &fs,
                &authority_label,
                &action,
                &back,
            )));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.postbox.create",
        Subject::Postbox(&id),
        &format!("authority={authority}; name={name}; email={email}; processing_days={days}"),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/postfaecher/{id}?ok=saved"
    )))
}

pub(super) struct Stored {
    authority_id: String,
    authority_name: String,
    form: PostboxForm,
}

pub(super) async fn load(state: &AppState, id: &str) -> AppResult<Stored> {
    let r = sqlx::query(
        "SELECT p.authority_id, a.name, p.name, p.email, p.processing_days
         FROM postboxes p JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Stored {
        authority_id: r.try_get(0)?,
        authority_name: r.try_get(1)?,
        form: PostboxForm {
            name: r.try_get(2)?,
            email: r.try_get(3)?,
            processing_days: r.try_get::<i64, _>(4)?.to_string(),
        },
    })
}

pub async fn edit_page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    Ok(private_html(render_form(
        &ctx,
        &entered(&p.form),
        &p.authority_name,
        &format!("/verwaltung/admin/postfaecher/{id}/bearbeiten"),
        &format!("/verwaltung/admin/postfaecher/{id}"),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(id): Path<String>,
    Form(f): Form<PostboxForm>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    let action = format!("/verwaltung/admin/postfaecher/{id}/bearbeiten");
    let back = format!("/verwaltung/admin/postfaecher/{id}");
    let (name, email, days) = match validate(&f, ctx.lang) {
        Ok(v) => v,
        Err(fs) => {
            return Ok(invalid(render_form(
                &ctx,
                &fs,
                &p.authority_name,
                &action,
                &back,
            )))
        }
    };
    let mut tx = state.db.begin_write().await?;
    let res = sqlx::query(
        "UPDATE postboxes SET name = $1, email = $2, processing_days = $3 WHERE id = $4",
    )
    .bind(&name)
    .bind(&email)
    .bind(days)
    .bind(&id)
    .execute(&mut *tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let mut fs = entered(&f);
            fs.add_error(ctx.lang, "name", "admin.v.postbox_exists");
            return Ok(invalid(render_form(
                &ctx,
                &fs,
                &p.authority_name,
                &action,
                &back,
            )));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.postbox.update",
        Subject::Postbox(&id),
        &format!("name={name}; email={email}; processing_days={days}"),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!("{back}?ok=saved")))
}

/// The postbox page; `add` carries the add-member form when it is re-rendered with problems.
pub(super) async fn render_detail(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    add: &FormState,
    notice: Option<&'static str>,
) -> AppResult<String> {
    let p = load(state, id).await?;
    let members = sqlx::query(
        "SELECT m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.postbox_id = $1 ORDER BY u.email",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(admin::MemberRow {
            user_id: r.try_get(0)?,
            email: r.try_get(1)?,
            role: r.try_get(2)?,
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let candidates = sqlx::query(
        "SELECT u.id, u.email FROM users u WHERE u.role IN ('caseworker', 'admin')
           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.postbox_id = $1 AND m.user_id = u.id)
         ORDER BY u.email",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<sqlx::Result<Vec<_>>>()?;
    let d = admin::PostboxDetail {
        id: id.to_string(),
        days: p.form.processing_days.parse().unwrap_or(30),
        name: p.form.name,
        email: p.form.email,
        authority_id: p.authority_id,
        authority_name: p.authority_name,
        members,
        candidates,
        fee_template: super::fee_template::summary(state, id).await?,
    };
    Ok(admin::postbox(&ctx.page(), d, add, notice))
}

pub async fn detail(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let body = render_detail(&state, &ctx, &id, &FormState::default(), done.key()).await?;
    Ok(private_html(body))
}
