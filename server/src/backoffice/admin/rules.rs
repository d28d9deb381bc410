//! Responsibility rules: list (by service), add, delete, and a test lookup that answers exactly
//! as the portal will for a citizen's address.

use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::{invalid, postbox_options, service_options, state_with, Done};
use crate::accounts::postal;
use crate::applications::routing::{self, AreaKind};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::db::is_unique_violation;
use crate::domain::{Ags, PostalCode};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::now_ms;

/// More rules than this are not shown at once; filtering by service narrows the list.
const SHOWN: i64 = 500;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    leistung: String,
    ok: String,
}

async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    filter: &str,
    add: FormState,
    notice: Option<&'static str>,
) -> AppResult<String> {
    let title = crate::applications::catalog::title_column(ctx.lang);
    let rows = sqlx::query(&format!(
        "SELECT r.id, {title}, r.area_kind, r.area_code, a.name, p.name
         FROM responsibility_rules r
         JOIN services s ON s.service_key = r.service_key
         JOIN postboxes p ON p.id = r.postbox_id JOIN authorities a ON a.id = p.authority_id
         WHERE ($1 = '' OR r.service_key = $1)
         ORDER BY {title}, CASE r.area_kind WHEN 'postal_code' THEN 0 WHEN 'municipality' THEN 1
                                  WHEN 'county' THEN 2 ELSE 3 END, r.area_code
         LIMIT $2"
    ))
    .bind(filter)
    .bind(SHOWN + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let mut rules = rows
        .iter()
        .map(|r| {
            Ok(admin::RuleRow {
                id: r.try_get(0)?,
                service: r.try_get(1)?,
                kind: r.try_get(2)?,
                code: r.try_get(3)?,
                postbox: format!(
                    "{} – {}",
                    r.try_get::<String, _>(4)?,
                    r.try_get::<String, _>(5)?
                ),
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let truncated = rules.len() > SHOWN as usize;
    rules.truncate(SHOWN as usize);
    let v = admin::RulesView {
        services: service_options(&state.db, ctx.lang).await?,
        filter: filter.to_string(),
        rules,
        truncated,
        postboxes: postbox_options(&state.db).await?,
        add,
        notice,
    };
    Ok(admin::rules(&ctx.page(), v))
}

pub async fn list(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let notice = Done { ok: q.ok.clone() }.key();
    let add = state_with(&[("service", &q.leistung)]);
    let body = render_list(&state, &ctx, q.leistung.trim(), add, notice).await?;
    Ok(private_html(body))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RuleForm {
    service: String,
    area_kind: String,
    area_code: String,
    postbox: String,
}

pub async fn create(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Form(f): Form<RuleForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let code = f.area_code.trim().to_string();
    let mut fs = state_with(&[
        ("service", &f.service),
        ("area_kind", &f.area_kind),
        ("area_code", &code),
        ("postbox", &f.postbox),
    ]);
    let services = service_options(&state.db, lang).await?;
    if !services.iter().any(|(k, _)| *k == f.service) {
        fs.add_error(lang, "service", "admin.v.service");
    }
    let kind = AreaKind::parse(&f.area_kind);
    match kind {
        None => fs.add_error(lang, "area_kind", "admin.v.area_kind"),
        Some(k) if !k.accepts(&code) => fs.add_error(
            lang,
            "area_code",
            &format!("admin.v.area_code.{}", k.as_str()),
        ),
        Some(_) => {}
    }
    let postboxes = postbox_options(&state.db).await?;
    let postbox = postboxes.iter().find(|(id, _)| *id == f.postbox);
    if postbox.is_none() {
        fs.add_error(lang, "postbox", "admin.v.postbox");
    }
    let (Some(kind), Some((postbox_id, postbox_label)), true) = (kind, postbox, fs.is_valid())
    else {
        return Ok(invalid(render_list(&state, &ctx, "", fs, None).await?));
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.begin_write().await?;
    let res = sqlx::query(
        "INSERT INTO responsibility_rules (id, service_key, area_kind, area_code, postbox_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&f.service)
    .bind(kind.as_str())
    .bind(&code)
    .bind(postbox_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            fs.add_error(lang, "area_code", "admin.v.rule_exists");
            return Ok(invalid(render_list(&state, &ctx, "", fs, None).await?));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.rule.create",
        Subject::Rule(&id),
        &format!(
            "service={}; area={} {code}; postbox={postbox_label}",
            f.service,
            kind.as_str()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/zustaendigkeiten?leistung={}&ok=rule_added",
        f.service
    )))
}

pub async fn delete(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(
        "SELECT service_key, area_kind, area_code, postbox_id FROM responsibility_rules WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let (service, kind, code, postbox): (String, String, String, String) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    sqlx::query("DELETE FROM responsibility_rules WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.rule.delete",
        Subject::Rule(&id),
        &format!("service={service}; area={kind} {code}; postbox={postbox}"),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/zustaendigkeiten?leistung={service}&ok=rule_deleted"
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LookupQuery {
    leistung: String,
    plz: String,
    ags: String,
}

/// "Who handles service X for postal code Y?" A postal code that covers several
/// municipalities asks for the municipality first, as the citizen's page does.
pub async fn lookup(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Query(q): Query<LookupQuery>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let services = service_options(&state.db, lang).await?;
    let mut fs = state_with(&[("leistung", &q.leistung), ("plz", &q.plz), ("ags", &q.ags)]);
    let mut view = admin::LookupView {
        services: services.clone(),
        state: FormState::default(),
        municipalities: Vec::new(),
        result: None,
    };
    if q.leistung.is_empty() && q.plz.is_empty() {
        view.state = fs;
        return Ok(private_html(admin::lookup(&ctx.page(), view)));
    }
    if !services.iter().any(|(k, _)| *k == q.leistung) {
        fs.add_error(lang, "leistung", "admin.v.service");
    }
    let pc = PostalCode::parse(&q.plz);
    let list = match &pc {
        Some(pc) => postal::lookup(&state.db, pc.as_str()).await?,
        None => {
            fs.add_error(lang, "plz", "admin.v.postal_code");
            Vec::new()
        }
    };
    if pc.is_some() && list.is_empty() {
        fs.add_error(lang, "plz", "admin.v.postal_code_unknown");
    }
    let chosen = match list.as_slice() {
        [one] => Some(one.ags.clone()),
        several => several
            .iter()
            .find(|m| m.ags == q.ags)
            .map(|m| m.ags.clone()),
    };
    if list.len() > 1 {
        view.municipalities = list
            .iter()
            .map(|m| {
                let county = if m.county.is_empty() {
                    &m.place
                } else {
                    &m.county
                };
                (
                    m.ags.clone(),
                    format!("{} ({}, {})", m.place, county, m.ags),
                )
            })
            .collect();
        if chosen.is_none() && !q.ags.is_empty() {
            fs.add_error(lang, "ags", "admin.v.municipality");
        }
    }
    let ags = chosen.as_deref().and_then(Ags::parse);
    if let (Some(pc), Some(ags), true) = (&pc, &ags, fs.is_valid()) {
        view.result = Some(
            match routing::lookup(&state.db, &q.leistung, ags, Some(pc)).await? {
                Some(r) => admin::LookupResult::Found {
                    authority: r.authority_name,
                    postbox: r.postbox_name,
                    matched: r.matched.as_str().to_string(),
                    delegated: r.delegated,
                },
                None => admin::LookupResult::Nobody,
            },
        );
    }
    let problems = !fs.is_valid();
    view.state = fs;
    let body = admin::lookup(&ctx.page(), view);
    Ok(if problems {
        invalid(body)
    } else {
        private_html(body)
    })
}
