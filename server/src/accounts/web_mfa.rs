//! The account's two-factor settings: status, setting up (or replacing) the authenticator app,
//! recovery codes shown once and renewed, switching it off (citizens only). Everything that
//! weakens or replaces the second factor needs a recent confirmation of identity.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::account;
use amtsweg_app::FormState;
use axum::extract::{Query, State};
use axum::response::Response;
use tower_sessions::Session;

use super::auth::{self, session_err, User};
use super::forms::invalid;
use super::reauth::{Recent, RecentForm};
use super::session::{ENROL_SECRET, NEW_RECOVERY_CODES};
use super::{mfa, throttle, totp};
use crate::error::{AppError, AppResult};
use crate::http::client_ip::ClientIp;
use crate::http::ctx::{private_html, see_other, Authed};
use crate::http::Ctx;
use crate::payments::epc::QrMatrix;
use crate::state::AppState;
use crate::time::{format_ms, now_ms};

pub const SETTINGS_PATH: &str = "/konto/zwei-faktor";
pub const ENROL_PATH: &str = "/konto/zwei-faktor/einrichten";
pub const CODES_PATH: &str = "/konto/zwei-faktor/wiederherstellungscodes";
pub const DISABLE_PATH: &str = "/konto/zwei-faktor/ausschalten";

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    pub code: String,
}

/// The key offered on the enrolment page, the same on every reload until it is confirmed (the
/// user may have scanned it already).
pub async fn enrolment_secret(session: &Session) -> AppResult<String> {
    if let Some(s) = session
        .get::<String>(ENROL_SECRET)
        .await
        .map_err(session_err)?
    {
        return Ok(s);
    }
    let secret = totp::base32_encode(&totp::new_secret());
    session
        .insert(ENROL_SECRET, &secret)
        .await
        .map_err(session_err)?;
    Ok(secret)
}

/// The `otpauth://` URI as a QR code; version 40 is the largest there is, and a URI with an
/// address of up to 254 characters needs far less.
pub fn otpauth_qr(uri: &str) -> Option<QrMatrix> {
    QrMatrix::encode(uri.as_bytes(), 40)
}

pub fn enrol_view(
    ctx: &Ctx,
    user: &User,
    secret: &str,
    action: &str,
    required: bool,
    replaces: bool,
) -> account::EnrolView {
    let uri = totp::otpauth_uri(mfa::ISSUER, &user.email, secret);
    let label = amtsweg_app::i18n::t(ctx.lang, "twofactor.enrol.qr_label");
    account::EnrolView {
        action: action.to_string(),
        qr_svg: otpauth_qr(&uri).map(|m| m.svg(label)).unwrap_or_default(),
        secret_grouped: totp::grouped(secret),
        account: user.email.clone(),
        required,
        replaces,
    }
}

/// The step of the code the user typed from the newly added app, or the form's problem.
pub fn verify_enrolment_code(lang: Lang, secret: &str, code: &str) -> Result<i64, FormState> {
    let mut fs = FormState::default();
    if code.trim().is_empty() {
        fs.add_error(lang, "code", "twofactor.error.code_empty");
        return Err(fs);
    }
    let key = totp::base32_decode(secret).unwrap_or_default();
    match totp::verify(&key, code, totp::step_at(now_ms()), i64::MIN) {
        Some(step) => Ok(step),
        None => {
            fs.add_error(lang, "code", "twofactor.error.code_wrong");
            Err(fs)
        }
    }
}

/// Carries new recovery codes through the redirect to the page that shows them once, with
/// where to continue afterwards.
pub async fn carry_codes(session: &Session, codes: Vec<String>, next: &str) -> AppResult<()> {
    session
        .insert(NEW_RECOVERY_CODES, (codes, next))
        .await
        .map_err(session_err)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Done {
    ok: String,
}

pub async fn settings(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let status = mfa::status(&state.db, &user.id).await?;
    let v = account::SettingsView {
        enabled_since: status.map(|s| format_ms(s.enabled_at)),
        recovery_left: status.map_or(0, |s| s.recovery_left),
        can_disable: !mfa::required(user.role),
        notice: match done.ok.as_str() {
            "enabled" => Some("twofactor.done.enabled"),
            "disabled" => Some("twofactor.done.disabled"),
            _ => None,
        },
    };
    Ok(private_html(account::two_factor(&ctx.page(), v)))
}

pub async fn enrol_page(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    _: Recent,
) -> AppResult<Response> {
    let secret = enrolment_secret(ctx.session()?).await?;
    let replaces = mfa::is_enabled(&state.db, &user.id).await?;
    let v = enrol_view(&ctx, &user, &secret, ENROL_PATH, false, replaces);
    Ok(private_html(account::enrol(
        &ctx.page(),
        v,
        &FormState::default(),
    )))
}

pub async fn enrol(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    ClientIp(ip): ClientIp,
    RecentForm(f): RecentForm<CodeForm>,
) -> AppResult<Response> {
    let session = ctx.session()?.clone();
    let secret = enrolment_secret(&session).await?;
    let replaces = mfa::is_enabled(&state.db, &user.id).await?;
    let page = |fs: &FormState| {
        account::enrol(
            &ctx.page(),
            enrol_view(&ctx, &user, &secret, ENROL_PATH, false, replaces),
            fs,
        )
    };
    let account_key = format!("mfa:account:{}", user.id);
    throttle::hit(&state.db, &account_key, throttle::LOGIN_PER_ACCOUNT).await?;
    let step = match verify_enrolment_code(ctx.lang, &secret, &f.code) {
        Ok(step) => step,
        Err(fs) => return Ok(invalid(page(&fs))),
    };
    let ip = ip.to_string();
    let (codes, epoch) = mfa::enable(&state.db, &user, &ip, &secret, step).await?;
    throttle::reset(&state.db, &account_key).await?;
    // Other sessions end with the new epoch; this one keeps going, now with a second factor.
    auth::adopt_epoch(&session, epoch).await?;
    auth::mark_second_factor(&session).await?;
    session
        .remove_value(ENROL_SECRET)
        .await
        .map_err(session_err)?;
    carry_codes(&session, codes, &format!("{SETTINGS_PATH}?ok=enabled")).await?;
    tracing::info!(user = %user.id, "second factor set up");
    Ok(see_other(CODES_PATH))
}

/// Shows new recovery codes once (taken out of the session), else goes to the settings.
pub async fn codes_page(Authed(ctx, _): Authed) -> AppResult<Response> {
    let carried = ctx
        .session()?
        .remove::<(Vec<String>, String)>(NEW_RECOVERY_CODES)
        .await
        .map_err(session_err)?;
    let Some((codes, next)) = carried else {
        return Ok(see_other(SETTINGS_PATH));
    };
    Ok(private_html(account::recovery_codes(
        &ctx.page(),
        codes,
        &next,
    )))
}

pub async fn renew_codes(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    ClientIp(ip): ClientIp,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let codes = mfa::renew_recovery_codes(&state.db, &user, &ip.to_string()).await?;
    carry_codes(ctx.session()?, codes, SETTINGS_PATH).await?;
    Ok(see_other(CODES_PATH))
}

pub async fn disable(
    State(state): State<AppState>,
    Authed(_, user): Authed,
    ClientIp(ip): ClientIp,
    RecentForm(_): RecentForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    if mfa::required(user.role) {
        return Err(AppError::Forbidden);
    }
    mfa::remove(&state.db, &user, &ip.to_string(), mfa::Removal::Own).await?;
    tracing::info!(user = %user.id, "second factor switched off");
    Ok(see_other(&format!("{SETTINGS_PATH}?ok=disabled")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The QR code on the enrolment page decodes to exactly the `otpauth://` URI.
    #[test]
    fn enrolment_qr_code_carries_the_uri() {
        let uri = totp::otpauth_uri(
            mfa::ISSUER,
            "sachbearbeitung@amtsweg.example",
            "AMTSWEGDEMOZWEIFAKTORSTUTTGART23",
        );
        let m = otpauth_qr(&uri).expect("fits");
        let scale = 4;
        let quiet = crate::payments::epc::QUIET_ZONE;
        let size = (m.width + 2 * quiet) * scale;
        let pixels: Vec<u8> = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) / scale, (i / size) / scale);
                let dark = x >= quiet && y >= quiet && m.is_dark(x - quiet, y - quiet);
                if dark {
                    0
                } else {
                    255
                }
            })
            .collect();
        let found = crate::payments::epc::testing::decode_greyscale(size, size, &pixels);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, uri);
        let svg = m.svg("QR");
        assert!(svg.starts_with("<svg") && svg.contains("role=\"img\""));
    }

    #[test]
    fn enrolment_code_must_be_current() {
        let secret = totp::base32_encode(b"12345678901234567890");
        let key = totp::base32_decode(&secret).unwrap();
        let now = totp::step_at(now_ms());
        assert_eq!(
            verify_enrolment_code(Lang::De, &secret, &totp::code(&key, now)).ok(),
            Some(now)
        );
        assert!(verify_enrolment_code(Lang::De, &secret, &totp::code(&key, now - 5)).is_err());
        assert!(verify_enrolment_code(Lang::De, &secret, "").is_err());
    }
}
