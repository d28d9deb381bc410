//! The account page: change password or address (after a recent confirmation of identity),
//! end all sessions, export or delete the data.

use amtsweg_app::pages::account::{self, Overview};
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Form;
use sqlx::Row;

use super::auth::{self, User};
use super::forms::{email_field, invalid, new_password_fields, notice_key, state_with};
use super::password;
use super::reauth::{Recent, RecentForm};
use super::tokens::{self, Purpose};
use super::web_auth::{confirm_page, invalid_link};
use crate::db::is_unique_violation;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other, Authed};
use crate::http::Ctx;
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::secret::Secret;
use crate::state::AppState;
use crate::time::now_ms;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn overview(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let filled: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM profiles WHERE user_id = $1 AND (family_name <> '' OR street <> '')",
    )
    .bind(&user.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let o = Overview {
        email: user.email.clone(),
        role_key: match user.role {
            crate::domain::Role::Citizen => "role.citizen",
            crate::domain::Role::Caseworker => "role.caseworker",
            crate::domain::Role::Admin => "role.admin",
        },
        profile_complete: filled.is_some(),
        two_factor: super::mfa::is_enabled(&state.db, &user.id).await?,
        notice: notice_key(q.ok.as_deref()),
    };
    Ok(private_html(account::overview(&ctx.page(), o)))
}

async fn current_password_ok(state: &AppState, user: &User, given: &str) -> AppResult<bool> {
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(password::verify(Secret::new(given.to_string()), Some(hash)).await?)
}

/// The current password, asked for again in the forms that change the account; an empty field
/// (as after a confirmation of identity that carried the other fields along) says so.
async fn current_password_field(
    state: &AppState,
    user: &User,
    fs: &mut FormState,
    lang: amtsweg_app::i18n::Lang,
    given: &str,
) -> AppResult<()> {
    if given.is_empty() {
        fs.add_error(lang, "current_password", "error.password.empty");
    } else if !current_password_ok(state, user, given).await? {
        fs.add_error(lang, "current_password", "error.password.current_wrong");
    }
    Ok(())
}

pub async fn password_page(Authed(ctx, _): Authed, _: Recent) -> Response {
    private_html(account::change_password(&ctx.page(), &FormState::default()))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    password: String,
    password_confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    RecentForm(f): RecentForm<PasswordForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let mut fs = FormState::default();
    current_password_field(&state, &user, &mut fs, lang, &f.current_password).await?;
    new_password_fields(&mut fs, lang, &f.password, &f.password_confirm, &user.email);
    if !fs.is_valid() {
        return Ok(invalid(account::change_password(&ctx.page(), &fs)));
    }
    let hash = password::hash(Secret::new(f.password)).await?;
    let mut tx = state.db.begin_write().await?;
    // A new epoch ends every other session; this one adopts it below.
    let epoch: i64 = sqlx::query_scalar(
        "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1, updated_at = $2
         WHERE id = $3 RETURNING session_epoch",
    )
    .bind(hash)
    .bind(now_ms())
    .bind(&user.id)
    .fetch_one(&mut *tx)
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
    auth::adopt_epoch(ctx.session()?, epoch).await?;
    Ok(see_other("/konto?ok=password"))
}

pub async fn email_page(Authed(ctx, user): Authed, _: Recent) -> Response {
    private_html(account::change_email(
        &ctx.page(),
        &FormState::default(),
        &user.email,
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    new_email: String,
    current_password: String,
}

pub async fn change_email(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    RecentForm(f): RecentForm<EmailForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let mut fs = state_with(&[("new_email", &f.new_email)]);
    let new_email = email_field(&mut fs, lang, "new_email", &f.new_email);
    if new_email.as_ref().is_some_and(|e| e.as_str() == user.email) {
        fs.add_error(lang, "new_email", "error.email.same");
    }
    current_password_field(&state, &user, &mut fs, lang, &f.current_password).await?;
    let Some(new_email) = new_email.filter(|_| fs.is_valid()) else {
        return Ok(invalid(account::change_email(
            &ctx.page(),
            &fs,
            &user.email,
        )));
    };
    // Whether the new address is taken is not revealed here; confirming it will say so.
    let mut tx = state.db.begin_write().await?;
    let token = tokens::issue(
        &mut tx,
        &user.id,
        Purpose::ChangeEmail,
        Some(new_email.as_str()),
    )
    .await?;
    let mail = render(
        &Template::ConfirmNewEmail { token: &token },
        lang,
        new_email.as_str(),
        &state.config.public_url,
    );
    enqueue(&mut tx, &mail).await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(see_other("/konto?ok=email_sent"))
}

pub async fn confirm_email_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    confirm_page(
        &state,
        ctx,
        &token,
        Purpose::ChangeEmail,
        "account.email.confirm",
        &format!("/konto/email/{token}"),
    )
    .await
}

pub async fn confirm_email(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let mut tx = state.db.begin_write().await?;
    let Some(valid) = tokens::consume(&mut tx, &token, Purpose::ChangeEmail).await? else {
        return Ok(invalid_link(&ctx));
    };
    let new_email = valid.new_email.ok_or(AppError::NotFound)?;
    let old = sqlx::query("SELECT email, locale FROM users WHERE id = $1")
        .bind(&valid.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let (old_email, locale): (String, String) = (old.try_get(0)?, old.try_get(1)?);
    let updated = sqlx::query(
        "UPDATE users SET email = $1, email_verified_at = $2, updated_at = $2 WHERE id = $3",
    )
    .bind(&new_email)
    .bind(now_ms())
    .bind(&valid.user_id)
    .execute(&mut *tx)
    .await;
    match updated {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let mut resp = private_html(account::notice(
                &ctx.page(),
                "account.email.taken",
                Some(("/konto", "account.back")),
            ));
            *resp.status_mut() = axum::http::StatusCode::CONFLICT;
            return Ok(resp);
        }
        Err(e) => return Err(e.into()),
    }
    let lang = amtsweg_app::i18n::Lang::from_code(&locale).unwrap_or_default();
    let mail = render(
        &Template::EmailChanged {
            new_email: &new_email,
        },
        lang,
        &old_email,
        &state.config.public_url,
    );
    enqueue(&mut tx, &mail).await?;
    tx.commit().await?;
    state.db.forget_user(&valid.user_id);
    state.mail_wakeup.notify_one();
    Ok(see_other(if ctx.user.is_some() {
        "/konto?ok=email"
    } else {
        "/anmelden?ok=email"
    }))
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
) -> AppResult<Response> {
    sqlx::query(
        "UPDATE users SET session_epoch = session_epoch + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(now_ms())
    .bind(&user.id)
    .execute(&state.db.pool)
    .await?;
    state.db.forget_user(&user.id);
    auth::log_out(ctx.session()?).await?;
    Ok(see_other("/anmelden?ok=everywhere"))
}

/// Everything held about the account, machine-readable (Art. 15 and 20 GDPR).
pub async fn export(State(state): State<AppState>, Authed(_, user): Authed) -> AppResult<Response> {
    let u = sqlx::query("SELECT id, email, role, locale, email_verified_at, created_at, updated_at FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_one(&state.db.pool)
        .await?;
    let profile = sqlx::query(
        "SELECT given_name, family_name, birth_date, street, house_number, postal_code, place, ags, phone, updated_at
         FROM profiles WHERE user_id = $1",
    )
    .bind(&user.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let usage = sqlx::query(
        "SELECT used_for, used_at FROM profile_usage WHERE user_id = $1 ORDER BY used_at",
    )
    .bind(&user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let profile_json = profile
        .map(|p| -> sqlx::Result<serde_json::Value> {
            Ok(serde_json::json!({
                "given_name": p.try_get::<String, _>(0)?,
                "family_name": p.try_get::<String, _>(1)?,
                "birth_date": p.try_get::<String, _>(2)?,
                "street": p.try_get::<String, _>(3)?,
                "house_number": p.try_get::<String, _>(4)?,
                "postal_code": p.try_get::<String, _>(5)?,
                "place": p.try_get::<String, _>(6)?,
                "municipality_key": p.try_get::<String, _>(7)?,
                "phone": p.try_get::<String, _>(8)?,
                "updated_at": crate::time::format_ms(p.try_get(9)?),
            }))
        })
        .transpose()?;
    let usage_json = usage
        .iter()
        .map(|r| -> sqlx::Result<serde_json::Value> {
            Ok(serde_json::json!({ "used_for": r.try_get::<String, _>(0)?, "used_at": crate::time::format_ms(r.try_get(1)?) }))
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let documents = sqlx::query("SELECT id, file_name, content_type, size, sha256, created_at FROM documents WHERE user_id = $1 ORDER BY created_at")
        .bind(&user.id)
        .fetch_all(&state.db.pool)
        .await?
        .iter()
        .map(|r| -> sqlx::Result<serde_json::Value> {
            let id: String = r.try_get(0)?;
            Ok(serde_json::json!({
                "file_name": r.try_get::<String, _>(1)?,
                "content_type": r.try_get::<String, _>(2)?,
                "size": r.try_get::<i64, _>(3)?,
                "sha256": r.try_get::<String, _>(4)?,
                "uploaded_at": crate::time::format_ms(r.try_get(5)?),
                "download": format!("{}/dokumente/{id}", state.config.public_url.trim_end_matches('/')),
            }))
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let drafts: Vec<(String, String)> =
        sqlx::query_as("SELECT service_key, answers FROM drafts WHERE user_id = $1")
            .bind(&user.id)
            .fetch_all(&state.db.pool)
            .await?;
    let cases: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT reference, service_key, status, answers FROM cases WHERE user_id = $1",
    )
    .bind(&user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let vault = &state.db.vault;
    let mut drafts_plain = Vec::with_capacity(drafts.len());
    for (k, a) in drafts {
        drafts_plain.push((k, vault.open(&state.db.pool, a).await?));
    }
    let drafts = drafts_plain;
    let mut cases_plain = Vec::with_capacity(cases.len());
    for (r, k, st, a) in cases {
        cases_plain.push((r, k, st, vault.open(&state.db.pool, a).await?));
    }
    let cases = cases_plain;
    let parse =
        |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or(serde_json::Value::Null);
    let doc = serde_json::json!({
        "documents": documents,
        "drafts": drafts.iter().map(|(k, a)| serde_json::json!({ "service_key": k, "answers": parse(a) })).collect::<Vec<_>>(),
        "applications": cases.iter().map(|(r, k, st, a)| serde_json::json!({ "reference": r, "service_key": k, "status": st, "answers": parse(a) })).collect::<Vec<_>>(),
        "format": "amtsweg-personal-data/1",
        "exported_at": crate::time::format_ms(now_ms()),
        "account": {
            "id": u.try_get::<String, _>(0)?,
            "email": u.try_get::<String, _>(1)?,
            "role": u.try_get::<String, _>(2)?,
            "language": u.try_get::<String, _>(3)?,
            "email_verified_at": u.try_get::<Option<i64>, _>(4)?.map(crate::time::format_ms),
            "created_at": crate::time::format_ms(u.try_get(5)?),
            "updated_at": crate::time::format_ms(u.try_get(6)?),
        },
        "profile": profile_json,
        "profile_usage": usage_json,
    });
    let body = serde_json::to_vec_pretty(&doc).map_err(|e| AppError::Internal(e.into()))?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"amtsweg-meine-daten.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub async fn delete_page(Authed(ctx, _): Authed) -> Response {
    private_html(account::delete(&ctx.page(), &FormState::default()))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DeleteForm {
    current_password: String,
    confirm: String,
}

pub async fn delete(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Form(f): Form<DeleteForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let mut fs = state_with(&[("confirm", &f.confirm)]);
    current_password_field(&state, &user, &mut fs, lang, &f.current_password).await?;
    if f.confirm != "yes" {
        fs.add_error(lang, "confirm", "error.delete.confirm");
    }
    if !fs.is_valid() {
        return Ok(invalid(account::delete(&ctx.page(), &fs)));
    }
    let mut tx = state.db.begin_write().await?;
    // Evidence that no submitted case holds goes with the account; files of submitted cases
    // stay with the authority (their owner link is cleared by ON DELETE SET NULL).
    let loose: Vec<String> = sqlx::query_scalar(
        "SELECT storage_key FROM documents d WHERE d.user_id = $1
         AND NOT EXISTS (SELECT 1 FROM case_documents c WHERE c.document_id = d.id)",
    )
    .bind(&user.id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM documents WHERE user_id = $1
         AND NOT EXISTS (SELECT 1 FROM case_documents c WHERE c.document_id = documents.id)",
    )
    .bind(&user.id)
    .execute(&mut *tx)
    .await?;
    // Profile, tokens, drafts and usage records go with the account (ON DELETE CASCADE).
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    let mail = render(
        &Template::AccountDeleted,
        user.lang,
        &user.email,
        &state.config.public_url,
    );
    enqueue(&mut tx, &mail).await?;
    tx.commit().await?;
    state.db.forget_user(&user.id);
    for key in loose {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(error = %e, "could not remove a deleted account's file");
        }
    }
    state.mail_wakeup.notify_one();
    auth::log_out(ctx.session()?).await?;
    tracing::info!(user = %user.id, "account deleted");
    Ok(see_other("/konto-geloescht"))
}

pub async fn deleted(ctx: Ctx) -> Response {
    private_html(account::notice(
        &ctx.page(),
        "account.deleted",
        Some(("/", "error.page.home_link")),
    ))
}
