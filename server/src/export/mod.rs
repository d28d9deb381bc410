//! The e-file export: one case as a ZIP package that an authority's e-file system (E-Akte, DMS)
//! imports without anybody typing it again. The format is described in `FORMAT.md`.
//!
//! The package is written to a file, never assembled in memory: evidence can be hundreds of
//! megabytes. Every stored file is streamed from storage into the ZIP and hashed on the way,
//! and checked against the hash recorded when it was uploaded, so a package never carries a
//! silently damaged document.

mod json;
mod load;
pub(crate) mod names;
pub mod web;
mod writer;

use std::collections::HashMap;
use std::path::Path;

use amtsweg_app::i18n::Lang;

use crate::applications::{catalog, summary_pdf};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::time::now_ms;
use json::Role;
use load::Doc;
use names::Names;
pub use writer::PackagedFile;
use writer::{zip_time, Sink};

/// Name of the format in `manifest.json`.
pub const FORMAT: &str = "amtsweg-case-export";
/// Raised whenever a field changes meaning or disappears; new fields keep the version.
pub const FORMAT_VERSION: u32 = 1;
/// The package is the authority's record, kept in the language of its files.
const LANG: Lang = Lang::De;

/// What was written.
#[derive(Clone, Debug)]
pub struct PackageInfo {
    pub case_id: String,
    pub reference: String,
    /// A download name such as `Vorgang-<reference>.zip`.
    pub file_name: String,
    /// Size of the ZIP file in bytes.
    pub size: u64,
    /// Every file in the package, in package order, except `manifest.json` itself.
    pub files: Vec<PackagedFile>,
    pub exported_at: i64,
}

/// Removes a path when dropped unless kept: an export that fails, or whose request is
/// abandoned midway, leaves no file behind.
pub(crate) struct Discard<'a>(Option<&'a Path>);

impl<'a> Discard<'a> {
    pub(crate) fn new(path: &'a Path) -> Self {
        Self(Some(path))
    }

    pub(crate) fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Discard<'_> {
    fn drop(&mut self) {
        if let Some(path) = self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn internal(e: impl Into<anyhow::Error>) -> AppError {
    AppError::Internal(e.into())
}

/// Writes the package of case `case_id` to `out` (created or truncated; its directory must
/// exist). The caller has checked that the reader may see the case. On error, and if the
/// returned future is dropped before it completes, `out` is removed again.
pub async fn write_package(state: &AppState, case_id: &str, out: &Path) -> AppResult<PackageInfo> {
    let facts = load::facts(&state.db, case_id).await?;
    let def = catalog::definition(&state.db, &facts.service_key, facts.version)
        .await?
        .ok_or_else(|| internal(anyhow::anyhow!("definition of case {case_id} is missing")))?;
    let evidence = load::evidence(&state.db, case_id).await?;
    let fees = load::fee_notices(&state.db, case_id).await?;
    let (messages, message_docs) = load::messages(&state.db, case_id).await?;
    let summary = summary_pdf::render(&state.db, case_id, LANG).await?;
    let exported_at = now_ms();

    // Each stored document gets one path, the first place it appears in: a fee notice's PDF
    // is also attached to its message, which then refers to it under `fees/`.
    let mut names = Names::default();
    let mut paths: HashMap<String, String> = HashMap::new();
    let mut planned: Vec<(Doc, Role, String)> = Vec::new();
    let mut plan = |dir: &str, doc: &Doc, role: Role| {
        if !paths.contains_key(&doc.id) {
            let path = names.claim(dir, &doc.file_name, &doc.content_type);
            paths.insert(doc.id.clone(), path.clone());
            planned.push((doc.clone(), role, path));
        }
    };
    for e in &evidence {
        let role = Role {
            kind: "evidence",
            field: Some(e.field_id.clone()),
            ..Role::default()
        };
        plan("evidence", &e.doc, role);
    }
    for doc in fees.iter().filter_map(|n| n.doc.as_ref()) {
        let role = Role {
            kind: "fee_notice",
            ..Role::default()
        };
        plan("fees", doc, role);
    }
    for a in messages.iter().flat_map(|m| &m.attachments) {
        if let Some(doc) = message_docs.get(&a.document_id) {
            let role = Role {
                kind: "attachment",
                ..Role::default()
            };
            plan("messages", doc, role);
        }
    }
    let answers_json = json::answers(&facts, &def, &paths).map_err(internal)?;
    let messages_json = json::messages(&facts, &messages, &paths).map_err(internal)?;

    // Created here, without an await, so that `Discard` can never run before the file exists.
    let discard = Discard::new(out);
    let file = std::fs::File::create(out).map_err(internal)?;
    let sink = Sink::start(file, zip_time(exported_at));
    let filled = async {
        let in_memory = [
            ("answers.json", "application/json", answers_json, "answers"),
            (
                "messages.json",
                "application/json",
                messages_json,
                "messages",
            ),
            ("summary.pdf", "application/pdf", summary, "summary"),
        ];
        let mut files = Vec::new();
        for (path, content_type, bytes, kind) in in_memory {
            let compress = content_type == "application/json";
            let packaged = sink
                .add_bytes(path, content_type, bytes, compress)
                .await
                .map_err(internal)?;
            files.push((
                packaged,
                Role {
                    kind,
                    ..Role::default()
                },
            ));
        }
        for (doc, mut role, path) in planned {
            let packaged = copy_document(state, &sink, &doc, &path).await?;
            role.document_id = Some(doc.id);
            role.original_name = Some(doc.file_name);
            files.push((packaged, role));
        }
        let manifest = json::manifest(&json::Manifest {
            facts: &facts,
            service_title: &def.title.de,
            exported_at,
            fees: &fees,
            paths: &paths,
            files: &files,
        })
        .map_err(internal)?;
        sink.add_bytes("manifest.json", "application/json", manifest, true)
            .await
            .map_err(internal)?;
        Ok::<_, AppError>(files)
    }
    .await;
    // The writing thread's own error explains a failure better than the closed channel the
    // async side saw.
    let size = sink.finish().await.map_err(internal)?;
    let files = filled?;
    discard.keep();
    Ok(PackageInfo {
        case_id: facts.id.clone(),
        file_name: format!(
            "Vorgang-{}.zip",
            facts
                .reference
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
        ),
        reference: facts.reference,
        size,
        files: files.into_iter().map(|(f, _)| f).collect(),
        exported_at,
    })
}

/// Streams one stored document into the package and checks it against its recorded size and
/// hash.
async fn copy_document(
    state: &AppState,
    sink: &Sink,
    doc: &Doc,
    path: &str,
) -> AppResult<PackagedFile> {
    let context = || format!("export: document {}", doc.id);
    let stream = state
        .db
        .vault
        .open_file(&state.db.pool, &state.storage, &doc.storage_key)
        .await
        .map_err(|e| internal(anyhow::Error::new(e).context(context())))?;
    let size = u64::try_from(doc.size).unwrap_or(0);
    let packaged = sink
        .add_stream(path, &doc.content_type, size, stream)
        .await
        .map_err(|e| internal(anyhow::Error::new(e).context(context())))?;
    if packaged.size != size || !packaged.sha256.eq_ignore_ascii_case(&doc.sha256) {
        return Err(internal(anyhow::anyhow!(
            "{}: stored content differs from the recorded size or SHA-256",
            context()
        )));
    }
    Ok(packaged)
}
