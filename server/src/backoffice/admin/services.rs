//! Services and their form-definition versions: import a version (the same code as
//! `amtsweg service import`), retire one.

use amtsweg_app::components::FieldError;
use amtsweg_app::i18n::{t, tf, Lang};
use amtsweg_app::pages::admin;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sqlx::Row;

use super::{invalid, Done};
use crate::applications::catalog::{self, ImportError, Retired};
use crate::applications::definition;
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::format_ms;

/// Largest request the import accepts (file or pasted text); definitions are a few KiB.
pub const MAX_UPLOAD: usize = 1024 * 1024;

pub async fn list(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let services = sqlx::query(
        "SELECT service_key, title_de, title_en, current_version, case_retention_days FROM services ORDER BY title_de",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let versions = sqlx::query(
        "SELECT service_key, version, imported_at, retired_at FROM service_definitions
         ORDER BY service_key, version DESC",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut rows = Vec::new();
    for s in &services {
        let key: String = s.try_get(0)?;
        let current: Option<i64> = s.try_get(3)?;
        let mut list = Vec::new();
        for v in versions
            .iter()
            .filter(|v| v.try_get::<String, _>(0).is_ok_and(|k| k == key))
        {
            let version: i64 = v.try_get(1)?;
            list.push(admin::VersionRow {
                version,
                imported: format_ms(v.try_get(2)?),
                retired: v.try_get::<Option<i64>, _>(3)?.map(format_ms),
                current: current == Some(version),
            });
        }
        rows.push(admin::ServiceRow {
            title: s.try_get(if ctx.lang == Lang::De { 1 } else { 2 })?,
            key,
            versions: list,
            retention_days: s.try_get(4)?,
        });
    }
    Ok(private_html(admin::services(
        &ctx.page(),
        rows,
        state.config.case_retention_days,
        done.key(),
    )))
}

/// The form posts as multipart (for the file), so its token travels in the query string.
fn import_action(ctx: &Ctx) -> String {
    let token: String =
        form_urlencoded::byte_serialize(ctx.csrf.as_deref().unwrap_or("").as_bytes()).collect();
    format!("/verwaltung/admin/leistungen/import?_csrf={token}")
}

pub async fn import_page(Admin { ctx, .. }: Admin) -> Response {
    private_html(admin::import(
        &ctx.page(),
        &import_action(&ctx),
        "",
        Vec::new(),
        Vec::new(),
    ))
}

/// The problem, attached to the text area so the summary links there.
fn error(message: String) -> Vec<FieldError> {
    vec![FieldError {
        field_id: "definition".into(),
        message,
    }]
}

/// Reads the uploaded file, or else the pasted text. `Err` carries the translated problem.
async fn read_definition(lang: Lang, mut form: Multipart) -> AppResult<Result<String, String>> {
    let mut file = String::new();
    let mut pasted = String::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge)
            }
            Err(_) => return Ok(Err(t(lang, "admin.v.import_read").to_string())),
        };
        let name = field.name().unwrap_or("").to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge)
            }
            Err(_) => return Ok(Err(t(lang, "admin.v.import_read").to_string())),
        };
        let Ok(text) = String::from_utf8(bytes.to_vec()) else {
            return Ok(Err(t(lang, "admin.v.import_utf8").to_string()));
        };
        match name.as_str() {
            "file" => file = text,
            "definition" => pasted = text,
            _ => {}
        }
    }
    // A chosen file wins over the text area; browsers send an empty part when none was chosen.
    let text = if file.trim().is_empty() { pasted } else { file };
    Ok(Ok(text.replace("\r\n", "\n")))
}

pub async fn import(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    form: Multipart,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let action = import_action(&ctx);
    let text = match read_definition(lang, form).await? {
        Ok(text) => text,
        Err(message) => {
            return Ok(invalid(admin::import(
                &ctx.page(),
                &action,
                "",
                Vec::new(),
                error(message),
            )))
        }
    };
    if text.trim().is_empty() {
        let e = error(t(lang, "admin.v.import_empty").to_string());
        return Ok(invalid(admin::import(
            &ctx.page(),
            &action,
            &text,
            Vec::new(),
            e,
        )));
    }
    let def = match definition::parse(&text) {
        Ok(d) => d,
        Err(problems) => {
            let e = error(tf(
                lang,
                "admin.v.import_invalid",
                &[("count", &problems.len().to_string())],
            ));
            return Ok(invalid(admin::import(
                &ctx.page(),
                &action,
                &text,
                problems,
                e,
            )));
        }
    };
    let mut tx = state.db.begin_write().await?;
    match catalog::import_parsed(&mut tx, &text, &def).await {
        Ok(()) => {}
        Err(ImportError::VersionExists { key, version }) => {
            drop(tx);
            let e = error(tf(
                lang,
                "admin.v.import_exists",
                &[("key", &key), ("version", &version.to_string())],
            ));
            return Ok(invalid(admin::import(
                &ctx.page(),
                &action,
                &text,
                Vec::new(),
                e,
            )));
        }
        Err(ImportError::Invalid(problems)) => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "parsed definition refused: {}",
                problems.join("; ")
            )))
        }
        Err(ImportError::Database(e)) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.service.import",
        Subject::Service(&def.service_key),
        &format!("version={}", def.version),
    )
    .await?;
    tx.commit().await?;
    state.services_changed();
    Ok(see_other("/verwaltung/admin/leistungen?ok=imported"))
}

pub async fn retire(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path((key, version)): Path<(String, i64)>,
) -> AppResult<Response> {
    let mut tx = state.db.begin_write().await?;
    let Retired::Done { current } = catalog::retire(&mut tx, &key, version).await? else {
        return Err(AppError::NotFound);
    };
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.service.retire",
        Subject::Service(&key),
        &format!(
            "version={version}; now_offered={}",
            current.map_or_else(|| "none".to_string(), |v| v.to_string())
        ),
    )
    .await?;
    tx.commit().await?;
    state.services_changed();
    tracing::info!(service = %key, version, "service version retired");
    Ok(see_other("/verwaltung/admin/leistungen?ok=retired"))
}
