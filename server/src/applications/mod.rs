//! Applications: the service catalogue with versioned form definitions, responsibility rules
//! and routing. (Filling in, drafts, evidence and submission build on this.)

pub mod answers;
pub mod catalog;
pub mod definition;
pub mod evidence;
pub mod retention;
pub mod routing;
pub mod submit;
pub(crate) mod summary_pdf;

pub(crate) mod views;
mod web;
mod web_form;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/leistungen", get(web::catalogue))
        .route("/leistungen/{key}", get(web::service))
        .route("/leistungen/{key}/antrag", post(web::start))
        .route("/konto/antraege", get(web::mine))
        .route("/antraege/{id}/loeschen", post(web::delete_draft))
        .route("/antraege/{id}/pruefen", get(web_form::check))
        .route("/antraege/{id}/absenden", post(web_form::submit))
        .route("/antraege/{id}/bestaetigung", get(web_form::confirmation))
        .route(
            "/antraege/{id}/{page}",
            get(web_form::page).post(web_form::save_page),
        )
        .route("/vorgaenge/{reference}/zusammenfassung", get(web::summary))
        .route(
            "/vorgaenge/{reference}/zusammenfassung.pdf",
            get(summary_pdf::pdf),
        )
        .route(
            "/antraege/{id}/{page}/datei/{field}/vorhandene",
            post(evidence::attach_existing),
        )
        .route(
            "/antraege/{id}/{page}/datei/{field}/entfernen/{doc}",
            post(evidence::detach),
        )
        .route("/dokumente/{doc}", get(evidence::download))
        .merge(
            Router::new()
                .route(
                    "/antraege/{id}/{page}/datei/{field}",
                    post(evidence::upload),
                )
                // Uploads stream past the form limit; each field enforces its own size.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}
