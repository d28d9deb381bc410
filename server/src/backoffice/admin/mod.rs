//! Administration in the browser: authorities, postboxes, memberships, staff accounts,
//! responsibility rules (with a test lookup), services (import a version, retire one), unrouted
//! cases and the audit log (view, export). Every change is audited in the transaction that
//! makes it; administrators only, everyone else gets 404.

mod api_keys;
mod audit_log;
mod authorities;
mod fee_template;
mod members;
mod payee;
mod postboxes;
mod retention;
mod rules;
mod services;
mod staff;
mod unrouted;
mod webhooks;

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sqlx::Row;

use super::access::Admin;
use crate::db::Db;
use crate::domain::{is_plain_text, Email};
use crate::error::AppResult;
use crate::http::ctx::private_html;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    const A: &str = "/verwaltung/admin";
    Router::new()
        .route(A, get(overview))
        .route(&format!("{A}/behoerden"), get(authorities::list))
        .route(
            &format!("{A}/behoerden/neu"),
            get(authorities::new_page).post(authorities::create),
        )
        .route(&format!("{A}/behoerden/{{id}}"), get(authorities::detail))
        .route(
            &format!("{A}/behoerden/{{id}}/bearbeiten"),
            get(authorities::edit_page).post(authorities::update),
        )
        .route(
            &format!("{A}/behoerden/{{id}}/konto"),
            get(payee::edit_page).post(payee::update),
        )
        .route(
            &format!("{A}/behoerden/{{id}}/postfaecher/neu"),
            get(postboxes::new_page).post(postboxes::create),
        )
        .route(&format!("{A}/postfaecher/{{id}}"), get(postboxes::detail))
        .route(
            &format!("{A}/postfaecher/{{id}}/api-schluessel"),
            get(api_keys::list).post(api_keys::create),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/api-schluessel/{{key}}/widerrufen"),
            post(api_keys::revoke),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/bearbeiten"),
            get(postboxes::edit_page).post(postboxes::update),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/gebuehren"),
            get(fee_template::edit_page).post(fee_template::update),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/mitglieder"),
            post(members::add_member),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/mitglieder/{{user}}/rolle"),
            post(members::change_role),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/mitglieder/{{user}}/entfernen"),
            post(members::remove_member),
        )
        .route(&format!("{A}/mitarbeitende"), get(staff::list))
        .route(
            &format!("{A}/mitarbeitende/neu"),
            get(staff::new_page).post(staff::create),
        )
        .route(
            &format!("{A}/mitarbeitende/{{id}}/link"),
            post(staff::send_link),
        )
        .route(
            &format!("{A}/mitarbeitende/{{id}}/zwei-faktor-zuruecksetzen"),
            post(staff::reset_two_factor),
        )
        .route(
            &format!("{A}/zustaendigkeiten"),
            get(rules::list).post(rules::create),
        )
        .route(
            &format!("{A}/zustaendigkeiten/{{id}}/loeschen"),
            post(rules::delete),
        )
        .route(&format!("{A}/zustaendigkeiten/pruefen"), get(rules::lookup))
        .route(&format!("{A}/leistungen"), get(services::list))
        .route(
            &format!("{A}/leistungen/{{key}}/aufbewahrung"),
            get(retention::edit_page).post(retention::update),
        )
        .route(
            &format!("{A}/leistungen/{{key}}/{{version}}/stilllegen"),
            post(services::retire),
        )
        .route(&format!("{A}/unzugeordnet"), get(unrouted::list))
        .route(
            &format!("{A}/unzugeordnet/{{reference}}"),
            get(unrouted::page).post(unrouted::route),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/webhooks"),
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/webhooks/{{endpoint}}"),
            get(webhooks::deliveries),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/webhooks/{{endpoint}}/aktivieren"),
            post(webhooks::enable),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/webhooks/{{endpoint}}/deaktivieren"),
            post(webhooks::disable),
        )
        .route(
            &format!("{A}/postfaecher/{{id}}/webhooks/{{endpoint}}/loeschen"),
            post(webhooks::delete),
        )
        .route(&format!("{A}/protokoll"), get(audit_log::page))
        .route(&format!("{A}/protokoll.csv"), get(audit_log::export))
        .merge(
            Router::new()
                .route(
                    &format!("{A}/leistungen/import"),
                    get(services::import_page).post(services::import),
                )
                // Definitions are larger than ordinary forms, but still bounded.
                .layer(axum::extract::DefaultBodyLimit::max(services::MAX_UPLOAD)),
        )
}

async fn overview(State(state): State<AppState>, Admin { ctx, .. }: Admin) -> AppResult<Response> {
    let count = |sql: &'static str| {
        let pool = state.db.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await }
    };
    let o = admin::Overview {
        authorities: count("SELECT COUNT(*) FROM authorities").await?,
        staff: count("SELECT COUNT(*) FROM users WHERE role <> 'citizen'").await?,
        services: count("SELECT COUNT(*) FROM services WHERE current_version IS NOT NULL").await?,
        unrouted: count(
            "SELECT COUNT(*) FROM cases WHERE status = 'unrouted' AND postbox_id IS NULL",
        )
        .await?,
    };
    Ok(private_html(admin::overview(&ctx.page(), o)))
}

/// `?ok=` after a redirect, mapped to the message shown; unknown names show nothing.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct Done {
    ok: String,
}

impl Done {
    fn key(&self) -> Option<&'static str> {
        Some(match self.ok.as_str() {
            "saved" => "admin.done.saved",
            "member_added" => "admin.done.member_added",
            "member_changed" => "admin.done.member_changed",
            "member_removed" => "admin.done.member_removed",
            "staff_created" => "admin.done.staff_created",
            "link_sent" => "admin.done.link_sent",
            "mfa_reset" => "twofactor.admin.done_reset",
            "rule_added" => "admin.done.rule_added",
            "rule_deleted" => "admin.done.rule_deleted",
            "imported" => "admin.done.imported",
            "retired" => "admin.done.retired",
            "routed" => "admin.done.routed",
            "already_routed" => "admin.done.already_routed",
            _ => return None,
        })
    }
}

fn state_with(values: &[(&str, &str)]) -> FormState {
    FormState {
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        errors: Vec::new(),
    }
}

/// A form re-rendered with its problems.
fn invalid(body: String) -> Response {
    let mut resp = private_html(body);
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp.into_response()
}

/// A required single line of plain text (trimmed), or a recorded problem.
fn text_field(
    fs: &mut FormState,
    lang: Lang,
    field: &str,
    raw: &str,
    max: usize,
    required: bool,
) -> Option<String> {
    let v = raw.trim();
    if v.is_empty() && required {
        fs.add_error(lang, field, &format!("admin.v.{field}_empty"));
        None
    } else if !is_plain_text(v, max) {
        fs.add_error(lang, field, "admin.v.text");
        None
    } else {
        Some(v.to_string())
    }
}

fn email_field(fs: &mut FormState, lang: Lang, field: &str, raw: &str) -> Option<Email> {
    match Email::parse(raw) {
        Ok(e) => Some(e),
        Err(_) => {
            fs.add_error(lang, field, "admin.v.email");
            None
        }
    }
}

/// Every postbox as (id, "authority – postbox"), for choosing one.
async fn postbox_options(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT p.id, a.name, p.name FROM postboxes p JOIN authorities a ON a.id = p.authority_id
         ORDER BY a.name, p.name",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                format!(
                    "{} – {}",
                    r.try_get::<String, _>(1)?,
                    r.try_get::<String, _>(2)?
                ),
            ))
        })
        .collect()
}

/// Every service as (key, title in the page's language), including services without a
/// current version (rules may be prepared before a service goes live).
async fn service_options(db: &Db, lang: Lang) -> sqlx::Result<Vec<(String, String)>> {
    let rows =
        sqlx::query("SELECT service_key, title_de, title_en FROM services ORDER BY title_de")
            .fetch_all(&db.pool)
            .await?;
    rows.iter()
        .map(|r| {
            let key: String = r.try_get(0)?;
            let title: String = r.try_get(if lang == Lang::De { 1 } else { 2 })?;
            Ok((key.clone(), format!("{title} ({key})")))
        })
        .collect()
}

/// "Authority – postbox", above the heading of a postbox's pages; 404 for a postbox that does
/// not exist.
pub(super) async fn postbox_preline(state: &AppState, postbox: &str) -> AppResult<String> {
    let r = sqlx::query(
        "SELECT a.name, p.name FROM postboxes p JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
    )
    .bind(postbox)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(crate::error::AppError::NotFound)?;
    Ok(format!(
        "{} – {}",
        r.try_get::<String, _>(0)?,
        r.try_get::<String, _>(1)?
    ))
}

pub(super) fn session_err(e: tower_sessions::session::Error) -> crate::error::AppError {
    crate::error::AppError::Session(e)
}
