use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, PageCtx};

pub struct DraftRow {
    pub id: String,
    pub title: String,
    pub updated: String,
    pub continue_href: String,
}

pub struct CaseRow {
    pub reference: String,
    pub title: String,
    pub status: String,
    pub submitted: String,
}

pub fn my_applications(ctx: &PageCtx, drafts: Vec<DraftRow>, cases: Vec<CaseRow>) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "apply.mine.title"),
        move || {
            view! {
                <p><a class="aw-back-link" href="/konto">{tr("account.back")}</a></p>
                <h1>{tr("apply.mine.title")}</h1>
                <h2>{tr("apply.mine.submitted")}</h2>
                {if cases.is_empty() {
                    view! { <p>{tr("apply.mine.no_cases")}</p> }.into_any()
                } else {
                    view! {
                        <ul class="kern-list aw-stack">
                            {cases.into_iter().map(|c| view! {
                                <li>
                                    <a class="kern-link" href=format!("/vorgaenge/{}/zusammenfassung", c.reference)>{c.title}</a>
                                    " "<Tag kind=TagKind::Info text=c.status/>
                                    <br/><span class="aw-muted">{format!("{} · {}", c.reference, c.submitted)}</span>
                                    <br/><a class="kern-link" href=format!("/konto/postfach/{}", c.reference)>{tr("apply.mine.thread")}<span class="aw-sr-only">{format!(" {}", c.reference)}</span></a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
                <h2>{tr("apply.mine.drafts")}</h2>
                <p>{tr("apply.mine.drafts_hint")}</p>
                {if drafts.is_empty() {
                    view! { <p>{tr("apply.mine.no_drafts")}</p> }.into_any()
                } else {
                    view! {
                        <ul class="kern-list aw-stack">
                            {drafts.into_iter().map(|d| view! {
                                <li>
                                    <a class="kern-link" href=d.continue_href>{d.title.clone()}</a>
                                    <br/><span class="aw-muted">{crate::i18n::tf(crate::lang(), "apply.mine.saved", &[("when", &d.updated)])}</span>
                                    <form method="post" action=format!("/antraege/{}/loeschen", d.id)>
                                        <CsrfField/>
                                        <button type="submit" class="aw-btn-link">{tr("apply.mine.delete")}<span class="aw-sr-only">{format!(" {}", d.title)}</span></button>
                                    </form>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }
        },
    )
}
