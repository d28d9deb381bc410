use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::home::{self, ServiceCard};
use axum::extract::State;
use axum::response::Response;
use sqlx::Row;

use crate::db::Db;
use crate::error::AppResult;
use crate::http::{html, Ctx};

pub async fn page(ctx: Ctx, State(db): State<Db>) -> AppResult<Response> {
    let rows = sqlx::query(
        "SELECT service_key, title_de, title_en, summary_de, summary_en FROM services
         ORDER BY title_de LIMIT 50",
    )
    .fetch_all(&db.pool)
    .await?;
    let services = rows
        .iter()
        .map(|r| {
            let (title, summary) = match ctx.lang {
                Lang::De => (r.try_get(1)?, r.try_get(3)?),
                Lang::En => (r.try_get(2)?, r.try_get(4)?),
            };
            Ok(ServiceCard {
                key: r.try_get(0)?,
                title,
                summary,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(html(home::render(&ctx.page(), &services)))
}
