use leptos::prelude::*;

use crate::components::*;
use crate::i18n::t;
use crate::{render_page, tr, FormState, PageCtx};

/// An unmatched payment and what a person can do with it.
pub struct OpenPayment {
    pub id: String,
    pub date: String,
    pub amount: String,
    pub payer: String,
    pub remittance: String,
    /// A notice the amount and payer fit (reference and label), to confirm with one click.
    pub suggestion: Option<(String, String)>,
}

pub struct DeskView {
    /// Authorities whose statements this person may import: (id, name).
    pub authorities: Vec<(String, String)>,
    pub imports: Vec<Vec<String>>,
    pub open: Vec<OpenPayment>,
    pub form: FormState,
    pub notice: Option<String>,
}

pub fn desk(ctx: &PageCtx, v: DeskView) -> String {
    let csrf = ctx.csrf.clone().unwrap_or_default();
    render_page(ctx, t(ctx.lang, "fees.desk.title"), move || {
        let open_rows = v.open.into_iter().map(|p| {
            let action = format!("/verwaltung/zahlungen/{}/zuordnen", p.id);
            let field = format!("ref-{}", p.id);
            let suggestion = p.suggestion.clone();
            vec![
                view! { {p.date} }.into_any(),
                view! { {p.amount} }.into_any(),
                view! { {p.payer} }.into_any(),
                view! { <span class="aw-break">{p.remittance}</span> }.into_any(),
                view! {
                    <form method="post" action=action class="aw-inline-form">
                        <CsrfField/>
                        {suggestion.map(|(_, label)| view! {
                            <p class="aw-muted">{format!("{}: {label}", tr("fees.desk.suggestion"))}</p>
                        })}
                        <div class="kern-form-input">
                            <label class="kern-label" for=field.clone()>{tr("fees.desk.reference")}</label>
                            <input class="kern-form-input__input" id=field.clone() name="reference" value=p.suggestion.map(|s| s.0).unwrap_or_default() maxlength="40"/>
                        </div>
                        <Button kind=ButtonKind::Secondary label=tr("fees.desk.assign")/>
                    </form>
                }.into_any(),
            ]
        }).collect::<Vec<_>>();
        let has_open = !open_rows.is_empty();
        view! {
            <p><a class="aw-back-link" href="/verwaltung">{tr("fees.desk.back")}</a></p>
            <h1>{tr("fees.desk.title")}</h1>
            {v.notice.map(|n| view! { <Alert kind=AlertKind::Success title=n announce=true><span></span></Alert> })}
            <ErrorSummary errors=v.form.errors.clone()/>
            <h2>{tr("fees.desk.import")}</h2>
            <p>{tr("fees.desk.import_intro")}</p>
            <form method="post" enctype="multipart/form-data" action=format!("/verwaltung/zahlungen/import?_csrf={csrf}")>
                <Select name="authority" label=tr("fees.desk.authority") options=v.authorities required=true selected=v.form.value("authority") error=v.form.error("authority")/>
                <FileInput name="statement" label=tr("fees.desk.file") hint=tr("fees.desk.file_hint").to_string() accept=".xml,application/xml,text/xml" error=v.form.error("statement")/>
                <Button kind=ButtonKind::Primary label=tr("fees.desk.import_button")/>
            </form>
            <h2>{tr("fees.desk.open")}</h2>
            {if has_open {
                data_table(tr("fees.desk.open").to_string(), vec![tr("fees.pay.date").into(), tr("fees.pay.amount").into(), tr("fees.pay.payer").into(), tr("fees.desk.remittance").into(), tr("fees.desk.action").into()], open_rows).into_any()
            } else {
                view! { <p>{tr("fees.desk.no_open")}</p> }.into_any()
            }}
            <h2>{tr("fees.desk.imports")}</h2>
            {if v.imports.is_empty() {
                view! { <p>{tr("fees.desk.no_imports")}</p> }.into_any()
            } else {
                view! { <Table caption=tr("fees.desk.imports").to_string() headers=vec![tr("fees.desk.imported_at").into(), tr("fees.desk.file").into(), tr("fees.desk.account").into(), tr("fees.desk.entries").into(), tr("fees.desk.new").into(), tr("fees.desk.matched").into()] rows=v.imports/> }.into_any()
            }}
        }
    })
}
