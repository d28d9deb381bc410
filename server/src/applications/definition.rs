//! Form definitions are data, not code: a service's form is a versioned TOML document that
//! another authority can reuse by configuration ("Einer für Alle"). The format is described in
//! `server/forms/README.md`; `parse` checks a document completely and names the line of every
//! problem.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub const FORMAT: u32 = 1;

/// Text in both languages.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub de: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: amtsweg_app::i18n::Lang) -> &str {
        match lang {
            amtsweg_app::i18n::Lang::De => &self.de,
            amtsweg_app::i18n::Lang::En => &self.en,
        }
    }
}

/// Field kinds are shared with the pages that render them.
pub use amtsweg_app::pages::apply::FieldKind as FieldType;

/// A show/require condition: another field has (one of) the given value(s).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub equals: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: Text,
}

/// Relative date limits in days from today; `max_days = 0` means "not in the future".
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DateRule {
    pub min_days: Option<i64>,
    pub max_days: Option<i64>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub id: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: Text,
    pub hint: Option<Text>,
    pub legal_note: Option<Text>,
    #[serde(default)]
    pub required: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub pattern_message: Option<Text>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub date: Option<DateRule>,
    #[serde(default)]
    pub options: Vec<Choice>,
    /// Profile field offered for prefilling (once-only).
    pub profile: Option<String>,
    /// File fields: allowed types (`pdf`, `jpeg`, `png`; default all), size limit per file in MB
    /// (default 10) and how many files (default 5).
    #[serde(default)]
    pub accept: Vec<String>,
    pub max_size_mb: Option<u64>,
    pub max_files: Option<usize>,
    pub show_if: Option<Condition>,
    pub required_if: Option<Condition>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: Spanned<String>,
    pub label: Text,
    pub item_label: Text,
    #[serde(default)]
    pub min: usize,
    pub max: usize,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub id: Spanned<String>,
    pub title: Text,
    pub intro: Option<Text>,
    pub show_if: Option<Condition>,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// A repeatable group (e.g. each child) shown on this page after the fields.
    pub group: Option<Group>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub format: u32,
    pub service_key: String,
    pub version: u32,
    pub title: Text,
    pub summary: Text,
    pub who_may_apply: Text,
    pub fee: Text,
    pub processing_time: Text,
    pub legal_basis: Text,
    pub evidence: Text,
    #[serde(default)]
    pub life_situations: Vec<String>,
    #[serde(default)]
    pub keywords: BTreeMap<String, Vec<String>>,
    pub declaration: Text,
    /// The fee schedule a fee notice starts from; the caseworker may change every line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fee_items: Vec<FeeItem>,
    pub pages: Vec<Page>,
}

/// One line of a service's fee schedule.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub label: Text,
    /// German or English notation (`30,70`); checked on import.
    pub amount: Spanned<String>,
}

impl FeeItem {
    pub fn money(&self) -> Option<crate::domain::Money> {
        crate::domain::Money::parse(self.amount.get_ref()).filter(|m| m.0 > 0)
    }
}

/// Profile fields a definition may name as a once-only source.
pub const PROFILE_SOURCES: &[&str] = &[
    "given_name",
    "family_name",
    "birth_date",
    "street",
    "house_number",
    "postal_code",
    "place",
    "phone",
    "email",
];

pub const FILE_TYPES: &[&str] = &["pdf", "jpeg", "png"];

impl Field {
    /// Allowed file types of a file field.
    pub fn accepted(&self) -> Vec<&str> {
        if self.accept.is_empty() {
            FILE_TYPES.to_vec()
        } else {
            self.accept.iter().map(String::as_str).collect()
        }
    }

    pub fn max_size_bytes(&self) -> u64 {
        self.max_size_mb.unwrap_or(10) * 1024 * 1024
    }

    pub fn max_file_count(&self) -> usize {
        self.max_files.unwrap_or(5)
    }
}

pub const LIFE_SITUATIONS: &[&str] = &[
    "family",
    "mobility",
    "housing",
    "animals",
    "documents",
    "money",
];

/// How far a date rule may reach, in days either way (about 100 years). Beyond it the
/// validation's date arithmetic would overflow, and no form needs more.
pub const MAX_DATE_RULE_DAYS: i64 = 36_600;

/// The regular expression a field's `pattern` is matched with: the whole answer must match.
/// The pattern is wrapped as it is, not stripped of its own `^`/`$` (anchors inside the group
/// mean the same), so an escaped `\$` at its end stays a literal dollar sign.
pub fn anchored_pattern(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Definition {
    /// Every field with its page (group fields carry the group's id as prefix).
    pub fn fields(&self) -> impl Iterator<Item = (&Page, &Field)> {
        self.pages.iter().flat_map(|p| {
            p.fields.iter().map(move |f| (p, f)).chain(
                p.group
                    .iter()
                    .flat_map(move |g| g.fields.iter().map(move |f| (p, f))),
            )
        })
    }

    pub fn page(&self, id: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.id.get_ref() == id)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// Parses and checks a definition. The error lists every problem found, each with its line.
pub fn parse(text: &str) -> Result<Definition, Vec<String>> {
    let def: Definition = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        vec![format!("line {line}: {}", e.message())]
    })?;
    let mut problems = Vec::new();
    let mut problem = |span: std::ops::Range<usize>, msg: String| {
        problems.push(format!("line {}: {msg}", line_of(text, span.start)))
    };
    if def.format != FORMAT {
        problem(
            0..0,
            format!(
                "format {} is not supported (this version reads format {FORMAT})",
                def.format
            ),
        );
    }
    if !(def.service_key.len() == 14 && def.service_key.bytes().all(|b| b.is_ascii_digit())) {
        problem(
            0..0,
            format!(
                "service_key {:?} must be the 14-digit LeiKa key",
                def.service_key
            ),
        );
    }
    if def.version == 0 {
        problem(0..0, "version must be 1 or higher".into());
    }
    for s in &def.life_situations {
        if !LIFE_SITUATIONS.contains(&s.as_str()) {
            problem(
                0..0,
                format!(
                    "life situation {s:?} is unknown (known: {})",
                    LIFE_SITUATIONS.join(", ")
                ),
            );
        }
    }
    for item in &def.fee_items {
        if item.money().is_none() {
            problem(
                item.amount.span(),
                format!(
                    "fee amount {:?} is not an amount of euros above zero, e.g. \"30,70\"",
                    item.amount.get_ref()
                ),
            );
        }
    }
    if def.pages.is_empty() {
        problem(0..0, "a form needs at least one page".into());
    }
    let mut page_ids = HashSet::new();
    let mut field_ids: HashSet<String> = HashSet::new();
    let mut earlier_fields: Vec<(String, FieldType, Vec<String>)> = Vec::new();
    let check_condition = |c: &Condition,
                           earlier: &[(String, FieldType, Vec<String>)]|
     -> Option<String> {
        match earlier.iter().find(|(id, _, _)| *id == c.field) {
            None => Some(format!(
                "condition refers to {:?}, which is not a field on an earlier page or above",
                c.field
            )),
            Some((_, kind, options)) => {
                let allowed: Vec<String> = match kind {
                    FieldType::YesNo => vec!["yes".into(), "no".into()],
                    FieldType::Select | FieldType::Radio | FieldType::Checkboxes => options.clone(),
                    // Other answers are compared as typed text, which their stored form
                    // normalises (`3` becomes `3.0`, dates are three inputs), so such a
                    // condition would not mean what it says.
                    _ => {
                        let kind = serde_json::to_value(kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        return Some(format!(
                            "condition refers to {:?}, a {kind} field; conditions can only test yes_no, select, radio and checkboxes fields",
                            c.field
                        ));
                    }
                };
                (!allowed.contains(&c.equals)).then(|| {
                    format!(
                        "condition value {:?} is not an option of {:?}",
                        c.equals, c.field
                    )
                })
            }
        }
    };
    for page in &def.pages {
        let pid = page.id.get_ref();
        if !is_id(pid) {
            problem(
                page.id.span(),
                format!("page id {pid:?} must be lower-case letters, digits and _"),
            );
        }
        if !page_ids.insert(pid.clone()) {
            problem(page.id.span(), format!("page id {pid:?} is used twice"));
        }
        if let Some(c) = &page.show_if {
            if let Some(m) = check_condition(c, &earlier_fields) {
                problem(page.id.span(), format!("page {pid}: {m}"));
            }
        }
        if page.fields.is_empty() && page.group.is_none() {
            problem(page.id.span(), format!("page {pid} has no fields"));
        }
        let group_fields = page.group.iter().flat_map(|g| g.fields.iter());
        for (in_group, field) in page
            .fields
            .iter()
            .map(|f| (false, f))
            .chain(group_fields.map(|f| (true, f)))
        {
            let fid = field.id.get_ref();
            let span = field.id.span();
            if !is_id(fid) {
                problem(
                    span.clone(),
                    format!("field id {fid:?} must be lower-case letters, digits and _"),
                );
            }
            if !field_ids.insert(fid.clone()) {
                problem(span.clone(), format!("field id {fid:?} is used twice"));
            }
            let choice = matches!(
                field.kind,
                FieldType::Select | FieldType::Radio | FieldType::Checkboxes
            );
            if choice && field.options.len() < 2 {
                problem(
                    span.clone(),
                    format!("field {fid}: a {:?} needs at least two options", field.kind),
                );
            }
            if !choice && !field.options.is_empty() {
                problem(
                    span.clone(),
                    format!("field {fid}: only select, radio and checkboxes take options"),
                );
            }
            let mut seen = HashSet::new();
            for o in &field.options {
                if o.value.is_empty() || !seen.insert(o.value.clone()) {
                    problem(
                        span.clone(),
                        format!("field {fid}: option values must be unique and not empty"),
                    );
                }
            }
            if let Some(p) = &field.pattern {
                // The anchored form is what validation compiles; a pattern can be valid alone
                // and not wrapped (a `(?x)` comment swallowing the closing parenthesis).
                if let Err(e) =
                    regex::Regex::new(p).and_then(|_| regex::Regex::new(&anchored_pattern(p)))
                {
                    problem(
                        span.clone(),
                        format!("field {fid}: pattern is not a valid regular expression: {e}"),
                    );
                }
                if field.pattern_message.is_none() {
                    problem(span.clone(), format!("field {fid}: a pattern needs a pattern_message that tells the citizen what is expected"));
                }
            }
            if let (Some(a), Some(b)) = (field.min_length, field.max_length) {
                if a > b {
                    problem(
                        span.clone(),
                        format!("field {fid}: min_length is greater than max_length"),
                    );
                }
            }
            if let (Some(a), Some(b)) = (field.min, field.max) {
                if a > b {
                    problem(
                        span.clone(),
                        format!("field {fid}: min is greater than max"),
                    );
                }
            }
            let file = field.kind == FieldType::File;
            if !file
                && (!field.accept.is_empty()
                    || field.max_size_mb.is_some()
                    || field.max_files.is_some())
            {
                problem(
                    span.clone(),
                    format!(
                        "field {fid}: accept, max_size_mb and max_files apply to file fields only"
                    ),
                );
            }
            if file && in_group {
                problem(
                    span.clone(),
                    format!("field {fid}: file fields cannot be in a repeatable group"),
                );
            }
            for a in &field.accept {
                if !FILE_TYPES.contains(&a.as_str()) {
                    problem(
                        span.clone(),
                        format!(
                            "field {fid}: file type {a:?} is not one of {}",
                            FILE_TYPES.join(", ")
                        ),
                    );
                }
            }
            if field.max_size_mb.is_some_and(|m| m == 0 || m > 2048)
                || field.max_files.is_some_and(|m| m == 0 || m > 50)
            {
                problem(
                    span.clone(),
                    format!("field {fid}: max_size_mb must be 1 to 2048 and max_files 1 to 50"),
                );
            }
            if field.date.as_ref().is_some_and(|d| {
                d.min_days
                    .iter()
                    .chain(&d.max_days)
                    .any(|n| n.unsigned_abs() > MAX_DATE_RULE_DAYS.unsigned_abs())
            }) {
                problem(
                    span.clone(),
                    format!("field {fid}: min_days and max_days must be within {MAX_DATE_RULE_DAYS} days"),
                );
            }
            if field.date.is_some() && field.kind != FieldType::Date {
                problem(
                    span.clone(),
                    format!("field {fid}: date rules apply to date fields only"),
                );
            }
            if let Some(p) = &field.profile {
                if !PROFILE_SOURCES.contains(&p.as_str()) {
                    problem(
                        span.clone(),
                        format!(
                            "field {fid}: profile source {p:?} is unknown (known: {})",
                            PROFILE_SOURCES.join(", ")
                        ),
                    );
                }
                if in_group {
                    problem(span.clone(), format!("field {fid}: fields in a repeatable group cannot be prefilled from the profile"));
                }
            }
            for c in field.show_if.iter().chain(field.required_if.iter()) {
                if let Some(m) = check_condition(c, &earlier_fields) {
                    problem(span.clone(), format!("field {fid}: {m}"));
                }
            }
            if !in_group {
                earlier_fields.push((
                    fid.clone(),
                    field.kind,
                    field.options.iter().map(|o| o.value.clone()).collect(),
                ));
            }
        }
        if let Some(g) = &page.group {
            if !is_id(g.id.get_ref()) || !field_ids.insert(g.id.get_ref().clone()) {
                problem(
                    g.id.span(),
                    format!("group id {:?} must be a unique id", g.id.get_ref()),
                );
            }
            if g.max == 0 || g.min > g.max || g.max > 20 {
                problem(
                    g.id.span(),
                    format!(
                        "group {}: needs 0 <= min <= max <= 20 and max >= 1",
                        g.id.get_ref()
                    ),
                );
            }
            if g.fields.is_empty() {
                problem(
                    g.id.span(),
                    format!("group {} has no fields", g.id.get_ref()),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(problems)
    }
}

/// Reads a definition version stored at its import.
///
/// Import's checks have grown stricter (bounded date rules, anchored patterns, conditions only
/// on yes/no and choice fields). A version imported before a check must still open its drafts
/// and cases, so what today's import would refuse is logged, not refused; validation copes
/// with each such rule as stored.
pub fn read_stored(text: &str) -> Result<Definition, Vec<String>> {
    let problems = match parse(text) {
        Ok(def) => return Ok(def),
        Err(problems) => problems,
    };
    let def: Definition = toml::from_str(text).map_err(|_| problems.clone())?;
    tracing::warn!(
        service = def.service_key,
        version = def.version,
        ?problems,
        "stored definition would not pass today's import; used as stored"
    );
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_demo_definitions_are_valid() {
        for (name, text) in super::super::catalog::DEMO_DEFINITIONS {
            if let Err(p) = parse(text) {
                panic!("{name}: {p:#?}");
            }
        }
    }

    #[test]
    fn problems_name_their_line() {
        let text = super::super::catalog::DEMO_DEFINITIONS[0].1.replacen(
            "type = \"text\"",
            "type = \"txt\"",
            1,
        );
        let err = parse(&text).unwrap_err();
        assert!(err[0].starts_with("line "), "{err:?}");
        assert!(err[0].contains("txt"), "{err:?}");
        let text = super::super::catalog::DEMO_DEFINITIONS[0].1.replacen(
            "equals = \"",
            "equals = \"nonsense",
            1,
        );
        if let Err(err) = parse(&text) {
            assert!(
                err.iter().any(|e| e.contains("is not an option")),
                "{err:?}"
            );
        }
    }

    /// A condition on a typed field compared the text the citizen typed, which the case stores
    /// normalised (`3` as `3.0`, a date as three inputs): it would not mean what it says.
    #[test]
    fn conditions_test_only_yes_no_and_choices() {
        let base = super::super::catalog::DEMO_DEFINITIONS[1].1;
        let line = r#"show_if = { field = "sepa", equals = "yes" }"#;
        assert!(base.contains(line));
        for (field, kind) in [
            ("since", "date"),
            ("given_name", "text"),
            ("postal_code", "postal_code"),
        ] {
            assert!(base.contains(&format!("id = \"{field}\"")));
            let text = base.replacen(
                line,
                &format!(r#"show_if = {{ field = "{field}", equals = "3" }}"#),
                1,
            );
            let err = parse(&text).unwrap_err();
            assert!(
                err.iter()
                    .any(|e| e.contains(&format!("a {kind} field; conditions can only test"))),
                "{err:?}"
            );
            // A version imported before this check still opens its drafts and cases.
            let stored = read_stored(&text).unwrap();
            assert!(stored
                .fields()
                .any(|(_, f)| f.show_if.as_ref().is_some_and(|c| c.field == field)));
        }
        assert!(read_stored("format = 1").is_err());
    }

    /// Found while writing the fuzz target: `min_days` far out overflowed the date arithmetic
    /// of validation (a panic on every post of the page); import now bounds it.
    #[test]
    fn date_rules_are_bounded() {
        let base = super::super::catalog::DEMO_DEFINITIONS[1].1;
        assert!(base.contains("min_days = -3650"));
        let far = base.replacen("min_days = -3650", "min_days = -99999999999999", 1);
        let err = parse(&far).unwrap_err();
        assert!(err.iter().any(|e| e.contains("within")), "{err:?}");
        assert!(parse(&base.replacen("min_days = -3650", "min_days = -36600", 1)).is_ok());
    }

    /// A pattern is anchored as written, so an escaped dollar at its end stays literal; one
    /// that compiles alone but not anchored is refused at import instead of refusing every
    /// answer.
    #[test]
    fn patterns_are_checked_as_validation_uses_them() {
        let re = regex::Regex::new(&anchored_pattern(r"[0-9]+ EUR\$")).unwrap();
        assert!(re.is_match("12 EUR$") && !re.is_match("12 EUR"));
        assert!(regex::Regex::new(&anchored_pattern("^a$"))
            .unwrap()
            .is_match("a"));
        let base = super::super::catalog::DEMO_DEFINITIONS[0].1;
        let line = base
            .lines()
            .find(|l| l.starts_with("pattern = "))
            .expect("the parking permit has a pattern");
        let commented = base.replacen(line, r#"pattern = "(?x)[A-Z]+ # letters""#, 1);
        let err = parse(&commented).unwrap_err();
        assert!(
            err.iter().any(|e| e.contains("regular expression")),
            "{err:?}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,400}") {
            let _ = parse(&s);
        }

        #[test]
        fn mutated_definitions_never_panic(cut in 0usize..4000, insert in "\\PC{0,20}") {
            let base = super::super::catalog::DEMO_DEFINITIONS[0].1;
            let at = base.char_indices().map(|(i, _)| i).find(|i| *i >= cut.min(base.len())).unwrap_or(base.len());
            let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
            let _ = parse(&text);
        }
    }
}
