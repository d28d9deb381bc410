//! Turning thread items and timeline events into what each side reads, in plain language.

use amtsweg_app::components::{AttachmentView, MessageView, TagKind};
use amtsweg_app::i18n::{t, tf, Lang};

use super::thread::{Event, Message};
use crate::applications::evidence::file_label;
use crate::time::format_ms;

/// Who reads: the citizen sees authority staff as "the authority", staff see colleagues' addresses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reader<'a> {
    Staff,
    Citizen { authority: &'a str },
}

pub fn messages(
    lang: Lang,
    list: Vec<Message>,
    reader: Reader<'_>,
    download_base: &str,
) -> Vec<MessageView> {
    list.into_iter()
        .map(|m| {
            let mut tags = Vec::new();
            if m.kind == "request" {
                if let Some(d) = m.deadline_at {
                    tags.push((
                        TagKind::Warning,
                        tf(lang, "thread.deadline", &[("date", &format_ms(d))]),
                    ));
                }
                tags.push(match m.answered_at {
                    Some(_) => (TagKind::Success, t(lang, "thread.answered").to_string()),
                    None => (TagKind::Neutral, t(lang, "thread.open").to_string()),
                });
            }
            if let Some(o) = &m.outcome {
                let kind = if o == "approved" {
                    TagKind::Success
                } else {
                    TagKind::Danger
                };
                tags.push((kind, t(lang, &format!("thread.outcome.{o}")).to_string()));
            }
            let unread_for_reader = match reader {
                Reader::Staff => m.from_citizen,
                Reader::Citizen { .. } => !m.from_citizen,
            };
            if unread_for_reader && m.read_at.is_none() {
                tags.push((TagKind::Info, t(lang, "thread.new").to_string()));
            }
            let from_label = match (reader, m.from_citizen) {
                (_, true) => t(lang, "thread.from_citizen").to_string(),
                (Reader::Staff, false) => m.author.clone(),
                (Reader::Citizen { authority }, false) => authority.to_string(),
            };
            let body = if m.kind == "forwarded" {
                tf(lang, "thread.forwarded_body", &[("authority", &m.body)])
            } else {
                m.body.clone()
            };
            MessageView {
                id: m.id.clone(),
                kind_label: t(lang, &format!("thread.kind.{}", m.kind)).to_string(),
                from_label,
                from_citizen: m.from_citizen,
                at: format_ms(m.created_at),
                body,
                tags,
                attachments: m
                    .attachments
                    .iter()
                    .map(|a| AttachmentView {
                        href: format!("{download_base}/{}", a.document_id),
                        label: file_label(&a.file_name, a.size, lang),
                    })
                    .collect(),
            }
        })
        .collect()
}

pub fn timeline(lang: Lang, events: Vec<Event>, reader: Reader<'_>) -> Vec<(String, String)> {
    let side = match reader {
        Reader::Staff => "staff",
        Reader::Citizen { .. } => "citizen",
    };
    events
        .into_iter()
        .map(|e| {
            let text = if let Some(state) = e.kind.strip_prefix("state:") {
                let table = if reader == Reader::Staff {
                    "bo"
                } else {
                    "case"
                };
                tf(
                    lang,
                    "timeline.state",
                    &[("state", t(lang, &format!("{table}.state.{state}")))],
                )
            } else {
                let key = format!("timeline.{side}.{}", e.kind);
                let mut s = tf(lang, &key, &[("detail", &e.detail), ("actor", &e.actor)]);
                if reader == Reader::Staff && !e.actor.is_empty() && !s.contains(&e.actor) {
                    s.push_str(&format!(" ({})", e.actor));
                }
                s
            };
            (format_ms(e.at), text)
        })
        .collect()
}
