//! Invariants of the parsers that read outside input, as functions from raw bytes that panic
//! when an invariant breaks. The cargo-fuzz targets in `server/fuzz` call them for long runs;
//! the property tests below call them with generated inputs in every `cargo test`, since a
//! fuzz build does not fit the CI budget. One place for the invariants means both check the
//! same thing. Nothing here is used by the portal itself.

use amtsweg_app::i18n::Lang;
use axum::extract::FromRequest;
use axum::response::IntoResponse;
use serde_json::Value;

use crate::accounts::postal;
use crate::api::{actions, cases, fees, idempotency, ApiJson};
use crate::applications::answers::{self, Answers};
use crate::applications::catalog::DEMO_DEFINITIONS;
use crate::applications::definition::{self, Definition, FieldType};
use crate::applications::evidence::{clean_name, sniff, PdfScriptScan};
use crate::applications::views;
use crate::backoffice::messages::Outgoing;
use crate::backoffice::uploads::UploadCheck;
use crate::export::names::Names;

fn today() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::November, 22).expect("a valid date")
}

/// Form definitions (admin upload, TOML): whatever the text, `parse` returns; an accepted
/// definition exports to TOML that is accepted again and exports the same (the catalogue
/// stores and re-reads exactly that), every pattern compiles the way validation uses it, and
/// every page validates and renders, empty and filled in, without panicking.
pub fn definition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(def) = definition::parse(text) else {
        return;
    };
    let exported = def.to_toml();
    let again = definition::parse(&exported)
        .unwrap_or_else(|p| panic!("the export is refused: {p:?}\n{exported}"));
    assert_eq!(again.to_toml(), exported, "the export is not stable");
    for (_, f) in def.fields() {
        if let Some(p) = &f.pattern {
            assert!(
                regex::Regex::new(&definition::anchored_pattern(p)).is_ok(),
                "pattern {p:?} was accepted but does not compile anchored"
            );
        }
    }
    for a in [Answers::new(), filled(&def, "1"), filled(&def, " yes ")] {
        exercise(&def, &a);
    }
}

/// Answers that fill every input of a definition with `value` (dates with a real date,
/// choices with their first option, groups to their maximum).
fn filled(def: &Definition, value: &str) -> Answers {
    let mut a = Answers::new();
    let s = |v: &str| Value::String(v.to_string());
    let put = |a: &mut Answers, name: String, f: &definition::Field| match f.kind {
        FieldType::Date => {
            for (part, v) in [("day", "29"), ("month", "2"), ("year", "2024")] {
                a.insert(format!("{name}.{part}"), s(v));
            }
        }
        FieldType::Checkboxes | FieldType::File => {
            let all: Vec<Value> = f.options.iter().map(|o| s(&o.value)).collect();
            a.insert(name, Value::Array(all));
        }
        FieldType::Select | FieldType::Radio => {
            let v = f.options.first().map_or(value, |o| o.value.as_str());
            a.insert(name, s(v));
        }
        _ => {
            a.insert(name, s(value));
        }
    };
    for page in &def.pages {
        for f in &page.fields {
            put(&mut a, f.id.get_ref().clone(), f);
        }
        if let Some(g) = &page.group {
            a.insert(format!("{}#count", g.id.get_ref()), s(&g.max.to_string()));
            for i in 0..g.max {
                for f in &g.fields {
                    put(
                        &mut a,
                        answers::group_input(g.id.get_ref(), i, f.id.get_ref()),
                        f,
                    );
                }
            }
        }
    }
    a
}

/// Validates, renders and freezes a definition's answers as the pages do, in both languages.
/// A freely filled form (`first_invalid` is `None`) must keep every non-empty visible answer
/// in the frozen case, and the frozen answers read back must freeze the same again.
fn exercise(def: &Definition, stored: &Answers) {
    // The pages read the answers in force; a stored answer of a hidden field is kept aside.
    let (in_force, hidden) = answers::split_hidden(def, stored.clone());
    assert_eq!(&answers::unite(in_force.clone(), hidden), stored);
    let a = &in_force;
    for lang in [Lang::De, Lang::En] {
        for page in &def.pages {
            let problems = answers::check_page(page, a, today(), lang);
            for p in &problems {
                assert!(!p.input.is_empty() && !p.message.is_empty(), "{p:?}");
            }
            for f in &page.fields {
                let _ = views::field_view_on(f, page, a, lang, &problems);
            }
            if let Some(g) = &page.group {
                let view = views::group_view(g, a, lang, &problems);
                assert!(view.items.len() <= g.max);
            }
            let _ = views::section(page, a, lang, String::new());
        }
        let steps = views::steps(def, a, lang);
        assert_eq!(steps.len(), answers::visible_pages(def, a).len() + 1);
    }
    let frozen = answers::structured(def, a);
    let back = views::answers_from_structured(def, &frozen);
    for lang in [Lang::De, Lang::En] {
        let _ = views::submitted_sections(def, &frozen, lang);
    }
    // Every answer on a page that validates is kept in the frozen case.
    for page in answers::visible_pages(def, a) {
        if !answers::check_page(page, a, today(), Lang::De).is_empty() {
            continue;
        }
        for f in page.fields.iter().filter(|f| answers::field_visible(f, a)) {
            let id = f.id.get_ref();
            let typed = !matches!(
                f.kind,
                FieldType::Date | FieldType::Checkboxes | FieldType::File
            );
            if typed && !answers::text(a, id).trim().is_empty() {
                assert_ne!(
                    frozen.get(id),
                    Some(&Value::Null),
                    "the valid answer {:?} to {id} ({:?}) is lost in the case",
                    answers::text(a, id),
                    f.kind
                );
            }
        }
    }
    // Reading the frozen answers back must show the same pages and freeze the same. Import
    // lets conditions test only yes/no and choices, whose frozen form reads back as sent.
    // Files are frozen as document records at submission, not as here; leave them out.
    let no_files = |m: &serde_json::Map<String, Value>| -> serde_json::Map<String, Value> {
        let files: Vec<&String> = def
            .fields()
            .filter(|(_, f)| f.kind == FieldType::File)
            .map(|(_, f)| f.id.get_ref())
            .collect();
        m.iter()
            .filter(|(k, _)| !files.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(
        no_files(&answers::structured(def, &back)),
        no_files(&frozen),
        "frozen answers read back freeze differently"
    );
}

/// Answers to the demo definitions as a form post could send them: the first byte picks the
/// definition, each further line `k<value>` sets the input name number `k` (of the names
/// the definition's pages read) to the rest of the line; a value starting with `[` is a list.
pub fn answers(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = DEMO_DEFINITIONS[usize::from(pick) % DEMO_DEFINITIONS.len()].1;
    let def = definition::parse(text).expect("the demo definitions are valid");
    let mut names: Vec<String> = Vec::new();
    for page in &def.pages {
        for f in &page.fields {
            let id = f.id.get_ref();
            names.extend([
                id.clone(),
                format!("{id}.day"),
                format!("{id}.month"),
                format!("{id}.year"),
            ]);
        }
        if let Some(g) = &page.group {
            names.push(format!("{}#count", g.id.get_ref()));
            for i in 0..3 {
                for f in &g.fields {
                    let n = answers::group_input(g.id.get_ref(), i, f.id.get_ref());
                    names.extend([n.clone(), format!("{n}.day"), format!("{n}.month")]);
                    names.push(format!("{n}.year"));
                }
            }
        }
    }
    names.push(answers::PREFILLED.to_string());
    let mut a = Answers::new();
    for line in rest.split(|b| *b == b'\n') {
        let Some((&k, value)) = line.split_first() else {
            continue;
        };
        let value = String::from_utf8_lossy(value);
        let v = match value.strip_prefix('[') {
            Some(list) => Value::Array(
                list.split(',')
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            None => Value::String(value.into_owned()),
        };
        a.insert(names[usize::from(k) % names.len()].clone(), v);
    }
    exercise(&def, &a);
}

/// File names from multipart uploads, API attachments and the e-file export: each line of the
/// input is a raw name. A cleaned name is never empty, at most 100 characters, has no path
/// separator, control or reserved character, no leading dot or space and no trailing space,
/// and cleaning it again changes nothing; export paths are unique ignoring case, stay in their
/// directory and have no `..` and no trailing dot.
pub fn file_names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut names = Names::default();
    let mut seen = std::collections::HashSet::new();
    let types = ["application/pdf", "image/jpeg", "image/png", "text/plain"];
    for (i, raw) in text.split('\n').take(64).enumerate() {
        for kind in ["pdf", "jpeg", "png"] {
            let n = clean_name(raw, kind);
            assert!(!n.is_empty() && n.chars().count() <= 100, "{raw:?} → {n:?}");
            assert!(
                !n.chars().any(|c| c.is_control()
                    || matches!(c, '/' | '\\' | '"' | '<' | '>' | ':' | '*' | '?' | '|')),
                "{raw:?} → {n:?}"
            );
            assert!(
                !n.starts_with(|c: char| c == '.' || c.is_whitespace())
                    && !n.ends_with(char::is_whitespace),
                "{raw:?} → {n:?}"
            );
            assert_eq!(clean_name(&n, kind), n, "cleaning {raw:?} twice");
        }
        let path = names.claim("evidence", raw, types[i % types.len()]);
        let name = path
            .strip_prefix("evidence/")
            .unwrap_or_else(|| panic!("{raw:?} → {path:?} left its directory"));
        assert!(!name.is_empty() && !name.contains(['/', '\\']), "{path:?}");
        assert!(!name.contains("..") && !name.chars().any(char::is_control));
        assert!(
            !name.ends_with(|c: char| c == '.' || c.is_whitespace()),
            "{raw:?} → {path:?}"
        );
        assert!(seen.insert(path.to_lowercase()), "{path:?} twice");
    }
}

/// Upload content checks (`UploadCheck`, used by evidence, message attachments and API
/// attachments): the first byte chooses the accepted types and the limit, the next three
/// where the content is cut into chunks. The verdict must not depend on the chunking; an
/// accepted file is within the limit, not empty, of an accepted type by its own first bytes,
/// and, if a PDF, contains no script marker anywhere.
pub fn upload(data: &[u8]) {
    let [flags, c1, c2, c3, content @ ..] = data else {
        return;
    };
    let all = ["pdf", "jpeg", "png"];
    let accepted: Vec<&str> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, k)| *k)
        .collect();
    let limit = if flags & 8 != 0 { 64 } else { 1 << 20 };
    let used = if flags & 16 != 0 { 900 } else { 0 };
    let quota = 1000;
    let verdict = |cuts: &[usize]| {
        let mut check = UploadCheck::new(&accepted, limit, used, quota);
        let mut at = 0;
        for &cut in cuts.iter().chain([&content.len()]) {
            let end = cut.clamp(at, content.len());
            check.feed(&content[at..end])?;
            at = end;
        }
        check.finish()
    };
    let whole = verdict(&[]);
    let (a, b, c) = (usize::from(*c1), usize::from(*c2), usize::from(*c3));
    let mut cuts = vec![a % 12, a % 12 + b % 12, a % 12 + b % 12 + c];
    cuts.sort_unstable();
    let chunked = verdict(&cuts);
    assert_eq!(
        whole.is_ok(),
        chunked.is_ok(),
        "cut at {cuts:?}: {whole:?} whole, {chunked:?} in chunks"
    );
    if let Ok(kind) = whole {
        assert_eq!(chunked, Ok(kind));
        assert!(accepted.contains(&kind.0));
        assert!(!content.is_empty() && content.len() as u64 <= limit);
        assert!(content.len() as i64 + used <= quota);
        assert_eq!(sniff(content), Some(kind), "the type is the content's");
        if kind.0 == "pdf" {
            for m in [&b"/JavaScript"[..], b"/JS", b"/Launch"] {
                assert!(!content.windows(m.len()).any(|w| w == m), "script passed");
            }
        }
    }
    let mut whole_scan = PdfScriptScan::default();
    whole_scan.feed(content);
    let mut scan = PdfScriptScan::default();
    for part in content.chunks(a % 16 + 1) {
        scan.feed(part);
    }
    assert_eq!(
        scan.found, whole_scan.found,
        "the scan depends on the chunking"
    );
}

/// The postal code table import (CSV from the CLI): any bytes give rows or an error; rows have
/// a five-digit postal code, an eight-digit AGS and plain, bounded names; an error lists at
/// most `MAX_PROBLEMS` lines.
pub fn postal_csv(data: &[u8]) {
    match postal::parse(data) {
        Ok(rows) => {
            assert!(!rows.is_empty());
            for r in rows {
                assert!(
                    r.postal_code.len() == 5 && r.postal_code.bytes().all(|b| b.is_ascii_digit())
                );
                assert!(r.ags.len() == 8 && r.ags.bytes().all(|b| b.is_ascii_digit()));
                assert!(!r.place.is_empty());
                for t in [&r.place, &r.county, &r.state] {
                    assert!(t.len() <= 200 && !t.chars().any(char::is_control), "{r:?}");
                    assert_eq!(t.trim(), t.as_str());
                }
            }
        }
        Err(postal::ImportError::Lines(m)) => {
            assert!(m.lines().count() <= postal::MAX_PROBLEMS, "{m}");
        }
        Err(_) => {}
    }
}

mod api;
pub use api::api_body;

#[cfg(test)]
mod tests;
