//! Reading cases: the change feed of a postbox, one case with its typed answers, files and
//! messages, and each file with its SHA-256.

use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::keys::Scope;
use super::problem::{ApiError, ApiResult, ReadProblems};
use super::{rfc3339, ApiQuery};
use crate::state::AppState;
use crate::time::now_ms;

/// How long a change must be old before the feed shows it: concurrent transactions commit
/// in any order, and a cursor must never pass over a change that commits after it was read.
pub const FEED_LAG_MS: i64 = 2_000;
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AckOutcome {
    Accepted,
    Rejected,
}

/// The back-office system's answer to the submission.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Acknowledgement {
    pub outcome: AckOutcome,
    pub reason: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    /// The reference number citizens and staff use, e.g. `A7K-3M9-XQ2`.
    pub reference: String,
    /// 14-digit service key (LeiKa).
    pub service_key: String,
    /// Version of the form definition the application was filled in with.
    pub definition_version: i64,
    /// received, in_progress, awaiting_citizen, approved, rejected or closed.
    pub state: String,
    pub applicant_name: String,
    pub submitted_at: String,
    pub updated_at: String,
    /// Absent until the submission was acknowledged.
    pub acknowledgement: Option<Acknowledgement>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` to continue; absent when nothing more is there now. Keep the last
    /// cursor and poll with it later to get only what changed.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `true`: only submissions not yet acknowledged, oldest first (new work). Otherwise
    /// every case whose data changed, in the order of change.
    pub pending: Option<bool>,
}

pub(crate) fn encode_cursor(t: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{t}.{id}"))
}

pub(crate) fn decode_cursor(c: &str) -> ApiResult<(i64, String)> {
    let bad = || ApiError::field("cursor", "Not a cursor from this API.");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = s.split_once('.').ok_or_else(bad)?;
    let ok_id = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match t.parse::<i64>() {
        Ok(t) if ok_id => Ok((t, id.to_string())),
        _ => Err(bad()),
    }
}

const SUMMARY_COLUMNS: &str = "c.reference, c.service_key, c.version, c.state, c.applicant_name,
    c.submitted_at, c.updated_at, c.ack_outcome, c.ack_reason, c.ack_at, c.id";

fn summary(r: &sqlx::any::AnyRow) -> ApiResult<CaseSummary> {
    let outcome: Option<String> = r.try_get(7)?;
    let ack_at: Option<i64> = r.try_get(9)?;
    Ok(CaseSummary {
        reference: r.try_get(0)?,
        service_key: r.try_get(1)?,
        definition_version: r.try_get(2)?,
        state: r.try_get(3)?,
        applicant_name: r.try_get(4)?,
        submitted_at: rfc3339(r.try_get(5)?),
        updated_at: rfc3339(r.try_get(6)?),
        acknowledgement: match (outcome.as_deref(), ack_at) {
            (Some(o), Some(at)) => Some(Acknowledgement {
                outcome: if o == "accepted" {
                    AckOutcome::Accepted
                } else {
                    AckOutcome::Rejected
                },
                reason: r.try_get(8)?,
                at: rfc3339(at),
            }),
            _ => None,
        },
    })
}

/// Cases of the key's postbox, page by page.
#[utoipa::path(get, path = "/cases", tag = "cases", params(ListParams),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "A page of cases", body = CaseList),
        ReadProblems,
    ))]
pub async fn list(
    State(state): State<AppState>,
    key: ApiKey,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<CaseList>> {
    key.require(Scope::Read)?;
    let limit = match p.limit {
        None => DEFAULT_LIMIT,
        Some(l) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => return Err(ApiError::field("limit", "Between 1 and 200.")),
    };
    let (after_t, after_id) = match &p.cursor {
        Some(c) => decode_cursor(c)?,
        None => (i64::MIN, String::new()),
    };
    let pending = p.pending.unwrap_or(false);
    let (order, extra) = if pending {
        ("c.submitted_at", "AND c.ack_outcome IS NULL")
    } else {
        ("c.updated_at", "AND c.updated_at <= $5")
    };
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM cases c WHERE c.postbox_id = $1
           AND ({order} > $2 OR ({order} = $2 AND c.id > $3)) {extra}
         ORDER BY {order}, c.id LIMIT $4"
    );
    let mut q = sqlx::query(&sql)
        .bind(&key.postbox_id)
        .bind(after_t)
        .bind(&after_id)
        .bind(limit + 1);
    if !pending {
        q = q.bind(now_ms() - FEED_LAG_MS);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let more = rows.len() as i64 > limit;
    let mut items = Vec::new();
    let mut last = None;
    for r in rows.iter().take(limit as usize) {
        let t: i64 = if pending {
            r.try_get(5)?
        } else {
            r.try_get(6)?
        };
        last = Some((t, r.try_get::<String, _>(10)?));
        items.push(summary(r)?);
    }
    // The feed hands out a cursor even at its end, to poll on from; the pending list is
    // read from its start each time, so its end has none.
    let next_cursor = match last {
        Some((t, id)) if more || !pending => Some(encode_cursor(t, &id)),
        None if !pending => p.cursor.clone(),
        _ => None,
    };
    Ok(Json(CaseList { items, next_cursor }))
}

/// A file of the case, described.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FileInfo {
    pub id: String,
    /// The form field it was uploaded for (evidence); absent for attachments of messages.
    pub field: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content, to check the download against.
    pub sha256: String,
    /// Where to download it with the same key.
    pub href: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MessageInfo {
    pub id: String,
    /// message, request, reply, decision or forwarded.
    pub kind: String,
    pub from_citizen: bool,
    pub body: String,
    /// approved or rejected, for decisions.
    pub outcome: Option<String>,
    pub created_at: String,
    pub attachments: Vec<FileInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    pub case: CaseSummary,
    pub service_title: String,
    /// The answers as submitted, keyed by the field ids of the form definition: dates as
    /// `YYYY-MM-DD`, money in cents, yes/no as booleans, checkboxes as lists of strings, files as lists of
    /// objects (`document_id`, `file_name`, `content_type`, `size`, `sha256`), repeated groups as
    /// lists of objects.
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    pub files: Vec<FileInfo>,
    pub messages: Vec<MessageInfo>,
}

/// The case of `reference` if it is in the key's postbox: everything else is 404, so a key
/// cannot even learn that another postbox's case exists.
pub(super) async fn case_row(
    state: &AppState,
    key: &ApiKey,
    reference: &str,
) -> ApiResult<sqlx::any::AnyRow> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM cases c WHERE c.reference = $1 AND c.postbox_id = $2"
    );
    sqlx::query(&sql)
        .bind(reference)
        .bind(&key.postbox_id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn file_info(r: &sqlx::any::AnyRow, reference: &str, field: Option<String>) -> ApiResult<FileInfo> {
    let id: String = r.try_get(0)?;
    Ok(FileInfo {
        href: format!("/api/v1/cases/{reference}/files/{id}"),
        id,
        field,
        file_name: r.try_get(1)?,
        content_type: r.try_get(2)?,
        size: r.try_get(3)?,
        sha256: r.try_get(4)?,
    })
}

/// One case with answers, files and messages.
#[utoipa::path(get, path = "/cases/{reference}", tag = "cases",
    params(("reference" = String, Path, description = "Reference number")),
    security(("api_key" = [])),
    responses(
        (status = 200, body = CaseDetail),
        ReadProblems,
    ))]
pub async fn get(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
) -> ApiResult<Json<CaseDetail>> {
    key.require(Scope::Read)?;
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, c.answers, s.title_de FROM cases c
         JOIN services s ON s.service_key = c.service_key
         WHERE c.reference = $1 AND c.postbox_id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(&reference)
        .bind(&key.postbox_id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let case = summary(&row)?;
    let case_id: String = row.try_get(10)?;
    let answers = state
        .db
        .vault
        .open(&state.db.pool, row.try_get(11)?)
        .await
        .map_err(ApiError::internal)?;
    let answers = serde_json::from_str(&answers).map_err(ApiError::internal)?;
    let files = sqlx::query(
        "SELECT d.id, d.file_name, d.content_type, d.size, d.sha256, cd.field_id
         FROM case_documents cd JOIN documents d ON d.id = cd.document_id
         WHERE cd.case_id = $1 ORDER BY cd.field_id, d.created_at",
    )
    .bind(&case_id)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| file_info(r, &reference, r.try_get(5).ok()))
    .collect::<ApiResult<Vec<_>>>()?;
    let attachments = sqlx::query(
        "SELECT d.id, d.file_name, d.content_type, d.size, d.sha256, md.message_id
         FROM message_documents md JOIN documents d ON d.id = md.document_id
         JOIN messages m ON m.id = md.message_id WHERE m.case_id = $1",
    )
    .bind(&case_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut messages = sqlx::query(
        "SELECT id, kind, from_citizen, body, outcome, created_at FROM messages
         WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(&case_id)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| {
        let id: String = r.try_get(0)?;
        let mut files = Vec::new();
        for a in &attachments {
            if a.try_get::<String, _>(5)? == id {
                files.push(file_info(a, &reference, None)?);
            }
        }
        Ok(MessageInfo {
            kind: r.try_get(1)?,
            from_citizen: r.try_get::<i64, _>(2)? != 0,
            body: r.try_get(3)?,
            outcome: r.try_get(4)?,
            created_at: rfc3339(r.try_get(5)?),
            attachments: files,
            id,
        })
    })
    .collect::<ApiResult<Vec<_>>>()?;
    for m in &mut messages {
        m.body = state
            .db
            .vault
            .open(&state.db.pool, std::mem::take(&mut m.body))
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(Json(CaseDetail {
        case,
        service_title: row.try_get(12)?,
        answers,
        files,
        messages,
    }))
}

/// The content of one file of the case (evidence or attachment), with its SHA-256 in
/// `Repr-Digest` (RFC 9530) and `X-Content-SHA256`.
#[utoipa::path(get, path = "/cases/{reference}/files/{id}", tag = "cases",
    params(("reference" = String, Path), ("id" = String, Path, description = "File id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The file, with the type it was stored as",
            content((String = "application/pdf"), (String = "image/jpeg"), (String = "image/png"))),
        ReadProblems,
    ))]
pub async fn file(
    State(state): State<AppState>,
    key: ApiKey,
    Path((reference, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    key.require(Scope::Read)?;
    let row = case_row(&state, &key, &reference).await?;
    let case_id: String = row.try_get(10)?;
    let r = sqlx::query(
        "SELECT d.storage_key, d.file_name, d.content_type, d.size, d.sha256 FROM documents d
         WHERE d.id = $2 AND (
            EXISTS (SELECT 1 FROM case_documents cd WHERE cd.case_id = $1 AND cd.document_id = d.id)
            OR EXISTS (SELECT 1 FROM message_documents md JOIN messages m ON m.id = md.message_id
                       WHERE m.case_id = $1 AND md.document_id = d.id))",
    )
    .bind(&case_id)
    .bind(&id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(ApiError::not_found)?;
    let (storage_key, name, content_type, size, sha): (String, String, String, i64, String) = (
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
    );
    let mut resp =
        crate::applications::evidence::send_file(&state, &storage_key, &name, &content_type, size)
            .await
            .map_err(ApiError::from)?;
    let h = resp.headers_mut();
    if let Ok(raw) = hex::decode(&sha) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        if let Ok(v) = HeaderValue::from_str(&format!("sha-256=:{b64}:")) {
            h.insert(HeaderName::from_static("repr-digest"), v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&sha) {
        h.insert(HeaderName::from_static("x-content-sha256"), v);
    }
    Ok(resp)
}

/// The case as an export package for the e-file (ZIP: manifest, answers as JSON and PDF,
/// evidence, messages; format in `server/src/export/FORMAT.md`).
#[utoipa::path(get, path = "/cases/{reference}/export", tag = "cases",
    params(("reference" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The package", content((String = "application/zip"))),
        ReadProblems,
    ))]
pub async fn export(
    State(state): State<AppState>,
    key: ApiKey,
    Path(reference): Path<String>,
) -> ApiResult<Response> {
    key.require(Scope::Read)?;
    let row = case_row(&state, &key, &reference).await?;
    let case_id: String = row.try_get(10)?;
    let (info, response) = crate::export::web::zip_response(&state, &case_id).await?;
    let mut tx = state.db.begin_write().await?;
    crate::backoffice::audit::record(
        &mut tx,
        &key.actor,
        &key.ip,
        "export.case",
        crate::backoffice::audit::Subject::Case(&case_id),
        &format!("files={}; bytes={}", info.files.len() + 1, info.size),
    )
    .await?;
    tx.commit().await?;
    Ok(response)
}

#[cfg(test)]
mod tests;
