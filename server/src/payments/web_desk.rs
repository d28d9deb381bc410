//! The payments desk (`/verwaltung/zahlungen`): staff who lead a postbox of an authority, and
//! administrators, import the authority's bank statements and assign what could not be
//! matched.

use amtsweg_app::i18n::{t, tf, Lang};
use amtsweg_app::pages::fees::{self as pages, OpenPayment};
use amtsweg_app::FormState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::io::AsyncWriteExt;

use super::camt::CamtError;
use super::notices::date_de;
use super::reconcile::{self, BookedPayment, ImportError, Importer, Outcome};
use crate::backoffice::access::Staff;
use crate::backoffice::audit::{self, Subject};
use crate::domain::{CreditorReference, Money, Reference, Role};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;
use crate::time::format_ms;

/// Statements larger than this are refused while they stream in.
const MAX_STATEMENT_BYTES: u64 = 200 * 1024 * 1024;

/// Authorities whose payments this person handles: all for administrators, otherwise those
/// where they lead a postbox.
pub async fn desk_authorities(state: &AppState, staff: &Staff) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = if staff.user.role == Role::Admin {
        sqlx::query_as("SELECT id, name FROM authorities ORDER BY name")
            .fetch_all(&state.db.pool)
            .await?
    } else {
        sqlx::query_as(
            "SELECT DISTINCT a.id, a.name FROM memberships m JOIN postboxes p ON p.id = m.postbox_id
             JOIN authorities a ON a.id = p.authority_id WHERE m.user_id = $1 AND m.role = 'lead' ORDER BY a.name",
        )
        .bind(&staff.user.id)
        .fetch_all(&state.db.pool)
        .await?
    };
    Ok(rows)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Params {
    ok: String,
    new: String,
    matched: String,
    open: String,
    known: String,
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let num = |s: &str| s.parse::<u64>().unwrap_or(0).to_string();
    let notice = match p.ok.as_str() {
        "imported" => Some(tf(
            lang,
            "fees.desk.ok_imported",
            &[
                ("new", &num(&p.new)),
                ("matched", &num(&p.matched)),
                ("open", &num(&p.open)),
                ("known", &num(&p.known)),
            ],
        )),
        "assigned" => Some(t(lang, "fees.desk.ok_assigned").to_string()),
        _ => None,
    };
    render(&state, &staff, FormState::default(), notice, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    staff: &Staff,
    form: FormState,
    notice: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let authorities = desk_authorities(state, staff).await?;
    if authorities.is_empty() {
        return Err(AppError::NotFound);
    }
    let mut imports = Vec::new();
    let mut open = Vec::new();
    for (id, name) in &authorities {
        for r in sqlx::query(
            "SELECT imported_at, file_name, account_iban, entries, new_payments, matched FROM bank_statements
             WHERE authority_id = $1 ORDER BY imported_at DESC LIMIT 20",
        )
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?
        {
            imports.push(vec![
                format_ms(r.try_get(0)?),
                r.try_get(1)?,
                format!("{name} · {}", super::web_staff::grouped(&r.try_get::<String, _>(2)?)),
                r.try_get::<i64, _>(3)?.to_string(),
                r.try_get::<i64, _>(4)?.to_string(),
                r.try_get::<i64, _>(5)?.to_string(),
            ]);
        }
        for r in sqlx::query(
            "SELECT p.id, p.booking_date, p.amount_cents, p.payer_name, p.remittance, n.payment_reference, n.number, c.reference
             FROM payments p LEFT JOIN fee_notices n ON n.id = p.suggested_notice_id LEFT JOIN cases c ON c.id = n.case_id
             WHERE p.authority_id = $1 AND p.matched_by = 'none' ORDER BY p.created_at, p.id LIMIT 200",
        )
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?
        {
            let suggested: Option<String> = r.try_get(5)?;
            let number: Option<i64> = r.try_get(6)?;
            let case: Option<String> = r.try_get(7)?;
            open.push(OpenPayment {
                id: r.try_get(0)?,
                date: date_de(&r.try_get::<String, _>(1)?),
                amount: Money(r.try_get(2)?).format_de(),
                payer: r.try_get(3)?,
                remittance: r.try_get(4)?,
                suggestion: suggested.map(|s| {
                    let label = format!(
                        "{} · {}",
                        case.unwrap_or_default(),
                        amtsweg_app::pages::fees::notice_title(lang, number.unwrap_or(0))
                    );
                    (s, label)
                }),
            });
        }
    }
    imports.sort_by(|a, b| b[0].cmp(&a[0]));
    let mut resp = private_html(pages::desk(
        &staff.ctx.page(),
        pages::DeskView {
            authorities,
            imports,
            open,
            form,
            notice,
        },
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

/// The message for a statement that cannot be read.
fn camt_problem(lang: Lang, e: &CamtError) -> String {
    t(lang, e.message_key()).to_string()
}

/// Imports a statement: streamed to a temporary file (never held in memory), parsed on a
/// blocking thread, booked in one transaction.
pub async fn import(
    State(state): State<AppState>,
    staff: Staff,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let mut form = FormState::default();
    let mut authority = String::new();
    let mut file: Option<(std::path::PathBuf, String, String, u64)> = None;
    let tmp_dir = state.storage.temp_dir().to_path_buf();
    let mut too_large = false;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        match field.name() {
            Some("authority") => authority = field.text().await.unwrap_or_default(),
            Some("statement") => {
                let name = field
                    .file_name()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect::<String>();
                if name.is_empty() {
                    continue;
                }
                tokio::fs::create_dir_all(&tmp_dir)
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                let path = tmp_dir.join(format!("statement-{}.xml", uuid::Uuid::new_v4().simple()));
                let mut out = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
                let mut hasher = Sha256::new();
                let mut size = 0u64;
                let mut failed = false;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            size += chunk.len() as u64;
                            if size > MAX_STATEMENT_BYTES {
                                too_large = true;
                                break;
                            }
                            hasher.update(&chunk);
                            if out.write_all(&chunk).await.is_err() {
                                failed = true;
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
                let _ = out.flush().await;
                if too_large || failed {
                    let _ = tokio::fs::remove_file(&path).await;
                    if failed {
                        form.add_error(lang, "statement", "fees.desk.err_file");
                    }
                    continue;
                }
                file = Some((path, name, hex::encode(hasher.finalize()), size));
            }
            _ => {}
        }
    }
    form.values.insert("authority".into(), authority.clone());
    let allowed = desk_authorities(&state, &staff).await?;
    if allowed.is_empty() {
        return Err(AppError::NotFound);
    }
    if !allowed.iter().any(|(id, _)| *id == authority) {
        form.add_error(lang, "authority", "fees.desk.err_authority");
    }
    if too_large {
        form.add_error(lang, "statement", "fees.desk.err_too_large");
    } else if file.is_none() && form.error("statement").is_none() {
        form.add_error(lang, "statement", "fees.desk.err_file");
    }
    if let (false, Some((path, ..))) = (form.is_valid(), &file) {
        let _ = tokio::fs::remove_file(path).await;
    }
    let Some((path, name, sha, _size)) = file.filter(|_| form.is_valid()) else {
        return render(&state, &staff, form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let who = Importer {
        user: &staff.user,
        ip: &staff.ip,
    };
    let result = super::import::import_file(
        &state.db,
        &who,
        &authority,
        &name,
        &sha,
        path.clone(),
        &state.config.public_url,
    )
    .await;
    let _ = tokio::fs::remove_file(&path).await;
    match result {
        Ok(Outcome {
            new,
            matched,
            open,
            known,
            ..
        }) => {
            state.mail_wakeup.notify_one();
            Ok(see_other(&format!(
                "/verwaltung/zahlungen?ok=imported&new={new}&matched={matched}&open={open}&known={known}"
            )))
        }
        Err(ImportError::Database(e)) => Err(e.into()),
        Err(e) => {
            let message = match &e {
                ImportError::Camt(c) => camt_problem(lang, c),
                ImportError::WrongAccount(iban) => {
                    tf(lang, "fees.desk.err_account", &[("iban", iban)])
                }
                _ => t(lang, "fees.form.no_payee_text").to_string(),
            };
            form.errors.push(amtsweg_app::components::FieldError {
                field_id: "statement".into(),
                message,
            });
            render(&state, &staff, form, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(serde::Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    reference: String,
}

/// A person assigns an unmatched payment by payment reference or case reference.
pub async fn assign(
    State(state): State<AppState>,
    staff: Staff,
    Path(payment_id): Path<String>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let allowed = desk_authorities(&state, &staff).await?;
    let row =
        sqlx::query("SELECT authority_id, amount_cents, matched_by FROM payments WHERE id = $1")
            .bind(&payment_id)
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or(AppError::NotFound)?;
    let (authority, amount, matched_by): (String, i64, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if !allowed.iter().any(|(id, _)| *id == authority) {
        return Err(AppError::NotFound);
    }
    let mut form = FormState::default();
    form.values.insert("reference".into(), f.reference.clone());
    if matched_by != "none" {
        form.add_error(lang, "reference", "fees.desk.err_assigned");
        return render(&state, &staff, form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let Some(notice_id) = find_notice(&state, &authority, &f.reference, amount).await? else {
        form.add_error(lang, "reference", "fees.desk.err_reference");
        return render(&state, &staff, form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mut tx = state.db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE payments SET notice_id = $1, matched_by = 'manual', matched_at = $2 WHERE id = $3 AND matched_by = 'none'",
    )
    .bind(&notice_id)
    .bind(crate::time::now_ms())
    .bind(&payment_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        drop(tx);
        form.add_error(lang, "reference", "fees.desk.err_assigned");
        return render(&state, &staff, form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    reconcile::settle(
        &mut tx,
        &staff.user,
        &staff.ip,
        &[BookedPayment {
            payment_id: payment_id.clone(),
            notice_id,
            amount: Money(amount),
        }],
        &state.config.public_url,
    )
    .await?;
    audit::record(
        &mut tx,
        &staff.user,
        &staff.ip,
        "payments.assign",
        Subject::Payment(&payment_id),
        &f.reference,
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(see_other("/verwaltung/zahlungen?ok=assigned"))
}

/// The notice of this authority that a typed reference names: an RF reference, or a case
/// reference (its open notice; with several, the one over exactly this amount).
async fn find_notice(
    state: &AppState,
    authority: &str,
    typed: &str,
    amount: i64,
) -> AppResult<Option<String>> {
    if let Some(rf) = CreditorReference::parse(typed) {
        return Ok(sqlx::query_scalar(
            "SELECT id FROM fee_notices WHERE payment_reference = $1 AND authority_id = $2",
        )
        .bind(rf.as_str())
        .bind(authority)
        .fetch_optional(&state.db.pool)
        .await?);
    }
    let Some(case_ref) = Reference::parse(typed) else {
        return Ok(None);
    };
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT n.id, n.total_cents - n.paid_cents FROM fee_notices n JOIN cases c ON c.id = n.case_id
         WHERE c.reference = $1 AND n.authority_id = $2 AND n.state = 'open' ORDER BY n.number DESC",
    )
    .bind(case_ref.as_str())
    .bind(authority)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(match rows.as_slice() {
        [] => None,
        [(only, _)] => Some(only.clone()),
        several => several
            .iter()
            .find(|(_, left)| *left == amount)
            .or(several.first())
            .map(|(id, _)| id.clone()),
    })
}
