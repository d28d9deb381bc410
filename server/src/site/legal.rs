//! Legally required pages: Impressum (§ 5 DDG), privacy notice (Art. 13 DSGVO) and accessibility
//! statement (BITV 2.0). Operator details come from the configuration.

use amtsweg_app::pages::legal::{self, Operator};
use axum::extract::State;
use axum::response::Response;

use crate::http::{html, Ctx};
use crate::state::AppState;

fn operator(state: &AppState) -> Operator {
    let c = &state.config;
    Operator {
        name: c.operator_name.clone(),
        address: c
            .operator_address
            .as_deref()
            .map(|a| a.split(';').map(|l| l.trim().to_string()).collect())
            .unwrap_or_default(),
        email: c.operator_email.clone(),
        phone: c.operator_phone.clone(),
    }
}

pub async fn impressum(ctx: Ctx, State(state): State<AppState>) -> Response {
    html(legal::impressum(&ctx.page(), &operator(&state)))
}

pub async fn privacy(ctx: Ctx, State(state): State<AppState>) -> Response {
    html(legal::privacy(&ctx.page(), &operator(&state)))
}

pub async fn accessibility(ctx: Ctx, State(state): State<AppState>) -> Response {
    html(legal::accessibility(&ctx.page(), &operator(&state)))
}
