use amtsweg_app::i18n::Lang;
use sqlx::AnyConnection;

use crate::db::{is_unique_violation, Db};
use crate::domain::{Email, Role};
use crate::mail::enqueue;
use crate::mail::templates::{render, Template};
use crate::secret::Secret;
use crate::time::now_ms;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this address exists already")]
    Exists,
    #[error("{0}")]
    Password(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub struct NewUser {
    pub email: Email,
    pub password: Secret<String>,
    pub role: Role,
    pub lang: Lang,
    /// Accounts created by an administrator are verified by that act.
    pub verified: bool,
}

/// Creates an account and, in the same transaction, queues the mail that tells its owner.
pub async fn create(
    db: &Db,
    user: NewUser,
    public_url: &str,
    notify: bool,
) -> Result<String, CreateUserError> {
    crate::accounts::password::check_length(user.password.expose())
        .map_err(CreateUserError::Password)?;
    let hash = crate::accounts::password::hash(user.password).await?;
    let mut tx = db.begin_write().await?;
    let id = insert(
        &mut tx,
        &user.email,
        &hash,
        user.role,
        user.lang,
        user.verified,
    )
    .await?;
    if notify {
        let mail = render(
            &Template::AccountCreated {
                role: user.role.as_str(),
            },
            user.lang,
            user.email.as_str(),
            public_url,
        );
        enqueue(&mut tx, &mail).await?;
    }
    tx.commit().await?;
    Ok(id)
}

async fn insert(
    conn: &mut AnyConnection,
    email: &Email,
    hash: &str,
    role: Role,
    lang: Lang,
    verified: bool,
) -> Result<String, CreateUserError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let res = sqlx::query(
        "INSERT INTO users (id, email, password_hash, role, locale, email_verified_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(email.as_str())
    .bind(hash)
    .bind(role.as_str())
    .bind(lang.code())
    .bind(verified.then_some(now))
    .bind(now)
    .execute(&mut *conn)
    .await;
    match res {
        Ok(_) => Ok(id),
        Err(e) if is_unique_violation(&e) => Err(CreateUserError::Exists),
        Err(e) => Err(e.into()),
    }
}
