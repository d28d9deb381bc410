//! Turning definitions and answers into the views the pages render.

use amtsweg_app::components::{DateValue, FieldError};
use amtsweg_app::i18n::{t, tf, Lang};
use amtsweg_app::pages::apply::{CheckSection, FieldView, GroupItemView, GroupView};

use super::answers::{self, Answers, Problem, PREFILLED};
use super::definition::{Definition, Field, FieldType, Group, Page};

fn prefilled(a: &Answers, id: &str) -> bool {
    answers::list(a, PREFILLED).iter().any(|p| p == id)
}

pub fn field_view(
    f: &Field,
    name: &str,
    a: &Answers,
    lang: Lang,
    problems: &[Problem],
) -> FieldView {
    let mut hint: Vec<String> = Vec::new();
    if let Some(h) = &f.hint {
        hint.push(h.get(lang).to_string());
    }
    if let Some(n) = &f.legal_note {
        hint.push(n.get(lang).to_string());
    }
    if prefilled(a, name) {
        hint.push(t(lang, "apply.form.prefilled").to_string());
    }
    let anchor = name.replace('.', "-");
    FieldView {
        name: name.to_string(),
        kind: f.kind,
        label: f.label.get(lang).to_string(),
        hint: (!hint.is_empty()).then(|| hint.join(" ")),
        required: answers::field_required(f, a),
        value: answers::text(a, name).to_string(),
        values: answers::list(a, name),
        date: DateValue {
            day: answers::text(a, &format!("{name}.day")).to_string(),
            month: answers::text(a, &format!("{name}.month")).to_string(),
            year: answers::text(a, &format!("{name}.year")).to_string(),
        },
        options: f
            .options
            .iter()
            .map(|o| (o.value.clone(), o.label.get(lang).to_string()))
            .collect(),
        error: problems
            .iter()
            .find(|p| p.input == anchor || p.input == format!("{anchor}-day"))
            .map(|p| p.message.clone()),
        max_length: f.max_length,
        files: None,
    }
}

/// Whether the field's condition refers to another field of the same page.
pub fn depends_on_page(f: &Field, page: &Page) -> bool {
    f.show_if
        .as_ref()
        .is_some_and(|c| page.fields.iter().any(|o| *o.id.get_ref() == c.field))
}

/// A field of a page, with the "only needed when …" hint for same-page conditions.
pub fn field_view_on(
    f: &Field,
    page: &Page,
    a: &Answers,
    lang: Lang,
    problems: &[Problem],
) -> FieldView {
    let mut v = field_view(f, f.id.get_ref(), a, lang, problems);
    if let Some(c) = f.show_if.as_ref().filter(|_| depends_on_page(f, page)) {
        let answer = page
            .fields
            .iter()
            .find(|o| *o.id.get_ref() == c.field)
            .and_then(|o| {
                o.options
                    .iter()
                    .find(|opt| opt.value == c.equals)
                    .map(|opt| opt.label.get(lang).to_string())
            })
            .unwrap_or_else(|| {
                t(
                    lang,
                    if c.equals == "yes" {
                        "form.yes"
                    } else {
                        "form.no"
                    },
                )
                .to_string()
            });
        let note = tf(lang, "apply.form.only_if", &[("answer", &answer)]);
        v.hint = Some(match v.hint {
            Some(h) => format!("{note} {h}"),
            None => note,
        });
        v.required = false;
    }
    v
}

pub fn group_view(g: &Group, a: &Answers, lang: Lang, problems: &[Problem]) -> GroupView {
    let n = answers::group_count(a, g.id.get_ref(), g.min).min(g.max);
    let items = (0..n)
        .map(|i| GroupItemView {
            legend: format!("{} {}", g.item_label.get(lang), i + 1),
            fields: g
                .fields
                .iter()
                .map(|f| {
                    field_view(
                        f,
                        &answers::group_input(g.id.get_ref(), i, f.id.get_ref()),
                        a,
                        lang,
                        problems,
                    )
                })
                .collect(),
            removable: n > g.min.max(1),
        })
        .collect();
    GroupView {
        label: g.label.get(lang).to_string(),
        items,
        can_add: n < g.max,
        add_label: tf(lang, "form.group.add", &[("item", g.item_label.get(lang))]),
    }
}

pub fn errors(problems: &[Problem]) -> Vec<FieldError> {
    problems
        .iter()
        .map(|p| FieldError {
            field_id: p.input.clone(),
            message: p.message.clone(),
        })
        .collect()
}

/// The rows of one page for the check page and the printable summary.
pub fn section(page: &Page, a: &Answers, lang: Lang, change_href: String) -> CheckSection {
    let mut rows: Vec<(String, String)> = page
        .fields
        .iter()
        .filter(|f| answers::field_visible(f, a))
        .map(|f| {
            (
                f.label.get(lang).to_string(),
                answers::display(f, f.id.get_ref(), a, lang),
            )
        })
        .collect();
    if let Some(g) = &page.group {
        let n = answers::group_count(a, g.id.get_ref(), g.min).min(g.max);
        for i in 0..n {
            for f in &g.fields {
                let name = answers::group_input(g.id.get_ref(), i, f.id.get_ref());
                rows.push((
                    format!(
                        "{} {}: {}",
                        g.item_label.get(lang),
                        i + 1,
                        f.label.get(lang)
                    ),
                    answers::display(f, &name, a, lang),
                ));
            }
        }
    }
    CheckSection {
        title: page.title.get(lang).to_string(),
        change_href,
        rows,
    }
}

/// Step names: the visible pages, then "check and submit".
pub fn steps(def: &Definition, a: &Answers, lang: Lang) -> Vec<String> {
    let mut s: Vec<String> = answers::visible_pages(def, a)
        .iter()
        .map(|p| p.title.get(lang).to_string())
        .collect();
    s.push(t(lang, "apply.check.step").to_string());
    s
}

/// Answers from the structured (typed) case answers back into display rows, for the summary.
pub fn answers_from_structured(
    def: &Definition,
    s: &serde_json::Map<String, serde_json::Value>,
) -> Answers {
    use serde_json::Value;
    let mut a = Answers::new();
    let mut put = |name: String, f: &Field, v: &Value| match (f.kind, v) {
        (FieldType::Date, Value::String(d)) => {
            let mut parts = d.splitn(3, '-');
            let (y, m, dd) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            a.insert(format!("{name}.day"), Value::String(dd.to_string()));
            a.insert(format!("{name}.month"), Value::String(m.to_string()));
            a.insert(format!("{name}.year"), Value::String(y.to_string()));
        }
        (FieldType::Money, Value::Number(n)) => {
            let cents = n.as_i64().unwrap_or(0);
            a.insert(
                name,
                Value::String(format!("{},{:02}", cents / 100, cents % 100)),
            );
        }
        (FieldType::File, Value::Array(items)) => {
            let names: Vec<Value> = items
                .iter()
                .filter_map(|i| i.get("file_name").cloned())
                .collect();
            let ids: Vec<Value> = items
                .iter()
                .filter_map(|i| i.get("document_id").cloned())
                .collect();
            a.insert(answers::files_key(&name), Value::Array(names));
            a.insert(name, Value::Array(ids));
        }
        (FieldType::YesNo, Value::Bool(b)) => {
            a.insert(name, Value::String(if *b { "yes" } else { "no" }.into()));
        }
        (FieldType::Number, Value::Number(n)) => {
            a.insert(name, Value::String(n.to_string()));
        }
        (_, Value::Null) => {}
        (_, v) => {
            a.insert(name, v.clone());
        }
    };
    for page in &def.pages {
        for f in &page.fields {
            if let Some(v) = s.get(f.id.get_ref()) {
                put(f.id.get_ref().clone(), f, v);
            }
        }
        if let Some(g) = &page.group {
            if let Some(Value::Array(items)) = s.get(g.id.get_ref()) {
                for (i, item) in items.iter().enumerate() {
                    for f in &g.fields {
                        if let Some(v) = item.get(f.id.get_ref()) {
                            put(
                                answers::group_input(g.id.get_ref(), i, f.id.get_ref()),
                                f,
                                v,
                            );
                        }
                    }
                }
            }
        }
    }
    for page in &def.pages {
        if let Some(g) = &page.group {
            if let Some(Value::Array(items)) = s.get(g.id.get_ref()) {
                a.insert(
                    format!("{}#count", g.id.get_ref()),
                    Value::String(items.len().to_string()),
                );
            }
        }
    }
    a
}

/// The sections of a submitted case as its form version labels them: the pages that were
/// answered, without change links (the citizen's printable copy and the caseworker's view).
pub fn submitted_sections(
    def: &Definition,
    structured: &serde_json::Map<String, serde_json::Value>,
    lang: Lang,
) -> Vec<CheckSection> {
    let a = answers_from_structured(def, structured);
    let shown = |id: &str| structured.contains_key(id);
    def.pages
        .iter()
        .filter(|p| {
            p.fields.iter().any(|f| shown(f.id.get_ref()))
                || p.group.as_ref().is_some_and(|g| shown(g.id.get_ref()))
        })
        .map(|p| section(p, &a, lang, String::new()))
        .collect()
}
