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
        <dl class="kern-description-list">
            {rows.into_iter().map(|r| view! {
                <div class="kern-description-list-item">
                    <dt class="kern-description-list-item__key">{r.key}</dt>
                    <dd class="kern-description-list-item__value">{r.value}</dd>
                    {r.change.map(|(href, context)| view! {
                        <dd class="aw-summary-action">
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
    let rows = rows
        .into_iter()
        .map(|r| r.into_iter().map(|c| view! { {c} }.into_any()).collect())
        .collect();
    data_table(caption, headers, rows)
}

/// The markup of `Table` for cells that hold more than text (links, small forms).
pub fn data_table(caption: String, headers: Vec<String>, rows: Vec<Vec<AnyView>>) -> impl IntoView {
    let id = format!("table-{}", crate::next_id());
    let labelled_by = id.clone();
    view! {
        <section class="aw-table-wrap" tabindex="0" aria-labelledby=labelled_by>
            <table class="kern-table">
                <caption class="kern-title kern-title--small" id=id>{caption}</caption>
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
        </section>
    }
}

/// Progress through a multi-page form; `current` is zero-based.
#[component]
pub fn StepIndicator(steps: Vec<String>, current: usize) -> impl IntoView {
    view! {
        <nav aria-label=tr("form.steps")>
            <ol class="aw-steps">
                {steps.into_iter().enumerate().map(|(i, s)| {
                    let class = if i < current { "aw-steps__item aw-steps__item--done" }
                        else if i == current { "aw-steps__item aw-steps__item--current" }
                        else { "aw-steps__item" };
                    let state = if i < current { Some(tr("form.step_done")) }
                        else if i == current { Some(tr("form.step_current")) }
                        else { None };
                    view! {
                        <li class=class aria-current=(i == current).then_some("step")>
                            <span class="kern-number">{(i + 1).to_string()}</span>
                            <span class="aw-steps__label">{s}</span>
                            {state.map(|st| view! { <span class="aw-sr-only">{format!(" ({st})")}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}
