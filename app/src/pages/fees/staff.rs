use leptos::prelude::*;

use super::ITEM_ROWS;
use crate::components::*;
use crate::i18n::tf;
use crate::{render_page, tr, FormState, PageCtx};

pub struct NoticeFormView {
    pub reference: String,
    pub service_title: String,
    /// The authority's account as the notice will name it; `None` when none is configured.
    pub payee: Option<Vec<(String, String)>>,
    /// Number of the notice this one corrects.
    pub replaces: Option<i64>,
    pub form: FormState,
}

pub fn notice_form(ctx: &PageCtx, v: NoticeFormView) -> String {
    let title = match v.replaces {
        Some(n) => tf(
            ctx.lang,
            "fees.form.title_correct",
            &[("number", &n.to_string())],
        ),
        None => crate::i18n::t(ctx.lang, "fees.form.title").to_string(),
    };
    let heading = title.clone();
    render_page(ctx, &title, move || {
        let base = format!("/verwaltung/vorgaenge/{}", v.reference);
        let f = v.form;
        let rows = (0..ITEM_ROWS)
            .map(|i| {
                let label_name = format!("item_label_{i}");
                let amount_name = format!("item_amount_{i}");
                let legend = tf(crate::lang(), "fees.form.item", &[("n", &(i + 1).to_string())]);
                view! {
                    <fieldset class="kern-fieldset aw-fee-item">
                        <legend class="kern-label">{legend}</legend>
                        <div class="aw-fee-item__fields">
                            <TextInput name=label_name.clone() label=tr("fees.form.item_label") value=f.value(&label_name) max_length=200 required=i == 0 error=f.error(&label_name)/>
                            <TextInput name=amount_name.clone() label=tr("fees.form.item_amount") value=f.value(&amount_name) inputmode="decimal" width="10" max_length=20 required=i == 0 error=f.error(&amount_name)/>
                        </div>
                    </fieldset>
                }
            })
            .collect_view();
        view! {
            <p><a class="aw-back-link" href=base.clone()>{tr("fees.form.back")}</a></p>
            <p class="kern-preline">{format!("{} – {}", v.reference, v.service_title)}</p>
            <h1>{heading}</h1>
            <ErrorSummary errors=f.errors.clone()/>
            {match v.payee {
                None => view! {
                    <Alert kind=AlertKind::Warning title=tr("fees.form.no_payee").to_string()><p>{tr("fees.form.no_payee_text")}</p></Alert>
                }.into_any(),
                Some(bank) => view! {
                    <form method="post" action=format!("{base}/gebuehren/neu") novalidate>
                        <CsrfField/>
                        {v.replaces.map(|n| view! { <input type="hidden" name="replaces" value=n.to_string()/> })}
                        <p>{tr("fees.form.intro")}</p>
                        {rows}
                        <TextInput name="due_date" label=tr("fees.form.due") hint=tr("fees.form.due_hint").to_string() value=f.value("due_date") input_type="date" required=true error=f.error("due_date")/>
                        <TextArea name="legal_basis" label=tr("fees.form.legal_basis") value=f.value("legal_basis") required=true max_length=2000 error=f.error("legal_basis")/>
                        <TextArea name="remedy" label=tr("fees.form.remedy") hint=tr("fees.form.remedy_hint").to_string() value=f.value("remedy") required=true max_length=5000 error=f.error("remedy")/>
                        <h2 class="kern-heading-small">{tr("fees.form.payee")}</h2>
                        <SummaryList rows=bank.into_iter().map(|(k, val)| SummaryRow { key: k, value: val, change: None }).collect()/>
                        <Button kind=ButtonKind::Primary label=tr("fees.form.issue")/>
                    </form>
                }.into_any(),
            }}
        }
    })
}

pub struct StaffNoticeView {
    pub reference: String,
    pub number: i64,
    pub state: (TagKind, String),
    pub facts: Vec<(String, String)>,
    pub items: Vec<(String, String)>,
    pub total: String,
    pub pdf_href: Option<String>,
    pub payments: Vec<Vec<String>>,
    /// Open and unpaid: it may still be cancelled or corrected.
    pub can_change: bool,
    pub form: FormState,
}

pub fn staff_notice(ctx: &PageCtx, v: StaffNoticeView) -> String {
    let title = tf(
        ctx.lang,
        "fees.notice.title",
        &[("number", &v.number.to_string())],
    );
    let heading = title.clone();
    render_page(ctx, &title, move || {
        let base = format!("/verwaltung/vorgaenge/{}", v.reference);
        let mut items: Vec<Vec<String>> = v.items.into_iter().map(|(l, a)| vec![l, a]).collect();
        items.push(vec![tr("fees.notice.total").to_string(), v.total.clone()]);
        view! {
            <p><a class="aw-back-link" href=base.clone()>{tr("fees.form.back")}</a></p>
            <p class="kern-preline">{v.reference.clone()}</p>
            <h1>{heading}" "<Tag kind=v.state.0 text=v.state.1/></h1>
            <ErrorSummary errors=v.form.errors.clone()/>
            <SummaryList rows=v.facts.into_iter().map(|(k, val)| SummaryRow { key: k, value: val, change: None }).collect()/>
            <Table caption=tr("fees.notice.items").to_string() headers=vec![tr("fees.notice.item").into(), tr("fees.notice.amount").into()] rows=items/>
            {v.pdf_href.map(|h| view! { <p><a class="kern-link" href=h>{tr("fees.notice.pdf")}</a></p> })}
            <h2>{tr("fees.notice.payments")}</h2>
            {if v.payments.is_empty() {
                view! { <p>{tr("fees.notice.no_payments")}</p> }.into_any()
            } else {
                view! { <Table caption=tr("fees.notice.payments").to_string() headers=vec![tr("fees.pay.date").into(), tr("fees.pay.amount").into(), tr("fees.pay.payer").into(), tr("fees.pay.how").into()] rows=v.payments/> }.into_any()
            }}
            {v.can_change.then(|| view! {
                <h2>{tr("fees.notice.change")}</h2>
                <p><a class="kern-btn kern-btn--secondary" href=format!("{base}/gebuehren/neu?ersetzt={}", v.number)><span class="kern-label">{tr("fees.notice.correct")}</span></a></p>
                <form method="post" action=format!("{base}/gebuehren/{}/aufheben", v.number)>
                    <CsrfField/>
                    <TextArea name="reason" label=tr("fees.notice.cancel_reason") hint=tr("fees.notice.cancel_hint").to_string() value=v.form.value("reason") required=true max_length=2000 error=v.form.error("reason")/>
                    <Button kind=ButtonKind::Secondary label=tr("fees.notice.cancel")/>
                </form>
            })}
        }
    })
}

/// The fee notices of a case, as its case page lists them.
pub struct CaseFeeRow {
    pub href: String,
    pub label: String,
    pub amount: String,
    pub due: String,
    pub state: (TagKind, String),
}

#[component]
pub fn CaseFees(rows: Vec<CaseFeeRow>, #[prop(into)] new_href: String) -> impl IntoView {
    view! {
        <h2 id="gebuehren">{tr("fees.case.title")}</h2>
        {if rows.is_empty() {
            view! { <p>{tr("fees.case.none")}</p> }.into_any()
        } else {
            let rows = rows.into_iter().map(|r| vec![
                view! { <a class="kern-link" href=r.href>{r.label}</a> }.into_any(),
                view! { {r.amount} }.into_any(),
                view! { {r.due} }.into_any(),
                view! { <Tag kind=r.state.0 text=r.state.1/> }.into_any(),
            ]).collect();
            data_table(tr("fees.case.title").to_string(), vec![tr("fees.case.notice").into(), tr("fees.notice.amount").into(), tr("fees.case.due").into(), tr("fees.case.state").into()], rows).into_any()
        }}
        <p><a class="kern-btn kern-btn--secondary" href=new_href><span class="kern-label">{tr("fees.case.new")}</span></a></p>
    }
}
