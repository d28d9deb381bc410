use super::EpcTransfer;
use crate::domain::CreditorReference;

/// Every QR code rqrr finds in a greyscale image (0 = black), decoded, with its version and
/// error correction level (0 = M in rqrr's numbering).
pub fn decode_greyscale(width: usize, height: usize, pixels: &[u8]) -> Vec<(String, usize, u16)> {
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
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
