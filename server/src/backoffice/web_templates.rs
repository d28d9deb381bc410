//! Reply templates of a postbox: every member uses them, leads maintain them.

use amtsweg_app::i18n::t;
use amtsweg_app::pages::backoffice::{self as pages, TemplateRow};
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::access::{member_of, MemberRole, Membership, Staff};
use super::audit::{self, Subject};
use crate::db::is_unique_violation;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;
use crate::time::now_ms;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Params {
    ok: String,
}

async fn render(
    state: &AppState,
    staff: &Staff,
    m: &Membership,
    form: FormState,
    notice: Option<String>,
) -> AppResult<String> {
    let rows = sqlx::query(
        "SELECT id, title, body FROM reply_templates WHERE postbox_id = $1 ORDER BY title",
    )
    .bind(&m.postbox_id)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(TemplateRow {
            id: r.try_get(0)?,
            title: r.try_get(1)?,
            body: r.try_get(2)?,
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(pages::templates(
        &staff.ctx.page(),
        pages::TemplatesView {
            postbox_id: m.postbox_id.clone(),
            postbox_name: m.postbox_name.clone(),
            can_edit: m.role == MemberRole::Lead,
            rows,
            form,
            notice,
        },
    ))
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(postbox): Path<String>,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let m = member_of(&state.db, &staff.user.id, &postbox).await?;
    let notice = matches!(p.ok.as_str(), "saved" | "deleted")
        .then(|| t(staff.ctx.lang, &format!("bo.templates.ok_{}", p.ok)).to_string());
    Ok(private_html(
        render(&state, &staff, &m, FormState::default(), notice).await?,
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    title: String,
    body: String,
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(postbox): Path<String>,
    Form(f): Form<TemplateForm>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let m = member_of(&state.db, &staff.user.id, &postbox).await?;
    if m.role != MemberRole::Lead {
        return Err(AppError::NotFound);
    }
    let mut form = FormState::default();
    form.values.insert("title".into(), f.title.clone());
    form.values.insert("body".into(), f.body.clone());
    let title = f.title.trim();
    if title.is_empty() || !crate::domain::is_plain_text(title, 120) {
        form.add_error(lang, "title", "bo.templates.err_title");
    }
    if f.body.trim().is_empty() || f.body.chars().count() > 20_000 {
        form.add_error(lang, "body", "bo.templates.err_body");
    }
    if form.is_valid() {
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = state.db.begin_write().await?;
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO reply_templates (id, postbox_id, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&postbox)
        .bind(title)
        .bind(f.body.trim())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {
                audit::record(
                    &mut tx,
                    &staff.user,
                    &staff.ip,
                    "template.create",
                    Subject::Template(&id),
                    title,
                )
                .await?;
                tx.commit().await?;
                return Ok(see_other(&format!(
                    "/verwaltung/postfach/{postbox}/vorlagen?ok=saved"
                )));
            }
            Err(e) if is_unique_violation(&e) => {
                form.add_error(lang, "title", "bo.templates.err_exists")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut resp = private_html(render(&state, &staff, &m, form, None).await?);
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path((postbox, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let m = member_of(&state.db, &staff.user.id, &postbox).await?;
    if m.role != MemberRole::Lead {
        return Err(AppError::NotFound);
    }
    let mut tx = state.db.begin_write().await?;
    let gone = sqlx::query("DELETE FROM reply_templates WHERE id = $1 AND postbox_id = $2")
        .bind(&id)
        .bind(&postbox)
        .execute(&mut *tx)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &staff.user,
        &staff.ip,
        "template.delete",
        Subject::Template(&id),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/postfach/{postbox}/vorlagen?ok=deleted"
    )))
}
