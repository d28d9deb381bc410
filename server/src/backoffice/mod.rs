//! The back office: caseworkers work through the cases of their postboxes (inbox, case page,
//! messages, requests for information, decisions, forwarding, notes, templates); administrators
//! manage authorities, postboxes, staff, rules and services; every staff action and every staff
//! read of a case is audited. Everything lives under `/verwaltung`; citizens get 404 there.

pub mod access;
pub mod admin;
pub mod audit;
pub mod cases;
pub mod inbox;
pub mod messages;
pub mod present;
pub mod search;
pub mod state;
pub mod thread;
pub mod uploads;

pub(crate) mod web_actions;
pub(crate) mod web_case;
pub(crate) mod web_inbox;
mod web_templates;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/verwaltung", get(web_inbox::home))
        .route("/verwaltung/postfach/{postbox}", get(web_inbox::inbox))
        .route(
            "/verwaltung/postfach/{postbox}/vorlagen",
            get(web_templates::list).post(web_templates::save),
        )
        .route(
            "/verwaltung/postfach/{postbox}/vorlagen/{id}/loeschen",
            post(web_templates::delete),
        )
        .route("/verwaltung/vorgaenge/{reference}", get(web_case::page))
        .route(
            "/verwaltung/vorgaenge/{reference}/uebernehmen",
            post(web_actions::take),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/zuweisen",
            post(web_actions::assign),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/status",
            post(web_actions::change_state),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/notiz",
            post(web_actions::note),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/weiterleiten",
            post(web_actions::forward),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/dokumente/{doc}",
            get(web_actions::download),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/export.zip",
            get(crate::export::web::download),
        )
        .merge(
            Router::new()
                .route(
                    "/verwaltung/vorgaenge/{reference}/nachricht",
                    post(web_actions::send),
                )
                // Attachments stream past the form limit; the upload code enforces its own.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .merge(admin::router())
}
