use leptos::prelude::*;

use crate::tr;

pub struct SummaryRow {
    pub key: String,
    pub value: String,
    /// (href, visually hidden context) of a "change" link.
    pub change: Option<(String, String)>,
}

#[component]
pub fn SummaryList(rows: Vec<SummaryRow>) -> impl IntoView {
    view! {
        <dl class="kern-description-list aw-summary-list">
            {rows.into_iter().map(|r| view! {
                <div class="kern-description-list-item aw-summary-list__row">
                    <dt class="kern-description-list-item__key">{r.key}</dt>
                    <dd class="kern-description-list-item__value">{r.value}</dd>
                    {r.change.map(|(href, context)| view! {
                        <dd class="aw-summary-list__action">
                            <a class="kern-link" href=href>
                                {tr("form.change")}<span class="aw-sr-only">{format!(" {context}")}</span>
                            </a>
                        </dd>
                    })}
                </div>
            }).collect_view()}
        </dl>
    }
}

/// A data table that scrolls sideways on narrow screens instead of breaking the layout.
#[component]
pub fn Table(
    #[prop(into)] caption: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
) -> impl IntoView {
    view! {
        <div class="aw-table-wrap" tabindex="0" role="region" aria-label=caption.clone()>
            <table class="kern-table">
                <caption class="kern-table__caption">{caption.clone()}</caption>
                <thead class="kern-table__head">
                    <tr class="kern-table__row">
                        {headers.into_iter().map(|h| view! { <th class="kern-table__header" scope="col">{h}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody class="kern-table__body">
                    {rows.into_iter().map(|r| view! {
                        <tr class="kern-table__row">
                            {r.into_iter().map(|c| view! { <td class="kern-table__cell">{c}</td> }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Progress through a multi-page form; `current` is zero-based.
#[component]
pub fn StepIndicator(steps: Vec<String>, current: usize) -> impl IntoView {
    let total = steps.len();
    view! {
        <nav class="aw-steps" aria-label=tr("form.steps")>
            <p class="aw-steps__count">
                {crate::i18n::tf(crate::lang(), "form.step_of", &[("n", &(current + 1).to_string()), ("total", &total.to_string())])}
            </p>
            <ol class="aw-steps__list">
                {steps.into_iter().enumerate().map(|(i, s)| {
                    let state = if i < current { "aw-steps__item aw-steps__item--done" }
                        else if i == current { "aw-steps__item aw-steps__item--current" }
                        else { "aw-steps__item" };
                    view! {
                        <li class=state aria-current=(i == current).then_some("step")>
                            {s}
                            {(i < current).then(|| view! { <span class="aw-sr-only">{format!(" ({})", tr("form.step_done"))}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}
