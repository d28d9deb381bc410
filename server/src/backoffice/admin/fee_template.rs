//! A postbox's template for fee notices: the instructions on legal remedies and the payment
//! period the notice form starts from. A form of its own rather than part of the postbox form,
//! which also creates postboxes and is about routing, not fees.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::{invalid, state_with};
use crate::backoffice::access::Admin;
use crate::backoffice::audit::{self, Subject};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;

/// The notice form accepts no longer instructions, so a longer template could never be used.
const MAX_REMEDY: usize = 5000;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    fee_due_days: String,
    fee_remedy: String,
}

fn entered(f: &TemplateForm) -> FormState {
    state_with(&[
        ("fee_due_days", &f.fee_due_days),
        ("fee_remedy", &f.fee_remedy),
    ])
}

/// Browsers send line breaks as CRLF; notices and their PDF expect LF. Tabs pasted from word
/// processors become spaces, as the notice lays text out itself.
fn normalised(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\t', " ")
        .trim()
        .to_string()
}

/// Checks both fields, so that all problems are reported at once. The instructions may be
/// empty: caseworkers then write them into each notice.
fn validate(f: &TemplateForm, lang: Lang) -> Result<(i64, String), FormState> {
    let mut fs = entered(f);
    let days = f
        .fee_due_days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=365).contains(d));
    if days.is_none() {
        fs.add_error(lang, "fee_due_days", "admin.v.fee_due_days");
    }
    let remedy = normalised(&f.fee_remedy);
    if remedy.chars().count() > MAX_REMEDY {
        fs.add_error(lang, "fee_remedy", "admin.v.fee_remedy");
    } else if remedy.chars().any(|c| c.is_control() && c != '\n') {
        fs.add_error(lang, "fee_remedy", "admin.v.text");
    }
    match days {
        Some(d) if fs.is_valid() => Ok((d, remedy)),
        _ => Err(fs),
    }
}

struct Stored {
    /// "Authority – postbox", above the form's heading.
    preline: String,
    due_days: i64,
    remedy: String,
}

async fn load(state: &AppState, id: &str) -> AppResult<Stored> {
    let r = sqlx::query(
        "SELECT a.name, p.name, p.fee_due_days, p.fee_remedy
         FROM postboxes p JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Stored {
        preline: format!(
            "{} – {}",
            r.try_get::<String, _>(0)?,
            r.try_get::<String, _>(1)?
        ),
        due_days: r.try_get(2)?,
        remedy: r.try_get(3)?,
    })
}

/// The postbox page's section.
pub(super) async fn summary(state: &AppState, id: &str) -> AppResult<admin::FeeTemplateSummary> {
    let s = load(state, id).await?;
    Ok(admin::FeeTemplateSummary {
        due_days: s.due_days,
        remedy: s.remedy,
    })
}

fn action(id: &str) -> String {
    format!("/verwaltung/admin/postfaecher/{id}/gebuehren")
}

pub async fn edit_page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let s = load(&state, &id).await?;
    let fs = state_with(&[
        ("fee_due_days", &s.due_days.to_string()),
        ("fee_remedy", &s.remedy),
    ]);
    Ok(private_html(admin::fee_template_form(
        &ctx.page(),
        &fs,
        &s.preline,
        &action(&id),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(id): Path<String>,
    Form(f): Form<TemplateForm>,
) -> AppResult<Response> {
    let s = load(&state, &id).await?;
    let (days, remedy) = match validate(&f, ctx.lang) {
        Ok(v) => v,
        Err(fs) => {
            return Ok(invalid(admin::fee_template_form(
                &ctx.page(),
                &fs,
                &s.preline,
                &action(&id),
            )))
        }
    };
    let mut tx = state.db.begin_write().await?;
    let changed =
        sqlx::query("UPDATE postboxes SET fee_due_days = $1, fee_remedy = $2 WHERE id = $3")
            .bind(days)
            .bind(&remedy)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    // The whole text: which instructions notices were prefilled with may matter later.
    audit::record(
        &mut tx,
        &user,
        &ip,
        "admin.postbox.fees",
        Subject::Postbox(&id),
        &format!("fee_due_days={days}; fee_remedy={remedy}"),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/verwaltung/admin/postfaecher/{id}?ok=saved"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(days: &str, remedy: &str) -> TemplateForm {
        TemplateForm {
            fee_due_days: days.into(),
            fee_remedy: remedy.into(),
        }
    }

    #[test]
    fn line_breaks_are_kept_and_normalised() {
        let (days, remedy) = validate(
            &form(" 14 ", "\r\nErste Zeile\r\nZweite\rDritte\tEnde\r\n"),
            Lang::De,
        )
        .unwrap_or_else(|_| panic!("refused"));
        assert_eq!(days, 14);
        assert_eq!(remedy, "Erste Zeile\nZweite\nDritte Ende");
    }

    #[test]
    fn limits() {
        assert!(validate(&form("30", ""), Lang::De).is_ok(), "may be empty");
        assert!(validate(&form("1", &"x".repeat(5000)), Lang::De).is_ok());
        assert!(validate(&form("365", &"x".repeat(5001)), Lang::De).is_err());
        for days in ["0", "366", "-1", "", "30 Tage", "1.5"] {
            assert!(validate(&form(days, ""), Lang::De).is_err(), "{days}");
        }
        assert!(validate(&form("30", "a\u{0}b"), Lang::De).is_err());
    }
}
