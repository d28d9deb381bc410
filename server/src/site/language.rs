use amtsweg_app::i18n::Lang;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;

use crate::http::ctx::LANG_COOKIE;
use crate::http::is_local_path;
use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// Remembers the explicit language choice for a year and returns to the page it was made on.
pub async fn switch(State(state): State<AppState>, Form(form): Form<LanguageForm>) -> Response {
    let back = if is_local_path(&form.back) {
        form.back.as_str()
    } else {
        "/"
    };
    let mut resp = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, back.to_string())],
    )
        .into_response();
    if let Some(lang) = Lang::from_code(&form.lang) {
        let secure = if state.config.served_over_tls() {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    resp
}
