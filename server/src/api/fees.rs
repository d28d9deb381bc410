//! Fee notices by API: issue one (the same notice, PDF, thread message and notification as
//! from the back-office form), list them, cancel an open one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::actions::staff_case;
use super::auth::ApiKey;
use super::keys::Scope;
use super::problem::{ApiError, ApiResult, FieldProblem, ReadProblems, WriteProblems};
use super::{rfc3339, ApiJson};
use crate::backoffice::cases::Actor;
use crate::domain::{is_plain_text, Money};
use crate::payments::issue;
use crate::payments::notices::{
    self, FeeRefused, Notice, NoticeInput, NoticeState, MAX_LEGAL_BASIS, MAX_REASON, MAX_REMEDY,
    MAX_TOTAL_CENTS,
};
use crate::state::AppState;

/// As many lines as the form has.
const MAX_ITEMS: usize = amtsweg_app::pages::fees::ITEM_ROWS;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub label: String,
    /// Euro cents, more than 0.
    pub amount_cents: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeNoticeRequest {
    pub items: Vec<FeeItem>,
    /// Last day to pay, `YYYY-MM-DD`; default: today plus the postbox's payment period.
    pub due_date: Option<String>,
    pub legal_basis: String,
    /// Instructions on legal remedies; default: the postbox's template.
    pub remedy: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeeNoticeInfo {
    pub number: i64,
    /// The structured creditor reference (RF) the citizen pays with.
    pub payment_reference: String,
    /// open, paid, cancelled or replaced.
    pub state: String,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub due_date: String,
    pub issued_at: String,
    /// The notice as PDF (a file of the case).
    pub document_href: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// The citizen reads it.
    pub reason: String,
}

fn info(n: &Notice) -> FeeNoticeInfo {
    FeeNoticeInfo {
        number: n.number,
        payment_reference: n.payment_reference.clone(),
        state: match n.state {
            NoticeState::Open => "open",
            NoticeState::Paid => "paid",
            NoticeState::Cancelled => "cancelled",
            NoticeState::Replaced => "replaced",
        }
        .into(),
        total_cents: n.total.0,
        paid_cents: n.paid.0,
        due_date: n.due_date.clone(),
        issued_at: rfc3339(n.issued_at),
        document_href: n
            .document_id
            .as_ref()
            .map(|d| format!("/api/v1/cases/{}/files/{d}", n.case_reference)),
    }
}

fn refused(e: FeeRefused) -> ApiError {
    match e {
        FeeRefused::NoPayee => {
            ApiError::conflict("The authority has no account for fee notices yet.")
        }
        FeeRefused::NotOpen => ApiError::conflict("The notice is not open."),
        FeeRefused::HasPayments => ApiError::conflict("Money was received for the notice already."),
        FeeRefused::Stale => ApiError::conflict("The case changed meanwhile; try again."),
        FeeRefused::Database(e) => e.into(),
        e => ApiError::internal(e),
    }
}

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a fee notice request against the same limits as the back-office form. Public for
/// the fuzz target and property tests (`crate::fuzzing::api_body`).
pub fn read(
    req: &FeeNoticeRequest,
    default_due_days: i64,
    default_remedy: &str,
) -> Result<NoticeInput, ApiError> {
    let mut problems = Vec::new();
    if req.items.is_empty() || req.items.len() > MAX_ITEMS {
        problems.push(problem("items", "One to six items."));
    }
    let mut items = Vec::new();
    for (i, it) in req.items.iter().enumerate() {
        let label = it.label.trim().to_string();
        if label.is_empty() || !is_plain_text(&label, 200) {
            problems.push(problem(
                &format!("items[{i}].label"),
                "Text of 1 to 200 characters.",
            ));
        }
        if it.amount_cents <= 0 || it.amount_cents > MAX_TOTAL_CENTS {
            problems.push(problem(&format!("items[{i}].amount_cents"), "More than 0."));
        }
        items.push((label, Money(it.amount_cents)));
    }
    if items
        .iter()
        .map(|(_, m)| m.0)
        .fold(0i64, i64::saturating_add)
        > MAX_TOTAL_CENTS
    {
        problems.push(problem("items", "The total is too large."));
    }
    let today = time::OffsetDateTime::now_utc().date();
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let due_date = match &req.due_date {
        None => Some(today + time::Duration::days(default_due_days)),
        Some(d) => time::Date::parse(d.trim(), &fmt)
            .ok()
            .filter(|d| notices::due_date_allowed(*d, today)),
    };
    if due_date.is_none() {
        problems.push(problem(
            "due_date",
            "A date YYYY-MM-DD from today to a year ahead.",
        ));
    }
    let legal_basis = req.legal_basis.trim().to_string();
    if legal_basis.is_empty() || !is_plain_text(&legal_basis, MAX_LEGAL_BASIS) {
        problems.push(problem("legal_basis", "Text of 1 to 2,000 characters."));
    }
    let remedy = req
        .remedy
        .as_deref()
        .unwrap_or(default_remedy)
        .trim()
        .replace("\r\n", "\n");
    if remedy.is_empty()
        || remedy.chars().count() > MAX_REMEDY
        || remedy.chars().any(|c| c.is_control() && c != '\n')
    {
        problems.push(problem(
            "remedy",
            "Text of 1 to 5,000 characters (the postbox has no template).",
        ));
    }
    match due_date {
        Some(due_date) if problems.is_empty() => Ok(NoticeInput {
            items,
            due_date,
            legal_basis,
            remedy,
        }),
        _ => Err(ApiError::invalid(problems)),
    }
}

/// The reason of a cancellation, which the citizen reads. Public for the fuzz target and
/// property tests (`crate::fuzzing::api_body`).
pub fn cancel_reason(req: &CancelRequest) -> Result<String, ApiError> {
    let reason = req.reason.trim().replace("\r\n", "\n");
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ApiError::field("reason", "Text of 1 to 2,000 characters."));
    }
    Ok(reason)
}

/// Issues a fee notice to the citizen.
#[utoipa::path(post, path = "/cases/{reference}/fee-notices", tag = "fees",
    params(("reference" = String, Path), super::IdempotencyKey),
    request_body = FeeNoticeRequest, security(("api_key" = [])),
    responses(
        (status = 201, body = FeeNoticeInfo),
        WriteProblems,
    ))]
pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
    ApiJson(req): ApiJson<FeeNoticeRequest>,
) -> ApiResult<(StatusCode, Json<FeeNoticeInfo>)> {
    key.require(Scope::Fees)?;
    let case = staff_case(&state, &key, &reference).await?;
    let setup = notices::setup(&state.db, &case.postbox_id).await?;
    let input = read(&req, setup.due_days, &setup.remedy)?;
    let actor = Actor {
        user: &key.actor,
        ip: &key.ip,
    };
    let id = issue::issue(&state, &actor, &case, &input, None)
        .await
        .map_err(refused)?;
    state.mail_wakeup.notify_one();
    let notice = notices::by_id(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::internal("issued notice not found"))?;
    Ok((StatusCode::CREATED, Json(info(&notice))))
}

/// The fee notices of the case, newest first.
#[utoipa::path(get, path = "/cases/{reference}/fee-notices", tag = "fees",
    params(("reference" = String, Path)), security(("api_key" = [])),
    responses(
        (status = 200, body = Vec<FeeNoticeInfo>),
        ReadProblems,
    ))]
pub async fn list(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
) -> ApiResult<Json<Vec<FeeNoticeInfo>>> {
    key.require(Scope::Read)?;
    let case = staff_case(&state, &key, &reference).await?;
    let mut all = notices::for_case(&state.db, &case.id).await?;
    all.sort_by_key(|n| std::cmp::Reverse(n.number));
    Ok(Json(all.iter().map(info).collect()))
}

/// Cancels an open notice nothing was paid for.
#[utoipa::path(post, path = "/cases/{reference}/fee-notices/{number}/cancellation", tag = "fees",
    params(("reference" = String, Path), ("number" = i64, Path), super::IdempotencyKey),
    request_body = CancelRequest, security(("api_key" = [])),
    responses(
        (status = 200, body = FeeNoticeInfo),
        WriteProblems,
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    key: ApiKey,
    Path((reference, number)): Path<(String, String)>,
    ApiJson(req): ApiJson<CancelRequest>,
) -> ApiResult<Json<FeeNoticeInfo>> {
    key.require(Scope::Fees)?;
    let reason = cancel_reason(&req)?;
    let number: i64 = number.parse().map_err(|_| ApiError::not_found())?;
    let case = staff_case(&state, &key, &reference).await?;
    let notice = notices::by_number(&state.db, &case.id, number)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let actor = Actor {
        user: &key.actor,
        ip: &key.ip,
    };
    issue::cancel(&state, &actor, &case, &notice, &reason)
        .await
        .map_err(refused)?;
    state.mail_wakeup.notify_one();
    let notice = notices::by_id(&state.db, &notice.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(info(&notice)))
}
