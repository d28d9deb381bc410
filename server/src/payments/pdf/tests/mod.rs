mod fixtures;
mod poppler;

use std::path::Path;

use krilla::metadata::DateTime;

use super::font::fonts;
use super::render::creation_date;
use super::*;
use crate::payments::epc::testing::{assert_epc_payload, decode_page};
use fixtures::{awkward, long_summary, notice, transfer};
use poppler::{pages_of, parse_pgm, poppler, scratch, text_of};

#[test]
fn the_printed_girocode_scans() {
    let dir = scratch("scan");
    let pdf = dir.join("fee-notice.pdf");
    std::fs::write(&pdf, fee_notice(&notice()).unwrap()).unwrap();
    let prefix = dir.join("page");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let (w, h, pixels) = parse_pgm(&std::fs::read(dir.join("page.pgm")).unwrap());
    let found = decode_page(w, h, &pixels);
    assert_eq!(found.len(), 1, "exactly one QR code on page 1");
    let (text, version, ecc) = &found[0];
    assert!(*version <= 13, "version {version}");
    assert_eq!(*ecc, 0, "level M");
    assert_epc_payload(text, &transfer());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn fee_notice_text_is_extractable() {
    let dir = scratch("text");
    let pdf = dir.join("fee-notice.pdf");
    std::fs::write(&pdf, fee_notice(&notice()).unwrap()).unwrap();
    let text = text_of(&pdf);
    for needle in [
        "Gebührenbescheid",
        "30,70 €",
        "20,20 €",
        "RF18 5390 0754 7034",
        "DE89 3704 0044 0532 0130 00",
        "Frau Jürgen-Müßig Özdemir",
        "Königstraße 12",
        "Amt für öffentliche Ordnung",
        "Rechtsbehelfsbelehrung",
        "Mit Ihrer Banking-App",
        "(GiroCode)",
        "Aktenzeichen A7K-3M9-XQ2 – Seite 1 von",
        "23.11.2026",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn long_summaries_flow_over_pages() {
    let dir = scratch("summary");
    let pdf = dir.join("summary.pdf");
    std::fs::write(&pdf, summary(&long_summary()).unwrap()).unwrap();
    let pages = pages_of(&pdf);
    assert!(pages >= 5, "{pages} pages");
    let text = text_of(&pdf);
    assert!(text.contains("Feld 199 mit einer"));
    assert!(text.contains("Ende der Angaben"));
    assert!(text.contains("Diese Zusammenfassung wurde maschinell erstellt."));
    assert!(text.contains(&format!("Seite {pages} von {pages}")));
    // The last page holds the end of the document.
    let last = text.split('\u{c}').rfind(|p| !p.trim().is_empty()).unwrap();
    assert!(last.contains("Diese Zusammenfassung wurde maschinell erstellt."));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn same_input_same_bytes() {
    let a = fee_notice(&notice()).unwrap();
    let b = fee_notice(&notice()).unwrap();
    assert!(a == b, "deterministic output");
    assert!(a.starts_with(b"%PDF-1.7"));
}

#[test]
fn awkward_input_still_gives_a_letter() {
    let bytes = fee_notice(&awkward()).unwrap();
    let dir = scratch("awkward");
    let pdf = dir.join("awkward.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let text = text_of(&pdf);
    assert!(text.contains("STORNIERT"));
    assert!(
        text.contains("???"),
        "missing glyphs show as question marks: {text}"
    );
    std::fs::remove_dir_all(dir).ok();

    let empty = SummaryPdf {
        letter: Letter::default(),
        intro: String::new(),
        sections: vec![SummarySection {
            title: String::new(),
            rows: vec![],
        }],
        closing: String::new(),
    };
    summary(&empty).unwrap();
}

#[test]
fn wrapping_measures_glyphs() {
    let f = &fonts().unwrap().regular;
    let text = "Gebühr für die Ausstellung eines Bewohnerparkausweises, zahlbar 30,70 € bis \
                23.12.2026 gemäß § 6a StVG; https://www.stuttgart.de/service/bewohnerparken/\
                antrag-und-gebuehren-fuer-bewohnerparkausweise";
    for width in [60.0, 120.0, 200.0, 400.0] {
        let lines = f.wrap(text, 10.0, width);
        for line in &lines {
            assert!(
                f.width(line.trim_end(), 10.0) <= width + 0.01,
                "{line:?} wider than {width}"
            );
            assert!(!line.starts_with("€"), "{line:?}");
            assert!(!line.trim_end().ends_with(" §"), "{line:?}");
        }
        // Lines broken at a space keep it, so the text reads back word for word.
        let original = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(lines.concat(), original, "nothing lost at {width}");
    }
    assert_eq!(f.wrap("a\n\nb", 10.0, 100.0), vec!["a", "", "b"]);
    assert!(f.width("MMM", 10.0) > f.width("iii", 10.0));
    assert!(
        (f.width("M", 1000.0) - 833.0).abs() < 1.0,
        "Arial metrics: M is 0.833 em"
    );
}

#[test]
fn creation_date_from_the_letter() {
    let meta = vec![
        ("Ihr Antrag vom".to_string(), "01.02.2026".to_string()),
        ("Datum".to_string(), "23.11.2026".to_string()),
    ];
    let date = creation_date(&meta);
    assert_eq!(
        format!("{date:?}"),
        format!("{:?}", DateTime::new(2026).month(11).day(23))
    );
    let date = creation_date(&meta[..1]);
    assert_eq!(
        format!("{date:?}"),
        format!("{:?}", DateTime::new(2026).month(2).day(1))
    );
    let submitted = [("Eingereicht".to_string(), "01.02.2026 14:05".to_string())];
    let date = creation_date(&submitted);
    assert_eq!(
        format!("{date:?}"),
        format!("{:?}", DateTime::new(2026).month(2).day(1))
    );
}

/// Writes sample letters to /tmp/amtsweg-pdf/ (PDF and PNG) for a human to look at.
#[test]
fn writes_samples() {
    let dir = Path::new("/tmp/amtsweg-pdf");
    std::fs::create_dir_all(dir).unwrap();
    let svg = transfer()
        .qr()
        .unwrap()
        .svg("GiroCode: 30,70 € an die Stadtkasse");
    std::fs::write(dir.join("girocode.svg"), svg).unwrap();
    let mut cancelled = notice();
    cancelled.stamp = Some("STORNIERT".into());
    for (name, bytes) in [
        ("fee-notice", fee_notice(&notice()).unwrap()),
        ("fee-notice-awkward", fee_notice(&awkward()).unwrap()),
        ("fee-notice-cancelled", fee_notice(&cancelled).unwrap()),
        ("summary", summary(&long_summary()).unwrap()),
    ] {
        let pdf = dir.join(format!("{name}.pdf"));
        std::fs::write(&pdf, &bytes).unwrap();
        let png = dir.join(name);
        poppler(
            "pdftoppm",
            &[
                "-png",
                "-r",
                "80",
                pdf.to_str().unwrap(),
                png.to_str().unwrap(),
            ],
        );
    }
}
