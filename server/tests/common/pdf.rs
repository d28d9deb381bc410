//! Reading generated PDFs the way a person and a banking app do: the text through poppler's
//! `pdftotext`, the QR code from the first page rasterised by `pdftoppm` and decoded by rqrr.
//! The test command installs poppler-utils; a missing tool fails the test with a clear message.

use std::process::Command;

fn run(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is needed (Debian package poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A PDF written to a unique temporary file, removed when dropped.
struct TempPdf(std::path::PathBuf);

impl TempPdf {
    fn new(bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!("amtsweg-test-{}.pdf", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }
}

impl Drop for TempPdf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The text of every page.
pub fn text(pdf: &[u8]) -> String {
    let f = TempPdf::new(pdf);
    String::from_utf8(run("pdftotext", &["-layout", f.0.to_str().unwrap(), "-"])).unwrap()
}

/// The content of the one QR code on the first page. Like a phone camera held over the letter,
/// it looks at the whole page first and then at overlapping windows, because rqrr's finder
/// search can be thrown off by text in the same rows.
pub fn qr_payload(pdf: &[u8]) -> String {
    let f = TempPdf::new(pdf);
    let pgm = run(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-gray",
            "-aa",
            "no",
            "-aaVector",
            "no",
            "-f",
            "1",
            "-l",
            "1",
            f.0.to_str().unwrap(),
        ],
    );
    let (width, height, pixels) = parse_pgm(&pgm);
    // Half-page windows at quarter-page steps, the last flush with the right and bottom edges,
    // so every code smaller than a quarter page lies wholly inside one of them.
    let (ww, wh) = (width / 2, height / 2);
    let starts = |total: usize, size: usize| {
        let mut v: Vec<usize> = (0..total - size).step_by(size / 2).collect();
        v.push(total - size);
        v
    };
    let mut windows = vec![(0, 0, width, height)];
    for y in starts(height, wh) {
        for x in starts(width, ww) {
            windows.push((x, y, ww, wh));
        }
    }
    for (x0, y0, w, h) in windows {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            pixels[(y0 + y) * width + x0 + x]
        });
        if let Some(Ok((_, content))) = img.detect_grids().first().map(|g| g.decode()) {
            return content;
        }
    }
    panic!("no QR code found on the first page");
}

/// Binary PGM (P5) with 8-bit samples, as pdftoppm writes it.
fn parse_pgm(data: &[u8]) -> (usize, usize, Vec<u8>) {
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
        fields.push(String::from_utf8_lossy(&data[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5", "pdftoppm -gray writes binary PGM");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = data[i + 1..i + 1 + w * h].to_vec();
    (w, h, pixels)
}
