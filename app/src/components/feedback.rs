use leptos::either::Either;
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
            <div class="kern-alert kern-alert--danger aw-error-summary" role="alert" tabindex="-1" autofocus
                aria-labelledby="error-summary-title">
                <div class="kern-alert__header">
                    <span class="kern-icon kern-icon--danger" aria-hidden="true"></span>
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
    fn name(self) -> &'static str {
        match self {
            AlertKind::Info => "info",
            AlertKind::Success => "success",
            AlertKind::Warning => "warning",
            AlertKind::Danger => "danger",
        }
    }
}

/// A notification box. Messages that appear after an action (`announce`) are a live region;
/// others are a named region. Ids are numbered per page, so output stays deterministic.
#[component]
pub fn Alert(
    kind: AlertKind,
    #[prop(into)] title: String,
    #[prop(optional)] announce: bool,
    children: Children,
) -> impl IntoView {
    let id = format!("alert-{}", crate::next_id());
    let labelled_by = id.clone();
    let class = format!("kern-alert kern-alert--{}", kind.name());
    let icon = format!("kern-icon kern-icon--{}", kind.name());
    let inner = view! {
        <div class="kern-alert__header">
            <span class=icon aria-hidden="true"></span>
            <h2 class="kern-title" id=id>{title}</h2>
        </div>
        <div class="kern-alert__body">{children()}</div>
    };
    // A named <section> is a region landmark; a message that appears after an action is a
    // live status instead.
    if announce {
        Either::Left(
            view! { <div class=class role="status" aria-labelledby=labelled_by>{inner}</div> },
        )
    } else {
        Either::Right(view! { <section class=class aria-labelledby=labelled_by>{inner}</section> })
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
    view! { <span class=class><span class="kern-label">{text}</span></span> }
}
