//! The submitted application as a PDF letter for the citizen's records: the answers with the
//! labels of the form version they were given in, the reference number and the authority.

use amtsweg_app::i18n::{t, tf, Lang};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use super::{catalog, views};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::ctx::Authed;
use crate::payments::pdf::{self, Letter, SummaryPdf, SummarySection};
use crate::state::AppState;
use crate::time::format_ms;

pub async fn pdf(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    let row = sqlx::query("SELECT id, user_id FROM cases WHERE reference = $1")
        .bind(&reference)
        .fetch_optional(&state.db.pool)
        .await?;
    let row = crate::db::owned(row, &user.id)?.ok_or(AppError::NotFound)?;
    let case_id: String = sqlx::Row::try_get(&row, 0)?;
    let bytes = render(&state.db, &case_id, ctx.lang).await?;
    let mut resp = Body::from(bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"Antrag-{}.pdf\"",
        reference.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The summary of a case, whoever may see it: the caller has checked access. The e-file export
/// puts the same document into its package that the citizen downloads.
pub async fn render(db: &Db, case_id: &str, lang: Lang) -> AppResult<Vec<u8>> {
    let row = sqlx::query(
        "SELECT c.service_key, c.version, c.answers, c.submitted_at, a.name, a.street, a.postal_code, a.city,
                p.given_name, p.family_name, p.street, p.house_number, p.postal_code, p.place, c.reference
         FROM cases c LEFT JOIN postboxes b ON b.id = c.postbox_id LEFT JOIN authorities a ON a.id = b.authority_id
         LEFT JOIN profiles p ON p.user_id = c.user_id
         WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let reference: String = row.try_get(14)?;
    let g = |i: usize| -> String {
        row.try_get::<Option<String>, _>(i)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let (key, version, raw, at): (String, i64, String, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    let raw = db.vault.open(&db.pool, raw).await?;
    let def = catalog::definition(db, &key, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let structured: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&raw).map_err(|e| AppError::Internal(e.into()))?;
    let sender: Vec<String> = if g(4).is_empty() {
        vec![t(lang, "site.name").to_string()]
    } else {
        vec![g(4), g(5), format!("{} {}", g(6), g(7))]
    };
    let recipient: Vec<String> = [
        format!("{} {}", g(8), g(9)),
        format!("{} {}", g(10), g(11)),
        format!("{} {}", g(12), g(13)),
    ]
    .into_iter()
    .map(|l| l.trim().to_string())
    .filter(|l| !l.is_empty())
    .collect();
    let submitted = format_ms(at);
    let title = def.title.get(lang).to_string();
    let doc = SummaryPdf {
        letter: Letter {
            footer: sender.first().cloned().unwrap_or_default(),
            sender,
            recipient,
            meta: vec![
                (t(lang, "pb.app.reference").to_string(), reference.clone()),
                (t(lang, "pb.app.submitted").to_string(), submitted.clone()),
            ],
            title: tf(lang, "apply.pdf.title", &[("service", &title)]),
        },
        intro: tf(lang, "apply.pdf.intro", &[("date", &submitted)]),
        sections: views::submitted_sections(&def, &structured, lang)
            .into_iter()
            .map(|s| SummarySection {
                title: s.title,
                rows: s.rows,
            })
            .collect(),
        closing: t(lang, "apply.pdf.closing").to_string(),
    };
    tokio::task::spawn_blocking(move || pdf::summary(&doc))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("summary pdf: {e}")))
}
