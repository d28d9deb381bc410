//! The once-only profile: what the citizen told us once, offered again in later forms.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::account::{self, ProfilePage};
use amtsweg_app::FormState;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::forms::{invalid, state_with};
use super::postal;
use crate::domain::{is_plain_text, PostalCode};
use crate::error::AppResult;
use crate::http::ctx::{private_html, see_other, Authed};
use crate::state::AppState;
use crate::time::{format_ms, now_ms};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ProfileQuery {
    ok: Option<String>,
}

async fn usages(state: &AppState, user_id: &str) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT used_at, used_for FROM profile_usage WHERE user_id = $1 ORDER BY used_at DESC LIMIT 50")
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok((format_ms(r.try_get(0)?), r.try_get(1)?)))
        .collect()
}

fn choices(list: &[postal::Municipality]) -> Vec<(String, String)> {
    list.iter()
        .map(|m| {
            let label = if m.county.is_empty() {
                m.place.clone()
            } else {
                format!("{} ({})", m.place, m.county)
            };
            (m.ags.clone(), label)
        })
        .collect()
}

pub async fn page(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Query(q): Query<ProfileQuery>,
) -> AppResult<Response> {
    let row = sqlx::query(
        "SELECT given_name, family_name, birth_date, street, house_number, postal_code, place, ags, phone
         FROM profiles WHERE user_id = $1",
    )
    .bind(&user.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let mut fs = FormState::default();
    let mut municipalities = Vec::new();
    if let Some(r) = row {
        let birth: String = r.try_get(2)?;
        let mut parts = birth.splitn(3, '-');
        let (y, m, d) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        fs = state_with(&[
            ("given_name", &r.try_get::<String, _>(0)?),
            ("family_name", &r.try_get::<String, _>(1)?),
            ("birth.day", d),
            ("birth.month", m),
            ("birth.year", y),
            ("street", &r.try_get::<String, _>(3)?),
            ("house_number", &r.try_get::<String, _>(4)?),
            ("postal_code", &r.try_get::<String, _>(5)?),
            ("place", &r.try_get::<String, _>(6)?),
            ("ags", &r.try_get::<String, _>(7)?),
            ("phone", &r.try_get::<String, _>(8)?),
        ]);
        let list = postal::lookup(&state.db, &fs.value("postal_code")).await?;
        if list.len() > 1 {
            municipalities = choices(&list);
        }
    }
    let page = ProfilePage {
        state: fs,
        municipalities,
        usages: usages(&state, &user.id).await?,
        saved: q.ok.is_some(),
    };
    Ok(private_html(account::profile(&ctx.page(), page)))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    given_name: String,
    family_name: String,
    #[serde(rename = "birth.day")]
    birth_day: String,
    #[serde(rename = "birth.month")]
    birth_month: String,
    #[serde(rename = "birth.year")]
    birth_year: String,
    street: String,
    house_number: String,
    postal_code: String,
    place: String,
    ags: String,
    phone: String,
}

/// Checks a date of birth given as day, month, year; returns `YYYY-MM-DD` or an error key.
pub fn birth_date(
    day: &str,
    month: &str,
    year: &str,
    today: time::Date,
) -> Result<Option<String>, &'static str> {
    let (d, m, y) = (day.trim(), month.trim(), year.trim());
    if d.is_empty() && m.is_empty() && y.is_empty() {
        return Ok(None);
    }
    if d.is_empty() || m.is_empty() || y.is_empty() {
        return Err("error.date.incomplete");
    }
    let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u8>(), m.parse::<u8>(), y.parse::<i32>()) else {
        return Err("error.date.invalid");
    };
    let month = time::Month::try_from(m).map_err(|_| "error.date.invalid")?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| "error.date.invalid")?;
    if date >= today {
        return Err("error.date.birth_future");
    }
    if y < 1900 {
        return Err("error.date.birth_too_old");
    }
    Ok(Some(format!("{y:04}-{m:02}-{d:02}")))
}

fn phone_ok(p: &str) -> bool {
    p.chars().count() <= 30
        && p.chars()
            .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
}

pub async fn save(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Form(f): Form<ProfileForm>,
) -> AppResult<Response> {
    let lang: Lang = ctx.lang;
    let mut fs = state_with(&[
        ("given_name", &f.given_name),
        ("family_name", &f.family_name),
        ("birth.day", &f.birth_day),
        ("birth.month", &f.birth_month),
        ("birth.year", &f.birth_year),
        ("street", &f.street),
        ("house_number", &f.house_number),
        ("postal_code", &f.postal_code),
        ("place", &f.place),
        ("ags", &f.ags),
        ("phone", &f.phone),
    ]);
    for (field, value, max) in [
        ("given_name", &f.given_name, 100),
        ("family_name", &f.family_name, 100),
        ("street", &f.street, 100),
        ("house_number", &f.house_number, 10),
        ("place", &f.place, 100),
    ] {
        if !is_plain_text(value, max) {
            fs.add_error(lang, field, "error.text.invalid");
        }
    }
    let today = time::OffsetDateTime::now_utc().date();
    let birth = match birth_date(&f.birth_day, &f.birth_month, &f.birth_year, today) {
        Ok(b) => b,
        Err(key) => {
            fs.add_error(lang, "birth", key);
            None
        }
    };
    if !phone_ok(&f.phone) {
        fs.add_error(lang, "phone", "error.phone.invalid");
    }
    let mut municipalities = Vec::new();
    let mut ags = String::new();
    let mut place = f.place.trim().to_string();
    let postal_code = f.postal_code.trim();
    if !postal_code.is_empty() {
        match PostalCode::parse(postal_code) {
            None => fs.add_error(lang, "postal_code", "error.postal_code.invalid"),
            Some(pc) => {
                let list = postal::lookup(&state.db, pc.as_str()).await?;
                fs.values
                    .insert("postal_code".into(), pc.as_str().to_string());
                match list.as_slice() {
                    [] if !postal::is_empty(&state.db).await? => {
                        fs.add_error(lang, "postal_code", "error.postal_code.unknown")
                    }
                    [] => {}
                    [one] => {
                        ags = one.ags.clone();
                        if place.is_empty() {
                            place = one.place.clone();
                        }
                    }
                    several => {
                        municipalities = choices(several);
                        match several.iter().find(|m| m.ags == f.ags) {
                            Some(m) => {
                                ags = m.ags.clone();
                                if place.is_empty() {
                                    place = m.place.clone();
                                }
                            }
                            None => fs.add_error(lang, "ags", "error.municipality.choose"),
                        }
                    }
                }
            }
        }
    }
    if !fs.is_valid() {
        let page = ProfilePage {
            state: fs,
            municipalities,
            usages: usages(&state, &user.id).await?,
            saved: false,
        };
        return Ok(invalid(account::profile(&ctx.page(), page)));
    }
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO profiles (user_id, given_name, family_name, birth_date, street, house_number, postal_code, place, ags, phone, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (user_id) DO UPDATE SET given_name = excluded.given_name, family_name = excluded.family_name,
            birth_date = excluded.birth_date, street = excluded.street, house_number = excluded.house_number,
            postal_code = excluded.postal_code, place = excluded.place, ags = excluded.ags, phone = excluded.phone,
            updated_at = excluded.updated_at",
    )
    .bind(&user.id)
    .bind(f.given_name.trim())
    .bind(f.family_name.trim())
    .bind(birth.unwrap_or_default())
    .bind(f.street.trim())
    .bind(f.house_number.trim())
    .bind(fs.value("postal_code"))
    .bind(&place)
    .bind(&ags)
    .bind(f.phone.trim())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(see_other("/konto/profil?ok=1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::November, 22).unwrap()
    }

    #[test]
    fn birth_dates() {
        assert_eq!(
            birth_date("27", "3", "1990", today()),
            Ok(Some("1990-03-27".into()))
        );
        assert_eq!(birth_date("", "", "", today()), Ok(None));
        assert_eq!(
            birth_date("31", "2", "1990", today()),
            Err("error.date.invalid")
        );
        assert_eq!(
            birth_date("1", "", "1990", today()),
            Err("error.date.incomplete")
        );
        assert_eq!(
            birth_date("1", "1", "2030", today()),
            Err("error.date.birth_future")
        );
        assert_eq!(
            birth_date("1", "1", "1850", today()),
            Err("error.date.birth_too_old")
        );
    }

    proptest! {
        #[test]
        fn birth_date_never_panics(d in "\\PC{0,6}", m in "\\PC{0,6}", y in "\\PC{0,8}") {
            let _ = birth_date(&d, &m, &y, today());
        }
    }
}
