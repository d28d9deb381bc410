//! Development-only: the mails the file transport wrote.

use leptos::prelude::*;

use crate::components::{Alert, AlertKind};
use crate::{render_page, tr, PageCtx};

pub struct MailSummary {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub created: String,
    pub text: String,
}

pub fn list(ctx: &PageCtx, mails: &[MailSummary]) -> String {
    let rows: Vec<(String, String, String, String)> = mails
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                m.to.clone(),
                m.subject.clone(),
                m.created.clone(),
            )
        })
        .collect();
    render_page(ctx, crate::i18n::t(ctx.lang, "dev.mail.title"), move || {
        view! {
            <h1>{tr("dev.mail.title")}</h1>
            <Alert kind=AlertKind::Warning title=tr("dev.mail.warning_title")>
                <p>{tr("dev.mail.warning")}</p>
            </Alert>
            {if rows.is_empty() {
                view! { <p>{tr("dev.mail.empty")}</p> }.into_any()
            } else {
                view! {
                    <section class="aw-table-wrap" tabindex="0" aria-label=tr("dev.mail.title")>
                        <table class="kern-table">
                            <caption class="kern-table__caption">{tr("dev.mail.caption")}</caption>
                            <thead class="kern-table__head"><tr class="kern-table__row">
                                <th class="kern-table__header" scope="col">{tr("dev.mail.sent")}</th>
                                <th class="kern-table__header" scope="col">{tr("dev.mail.to")}</th>
                                <th class="kern-table__header" scope="col">{tr("dev.mail.subject")}</th>
                            </tr></thead>
                            <tbody class="kern-table__body">
                                {rows.into_iter().map(|(id, to, subject, created)| view! {
                                    <tr class="kern-table__row">
                                        <td class="kern-table__cell">{created}</td>
                                        <td class="kern-table__cell">{to}</td>
                                        <td class="kern-table__cell"><a class="kern-link" href=format!("/dev/mail/{id}")>{subject}</a></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                }.into_any()
            }}
        }
    })
}

pub fn detail(ctx: &PageCtx, mail: &MailSummary) -> String {
    let (id, to, subject, created, text) = (
        mail.id.clone(),
        mail.to.clone(),
        mail.subject.clone(),
        mail.created.clone(),
        mail.text.clone(),
    );
    render_page(ctx, &mail.subject, move || {
        view! {
            <p><a class="kern-link" href="/dev/mail">{tr("dev.mail.back")}</a></p>
            <h1>{subject}</h1>
            <dl class="kern-description-list">
                <div class="kern-description-list-item">
                    <dt class="kern-description-list-item__key">{tr("dev.mail.to")}</dt>
                    <dd class="kern-description-list-item__value">{to}</dd>
                </div>
                <div class="kern-description-list-item">
                    <dt class="kern-description-list-item__key">{tr("dev.mail.sent")}</dt>
                    <dd class="kern-description-list-item__value">{created}</dd>
                </div>
            </dl>
            <h2 class="kern-heading-medium">{tr("dev.mail.text_part")}</h2>
            <pre class="aw-mail-text">{text}</pre>
            <p><a class="kern-link" href=format!("/dev/mail/{id}/eml")>{tr("dev.mail.download")}</a></p>
        }
    })
}
