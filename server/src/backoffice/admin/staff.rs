//! Staff accounts: list, create, (re)send the link with which the owner sets a password, and
//! reset the second factor of an account whose owner lost it.
//! The administrator never knows the password: the account starts with a random one nobody
//! has, and the mailed single-use link is the password-reset link of the account pages.

use std::collections::HashMap;

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use sqlx::{AnyConnection, Row};

use super::{email_field, invalid, state_with, Done};
use crate::accounts::reauth::{Recent, RecentForm};
use crate::accounts::tokens::{self, Purpose};
use crate::accounts::{auth, mfa, password};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::db::is_unique_violation;
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::secret::Secret;
use crate::state::AppState;
use crate::time::now_ms;

/// A new colleague may not read the mail within the hour a forgotten-password link lasts.
const LINK_LIFETIME_MS: i64 = 72 * 3600 * 1000;

pub async fn list(
    State(state): State<AppState>,
    Admin {
        ctx, user: admin, ..
    }: Admin,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let mut postboxes: HashMap<String, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT m.user_id, a.name, p.name, m.role FROM memberships m
         JOIN postboxes p ON p.id = m.postbox_id JOIN authorities a ON a.id = p.authority_id
         ORDER BY a.name, p.name",
    )
    .fetch_all(&state.db.pool)
    .await?
    {
        let role: String = r.try_get(3)?;
        let lead = if role == "lead" {
            format!(
                " ({})",
                amtsweg_app::i18n::t(ctx.lang, "admin.members.role_lead")
            )
        } else {
            String::new()
        };
        postboxes.entry(r.try_get(0)?).or_default().push(format!(
            "{} – {}{lead}",
            r.try_get::<String, _>(1)?,
            r.try_get::<String, _>(2)?
        ));
    }
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.role, u.locale, t.enabled_at FROM users u
         LEFT JOIN mfa_totp t ON t.user_id = u.id
         WHERE u.role IN ('caseworker', 'admin') ORDER BY u.email",
    )
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        let id: String = r.try_get(0)?;
        let two_factor = r.try_get::<Option<i64>, _>(4)?.is_some();
        Ok(admin::StaffRow {
            postboxes: postboxes.remove(&id).unwrap_or_default(),
            two_factor,
            // Administrators reset other accounts only; their own is in their settings.
            two_factor_resettable: two_factor && id != admin.id,
            id,
            email: r.try_get(1)?,
            role: r.try_get(2)?,
            lang: r.try_get(3)?,
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(private_html(admin::staff(&ctx.page(), rows, done.key())))
}

pub async fn new_page(Admin { ctx, .. }: Admin, _: Recent) -> Response {
    let fs = state_with(&[("lang", "de")]);
    private_html(admin::staff_form(&ctx.page(), &fs))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StaffForm {
    email: String,
    role: String,
    lang: String,
}

/// Issues the set-password link and queues the mail that carries it, in the caller's
/// transaction.
async fn send_invitation(
    conn: &mut AnyConnection,
    state: &AppState,
    user_id: &str,
    email: &str,
    role: &str,
    lang: Lang,
) -> sqlx::Result<()> {
    let token = tokens::issue(conn, user_id, Purpose::ResetPassword, None).await?;
    sqlx::query("UPDATE account_tokens SET expires_at = $1 WHERE token_hash = $2")
        .bind(now_ms() + LINK_LIFETIME_MS)
        .bind(tokens::hash(&token))
        .execute(&mut *conn)
        .await?;
    let mail = render(
        &Template::StaffInvitation {
            token: &token,
            role,
        },
        lang,
        email,
        &state.config.public_url,
    );
    enqueue(conn, &mail).await?;
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    RecentForm(f): RecentForm<StaffForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let mut fs = state_with(&[("email", &f.email), ("role", &f.role), ("lang", &f.lang)]);
    let email = email_field(&mut fs, lang, "email", &f.email);
    let role = match f.role.as_str() {
        "caseworker" => Some(Role::Caseworker),
        "admin" => Some(Role::Admin),
        _ => {
            fs.add_error(lang, "role", "admin.v.staff_role");
            None
        }
    };
    let account_lang = Lang::from_code(&f.lang);
    if account_lang.is_none() {
        fs.add_error(lang, "lang", "admin.v.lang");
    }
    let (Some(email), Some(role), Some(account_lang)) = (email, role, account_lang) else {
        return Ok(invalid(admin::staff_form(&ctx.page(), &fs)));
    };
    // A password nobody knows: the account cannot be used until its owner sets one.
    let unusable = password::hash(Secret::new(auth::new_token())).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash, role, locale, email_verified_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $6)",
    )
    .bind(&id)
    .bind(email.as_str())
    .bind(&unusable)
    .bind(role.as_str())
    .bind(account_lang.code())
    .bind(now)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            fs.add_error(lang, "email", "admin.v.staff_exists");
            return Ok(invalid(admin::staff_form(&ctx.page(), &fs)));
        }
        Err(e) => return Err(e.into()),
    }
    send_invitation(
        &mut tx,
        &state,
        &id,
        email.as_str(),
        role.as_str(),
        account_lang,
    )
    .await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.staff.create",
        Subject::User(&id),
        &format!(
            "email={email}; role={}; lang={}",
            role.as_str(),
            account_lang.code()
        ),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(see_other(
        "/verwaltung/admin/mitarbeitende?ok=staff_created",
    ))
}

/// A new link for a staff member who lost the first one (earlier links stop working).
pub async fn send_link(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path(id): Path<String>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let row = sqlx::query(
        "SELECT email, role, locale FROM users WHERE id = $1 AND role IN ('caseworker', 'admin')",
    )
    .bind(&id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let (email, role, locale): (String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let lang = Lang::from_code(&locale).unwrap_or_default();
    let mut tx = state.db.begin_write().await?;
    send_invitation(&mut tx, &state, &id, &email, &role, lang).await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.staff.invite",
        Subject::User(&id),
        &format!("email={email}"),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(see_other("/verwaltung/admin/mitarbeitende?ok=link_sent"))
}

/// Removes another account's second factor (lost phone): its sessions end, and a staff account
/// sets up a new one at its next login.
pub async fn reset_two_factor(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path(id): Path<String>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    if id == user.id {
        return Err(AppError::NotFound);
    }
    let target = auth::load_user(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    mfa::remove(&state.db, &target, &ip, mfa::Removal::ByAdmin(&user)).await?;
    tracing::info!(admin = %user.id, user = %target.id, "second factor reset");
    Ok(see_other("/verwaltung/admin/mitarbeitende?ok=mfa_reset"))
}
