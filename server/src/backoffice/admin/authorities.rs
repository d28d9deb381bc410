//! Authorities: list, create, edit; the detail page lists their postboxes.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::{email_field, invalid, state_with, text_field, Done};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::domain::{Ags, PostalCode};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;
use crate::time::now_ms;

pub async fn list(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let rows = sqlx::query(
        "SELECT a.id, a.name, a.ags, a.city, (SELECT COUNT(*) FROM postboxes p WHERE p.authority_id = a.id)
         FROM authorities a ORDER BY a.name",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(admin::AuthorityRow {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                ags: r.try_get(2)?,
                city: r.try_get(3)?,
                postboxes: r.try_get(4)?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(private_html(admin::authorities(
        &ctx.page(),
        rows,
        done.key(),
    )))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AuthorityForm {
    name: String,
    ags: String,
    street: String,
    postal_code: String,
    city: String,
    email: String,
    phone: String,
}

struct Valid {
    name: String,
    ags: Ags,
    street: String,
    postal_code: PostalCode,
    city: String,
    email: String,
    phone: String,
}

impl Valid {
    /// What the audit entry records: the values as saved.
    fn detail(&self) -> String {
        format!(
            "name={}; ags={}; address={}, {} {}; email={}; phone={}",
            self.name, self.ags, self.street, self.postal_code, self.city, self.email, self.phone
        )
    }
}

fn entered(f: &AuthorityForm) -> FormState {
    state_with(&[
        ("name", &f.name),
        ("ags", &f.ags),
        ("street", &f.street),
        ("postal_code", &f.postal_code),
        ("city", &f.city),
        ("email", &f.email),
        ("phone", &f.phone),
    ])
}

/// Checks every field, so that all problems are reported at once.
fn validate(f: &AuthorityForm, lang: Lang) -> Result<Valid, FormState> {
    let mut fs = entered(f);
    let name = text_field(&mut fs, lang, "name", &f.name, 200, true);
    let ags = Ags::parse(&f.ags);
    if ags.is_none() {
        fs.add_error(lang, "ags", "admin.v.ags");
    }
    let street = text_field(&mut fs, lang, "street", &f.street, 200, true);
    let postal_code = PostalCode::parse(&f.postal_code);
    if postal_code.is_none() {
        fs.add_error(lang, "postal_code", "admin.v.postal_code");
    }
    let city = text_field(&mut fs, lang, "city", &f.city, 200, true);
    let email = email_field(&mut fs, lang, "email", &f.email);
    let phone = f.phone.trim();
    let phone_ok = phone.chars().count() <= 30
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-/()".contains(c));
    if !phone_ok {
        fs.add_error(lang, "phone", "admin.v.phone");
    }
    match (name, ags, street, postal_code, city, email) {
        (Some(name), Some(ags), Some(street), Some(postal_code), Some(city), Some(email))
            if phone_ok =>
        {
            Ok(Valid {
                name,
                ags,
                street,
                postal_code,
                city,
                email: email.as_str().to_string(),
                phone: phone.to_string(),
            })
        }
        _ => Err(fs),
    }
}

const NEW: &str = "/verwaltung/admin/behoerden/neu";

pub async fn new_page(Admin { ctx, .. }: Admin) -> Response {
    private_html(admin::authority_form(
        &ctx.page(),
        &FormState::default(),
        NEW,
        false,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Form(f): Form<AuthorityForm>,
) -> AppResult<Response> {
    let v = match validate(&f, ctx.lang) {
        Ok(v) => v,
        Err(fs) => return Ok(invalid(admin::authority_form(&ctx.page(), &fs, NEW, false))),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO authorities (id, name, ags, street, postal_code, city, email, phone, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&v.name)
    .bind(v.ags.as_str())
    .bind(&v.street)
    .bind(v.postal_code.as_str())
    .bind(&v.city)
    .bind(&v.email)
    .bind(&v.phone)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.authority.create",
        Subject::Authority(&id),
        &v.detail(),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/behoerden/{id}?ok=saved"
    )))
}

/// An authority's stored fields, as the form shows them.
async fn load(state: &AppState, id: &str) -> AppResult<AuthorityForm> {
    let r = sqlx::query(
        "SELECT name, ags, street, postal_code, city, email, phone FROM authorities WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(AuthorityForm {
        name: r.try_get(0)?,
        ags: r.try_get(1)?,
        street: r.try_get(2)?,
        postal_code: r.try_get(3)?,
        city: r.try_get(4)?,
        email: r.try_get(5)?,
        phone: r.try_get(6)?,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let a = load(&state, &id).await?;
    let rows = sqlx::query(
        "SELECT p.id, p.name, p.email, p.processing_days,
                (SELECT COUNT(*) FROM memberships m WHERE m.postbox_id = p.id)
         FROM postboxes p WHERE p.authority_id = $1 ORDER BY p.name",
    )
    .bind(&id)
    .fetch_all(&state.db.pool)
    .await?;
    let postboxes = rows
        .iter()
        .map(|r| {
            Ok(admin::PostboxRow {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                email: r.try_get(2)?,
                days: r.try_get(3)?,
                members: r.try_get(4)?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let payee = super::payee::summary(&state, &id).await?;
    let d = admin::AuthorityDetail {
        id,
        name: a.name,
        ags: a.ags,
        street: a.street,
        postal_code: a.postal_code,
        city: a.city,
        email: a.email,
        phone: a.phone,
        postboxes,
        payee,
    };
    Ok(private_html(admin::authority(&ctx.page(), d, done.key())))
}

pub async fn edit_page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let a = load(&state, &id).await?;
    Ok(private_html(admin::authority_form(
        &ctx.page(),
        &entered(&a),
        &format!("/verwaltung/admin/behoerden/{id}/bearbeiten"),
        true,
    )))
}

pub async fn update(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(id): Path<String>,
    Form(f): Form<AuthorityForm>,
) -> AppResult<Response> {
    let action = format!("/verwaltung/admin/behoerden/{id}/bearbeiten");
    let v = match validate(&f, ctx.lang) {
        Ok(v) => v,
        Err(fs) => {
            return Ok(invalid(admin::authority_form(
                &ctx.page(),
                &fs,
                &action,
                true,
            )))
        }
    };
    let mut tx = state.db.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE authorities SET name = $1, ags = $2, street = $3, postal_code = $4, city = $5,
            email = $6, phone = $7 WHERE id = $8",
    )
    .bind(&v.name)
    .bind(v.ags.as_str())
    .bind(&v.street)
    .bind(v.postal_code.as_str())
    .bind(&v.city)
    .bind(&v.email)
    .bind(&v.phone)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.authority.update",
        Subject::Authority(&id),
        &v.detail(),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/behoerden/{id}?ok=saved"
    )))
}
