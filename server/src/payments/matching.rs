//! Which fee notice a bank credit pays. Payers quote references in every possible way: the
//! structured RF reference (best), the RF reference typed into the free text with spaces or
//! split over lines, only the case's reference number, with O for 0, or nothing usable at all.
//! The index answers each question with a hash lookup, so a statement of 100,000 entries is
//! matched against 100,000 open notices in well under a second.

use std::collections::HashMap;

use crate::domain::CreditorReference;

/// An open notice as matching needs it.
#[derive(Clone, Debug)]
pub struct OpenNotice {
    pub id: String,
    /// Compact RF reference.
    pub payment_reference: String,
    /// Case reference without dashes (9 characters).
    pub case_reference: String,
    pub number: i64,
    pub outstanding: i64,
    /// Lower-case words of the applicant's name, to suggest a match by payer name.
    pub name_words: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// The structured RF reference names the notice.
    Reference(usize),
    /// A reference was found in the free text.
    Remittance(usize),
    /// Amount and payer fit; a person confirms.
    Suggestion(usize),
    None,
}

#[derive(Default)]
pub struct Index {
    pub notices: Vec<OpenNotice>,
    by_rf: HashMap<String, usize>,
    by_case: HashMap<String, Vec<usize>>,
    /// (outstanding amount, lower-case name word) → notices: a suggestion costs one lookup
    /// per word of the payer's name, not a scan of every notice over the same amount.
    by_amount_name: HashMap<(i64, String), Vec<usize>>,
}

/// Upper case, only letters and digits: undoes the spaces, dashes, dots and line breaks payers
/// and banks put into references.
fn compact(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Reads letters people confuse with digits as the digits, as case references do.
fn lookalikes(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

impl Index {
    pub fn new(notices: Vec<OpenNotice>) -> Self {
        let mut ix = Index::default();
        for (i, n) in notices.iter().enumerate() {
            ix.by_rf.insert(n.payment_reference.clone(), i);
            ix.by_case
                .entry(n.case_reference.clone())
                .or_default()
                .push(i);
            for w in n.name_words.iter().filter(|w| w.chars().count() > 1) {
                let list = ix
                    .by_amount_name
                    .entry((n.outstanding, w.clone()))
                    .or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        ix.notices = notices;
        ix
    }

    pub fn is_empty(&self) -> bool {
        self.notices.is_empty()
    }

    /// The notice a credit pays, if any. `structured` is the RF reference from the structured
    /// remittance, `free_text` all unstructured remittance lines joined.
    pub fn find(
        &self,
        structured: Option<&str>,
        free_text: &str,
        amount: i64,
        payer: &str,
    ) -> Match {
        if let Some(r) = structured.and_then(CreditorReference::parse) {
            // A valid reference of a notice that is no longer open (paid, cancelled) is a
            // second payment or a late one: a person decides, nothing is guessed.
            return match self.by_rf.get(r.as_str()) {
                Some(&i) => Match::Reference(i),
                None => Match::None,
            };
        }
        let text = compact(&format!("{} {free_text}", structured.unwrap_or("")));
        if let Some(i) = self.rf_in(&text) {
            return Match::Remittance(i);
        }
        if let Some(i) = self.case_in(&lookalikes(&text), amount) {
            return Match::Remittance(i);
        }
        match self.suggest(amount, payer) {
            Some(i) => Match::Suggestion(i),
            None => Match::None,
        }
    }

    /// A valid RF reference of an open notice anywhere in the text.
    fn rf_in(&self, text: &str) -> Option<usize> {
        let b = text.as_bytes();
        (0..b.len().saturating_sub(4)).find_map(|p| {
            if &b[p..p + 2] != b"RF" {
                return None;
            }
            (5..=25)
                .rev()
                .filter(|len| p + len <= b.len())
                .find_map(|len| self.by_rf.get(&text[p..p + len]).copied())
        })
    }

    /// A case reference of a case with open notices: the one notice, or the one the amount or
    /// the number after the reference singles out.
    fn case_in(&self, text: &str, amount: i64) -> Option<usize> {
        let b = text.as_bytes();
        (0..(b.len() + 1).saturating_sub(9)).find_map(|p| {
            let candidates = self.by_case.get(&text[p..p + 9])?;
            if let [only] = candidates.as_slice() {
                return Some(*only);
            }
            let number: Option<i64> = text.get(p + 9..p + 11).and_then(|s| s.parse().ok());
            if let Some(i) = candidates
                .iter()
                .find(|&&i| Some(self.notices[i].number) == number)
            {
                return Some(*i);
            }
            let fitting: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| self.notices[i].outstanding == amount)
                .collect();
            match fitting.as_slice() {
                [only] => Some(*only),
                _ => None,
            }
        })
    }

    /// The one open notice over exactly this amount whose applicant's name appears in the
    /// payer's name.
    fn suggest(&self, amount: i64, payer: &str) -> Option<usize> {
        let payer = payer.to_lowercase();
        let mut found: Option<usize> = None;
        for w in payer
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 1)
        {
            for &i in self
                .by_amount_name
                .get(&(amount, w.to_string()))
                .into_iter()
                .flatten()
            {
                match found {
                    None => found = Some(i),
                    Some(f) if f == i => {}
                    Some(_) => return None,
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn notice(case: &str, number: i64, cents: i64, name: &str) -> OpenNotice {
        OpenNotice {
            id: format!("{case}-{number}"),
            payment_reference: crate::payments::notices::payment_reference(case, number)
                .unwrap()
                .as_str()
                .to_string(),
            case_reference: case.replace('-', ""),
            number,
            outstanding: cents,
            name_words: name.to_lowercase().split(' ').map(String::from).collect(),
        }
    }

    fn index() -> Index {
        Index::new(vec![
            notice("A7K-3M9-XQ2", 1, 3070, "Erika Mustermann"),
            notice("B8M-4N0-YR3", 1, 1000, "Max Mustermann"),
            notice("B8M-4N0-YR3", 2, 1200, "Max Mustermann"),
            notice("C9N-5P1-ZS4", 1, 5000, "Jana Nowak"),
        ])
    }

    #[test]
    fn structured_reference_first() {
        let ix = index();
        let rf = ix.notices[0].payment_reference.clone();
        assert_eq!(ix.find(Some(&rf), "", 3070, ""), Match::Reference(0));
        // The amount does not matter: partial and over-payments are matched as well.
        assert_eq!(ix.find(Some(&rf), "", 1, ""), Match::Reference(0));
    }

    #[test]
    fn references_in_free_text_with_spaces_and_line_breaks() {
        let ix = index();
        let rf = CreditorReference::parse(&ix.notices[2].payment_reference)
            .unwrap()
            .to_string();
        let (a, b) = rf.split_at(7);
        assert_eq!(
            ix.find(None, &format!("Gebuehr {a}\n{b} danke"), 1200, ""),
            Match::Remittance(2)
        );
        assert_eq!(
            ix.find(None, &rf.to_lowercase(), 1200, ""),
            Match::Remittance(2)
        );
    }

    #[test]
    fn a_mistyped_rf_still_finds_the_case() {
        let ix = index();
        // Wrong check digits, but the case reference inside is right.
        let wrong = format!("RF00{}01", "A7K3M9XQ2");
        assert_eq!(ix.find(Some(&wrong), "", 3070, ""), Match::Remittance(0));
        // Only the case reference, typed with O for 0.
        assert_eq!(
            ix.find(None, "Az C9N-5P1-ZS4 Nowak", 5000, ""),
            Match::Remittance(3)
        );
        assert_eq!(
            ix.find(None, "AZ B8M 4NO YR3", 1200, ""),
            Match::Remittance(2),
            "amount decides between two notices"
        );
        assert_eq!(
            ix.find(None, "AZ B8M4N0YR3 01", 999, ""),
            Match::Remittance(1),
            "number after the reference decides"
        );
        assert_eq!(
            ix.find(None, "AZ B8M4N0YR3", 999, ""),
            Match::None,
            "ambiguous: a person decides"
        );
    }

    #[test]
    fn a_valid_reference_of_a_settled_notice_is_left_to_a_person() {
        let ix = index();
        let settled = CreditorReference::from_payload("D0P6Q2AT501").unwrap();
        // Even though the free text names an open case, the payer clearly meant another notice.
        assert_eq!(
            ix.find(
                Some(settled.as_str()),
                "A7K-3M9-XQ2",
                3070,
                "Erika Mustermann"
            ),
            Match::None
        );
    }

    #[test]
    fn ambiguous_suggestions_are_not_made() {
        let mut notices = index().notices;
        notices.push(notice("E1R-7T3-BV6", 1, 3070, "Erika Mustermann"));
        let ix = Index::new(notices);
        assert_eq!(ix.find(None, "", 3070, "Erika Mustermann"), Match::None);
    }

    #[test]
    fn suggestions_by_amount_and_name() {
        let ix = index();
        assert_eq!(
            ix.find(None, "Parkausweis", 3070, "MUSTERMANN, ERIKA"),
            Match::Suggestion(0)
        );
        assert_eq!(
            ix.find(None, "Parkausweis", 3070, "Someone Else"),
            Match::None
        );
        assert_eq!(ix.find(None, "", 4242, "Erika Mustermann"), Match::None);
    }

    proptest! {
        #[test]
        fn find_never_panics(text in "\\PC{0,200}", structured in proptest::option::of("\\PC{0,30}"), amount in 0i64..100_000) {
            let ix = index();
            let _ = ix.find(structured.as_deref(), &text, amount, &text);
        }

        #[test]
        fn every_rf_is_found_wherever_it_stands(pre in "[a-z ]{0,40}", post in "[a-z ]{0,40}", which in 0usize..4, cut in 1usize..15) {
            let ix = index();
            let rf = ix.notices[which].payment_reference.clone();
            let cut = cut.min(rf.len() - 1);
            let text = format!("{pre}{} {}{post}", &rf[..cut], &rf[cut..]);
            prop_assert_eq!(ix.find(None, &text, 1, ""), Match::Remittance(which));
        }
    }
}
