use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::home::{self, ServiceCard};
use axum::extract::State;
use axum::response::Response;
use sqlx::Row;

use crate::error::AppResult;
use crate::http::{html, Ctx};
use crate::state::{AppState, ServiceSummary};

async fn load(state: &AppState) -> sqlx::Result<Vec<ServiceSummary>> {
    let rows = sqlx::query(
        "SELECT service_key, title_de, title_en, summary_de, summary_en FROM services
         ORDER BY title_de LIMIT 50",
    )
    .fetch_all(&state.db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ServiceSummary {
                key: r.try_get(0)?,
                title_de: r.try_get(1)?,
                title_en: r.try_get(2)?,
                summary_de: r.try_get(3)?,
                summary_en: r.try_get(4)?,
            })
        })
        .collect()
}

/// The start page is the most requested page; its service list comes from a short-lived cache.
pub async fn page(ctx: Ctx, State(state): State<AppState>) -> AppResult<Response> {
    let services = state.home_services.get_or_load(|| load(&state)).await?;
    let cards: Vec<ServiceCard> = services
        .iter()
        .map(|s| {
            let (title, summary) = match ctx.lang {
                Lang::De => (&s.title_de, &s.summary_de),
                Lang::En => (&s.title_en, &s.summary_en),
            };
            ServiceCard {
                key: s.key.clone(),
                title: title.clone(),
                summary: summary.clone(),
            }
        })
        .collect();
    Ok(html(home::render(&ctx.page(), &cards)))
}
