//! The citizen's postbox: one thread per application, and the application page with its
//! state, timeline, responsible authority, messages and the answer to a request.

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::*;
use crate::i18n::{t, tf};
use crate::{render_page, tr, FormState, PageCtx};

pub struct ThreadRow {
    pub href: String,
    pub title: String,
    pub reference: String,
    pub state: (TagKind, String),
    pub updated: String,
    pub unread: i64,
}

pub fn list(ctx: &PageCtx, rows: Vec<ThreadRow>) -> String {
    render_page(ctx, t(ctx.lang, "pb.list.title"), move || {
        view! {
            <p><a class="aw-back-link" href="/konto">{tr("account.back")}</a></p>
            <h1>{tr("pb.list.title")}</h1>
            <p>{tr("pb.list.intro")}</p>
            {if rows.is_empty() {
                Either::Left(view! { <p>{tr("pb.list.empty")}</p> })
            } else {
                Either::Right(view! {
                    <ul class="kern-list aw-stack">
                        {rows.into_iter().map(|r| {
                            let unread = (r.unread > 0).then(|| {
                                let text = tf(crate::lang(), "pb.list.unread", &[("count", &r.unread.to_string())]);
                                view! { " "<Tag kind=TagKind::Info text=text/> }
                            });
                            view! {
                                <li>
                                    <a class="kern-link" href=r.href>{r.title}</a>
                                    " "<Tag kind=r.state.0 text=r.state.1/>
                                    {unread}
                                    <br/><span class="aw-muted">{format!("{} · {}", r.reference, r.updated)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            }}
        }
    })
}

/// An open request for information the citizen can answer.
pub struct OpenRequest {
    pub id: String,
    pub deadline: String,
}

pub struct ApplicationView {
    pub reference: String,
    pub service_title: String,
    pub state: (TagKind, String),
    pub state_text: String,
    pub submitted: String,
    /// Authority: name, then contact lines.
    pub authority: Option<(String, Vec<String>)>,
    pub timeline: Vec<(String, String)>,
    pub messages: Vec<MessageView>,
    pub open_request: Option<OpenRequest>,
    pub form: FormState,
    pub notice: Option<String>,
}

pub fn application(ctx: &PageCtx, v: ApplicationView) -> String {
    let title = format!("{} – {}", v.service_title, v.reference);
    let csrf = ctx.csrf.clone().unwrap_or_default();
    render_page(ctx, &title, move || {
        let reference = v.reference.clone();
        view! {
            <p><a class="aw-back-link" href="/konto/postfach">{tr("pb.app.back")}</a></p>
            <p class="kern-preline">{format!("{} {}", tr("pb.app.reference"), v.reference)}</p>
            <h1>{v.service_title.clone()}</h1>
            {v.notice.map(|n| view! { <Alert kind=AlertKind::Success title=n announce=true><span></span></Alert> })}
            <ErrorSummary errors=v.form.errors.clone()/>
            <SummaryList rows=vec![
                SummaryRow { key: tr("pb.app.state").into(), value: v.state.1.clone(), change: None },
                SummaryRow { key: tr("pb.app.submitted").into(), value: v.submitted.clone(), change: None },
            ]/>
            <p>{v.state_text.clone()}</p>
            <p>
                <a class="kern-link" href=format!("/vorgaenge/{reference}/zusammenfassung")>{tr("pb.app.summary")}</a>
                " · "
                <a class="kern-link" href=format!("/vorgaenge/{reference}/zusammenfassung.pdf")>{tr("pb.app.summary_pdf")}</a>
            </p>
            {v.open_request.map(|r| {
                let action = format!("/konto/postfach/{reference}/antwort/{}?_csrf={csrf}", r.id);
                view! {
                    <section class="aw-panel" aria-labelledby="reply-title">
                        <h2 id="reply-title">{tr("pb.app.reply_title")}</h2>
                        <p>{tf(crate::lang(), "pb.app.reply_deadline", &[("date", &r.deadline)])}</p>
                        <form method="post" enctype="multipart/form-data" action=action>
                            <TextArea name="body" label=tr("pb.app.reply_body") value=v.form.value("body") required=true max_length=20000 error=v.form.error("body")/>
                            <FileInput name="files" label=tr("pb.app.reply_files") hint=tr("pb.app.reply_files_hint").to_string() accept=".pdf,.jpg,.jpeg,.png" multiple=true error=v.form.error("files")/>
                            <Button kind=ButtonKind::Primary label=tr("pb.app.reply_send")/>
                        </form>
                    </section>
                }
            })}
            <h2>{tr("pb.app.messages")}</h2>
            <Thread messages=v.messages empty=tr("pb.app.no_messages")/>
            <h2>{tr("pb.app.timeline")}</h2>
            <Timeline items=v.timeline/>
            <h2>{tr("pb.app.authority")}</h2>
            {match v.authority {
                Some((name, lines)) => Either::Left(view! {
                    <address class="aw-address">
                        <strong>{name}</strong>
                        {lines.into_iter().map(|l| view! { <br/>{l} }).collect_view()}
                    </address>
                }),
                None => Either::Right(view! { <p>{tr("pb.app.no_authority")}</p> }),
            }}
        }
    })
}
