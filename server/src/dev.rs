//! Development-only pages: the mail the file transport wrote, and the component gallery.
//! Not mounted in production mode.

use amtsweg_app::pages::dev_mail::{self, MailSummary};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::{AppError, AppResult};
use crate::http::{html, Ctx};
use crate::mail::transport::DevMailMeta;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dev/mail", get(list))
        .route("/dev/mail/{id}", get(show))
        .route("/dev/mail/{id}/eml", get(raw))
        .route("/dev/components", get(components))
}

async fn read_all(state: &AppState) -> Vec<(String, DevMailMeta)> {
    let dir = state.config.mail_dir();
    let mut out = Vec::new();
    let Ok(mut rd) = tokio::fs::read_dir(&dir).await else {
        return out;
    };
    while let Ok(Some(entry)) = rd.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if let Ok(bytes) = tokio::fs::read(entry.path()).await {
            if let Ok(meta) = serde_json::from_slice::<DevMailMeta>(&bytes) {
                out.push((stem.to_string(), meta));
            }
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out
}

async fn find(state: &AppState, id: &str) -> AppResult<(String, DevMailMeta)> {
    read_all(state)
        .await
        .into_iter()
        .find(|(_, m)| m.id == id)
        .ok_or(AppError::NotFound)
}

async fn list(ctx: Ctx, State(state): State<AppState>) -> Response {
    let mails: Vec<MailSummary> = read_all(&state)
        .await
        .into_iter()
        .take(200)
        .map(|(_, m)| MailSummary {
            id: m.id,
            to: m.to,
            subject: m.subject,
            created: crate::time::format_ms(m.created_at),
            text: m.text,
        })
        .collect();
    html(dev_mail::list(&ctx.page(), &mails))
}

async fn show(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (_, m) = find(&state, &id).await?;
    let mail = MailSummary {
        id: m.id,
        to: m.to,
        subject: m.subject,
        created: crate::time::format_ms(m.created_at),
        text: m.text,
    };
    Ok(html(dev_mail::detail(&ctx.page(), &mail)))
}

async fn raw(State(state): State<AppState>, Path(id): Path<String>) -> AppResult<Response> {
    let (stem, _) = find(&state, &id).await?;
    let bytes = tokio::fs::read(state.config.mail_dir().join(format!("{stem}.eml")))
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.eml\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn components(ctx: Ctx) -> Response {
    html(amtsweg_app::pages::dev_components::render_gallery(
        &ctx.page(),
    ))
}
