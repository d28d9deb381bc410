use std::fmt;

/// Amtlicher Gemeindeschlüssel: 8 digits, state (2) + district (1) + county (2) + municipality (3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ags(String);

/// A German postal code: exactly 5 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

impl Ags {
    pub fn parse(input: &str) -> Option<Self> {
        let s = input.trim();
        digits(s, 8).then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The state part (`08` for Baden-Württemberg).
    pub fn state(&self) -> &str {
        &self.0[..2]
    }

    /// The county part including state and district (`08116` for Landkreis Esslingen).
    pub fn county(&self) -> &str {
        &self.0[..5]
    }
}

impl PostalCode {
    pub fn parse(input: &str) -> Option<Self> {
        let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        digits(&s, 5).then_some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parts_of_a_municipality_key() {
        let a = Ags::parse("08116019").unwrap();
        assert_eq!((a.state(), a.county()), ("08", "08116"));
        assert!(Ags::parse("8116019").is_none());
        assert!(Ags::parse("0811601x").is_none());
    }

    #[test]
    fn postal_codes() {
        assert_eq!(PostalCode::parse(" 70 173 ").unwrap().as_str(), "70173");
        assert!(PostalCode::parse("7017").is_none());
        assert!(
            PostalCode::parse("７０１７３").is_none(),
            "full-width digits are not ASCII digits"
        );
    }

    proptest! {
        #[test]
        fn parsed_values_are_always_plain_digits(s in "\\PC{0,12}") {
            if let Some(a) = Ags::parse(&s) { prop_assert!(a.as_str().len() == 8 && a.as_str().bytes().all(|b| b.is_ascii_digit())); }
            if let Some(p) = PostalCode::parse(&s) { prop_assert!(p.as_str().len() == 5 && p.as_str().bytes().all(|b| b.is_ascii_digit())); }
        }
    }
}
