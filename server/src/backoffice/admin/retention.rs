//! A service's retention period for closed cases (`crate::retention`): its own number of days,
//! or empty for the deployment's default.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::admin;
use amtsweg_app::FormState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;

use super::{invalid, state_with};
use crate::backoffice::access::Admin;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::retention::{self, DAYS};
use crate::state::AppState;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RetentionForm {
    days: String,
}

/// Empty means the default (`None`); anything else must be a whole number of days in `DAYS`.
fn validate(f: &RetentionForm, lang: Lang) -> Result<Option<i64>, FormState> {
    let raw = f.days.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(d) if DAYS.contains(&d) => Ok(Some(d)),
        _ => {
            let mut fs = state_with(&[("days", &f.days)]);
            fs.add_error(lang, "days", "retention.v.days");
            Err(fs)
        }
    }
}

fn action(key: &str) -> String {
    format!("/verwaltung/admin/leistungen/{key}/aufbewahrung")
}

async fn title(state: &AppState, key: &str, lang: Lang) -> AppResult<String> {
    let s = retention::service_setting(&state.db, key)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(if lang == Lang::De {
        s.title_de
    } else {
        s.title_en
    })
}

pub async fn edit_page(
    State(state): State<AppState>,
    Admin { ctx, .. }: Admin,
    Path(key): Path<String>,
) -> AppResult<Response> {
    let s = retention::service_setting(&state.db, &key)
        .await?
        .ok_or(AppError::NotFound)?;
    let fs = state_with(&[("days", &s.days.map(|d| d.to_string()).unwrap_or_default())]);
    let title = if ctx.lang == Lang::De {
        s.title_de
    } else {
        s.title_en
    };
    Ok(private_html(admin::retention_form(
        &ctx.page(),
        &fs,
        &title,
        state.config.case_retention_days,
        &action(&key),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    Admin { ctx, user, ip }: Admin,
    Path(key): Path<String>,
    Form(f): Form<RetentionForm>,
) -> AppResult<Response> {
    let days = match validate(&f, ctx.lang) {
        Ok(d) => d,
        Err(fs) => {
            let title = title(&state, &key, ctx.lang).await?;
            return Ok(invalid(admin::retention_form(
                &ctx.page(),
                &fs,
                &title,
                state.config.case_retention_days,
                &action(&key),
            )));
        }
    };
    let mut tx = state.db.begin_write().await?;
    if !retention::set_service_days(&mut tx, &user, &ip, &key, days).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(see_other("/verwaltung/admin/leistungen?ok=saved"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(raw: &str) -> Result<Option<i64>, ()> {
        validate(&RetentionForm { days: raw.into() }, Lang::De).map_err(|_| ())
    }

    #[test]
    fn empty_is_the_default_and_numbers_must_be_whole_days_in_range() {
        assert_eq!(days(""), Ok(None));
        assert_eq!(days("  "), Ok(None));
        assert_eq!(days(" 30 "), Ok(Some(30)));
        assert_eq!(days("1"), Ok(Some(1)));
        assert_eq!(days("36500"), Ok(Some(36_500)));
        for bad in ["0", "-5", "36501", "1.5", "30 Tage", "zehn"] {
            assert_eq!(days(bad), Err(()), "{bad}");
        }
    }
}
