use std::fmt;

/// An IBAN whose ISO 13616 check digits are right (mod 97 = 1); stored without spaces,
/// shown in groups of four.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Iban(String);

/// Lengths per country for the SEPA countries people here use most; other countries are
/// checked by the general rule (15 to 34 characters) and the checksum.
const LENGTHS: &[(&str, usize)] = &[
    ("DE", 22),
    ("AT", 20),
    ("CH", 21),
    ("NL", 18),
    ("BE", 16),
    ("FR", 27),
    ("IT", 27),
    ("ES", 24),
    ("PL", 28),
    ("LU", 20),
    ("DK", 18),
    ("CZ", 24),
];

impl Iban {
    pub fn parse(input: &str) -> Option<Self> {
        let s: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if !(15..=34).contains(&s.len()) || !s.is_ascii() {
            return None;
        }
        let (country, rest) = s.split_at(2);
        if !country.bytes().all(|b| b.is_ascii_uppercase())
            || !rest[..2].bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        if let Some((_, len)) = LENGTHS.iter().find(|(c, _)| *c == country) {
            if s.len() != *len {
                return None;
            }
        }
        let rearranged = format!("{}{}", &s[4..], &s[..4]);
        let mut rem: u32 = 0;
        for c in rearranged.chars() {
            let v = c.to_digit(36)?;
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        (rem == 1).then_some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped by four for reading: `DE89 3704 0044 0532 0130 00`.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// An amount of euros in cents; parsed from what people type (`1.234,56`, `1234.56`, `12`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i64);

impl Money {
    pub fn parse(input: &str) -> Option<Self> {
        let s: String = input
            .trim()
            .trim_end_matches('€')
            .trim()
            .trim_start_matches("EUR")
            .trim()
            .to_string();
        if s.is_empty() || s.len() > 20 || s.starts_with('-') {
            return None;
        }
        // The last separator followed by one or two digits is the decimal separator.
        let (int_part, frac) = match s.rfind([',', '.']) {
            // The decimal separator must not also be used for thousands ("12,345,6").
            Some(i) if s.len() - i - 1 <= 2 && s.len() - i > 1 && !s[..i].contains(&s[i..=i]) => {
                (&s[..i], &s[i + 1..])
            }
            _ => (s.as_str(), ""),
        };
        let int_digits: String = int_part
            .chars()
            .filter(|c| !matches!(c, '.' | ',' | ' ' | '\''))
            .collect();
        if int_digits.is_empty()
            || !int_digits.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        // Thousands groups must be groups of three.
        let groups: Vec<&str> = int_part.split(['.', ',', ' ', '\'']).collect();
        if groups.len() > 1 && groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
        let euros: i64 = int_digits.parse().ok()?;
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().ok()? * 10,
            _ => frac.parse().ok()?,
        };
        euros.checked_mul(100)?.checked_add(cents).map(Money)
    }

    /// German notation: `1.234,56 €`.
    pub fn format_de(self) -> String {
        let euros = self.0 / 100;
        let digits = euros.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(c);
        }
        format!("{grouped},{:02} €", self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ibans() {
        let i = Iban::parse("de89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(i.as_str(), "DE89370400440532013000");
        assert_eq!(i.to_string(), "DE89 3704 0044 0532 0130 00");
        assert!(
            Iban::parse("DE89370400440532013001").is_none(),
            "wrong check digits"
        );
        assert!(
            Iban::parse("DE8937040044053201300").is_none(),
            "too short for DE"
        );
        assert!(Iban::parse("GB82WEST12345698765432").is_some());
        assert!(Iban::parse("").is_none());
    }

    #[test]
    fn money() {
        assert_eq!(Money::parse("1.234,56"), Some(Money(123456)));
        assert_eq!(Money::parse("1234.56"), Some(Money(123456)));
        assert_eq!(Money::parse("12"), Some(Money(1200)));
        assert_eq!(Money::parse("12,5 €"), Some(Money(1250)));
        assert_eq!(Money::parse("1.234"), Some(Money(123400)));
        assert_eq!(Money::parse("-5"), None);
        assert_eq!(Money::parse("12,345,6"), None);
        assert_eq!(Money::parse("abc"), None);
        assert_eq!(Money(123456).format_de(), "1.234,56 €");
        assert_eq!(Money(5).format_de(), "0,05 €");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = Iban::parse(&s);
            let _ = Money::parse(&s);
        }

        #[test]
        fn money_round_trips_through_german_notation(cents in 0i64..10_000_000_000) {
            let m = Money(cents);
            let text = m.format_de();
            prop_assert_eq!(Money::parse(text.trim_end_matches(" €")), Some(m));
        }

        #[test]
        fn single_digit_changes_break_the_iban(pos in 4usize..22, d in 1u32..10) {
            let base = "DE89370400440532013000";
            let mut b: Vec<char> = base.chars().collect();
            let v = b[pos].to_digit(10).unwrap();
            b[pos] = char::from_digit((v + d) % 10, 10).unwrap();
            let s: String = b.into_iter().collect();
            prop_assert!(Iban::parse(&s).is_none());
        }
    }
}
