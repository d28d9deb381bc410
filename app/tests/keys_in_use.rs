//! Every translation key written in the sources of app and server exists in both catalogues.
//! A key is any string literal of dotted lower-case words whose first word is a catalogue
//! section, or the prefix of a message group; keys assembled at run time otherwise are covered
//! by the tests of the pages that use them.

use std::path::Path;

use amtsweg_app::i18n::{has_key, Lang};

fn sections() -> Vec<String> {
    let text = include_str!("../locales/de.toml");
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('[')?
                .strip_suffix(']')
                .map(str::to_string)
        })
        .collect()
}

/// String literals, each with whether a translation call (`tr(`, `t(`, `tf(`) precedes it on
/// its line.
fn literals(src: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in src.lines() {
        let mut rest = line;
        let mut before = String::new();
        while let Some(start) = rest.find('"') {
            before.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let tail: String = before
                .chars()
                .rev()
                .take(40)
                .collect::<String>()
                .chars()
                .rev()
                .collect();
            let called = ["tr(", "t(", "tf("].iter().any(|c| {
                tail.match_indices(c).any(|(i, _)| {
                    !tail[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|p| p.is_alphanumeric() || p == '_')
                })
            });
            out.push((after[..end].to_string(), called));
            before.push_str(&after[..=end]);
            rest = &after[end + 1..];
        }
    }
    out
}

fn is_key_shaped(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

#[test]
fn every_key_used_in_the_code_exists_in_both_languages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sections = sections();
    let mut files = Vec::new();
    walk(&root.join("app/src"), &mut files);
    walk(&root.join("server/src"), &mut files);
    let mut missing = Vec::new();
    let mut checked = 0;
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for (lit, called) in literals(&src) {
            let section = lit.split('.').next().unwrap_or("");
            if is_key_shaped(&lit) && (called || sections.iter().any(|s| s == section)) {
                checked += 1;
                for lang in Lang::ALL {
                    // A message group (`x.title` + `x.text`) may be named by its prefix.
                    let group = has_key(lang, &format!("{lit}.title"))
                        && has_key(lang, &format!("{lit}.text"));
                    if !has_key(lang, &lit) && !group {
                        missing.push(format!("{} in {}: {lit}", lang.code(), f.display()));
                    }
                }
            }
        }
    }
    assert!(
        checked > 50,
        "the scan found only {checked} keys; is it still looking in the right place?"
    );
    assert!(
        missing.is_empty(),
        "missing translations:\n{}",
        missing.join("\n")
    );
}
