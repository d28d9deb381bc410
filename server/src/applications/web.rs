//! Catalogue, service pages, starting an application, the citizen's list and the printable
//! summary.

use amtsweg_app::i18n::{t, Lang};
use amtsweg_app::pages::apply::{
    self, Card, CaseRow, CatalogueView, DraftRow, Responsibility, ServiceView,
};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde_json::Value;
use sqlx::Row;

use super::answers::{Answers, PREFILLED};
use super::definition::LIFE_SITUATIONS;
use super::{catalog, routing, views};
use crate::accounts::postal;
use crate::domain::{Ags, PostalCode};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other, Authed};
use crate::http::{html, Ctx};
use crate::state::AppState;
use crate::time::{format_ms, now_ms};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CatalogueQuery {
    q: String,
    lage: String,
}

pub async fn catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CatalogueQuery>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let query: String = q.q.chars().take(100).collect();
    let situation = LIFE_SITUATIONS.iter().find(|s| **s == q.lage).copied();
    let published = state
        .catalogue
        .get_or_load(|| catalog::published(&state.db))
        .await?;
    let results = catalog::search(&published, &query, situation);
    let view = CatalogueView {
        query,
        situation: situation.unwrap_or("").to_string(),
        situations: LIFE_SITUATIONS
            .iter()
            .map(|s| {
                (
                    s.to_string(),
                    t(lang, &format!("apply.situation.{s}")).to_string(),
                )
            })
            .collect(),
        results: results
            .into_iter()
            .map(|l| Card {
                key: l.key,
                title: if lang == Lang::De {
                    l.title_de
                } else {
                    l.title_en
                },
                summary: if lang == Lang::De {
                    l.summary_de
                } else {
                    l.summary_en
                },
            })
            .collect(),
    };
    Ok(html(apply::catalogue(&ctx.page(), view)))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CheckQuery {
    plz: String,
    ags: String,
}

async fn profile_postal_code(
    state: &AppState,
    user_id: &str,
) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT postal_code, ags FROM profiles WHERE user_id = $1 AND postal_code <> ''",
    )
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

pub async fn service(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Query(q): Query<CheckQuery>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let def = catalog::current(&state.db, &key)
        .await?
        .ok_or(AppError::NotFound)?;
    // Anonymous visitors get a login link, not a form: no session is created for them, so a
    // crowd reading the catalogue costs no database writes.
    // Without a postal code in the query, the profile's address is checked right away.
    let profile = match &ctx.user {
        Some(u) => profile_postal_code(&state, &u.id).await?,
        None => None,
    };
    let (plz_raw, ags_raw) = if q.plz.is_empty() {
        profile.clone().unwrap_or_default()
    } else {
        (q.plz.clone(), q.ags.clone())
    };
    let responsibility = if plz_raw.trim().is_empty() {
        Responsibility::NotChecked
    } else {
        match PostalCode::parse(&plz_raw) {
            None => Responsibility::InvalidPostalCode,
            Some(pc) => {
                let list = postal::lookup(&state.db, pc.as_str()).await?;
                let chosen = match list.as_slice() {
                    [] => None,
                    [one] => Some(one.ags.clone()),
                    several => several
                        .iter()
                        .find(|m| m.ags == ags_raw)
                        .map(|m| m.ags.clone()),
                };
                match (list.len(), chosen.as_deref().and_then(Ags::parse)) {
                    (0, _) => Responsibility::UnknownPostalCode,
                    (_, None) => Responsibility::ChooseMunicipality(
                        list.iter()
                            .map(|m| {
                                (
                                    m.ags.clone(),
                                    format!(
                                        "{} ({})",
                                        m.place,
                                        if m.county.is_empty() {
                                            &m.place
                                        } else {
                                            &m.county
                                        }
                                    ),
                                )
                            })
                            .collect(),
                    ),
                    (_, Some(ags)) => {
                        match routing::lookup(&state.db, &key, &ags, Some(&pc)).await? {
                            Some(r) => Responsibility::Found {
                                authority: r.authority_name,
                                postbox: r.postbox_name,
                                delegated: r.delegated,
                            },
                            None => Responsibility::NoneResponsible,
                        }
                    }
                }
            }
        }
    };
    let details = vec![
        (
            t(lang, "apply.service.who").to_string(),
            def.who_may_apply.get(lang).to_string(),
        ),
        (
            t(lang, "apply.service.evidence").to_string(),
            def.evidence.get(lang).to_string(),
        ),
        (
            t(lang, "apply.service.fee").to_string(),
            def.fee.get(lang).to_string(),
        ),
        (
            t(lang, "apply.service.time").to_string(),
            def.processing_time.get(lang).to_string(),
        ),
        (
            t(lang, "apply.service.legal").to_string(),
            def.legal_basis.get(lang).to_string(),
        ),
    ];
    let view = ServiceView {
        key: key.clone(),
        title: def.title.get(lang).to_string(),
        summary: def.summary.get(lang).to_string(),
        details,
        postal_code: plz_raw,
        responsibility,
        logged_in: ctx.user.is_some(),
        has_profile: profile.is_some(),
    };
    Ok(html(apply::service(&ctx.page(), view)))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StartForm {
    prefill: String,
}

/// Creates a draft, prefilled from the profile when the citizen agreed.
pub async fn start(
    State(state): State<AppState>,
    Authed(_, user): Authed,
    Path(key): Path<String>,
    Form(f): Form<StartForm>,
) -> AppResult<Response> {
    let def = catalog::current(&state.db, &key)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut answers = Answers::new();
    if f.prefill == "yes" {
        let row = sqlx::query(
            "SELECT given_name, family_name, birth_date, street, house_number, postal_code, place, phone
             FROM profiles WHERE user_id = $1",
        )
        .bind(&user.id)
        .fetch_optional(&state.db.pool)
        .await?;
        let mut used = Vec::new();
        if let Some(r) = row {
            let get = |i: usize| r.try_get::<String, _>(i).unwrap_or_default();
            let source = |name: &str| -> String {
                match name {
                    "given_name" => get(0),
                    "family_name" => get(1),
                    "birth_date" => get(2),
                    "street" => get(3),
                    "house_number" => get(4),
                    "postal_code" => get(5),
                    "place" => get(6),
                    "phone" => get(7),
                    "email" => user.email.clone(),
                    _ => String::new(),
                }
            };
            for (_, field) in def.fields() {
                let Some(src) = &field.profile else { continue };
                let value = source(src);
                if value.is_empty() {
                    continue;
                }
                let id = field.id.get_ref().clone();
                if src == "birth_date" {
                    let mut parts = value.splitn(3, '-');
                    let (y, m, d) = (
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                    );
                    answers.insert(
                        format!("{id}.day"),
                        Value::String(d.trim_start_matches('0').to_string()),
                    );
                    answers.insert(
                        format!("{id}.month"),
                        Value::String(m.trim_start_matches('0').to_string()),
                    );
                    answers.insert(format!("{id}.year"), Value::String(y.to_string()));
                } else {
                    answers.insert(id.clone(), Value::String(value));
                }
                used.push(Value::String(id));
            }
        }
        answers.insert(PREFILLED.into(), Value::Array(used));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    // The draft's data key, inherited by the case: answers, evidence and messages of one
    // application are encrypted under one key.
    let mut tx = state.db.begin_write().await?;
    let data_key = state.db.vault.create(&mut tx).await?;
    let plain = serde_json::to_string(&answers).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query(
        "INSERT INTO drafts (id, user_id, service_key, version, answers, created_at, updated_at, data_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&id)
    .bind(&user.id)
    .bind(&key)
    .bind(i64::from(def.version))
    .bind(state.db.vault.seal(&data_key, &plain))
    .bind(now)
    .bind(&data_key.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let first = def.pages[0].id.get_ref();
    Ok(see_other(&format!("/antraege/{id}/{first}")))
}

pub async fn mine(State(state): State<AppState>, Authed(ctx, user): Authed) -> AppResult<Response> {
    let lang = ctx.lang;
    let title_col = catalog::title_column(lang);
    let drafts = sqlx::query(&format!(
        "SELECT d.id, {title_col}, d.updated_at, d.service_key, d.version FROM drafts d
         JOIN services s ON s.service_key = d.service_key WHERE d.user_id = $1 ORDER BY d.updated_at DESC LIMIT 100"
    ))
    .bind(&user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let cases = sqlx::query(&format!(
        "SELECT c.reference, {title_col}, c.status, c.submitted_at, c.state FROM cases c
         JOIN services s ON s.service_key = c.service_key WHERE c.user_id = $1 ORDER BY c.submitted_at DESC LIMIT 100"
    ))
    .bind(&user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut draft_rows = Vec::new();
    for r in &drafts {
        let (id, key, version): (String, String, i64) =
            (r.try_get(0)?, r.try_get(3)?, r.try_get(4)?);
        let first = catalog::definition(&state.db, &key, version)
            .await?
            .map(|d| d.pages[0].id.get_ref().clone())
            .unwrap_or_default();
        draft_rows.push(DraftRow {
            continue_href: format!("/antraege/{id}/{first}"),
            id,
            title: r.try_get(1)?,
            updated: format_ms(r.try_get(2)?),
        });
    }
    let case_rows = cases
        .iter()
        .map(|r| {
            let status: String = r.try_get(2)?;
            let state: String = r.try_get(4)?;
            // Until an authority works on it, the case is simply "submitted".
            let label = if status == "unrouted" || state == "received" {
                t(lang, &format!("apply.status.{status}")).to_string()
            } else {
                t(lang, &format!("case.state.{state}")).to_string()
            };
            Ok(CaseRow {
                reference: r.try_get(0)?,
                title: r.try_get(1)?,
                status: label,
                submitted: format_ms(r.try_get(3)?),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(private_html(apply::my_applications(
        &ctx.page(),
        draft_rows,
        case_rows,
    )))
}

pub async fn delete_draft(
    State(state): State<AppState>,
    Authed(_, user): Authed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = sqlx::query("DELETE FROM drafts WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&user.id)
        .execute(state.db.writer())
        .await?;
    state.db.forget_draft(&id);
    if r.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/konto/antraege"))
}

/// A printable copy of what was submitted, for the citizen's records.
pub async fn summary(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let row = sqlx::query(
        "SELECT service_key, version, answers, submitted_at, user_id FROM cases WHERE reference = $1",
    )
    .bind(&reference)
    .fetch_optional(&state.db.pool)
    .await?;
    let row = crate::db::owned(row, &user.id)?.ok_or(AppError::NotFound)?;
    let (key, version, raw, at): (String, i64, String, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    let raw = state.db.vault.open(&state.db.pool, raw).await?;
    let def = catalog::definition(&state.db, &key, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let structured: serde_json::Map<String, Value> =
        serde_json::from_str(&raw).map_err(|e| AppError::Internal(e.into()))?;
    let sections = views::submitted_sections(&def, &structured, lang);
    Ok(private_html(apply::summary(
        &ctx.page(),
        &reference,
        def.title.get(lang),
        &format_ms(at),
        sections,
    )))
}
