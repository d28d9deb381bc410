use leptos::prelude::*;

use crate::tr;

/// A problem with one field, shown in the error summary (linked) and next to the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field_id: String,
    pub message: String,
}

/// The summary at the top of a form that failed validation. It takes the focus on load so that
/// screen reader and keyboard users land on it without any script.
#[component]
pub fn ErrorSummary(errors: Vec<FieldError>) -> impl IntoView {
    (!errors.is_empty()).then(|| {
        view! {
            <div class="kern-alert kern-alert--danger aw-error-summary" tabindex="-1" autofocus
                aria-labelledby="error-summary-title">
                <div class="kern-alert__header">
                    <h2 class="kern-title" id="error-summary-title">{tr("form.error_summary")}</h2>
                </div>
                <div class="kern-alert__body">
                    <ul class="aw-error-summary__list">
                        {errors.into_iter().map(|e| view! {
                            <li><a class="kern-link" href=format!("#{}", e.field_id)>{e.message}</a></li>
                        }).collect_view()}
                    </ul>
                </div>
            </div>
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    Info,
    Success,
    Warning,
    Danger,
}

impl AlertKind {
    fn class(self) -> &'static str {
        match self {
            AlertKind::Info => "kern-alert kern-alert--info",
            AlertKind::Success => "kern-alert kern-alert--success",
            AlertKind::Warning => "kern-alert kern-alert--warning",
            AlertKind::Danger => "kern-alert kern-alert--danger",
        }
    }
}

/// A notification box. `role="status"` only for messages that appear after an action.
#[component]
pub fn Alert(
    kind: AlertKind,
    #[prop(into)] title: String,
    #[prop(optional)] announce: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <div class=kind.class() role=announce.then_some("status")>
            <div class="kern-alert__header">
                <p class="kern-title">{title}</p>
            </div>
            <div class="kern-alert__body">{children()}</div>
        </div>
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

#[component]
pub fn Tag(kind: TagKind, #[prop(into)] text: String) -> impl IntoView {
    let class = match kind {
        TagKind::Neutral => "kern-badge",
        TagKind::Info => "kern-badge kern-badge--info",
        TagKind::Success => "kern-badge kern-badge--success",
        TagKind::Warning => "kern-badge kern-badge--warning",
        TagKind::Danger => "kern-badge kern-badge--danger",
    };
    view! { <span class=class>{text}</span> }
}
