//! Answers of fields the citizen cannot see any more.
//!
//! A draft keeps every answer the citizen gave, but conditions must read only those still in
//! force. Otherwise a citizen who answered "the other parent pays: yes" and then "the other
//! parent is known: no" still sees, and must fill in, the amount that depends on the now
//! hidden "pays", and the frozen case drops what validation demanded. The hidden answers are
//! kept aside rather than deleted, so changing the earlier answer back brings them back.

use super::{field_visible, files_key, page_visible, Answers};
use crate::applications::definition::Definition;

/// Every input name a top-level field stores its answer under.
fn keys_of(id: &str) -> [String; 5] {
    [
        id.to_string(),
        format!("{id}.day"),
        format!("{id}.month"),
        format!("{id}.year"),
        files_key(id),
    ]
}

/// Splits stored answers into those in force and those of hidden fields.
///
/// Import lets a condition name only a field above it (an earlier page or higher on the same
/// page), so one pass in page order decides each field against answers already decided.
/// Groups stay as they are: no condition may name a group's field, and a hidden page's group
/// is neither validated nor frozen.
pub fn split_hidden(def: &Definition, mut all: Answers) -> (Answers, Answers) {
    let mut hidden = Answers::new();
    for page in &def.pages {
        let page_shown = page_visible(page, &all);
        for f in &page.fields {
            if page_shown && field_visible(f, &all) {
                continue;
            }
            for key in keys_of(f.id.get_ref()) {
                if let Some(v) = all.remove(&key) {
                    hidden.insert(key, v);
                }
            }
        }
    }
    (all, hidden)
}

/// The answers in force with the hidden ones put back: what a draft stores. Where both hold a
/// name, the answer in force wins, as it is the newer.
pub fn unite(mut in_force: Answers, hidden: Answers) -> Answers {
    for (k, v) in hidden {
        in_force.entry(k).or_insert(v);
    }
    in_force
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::applications::answers::{
        check_page, field_required, first_invalid, structured, visible_pages,
    };
    use crate::applications::catalog::DEMO_DEFINITIONS;
    use crate::applications::definition::parse;
    use amtsweg_app::i18n::Lang;

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    fn maintenance() -> Definition {
        let (_, text) = DEMO_DEFINITIONS
            .iter()
            .find(|(file, _)| *file == "maintenance-advance.toml")
            .unwrap();
        parse(text).unwrap()
    }

    fn today() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::November, 22).unwrap()
    }

    /// The case found by the fuzzer's round-trip invariant: `pays` was answered while the
    /// other parent was known, then the other parent became unknown.
    #[test]
    fn a_condition_on_a_hidden_field_does_not_hold() {
        let def = maintenance();
        let all = answers(&[
            ("parent_known", "no"),
            ("parent_name", "Alex Muster"),
            ("pays", "yes"),
        ]);
        let page = def.page("other_parent").unwrap();
        let amount = page
            .fields
            .iter()
            .find(|f| f.id.get_ref() == "amount")
            .unwrap();
        // Read raw, the stale `pays` still demands the amount and the proof of payments.
        assert!(field_required(amount, &all));
        assert!(!check_page(page, &all, today(), Lang::De).is_empty());

        let (in_force, hidden) = split_hidden(&def, all.clone());
        assert_eq!(in_force, answers(&[("parent_known", "no")]));
        assert_eq!(hidden.len(), 2);
        assert!(!field_required(amount, &in_force));
        assert!(check_page(page, &in_force, today(), Lang::De).is_empty());
        let documents = def.page("documents").unwrap();
        assert!(!check_page(documents, &in_force, today(), Lang::De)
            .iter()
            .any(|p| p.input == "maintenance_proof"));
        let frozen = structured(&def, &in_force);
        assert!(!frozen.contains_key("pays") && !frozen.contains_key("parent_name"));

        // Nothing is lost: the kept answers come back with the earlier answer.
        let mut back = unite(in_force, hidden);
        assert_eq!(back, all);
        back.insert("parent_known".into(), Value::String("yes".into()));
        let (in_force, hidden) = split_hidden(&def, back);
        assert!(hidden.is_empty());
        assert_eq!(in_force["pays"], "yes");
        assert!(field_required(amount, &in_force));
    }

    /// A hidden page hides its fields' answers, dates and files included, from later pages.
    /// Filled twice: once so that every condition holds (yes, a choice's first option), once
    /// so that none does (no, the last option), which hides the conditional pages.
    #[test]
    fn a_hidden_page_hides_every_input_of_its_fields() {
        let mut pages_hidden = 0;
        for (_, text) in DEMO_DEFINITIONS {
            let def = parse(text).unwrap();
            for holds in [true, false] {
                let mut all = Answers::new();
                for (_, f) in def.fields() {
                    let value = match (holds, f.options.first(), f.options.last()) {
                        (true, Some(o), _) | (false, _, Some(o)) => o.value.clone(),
                        (true, None, _) => "yes".to_string(),
                        (false, _, None) => "no".to_string(),
                    };
                    for key in keys_of(f.id.get_ref()) {
                        all.insert(key, Value::String(value.clone()));
                    }
                }
                let (in_force, hidden) = split_hidden(&def, all.clone());
                let visible = visible_pages(&def, &in_force);
                pages_hidden += def.pages.len() - visible.len();
                for page in &def.pages {
                    let page_shown = visible.iter().any(|p| p.id.get_ref() == page.id.get_ref());
                    for f in &page.fields {
                        let shown =
                            page_shown && crate::applications::answers::field_visible(f, &in_force);
                        for key in keys_of(f.id.get_ref()) {
                            assert_eq!(in_force.contains_key(&key), shown, "{key}");
                            assert_eq!(hidden.contains_key(&key), !shown, "{key}");
                        }
                    }
                }
                assert_eq!(unite(in_force.clone(), hidden), all);
                // Splitting what is in force again changes nothing.
                assert_eq!(split_hidden(&def, in_force.clone()).0, in_force);
                let _ = first_invalid(&def, &in_force, today());
            }
        }
        assert!(pages_hidden > 0, "some fill hides a page");
    }
}
