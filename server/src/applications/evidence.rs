//! Evidence uploads: streamed to storage in chunks (never whole in memory), typed by content,
//! hashed, limited per file, per application and per account; and reused from the citizen's
//! earlier uploads instead of uploading again.

use amtsweg_app::i18n::{t, tf, Lang};
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde_json::Value;
use sqlx::Row;

use super::answers::{self, files_key};
use super::definition::{Field, FieldType};
use super::web_form::{load_draft, render_with_problems, save_draft};
use crate::db::owned;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{see_other, Authed};
use crate::state::AppState;

/// The file type decided by the first bytes, whatever name or type the browser claimed.
pub fn sniff(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(b"%PDF-") {
        Some(("pdf", "application/pdf"))
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("jpeg", "image/jpeg"))
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("png", "image/png"))
    } else {
        None
    }
}

/// Finds PDF actions that run script, across chunk boundaries. Script hidden inside
/// compressed object streams is not seen; PDFs are also never rendered by the portal.
#[derive(Default)]
pub struct PdfScriptScan {
    tail: Vec<u8>,
    pub found: bool,
}

impl PdfScriptScan {
    const MARKERS: [&'static [u8]; 3] = [b"/JavaScript", b"/JS", b"/Launch"];

    pub fn feed(&mut self, chunk: &[u8]) {
        if self.found {
            return;
        }
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(chunk);
        self.found = Self::MARKERS
            .iter()
            .any(|m| window.windows(m.len()).any(|w| w == *m));
        let keep = window.len().saturating_sub(16);
        self.tail = window[keep..].to_vec();
    }
}

/// A file name fit for display and for a download header: no path, no control characters.
pub fn clean_name(raw: &str, kind: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .take(100)
        .collect();
    // Dots and spaces are trimmed together: `". a"` must not become `" a"`, a name with a
    // leading space that the next cleaning would change again.
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end()
        .to_string();
    if cleaned.is_empty() {
        format!("nachweis.{}", if kind == "jpeg" { "jpg" } else { kind })
    } else {
        cleaned
    }
}

fn human_size(bytes: i64, lang: Lang) -> String {
    let kb = bytes as f64 / 1024.0;
    let s = if kb < 1024.0 {
        format!("{:.0} KB", kb.max(1.0))
    } else {
        format!("{:.1} MB", kb / 1024.0)
    };
    if lang == Lang::De {
        s.replace('.', ",")
    } else {
        s
    }
}

pub fn file_label(name: &str, size: i64, lang: Lang) -> String {
    format!("{name} ({})", human_size(size, lang))
}

fn file_field<'a>(
    def: &'a super::definition::Definition,
    page: &str,
    field: &str,
) -> AppResult<&'a Field> {
    def.page(page)
        .and_then(|p| p.fields.iter().find(|f| f.id.get_ref() == field))
        .filter(|f| f.kind == FieldType::File)
        .ok_or(AppError::NotFound)
}

fn all_files(def: &super::definition::Definition, a: &answers::Answers) -> usize {
    def.fields()
        .filter(|(_, f)| f.kind == FieldType::File)
        .map(|(_, f)| answers::list(a, f.id.get_ref()).len())
        .sum()
}

fn attach(a: &mut answers::Answers, field: &str, id: &str, label: String) {
    let mut ids = answers::list(a, field);
    let mut names = answers::list(a, &files_key(field));
    if !ids.iter().any(|i| i == id) {
        ids.push(id.to_string());
        names.push(label);
    }
    a.insert(field.to_string(), Value::from(ids));
    a.insert(files_key(field), Value::from(names));
}

pub async fn upload(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path((id, page_id, field_id)): Path<(String, String, String)>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let mut d = load_draft(&state, &user, &id).await?;
    let def = d.def.clone();
    let field = file_field(&def, &page_id, &field_id)?;
    let label = field.label.get(lang).to_string();
    let fail = |key: &str, extra: &[(&str, &str)]| {
        let mut args = vec![("label", label.as_str())];
        args.extend_from_slice(extra);
        tf(lang, key, &args)
    };
    let limit = field
        .max_size_bytes()
        .min(state.config.max_upload_mb * 1024 * 1024);
    // Files on a field hidden since still count: they stay with the draft.
    let kept = d.kept();
    let count = answers::list(&kept, &field_id).len();
    let problem = if count >= field.max_file_count() {
        Some(fail(
            "form.v.file_count",
            &[("max", &field.max_file_count().to_string())],
        ))
    } else if all_files(&def, &kept) >= state.config.max_files_per_application {
        Some(fail(
            "form.v.file_count",
            &[("max", &state.config.max_files_per_application.to_string())],
        ))
    } else {
        None
    };
    let outcome = match problem {
        Some(p) => Err(p),
        None => {
            // Evidence is encrypted under the draft's data key, which the case inherits.
            let key = state
                .db
                .vault
                .key_of_pooled(&state.db.pool, crate::crypto::Owner::Draft, &id)
                .await?;
            let to = Target {
                field,
                limit,
                user_id: &user.id,
                key: &key,
            };
            receive(&state, &mut multipart, &to, lang, &fail).await?
        }
    };
    match outcome {
        Ok((doc_id, name, size)) => {
            d.edit(|a| attach(a, &field_id, &doc_id, file_label(&name, size, lang)));
            save_draft(&state, &d).await?;
            Ok(see_other(&format!("/antraege/{id}/{page_id}")))
        }
        Err(message) => {
            Ok(render_with_problems(&state, &ctx, &user, &d, &page_id, &field_id, message).await?)
        }
    }
}

type Received = Result<(String, String, i64), String>;

/// Builds a translated message about the field from a key and arguments.
type Fail<'a> = &'a (dyn Fn(&str, &[(&str, &str)]) -> String + Sync);

/// Where an upload goes: the form field (its types), the size limit, the owner, the key.
struct Target<'a> {
    field: &'a Field,
    limit: u64,
    user_id: &'a str,
    key: &'a crate::crypto::DataKey,
}

async fn receive(
    state: &AppState,
    multipart: &mut Multipart,
    to: &Target<'_>,
    lang: Lang,
    fail: Fail<'_>,
) -> AppResult<Received> {
    let (field, limit) = (to.field, to.limit);
    let mut part = loop {
        match multipart.next_field().await {
            Ok(Some(p)) if p.name() == Some("file") => break p,
            Ok(Some(_)) => continue,
            Ok(None) => return Ok(Err(fail("form.v.file_required", &[]))),
            Err(_) => {
                return Ok(Err(fail(
                    "form.v.file_too_large",
                    &[("max", &(limit / 1024 / 1024).to_string())],
                )))
            }
        }
    };
    let accepted = field.accepted();
    let stored = crate::backoffice::uploads::store_part(
        state,
        &mut part,
        &accepted,
        limit,
        Some(to.user_id),
        to.key,
    )
    .await?;
    use crate::backoffice::uploads::Problem;
    Ok(match stored {
        Ok(s) => Ok((s.document_id, s.file_name, s.size)),
        Err(Problem::TooLarge | Problem::TooMany) => Err(fail(
            "form.v.file_too_large",
            &[("max", &(limit / 1024 / 1024).to_string())],
        )),
        Err(Problem::Quota) => Err(t(lang, "form.v.file_quota").to_string()),
        Err(Problem::Script) => Err(fail("form.v.file_script", &[])),
        Err(Problem::Empty) => Err(fail("form.v.file_required", &[])),
        Err(Problem::Type) => Err(fail(
            "form.v.file_type",
            &[("types", &accepted.join(", ").to_uppercase())],
        )),
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LibraryForm {
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

/// Attaches one of the citizen's earlier uploads instead of uploading it again.
pub async fn attach_existing(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path((id, page_id, field_id)): Path<(String, String, String)>,
    Form(f): Form<LibraryForm>,
) -> AppResult<Response> {
    let mut d = load_draft(&state, &user, &id).await?;
    let def = d.def.clone();
    let field = file_field(&def, &page_id, &field_id)?;
    let doc = f
        .fields
        .get(&format!("{field_id}-library"))
        .cloned()
        .unwrap_or_default();
    let row =
        sqlx::query("SELECT file_name, size, content_type, user_id FROM documents WHERE id = $1")
            .bind(&doc)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some(row) = owned(row, &user.id)? else {
        let msg = tf(
            ctx.lang,
            "form.v.file_required",
            &[("label", field.label.get(ctx.lang))],
        );
        return render_with_problems(&state, &ctx, &user, &d, &page_id, &field_id, msg).await;
    };
    let (name, size, content_type): (String, i64, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let kind = content_type.rsplit('/').next().unwrap_or("");
    if !field.accepted().contains(&kind)
        || size as u64 > field.max_size_bytes()
        || answers::list(&d.kept(), &field_id).len() >= field.max_file_count()
    {
        let msg = tf(
            ctx.lang,
            "form.v.file_type",
            &[
                ("label", field.label.get(ctx.lang)),
                ("types", &field.accepted().join(", ").to_uppercase()),
            ],
        );
        return render_with_problems(&state, &ctx, &user, &d, &page_id, &field_id, msg).await;
    }
    d.edit(|a| attach(a, &field_id, &doc, file_label(&name, size, ctx.lang)));
    save_draft(&state, &d).await?;
    Ok(see_other(&format!("/antraege/{id}/{page_id}")))
}

/// Takes a file off this application; it stays in the citizen's documents for later use.
pub async fn detach(
    State(state): State<AppState>,
    Authed(_, user): Authed,
    Path((id, page_id, field_id, doc)): Path<(String, String, String, String)>,
) -> AppResult<Response> {
    let mut d = load_draft(&state, &user, &id).await?;
    d.edit(|a| {
        let mut ids = answers::list(a, &field_id);
        let mut names = answers::list(a, &files_key(&field_id));
        if let Some(i) = ids.iter().position(|x| *x == doc) {
            ids.remove(i);
            if i < names.len() {
                names.remove(i);
            }
        }
        a.insert(field_id.clone(), Value::from(ids));
        a.insert(files_key(&field_id), Value::from(names));
    });
    save_draft(&state, &d).await?;
    Ok(see_other(&format!("/antraege/{id}/{page_id}")))
}

/// Downloads are always attachments with the stored type: nothing uploaded is ever rendered
/// by the browser as part of the portal.
pub async fn download(
    State(state): State<AppState>,
    Authed(_, user): Authed,
    Path(doc): Path<String>,
) -> AppResult<Response> {
    let row = sqlx::query(
        "SELECT storage_key, file_name, content_type, size, user_id FROM documents WHERE id = $1",
    )
    .bind(&doc)
    .fetch_optional(&state.db.pool)
    .await?;
    let row = owned(row, &user.id)?.ok_or(AppError::NotFound)?;
    let (key, name, content_type, size): (String, String, String, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    send_file(&state, &key, &name, &content_type, size).await
}

/// Streams a stored file as an attachment (never rendered inline by the browser).
pub async fn send_file(
    state: &AppState,
    key: &str,
    name: &str,
    content_type: &str,
    size: i64,
) -> AppResult<Response> {
    let stream = match state
        .db
        .vault
        .open_file(&state.db.pool, &state.storage, key)
        .await
    {
        Ok(s) => s,
        Err(crate::crypto::CryptoError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::NotFound)
        }
        // A missing or wrong key is the operator's problem: logged, a plain error page.
        Err(e) => return Err(e.into()),
    };
    let body = Body::from_stream(stream);
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests;
