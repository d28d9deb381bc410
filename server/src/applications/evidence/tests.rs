use super::*;
use proptest::prelude::*;

#[test]
fn content_decides_the_type() {
    assert_eq!(sniff(b"%PDF-1.7\n").map(|k| k.0), Some("pdf"));
    assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|k| k.0), Some("jpeg"));
    assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").map(|k| k.0), Some("png"));
    assert_eq!(sniff(b"MZ\x90\x00"), None, "an executable named .pdf");
    assert_eq!(
        sniff(b"PK\x03\x04"),
        None,
        "Office files (zip) are not accepted"
    );
}

#[test]
fn script_in_pdfs_is_found_across_chunks() {
    let mut s = PdfScriptScan::default();
    s.feed(b"%PDF-1.4 1 0 obj << /Type /Action /S /Java");
    s.feed(b"Script /JS (app.alert(1)) >>");
    assert!(s.found);
    let mut clean = PdfScriptScan::default();
    clean.feed(b"%PDF-1.4 plain text stream");
    assert!(!clean.found);
}

#[test]
fn hostile_file_names_are_cleaned() {
    assert_eq!(clean_name("../../etc/passwd", "pdf"), "passwd");
    assert_eq!(
        clean_name("C:\\Users\\x\\Ausweis.pdf", "pdf"),
        "Ausweis.pdf"
    );
    assert_eq!(clean_name("a\u{0}b\r\n\"c\".pdf", "pdf"), "abc.pdf");
    assert_eq!(clean_name("...", "jpeg"), "nachweis.jpg");
}

proptest! {
    #[test]
    fn cleaned_names_never_contain_paths_or_controls(s in "\\PC{0,120}|.{0,40}") {
        let n = clean_name(&s, "pdf");
        prop_assert!(!n.contains('/') && !n.contains('\\') && !n.chars().any(char::is_control) && !n.contains('"'));
        prop_assert!(!n.is_empty() && n.chars().count() <= 100);
    }

    #[test]
    fn scanning_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        let mut s = PdfScriptScan::default();
        for c in &chunks { s.feed(c); }
    }
}

/// Found by the `file_names` fuzz invariant (cleaning twice changes nothing): dots and
/// spaces at the start are trimmed together.
#[test]
fn cleaning_is_idempotent() {
    assert_eq!(clean_name(". a.pdf", "pdf"), "a.pdf");
    assert_eq!(clean_name(" .\u{3000}.x ", "pdf"), "x");
    for raw in [". a", "a\u{3000}", " . . b", "../ .c"] {
        let once = clean_name(raw, "png");
        assert_eq!(clean_name(&once, "png"), once, "{raw:?}");
    }
}
