//! Login, logout, registration with address verification, forgotten password.

use amtsweg_app::pages::account;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::auth::{self, load_user, Stage};
use super::forms::{email_field, invalid, new_password_fields, notice_key, state_with};
use super::tokens::{self, Purpose};
use super::{mfa, password, throttle, web_mfa_login};
use crate::db::is_unique_violation;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::http::client_ip::ClientIp;
use crate::http::ctx::{private_html, see_other};
use crate::http::{is_local_path, Ctx};
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::secret::Secret;
use crate::state::AppState;
use crate::time::now_ms;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    ok: Option<String>,
}

pub async fn login_page(ctx: Ctx, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    if ctx.user.is_some() {
        return Ok(see_other(if is_local_path(&q.next) {
            &q.next
        } else {
            "/konto"
        }));
    }
    let ctx = ctx.with_csrf().await?;
    let body = account::login(
        &ctx.page(),
        &FormState::default(),
        &q.next,
        notice_key(q.ok.as_deref()),
    );
    Ok(private_html(body))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    let lang = ctx.lang;
    let mut fs = state_with(&[("email", &f.email)]);
    let email = email_field(&mut fs, lang, "email", &f.email);
    if f.password.is_empty() {
        fs.add_error(lang, "password", "error.password.empty");
    }
    let Some(email) = email.filter(|_| fs.is_valid()) else {
        return Ok(invalid(account::login(&ctx.page(), &fs, &f.next, None)));
    };
    let throttled = async {
        throttle::hit(
            &state.db,
            &format!("login:ip:{ip}"),
            throttle::login_per_client(state.config.login_limit_per_client),
        )
        .await?;
        throttle::hit(
            &state.db,
            &format!("login:account:{email}"),
            throttle::LOGIN_PER_ACCOUNT,
        )
        .await
    };
    if let Err(AppError::TooManyRequests(secs)) = throttled.await {
        let minutes = secs.div_ceil(60).to_string();
        fs.errors.push(amtsweg_app::components::FieldError {
            field_id: "email".into(),
            message: amtsweg_app::i18n::tf(lang, "error.throttled", &[("minutes", &minutes)]),
        });
        let mut resp = invalid(account::login(&ctx.page(), &fs, &f.next, None));
        *resp.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
        return Ok(resp);
    }
    let row =
        sqlx::query("SELECT id, password_hash, email_verified_at FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&state.db.pool)
            .await?;
    let (id, hash, verified) = match &row {
        Some(r) => (
            Some(r.try_get::<String, _>(0)?),
            Some(r.try_get::<String, _>(1)?),
            r.try_get::<Option<i64>, _>(2)?.is_some(),
        ),
        None => (None, None, false),
    };
    let ok = password::verify(Secret::new(f.password.clone()), hash.clone()).await?;
    let (Some(id), true) = (id, ok) else {
        // Unknown address and wrong password look exactly alike.
        fs.add_error(lang, "email", "error.login.failed");
        return Ok(invalid(account::login(&ctx.page(), &fs, &f.next, None)));
    };
    if !verified {
        let mut tx = state.db.begin_write().await?;
        let token = tokens::issue(&mut tx, &id, Purpose::VerifyEmail, None).await?;
        let mail = render(
            &Template::VerifyEmail { token: &token },
            lang,
            email.as_str(),
            &state.config.public_url,
        );
        enqueue(&mut tx, &mail).await?;
        tx.commit().await?;
        state.mail_wakeup.notify_one();
        fs.add_error(lang, "email", "error.login.unverified");
        return Ok(invalid(account::login(&ctx.page(), &fs, &f.next, None)));
    }
    if hash.as_deref().is_some_and(password::needs_rehash) {
        let new_hash = password::hash(Secret::new(f.password)).await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(new_hash)
            .bind(now_ms())
            .bind(&id)
            .execute(&state.db.pool)
            .await?;
    }
    throttle::reset(&state.db, &format!("login:account:{email}")).await?;
    let user = load_user(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let default = if user.role == Role::Citizen {
        "/konto"
    } else {
        "/"
    };
    let next = if is_local_path(&f.next) {
        &f.next
    } else {
        default
    };
    let session = ctx.session()?;
    // With a second factor (or without one on a staff account) the password alone logs in
    // nobody: the session only remembers that the first step is done.
    if mfa::is_enabled(&state.db, &user.id).await? {
        auth::begin_second_step(session, &user.id, Stage::Code, next).await?;
        return Ok(see_other(web_mfa_login::STEP_PATH));
    }
    if mfa::required(user.role) {
        auth::begin_second_step(session, &user.id, Stage::Enrol, next).await?;
        return Ok(see_other(web_mfa_login::ENROL_PATH));
    }
    auth::log_in(session, &user, state.config.session_lifetimes(), false).await?;
    tracing::info!(user = %user.id, "logged in");
    Ok(see_other(next))
}

pub async fn logout(ctx: Ctx) -> AppResult<Response> {
    if let Some(s) = &ctx.session {
        auth::log_out(s).await?;
    }
    Ok(see_other("/"))
}

pub async fn register_page(ctx: Ctx) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    Ok(private_html(account::register(
        &ctx.page(),
        &FormState::default(),
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    email: String,
    password: String,
    password_confirm: String,
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<RegisterForm>,
) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    let lang = ctx.lang;
    let mut fs = state_with(&[("email", &f.email)]);
    let email = email_field(&mut fs, lang, "email", &f.email);
    new_password_fields(&mut fs, lang, &f.password, &f.password_confirm, &f.email);
    let Some(email) = email.filter(|_| fs.is_valid()) else {
        return Ok(invalid(account::register(&ctx.page(), &fs)));
    };
    throttle::hit(
        &state.db,
        &format!("register:ip:{ip}"),
        throttle::REGISTER_PER_CLIENT,
    )
    .await?;
    // Hashing happens for known and unknown addresses alike, so timing tells nothing.
    let hash = password::hash(Secret::new(f.password)).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash, role, locale, created_at, updated_at)
         VALUES ($1, $2, $3, 'citizen', $4, $5, $5)",
    )
    .bind(&id)
    .bind(email.as_str())
    .bind(&hash)
    .bind(lang.code())
    .bind(now)
    .execute(&mut *tx)
    .await;
    let mail = match inserted {
        Ok(_) => {
            let token = tokens::issue(&mut tx, &id, Purpose::VerifyEmail, None).await?;
            render(
                &Template::VerifyEmail { token: &token },
                lang,
                email.as_str(),
                &state.config.public_url,
            )
        }
        Err(e) if is_unique_violation(&e) => {
            tx.rollback().await?;
            tx = state.db.begin_write().await?;
            render(
                &Template::AlreadyRegistered,
                lang,
                email.as_str(),
                &state.config.public_url,
            )
        }
        Err(e) => return Err(e.into()),
    };
    enqueue(&mut tx, &mail).await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(see_other("/registrieren/pruefen"))
}

pub async fn register_sent(ctx: Ctx) -> Response {
    private_html(account::notice(
        &ctx.page(),
        "auth.register.sent",
        Some(("/anmelden", "nav.login")),
    ))
}

pub async fn verify_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    confirm_page(
        &state,
        ctx,
        &token,
        Purpose::VerifyEmail,
        "auth.verify",
        &format!("/konto/bestaetigen/{token}"),
    )
    .await
}

/// The page a mailed link opens: a button that uses the token (so mail scanners that follow
/// links do not), or the "invalid or expired" page.
pub async fn confirm_page(
    state: &AppState,
    ctx: Ctx,
    token: &str,
    purpose: Purpose,
    key: &'static str,
    action: &str,
) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    if tokens::peek(&state.db, token, purpose).await?.is_none() {
        return Ok(invalid_link(&ctx));
    }
    Ok(private_html(account::confirm(&ctx.page(), key, action)))
}

pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let mut tx = state.db.begin_write().await?;
    let Some(valid) = tokens::consume(&mut tx, &token, Purpose::VerifyEmail).await? else {
        return Ok(invalid_link(&ctx));
    };
    sqlx::query("UPDATE users SET email_verified_at = $1, updated_at = $1 WHERE id = $2 AND email_verified_at IS NULL")
        .bind(now_ms())
        .bind(&valid.user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(see_other("/anmelden?ok=verified"))
}

pub fn invalid_link(ctx: &Ctx) -> Response {
    let mut resp = private_html(account::notice(
        &ctx.page(),
        "auth.link_invalid",
        Some(("/anmelden", "nav.login")),
    ));
    *resp.status_mut() = axum::http::StatusCode::NOT_FOUND;
    resp
}

pub async fn forgot_page(ctx: Ctx) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    Ok(private_html(account::forgot(
        &ctx.page(),
        &FormState::default(),
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<ForgotForm>,
) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    let lang = ctx.lang;
    let mut fs = state_with(&[("email", &f.email)]);
    let Some(email) = email_field(&mut fs, lang, "email", &f.email) else {
        return Ok(invalid(account::forgot(&ctx.page(), &fs)));
    };
    throttle::hit(
        &state.db,
        &format!("reset:ip:{ip}"),
        throttle::RESET_PER_CLIENT,
    )
    .await?;
    throttle::hit(
        &state.db,
        &format!("reset:account:{email}"),
        throttle::RESET_PER_ACCOUNT,
    )
    .await?;
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&state.db.pool)
        .await?;
    if let Some(id) = id {
        let mut tx = state.db.begin_write().await?;
        let token = tokens::issue(&mut tx, &id, Purpose::ResetPassword, None).await?;
        let mail = render(
            &Template::ResetPassword { token: &token },
            lang,
            email.as_str(),
            &state.config.public_url,
        );
        enqueue(&mut tx, &mail).await?;
        tx.commit().await?;
        state.mail_wakeup.notify_one();
    }
    Ok(see_other("/passwort-vergessen/gesendet"))
}

pub async fn forgot_sent(ctx: Ctx) -> Response {
    private_html(account::notice(
        &ctx.page(),
        "auth.forgot.sent",
        Some(("/anmelden", "nav.login")),
    ))
}

pub async fn reset_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    if tokens::peek(&state.db, &token, Purpose::ResetPassword)
        .await?
        .is_none()
    {
        return Ok(invalid_link(&ctx));
    }
    Ok(private_html(account::reset(
        &ctx.page(),
        &FormState::default(),
        &token,
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
    password_confirm: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> AppResult<Response> {
    let ctx = ctx.with_csrf().await?;
    let lang = ctx.lang;
    let Some(valid) = tokens::peek(&state.db, &token, Purpose::ResetPassword).await? else {
        return Ok(invalid_link(&ctx));
    };
    let user = load_user(&state.db, &valid.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut fs = FormState::default();
    new_password_fields(&mut fs, lang, &f.password, &f.password_confirm, &user.email);
    if !fs.is_valid() {
        return Ok(invalid(account::reset(&ctx.page(), &fs, &token)));
    }
    let hash = password::hash(Secret::new(f.password)).await?;
    let mut tx = state.db.begin_write().await?;
    if tokens::consume(&mut tx, &token, Purpose::ResetPassword)
        .await?
        .is_none()
    {
        return Ok(invalid_link(&ctx));
    }
    let now = now_ms();
    // Receiving the mail proves control of the address; every session ends.
    sqlx::query(
        "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1, updated_at = $2,
         email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $3",
    )
    .bind(hash)
    .bind(now)
    .bind(&user.id)
    .execute(&mut *tx)
    .await?;
    let mail = render(
        &Template::PasswordChanged,
        user.lang,
        &user.email,
        &state.config.public_url,
    );
    enqueue(&mut tx, &mail).await?;
    tx.commit().await?;
    state.db.forget_user(&user.id);
    state.mail_wakeup.notify_one();
    auth::log_out(ctx.session()?).await?;
    Ok(see_other("/anmelden?ok=reset"))
}
