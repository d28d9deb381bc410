//! Per-request page context: language, current path, the logged-in user and the form token.

use std::sync::OnceLock;

use amtsweg_app::i18n::Lang;
use amtsweg_app::{PageCtx, UserInfo};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::accounts::auth::{self, User};
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

pub const LANG_COOKIE: &str = "aw_lang";

#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    pub path: String,
    pub dev_mode: bool,
    pub user: Option<User>,
    pub csrf: Option<String>,
    pub session: Option<Session>,
}

impl Ctx {
    pub fn page(&self) -> PageCtx {
        static ASSETS: OnceLock<(String, String)> = OnceLock::new();
        let (css, icon) = ASSETS.get_or_init(|| {
            (
                crate::assets::url("app.css"),
                crate::assets::url("favicon.svg"),
            )
        });
        PageCtx {
            lang: self.lang,
            path: self.path.clone(),
            css_href: css.clone(),
            icon_href: icon.clone(),
            dev_mode: self.dev_mode,
            user: self.user.as_ref().map(|u| UserInfo {
                email: u.email.clone(),
                staff: u.role != Role::Citizen,
                admin: u.role == Role::Admin,
            }),
            csrf: self.csrf.clone(),
        }
    }

    /// Makes sure the page can carry a form token (anonymous pages with forms need one too).
    pub async fn with_csrf(mut self) -> Result<Self, AppError> {
        if self.csrf.is_none() {
            let session = self.session.as_ref().ok_or(AppError::Forbidden)?;
            self.csrf = Some(auth::csrf_token(session).await?);
        }
        Ok(self)
    }

    pub fn session(&self) -> Result<&Session, AppError> {
        self.session.as_ref().ok_or(AppError::Forbidden)
    }
}

/// The explicit choice (cookie) wins over the account's language and `Accept-Language`.
pub fn request_lang(headers: &HeaderMap, user: Option<&User>) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::from_code(&v))
        .or(user.map(|u| u.lang))
        .unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
                .unwrap_or_default()
        })
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl<S> FromRequestParts<S> for Ctx
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if let Some(ctx) = parts.extensions.get::<Ctx>() {
            return Ok(ctx.clone());
        }
        let session = parts.extensions.get::<Session>().cloned();
        let ctx = build(&state, &parts.headers, &parts.uri, session).await?;
        parts.extensions.insert(ctx.clone());
        Ok(ctx)
    }
}

/// Builds the context from request data; also used for error pages, where the request itself
/// is gone by the time the page is rendered.
pub async fn build(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    session: Option<Session>,
) -> Result<Ctx, AppError> {
    let user = match &session {
        Some(s) => auth::current_user(s, &state.db, state.config.session_lifetimes()).await?,
        None => None,
    };
    let csrf = match (&session, &user) {
        (Some(s), Some(_)) => Some(auth::csrf_token(s).await?),
        _ => None,
    };
    Ok(Ctx {
        lang: request_lang(headers, user.as_ref()),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        dev_mode: state.config.is_dev(),
        user,
        csrf,
        session,
    })
}

/// A page for logged-in users only; others are sent to the login page and brought back.
pub struct Authed(pub Ctx, pub User);

impl<S> FromRequestParts<S> for Authed
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match ctx.user.clone() {
            Some(u) => Ok(Authed(ctx, u)),
            None => {
                let next: String = form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect();
                Err(Redirect::to(&format!("/anmelden?next={next}")).into_response())
            }
        }
    }
}

/// An HTML page response; `Vary` because the language follows cookie and `Accept-Language`.
pub fn html(body: String) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("cookie, accept-language"),
    );
    resp
}

/// A page behind login: never stored by browsers or proxies.
pub fn private_html(body: String) -> Response {
    let mut resp = html(body);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// 303 See Other: the answer to every successful form post.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
