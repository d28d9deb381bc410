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
                <span class="aw-sr-only">{format!("{}: ", tr("form.error_prefix"))}</span>{e}
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
    /// Width class suffix, e.g. `"s"` for short inputs like postal codes.
    #[prop(optional)]
    width: Option<&'static str>,
) -> impl IntoView {
    let has_error = error.is_some();
    let class = match width {
        Some(w) => format!("kern-form-input__input aw-input--{w}"),
        None => "kern-form-input__input".to_string(),
    };
    view! {
        <div class=group_class("kern-form-input", has_error)>
            <label class="kern-label" for=name.clone()>
                {label}
                {(!required).then(|| view! { <span class="aw-optional">{format!(" ({})", tr("form.optional"))}</span> })}
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
                {(!required).then(|| view! { <span class="aw-optional">{format!(" ({})", tr("form.optional"))}</span> })}
            </label>
            {hint_and_error(&name, hint.clone(), error)}
            <textarea class="kern-form-input__input aw-textarea" id=name.clone() name=name.clone() rows="5"
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
    let list_class = if inline {
        "aw-choices aw-choices--inline"
    } else {
        "aw-choices"
    };
    let item_class = if kind == "radio" {
        "kern-form-check kern-form-check--radio"
    } else {
        "kern-form-check"
    };
    view! {
        <div class=group_class("kern-form-input", has_error)>
            <fieldset class="kern-fieldset" aria-describedby=described_by(&name, hint.is_some(), has_error)>
                <legend class="kern-label kern-fieldset__legend">{legend}</legend>
                {hint_and_error(&name, hint.clone(), error)}
                <div class=list_class>
                    {options.into_iter().enumerate().map(|(i, (value, label))| {
                        let id = if i == 0 { name.clone() } else { format!("{name}-{i}") };
                        let checked = selected.contains(&value);
                        view! {
                            <div class=item_class>
                                <input class="kern-form-check__input" type=kind id=id.clone() name=name.clone()
                                    value=value checked=checked aria-invalid=has_error.then_some("true")/>
                                <label class="kern-form-check__label" for=id>{label}</label>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
        </div>
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
                <select class="kern-form-input__select" id=name.clone() name=name.clone() required=required
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
        <div class=group_class("kern-form-input", has_error)>
            <fieldset class="kern-fieldset" role="group" aria-describedby=described_by(&name, hint.is_some(), has_error)>
                <legend class="kern-label kern-fieldset__legend">{legend}</legend>
                {hint_and_error(&name, hint.clone(), error)}
                <div class="aw-date-input">
                    {parts.into_iter().map(|(part, label, v, len, ac)| {
                        // The day field carries the group's id so error links focus it.
                        let id = if part == "day" { name.clone() } else { format!("{name}-{part}") };
                        let class = if len == 4 { "kern-form-input__input aw-date-input__year" } else { "kern-form-input__input aw-date-input__part" };
                        view! {
                            <div class="aw-date-input__item">
                                <label class="kern-label aw-date-input__label" for=id.clone()>{label}</label>
                                <input class=class id=id name=format!("{name}.{part}") type="text"
                                    inputmode="numeric" maxlength=len.to_string() value=v autocomplete=ac
                                    aria-invalid=has_error.then_some("true")/>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
        </div>
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
            <input class="kern-form-input__input aw-file-input" type="file" id=name.clone() name=name.clone()
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
