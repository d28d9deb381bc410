//! The package as a download: for staff on the case page, and for any other caller that has
//! checked access itself (`zip_response`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::{internal, write_package, Discard, PackageInfo};
use crate::backoffice::access::{staff_case, Staff};
use crate::backoffice::audit::{self, Subject};
use crate::error::AppResult;
use crate::state::AppState;

/// `GET /verwaltung/vorgaenge/{reference}/export.zip`: whoever may open the case may export
/// it, and the export is audited like the read it is (with what left the system).
pub async fn download(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let (info, response) = zip_response(&state, &case.id).await?;
    let mut conn = state.db.pool.acquire().await?;
    audit::record(
        &mut conn,
        &staff.user,
        &staff.ip,
        "export.case",
        Subject::Case(&case.id),
        &format!("files={}; bytes={}", info.files.len() + 1, info.size),
    )
    .await?;
    Ok(response)
}

/// Writes the package of a case to a temporary file and answers with it as an attachment.
/// The caller has checked access and records the audit entry.
///
/// The file's name is removed as soon as it is open: the open handle keeps the content
/// readable until the download ends, and nothing is left behind however it ends (finished,
/// broken off, or the server stopped). This relies on Unix semantics, where Amtsweg runs.
pub async fn zip_response(state: &AppState, case_id: &str) -> AppResult<(PackageInfo, Response)> {
    let dir = state.storage.temp_dir();
    tokio::fs::create_dir_all(dir).await.map_err(internal)?;
    let path = dir.join(format!("export-{}.zip", uuid::Uuid::new_v4().simple()));
    let info = write_package(state, case_id, &path).await?;
    let discard = Discard::new(&path);
    let opened = tokio::fs::File::open(&path).await;
    drop(discard);
    let file = opened.map_err(internal)?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", info.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(info.size));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Also set for every response by `http::headers`; repeated here because a download must
    // never be sniffed into something a browser renders, whichever router serves it.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok((info, response))
}
