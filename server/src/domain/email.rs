use std::fmt;

/// A mail address as the portal stores it: trimmed, lower-cased, syntactically plausible and
/// free of anything that could smuggle a header into a mail.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("empty")]
    Empty,
    #[error("too long")]
    TooLong,
    #[error("invalid")]
    Invalid,
}

impl EmailError {
    /// Translation key of the message shown next to the field.
    pub fn message_key(self) -> &'static str {
        match self {
            EmailError::Empty => "error.email.empty",
            EmailError::TooLong => "error.email.too_long",
            EmailError::Invalid => "error.email.invalid",
        }
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain_ok = domain.contains('.')
            && domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !(local_ok && domain_ok) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(
            Email::parse(" Erika.Muster@Example.ORG ").unwrap().as_str(),
            "erika.muster@example.org"
        );
        assert!(Email::parse("a+tag@sub.domain.de").is_ok());
        assert!(Email::parse("jürgen@müller.de").is_ok());
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        for bad in [
            "plain",
            "@x.de",
            "a@",
            "a@b",
            "a..b@x.de",
            "a@-x.de",
            "a b@x.de",
            "a@x.de\r\nBcc: v@x.de",
            "a@x..de",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(300));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn never_panics_and_never_contains_line_breaks(s in "\\PC{0,80}|.{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(!e.as_str().contains(['\r', '\n', ' ', '<', '>', ',']));
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
                prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
            }
        }
    }
}
