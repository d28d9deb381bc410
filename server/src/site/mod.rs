//! The public pages of the portal: start page, legal pages, language switch, health checks, security.txt.

mod health;
mod home;
mod language;
mod legal;
mod security_txt;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/impressum", get(legal::impressum))
        .route("/datenschutz", get(legal::privacy))
        .route("/barrierefreiheit", get(legal::accessibility))
        .route("/sprache", post(language::switch))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/.well-known/security.txt", get(security_txt::security_txt))
}
