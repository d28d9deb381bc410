use super::*;
use crate::applications::catalog::DEMO_DEFINITIONS;
use crate::applications::definition::parse;
use proptest::prelude::*;

fn today() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::November, 22).unwrap()
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

#[test]
fn conditional_pages_and_required_if() {
    let def = parse(DEMO_DEFINITIONS[1].1).unwrap();
    let a = answers(&[("listed_breed", "no"), ("sepa", "yes")]);
    let pages: Vec<&str> = visible_pages(&def, &a)
        .iter()
        .map(|p| p.id.get_ref().as_str())
        .collect();
    assert!(!pages.contains(&"listed"));
    let a2 = answers(&[("listed_breed", "yes")]);
    assert!(visible_pages(&def, &a2)
        .iter()
        .any(|p| p.id.get_ref() == "listed"));
    let payment = def.page("payment").unwrap();
    let problems = check_page(payment, &a, today(), Lang::De);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].input, "iban");
    let ok = answers(&[("sepa", "yes"), ("iban", "DE89 3704 0044 0532 0130 00")]);
    assert!(check_page(payment, &ok, today(), Lang::De).is_empty());
}

#[test]
fn dates_patterns_and_groups() {
    let def = parse(DEMO_DEFINITIONS[0].1).unwrap();
    let vehicle = def.page("vehicle").unwrap();
    let bad = answers(&[("plate", "nonsense"), ("keeper", "self")]);
    let p = check_page(vehicle, &bad, today(), Lang::En);
    assert!(p[0].message.contains("S-AB 1234"), "{p:?}");
    let good = answers(&[("plate", "S-AB 1234"), ("keeper", "self")]);
    assert!(check_page(vehicle, &good, today(), Lang::En).is_empty());
    let person = def.page("person").unwrap();
    let young = answers(&[
        ("given_name", "A"),
        ("family_name", "B"),
        ("birth_date.day", "1"),
        ("birth_date.month", "1"),
        ("birth_date.year", "2020"),
    ]);
    assert!(check_page(person, &young, today(), Lang::De)[0]
        .message
        .contains("nach dem"));
    let invalid = answers(&[
        ("given_name", "A"),
        ("family_name", "B"),
        ("birth_date.day", "31"),
        ("birth_date.month", "2"),
        ("birth_date.year", "1990"),
    ]);
    assert_eq!(
        check_page(person, &invalid, today(), Lang::De)[0].input,
        "birth_date",
        "links to the day field"
    );
    let long = parse(DEMO_DEFINITIONS[3].1).unwrap();
    let children = long.page("children").unwrap();
    let mut a = answers(&[
        ("children#count", "2"),
        ("children-0-child_given_name", "Mia"),
        ("children-0-child_birth_date.day", "1"),
        ("children-0-child_birth_date.month", "6"),
        ("children-0-child_birth_date.year", "2019"),
    ]);
    let p = check_page(children, &a, today(), Lang::De);
    assert_eq!(p.len(), 2, "second child missing both: {p:?}");
    a.insert("children#count".into(), Value::String("1".into()));
    assert!(check_page(children, &a, today(), Lang::De).is_empty());
    let s = structured(&long, &a);
    assert_eq!(s["children"][0]["child_birth_date"], "2019-06-01");
}

/// Validation trims an answer, so conditions and the frozen case must trim it too: a
/// posted `" yes"` passed as `yes` but skipped the page shown for `yes`, and a valid
/// `" yes"` or `" 3"` was frozen as null.
#[test]
fn answers_are_trimmed_alike_everywhere() {
    let def = parse(DEMO_DEFINITIONS[1].1).unwrap();
    let a = answers(&[("listed_breed", " yes"), ("sepa", "no ")]);
    assert!(visible_pages(&def, &a)
        .iter()
        .any(|p| p.id.get_ref() == "listed"));
    let s = structured(&def, &a);
    assert_eq!(s["listed_breed"], Value::Bool(true));
    assert_eq!(s["sepa"], Value::Bool(false));
    let yes_no = def
        .fields()
        .find(|(_, f)| f.id.get_ref() == "sepa")
        .unwrap()
        .1;
    assert!(!display(yes_no, "sepa", &a, Lang::En).is_empty());
    let mut number = yes_no.clone();
    number.kind = FieldType::Number;
    let a = answers(&[("n", " 3 ")]);
    assert!(check_field(&number, "n", &a, today(), Lang::De).is_none());
    let mut page = def.pages[0].clone();
    number.id = toml::Spanned::new(0..0, "n".to_string());
    number.show_if = None;
    page.fields = vec![number];
    page.show_if = None;
    page.group = None;
    let mut one_page = def.clone();
    one_page.pages = vec![page];
    assert_eq!(structured(&one_page, &a)["n"], serde_json::json!(3.0));
}

/// A date rule beyond the calendar (only possible in a definition stored before import
/// bounded the rules) limits nothing instead of panicking.
#[test]
fn date_rules_beyond_the_calendar_do_not_panic() {
    let def = parse(DEMO_DEFINITIONS[1].1).unwrap();
    let mut field = def
        .fields()
        .find(|(_, f)| f.kind == FieldType::Date)
        .unwrap()
        .1
        .clone();
    field.date = Some(crate::applications::definition::DateRule {
        min_days: Some(i64::MIN),
        max_days: Some(i64::MAX / 2),
    });
    let name = field.id.get_ref().clone();
    let a = answers(&[
        (&format!("{name}.day"), "1"),
        (&format!("{name}.month"), "1"),
        (&format!("{name}.year"), "2000"),
    ]);
    assert!(check_field(&field, &name, &a, today(), Lang::De).is_none());
}

proptest! {
    #[test]
    fn validation_never_panics(values in proptest::collection::vec("\\PC{0,30}", 12)) {
        for (_, text) in DEMO_DEFINITIONS {
            let def = parse(text).unwrap();
            let names: Vec<String> = def.fields().map(|(_, f)| f.id.get_ref().clone()).collect();
            let mut a = Answers::new();
            for (i, n) in names.iter().enumerate() {
                let v = values[i % values.len()].clone();
                a.insert(n.clone(), Value::String(v.clone()));
                a.insert(format!("{n}.day"), Value::String(v.clone()));
                a.insert(format!("{n}.year"), Value::String(v));
            }
            for page in &def.pages {
                let _ = check_page(page, &a, today(), Lang::De);
            }
            let _ = structured(&def, &a);
        }
    }
}
