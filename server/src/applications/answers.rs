//! Answers to a form, as the citizen typed them, and their validation against the definition.
//!
//! Answers are kept keyed by input name, exactly as entered, so a page with mistakes re-renders
//! with everything the citizen typed. Names: a field's id; date parts `id.day|month|year`;
//! fields of repeated groups `group-N-field`; the number of group items `group#count`.

use std::collections::BTreeMap;

use amtsweg_app::i18n::{tf, Lang};
use serde_json::Value;

use super::definition::{Condition, Definition, Field, FieldType, Page};
use crate::domain::{is_plain_text, Email, Iban, Money, PostalCode};

mod hidden;
pub use hidden::{split_hidden, unite};

pub type Answers = BTreeMap<String, Value>;

/// Field ids whose value was taken from the profile (shown as such).
pub const PREFILLED: &str = "_prefilled";

pub fn text<'a>(a: &'a Answers, name: &str) -> &'a str {
    a.get(name).and_then(Value::as_str).unwrap_or("")
}

pub fn list(a: &Answers, name: &str) -> Vec<String> {
    match a.get(name) {
        Some(Value::Array(v)) => v
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Whether a condition holds. The text is trimmed as validation trims it: `" yes"` passes
/// as `yes` and is stored as `yes`, so it must also show what `yes` shows.
pub fn holds(a: &Answers, c: &Condition) -> bool {
    text(a, &c.field).trim() == c.equals || list(a, &c.field).contains(&c.equals)
}

pub fn page_visible(page: &Page, a: &Answers) -> bool {
    page.show_if.as_ref().is_none_or(|c| holds(a, c))
}

pub fn field_visible(field: &Field, a: &Answers) -> bool {
    field.show_if.as_ref().is_none_or(|c| holds(a, c))
}

pub fn field_required(field: &Field, a: &Answers) -> bool {
    field.required || field.required_if.as_ref().is_some_and(|c| holds(a, c))
}

pub fn group_count(a: &Answers, group_id: &str, min: usize) -> usize {
    text(a, &format!("{group_id}#count"))
        .parse::<usize>()
        .unwrap_or(0)
        .max(min)
        .max(1)
}

/// Where the names of a file field's documents are kept next to their ids.
pub fn files_key(name: &str) -> String {
    format!("{name}#files")
}

pub fn group_input(group_id: &str, i: usize, field_id: &str) -> String {
    format!("{group_id}-{i}-{field_id}")
}

/// A problem with one input: the element id to link to and the translated message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub input: String,
    pub message: String,
}

/// Parses a date from its three parts.
pub fn date_of(a: &Answers, name: &str) -> Result<Option<time::Date>, &'static str> {
    let part = |p: &str| text(a, &format!("{name}.{p}")).trim().to_string();
    let (d, m, y) = (part("day"), part("month"), part("year"));
    if d.is_empty() && m.is_empty() && y.is_empty() {
        return Ok(None);
    }
    if d.is_empty() || m.is_empty() || y.is_empty() {
        return Err("form.v.date_incomplete");
    }
    let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u8>(), m.parse::<u8>(), y.parse::<i32>()) else {
        return Err("form.v.date_invalid");
    };
    if !(1000..=9999).contains(&y) {
        return Err("form.v.date_invalid");
    }
    let month = time::Month::try_from(m).map_err(|_| "form.v.date_invalid")?;
    time::Date::from_calendar_date(y, month, d)
        .map(Some)
        .map_err(|_| "form.v.date_invalid")
}

fn fmt_date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// Checks one field (at input name `name`) and returns its problem, if any.
pub fn check_field(
    field: &Field,
    name: &str,
    a: &Answers,
    today: time::Date,
    lang: Lang,
) -> Option<Problem> {
    let label = field.label.get(lang);
    let msg = |key: &str, extra: &[(&str, &str)]| {
        let mut args = vec![("label", label)];
        args.extend_from_slice(extra);
        tf(lang, key, &args)
    };
    let problem = |message: String| {
        Some(Problem {
            input: name.replace('.', "-"),
            message,
        })
    };
    let required = field_required(field, a);
    if field.kind == FieldType::Date {
        return match date_of(a, name) {
            Err(key) => problem(msg(key, &[])),
            Ok(None) if required => problem(msg("form.v.required", &[])),
            Ok(None) => None,
            Ok(Some(d)) => {
                let rule = field.date.clone().unwrap_or_default();
                // Import bounds the rules; a rule beyond the calendar still limits nothing
                // rather than overflowing.
                let shift = |n: i64| {
                    n.checked_mul(86_400)
                        .and_then(|s| today.checked_add(time::Duration::seconds(s)))
                };
                if let Some(min) = rule.min_days.and_then(shift) {
                    if d < min {
                        return problem(msg("form.v.date_too_early", &[("date", &fmt_date(min))]));
                    }
                }
                if let Some(max) = rule.max_days.and_then(shift) {
                    if d > max {
                        return problem(msg("form.v.date_too_late", &[("date", &fmt_date(max))]));
                    }
                }
                None
            }
        };
    }
    if field.kind == FieldType::File {
        let n = list(a, name).len();
        if n == 0 && required {
            return problem(msg("form.v.file_required", &[]));
        }
        if n > field.max_file_count() {
            return problem(msg(
                "form.v.file_count",
                &[("max", &field.max_file_count().to_string())],
            ));
        }
        return None;
    }
    if field.kind == FieldType::Checkboxes {
        let chosen = list(a, name);
        if chosen.is_empty() {
            return if required {
                problem(msg("form.v.required_choice", &[]))
            } else {
                None
            };
        }
        if chosen
            .iter()
            .any(|c| !field.options.iter().any(|o| &o.value == c))
        {
            return problem(msg("form.v.option", &[]));
        }
        return None;
    }
    let value = text(a, name).trim();
    let choice = matches!(
        field.kind,
        FieldType::Select | FieldType::Radio | FieldType::YesNo
    );
    if value.is_empty() {
        return if required {
            problem(msg(
                if choice {
                    "form.v.required_choice"
                } else {
                    "form.v.required"
                },
                &[],
            ))
        } else {
            None
        };
    }
    let chars = value.chars().count();
    let max_len = field
        .max_length
        .unwrap_or(if field.kind == FieldType::Textarea {
            2000
        } else {
            200
        });
    if chars > max_len {
        return problem(msg("form.v.too_long", &[("max", &max_len.to_string())]));
    }
    if let Some(min) = field.min_length {
        if chars < min {
            return problem(msg("form.v.too_short", &[("min", &min.to_string())]));
        }
    }
    let plain = if field.kind == FieldType::Textarea {
        !value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    } else {
        is_plain_text(value, max_len)
    };
    if !plain {
        return problem(msg("form.v.text", &[]));
    }
    let range = |v: f64| -> Option<Problem> {
        let (lo, hi) = (field.min.unwrap_or(f64::MIN), field.max.unwrap_or(f64::MAX));
        (v < lo || v > hi).then(|| Problem {
            input: name.to_string(),
            message: msg(
                "form.v.range",
                &[("min", &fmt_num(field.min)), ("max", &fmt_num(field.max))],
            ),
        })
    };
    match field.kind {
        FieldType::Text | FieldType::Textarea => {}
        FieldType::Number => match value.replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() => return range(v),
            _ => return problem(msg("form.v.number", &[])),
        },
        FieldType::Money => match Money::parse(value) {
            Some(m) => return range(m.0 as f64 / 100.0),
            None => return problem(msg("form.v.money", &[])),
        },
        FieldType::Email => {
            if Email::parse(value).is_err() {
                return problem(msg("form.v.email", &[]));
            }
        }
        FieldType::Phone => {
            if !value
                .chars()
                .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
                || chars > 30
            {
                return problem(msg("form.v.phone", &[]));
            }
        }
        FieldType::Iban => {
            if Iban::parse(value).is_none() {
                return problem(msg("form.v.iban", &[]));
            }
        }
        FieldType::PostalCode => {
            if PostalCode::parse(value).is_none() {
                return problem(msg("form.v.postal_code", &[]));
            }
        }
        FieldType::Select | FieldType::Radio => {
            if !field.options.iter().any(|o| o.value == value) {
                return problem(msg("form.v.option", &[]));
            }
        }
        FieldType::YesNo => {
            if value != "yes" && value != "no" {
                return problem(msg("form.v.option", &[]));
            }
        }
        FieldType::Date | FieldType::Checkboxes | FieldType::File => {}
    }
    if let Some(p) = &field.pattern {
        if compiled(p).is_none_or(|re| !re.is_match(value)) {
            let m = field
                .pattern_message
                .as_ref()
                .map(|t| t.get(lang).to_string())
                .unwrap_or_else(|| msg("form.v.text", &[]));
            return problem(m);
        }
    }
    None
}

fn fmt_num(v: Option<f64>) -> String {
    v.map(|v| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v}")
        }
    })
    .unwrap_or_else(|| "–".into())
}

/// Every problem on a page, in the order of its inputs.
pub fn check_page(page: &Page, a: &Answers, today: time::Date, lang: Lang) -> Vec<Problem> {
    let mut out: Vec<Problem> = page
        .fields
        .iter()
        .filter(|f| field_visible(f, a))
        .filter_map(|f| check_field(f, f.id.get_ref(), a, today, lang))
        .collect();
    if let Some(g) = &page.group {
        let n = group_count(a, g.id.get_ref(), g.min);
        for i in 0..n.min(g.max) {
            for f in &g.fields {
                let name = group_input(g.id.get_ref(), i, f.id.get_ref());
                if let Some(mut p) = check_field(f, &name, a, today, lang) {
                    p.message = format!("{} {}: {}", g.item_label.get(lang), i + 1, p.message);
                    out.push(p);
                }
            }
        }
    }
    out
}

/// Visible pages in order.
pub fn visible_pages<'a>(def: &'a Definition, a: &Answers) -> Vec<&'a Page> {
    def.pages.iter().filter(|p| page_visible(p, a)).collect()
}

/// The first visible page with a problem, if any.
pub fn first_invalid<'a>(def: &'a Definition, a: &Answers, today: time::Date) -> Option<&'a Page> {
    visible_pages(def, a)
        .into_iter()
        .find(|p| !check_page(p, a, today, Lang::De).is_empty())
}

/// What the citizen answered, as shown on the check page and in the summary.
pub fn display(field: &Field, name: &str, a: &Answers, lang: Lang) -> String {
    let label_of = |v: &str| {
        field
            .options
            .iter()
            .find(|o| o.value == v)
            .map(|o| o.label.get(lang).to_string())
    };
    match field.kind {
        FieldType::Date => date_of(a, name)
            .ok()
            .flatten()
            .map(fmt_date)
            .unwrap_or_default(),
        FieldType::Checkboxes => list(a, name)
            .iter()
            .filter_map(|v| label_of(v))
            .collect::<Vec<_>>()
            .join(", "),
        // Trimmed as validation trims: `" yes"` was accepted as `yes`.
        FieldType::Select | FieldType::Radio => label_of(text(a, name).trim()).unwrap_or_default(),
        FieldType::YesNo => match text(a, name).trim() {
            "yes" => amtsweg_app::i18n::t(lang, "form.yes").to_string(),
            "no" => amtsweg_app::i18n::t(lang, "form.no").to_string(),
            _ => String::new(),
        },
        FieldType::Money => Money::parse(text(a, name))
            .map(Money::format_de)
            .unwrap_or_default(),
        FieldType::Iban => Iban::parse(text(a, name))
            .map(|i| i.grouped())
            .unwrap_or_default(),
        _ => text(a, name).trim().to_string(),
    }
}

/// The answers of visible fields, typed, for the frozen case: dates as ISO strings, money as
/// cents, yes/no as booleans, checkboxes as lists, groups as lists of objects.
pub fn structured(def: &Definition, a: &Answers) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let value = |f: &Field, name: &str| -> Value {
        match f.kind {
            FieldType::Date => date_of(a, name)
                .ok()
                .flatten()
                .map(|d| Value::String(d.to_string()))
                .unwrap_or(Value::Null),
            FieldType::Money => Money::parse(text(a, name))
                .map(|m| Value::from(m.0))
                .unwrap_or(Value::Null),
            // Trimmed as validation trims, or an accepted `" 3"` would be stored as null.
            FieldType::Number => text(a, name)
                .trim()
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .map(Value::from)
                .unwrap_or(Value::Null),
            FieldType::YesNo => match text(a, name).trim() {
                "yes" => Value::Bool(true),
                "no" => Value::Bool(false),
                _ => Value::Null,
            },
            FieldType::Checkboxes | FieldType::File => Value::from(list(a, name)),
            FieldType::Iban => Iban::parse(text(a, name))
                .map(|i| Value::String(i.as_str().to_string()))
                .unwrap_or(Value::Null),
            _ => {
                let t = text(a, name).trim();
                if t.is_empty() {
                    Value::Null
                } else {
                    Value::String(t.to_string())
                }
            }
        }
    };
    for page in visible_pages(def, a) {
        for f in page.fields.iter().filter(|f| field_visible(f, a)) {
            out.insert(f.id.get_ref().clone(), value(f, f.id.get_ref()));
        }
        if let Some(g) = &page.group {
            let n = group_count(a, g.id.get_ref(), g.min).min(g.max);
            let items: Vec<Value> = (0..n)
                .map(|i| {
                    let mut m = serde_json::Map::new();
                    for f in &g.fields {
                        m.insert(
                            f.id.get_ref().clone(),
                            value(f, &group_input(g.id.get_ref(), i, f.id.get_ref())),
                        );
                    }
                    Value::Object(m)
                })
                .collect();
            out.insert(g.id.get_ref().clone(), Value::Array(items));
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// A field's pattern, compiled once per process: compiling it on every check was about 5 % of
/// a submission's CPU (BENCHMARKS.md, "Group commit"). Patterns come from the published
/// definitions, so there are few; `None` for one that does not compile (import refuses those,
/// so the answer is treated as not matching).
fn compiled(pattern: &str) -> Option<regex::Regex> {
    static PATTERNS: std::sync::LazyLock<crate::cache::BoundedMap<String, Option<regex::Regex>>> =
        std::sync::LazyLock::new(|| {
            crate::cache::BoundedMap::new(std::time::Duration::from_secs(24 * 3600), 1_000)
        });
    let key = pattern.to_string();
    if let Some(re) = PATTERNS.get(&key) {
        return re;
    }
    let since = PATTERNS.generation();
    let re = regex::Regex::new(&super::definition::anchored_pattern(pattern)).ok();
    PATTERNS.fill(since, key, re.clone());
    re
}
