use leptos::either::Either;
use leptos::prelude::*;

use crate::{render_page, tr, PageCtx};

pub struct ServiceCard {
    pub key: String,
    pub title: String,
    pub summary: String,
}

pub fn render(ctx: &PageCtx, services: &[ServiceCard]) -> String {
    let cards: Vec<(String, String, String)> = services
        .iter()
        .map(|s| (s.key.clone(), s.title.clone(), s.summary.clone()))
        .collect();
    render_page(ctx, tr_in(ctx, "home.title"), move || {
        let steps = [
            ("home.step1.title", "home.step1.text"),
            ("home.step2.title", "home.step2.text"),
            ("home.step3.title", "home.step3.text"),
        ];
        view! {
            <h1>{tr("home.title")}</h1>
            <p class="aw-lead">{tr("home.lead")}</p>
            <section aria-labelledby="services-heading">
                <h2 id="services-heading">{tr("home.services")}</h2>
                <p><a class="kern-link" href="/leistungen">{tr("home.all_services")}</a></p>
                {if cards.is_empty() {
                    Either::Left(view! { <p>{tr("home.no_services")}</p> })
                } else {
                    Either::Right(view! {
                        <ul class="aw-card-list">
                            {cards.into_iter().map(|(key, title, summary)| view! {
                                <li class="kern-card kern-card--interactive aw-card" data-service-key=key.clone()>
                                    <div class="kern-card__container">
                                        <div class="kern-card__header">
                                            <h3 class="kern-title"><a class="kern-link kern-link--stretched" href=format!("/leistungen/{key}")>{title}</a></h3>
                                        </div>
                                        <div class="kern-card__body"><p>{summary}</p></div>
                                    </div>
                                </li>
                            }).collect_view()}
                        </ul>
                    })
                }}
            </section>
            <section aria-labelledby="how-heading">
                <h2 id="how-heading">{tr("home.how")}</h2>
                <ol class="kern-list kern-list--number">
                    {steps.into_iter().map(|(title, text)| view! {
                        <li>
                            <h3 class="kern-heading-small">{tr(title)}</h3>
                            <p>{tr(text)}</p>
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        }
    })
}

/// Translation outside a render (for titles passed into `render`).
pub(crate) fn tr_in(ctx: &PageCtx, key: &str) -> &'static str {
    crate::i18n::t(ctx.lang, key)
}
