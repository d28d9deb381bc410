//! EPC QR code ("GiroCode", EPC069-12 version 002) for fee notices: a payer scans it with a banking
//! app and gets a SEPA credit transfer with payee, IBAN, amount and the RF reference filled in, so
//! nothing is mistyped and reconciliation can match the payment on its creditor reference.
//!
//! The limits below come from EPC069-12. Banking apps refuse codes that break them (or, worse,
//! silently cut the name), so they are checked here rather than trusted to the caller.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode, Version};

use crate::domain::{CreditorReference, Iban, Money};

/// Longest payee name and note to payer, in characters (not bytes: line 3 declares UTF-8).
const MAX_TEXT_CHARS: usize = 70;
/// 0.01 to 999,999,999.99 euros, in cents.
const AMOUNT_RANGE: std::ops::RangeInclusive<i64> = 1..=99_999_999_999;
/// EPC069-12 caps the code at version 13 (69 × 69 modules, 331 bytes at level M) so that it
/// stays scannable when printed at the usual size.
const MAX_VERSION: i16 = 13;

/// The light border a scanner needs around the code, in modules (ISO/IEC 18004).
pub const QUIET_ZONE: usize = 4;

/// A SEPA credit transfer as the payee wants it made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpcTransfer {
    pub bic: Option<String>,
    pub name: String,
    pub iban: Iban,
    pub amount: Money,
    pub reference: CreditorReference,
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EpcError {
    #[error("the payee name is longer than 70 characters")]
    NameTooLong,
    #[error("the payee name is empty")]
    NameEmpty,
    #[error("the amount must be between 0.01 and 999999999.99 euros")]
    AmountOutOfRange,
    #[error("the note to the payer is longer than 70 characters")]
    NoteTooLong,
    #[error("the BIC must be 8 or 11 letters and digits (bank, country, location, branch)")]
    BicInvalid,
    #[error("the transfer does not fit into an EPC QR code (version 13, level M)")]
    TooLarge,
}

/// Line breaks separate the payload's fields, so one inside a name would shift every later field
/// (a bank would read part of the name as the IBAN). Other control characters are just as
/// meaningless to a bank; all become spaces.
fn single_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Banks accept BICs in either case but print them in capitals; the structure is checked so a
/// typo is refused here instead of by the payer's bank.
fn normalized_bic(bic: &str) -> Result<String, EpcError> {
    let bic = bic.trim().to_ascii_uppercase();
    let b = bic.as_bytes();
    let well_formed = matches!(b.len(), 8 | 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(u8::is_ascii_alphanumeric);
    if well_formed {
        Ok(bic)
    } else {
        Err(EpcError::BicInvalid)
    }
}

impl EpcTransfer {
    /// The EPC069-12 payload. Trailing empty optional lines are left out, as the standard
    /// allows: without a note it ends with the RF reference (line 10); with one, line 11 (the
    /// unstructured remittance, never used together with the reference) stays empty.
    pub fn payload(&self) -> Result<String, EpcError> {
        let bic = match self.bic.as_deref().map(str::trim) {
            None | Some("") => String::new(),
            Some(bic) => normalized_bic(bic)?,
        };
        let name = single_line(&self.name);
        if name.is_empty() {
            return Err(EpcError::NameEmpty);
        }
        if name.chars().count() > MAX_TEXT_CHARS {
            return Err(EpcError::NameTooLong);
        }
        let cents = self.amount.0;
        if !AMOUNT_RANGE.contains(&cents) {
            return Err(EpcError::AmountOutOfRange);
        }
        let note = self
            .note
            .as_deref()
            .map(single_line)
            .filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(EpcError::NoteTooLong);
        }

        let mut out = String::with_capacity(160);
        let amount = format!("EUR{}.{:02}", cents / 100, cents % 100);
        let lines = [
            "BCD",
            "002",
            "1",
            "SCT",
            &bic,
            &name,
            self.iban.as_str(),
            &amount,
            "",
            self.reference.as_str(),
        ];
        out.push_str(&lines.join("\n"));
        if let Some(note) = note {
            out.push_str("\n\n");
            out.push_str(&note);
        }
        Ok(out)
    }

    /// The payload as a QR code at error correction level M, as EPC069-12 requires.
    pub fn qr(&self) -> Result<QrMatrix, EpcError> {
        let payload = self.payload()?;
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
            .map_err(|_| EpcError::TooLarge)?;
        match code.version() {
            Version::Normal(v) if v <= MAX_VERSION => {}
            _ => return Err(EpcError::TooLarge),
        }
        Ok(QrMatrix {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }
}

/// The modules of a QR code, without quiet zone, so each output (SVG, PDF) draws it its own way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Outside the matrix everything is light (that is the quiet zone).
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width
            && y.checked_mul(self.width)
                .and_then(|row| row.checked_add(x))
                .and_then(|i| self.dark.get(i))
                .copied()
                .unwrap_or(false)
    }

    /// Horizontal runs of dark modules as (x, y, length): drawing runs instead of single modules
    /// keeps the SVG and the PDF small and avoids hairline gaps between neighbouring modules.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((start, y, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// An inline SVG scaled by CSS (no width or height, only a viewBox), with the quiet zone on a
    /// white background so it also scans on a dark page. The label is what screen readers
    /// announce instead of the pattern.
    pub fn svg(&self, label: &str) -> String {
        let size = self.width + 2 * QUIET_ZONE;
        let label = xml_escape(label);
        let mut d = String::new();
        // Relative moves from the start of the previous run keep the numbers short; `z` returns
        // the pen to that start.
        let (mut px, mut py) = (0, 0);
        for (x, y, len) in self.dark_runs() {
            let (x, y) = (x + QUIET_ZONE, y + QUIET_ZONE);
            if d.is_empty() {
                let _ = write!(d, "M{x} {y}");
            } else {
                // Runs come row by row, left to right, so y never decreases.
                let dx = x as i64 - px as i64;
                let dy = y - py;
                let _ = write!(d, "m{dx} {dy}");
            }
            let _ = write!(d, "h{len}v1h-{len}z");
            (px, py) = (x, y);
        }
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" "#,
                r#"role="img" aria-label="{label}" shape-rendering="crispEdges">"#,
                r#"<title>{label}</title>"#,
                r##"<rect width="{size}" height="{size}" fill="#fff"/>"##,
                r##"<path fill="#000" d="{d}"/></svg>"##
            ),
            size = size,
            label = label,
            d = d
        )
    }
}

/// Escapes for both text and attribute values; control characters other than whitespace are not
/// allowed in XML at all and are dropped.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Shared with the PDF tests, which decode the code again from a rendered page.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Every QR code rqrr finds in a greyscale image (0 = black), decoded, with its version and
    /// error correction level (0 = M in rqrr's numbering).
    pub fn decode_greyscale(
        width: usize,
        height: usize,
        pixels: &[u8],
    ) -> Vec<(String, usize, u16)> {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            pixels[y * width + x]
        });
        img.detect_grids()
            .into_iter()
            .map(|grid| {
                let (meta, text) = grid.decode().expect("a detected QR code decodes");
                (text, meta.version.0, meta.ecc_level)
            })
            .collect()
    }

    /// The distinct QR codes on a scanned page. rqrr loses finder patterns when many other
    /// shapes (text) share their rows, so if the whole page yields nothing, it looks at
    /// overlapping windows of a third of the page, as a phone camera held over the letter
    /// would.
    pub fn decode_page(width: usize, height: usize, pixels: &[u8]) -> Vec<(String, usize, u16)> {
        let mut found = decode_greyscale(width, height, pixels);
        if found.is_empty() {
            let size = width.min(height) / 3;
            // A code up to two thirds of the window wide lies wholly inside some window.
            let step = (size / 3).max(1);
            for top in (0..=height.saturating_sub(size)).step_by(step) {
                for left in (0..=width.saturating_sub(size)).step_by(step) {
                    let window: Vec<u8> = (top..top + size)
                        .flat_map(|y| &pixels[y * width + left..y * width + left + size])
                        .copied()
                        .collect();
                    for code in decode_greyscale(size, size, &window) {
                        if !found.iter().any(|(text, _, _)| *text == code.0) {
                            found.push(code);
                        }
                    }
                }
            }
        }
        found
    }

    /// Checks a decoded payload line by line against EPC069-12 and against the transfer it was
    /// made from.
    pub fn assert_epc_payload(text: &str, t: &EpcTransfer) {
        assert!(!text.ends_with('\n'), "no trailing line feed: {text:?}");
        assert!(!text.contains('\r'), "LF only: {text:?}");
        assert!(text.len() <= 331, "331 bytes at most: {}", text.len());
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(
            (10..=12).contains(&lines.len()),
            "10 to 12 lines: {lines:?}"
        );
        assert_eq!(lines[0], "BCD", "service tag");
        assert_eq!(lines[1], "002", "version");
        assert_eq!(lines[2], "1", "character set UTF-8");
        assert_eq!(lines[3], "SCT", "identification");
        let bic = lines[4];
        match t.bic.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            None => assert_eq!(bic, "", "no BIC given"),
            Some(b) => {
                assert_eq!(bic, b.to_ascii_uppercase(), "BIC");
                assert!(matches!(bic.len(), 8 | 11), "BIC length");
            }
        }
        let name = lines[5];
        assert!(
            (1..=70).contains(&name.chars().count()),
            "name 1 to 70 characters"
        );
        assert_eq!(name, t.name.trim(), "name");
        assert!(lines[6].len() <= 34, "IBAN length");
        assert_eq!(lines[6], t.iban.as_str(), "IBAN, compact");
        let amount = lines[7]
            .strip_prefix("EUR")
            .expect("amount starts with EUR");
        let (euros, cents) = amount.split_once('.').expect("decimal dot");
        assert!(
            !euros.is_empty() && euros.bytes().all(|b| b.is_ascii_digit()) && euros.len() <= 9,
            "euros: {amount}"
        );
        assert!(
            cents.len() == 2 && cents.bytes().all(|b| b.is_ascii_digit()),
            "two decimals: {amount}"
        );
        let value: i64 = format!("{euros}{cents}").parse().expect("a number");
        assert!((1..=99_999_999_999).contains(&value), "amount range");
        assert_eq!(value, t.amount.0, "amount");
        assert_eq!(lines[8], "", "no purpose code");
        assert!(lines[9].len() <= 35, "reference length");
        assert_eq!(lines[9], t.reference.as_str(), "RF reference, compact");
        assert!(
            CreditorReference::parse(lines[9]).is_some(),
            "a valid RF reference"
        );
        match t.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => assert_eq!(lines.len(), 10, "ends after the reference without a note"),
            Some(note) => {
                assert_eq!(lines.len(), 12, "note on line 12");
                assert_eq!(lines[10], "", "never reference and unstructured text both");
                assert!(lines[11].chars().count() <= 70, "note length");
                assert_eq!(lines[11], note, "note");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_epc_payload, decode_greyscale};
    use super::*;

    fn transfer() -> EpcTransfer {
        EpcTransfer {
            bic: Some("BFSWDE33XXX".into()),
            name: "Landeshauptstadt Stuttgart, Amt für öffentliche Ordnung".into(),
            iban: Iban::parse("DE89 3704 0044 0532 0130 00").expect("valid IBAN"),
            amount: Money(3070),
            reference: CreditorReference::parse("RF18 5390 0754 7034").expect("valid RF"),
            note: Some("Bewohnerparkausweis A7K-3M9-XQ2".into()),
        }
    }

    #[test]
    fn full_payload_line_by_line() {
        let t = transfer();
        let payload = t.payload().unwrap();
        assert_eq!(
            payload,
            [
                "BCD",
                "002",
                "1",
                "SCT",
                "BFSWDE33XXX",
                "Landeshauptstadt Stuttgart, Amt für öffentliche Ordnung",
                "DE89370400440532013000",
                "EUR30.70",
                "",
                "RF18539007547034",
                "",
                "Bewohnerparkausweis A7K-3M9-XQ2",
            ]
            .join("\n")
        );
        assert_epc_payload(&payload, &t);
    }

    #[test]
    fn without_bic_and_note_ends_with_the_reference() {
        let t = EpcTransfer {
            bic: None,
            note: None,
            ..transfer()
        };
        let payload = t.payload().unwrap();
        let lines: Vec<&str> = payload.split('\n').collect();
        assert_eq!(lines.len(), 10);
        assert_eq!(lines[4], "");
        assert_eq!(lines[9], "RF18539007547034");
        assert_epc_payload(&payload, &t);

        // Blank optional values count as absent.
        let blank = EpcTransfer {
            bic: Some("  ".into()),
            note: Some(" ".into()),
            ..transfer()
        };
        assert_eq!(blank.payload().unwrap(), payload);
    }

    #[test]
    fn bic_of_eight_in_any_case() {
        let t = EpcTransfer {
            bic: Some(" cobadeff ".into()),
            ..transfer()
        };
        let payload = t.payload().unwrap();
        assert_eq!(payload.split('\n').nth(4), Some("COBADEFF"));
        assert_epc_payload(&payload, &t);
        for bad in [
            "COBADEF",
            "COBADEFF1",
            "COBADEFF12",
            "C0BADEFF",
            "COBADEFF1234",
            "COBÄDEFF",
        ] {
            let t = EpcTransfer {
                bic: Some(bad.into()),
                ..transfer()
            };
            assert_eq!(t.payload(), Err(EpcError::BicInvalid), "{bad}");
        }
    }

    #[test]
    fn names_are_counted_in_characters() {
        let name = "Ä".repeat(35) + &"ö".repeat(20) + &"ß".repeat(15);
        assert_eq!(name.chars().count(), 70);
        assert_eq!(name.len(), 140);
        let t = EpcTransfer {
            name: name.clone(),
            ..transfer()
        };
        let payload = t.payload().unwrap();
        assert_eq!(payload.split('\n').nth(5), Some(name.as_str()));
        assert_epc_payload(&payload, &t);
        t.qr().unwrap();

        let long = EpcTransfer {
            name: "a".repeat(71),
            ..transfer()
        };
        assert_eq!(long.payload(), Err(EpcError::NameTooLong));
        let long = EpcTransfer {
            name: "ü".repeat(71),
            ..transfer()
        };
        assert_eq!(long.payload(), Err(EpcError::NameTooLong));
        let empty = EpcTransfer {
            name: " \n ".into(),
            ..transfer()
        };
        assert_eq!(empty.payload(), Err(EpcError::NameEmpty));
    }

    #[test]
    fn line_breaks_cannot_shift_fields() {
        let t = EpcTransfer {
            name: "Stadt\nDE00 Evil".into(),
            note: Some("a\r\nb".into()),
            ..transfer()
        };
        let payload = t.payload().unwrap();
        let lines: Vec<&str> = payload.split('\n').collect();
        assert_eq!(lines.len(), 12);
        assert_eq!(lines[5], "Stadt DE00 Evil");
        assert_eq!(lines[6], "DE89370400440532013000");
        assert_eq!(lines[11], "a  b");
    }

    #[test]
    fn amount_bounds() {
        for (cents, text) in [
            (1, "EUR0.01"),
            (99_999_999_999, "EUR999999999.99"),
            (100, "EUR1.00"),
        ] {
            let t = EpcTransfer {
                amount: Money(cents),
                ..transfer()
            };
            let payload = t.payload().unwrap();
            assert_eq!(payload.split('\n').nth(7), Some(text));
            assert_epc_payload(&payload, &t);
        }
        for cents in [0, -1, 100_000_000_000, i64::MIN, i64::MAX] {
            let t = EpcTransfer {
                amount: Money(cents),
                ..transfer()
            };
            assert_eq!(t.payload(), Err(EpcError::AmountOutOfRange), "{cents}");
            assert_eq!(t.qr(), Err(EpcError::AmountOutOfRange), "{cents}");
        }
    }

    #[test]
    fn note_limit() {
        let t = EpcTransfer {
            note: Some("é".repeat(70)),
            ..transfer()
        };
        assert_epc_payload(&t.payload().unwrap(), &t);
        let t = EpcTransfer {
            note: Some("é".repeat(71)),
            ..transfer()
        };
        assert_eq!(t.payload(), Err(EpcError::NoteTooLong));
    }

    #[test]
    fn too_large_for_version_13() {
        // 70 characters of three bytes each, twice: valid lengths, but 460 bytes, more than the
        // 331 bytes a version 13 code holds at level M.
        let t = EpcTransfer {
            name: "€".repeat(70),
            note: Some("€".repeat(70)),
            ..transfer()
        };
        assert!(t.payload().is_ok());
        assert_eq!(t.qr(), Err(EpcError::TooLarge));
    }

    /// Renders the matrix the way a printer would: 4 pixels per module, quiet zone, white paper.
    fn render(m: &QrMatrix, scale: usize) -> (usize, Vec<u8>) {
        let size = (m.width + 2 * QUIET_ZONE) * scale;
        let mut pixels = vec![255u8; size * size];
        for py in 0..size {
            for px in 0..size {
                let (x, y) = (px / scale, py / scale);
                if x >= QUIET_ZONE && y >= QUIET_ZONE && m.is_dark(x - QUIET_ZONE, y - QUIET_ZONE) {
                    pixels[py * size + px] = 0;
                }
            }
        }
        (size, pixels)
    }

    #[test]
    fn qr_code_decodes_to_the_payload() {
        let name70 = "Ä".repeat(35) + &"ö".repeat(20) + &"ß".repeat(15);
        let transfers = [
            transfer(),
            EpcTransfer {
                bic: None,
                note: None,
                amount: Money(1),
                ..transfer()
            },
            EpcTransfer {
                name: name70,
                note: Some("Gebühr für Führungszeugnis – Straße".into()),
                amount: Money(99_999_999_999),
                ..transfer()
            },
        ];
        for t in transfers {
            let m = t.qr().unwrap();
            assert!(m.width >= 21 && m.width <= 17 + 4 * 13, "version 1 to 13");
            let (size, pixels) = render(&m, 4);
            let found = decode_greyscale(size, size, &pixels);
            assert_eq!(found.len(), 1, "one code");
            let (text, version, ecc) = &found[0];
            assert_eq!(*text, t.payload().unwrap());
            assert!(*version <= 13);
            assert_eq!(*ecc, 0, "level M");
            assert_epc_payload(text, &t);
        }
    }

    #[test]
    fn svg_is_small_accessible_and_scales() {
        let m = transfer().qr().unwrap();
        let svg = m.svg("GiroCode: 30,70 € an \"Stadt\" <Kasse> & Co");
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        let size = m.width + 8;
        assert!(svg.contains(&format!(r#"viewBox="0 0 {size} {size}""#)));
        assert!(!svg.contains("width=\"") || svg.contains(&format!(r#"<rect width="{size}""#)));
        assert!(!svg.contains(" height=\"") || svg.contains(&format!(r#"height="{size}" fill"#)));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"shape-rendering="crispEdges""#));
        assert!(svg.contains(
            r#"aria-label="GiroCode: 30,70 € an &quot;Stadt&quot; &lt;Kasse&gt; &amp; Co""#
        ));
        assert!(svg.contains(
            "<title>GiroCode: 30,70 € an &quot;Stadt&quot; &lt;Kasse&gt; &amp; Co</title>"
        ));
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.len() < 12_000, "{} bytes", svg.len());

        // The path, read back, covers exactly the dark modules.
        let d = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let mut covered = vec![false; size * size];
        let (mut x, mut y) = (0i64, 0i64);
        for cmd in d.split('z').filter(|c| !c.is_empty()) {
            let (mv, rest) = cmd.split_once('h').unwrap();
            let rel = mv.starts_with('m');
            let mut nums = mv[1..].split(' ').map(|n| n.parse::<i64>().unwrap());
            let (dx, dy) = (nums.next().unwrap(), nums.next().unwrap());
            if rel {
                x += dx;
                y += dy;
            } else {
                (x, y) = (dx, dy);
            }
            let len: i64 = rest.split('v').next().unwrap().parse().unwrap();
            assert_eq!(rest, format!("{len}v1h-{len}"));
            for i in 0..len {
                covered[(y as usize) * size + (x + i) as usize] = true;
            }
        }
        for yy in 0..size {
            for xx in 0..size {
                let dark = xx >= QUIET_ZONE
                    && yy >= QUIET_ZONE
                    && m.is_dark(xx - QUIET_ZONE, yy - QUIET_ZONE);
                assert_eq!(covered[yy * size + xx], dark, "module {xx},{yy}");
            }
        }
    }

    #[test]
    fn out_of_range_modules_are_light() {
        let m = transfer().qr().unwrap();
        assert!(!m.is_dark(m.width, 0));
        assert!(!m.is_dark(0, m.width));
        assert!(!m.is_dark(usize::MAX, usize::MAX));
        assert!(m.is_dark(0, 0), "finder pattern corner");
    }
}
