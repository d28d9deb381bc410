use leptos::either::{Either, EitherOf3, EitherOf8};
use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, PageCtx};

/// The kinds of form fields; the server's form definitions name them in snake case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Textarea,
    Number,
    Money,
    Date,
    Email,
    Phone,
    Iban,
    PostalCode,
    Select,
    Radio,
    Checkboxes,
    YesNo,
    File,
}

/// One field as the page shows it, with what the citizen entered and its problem.
#[derive(Clone, Debug)]
pub struct FieldView {
    pub name: String,
    pub kind: FieldKind,
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub value: String,
    pub values: Vec<String>,
    pub date: DateValue,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
    pub max_length: Option<usize>,
    /// File fields: what is attached, the citizen's earlier uploads, and where the forms post.
    pub files: Option<FilesView>,
}

#[derive(Clone, Debug, Default)]
pub struct FilesView {
    /// (document id, label with size)
    pub attached: Vec<(String, String)>,
    pub library: Vec<(String, String)>,
    pub accept: String,
    pub upload_action: String,
    pub library_action: String,
    pub remove_action: String,
}

#[derive(Clone, Debug)]
pub struct GroupItemView {
    pub legend: String,
    pub fields: Vec<FieldView>,
    pub removable: bool,
}

#[derive(Clone, Debug)]
pub struct GroupView {
    pub label: String,
    pub items: Vec<GroupItemView>,
    pub can_add: bool,
    pub add_label: String,
}

pub struct FormPageView {
    pub service_title: String,
    pub title: String,
    pub intro: Option<String>,
    pub steps: Vec<String>,
    pub current: usize,
    pub action: String,
    pub back_href: String,
    pub fields: Vec<FieldView>,
    pub group: Option<GroupView>,
    pub errors: Vec<FieldError>,
}

/// An `EitherOf…` rather than `AnyView`: erasing the type copies every field's markup into
/// owned form first, which was a measurable share of rendering (BENCHMARKS.md).
fn field(f: FieldView) -> impl IntoView {
    let FieldView {
        name,
        kind,
        label,
        hint,
        required,
        value,
        values,
        date,
        options,
        error,
        max_length,
        files,
    } = f;
    match kind {
        FieldKind::File => EitherOf8::A(file_field(
            name,
            label,
            hint,
            error,
            files.unwrap_or_default(),
        )),
        FieldKind::Textarea => EitherOf8::B(view! {
            <TextArea name=name label=label value=value hint=hint.unwrap_or_default() error=error required=required max_length=max_length.unwrap_or(2000)/>
        }),
        FieldKind::Date => EitherOf8::C(view! {
            <DateInput name=name legend=label value=date hint=hint.unwrap_or_else(|| tr("form.date_hint").to_string()) error=error/>
        }),
        FieldKind::Select => EitherOf8::D(view! {
            <Select name=name label=label options=options selected=value hint=hint.unwrap_or_default() error=error required=required/>
        }),
        FieldKind::Radio => EitherOf8::E(view! {
            <Radios name=name legend=label options=options selected=value hint=hint.unwrap_or_default() error=error/>
        }),
        FieldKind::YesNo => {
            let yes_no = vec![
                ("yes".to_string(), tr("form.yes").to_string()),
                ("no".to_string(), tr("form.no").to_string()),
            ];
            EitherOf8::F(
                view! { <Radios name=name legend=label options=yes_no selected=value hint=hint.unwrap_or_default() error=error inline=true/> },
            )
        }
        FieldKind::Checkboxes => EitherOf8::G(view! {
            <Checkboxes name=name legend=label options=options checked=values hint=hint.unwrap_or_default() error=error/>
        }),
        _ => {
            let (input_type, inputmode, width) = match kind {
                FieldKind::Email => ("email", None, None),
                FieldKind::Phone => ("tel", None, Some("20")),
                FieldKind::PostalCode => ("text", Some("numeric"), Some("5")),
                FieldKind::Number => ("text", Some("decimal"), Some("10")),
                FieldKind::Money => ("text", Some("decimal"), Some("10")),
                FieldKind::Iban => ("text", None, Some("20")),
                _ => ("text", None, None),
            };
            let autocomplete = match name.as_str() {
                "given_name" => Some("given-name"),
                "family_name" => Some("family-name"),
                "postal_code" => Some("postal-code"),
                "street" => Some("address-line1"),
                "place" => Some("address-level2"),
                "phone" => Some("tel"),
                "email" => Some("email"),
                _ => None,
            };
            let hint = hint.unwrap_or_default();
            EitherOf8::H(match (inputmode, width) {
                (Some(m), Some(w)) => EitherOf3::A(
                    view! { <TextInput name=name label=label value=value hint=hint error=error required=required input_type=input_type inputmode=m width=w max_length=max_length.unwrap_or(200) autocomplete=autocomplete.unwrap_or("off")/> },
                ),
                (None, Some(w)) => EitherOf3::B(
                    view! { <TextInput name=name label=label value=value hint=hint error=error required=required input_type=input_type width=w max_length=max_length.unwrap_or(200) autocomplete=autocomplete.unwrap_or("off")/> },
                ),
                _ => EitherOf3::C(
                    view! { <TextInput name=name label=label value=value hint=hint error=error required=required input_type=input_type max_length=max_length.unwrap_or(200) autocomplete=autocomplete.unwrap_or("off")/> },
                ),
            })
        }
    }
}

/// Evidence: each action is its own small form (uploads are multipart, the page's form is not),
/// so file fields stand before the page's form.
fn file_field(
    name: String,
    label: String,
    hint: Option<String>,
    error: Option<String>,
    f: FilesView,
) -> impl IntoView {
    let csrf = leptos::prelude::use_context::<crate::PageCtx>()
        .and_then(|c| c.csrf)
        .unwrap_or_default();
    let has_error = error.is_some();
    let upload = format!("{}?_csrf={}", f.upload_action, csrf);
    let heading_id = format!("{name}-heading");
    let labelled_by = heading_id.clone();
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described = [
        hint.as_ref().map(|_| hint_id.clone()),
        error.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let library = (!f.library.is_empty()).then(|| {
        let select_name = format!("{name}-library");
        view! {
            <form method="post" action=f.library_action.clone() class="aw-file-library">
                <input type="hidden" name="_csrf" value=csrf.clone()/>
                <Select name=select_name label=tr("apply.files.library") options=f.library.clone() hint=tr("apply.files.library_hint")/>
                <Button kind=ButtonKind::Secondary label=tr("apply.files.attach")/>
            </form>
        }
    });
    view! {
        <section class=if has_error { "kern-form-input kern-form-input--error aw-file-field" } else { "kern-form-input aw-file-field" }
            aria-labelledby=labelled_by>
            <h2 class="kern-label" id=heading_id>{label}</h2>
            {hint.map(|h| view! { <div class="kern-hint" id=hint_id.clone()>{h}</div> })}
            {error.map(|e| view! {
                <p class="kern-error" id=error_id.clone()>
                    <span class="kern-icon kern-icon--danger" aria-hidden="true"></span>
                    <span class="kern-body"><span class="aw-sr-only">{format!("{}: ", tr("form.error_prefix"))}</span>{e}</span>
                </p>
            })}
            {if f.attached.is_empty() {
                Either::Left(view! { <p class="aw-muted">{tr("apply.files.none")}</p> })
            } else {
                Either::Right(view! {
                    <ul class="kern-list">
                        {f.attached.into_iter().map(|(id, label)| view! {
                            <li>
                                <a class="kern-link" href=format!("/dokumente/{id}")>{label.clone()}</a>" "
                                <form method="post" action=format!("{}/{id}", f.remove_action) class="aw-inline-form">
                                    <input type="hidden" name="_csrf" value=csrf.clone()/>
                                    <button type="submit" class="aw-btn-link">{tr("apply.files.remove")}<span class="aw-sr-only">{format!(" {label}")}</span></button>
                                </form>
                            </li>
                        }).collect_view()}
                    </ul>
                })
            }}
            <form method="post" enctype="multipart/form-data" action=upload>
                <div class="kern-form-input">
                    <label class="kern-label" for=name.clone()>{tr("apply.files.choose")}</label>
                    <input class=if has_error { "kern-form-input__input kern-form-input__input--error" } else { "kern-form-input__input" }
                        type="file" id=name.clone() name="file" accept=f.accept
                        aria-invalid=has_error.then_some("true") aria-describedby=(!described.is_empty()).then_some(described)/>
                </div>
                <Button kind=ButtonKind::Secondary label=tr("apply.files.upload")/>
            </form>
            {library}
        </section>
    }
}

pub fn form_page(ctx: &PageCtx, v: FormPageView) -> String {
    let title = format!("{} – {}", v.title, v.service_title);
    render_page(ctx, &title, move || {
        // Enter in a text field submits with the first button of the form: with group items,
        // that must be "continue", not "remove".
        let default_button = v.group.is_some().then(|| view! {
            <button type="submit" class="aw-sr-only" name="action" value="next" tabindex="-1" aria-hidden="true">{tr("form.continue")}</button>
        });
        let (file_fields, other_fields): (Vec<FieldView>, Vec<FieldView>) = v
            .fields
            .into_iter()
            .partition(|f| f.kind == FieldKind::File);
        let group = v.group.map(|g| {
            view! {
                <div class="aw-stack">
                    {g.items.into_iter().enumerate().map(|(i, item)| view! {
                        <fieldset class="kern-fieldset aw-group-item">
                            <legend class="kern-label kern-heading-small">{item.legend.clone()}</legend>
                            {item.fields.into_iter().map(field).collect_view()}
                            {item.removable.then(|| view! {
                                <button type="submit" class="aw-btn-link" name="action" value=format!("remove:{i}")>
                                    {tr("form.group.remove")}<span class="aw-sr-only">{format!(" {}", item.legend)}</span>
                                </button>
                            })}
                        </fieldset>
                    }).collect_view()}
                    {g.can_add.then(|| view! {
                        <p><button type="submit" class="kern-btn kern-btn--secondary" name="action" value="add"><span class="kern-label">{g.add_label.clone()}</span></button></p>
                    })}
                </div>
            }
        });
        view! {
            <p><a class="aw-back-link" href=v.back_href>{tr("form.back")}</a></p>
            <StepIndicator steps=v.steps current=v.current/>
            <p class="kern-preline">{v.service_title}</p>
            <h1>{v.title}</h1>
            {v.intro.map(|i| view! { <p>{i}</p> })}
            <ErrorSummary errors=v.errors/>
            {file_fields.into_iter().map(field).collect_view()}
            <form method="post" action=v.action novalidate>
                {default_button}
                <CsrfField/>
                {other_fields.into_iter().map(field).collect_view()}
                {group}
                <div class="kern-btn-wrapper">
                    <button type="submit" class="kern-btn kern-btn--primary" name="action" value="next"><span class="kern-label">{tr("form.continue")}</span></button>
                    <button type="submit" class="kern-btn kern-btn--tertiary" name="action" value="save"><span class="kern-label">{tr("form.save_later")}</span></button>
                </div>
            </form>
        }
    })
}
