//! The citizen's postbox: one thread per application with everything the authority sent
//! (messages, requests for information, decisions), answers with uploads in the same thread,
//! and the application page with state, timeline and the responsible authority.

mod web;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/konto/postfach", get(web::list))
        .route("/konto/postfach/{reference}", get(web::application))
        .route(
            "/konto/postfach/{reference}/dokumente/{doc}",
            get(web::download),
        )
        .merge(
            Router::new()
                .route(
                    "/konto/postfach/{reference}/antwort/{request}",
                    post(web::reply),
                )
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}
