//! The account an authority's fee notices ask citizens to pay to. It is printed in the
//! GiroCode (EPC QR code) and bank statements are imported for it, so it is checked here as
//! strictly as those need: a wrong account would only show when citizens pay.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::{invalid, state_with, text_field};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::domain::Iban;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;

/// The EPC QR code carries at most 70 characters of payee name; banking apps refuse a longer
/// one or cut it.
const MAX_NAME: usize = 70;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PayeeForm {
    payee_name: String,
    payee_iban: String,
    payee_bic: String,
}

struct Valid {
    name: String,
    iban: Iban,
    /// Upper case, or empty.
    bic: String,
}

fn entered(f: &PayeeForm) -> FormState {
    state_with(&[
        ("payee_name", &f.payee_name),
        ("payee_iban", &f.payee_iban),
        ("payee_bic", &f.payee_bic),
    ])
}

/// The rule the GiroCode applies (ISO 9362: bank and country as six letters, then location
/// and optional branch as letters or digits), so that no stored BIC can break the code later.
/// Spaces are ignored, as people copy BICs from letters that group them.
fn bic(raw: &str) -> Option<String> {
    let b: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = b.as_bytes();
    let ok = b.is_empty()
        || (matches!(bytes.len(), 8 | 11)
            && bytes[..6].iter().all(u8::is_ascii_uppercase)
            && bytes[6..].iter().all(u8::is_ascii_alphanumeric));
    ok.then_some(b)
}

/// Checks every field, so that all problems are reported at once.
fn validate(f: &PayeeForm, lang: Lang) -> Result<Valid, FormState> {
    let mut fs = entered(f);
    let name = if f.payee_name.trim().chars().count() > MAX_NAME {
        fs.add_error(lang, "payee_name", "admin.v.payee_name_long");
        None
    } else {
        text_field(&mut fs, lang, "payee_name", &f.payee_name, MAX_NAME, true)
    };
    let iban = if f.payee_iban.trim().is_empty() {
        fs.add_error(lang, "payee_iban", "admin.v.payee_iban_empty");
        None
    } else {
        let iban = Iban::parse(&f.payee_iban);
        if iban.is_none() {
            fs.add_error(lang, "payee_iban", "admin.v.iban");
        }
        iban
    };
    let bic = bic(&f.payee_bic);
    if bic.is_none() {
        fs.add_error(lang, "payee_bic", "admin.v.bic");
    }
    match (name, iban, bic) {
        (Some(name), Some(iban), Some(bic)) => Ok(Valid { name, iban, bic }),
        _ => Err(fs),
    }
}

struct Stored {
    authority: String,
    name: String,
    iban: String,
    bic: String,
}

async fn load(state: &AppState, id: &str) -> AppResult<Stored> {
    let r = sqlx::query(
        "SELECT name, payee_name, payee_iban, payee_bic FROM authorities WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Stored {
        authority: r.try_get(0)?,
        name: r.try_get(1)?,
        iban: r.try_get(2)?,
        bic: r.try_get(3)?,
    })
}

/// The authority page's section. An account counts as stored under the same condition the
/// notice form applies (holder and a valid IBAN), so this page never promises notices that
/// the form then refuses.
pub(super) async fn summary(state: &AppState, id: &str) -> AppResult<admin::PayeeSummary> {
    let s = load(state, id).await?;
    let account = match Iban::parse(&s.iban) {
        Some(iban) if !s.name.trim().is_empty() => Some(admin::PayeeAccount {
            name: s.name,
            iban: iban.grouped(),
            bic: s.bic,
        }),
        _ => None,
    };
    Ok(admin::PayeeSummary {
        account,
        online: state.payment_providers.has(id),
    })
}

fn action(id: &str) -> String {
    format!("/verwaltung/admin/behoerden/{id}/konto")
}

pub async fn edit_page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let s = load(&state, &id).await?;
    let iban = Iban::parse(&s.iban).map_or(s.iban, |i| i.grouped());
    let fs = state_with(&[
        ("payee_name", &s.name),
        ("payee_iban", &iban),
        ("payee_bic", &s.bic),
    ]);
    Ok(private_html(admin::payee_form(
        &ctx.page(),
        &fs,
        &s.authority,
        &action(&id),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(id): Path<String>,
    Form(f): Form<PayeeForm>,
) -> AppResult<Response> {
    let s = load(&state, &id).await?;
    let v = match validate(&f, ctx.lang) {
        Ok(v) => v,
        Err(fs) => {
            return Ok(invalid(admin::payee_form(
                &ctx.page(),
                &fs,
                &s.authority,
                &action(&id),
            )))
        }
    };
    let mut tx = state.db.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE authorities SET payee_name = $1, payee_iban = $2, payee_bic = $3 WHERE id = $4",
    )
    .bind(&v.name)
    .bind(v.iban.as_str())
    .bind(&v.bic)
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
        "admin.authority.payee",
        Subject::Authority(&id),
        &format!(
            "payee_name={}; payee_iban={}; payee_bic={}",
            v.name,
            v.iban.as_str(),
            v.bic
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/behoerden/{id}?ok=saved"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, iban: &str, bic: &str) -> PayeeForm {
        PayeeForm {
            payee_name: name.into(),
            payee_iban: iban.into(),
            payee_bic: bic.into(),
        }
    }

    #[test]
    fn bics_follow_the_girocode_rule() {
        assert_eq!(bic(""), Some(String::new()));
        assert_eq!(bic("  "), Some(String::new()));
        assert_eq!(bic("soladest600").as_deref(), Some("SOLADEST600"));
        assert_eq!(bic("SOLA DE ST").as_deref(), Some("SOLADEST"));
        assert_eq!(bic("SOLADES"), None, "7 characters");
        assert_eq!(bic("SOLADEST6000"), None, "12 characters");
        assert_eq!(bic("SOLADEST60"), None, "10 characters");
        assert_eq!(bic("S0LADEST"), None, "bank code with a digit");
        assert_eq!(bic("SOLA1EST"), None, "country with a digit");
        assert_eq!(bic("SOLADE-T"), None);
        assert_eq!(bic("SOLADÉST"), None);
    }

    #[test]
    fn every_problem_at_once() {
        let fs = match validate(&form("", "DE00", "XX"), Lang::De) {
            Err(fs) => fs,
            Ok(_) => panic!("accepted"),
        };
        let fields: Vec<&str> = fs.errors.iter().map(|e| e.field_id.as_str()).collect();
        assert_eq!(fields, ["payee_name", "payee_iban", "payee_bic"]);
        assert_eq!(fs.value("payee_iban"), "DE00", "typed value kept");
    }

    #[test]
    fn seventy_characters_fit_and_seventy_one_do_not() {
        let iban = "DE89 3704 0044 0532 0130 00";
        assert!(validate(&form(&"ä".repeat(70), iban, ""), Lang::De).is_ok());
        assert!(validate(&form(&"ä".repeat(71), iban, ""), Lang::De).is_err());
        assert!(validate(&form("Stadt\nkasse", iban, ""), Lang::De).is_err());
    }
}
