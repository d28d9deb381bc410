//! What a back-office system does to a case: acknowledge the submission, write to the
//! citizen (messages, requests, decisions, with attachments), and move the case on. Each
//! goes through the same operations as the back-office pages, so the rules, the timeline,
//! the audit log and the citizen's notification are the same.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::auth::ApiKey;
use super::cases::{case_row, AckOutcome, Acknowledgement};
use super::keys::Scope;
use super::problem::{ApiError, ApiResult, FieldProblem, WriteProblems};
use super::{rfc3339, ApiJson};
use crate::backoffice::access::{postbox_case, StaffCase};
use crate::backoffice::audit::{self, Subject};
use crate::backoffice::cases::{self, event, Actor};
use crate::backoffice::messages::{self, Outgoing};
use crate::backoffice::state::CaseState;
use crate::backoffice::uploads::{self, Problem as UploadProblem};
use crate::state::AppState;
use crate::time::now_ms;

/// Longest text of a reason or message, as on the back-office forms.
const MAX_TEXT: usize = 10_000;
/// Attachments of one message, and each one's size after decoding.
const MAX_ATTACHMENTS: usize = 5;
const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

pub(super) async fn staff_case(
    state: &AppState,
    key: &ApiKey,
    reference: &str,
) -> ApiResult<StaffCase> {
    postbox_case(&state.db, &key.postbox_id, reference)
        .await
        .map_err(ApiError::from)
}

fn text(field: &str, value: &str, required: bool) -> Result<String, FieldProblem> {
    let v = value.replace("\r\n", "\n").trim().to_string();
    let problem = |m: &str| FieldProblem {
        field: field.into(),
        message: m.into(),
    };
    if required && v.is_empty() {
        return Err(problem("Must not be empty."));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(problem("At most 10,000 characters."));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(problem("Must not contain control characters."));
    }
    Ok(v)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    pub outcome: AckOutcome,
    /// Required when rejecting: the citizen reads it.
    pub reason: Option<String>,
}

/// The reason of an acknowledgement: required when rejecting, optional otherwise. Public for
/// the fuzz target and property tests (`crate::fuzzing::api_body`).
pub fn ack_reason(req: &AckRequest) -> Result<Option<String>, FieldProblem> {
    Ok(match (req.outcome, req.reason.as_deref().unwrap_or("")) {
        (AckOutcome::Rejected, r) => Some(text("reason", r, true)?),
        (AckOutcome::Accepted, "") => None,
        (AckOutcome::Accepted, r) => Some(text("reason", r, false)?),
    })
}

/// Accepts or rejects the submission, exactly once: the same answer again returns the first
/// one; a different answer is refused with 409.
#[utoipa::path(post, path = "/cases/{reference}/acknowledgement", tag = "cases",
    params(("reference" = String, Path), super::IdempotencyKey),
    request_body = AckRequest, security(("api_key" = [])),
    responses(
        (status = 200, body = Acknowledgement),
        WriteProblems,
    ))]
pub async fn acknowledge(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
    ApiJson(req): ApiJson<AckRequest>,
) -> ApiResult<Json<Acknowledgement>> {
    key.require(Scope::Acknowledge)?;
    let reason = ack_reason(&req).map_err(|p| ApiError::invalid(vec![p]))?;
    let row = case_row(&state, &key, &reference).await?;
    let case_id: String = row.try_get(10)?;
    let outcome = match req.outcome {
        AckOutcome::Accepted => "accepted",
        AckOutcome::Rejected => "rejected",
    };
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE cases SET ack_outcome = $1, ack_reason = $2, ack_at = $3, ack_key_id = $4, updated_at = $3
         WHERE id = $5 AND ack_outcome IS NULL",
    )
    .bind(outcome)
    .bind(&reason)
    .bind(now)
    .bind(&key.id)
    .bind(&case_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        let kind = format!("intake_{outcome}");
        event(
            &mut tx,
            &case_id,
            Some(&key.actor),
            &kind,
            reason.as_deref().unwrap_or(""),
            true,
        )
        .await?;
        audit::record(
            &mut tx,
            &key.actor,
            &key.ip,
            "api.acknowledge",
            Subject::Case(&case_id),
            outcome,
        )
        .await?;
        tx.commit().await?;
        return Ok(Json(Acknowledgement {
            outcome: req.outcome,
            reason,
            at: rfc3339(now),
        }));
    }
    tx.rollback().await?;
    let (stored, stored_reason, at): (String, Option<String>, i64) =
        sqlx::query_as("SELECT ack_outcome, ack_reason, ack_at FROM cases WHERE id = $1")
            .bind(&case_id)
            .fetch_one(&state.db.pool)
            .await?;
    if stored != outcome || (req.outcome == AckOutcome::Rejected && stored_reason != reason) {
        return Err(ApiError::conflict(format!(
            "The submission was {stored} already; a second, different answer is refused."
        )));
    }
    Ok(Json(Acknowledgement {
        outcome: req.outcome,
        reason: stored_reason,
        at: rfc3339(at),
    }))
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Information for the citizen.
    Message,
    /// A request for information or evidence, to be answered by `reply_by`.
    Request,
    /// The decision; needs `outcome`.
    Decision,
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Approved,
    Rejected,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub file_name: String,
    /// The file, Base64 (standard alphabet). PDF, JPEG or PNG, at most 10 MB.
    pub content_base64: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub kind: MessageKind,
    pub body: String,
    pub outcome: Option<Outcome>,
    /// For requests: the last day to answer, `YYYY-MM-DD`, in the future.
    pub reply_by: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageCreated {
    pub id: String,
    pub attachments: Vec<String>,
}

fn reply_by(raw: Option<&str>) -> Result<i64, FieldProblem> {
    let problem = |m: &str| FieldProblem {
        field: "reply_by".into(),
        message: m.into(),
    };
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(raw.unwrap_or(""), &fmt)
        .map_err(|_| problem("A date YYYY-MM-DD is required for requests."))?;
    let today = time::OffsetDateTime::now_utc().date();
    if date <= today || date > today + time::Duration::days(365) {
        return Err(problem("Must be after today and within a year."));
    }
    let end = date
        .with_hms(23, 59, 59)
        .map_err(|_| problem("Not a date."))?
        .assume_utc();
    Ok(i64::try_from(end.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}

/// The body text, the kind of message and the attachments as (file name, bytes).
pub type CheckedMessage = (String, Outgoing, Vec<(String, Vec<u8>)>);

/// A message request checked before any case is looked at: the text, what kind of message,
/// and the attachments decoded (their content is checked when stored). Every problem is
/// reported, not only the first. Public for the fuzz target and property tests
/// (`crate::fuzzing::api_body`).
pub fn check_message(req: &MessageRequest) -> Result<CheckedMessage, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let body = text("body", &req.body, true)
        .map_err(|p| problems.push(p))
        .unwrap_or_default();
    let what = match (req.kind, req.outcome) {
        (MessageKind::Message, _) => Outgoing::Message,
        (MessageKind::Request, _) => match reply_by(req.reply_by.as_deref()) {
            Ok(deadline) => Outgoing::Request { deadline },
            Err(p) => {
                problems.push(p);
                Outgoing::Message
            }
        },
        (MessageKind::Decision, Some(o)) => Outgoing::Decision {
            approved: matches!(o, Outcome::Approved),
        },
        (MessageKind::Decision, None) => {
            problems.push(FieldProblem {
                field: "outcome".into(),
                message: "A decision needs `approved` or `rejected`.".into(),
            });
            Outgoing::Message
        }
    };
    if req.attachments.len() > MAX_ATTACHMENTS {
        problems.push(FieldProblem {
            field: "attachments".into(),
            message: "At most 5 attachments.".into(),
        });
    }
    let mut decoded = Vec::new();
    for (i, a) in req.attachments.iter().enumerate() {
        match base64::engine::general_purpose::STANDARD.decode(a.content_base64.trim()) {
            Ok(bytes) => decoded.push((a.file_name.clone(), bytes)),
            Err(_) => problems.push(FieldProblem {
                field: format!("attachments[{i}].content_base64"),
                message: "Not Base64.".into(),
            }),
        }
    }
    if problems.is_empty() {
        Ok((body, what, decoded))
    } else {
        Err(problems)
    }
}

/// Writes to the citizen: a message, a request for information or the decision. Attachments
/// are checked as every upload is (type by content, no PDF scripts).
#[utoipa::path(post, path = "/cases/{reference}/messages", tag = "cases",
    params(("reference" = String, Path), super::IdempotencyKey),
    request_body = MessageRequest, security(("api_key" = [])),
    responses(
        (status = 201, body = MessageCreated),
        WriteProblems,
    ))]
pub async fn message(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
    ApiJson(req): ApiJson<MessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageCreated>)> {
    key.require(Scope::Reply)?;
    let (body, what, decoded) = check_message(&req).map_err(ApiError::invalid)?;
    let case = staff_case(&state, &key, &reference).await?;
    let data_key = state
        .db
        .vault
        .key_of_pooled(&state.db.pool, crate::crypto::Owner::Case, &case.id)
        .await
        .map_err(ApiError::internal)?;
    let mut stored = Vec::new();
    for (i, (name, bytes)) in decoded.into_iter().enumerate() {
        let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
            bytes::Bytes::from(bytes),
        )]);
        match uploads::store_stream(
            &state,
            &name,
            chunks,
            &["pdf", "jpeg", "png"],
            MAX_ATTACHMENT_BYTES,
            None,
            &data_key,
        )
        .await?
        {
            Ok(s) => stored.push(s),
            Err(p) => {
                uploads::discard(&state, &stored).await;
                let message = match p {
                    UploadProblem::TooLarge => "Larger than 10 MB.",
                    UploadProblem::Script => "The PDF contains executable code.",
                    UploadProblem::Empty => "The file is empty.",
                    _ => "Only PDF, JPEG and PNG files, recognised by their content.",
                };
                return Err(ApiError::field(&format!("attachments[{i}]"), message));
            }
        }
    }
    let docs: Vec<String> = stored.iter().map(|s| s.document_id.clone()).collect();
    let actor = Actor {
        user: &key.actor,
        ip: &key.ip,
    };
    match messages::send(
        &state.db,
        &actor,
        &case,
        what,
        &body,
        &docs,
        &state.config.public_url,
    )
    .await
    {
        Ok(id) => {
            state.mail_wakeup.notify_one();
            Ok((
                StatusCode::CREATED,
                Json(MessageCreated {
                    id,
                    attachments: docs,
                }),
            ))
        }
        Err(e) => {
            uploads::discard(&state, &stored).await;
            Err(e.into())
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManualState {
    InProgress,
    Closed,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    /// `in_progress` or `closed`. Decisions and requests set the other states.
    pub state: ManualState,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateChanged {
    pub state: String,
}

/// Moves the case on, by the same rules as the back-office form (409 when not allowed now).
#[utoipa::path(post, path = "/cases/{reference}/state", tag = "cases",
    params(("reference" = String, Path), super::IdempotencyKey),
    request_body = StateRequest, security(("api_key" = [])),
    responses(
        (status = 200, body = StateChanged),
        WriteProblems,
    ))]
pub async fn set_state(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
    ApiJson(req): ApiJson<StateRequest>,
) -> ApiResult<Json<StateChanged>> {
    key.require(Scope::Reply)?;
    let case = staff_case(&state, &key, &reference).await?;
    let to = match req.state {
        ManualState::InProgress => CaseState::InProgress,
        ManualState::Closed => CaseState::Closed,
    };
    let actor = Actor {
        user: &key.actor,
        ip: &key.ip,
    };
    cases::change_state(&state.db, &actor, &case, to).await?;
    Ok(Json(StateChanged {
        state: to.as_str().to_string(),
    }))
}
