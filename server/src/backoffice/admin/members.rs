//! Members of a postbox: add a staff account, change its role, remove it.

use crate::accounts::reauth::RecentForm;
use axum::extract::{Path, State};
use axum::response::Response;

use super::postboxes::{load, render_detail};
use super::{invalid, state_with};
use crate::backoffice::access::{Admin, MemberRole};
use crate::backoffice::audit::{self, Subject};
use crate::db::is_unique_violation;
use crate::error::{AppError, AppResult};
use crate::http::ctx::see_other;
use crate::state::AppState;
use crate::time::now_ms;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    user: String,
    role: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(id): Path<String>,
    RecentForm(f): RecentForm<MemberForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let mut fs = state_with(&[("user", &f.user), ("role", &f.role)]);
    let role = MemberRole::parse(&f.role);
    if role.is_none() {
        fs.add_error(lang, "role", "admin.v.member_role");
    }
    // Only staff accounts: a citizen can never be made a member, whatever is posted.
    let member: Option<String> = sqlx::query_scalar(
        "SELECT email FROM users WHERE id = $1 AND role IN ('caseworker', 'admin')",
    )
    .bind(&f.user)
    .fetch_optional(&state.db.pool)
    .await?;
    if member.is_none() {
        fs.add_error(lang, "user", "admin.v.member_account");
    }
    let (Some(role), Some(email)) = (role, member) else {
        let body = render_detail(&state, &ctx, &id, &fs, None).await?;
        return Ok(invalid(body));
    };
    load(&state, &id).await?;
    let mut tx = state.db.begin_write().await?;
    let res = sqlx::query(
        "INSERT INTO memberships (postbox_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(&f.user)
    .bind(role.as_str())
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            fs.add_error(lang, "user", "admin.v.member_exists");
            let body = render_detail(&state, &ctx, &id, &fs, None).await?;
            return Ok(invalid(body));
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.membership.add",
        Subject::Postbox(&id),
        &format!("user={email}; role={}", role.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/postfaecher/{id}?ok=member_added"
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path((id, member)): Path<(String, String)>,
    RecentForm(f): RecentForm<RoleForm>,
) -> AppResult<Response> {
    // The select offers only valid roles; anything else was not sent by the page.
    let role = MemberRole::parse(&f.role).ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin_write().await?;
    let changed =
        sqlx::query("UPDATE memberships SET role = $1 WHERE postbox_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(&id)
            .bind(&member)
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let email = member_email(&mut tx, &member).await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.membership.change",
        Subject::Postbox(&id),
        &format!("user={email}; role={}", role.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/postfaecher/{id}?ok=member_changed"
    )))
}

pub async fn remove_member(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path((id, member)): Path<(String, String)>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut tx = state.db.begin_write().await?;
    let removed = sqlx::query("DELETE FROM memberships WHERE postbox_id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&member)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let email = member_email(&mut tx, &member).await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.membership.remove",
        Subject::Postbox(&id),
        &format!("user={email}"),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/postfaecher/{id}?ok=member_removed"
    )))
}

async fn member_email(conn: &mut sqlx::AnyConnection, user_id: &str) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
}
