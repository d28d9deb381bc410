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
fn exercise(def: &Definition, a: &Answers) {
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
    // Reading the frozen answers back must show the same pages and freeze the same. Only
    // asserted where conditions test choices (all demo forms): a condition on a number or
    // date compares the text, which freezing normalises (`3` → `3.0`).
    let choices_only = def.pages.iter().all(|p| {
        let conds = p.show_if.iter().chain(
            p.fields
                .iter()
                .flat_map(|f| f.show_if.iter().chain(f.required_if.iter())),
        );
        conds.into_iter().all(|c| {
            def.fields().any(|(_, f)| {
                *f.id.get_ref() == c.field
                    && matches!(
                        f.kind,
                        FieldType::YesNo
                            | FieldType::Select
                            | FieldType::Radio
                            | FieldType::Checkboxes
                    )
            })
        })
    });
    // Known and left open (RESULTS.md): a condition reads an answer even when the field it
    // names is hidden, so a stale answer there shows fields that freezing then drops.
    let hidden_answered = def.pages.iter().any(|p| {
        let shown = answers::page_visible(p, a);
        p.fields.iter().any(|f| {
            (!shown || !answers::field_visible(f, a))
                && !answers::list(a, f.id.get_ref()).is_empty()
        })
    });
    if hidden_answered || (!choices_only && answers::first_invalid(def, a, today()).is_some()) {
        return;
    }
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

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

/// Reads a JSON body as the API's `ApiJson` extractor does; a refusal must render as a
/// problem-details response with a 4xx status.
fn body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    let req = axum::http::Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(data.to_vec()))
        .expect("a request");
    match runtime().block_on(ApiJson::<T>::from_request(req, &())) {
        Ok(ApiJson(v)) => Some(v),
        Err(e) => {
            problem(e);
            None
        }
    }
}

fn problem(e: crate::api::problem::ApiError) {
    let response = e.into_response();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/problem+json"[..])
    );
}

/// A text the API accepted: trimmed, no control characters but line feeds and tabs.
fn plain(t: &str, max: usize) {
    assert!(t.chars().count() <= max, "{} characters", t.chars().count());
    assert_eq!(t.trim(), t);
    assert!(
        !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{t:?}"
    );
}

/// API request bodies (`/api/v1`), cursors and idempotency keys: the first byte picks which;
/// the rest is the body. A body is either refused as problem details or deserialised, and
/// then either refused by validation as problem details or accepted within every limit.
pub fn api_body(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 7 {
        0 => {
            if let Some(req) = body::<actions::AckRequest>(rest) {
                match actions::ack_reason(&req) {
                    Ok(Some(r)) => plain(&r, 10_000),
                    Ok(None) => assert!(req.reason.as_deref().unwrap_or("").is_empty()),
                    Err(p) => problem(crate::api::problem::ApiError::invalid(vec![p])),
                }
            }
        }
        1 => {
            if let Some(req) = body::<actions::MessageRequest>(rest) {
                match actions::check_message(&req) {
                    Ok((text, what, files)) => {
                        assert!(!text.is_empty());
                        plain(&text, 10_000);
                        assert!(files.len() <= 5);
                        if let Outgoing::Request { deadline } = what {
                            assert!(deadline > crate::time::now_ms());
                        }
                        for (_, bytes) in &files {
                            let mut check =
                                UploadCheck::new(&["pdf", "jpeg", "png"], 1 << 20, 0, i64::MAX);
                            if check.feed(bytes).is_ok() {
                                let _ = check.finish();
                            }
                        }
                    }
                    Err(problems) => {
                        assert!(!problems.is_empty());
                        problem(crate::api::problem::ApiError::invalid(problems));
                    }
                }
            }
        }
        2 => {
            let _ = body::<actions::StateRequest>(rest);
        }
        3 => {
            if let Some(req) = body::<fees::FeeNoticeRequest>(rest) {
                match fees::read(&req, 30, "Widerspruch binnen eines Monats.") {
                    Ok(n) => {
                        assert!((1..=6).contains(&n.items.len()));
                        let total: i64 = n.items.iter().map(|(_, m)| m.0).sum();
                        assert!(total > 0 && total <= crate::payments::notices::MAX_TOTAL_CENTS);
                        for (label, m) in &n.items {
                            assert!(m.0 > 0 && !label.is_empty());
                            plain(label, 200);
                        }
                        plain(&n.legal_basis, crate::payments::notices::MAX_LEGAL_BASIS);
                        let now = time::OffsetDateTime::now_utc().date();
                        assert!(crate::payments::notices::due_date_allowed(n.due_date, now));
                    }
                    Err(e) => problem(e),
                }
            }
        }
        4 => {
            if let Some(req) = body::<fees::CancelRequest>(rest) {
                match fees::cancel_reason(&req) {
                    Ok(r) => {
                        assert!(!r.is_empty());
                        plain(&r, crate::payments::notices::MAX_REASON);
                    }
                    Err(e) => problem(e),
                }
            }
        }
        5 => {
            let text = String::from_utf8_lossy(rest);
            match cases::decode_cursor(&text) {
                Ok((t, id)) => {
                    assert!(id.len() <= 64);
                    let again = cases::decode_cursor(&cases::encode_cursor(t, &id))
                        .unwrap_or_else(|_| panic!("cursor {text:?} does not round-trip"));
                    assert_eq!(again, (t, id));
                }
                Err(e) => problem(e),
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            if idempotency::valid(&text) {
                assert!((1..=255).contains(&text.len()));
                assert!(text.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The CI stand-in for the fuzz targets: the same invariants, inputs from proptest, a
    //! bounded number of cases each, seeded from the fixtures the fuzz corpora start from.
    use proptest::prelude::*;

    use super::*;

    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// A demo definition with a few bytes replaced, inserted or removed: mostly still TOML,
    /// often still a valid definition, so the checks after parsing are reached.
    fn mutated_definition() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just(String::new()),
            Just("\n".to_string()),
            Just("\"".to_string()),
            Just("min_days = 99999999999".to_string()),
            Just(
                "\npattern = \"a\\\\$\"\npattern_message = { de = \"x\", en = \"x\" }\n"
                    .to_string()
            ),
            Just("max_size_mb = 0".to_string()),
            "\\PC{0,12}",
            "[a-z_ =\"0-9\\[\\]{},.\n]{0,16}",
        ];
        (
            0..DEMO_DEFINITIONS.len(),
            proptest::collection::vec((any::<prop::sample::Index>(), 0usize..8, pieces), 0..4),
            any::<prop::sample::Index>(),
            prop_oneof![
                Just(None),
                any::<i64>().prop_map(Some),
                (-40_000i64..40_000).prop_map(Some)
            ],
        )
            .prop_map(|(i, edits, which, number)| {
                let mut text = DEMO_DEFINITIONS[i].1.to_string();
                // One number of the definition replaced (limits, days, sizes, versions).
                if let Some(n) = number {
                    let numbers: Vec<_> = regex::Regex::new("-?[0-9]+")
                        .expect("a valid pattern")
                        .find_iter(&text)
                        .map(|m| m.range())
                        .collect();
                    if !numbers.is_empty() {
                        let range = numbers[which.index(numbers.len())].clone();
                        text.replace_range(range, &n.to_string());
                    }
                }
                for (at, cut, piece) in edits {
                    let mut start = at.index(text.len() + 1);
                    while !text.is_char_boundary(start) {
                        start -= 1;
                    }
                    let mut end = (start + cut).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(start..end, &piece);
                }
                text
            })
    }

    #[test]
    fn the_demo_definitions_hold_the_definition_invariants() {
        for (_, text) in DEMO_DEFINITIONS {
            definition(text.as_bytes());
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn definitions(text in mutated_definition()) {
            definition(text.as_bytes());
        }

        #[test]
        fn answers_to_the_demo_forms(
            pick in any::<u8>(),
            lines in proptest::collection::vec(
                (any::<u8>(), prop_oneof![
                    Just("yes".to_string()), Just(" yes".to_string()), Just(" 3 ".to_string()),
                    Just("[a,b".to_string()), Just("29".to_string()), Just("2".to_string()),
                    Just("2024".to_string()), Just("12,50".to_string()),
                    Just("DE89 3704 0044 0532 0130 00".to_string()),
                    "\\PC{0,12}",
                ]),
                0..24,
            ),
        ) {
            let mut data = vec![pick];
            for (k, v) in lines {
                data.push(k);
                data.extend_from_slice(v.as_bytes());
                data.push(b'\n');
            }
            answers(&data);
        }
    }

    proptest! {
        #![proptest_config(config(1024))]

        #[test]
        fn file_names_from_uploads(raw in proptest::collection::vec(
            "\\PC{0,40}|[./\\\\ \u{3000}\u{a0}a\t]{0,8}|.{0,20}", 1..10,
        )) {
            file_names(raw.join("\n").as_bytes());
        }

        #[test]
        fn upload_verdicts_ignore_chunking(
            flags in any::<u8>(),
            cuts in any::<[u8; 3]>(),
            head in prop_oneof![
                Just(b"%PDF-1.7\n".to_vec()), Just(b"%PDF-".to_vec()), Just(b"%PD".to_vec()),
                Just(vec![0xFF, 0xD8, 0xFF]),
                Just(b"\x89PNG\r\n\x1a\n".to_vec()), Just(Vec::new()),
            ],
            body in proptest::collection::vec(prop_oneof![
                Just(b"/JS".to_vec()), Just(b"/Launch".to_vec()), Just(b"/J".to_vec()),
                Just(b"S".to_vec()), Just(b"/JavaScript".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..8),
            ], 0..6),
        ) {
            let mut data = vec![flags];
            data.extend_from_slice(&cuts);
            data.extend_from_slice(&head);
            data.extend(body.concat());
            upload(&data);
        }

        #[test]
        fn postal_code_tables(lines in proptest::collection::vec(prop_oneof![
            Just("1067,14612000,Dresden,,Sachsen".to_string()),
            Just("01067,14612000,\"Dres\nden\",Kreis,Land".to_string()),
            Just("x,y,z,,".to_string()),
            Just("01067,14612000,Ort,\u{1}Kreis,Land".to_string()),
            "[0-9]{0,9},[0-9]{0,9},\\PC{0,10},\\PC{0,5},.{0,5}",
        ], 0..30)) {
            let mut csv = String::from("plz,ags,ort,landkreis,bundesland\n");
            for l in lines {
                csv.push_str(&l);
                csv.push('\n');
            }
            postal_csv(csv.as_bytes());
        }

        #[test]
        fn api_bodies(pick in any::<u8>(), body in prop_oneof![
            Just(r#"{"outcome":"rejected","reason":" \r\n "}"#.to_string()),
            Just(r#"{"kind":"request","body":"x","reply_by":"2099-01-01"}"#.to_string()),
            Just(r#"{"kind":"message","body":"a\u0000","attachments":[{"file_name":"../a","content_base64":"JVBERi0vSlM="}]}"#.to_string()),
            Just(r#"{"items":[{"label":"Gebühr","amount_cents":9223372036854775807}],"legal_basis":"§ 1"}"#.to_string()),
            Just(r#"{"items":[{"label":"a","amount_cents":100}],"legal_basis":"b","due_date":"+10000-01-01"}"#.to_string()),
            Just(r#"{"reason":"\u2028"}"#.to_string()),
            Just("MTcwMDAwMDAwMDAwMC40ZjFjLWFh".to_string()),
            "\\PC{0,40}",
            "\\{\"[a-z_]{1,12}\":(\"\\PC{0,10}\"|[0-9-]{1,20}|null|\\[\\]|\\{\\})\\}",
        ]) {
            let mut data = vec![pick];
            data.extend_from_slice(body.as_bytes());
            api_body(&data);
        }
    }

    #[test]
    fn the_demo_postal_excerpt_holds_the_invariants() {
        postal_csv(postal::DEMO_EXCERPT.as_bytes());
    }
}
