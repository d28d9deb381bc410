//! Re-authentication before sensitive changes: the password (and, if the account has one, a
//! second-factor code) must have been entered within the last few minutes
//! (`AMTSWEG_REAUTH_SECONDS`). A login counts, so this only asks again after a while.
//!
//! Pages with such a form take [`Recent`]: if the last confirmation is too old, the user is
//! sent (303) to `/konto/identitaet-bestaetigen` and brought back afterwards; nothing has
//! been entered yet. Handlers of the change itself take [`RecentForm`]: a change posted after
//! the time ran out (the form stood open too long) is not refused and not lost but answered
//! with the confirmation form, which carries the posted fields along and posts them again to
//! the same address together with the password. Passwords typed into the original form are
//! never written back into a page; that form asks for them again.

use amtsweg_app::pages::account;
use amtsweg_app::FormState;
use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::de::DeserializeOwned;

use super::auth::{self, User};
use super::{mfa, password, throttle};
use crate::error::{AppError, AppResult};
use crate::http::client_ip::ClientIp;
use crate::http::ctx::{private_html, see_other, Authed};
use crate::http::{is_local_path, Ctx};
use crate::secret::Secret;
use crate::state::AppState;
use crate::time::now_ms;

pub const CONFIRM_PATH: &str = "/konto/identitaet-bestaetigen";
const PASSWORD_FIELD: &str = "_reauth_password";
const CODE_FIELD: &str = "_reauth_code";
const FORM_LIMIT: usize = 64 * 1024;

/// Whether the session's last password entry is recent enough for a sensitive change.
pub async fn is_recent(state: &AppState, ctx: &Ctx) -> AppResult<bool> {
    let Some(session) = &ctx.session else {
        return Ok(false);
    };
    let window = i64::try_from(state.config.reauth_seconds.saturating_mul(1000)).unwrap_or(0);
    Ok(auth::reauthenticated_at(session)
        .await?
        .is_some_and(|at| now_ms() - at < window))
}

/// A page with a sensitive form: opened only after a recent confirmation of identity.
pub struct Recent;

impl<S> FromRequestParts<S> for Recent
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Authed(ctx, _) = Authed::from_request_parts(parts, state).await?;
        let app = AppState::from_ref(state);
        if is_recent(&app, &ctx)
            .await
            .map_err(IntoResponse::into_response)?
        {
            return Ok(Recent);
        }
        let next: String = form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect();
        Err(see_other(&format!("{CONFIRM_PATH}?next={next}")))
    }
}

/// The form of a sensitive change, accepted only after a recent confirmation of identity
/// (which the same request may bring along, see the module documentation).
pub struct RecentForm<T>(pub T);

impl<S, T> FromRequest<S> for RecentForm<T>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Authed(ctx, user) = Authed::from_request_parts(&mut parts, state).await?;
        let app = AppState::from_ref(state);
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
        }
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| AppError::PayloadTooLarge.into_response())?;
        let mut fields: Vec<(String, String)> =
            form_urlencoded::parse(&bytes).into_owned().collect();
        let password = take(&mut fields, PASSWORD_FIELD);
        let code = take(&mut fields, CODE_FIELD);
        let recent = is_recent(&app, &ctx)
            .await
            .map_err(IntoResponse::into_response)?;
        if !recent {
            let ClientIp(ip) = match ClientIp::from_request_parts(&mut parts, state).await {
                Ok(ip) => ip,
                Err(never) => match never {},
            };
            let needs_code = mfa::is_enabled(&app.db, &user.id)
                .await
                .map_err(|e| AppError::from(e).into_response())?;
            let carried: Vec<(String, String)> = fields
                .iter()
                .filter(|(k, _)| k != "_csrf" && !k.contains("password"))
                .cloned()
                .collect();
            let view = account::ReauthView {
                action: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
                carried,
                next: None,
                needs_code,
            };
            let Some(password) = password else {
                let mut resp =
                    private_html(account::reauth(&ctx.page(), view, &FormState::default()));
                *resp.status_mut() = StatusCode::FORBIDDEN;
                return Err(resp);
            };
            let entered = Entered {
                password: &password,
                code: code.as_deref(),
                needs_code,
            };
            if let Err(fs) = confirm(&app, &ctx, &user, &ip.to_string(), entered)
                .await
                .map_err(IntoResponse::into_response)?
            {
                return Err(refused(account::reauth(&ctx.page(), view, &fs), &fs));
            }
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let req = Request::from_parts(parts, Body::from(encoded));
        let Form(value) = Form::<T>::from_request(req, &app)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(RecentForm(value))
    }
}

fn take(fields: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let i = fields.iter().position(|(k, _)| k == name)?;
    let value = fields.remove(i).1;
    fields.retain(|(k, _)| k != name);
    Some(value)
}

/// The confirmation form again with its problems (429 when throttled).
fn refused(body: String, fs: &FormState) -> Response {
    let mut resp = private_html(body);
    *resp.status_mut() = if fs.values.contains_key("throttled") {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    resp
}

struct Entered<'a> {
    password: &'a str,
    code: Option<&'a str>,
    needs_code: bool,
}

/// Checks password and code (throttled like logins) and, if both are right, records the
/// confirmation in the session. The problems otherwise, for the form.
async fn confirm(
    state: &AppState,
    ctx: &Ctx,
    user: &User,
    ip: &str,
    e: Entered<'_>,
) -> AppResult<Result<(), FormState>> {
    let lang = ctx.lang;
    let mut fs = FormState::default();
    let account_key = format!("reauth:account:{}", user.id);
    let throttled = async {
        throttle::hit(
            &state.db,
            &format!("login:ip:{ip}"),
            throttle::login_per_client(state.config.login_limit_per_client),
        )
        .await?;
        throttle::hit(&state.db, &account_key, throttle::LOGIN_PER_ACCOUNT).await
    };
    if let Err(AppError::TooManyRequests(secs)) = throttled.await {
        let minutes = secs.div_ceil(60).to_string();
        fs.errors.push(amtsweg_app::components::FieldError {
            field_id: PASSWORD_FIELD.into(),
            message: amtsweg_app::i18n::tf(lang, "error.throttled", &[("minutes", &minutes)]),
        });
        fs.values.insert("throttled".into(), String::new());
        return Ok(Err(fs));
    }
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_one(&state.db.pool)
        .await?;
    let password_ok = if e.password.is_empty() {
        fs.add_error(lang, PASSWORD_FIELD, "error.password.empty");
        false
    } else if password::verify(Secret::new(e.password.to_string()), Some(hash)).await? {
        true
    } else {
        fs.add_error(lang, PASSWORD_FIELD, "twofactor.error.password_wrong");
        false
    };
    if e.needs_code {
        match e.code.map(str::trim).filter(|c| !c.is_empty()) {
            None => fs.add_error(lang, CODE_FIELD, "twofactor.error.code_empty"),
            // A code is only used up once the password is known to be right.
            Some(code) if password_ok => {
                if mfa::check(&state.db, user, ip, code).await? == mfa::Check::Wrong {
                    fs.add_error(lang, CODE_FIELD, "twofactor.error.code_wrong");
                }
            }
            Some(_) => {}
        }
    }
    if !fs.is_valid() {
        return Ok(Err(fs));
    }
    throttle::reset(&state.db, &account_key).await?;
    auth::mark_reauthenticated(ctx.session()?).await?;
    tracing::info!(user = %user.id, "re-authenticated");
    Ok(Ok(()))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

fn target(next: &str) -> &str {
    if is_local_path(next) && !next.starts_with(CONFIRM_PATH) {
        next
    } else {
        "/konto"
    }
}

/// The confirmation page a [`Recent`] page redirects to.
pub async fn confirm_page(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let view = account::ReauthView {
        action: CONFIRM_PATH.into(),
        carried: Vec::new(),
        next: Some(target(&q.next).to_string()),
        needs_code: mfa::is_enabled(&state.db, &user.id).await?,
    };
    Ok(private_html(account::reauth(
        &ctx.page(),
        view,
        &FormState::default(),
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    next: String,
    #[serde(rename = "_reauth_password")]
    password: String,
    #[serde(rename = "_reauth_code")]
    code: String,
}

pub async fn confirm_submit(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    ClientIp(ip): ClientIp,
    Form(f): Form<ConfirmForm>,
) -> AppResult<Response> {
    let needs_code = mfa::is_enabled(&state.db, &user.id).await?;
    let next = target(&f.next).to_string();
    let entered = Entered {
        password: &f.password,
        code: Some(&f.code),
        needs_code,
    };
    match confirm(&state, &ctx, &user, &ip.to_string(), entered).await? {
        Ok(()) => Ok(see_other(&next)),
        Err(fs) => {
            let view = account::ReauthView {
                action: CONFIRM_PATH.into(),
                carried: Vec::new(),
                next: Some(next),
                needs_code,
            };
            Ok(refused(account::reauth(&ctx.page(), view, &fs), &fs))
        }
    }
}
