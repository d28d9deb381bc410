//! The citizen's side: all fee notices of the account (open, paid, overdue, cancelled), each
//! notice with its bank details in text, the GiroCode, the PDF and, where the authority offers
//! it, online payment.

use amtsweg_app::components::AlertKind;
use amtsweg_app::i18n::t;
use amtsweg_app::pages::fees::{self as pages, FeeRow};
use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::document::giro_transfer;
use super::notices::{self, date_de, Notice, NoticeState, Payee};
use super::web_staff::{grouped, state_tag};
use crate::domain::{CreditorReference, Iban};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, Authed};
use crate::state::AppState;

/// Service titles of the cases where `column` (`c.user_id` or `c.id`) is `value`, by case id.
async fn service_titles(
    state: &AppState,
    lang: amtsweg_app::i18n::Lang,
    column: &str,
    value: &str,
) -> AppResult<std::collections::HashMap<String, String>> {
    Ok(sqlx::query_as::<_, (String, String)>(&format!(
        "SELECT c.id, {} FROM cases c JOIN services s ON s.service_key = c.service_key WHERE {column} = $1",
        crate::applications::catalog::title_column(lang)
    ))
    .bind(value)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .collect())
}

pub async fn overview(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let today = notices::today();
    let titles = service_titles(&state, lang, "c.user_id", &user.id).await?;
    let (mut open, mut done) = (Vec::new(), Vec::new());
    for n in notices::for_citizen(&state.db, &user.id).await? {
        let row = FeeRow {
            href: format!("/konto/gebuehren/{}", n.id),
            title: format!(
                "{} – {}",
                pages::notice_title(lang, n.number),
                titles.get(&n.case_id).cloned().unwrap_or_default()
            ),
            reference: n.case_reference.clone(),
            amount: n.total.format_de(),
            due: date_de(&n.due_date),
            state: state_tag(lang, &n, &today),
        };
        if n.state == NoticeState::Open {
            open.push(row);
        } else {
            done.push(row);
        }
    }
    Ok(private_html(pages::fee_overview(&ctx.page(), open, done)))
}

/// The citizen's own notice, or 404 (a foreign id looks exactly like a missing one).
pub async fn own_notice(state: &AppState, user_id: &str, id: &str) -> AppResult<Notice> {
    if id.len() > 40 {
        return Err(AppError::NotFound);
    }
    match notices::by_id(&state.db, id).await? {
        Some(n) if n.citizen_id.as_deref() == Some(user_id) => Ok(n),
        _ => Err(AppError::NotFound),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Params {
    zahlung: String,
}

pub async fn page(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let n = own_notice(&state, &user.id, &id).await?;
    let l = |k: &str| t(lang, k).to_string();
    let titles = service_titles(&state, lang, "c.id", &n.case_id).await?;
    let mut facts = vec![
        (
            l("fees.notice.payment_reference"),
            grouped(&n.payment_reference),
        ),
        (l("fees.notice.due"), date_de(&n.due_date)),
    ];
    if n.paid.0 > 0 {
        facts.push((l("fees.notice.paid"), n.paid.format_de()));
    }
    if n.state == NoticeState::Open && n.paid.0 > 0 {
        facts.push((l("fees.notice.outstanding"), n.outstanding().format_de()));
    }
    if matches!(n.state, NoticeState::Cancelled) {
        facts.push((l("fees.notice.reason"), n.close_reason.clone()));
    }
    // Only what is still to pay is offered for payment: the code carries the outstanding amount.
    let transfer = if n.state == NoticeState::Open && n.outstanding().0 > 0 {
        transfer_block(lang, &n)
    } else {
        None
    };
    let online = state.payment_providers.has(&n.authority_id);
    let notice = match p.zahlung.as_str() {
        "ok" => Some((AlertKind::Success, l("fees.citizen.ok_paid"))),
        "offen" => Some((AlertKind::Info, l("fees.citizen.ok_pending"))),
        "abgebrochen" => Some((AlertKind::Warning, l("fees.citizen.err_cancelled"))),
        "fehler" => Some((AlertKind::Danger, l("fees.citizen.err_provider"))),
        _ => None,
    };
    let has_transfer = transfer.is_some();
    Ok(private_html(pages::citizen_notice(
        &ctx.page(),
        pages::CitizenNoticeView {
            title: pages::notice_title(lang, n.number),
            service_title: titles.get(&n.case_id).cloned().unwrap_or_default(),
            case_href: format!("/konto/postfach/{}", n.case_reference),
            state: state_tag(lang, &n, &notices::today()),
            facts,
            items: n
                .items
                .iter()
                .map(|(l, m)| (l.clone(), m.format_de()))
                .collect(),
            total: n.total.format_de(),
            transfer,
            pdf_href: n
                .document_id
                .as_ref()
                .map(|d| format!("/konto/postfach/{}/dokumente/{d}", n.case_reference)),
            pay_online: (online && has_transfer)
                .then(|| format!("/konto/gebuehren/{}/bezahlen", n.id)),
            online_unavailable: !online && has_transfer,
            notice,
        },
    )))
}

/// Bank details in text (for people who cannot scan) and the GiroCode as inline SVG.
fn transfer_block(
    lang: amtsweg_app::i18n::Lang,
    n: &Notice,
) -> Option<(Vec<(String, String)>, String)> {
    let l = |k: &str| t(lang, k).to_string();
    let iban = Iban::parse(&n.payee_iban)?;
    let reference = CreditorReference::parse(&n.payment_reference)?;
    let payee = Payee {
        name: n.payee_name.clone(),
        iban: iban.clone(),
        bic: n.payee_bic.clone(),
    };
    let transfer = giro_transfer(&payee, n.outstanding(), &reference, &n.case_reference);
    let svg = transfer.qr().ok()?.svg(&l("fees.citizen.qr_caption"));
    let mut bank = vec![
        (l("fees.citizen.recipient"), n.payee_name.clone()),
        (l("fees.citizen.iban"), iban.to_string()),
    ];
    if !n.payee_bic.is_empty() {
        bank.push((l("fees.citizen.bic"), n.payee_bic.clone()));
    }
    bank.push((l("fees.citizen.amount"), n.outstanding().format_de()));
    bank.push((l("fees.citizen.purpose"), reference.to_string()));
    Some((bank, svg))
}
