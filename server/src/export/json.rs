//! The JSON documents of the package. Their fields are the exchange format described in
//! `FORMAT.md`: names change only with a new format version, so an e-file system's import
//! keeps working.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::load::{Facts, FeeNotice};
use super::writer::PackagedFile;
use crate::applications::definition::{Definition, Field};
use crate::backoffice::thread::Message;

/// Stored times are Unix milliseconds; the package states instants in RFC 3339, UTC.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn instant(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339(ms)))
}

fn field(f: &Field) -> Value {
    json!({
        "key": f.id.get_ref(),
        "type": f.kind,
        "label": { "de": f.label.de, "en": f.label.en },
    })
}

/// Points every file of the answers (`{"document_id": …}` objects) at its place in the
/// package, so an import can file each document under its form field.
fn link_files(value: &mut Value, paths: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            let path = map
                .get("document_id")
                .and_then(Value::as_str)
                .and_then(|id| paths.get(id));
            if let Some(path) = path {
                map.insert("path".into(), Value::String(path.clone()));
            } else {
                map.values_mut().for_each(|v| link_files(v, paths));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| link_files(v, paths)),
        _ => {}
    }
}

/// The answers as frozen at submission, typed, keyed by the form's field keys, with the
/// definition's fields (type and label) so the keys can be read without the form.
pub fn answers(
    facts: &Facts,
    def: &Definition,
    paths: &HashMap<String, String>,
) -> serde_json::Result<Vec<u8>> {
    let mut answers: Value = serde_json::from_str(&facts.answers)?;
    link_files(&mut answers, paths);
    let mut fields = Vec::new();
    for page in &def.pages {
        fields.extend(page.fields.iter().map(field));
        if let Some(g) = &page.group {
            fields.push(json!({
                "key": g.id.get_ref(),
                "type": "group",
                "label": { "de": g.label.de, "en": g.label.en },
                "fields": g.fields.iter().map(field).collect::<Vec<_>>(),
            }));
        }
    }
    serde_json::to_vec_pretty(&json!({
        "reference": facts.reference,
        "service_key": facts.service_key,
        "definition_version": facts.version,
        "answers": answers,
        "fields": fields,
    }))
}

/// The thread between authority and citizen; internal notes are not part of it.
pub fn messages(
    facts: &Facts,
    messages: &[Message],
    paths: &HashMap<String, String>,
) -> serde_json::Result<Vec<u8>> {
    let items: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "kind": m.kind,
                "from_citizen": m.from_citizen,
                "author": m.author,
                "body": m.body,
                "outcome": m.outcome,
                "deadline_at": instant(m.deadline_at),
                "answered_at": instant(m.answered_at),
                "read_at": instant(m.read_at),
                "created_at": rfc3339(m.created_at),
                "attachments": m.attachments.iter().map(|a| json!({
                    "document_id": a.document_id,
                    "file_name": a.file_name,
                    "size": a.size,
                    "path": paths.get(&a.document_id),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_vec_pretty(&json!({
        "reference": facts.reference,
        "messages": items,
    }))
}

/// What a file is, beyond its path and hash, for the manifest.
#[derive(Clone, Debug, Default)]
pub struct Role {
    pub kind: &'static str,
    pub document_id: Option<String>,
    pub field: Option<String>,
    pub original_name: Option<String>,
}

pub struct Manifest<'a> {
    pub facts: &'a Facts,
    pub service_title: &'a str,
    pub exported_at: i64,
    pub fees: &'a [FeeNotice],
    pub paths: &'a HashMap<String, String>,
    pub files: &'a [(PackagedFile, Role)],
}

fn pair(p: &Option<(String, String)>) -> Value {
    p.as_ref()
        .map_or(Value::Null, |(id, name)| json!({ "id": id, "name": name }))
}

pub fn manifest(m: &Manifest<'_>) -> serde_json::Result<Vec<u8>> {
    let f = m.facts;
    let files: Vec<Value> = m
        .files
        .iter()
        .map(|(file, role)| {
            let mut entry = Map::new();
            entry.insert("path".into(), json!(file.path));
            entry.insert("kind".into(), json!(role.kind));
            entry.insert("content_type".into(), json!(file.content_type));
            entry.insert("size".into(), json!(file.size));
            entry.insert("sha256".into(), json!(file.sha256));
            for (key, value) in [
                ("document_id", &role.document_id),
                ("field", &role.field),
                ("original_name", &role.original_name),
            ] {
                if let Some(v) = value {
                    entry.insert(key.into(), json!(v));
                }
            }
            Value::Object(entry)
        })
        .collect();
    let fees: Vec<Value> = m
        .fees
        .iter()
        .map(|n| {
            json!({
                "number": n.number,
                "payment_reference": n.payment_reference,
                "state": n.state,
                "currency": "EUR",
                "total_cents": n.total_cents,
                "paid_cents": n.paid_cents,
                "due_date": n.due_date,
                "issued_at": rfc3339(n.issued_at),
                "closed_at": instant(n.closed_at),
                "path": n.doc.as_ref().and_then(|d| m.paths.get(&d.id)),
            })
        })
        .collect();
    serde_json::to_vec_pretty(&json!({
        "format": super::FORMAT,
        "version": super::FORMAT_VERSION,
        "case_id": f.id,
        "reference": f.reference,
        "service": { "key": f.service_key, "title": m.service_title },
        "definition_version": f.version,
        "authority": pair(&f.authority),
        "postbox": pair(&f.postbox),
        "submitted_at": rfc3339(f.submitted_at),
        "exported_at": rfc3339(m.exported_at),
        "state": f.state,
        "applicant_name": f.applicant_name,
        "fee_notices": fees,
        "files": files,
    }))
}
