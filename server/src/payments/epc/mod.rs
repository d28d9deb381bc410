//! EPC QR code ("GiroCode", EPC069-12 version 002) for fee notices: a payer scans it with a banking
//! app and gets a SEPA credit transfer with payee, IBAN, amount and the RF reference filled in, so
//! nothing is mistyped and reconciliation can match the payment on its creditor reference.
//!
//! The limits below come from EPC069-12. Banking apps refuse codes that break them (or, worse,
//! silently cut the name), so they are checked here rather than trusted to the caller.

/// Shared with the PDF tests, which decode the code again from a rendered page.
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

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
        QrMatrix::encode(payload.as_bytes(), MAX_VERSION).ok_or(EpcError::TooLarge)
    }
}

/// The modules of a QR code, without quiet zone, so each output (SVG, PDF) draws it its own way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Any data as a QR code at error correction level M, if it fits into `max_version`.
    /// Also used for the `otpauth://` URI of two-factor enrolment.
    pub fn encode(data: &[u8], max_version: i16) -> Option<QrMatrix> {
        let code = QrCode::with_error_correction_level(data, EcLevel::M).ok()?;
        match code.version() {
            Version::Normal(v) if v <= max_version => {}
            _ => return None,
        }
        Some(QrMatrix {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

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
