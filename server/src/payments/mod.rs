//! Fee notices (Gebührenbescheide) and payments: the notice document with its EPC QR code,
//! online payment through an XBezahldienste provider, and reconciliation of camt.053 bank
//! statements.

pub mod camt;
pub mod document;
pub mod epc;
pub mod import;
pub mod issue;
pub mod matching;
pub mod notices;
pub mod online;
pub mod pdf;
pub mod reconcile;
pub(crate) mod web_citizen;
pub(crate) mod web_desk;
pub(crate) mod web_staff;
pub mod xbezahl;
pub mod xbezahl_fake;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/verwaltung/vorgaenge/{reference}/gebuehren/neu",
            get(web_staff::new_form).post(web_staff::issue),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/gebuehren/{number}",
            get(web_staff::page),
        )
        .route(
            "/verwaltung/vorgaenge/{reference}/gebuehren/{number}/aufheben",
            post(web_staff::cancel),
        )
        .route("/verwaltung/zahlungen", get(web_desk::page))
        .route(
            "/verwaltung/zahlungen/{payment}/zuordnen",
            post(web_desk::assign),
        )
        .route("/konto/gebuehren", get(web_citizen::overview))
        .route("/konto/gebuehren/{id}", get(web_citizen::page))
        .route("/konto/gebuehren/{id}/bezahlen", post(online::start))
        .route("/konto/gebuehren/{id}/rueckkehr", get(online::back))
        .merge(
            Router::new()
                .route("/verwaltung/zahlungen/import", post(web_desk::import))
                // Statements stream past the form limit; the handler enforces its own.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}
