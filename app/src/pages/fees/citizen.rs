use leptos::prelude::*;

use crate::components::*;
use crate::i18n::{t, tf};
use crate::{render_page, tr, PageCtx};

pub struct FeeRow {
    pub href: String,
    pub title: String,
    pub reference: String,
    pub amount: String,
    pub due: String,
    pub state: (TagKind, String),
}

pub fn fee_overview(ctx: &PageCtx, open: Vec<FeeRow>, done: Vec<FeeRow>) -> String {
    render_page(ctx, t(ctx.lang, "fees.list.title"), move || {
        let table = |caption: &'static str, rows: Vec<FeeRow>| {
            let rows = rows.into_iter().map(|r| vec![
                view! { <a class="kern-link" href=r.href>{r.title}</a><br/><span class="aw-muted">{r.reference}</span> }.into_any(),
                view! { {r.amount} }.into_any(),
                view! { {r.due} }.into_any(),
                view! { <Tag kind=r.state.0 text=r.state.1/> }.into_any(),
            ]).collect();
            data_table(
                tr(caption).to_string(),
                vec![
                    tr("fees.list.notice").into(),
                    tr("fees.notice.amount").into(),
                    tr("fees.case.due").into(),
                    tr("fees.case.state").into(),
                ],
                rows,
            )
        };
        let empty = open.is_empty() && done.is_empty();
        view! {
            <p><a class="aw-back-link" href="/konto">{tr("account.back")}</a></p>
            <h1>{tr("fees.list.title")}</h1>
            <p>{tr("fees.list.intro")}</p>
            {empty.then(|| view! { <p>{tr("fees.list.empty")}</p> })}
            {(!open.is_empty()).then(|| table("fees.list.open", open))}
            {(!done.is_empty()).then(|| table("fees.list.done", done))}
        }
    })
}

pub struct CitizenNoticeView {
    pub title: String,
    pub service_title: String,
    pub case_href: String,
    pub state: (TagKind, String),
    pub facts: Vec<(String, String)>,
    pub items: Vec<(String, String)>,
    pub total: String,
    /// Bank details and the GiroCode (inline SVG), while something is left to pay.
    pub transfer: Option<(Vec<(String, String)>, String)>,
    pub pdf_href: Option<String>,
    /// Where the "pay online" form posts, if the authority offers online payment.
    pub pay_online: Option<String>,
    pub online_unavailable: bool,
    pub notice: Option<(AlertKind, String)>,
}

pub fn citizen_notice(ctx: &PageCtx, v: CitizenNoticeView) -> String {
    let title = v.title.clone();
    render_page(ctx, &title, move || {
        let mut items: Vec<Vec<String>> = v.items.into_iter().map(|(l, a)| vec![l, a]).collect();
        items.push(vec![tr("fees.notice.total").to_string(), v.total.clone()]);
        view! {
            <p><a class="aw-back-link" href="/konto/gebuehren">{tr("fees.citizen.back")}</a></p>
            <p class="kern-preline">{v.service_title.clone()}</p>
            <h1>{v.title.clone()}" "<Tag kind=v.state.0 text=v.state.1/></h1>
            {v.notice.map(|(k, n)| view! { <Alert kind=k title=n announce=true><span></span></Alert> })}
            <SummaryList rows=v.facts.into_iter().map(|(k, val)| SummaryRow { key: k, value: val, change: None }).collect()/>
            <Table caption=tr("fees.notice.items").to_string() headers=vec![tr("fees.notice.item").into(), tr("fees.notice.amount").into()] rows=items/>
            <p>
                {v.pdf_href.map(|h| view! { <a class="kern-link" href=h>{tr("fees.notice.pdf")}</a>" · " })}
                <a class="kern-link" href=v.case_href>{tr("fees.citizen.to_case")}</a>
            </p>
            {v.transfer.map(|(bank, svg)| view! {
                <h2>{tr("fees.citizen.how_to_pay")}</h2>
                {v.pay_online.map(|action| view! {
                    <form method="post" action=action>
                        <CsrfField/>
                        <p>{tr("fees.citizen.online_text")}</p>
                        <Button kind=ButtonKind::Primary label=tr("fees.citizen.pay_online")/>
                    </form>
                    <h3 class="kern-heading-small">{tr("fees.citizen.or_transfer")}</h3>
                })}
                {v.online_unavailable.then(|| view! { <p>{tr("fees.citizen.transfer_only")}</p> })}
                <div class="aw-transfer">
                    <div>
                        <SummaryList rows=bank.into_iter().map(|(k, val)| SummaryRow { key: k, value: val, change: None }).collect()/>
                    </div>
                    <figure class="aw-qr">
                        <div class="aw-qr__code" inner_html=svg></div>
                        <figcaption>{tr("fees.citizen.qr_caption")}</figcaption>
                    </figure>
                </div>
            })}
        }
    })
}

/// The line under a notice title: "Gebührenbescheid Nr. 2".
pub fn notice_title(lang: crate::i18n::Lang, number: i64) -> String {
    tf(
        lang,
        "fees.notice.title",
        &[("number", &number.to_string())],
    )
}
