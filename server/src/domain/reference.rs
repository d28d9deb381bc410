//! Reference numbers (Aktenzeichen) that citizens read out on the phone and type from paper:
//! nine characters from Crockford's base-32 alphabet (no I, L, O, U), grouped `A7K-3M9-XQ2`,
//! the last one a Luhn mod 32 check character that catches every single mistyped character and
//! every swap of neighbouring characters except `0`↔`Z` (the one pair Luhn cannot see).

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference(String);

fn value(c: u8) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        c => c,
    };
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Luhn mod N over the payload, N = 32.
fn check_char(payload: &[u32]) -> u8 {
    let n = 32;
    let mut factor = 2;
    let mut sum = 0;
    for &v in payload.iter().rev() {
        let addend = factor * v;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    let remainder = sum % n;
    ALPHABET[((n - remainder) % n) as usize]
}

impl Reference {
    /// A fresh random reference.
    pub fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let payload: Vec<u32> = (0..8).map(|_| rng.gen_range(0..32)).collect();
        Self::from_payload(&payload)
    }

    /// The reference whose payload is `n` in base 32 (n < 32^8): distinct numbers give
    /// distinct references, which seeding test data relies on.
    pub fn from_number(n: u64) -> Self {
        let payload: Vec<u32> = (0..8).rev().map(|i| ((n >> (5 * i)) & 31) as u32).collect();
        Self::from_payload(&payload)
    }

    fn from_payload(payload: &[u32]) -> Self {
        let mut chars: Vec<u8> = payload.iter().map(|&v| ALPHABET[v as usize]).collect();
        chars.push(check_char(payload));
        let s = String::from_utf8(chars).unwrap_or_default();
        Self(format!("{}-{}-{}", &s[0..3], &s[3..6], &s[6..9]))
    }

    /// Parses what a person typed: any case, with or without dashes and spaces, O for 0 and
    /// I or L for 1. Refuses anything whose check character does not fit.
    pub fn parse(input: &str) -> Option<Self> {
        let cleaned: Vec<u8> = input
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' ' | b'.'))
            .collect();
        if cleaned.len() != 9 {
            return None;
        }
        let values: Option<Vec<u32>> = cleaned.iter().map(|&c| value(c)).collect();
        let values = values?;
        let candidate = Self::from_payload(&values[..8]);
        (candidate.0.as_bytes()[10] == ALPHABET[values[8] as usize]).then_some(candidate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn format_and_round_trip() {
        let r = Reference::generate();
        assert_eq!(r.as_str().len(), 11);
        assert_eq!(&r.as_str()[3..4], "-");
        assert_eq!(Reference::parse(r.as_str()), Some(r.clone()));
        assert_eq!(
            Reference::parse(&r.as_str().to_lowercase().replace('-', " ")),
            Some(r)
        );
    }

    #[test]
    fn lookalike_letters_are_read_as_digits() {
        let r = Reference::from_payload(&[0, 1, 1, 5, 6, 7, 8, 9]);
        let typed = r.as_str().replacen('0', "O", 1).replacen('1', "l", 1);
        assert_eq!(Reference::parse(&typed), Some(r));
    }

    proptest! {
        #[test]
        fn every_single_typo_is_caught(payload in proptest::collection::vec(0u32..32, 8), pos in 0usize..9, delta in 1u32..32) {
            let r = Reference::from_payload(&payload);
            let mut chars: Vec<u8> = r.as_str().bytes().filter(|b| *b != b'-').collect();
            let v = value(chars[pos]).unwrap();
            chars[pos] = ALPHABET[((v + delta) % 32) as usize];
            prop_assert_eq!(Reference::parse(std::str::from_utf8(&chars).unwrap()), None);
        }

        #[test]
        fn every_neighbour_swap_is_caught(payload in proptest::collection::vec(0u32..32, 8), pos in 0usize..8) {
            let r = Reference::from_payload(&payload);
            let mut chars: Vec<u8> = r.as_str().bytes().filter(|b| *b != b'-').collect();
            prop_assume!(chars[pos] != chars[pos + 1]);
            let pair = [chars[pos], chars[pos + 1]];
            prop_assume!(pair != *b"0Z" && pair != *b"Z0");
            chars.swap(pos, pos + 1);
            prop_assert_eq!(Reference::parse(std::str::from_utf8(&chars).unwrap()), None);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Reference::parse(&s);
        }
    }
}
