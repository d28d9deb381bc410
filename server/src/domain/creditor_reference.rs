//! ISO 11649 structured creditor references (`RF18 5390 0754 7034`), the payment reference a
//! fee notice asks the payer to quote. Banks carry it unchanged in the structured remittance of
//! a SEPA transfer, and its two check digits let reconciliation refuse a mistyped one instead of
//! booking a payment onto the wrong notice.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditorReference(String);

/// The reference as one number mod 97, letters counting A=10 … Z=35, rearranged as ISO 11649
/// says (the first four characters moved to the end).
fn mod97(rearranged: &[u8]) -> u32 {
    rearranged.iter().fold(0u32, |acc, &c| {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            _ => u32::from(c - b'A') + 10,
        };
        if v < 10 {
            (acc * 10 + v) % 97
        } else {
            (acc * 100 + v) % 97
        }
    })
}

impl CreditorReference {
    /// The reference for a payload of 1 to 21 letters and digits (case-insensitive).
    pub fn from_payload(payload: &str) -> Option<Self> {
        let payload = payload.to_ascii_uppercase();
        if payload.is_empty()
            || payload.len() > 21
            || !payload.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        let mut rearranged = payload.clone().into_bytes();
        rearranged.extend_from_slice(b"RF00");
        let check = 98 - mod97(&rearranged);
        Some(Self(format!("RF{check:02}{payload}")))
    }

    /// Parses what a payer typed: any case, spaces anywhere. Refuses wrong check digits.
    pub fn parse(input: &str) -> Option<Self> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let b = compact.as_bytes();
        if !(5..=25).contains(&b.len())
            || &b[..2] != b"RF"
            || !b[2..4].iter().all(u8::is_ascii_digit)
            || !b[4..].iter().all(u8::is_ascii_alphanumeric)
        {
            return None;
        }
        let mut rearranged = b[4..].to_vec();
        rearranged.extend_from_slice(&b[..4]);
        (mod97(&rearranged) == 1).then_some(Self(compact))
    }

    /// Without spaces, as machines exchange it (EPC QR code, camt.053).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// In groups of four, as printed for people.
impl fmt::Display for CreditorReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, chunk) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standard_example() {
        let r = CreditorReference::parse("RF18 5390 0754 7034").unwrap();
        assert_eq!(r.as_str(), "RF18539007547034");
        assert_eq!(r.to_string(), "RF18 5390 0754 7034");
        assert_eq!(CreditorReference::from_payload("539007547034"), Some(r));
        assert!(CreditorReference::parse("RF19 5390 0754 7034").is_none());
        assert!(CreditorReference::parse("rf18539007547034").is_some());
        assert!(CreditorReference::parse("RF18").is_none());
        assert!(CreditorReference::from_payload("").is_none());
        assert!(CreditorReference::from_payload("1234567890123456789012").is_none());
        assert!(CreditorReference::from_payload("ÄB").is_none());
    }

    proptest! {
        #[test]
        fn generated_references_validate(payload in "[A-Z0-9]{1,21}") {
            let r = CreditorReference::from_payload(&payload).unwrap();
            prop_assert!(r.as_str().len() <= 25);
            prop_assert_eq!(CreditorReference::parse(&r.to_string()), Some(r));
        }

        #[test]
        fn a_changed_character_is_refused(payload in "[A-Z0-9]{4,21}", pos in 0usize..21, d in 1u8..10, l in 1u8..26) {
            let r = CreditorReference::from_payload(&payload).unwrap();
            let mut b = r.as_str().as_bytes().to_vec();
            let pos = 4 + pos % payload.len();
            // A digit for a digit or a letter for a letter changes the number by k * 10^n with
            // 0 < |k| < 97, which mod 97 always sees (97 is prime and does not divide 10).
            b[pos] = if b[pos].is_ascii_digit() {
                b'0' + (b[pos] - b'0' + d) % 10
            } else {
                b'A' + (b[pos] - b'A' + l) % 26
            };
            prop_assert!(CreditorReference::parse(std::str::from_utf8(&b).unwrap()).is_none());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = CreditorReference::parse(&s);
        }
    }
}
