//! Paths inside the package. File names come from citizens and staff, so they are cleaned the
//! way evidence downloads are, and made unique: an e-file system unpacks the package onto a disk
//! (often case-insensitive), where two equal names would overwrite each other.

use std::collections::HashSet;

use crate::applications::evidence::clean_name;

#[derive(Default)]
pub struct Names {
    /// Lower-cased, so that names differing only in case count as equal.
    used: HashSet<String>,
}

impl Names {
    /// A fresh path `dir/name` for a file called `raw`.
    pub fn claim(&mut self, dir: &str, raw: &str, content_type: &str) -> String {
        let name = safe_name(raw, content_type);
        let (stem, ext) = match name.rfind('.') {
            Some(i) if i > 0 => name.split_at(i),
            _ => (name.as_str(), ""),
        };
        let mut candidate = format!("{dir}/{name}");
        let mut n = 2;
        while !self.used.insert(candidate.to_lowercase()) {
            candidate = format!("{dir}/{stem}-{n}{ext}");
            n += 1;
        }
        candidate
    }
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "bin",
    }
}

/// `clean_name` already drops directories, control and reserved characters and leading dots;
/// the package also keeps no `..` anywhere (some unpackers take it for a step up) and no
/// trailing dot or space (Windows drops them, which could make two names equal).
fn safe_name(raw: &str, content_type: &str) -> String {
    let ext = extension(content_type);
    let mut name = clean_name(raw, ext);
    while name.contains("..") {
        name = name.replace("..", ".");
    }
    // Any white space, not only `' '`: `"a.\u{3000}"` trimmed of spaces only would end in a dot.
    let name = name.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if name.is_empty() {
        format!("datei.{ext}")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_cleaned_and_made_unique() {
        let mut n = Names::default();
        assert_eq!(
            n.claim("evidence", "../../etc/passwd", "application/pdf"),
            "evidence/passwd"
        );
        assert_eq!(
            n.claim("evidence", "Foto.PNG", "image/png"),
            "evidence/Foto.PNG"
        );
        assert_eq!(
            n.claim("evidence", "foto.png", "image/png"),
            "evidence/foto-2.png"
        );
        assert_eq!(
            n.claim("evidence", "foto.png", "image/png"),
            "evidence/foto-3.png"
        );
        assert_eq!(
            n.claim("messages", "foto.png", "image/png"),
            "messages/foto.png"
        );
        assert_eq!(
            n.claim("evidence", "..", "image/jpeg"),
            "evidence/nachweis.jpg"
        );
        assert_eq!(
            n.claim("evidence", "a..b. .", "application/pdf"),
            "evidence/a.b"
        );
        assert_eq!(
            n.claim("evidence", "a\u{0}\r\nb", "text/plain"),
            "evidence/ab"
        );
        assert_eq!(n.claim("fees", "", "application/pdf"), "fees/nachweis.pdf");
    }

    /// Trailing white space of any kind goes with trailing dots, so no name ends in a dot.
    #[test]
    fn no_trailing_dot_behind_other_white_space() {
        let mut n = Names::default();
        assert_eq!(
            n.claim("evidence", "a.\u{3000}.", "application/pdf"),
            "evidence/a"
        );
        assert_eq!(
            n.claim("evidence", "b .\u{a0}.", "application/pdf"),
            "evidence/b"
        );
    }

    proptest! {
        #[test]
        fn paths_never_escape_or_repeat(raws in proptest::collection::vec("\\PC{0,40}|[./\\\\ a]{0,8}", 1..12)) {
            let mut n = Names::default();
            let mut seen = HashSet::new();
            for raw in &raws {
                let path = n.claim("evidence", raw, "application/pdf");
                let name = path.strip_prefix("evidence/").unwrap();
                prop_assert!(!name.is_empty() && !name.contains('/') && !name.contains('\\'));
                prop_assert!(!name.contains("..") && !name.chars().any(char::is_control));
                prop_assert!(!name.ends_with('.') && !name.ends_with(' '));
                prop_assert!(seen.insert(path.to_lowercase()), "{path} twice");
            }
        }
    }
}
