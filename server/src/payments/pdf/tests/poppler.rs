//! Reading the written PDFs back with the poppler tools, as a reader or a printer would.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a poppler tool; the tests that need one fail loudly rather than pass unchecked.
pub(super) fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "`{tool}` from poppler-utils is required by this test \
             (apt-get install poppler-utils): {e}"
        )
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub(super) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amtsweg-pdf-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub(super) fn text_of(pdf: &Path) -> String {
    let path = pdf.to_str().expect("utf-8 path");
    String::from_utf8(poppler("pdftotext", &["-enc", "UTF-8", path, "-"])).expect("UTF-8")
}

pub(super) fn pages_of(pdf: &Path) -> usize {
    let info =
        String::from_utf8(poppler("pdfinfo", &[pdf.to_str().expect("utf-8 path")])).expect("UTF-8");
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

/// Netpbm P5 (binary greyscale), as pdftoppm -gray writes it.
pub(super) fn parse_pgm(data: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        if data[i] == b'#' {
            while data[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(
            std::str::from_utf8(&data[start..i])
                .expect("ASCII header")
                .to_string(),
        );
    }
    assert_eq!(fields[0], "P5", "binary greyscale");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert_eq!(fields[3], "255", "8 bit");
    let pixels = data[i + 1..].to_vec();
    assert_eq!(pixels.len(), w * h);
    (w, h, pixels)
}
