//! The second step of a login: a code (or recovery code) for accounts with a second factor,
//! and the enrolment that staff accounts without one must complete first. Until then the
//! session holds only the half-done login (`auth::Pending`) and grants nothing.

use amtsweg_app::pages::account;
use amtsweg_app::FormState;
use axum::extract::State;
use axum::response::Response;
use axum::Form;

use super::auth::{self, load_user, Pending, Stage};
use super::forms::invalid;
use super::web_mfa::{
    carry_codes, enrol_view, enrolment_secret, verify_enrolment_code, CODES_PATH,
};
use super::{mfa, throttle};
use crate::error::{AppError, AppResult};
use crate::http::client_ip::ClientIp;
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;

pub const STEP_PATH: &str = "/anmelden/sicherheitscode";
pub const ENROL_PATH: &str = "/anmelden/zwei-faktor-einrichten";

/// Code attempts per account, counted like password attempts.
const CODE_PER_ACCOUNT: throttle::Limit = throttle::LOGIN_PER_ACCOUNT;

/// The half-done login of this request's session at `stage`; otherwise the login page.
async fn pending_at(ctx: &Ctx, stage: Stage) -> AppResult<Result<Pending, Response>> {
    let Some(session) = &ctx.session else {
        return Ok(Err(see_other("/anmelden")));
    };
    Ok(match auth::pending(session).await? {
        Some(p) if p.stage == stage => Ok(p),
        _ => Err(see_other("/anmelden")),
    })
}

/// Counts an attempt at the second step; the seconds to wait when there were too many.
async fn throttled(state: &AppState, user_id: &str, ip: &str) -> AppResult<Option<u64>> {
    let hits = async {
        throttle::hit(
            &state.db,
            &format!("mfa:ip:{ip}"),
            throttle::login_per_client(state.config.login_limit_per_client),
        )
        .await?;
        throttle::hit(
            &state.db,
            &format!("mfa:account:{user_id}"),
            CODE_PER_ACCOUNT,
        )
        .await
    };
    match hits.await {
        Ok(()) => Ok(None),
        Err(AppError::TooManyRequests(secs)) => Ok(Some(secs)),
        Err(e) => Err(e),
    }
}

/// A form refused for too many attempts: 429 with `Retry-After`.
fn too_many(
    body: impl FnOnce(&FormState) -> String,
    lang: amtsweg_app::i18n::Lang,
    secs: u64,
) -> Response {
    let mut fs = FormState::default();
    let minutes = secs.div_ceil(60).to_string();
    fs.errors.push(amtsweg_app::components::FieldError {
        field_id: "code".into(),
        message: amtsweg_app::i18n::tf(lang, "error.throttled", &[("minutes", &minutes)]),
    });
    let mut resp = invalid(body(&fs));
    *resp.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
    resp.headers_mut()
        .insert(axum::http::header::RETRY_AFTER, secs.into());
    resp
}

pub async fn step_page(ctx: Ctx) -> AppResult<Response> {
    if let Err(to_login) = pending_at(&ctx, Stage::Code).await? {
        return Ok(to_login);
    }
    let ctx = ctx.with_csrf().await?;
    Ok(private_html(account::second_step(
        &ctx.page(),
        &FormState::default(),
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let pending = match pending_at(&ctx, Stage::Code).await? {
        Ok(p) => p,
        Err(to_login) => return Ok(to_login),
    };
    let ctx = ctx.with_csrf().await?;
    let lang = ctx.lang;
    let page = |fs: &FormState| account::second_step(&ctx.page(), fs);
    let Some(user) = load_user(&state.db, &pending.user_id).await? else {
        return Ok(see_other("/anmelden"));
    };
    let ip = ip.to_string();
    if let Some(secs) = throttled(&state, &user.id, &ip).await? {
        return Ok(too_many(page, lang, secs));
    }
    let mut fs = FormState::default();
    if f.code.trim().is_empty() {
        fs.add_error(lang, "code", "twofactor.error.code_empty");
        return Ok(invalid(page(&fs)));
    }
    if mfa::check(&state.db, &user, &ip, &f.code).await? == mfa::Check::Wrong {
        tracing::info!(user = %user.id, "second factor refused");
        fs.add_error(lang, "code", "twofactor.error.code_wrong");
        return Ok(invalid(page(&fs)));
    }
    throttle::reset(&state.db, &format!("mfa:account:{}", user.id)).await?;
    auth::log_in(
        ctx.session()?,
        &user,
        state.config.session_lifetimes(),
        true,
    )
    .await?;
    tracing::info!(user = %user.id, "logged in with second factor");
    Ok(see_other(&pending.next))
}

pub async fn enrol_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let pending = match pending_at(&ctx, Stage::Enrol).await? {
        Ok(p) => p,
        Err(to_login) => return Ok(to_login),
    };
    let ctx = ctx.with_csrf().await?;
    let Some(user) = load_user(&state.db, &pending.user_id).await? else {
        return Ok(see_other("/anmelden"));
    };
    let secret = enrolment_secret(ctx.session()?).await?;
    let v = enrol_view(&ctx, &user, &secret, ENROL_PATH, true, false);
    Ok(private_html(account::enrol(
        &ctx.page(),
        v,
        &FormState::default(),
    )))
}

pub async fn enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<CodeForm>,
) -> AppResult<Response> {
    let pending = match pending_at(&ctx, Stage::Enrol).await? {
        Ok(p) => p,
        Err(to_login) => return Ok(to_login),
    };
    let ctx = ctx.with_csrf().await?;
    let lang = ctx.lang;
    let Some(user) = load_user(&state.db, &pending.user_id).await? else {
        return Ok(see_other("/anmelden"));
    };
    let session = ctx.session()?.clone();
    let secret = enrolment_secret(&session).await?;
    let page = |fs: &FormState| {
        account::enrol(
            &ctx.page(),
            enrol_view(&ctx, &user, &secret, ENROL_PATH, true, false),
            fs,
        )
    };
    let ip = ip.to_string();
    if let Some(secs) = throttled(&state, &user.id, &ip).await? {
        return Ok(too_many(page, lang, secs));
    }
    let step = match verify_enrolment_code(lang, &secret, &f.code) {
        Ok(step) => step,
        Err(fs) => return Ok(invalid(page(&fs))),
    };
    let (codes, _) = mfa::enable(&state.db, &user, &ip, &secret, step).await?;
    throttle::reset(&state.db, &format!("mfa:account:{}", user.id)).await?;
    // The epoch moved (other sessions end); this login starts with the new one.
    let user = load_user(&state.db, &user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    auth::log_in(&session, &user, state.config.session_lifetimes(), true).await?;
    carry_codes(&session, codes, &pending.next).await?;
    tracing::info!(user = %user.id, "second factor set up at login");
    Ok(see_other(CODES_PATH))
}
