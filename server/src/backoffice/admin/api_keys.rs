//! A postbox's API keys for back-office systems: list, create (the key is shown once, carried
//! through the redirect in the session and taken out on the first look), revoke. Audited in
//! `api::keys`.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tower_sessions::Session;

use super::{invalid, postbox_preline, session_err, state_with};
use crate::accounts::reauth::{Recent, RecentForm};
use crate::api::keys::{self, Scope};
use crate::backoffice::access::Admin;
use crate::domain::is_plain_text;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::format_ms;

const NEW_KEY: &str = "api_key_created";

fn base(postbox: &str) -> String {
    format!("/verwaltung/admin/postfaecher/{postbox}/api-schluessel")
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Done {
    ok: String,
}

impl Done {
    fn key(&self) -> Option<&'static str> {
        Some(match self.ok.as_str() {
            "created" => "api_keys.done.created",
            "revoked" => "api_keys.done.revoked",
            _ => return None,
        })
    }
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    postbox: &str,
    form: FormState,
    new_key: Option<(String, String)>,
    notice: Option<&'static str>,
) -> AppResult<String> {
    let preline = postbox_preline(state, postbox).await?;
    let keys = keys::list(&state.db, postbox)
        .await?
        .into_iter()
        .map(|k| admin::ApiKeyRow {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            created: format_ms(k.created_at),
            last_used: k.last_used_at.map(format_ms),
            revoked: k.revoked_at.map(format_ms),
        })
        .collect();
    let v = admin::ApiKeysView {
        postbox_id: postbox.to_string(),
        preline,
        keys,
        new_key,
        form,
    };
    Ok(admin::api_keys(&ctx.page(), v, notice))
}

pub async fn list(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(postbox): Path<String>,
    Query(done): Query<Done>,
    session: Session,
    _: Recent,
) -> AppResult<Response> {
    let new_key = session
        .remove::<(String, String, String)>(NEW_KEY)
        .await
        .map_err(session_err)?
        .filter(|(p, _, _)| *p == postbox)
        .map(|(_, name, key)| (name, key));
    let fs = state_with(&[("scopes", "read")]);
    Ok(private_html(
        render(&state, &ctx, &postbox, fs, new_key, done.key()).await?,
    ))
}

fn validate(sent: &[(String, String)], lang: Lang) -> Result<(String, Vec<Scope>), FormState> {
    let name = sent
        .iter()
        .find(|(k, _)| k == "name")
        .map_or("", |(_, v)| v.as_str())
        .trim()
        .to_string();
    let scopes: Vec<Scope> = keys::ALL_SCOPES
        .into_iter()
        .filter(|s| sent.iter().any(|(k, v)| k == "scopes" && v == s.as_str()))
        .collect();
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let mut fs = state_with(&[("name", &name), ("scopes", &names.join(" "))]);
    if name.is_empty() || !is_plain_text(&name, 100) {
        fs.add_error(lang, "name", "api_keys.v.name");
    }
    if scopes.is_empty() {
        fs.add_error(lang, "scopes", "api_keys.v.scopes");
    }
    if fs.is_valid() {
        Ok((name, scopes))
    } else {
        Err(fs)
    }
}

pub async fn create(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(postbox): Path<String>,
    session: Session,
    RecentForm(sent): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    postbox_preline(&state, &postbox).await?;
    let (name, scopes) = match validate(&sent, ctx.lang) {
        Ok(v) => v,
        Err(fs) => {
            return Ok(invalid(
                render(&state, &ctx, &postbox, fs, None, None).await?,
            ))
        }
    };
    let created = keys::create(&state.db, &postbox, &name, &scopes, Some((&user, &ip))).await?;
    session
        .insert(NEW_KEY, (&postbox, &name, created.secret.expose()))
        .await
        .map_err(session_err)?;
    Ok(see_other(&format!("{}?ok=created", base(&postbox))))
}

pub async fn revoke(
    State(state): State<AppState>,
    Admin { user, ip, .. }: Admin,
    Path((postbox, id)): Path<(String, String)>,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    if !keys::revoke(&state.db, &postbox, &id, &user, &ip).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&format!("{}?ok=revoked", base(&postbox))))
}
