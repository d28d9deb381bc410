use leptos::prelude::*;

use crate::tr;

fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let mut parts = Vec::new();
    if hint {
        parts.push(format!("{id}-hint"));
    }
    if error {
        parts.push(format!("{id}-error"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Hint and error lines shared by every control.
fn hint_and_error(id: &str, hint: Option<String>, error: Option<String>) -> impl IntoView {
    view! {
        {hint.map(|h| view! { <div class="kern-hint" id=format!("{id}-hint")>{h}</div> })}
        {error.map(|e| view! {
            <p class="kern-error" id=format!("{id}-error")>
                <span class="kern-icon kern-icon--danger" aria-hidden="true"></span>
                <span class="kern-body"><span class="aw-sr-only">{format!("{}: ", tr("form.error_prefix"))}</span>{e}</span>
            </p>
        })}
    }
}

fn group_class(base: &'static str, error: bool) -> String {
    if error {
        format!("{base} {base}--error")
    } else {
        base.to_string()
    }
}

#[component]
pub fn TextInput(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] value: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] max_length: Option<usize>,
    #[prop(optional)] inputmode: Option<&'static str>,
    /// Width in characters (`5`, `10`, `20`) for inputs whose answers are short.
    #[prop(optional)]
    width: Option<&'static str>,
) -> impl IntoView {
    let has_error = error.is_some();
    let mut class = String::from("kern-form-input__input");
    if let Some(w) = width {
        class.push_str(&format!(" aw-input--width-{w}"));
    }
    if has_error {
        class.push_str(" kern-form-input__input--error");
    }
    view! {
        <div class=group_class("kern-form-input", has_error)>
            <label class="kern-label" for=name.clone()>
                {label}
                {(!required).then(|| view! { <span class="kern-label__optional">{format!(" – {}", tr("form.optional"))}</span> })}
            </label>
            {hint_and_error(&name, hint.clone(), error)}
            <input class=class id=name.clone() name=name.clone() type=input_type value=value
                autocomplete=autocomplete inputmode=inputmode
                maxlength=max_length.map(|m| m.to_string())
                required=required
                aria-invalid=has_error.then_some("true")
                aria-describedby=described_by(&name, hint.is_some(), has_error)/>
        </div>
    }
}

#[component]
pub fn TextArea(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] value: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] max_length: Option<usize>,
) -> impl IntoView {
    let has_error = error.is_some();
    view! {
        <div class=group_class("kern-form-input", has_error)>
            <label class="kern-label" for=name.clone()>
                {label}
                {(!required).then(|| view! { <span class="kern-label__optional">{format!(" – {}", tr("form.optional"))}</span> })}
            </label>
            {hint_and_error(&name, hint.clone(), error)}
            <textarea class=if has_error { "kern-form-input__input kern-form-input__input--error" } else { "kern-form-input__input" } id=name.clone() name=name.clone() rows="5"
                required=required maxlength=max_length.map(|m| m.to_string())
                aria-invalid=has_error.then_some("true")
                aria-describedby=described_by(&name, hint.is_some(), has_error)>{value}</textarea>
        </div>
    }
}

/// One question with mutually exclusive answers. The group's id points at the first radio so
/// the error summary link lands on a focusable element.
#[component]
pub fn Radios(
    #[prop(into)] name: String,
    #[prop(into)] legend: String,
    options: Vec<(String, String)>,
    #[prop(optional, into)] selected: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
    #[prop(optional)] inline: bool,
) -> impl IntoView {
    choice_group(
        name,
        legend,
        options,
        vec![selected],
        hint,
        error,
        "radio",
        inline,
    )
}

#[component]
pub fn Checkboxes(
    #[prop(into)] name: String,
    #[prop(into)] legend: String,
    options: Vec<(String, String)>,
    #[prop(optional)] checked: Vec<String>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
) -> impl IntoView {
    choice_group(
        name, legend, options, checked, hint, error, "checkbox", false,
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "internal helper behind two typed components"
)]
fn choice_group(
    name: String,
    legend: String,
    options: Vec<(String, String)>,
    selected: Vec<String>,
    hint: Option<String>,
    error: Option<String>,
    kind: &'static str,
    inline: bool,
) -> impl IntoView {
    let has_error = error.is_some();
    let body_class = if inline {
        "kern-fieldset__body kern-fieldset__body--horizontal"
    } else {
        "kern-fieldset__body"
    };
    let input_class = match (kind, has_error) {
        ("radio", false) => "kern-form-check__radio",
        ("radio", true) => "kern-form-check__radio kern-form-check__radio--error",
        (_, false) => "kern-form-check__checkbox",
        (_, true) => "kern-form-check__checkbox kern-form-check__checkbox--error",
    };
    view! {
        <fieldset class=if has_error { "kern-fieldset kern-fieldset--error" } else { "kern-fieldset" }
            aria-describedby=described_by(&name, hint.is_some(), has_error)>
            <legend class="kern-label">{legend}</legend>
            {hint_and_error(&name, hint.clone(), error)}
            <div class=body_class>
                {options.into_iter().enumerate().map(|(i, (value, label))| {
                    let id = if i == 0 { name.clone() } else { format!("{name}-{i}") };
                    let checked = selected.contains(&value);
                    view! {
                        <div class="kern-form-check">
                            <input class=input_class type=kind id=id.clone() name=name.clone()
                                value=value checked=checked aria-invalid=has_error.then_some("true")/>
                            <label class="kern-label" for=id>{label}</label>
                        </div>
                    }
                }).collect_view()}
            </div>
        </fieldset>
    }
}

#[component]
pub fn Select(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
    #[prop(optional, into)] selected: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let has_error = error.is_some();
    view! {
        <div class=group_class("kern-form-input", has_error)>
            <label class="kern-label" for=name.clone()>{label}</label>
            {hint_and_error(&name, hint.clone(), error)}
            <div class="kern-form-input__select-wrapper">
                <select class=if has_error { "kern-form-input__select kern-form-input__select--error" } else { "kern-form-input__select" } id=name.clone() name=name.clone() required=required
                    aria-invalid=has_error.then_some("true")
                    aria-describedby=described_by(&name, hint.is_some(), has_error)>
                    <option value="">{tr("form.select_prompt")}</option>
                    {options.into_iter().map(|(v, l)| {
                        let sel = v == selected;
                        view! { <option value=v selected=sel>{l}</option> }
                    }).collect_view()}
                </select>
            </div>
        </div>
    }
}

/// Day, month and year as three plain text fields: works everywhere, unlike `type=date`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DateValue {
    pub day: String,
    pub month: String,
    pub year: String,
}

#[component]
pub fn DateInput(
    #[prop(into)] name: String,
    #[prop(into)] legend: String,
    #[prop(optional)] value: DateValue,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
    #[prop(optional)] autocomplete_bday: bool,
) -> impl IntoView {
    let has_error = error.is_some();
    let parts = [
        (
            "day",
            tr("form.date.day"),
            value.day,
            2,
            autocomplete_bday.then_some("bday-day"),
        ),
        (
            "month",
            tr("form.date.month"),
            value.month,
            2,
            autocomplete_bday.then_some("bday-month"),
        ),
        (
            "year",
            tr("form.date.year"),
            value.year,
            4,
            autocomplete_bday.then_some("bday-year"),
        ),
    ];
    view! {
        <fieldset class=if has_error { "kern-fieldset kern-fieldset--error" } else { "kern-fieldset" }
            aria-describedby=described_by(&name, hint.is_some(), has_error)>
            <legend class="kern-label">{legend}</legend>
            {hint_and_error(&name, hint.clone(), error)}
            <div class="kern-fieldset__body kern-fieldset__body--horizontal aw-date-input">
                {parts.into_iter().map(|(part, label, v, len, ac)| {
                    // The day field carries the group's id so error links focus it.
                    let id = if part == "day" { name.clone() } else { format!("{name}-{part}") };
                    let mut class = format!("kern-form-input__input kern-form-input__input--width-{len}");
                    if has_error {
                        class.push_str(" kern-form-input__input--error");
                    }
                    view! {
                        <div class="kern-form-input">
                            <label class="kern-label" for=id.clone()>{label}</label>
                            <input class=class id=id name=format!("{name}.{part}") type="text"
                                inputmode="numeric" maxlength=len.to_string() value=v autocomplete=ac
                                aria-invalid=has_error.then_some("true")/>
                        </div>
                    }
                }).collect_view()}
            </div>
        </fieldset>
    }
}

#[component]
pub fn FileInput(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional_no_strip, into)] error: Option<String>,
    #[prop(optional, into)] accept: Option<String>,
    #[prop(optional)] multiple: bool,
) -> impl IntoView {
    let has_error = error.is_some();
    view! {
        <div class=group_class("kern-form-input", has_error)>
            <label class="kern-label" for=name.clone()>{label}</label>
            {hint_and_error(&name, hint.clone(), error)}
            <input class=if has_error { "kern-form-input__input kern-form-input__input--error" } else { "kern-form-input__input" } type="file" id=name.clone() name=name.clone()
                accept=accept multiple=multiple
                aria-invalid=has_error.then_some("true")
                aria-describedby=described_by(&name, hint.is_some(), has_error)/>
        </div>
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonKind {
    Primary,
    Secondary,
    Tertiary,
}

#[component]
pub fn Button(
    kind: ButtonKind,
    #[prop(into)] label: String,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional)] value: Option<&'static str>,
) -> impl IntoView {
    let class = match kind {
        ButtonKind::Primary => "kern-btn kern-btn--primary",
        ButtonKind::Secondary => "kern-btn kern-btn--secondary",
        ButtonKind::Tertiary => "kern-btn kern-btn--tertiary",
    };
    view! {
        <button type="submit" class=class name=name value=value>
            <span class="kern-label">{label}</span>
        </button>
    }
}

/// The session's form token; every state-changing form includes it.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = leptos::prelude::use_context::<crate::PageCtx>()
        .and_then(|c| c.csrf)
        .unwrap_or_default();
    view! { <input type="hidden" name="_csrf" value=token/> }
}
