use leptos::either::Either;
use leptos::prelude::*;

use super::{Tag, TagKind};
use crate::tr;

#[derive(Clone, Debug)]
pub struct AttachmentView {
    pub href: String,
    pub label: String,
}

/// One item of the thread between authority and citizen, as either side sees it.
#[derive(Clone, Debug)]
pub struct MessageView {
    pub id: String,
    /// "Message", "Request for information", "Reply", "Decision", "Forwarded".
    pub kind_label: String,
    pub from_label: String,
    pub from_citizen: bool,
    pub at: String,
    pub body: String,
    pub tags: Vec<(TagKind, String)>,
    pub attachments: Vec<AttachmentView>,
}

#[component]
pub fn Thread(messages: Vec<MessageView>, #[prop(into)] empty: String) -> impl IntoView {
    if messages.is_empty() {
        return Either::Left(view! { <p>{empty}</p> });
    }
    Either::Right(view! {
        <ol class="aw-thread">
            {messages.into_iter().map(|m| {
                let class = if m.from_citizen { "aw-thread__item aw-thread__item--citizen" } else { "aw-thread__item" };
                let heading_id = format!("msg-{}", m.id);
                let labelled = heading_id.clone();
                view! {
                    <li class=class id=format!("m-{}", m.id)>
                        <article aria-labelledby=labelled>
                            <h3 class="aw-thread__title" id=heading_id>
                                {m.kind_label}" "
                                {m.tags.into_iter().map(|(k, t)| view! { <Tag kind=k text=t/>" " }).collect_view()}
                            </h3>
                            <p class="aw-muted aw-thread__meta">{format!("{} · {}", m.from_label, m.at)}</p>
                            <div class="aw-thread__body">{m.body}</div>
                            {(!m.attachments.is_empty()).then(|| view! {
                                <h4 class="aw-thread__files-title">{tr("thread.attachments")}</h4>
                                <ul class="aw-thread__files">
                                    {m.attachments.into_iter().map(|a| view! {
                                        <li><a class="kern-link" href=a.href>{a.label}</a></li>
                                    }).collect_view()}
                                </ul>
                            })}
                        </article>
                    </li>
                }
            }).collect_view()}
        </ol>
    })
}

/// A list of (when, what) lines: the timeline of a case.
#[component]
pub fn Timeline(items: Vec<(String, String)>) -> impl IntoView {
    view! {
        <ol class="aw-timeline">
            {items.into_iter().map(|(at, text)| view! {
                <li><span class="aw-muted">{at}</span>" – "{text}</li>
            }).collect_view()}
        </ol>
    }
}
