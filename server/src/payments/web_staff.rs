//! The caseworker's side of fee notices: the notice form (prefilled from the service's fee
//! schedule and the postbox's template), the notice page, cancelling and correcting.

use amtsweg_app::components::TagKind;
use amtsweg_app::i18n::{t, Lang};
use amtsweg_app::pages::fees::{self as pages, CaseFeeRow, ITEM_ROWS};
use amtsweg_app::FormState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use std::collections::HashMap;

use super::notices::{self, date_de, date_string, FeeRefused, Notice, NoticeInput, NoticeState};
use crate::applications::catalog;
use crate::backoffice::access::{staff_case, Staff, StaffCase};
use crate::backoffice::cases::Actor;
use crate::domain::{is_plain_text, Money};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;
use crate::time::format_ms;

/// How a notice's state reads in lists, for staff and citizens alike.
pub fn state_tag(lang: Lang, n: &Notice, today: &str) -> (TagKind, String) {
    let (kind, key) = match n.state {
        NoticeState::Paid if n.paid.0 > n.total.0 => (TagKind::Warning, "fees.state.overpaid"),
        NoticeState::Paid => (TagKind::Success, "fees.state.paid"),
        NoticeState::Cancelled => (TagKind::Neutral, "fees.state.cancelled"),
        NoticeState::Replaced => (TagKind::Neutral, "fees.state.replaced"),
        NoticeState::Open if n.is_overdue(today) => (TagKind::Danger, "fees.state.overdue"),
        NoticeState::Open if n.paid.0 > 0 => (TagKind::Warning, "fees.state.partial"),
        NoticeState::Open => (TagKind::Info, "fees.state.open"),
    };
    (kind, t(lang, key).to_string())
}

/// The case page's list of notices.
pub async fn case_rows(
    state: &AppState,
    lang: Lang,
    case: &StaffCase,
) -> AppResult<Vec<CaseFeeRow>> {
    let today = notices::today();
    Ok(notices::for_case(&state.db, &case.id)
        .await?
        .iter()
        .map(|n| CaseFeeRow {
            href: format!(
                "/verwaltung/vorgaenge/{}/gebuehren/{}",
                case.reference, n.number
            ),
            label: pages::notice_title(lang, n.number),
            amount: n.total.format_de(),
            due: date_de(&n.due_date),
            state: state_tag(lang, n, &today),
        })
        .collect())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewParams {
    ersetzt: String,
}

async fn notice_by_number(state: &AppState, case: &StaffCase, number: &str) -> AppResult<Notice> {
    let number: i64 = number.parse().map_err(|_| AppError::NotFound)?;
    notices::by_number(&state.db, &case.id, number)
        .await?
        .ok_or(AppError::NotFound)
}

/// The notice form, prefilled: a new notice from the fee schedule, a correction from the
/// notice it replaces.
pub async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Query(p): Query<NewParams>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let setup = notices::setup(&state.db, &case.postbox_id).await?;
    let def = catalog::definition(&state.db, &case.service_key, case.version)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut f = FormState::default();
    let due = time::OffsetDateTime::now_utc().date() + time::Duration::days(setup.due_days);
    f.values.insert("due_date".into(), date_string(due));
    f.values.insert("remedy".into(), setup.remedy.clone());
    let replaces = if p.ersetzt.is_empty() {
        for (i, item) in def.fee_items.iter().take(ITEM_ROWS).enumerate() {
            f.values
                .insert(format!("item_label_{i}"), item.label.de.clone());
            if let Some(m) = item.money() {
                f.values.insert(format!("item_amount_{i}"), amount_input(m));
            }
        }
        f.values
            .insert("legal_basis".into(), def.legal_basis.de.clone());
        None
    } else {
        let old = notice_by_number(&state, &case, &p.ersetzt).await?;
        for (i, (label, m)) in old.items.iter().take(ITEM_ROWS).enumerate() {
            f.values.insert(format!("item_label_{i}"), label.clone());
            f.values
                .insert(format!("item_amount_{i}"), amount_input(*m));
        }
        f.values
            .insert("legal_basis".into(), old.legal_basis.clone());
        f.values.insert("remedy".into(), old.remedy.clone());
        Some(old.number)
    };
    render_form(&staff, &case, setup, &def, replaces, f, StatusCode::OK)
}

/// `30,70`: what a caseworker would type.
fn amount_input(m: Money) -> String {
    format!("{},{:02}", m.0 / 100, m.0 % 100)
}

fn render_form(
    staff: &Staff,
    case: &StaffCase,
    setup: notices::NoticeSetup,
    def: &crate::applications::definition::Definition,
    replaces: Option<i64>,
    mut form: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    if let Some(n) = replaces {
        form.values.insert("replaces".into(), n.to_string());
    }
    let payee = setup.payee.map(|p| {
        vec![
            (t(lang, "fees.citizen.recipient").to_string(), p.name),
            (t(lang, "fees.citizen.iban").to_string(), p.iban.to_string()),
            (t(lang, "fees.citizen.bic").to_string(), p.bic),
        ]
    });
    let mut resp = private_html(pages::notice_form(
        &staff.ctx.page(),
        pages::NoticeFormView {
            reference: case.reference.clone(),
            service_title: def.title.get(lang).to_string(),
            payee,
            replaces,
            form,
        },
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

/// Reads and checks the notice form; every problem is reported at once.
fn read_form(lang: Lang, raw: &HashMap<String, String>) -> (FormState, Option<NoticeInput>) {
    let mut f = FormState::default();
    for (k, v) in raw {
        if k != "_csrf" {
            f.values.insert(k.clone(), v.clone());
        }
    }
    let mut items = Vec::new();
    for i in 0..ITEM_ROWS {
        let (ln, an) = (format!("item_label_{i}"), format!("item_amount_{i}"));
        let label = f.value(&ln).trim().to_string();
        let amount = f.value(&an);
        if label.is_empty() && amount.trim().is_empty() {
            continue;
        }
        if label.is_empty() {
            f.add_error(lang, &ln, "fees.form.err_item_label");
        } else if !is_plain_text(&label, 200) {
            f.add_error(lang, &ln, "fees.form.err_text");
        }
        match Money::parse(&amount).filter(|m| m.0 > 0 && m.0 <= notices::MAX_TOTAL_CENTS) {
            Some(m) => items.push((label, m)),
            None => f.add_error(lang, &an, "fees.form.err_item_amount"),
        }
    }
    if items.is_empty() && f.is_valid() {
        f.add_error(lang, "item_label_0", "fees.form.err_no_items");
    }
    let total: i64 = items.iter().map(|(_, m)| m.0).sum();
    if total > notices::MAX_TOTAL_CENTS {
        f.add_error(lang, "item_amount_0", "fees.form.err_total");
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let today = time::OffsetDateTime::now_utc().date();
    let due = time::Date::parse(f.value("due_date").trim(), &fmt)
        .ok()
        .filter(|d| notices::due_date_allowed(*d, today));
    if due.is_none() {
        f.add_error(lang, "due_date", "fees.form.err_due");
    }
    let legal_basis = f.value("legal_basis").trim().to_string();
    if legal_basis.is_empty() {
        f.add_error(lang, "legal_basis", "fees.form.err_legal_basis");
    } else if legal_basis.chars().count() > notices::MAX_LEGAL_BASIS {
        f.add_error(lang, "legal_basis", "fees.form.err_text");
    }
    let remedy = f.value("remedy").trim().replace("\r\n", "\n");
    if remedy.is_empty() {
        f.add_error(lang, "remedy", "fees.form.err_remedy");
    } else if remedy.chars().count() > notices::MAX_REMEDY {
        f.add_error(lang, "remedy", "fees.form.err_text");
    }
    let input = match (due, f.is_valid()) {
        (Some(due_date), true) => Some(NoticeInput {
            items,
            due_date,
            legal_basis,
            remedy,
        }),
        _ => None,
    };
    (f, input)
}

fn refused_key(e: &FeeRefused) -> &'static str {
    match e {
        FeeRefused::NoPayee => "fees.form.no_payee_text",
        FeeRefused::NotOpen => "fees.form.err_not_open",
        FeeRefused::HasPayments => "fees.form.err_has_payments",
        FeeRefused::Stale => "fees.form.err_stale",
        _ => "fees.form.err_document",
    }
}

pub async fn issue(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Form(raw): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let replaces = match raw.get("replaces").map(String::as_str) {
        None | Some("") => None,
        Some(n) => Some(notice_by_number(&state, &case, n).await?),
    };
    let (mut f, input) = read_form(lang, &raw);
    if let Some(input) = input {
        let actor = Actor {
            user: &staff.user,
            ip: &staff.ip,
        };
        match super::issue::issue(&state, &actor, &case, &input, replaces.as_ref()).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/verwaltung/vorgaenge/{reference}?ok=fee#gebuehren"
                )))
            }
            Err(FeeRefused::Database(e)) => return Err(e.into()),
            Err(e) => {
                if matches!(e, FeeRefused::Document(_) | FeeRefused::Storage(_)) {
                    tracing::error!(error = %e, "fee notice document");
                }
                f.add_error(lang, "item_label_0", refused_key(&e));
            }
        }
    }
    let setup = notices::setup(&state.db, &case.postbox_id).await?;
    let def = catalog::definition(&state.db, &case.service_key, case.version)
        .await?
        .ok_or(AppError::NotFound)?;
    render_form(
        &staff,
        &case,
        setup,
        &def,
        replaces.map(|n| n.number),
        f,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path((reference, number)): Path<(String, String)>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let n = notice_by_number(&state, &case, &number).await?;
    render_notice(
        &state,
        &staff,
        &case,
        &n,
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

async fn render_notice(
    state: &AppState,
    staff: &Staff,
    case: &StaffCase,
    n: &Notice,
    form: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let l = |k: &str| t(lang, k).to_string();
    let mut facts = vec![
        (
            l("fees.notice.payment_reference"),
            grouped(&n.payment_reference),
        ),
        (l("fees.notice.due"), date_de(&n.due_date)),
        (l("fees.notice.paid"), n.paid.format_de()),
        (
            l("fees.notice.issued"),
            format!("{} · {}", format_ms(n.issued_at), n.issued_by),
        ),
        (
            l("fees.citizen.recipient"),
            format!("{}, {}", n.payee_name, grouped(&n.payee_iban)),
        ),
    ];
    if let Some(at) = n
        .closed_at
        .filter(|_| matches!(n.state, NoticeState::Cancelled | NoticeState::Replaced))
    {
        facts.push((l("fees.notice.closed"), format_ms(at)));
        facts.push((l("fees.notice.reason"), n.close_reason.clone()));
    }
    let payments = super::reconcile::payments_of(&state.db, &n.id)
        .await?
        .into_iter()
        .map(|p| {
            vec![
                p.date,
                p.amount.format_de(),
                p.payer,
                t(lang, &format!("fees.pay.how.{}", p.matched_by)).to_string(),
            ]
        })
        .collect();
    let mut resp = private_html(pages::staff_notice(
        &staff.ctx.page(),
        pages::StaffNoticeView {
            reference: case.reference.clone(),
            number: n.number,
            state: state_tag(lang, n, &notices::today()),
            facts,
            items: n
                .items
                .iter()
                .map(|(l, m)| (l.clone(), m.format_de()))
                .collect(),
            total: n.total.format_de(),
            pdf_href: n
                .document_id
                .as_ref()
                .map(|d| format!("/verwaltung/vorgaenge/{}/dokumente/{d}", case.reference)),
            payments,
            can_change: n.state == NoticeState::Open && n.paid.0 == 0,
            form,
        },
    ));
    *resp.status_mut() = status;
    Ok(resp)
}

/// IBANs and references in groups of four, as people read them.
pub fn grouped(s: &str) -> String {
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(serde::Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    staff: Staff,
    Path((reference, number)): Path<(String, String)>,
    Form(form): Form<CancelForm>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let n = notice_by_number(&state, &case, &number).await?;
    let reason = form.reason.trim().replace("\r\n", "\n");
    let mut f = FormState::default();
    f.values.insert("reason".into(), form.reason.clone());
    if reason.is_empty() {
        f.add_error(lang, "reason", "fees.notice.err_reason");
    } else if reason.chars().count() > notices::MAX_REASON {
        f.add_error(lang, "reason", "fees.form.err_text");
    }
    if f.is_valid() {
        let actor = Actor {
            user: &staff.user,
            ip: &staff.ip,
        };
        match super::issue::cancel(&state, &actor, &case, &n, &reason).await {
            Ok(()) => {
                return Ok(see_other(&format!(
                    "/verwaltung/vorgaenge/{reference}?ok=feecancelled#gebuehren"
                )))
            }
            Err(FeeRefused::Database(e)) => return Err(e.into()),
            Err(e) => f.add_error(lang, "reason", refused_key(&e)),
        }
    }
    render_notice(
        &state,
        &staff,
        &case,
        &n,
        f,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
