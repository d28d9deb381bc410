//! Development-only gallery of every component in normal and error state, so that the browser
//! tests check all of them for accessibility and the design can be reviewed in one place.

use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, PageCtx};

pub fn render_gallery(ctx: &PageCtx) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "dev.components.title"),
        move || {
            let opts = |keys: &[&str]| -> Vec<(String, String)> {
                keys.iter()
                    .map(|k| {
                        (
                            k.to_string(),
                            tr(&format!("dev.components.option.{k}")).to_string(),
                        )
                    })
                    .collect()
            };
            let errors = vec![
                FieldError {
                    field_id: "email-error-demo".into(),
                    message: tr("error.email.invalid").into(),
                },
                FieldError {
                    field_id: "birth".into(),
                    message: tr("dev.components.date_error").into(),
                },
            ];
            view! {
                <h1>{tr("dev.components.title")}</h1>
                <ErrorSummary errors=errors/>
                <StepIndicator steps=vec![tr("dev.components.step1").into(), tr("dev.components.step2").into(), tr("dev.components.step3").into()] current=1/>
                <form method="post" action="/dev/components" novalidate>
                    <TextInput name="name" label=tr("dev.components.name") hint=tr("dev.components.name_hint") autocomplete="name" required=true/>
                    <TextInput name="email-error-demo" label=tr("dev.components.email") value="erika@" error=Some(tr("error.email.invalid").to_string()) input_type="email" required=true/>
                    <TextInput name="plz" label=tr("dev.components.plz") width="5" inputmode="numeric" max_length=5/>
                    <TextArea name="notes" label=tr("dev.components.notes")/>
                    <DateInput name="birth" legend=tr("dev.components.birth") hint=tr("dev.components.birth_hint") error=Some(tr("dev.components.date_error").to_string()) autocomplete_bday=true
                        value=DateValue { day: "31".into(), month: "02".into(), year: "1990".into() }/>
                    <Radios name="contact" legend=tr("dev.components.contact") options=opts(&["mail", "post"]) selected="mail"/>
                    <Checkboxes name="topics" legend=tr("dev.components.topics") options=opts(&["parking", "dog"]) checked=vec!["dog".into()]/>
                    <Select name="district" label=tr("dev.components.district") options=opts(&["mitte", "nord"])/>
                    <FileInput name="evidence" label=tr("dev.components.file") hint=tr("dev.components.file_hint") accept="application/pdf,image/jpeg,image/png"/>
                    <div class="kern-btn-wrapper">
                        <Button kind=ButtonKind::Primary label=tr("dev.components.continue")/>
                        <Button kind=ButtonKind::Secondary label=tr("dev.components.save")/>
                        <Button kind=ButtonKind::Tertiary label=tr("dev.components.cancel")/>
                    </div>
                </form>
                <Alert kind=AlertKind::Info title=tr("dev.components.info")><p>{tr("dev.components.alert_text")}</p></Alert>
                <Alert kind=AlertKind::Success title=tr("dev.components.success")><p>{tr("dev.components.alert_text")}</p></Alert>
                <Alert kind=AlertKind::Warning title=tr("dev.components.warning")><p>{tr("dev.components.alert_text")}</p></Alert>
                <Alert kind=AlertKind::Danger title=tr("dev.components.danger")><p>{tr("dev.components.alert_text")}</p></Alert>
                <p>
                    <Tag kind=TagKind::Neutral text=tr("dev.components.tag_draft")/>" "
                    <Tag kind=TagKind::Info text=tr("dev.components.tag_submitted")/>" "
                    <Tag kind=TagKind::Success text=tr("dev.components.tag_approved")/>" "
                    <Tag kind=TagKind::Warning text=tr("dev.components.tag_waiting")/>" "
                    <Tag kind=TagKind::Danger text=tr("dev.components.tag_rejected")/>
                </p>
                <SummaryList rows=vec![
                    SummaryRow { key: tr("dev.components.name").into(), value: "Erika Mustermann".into(), change: Some(("#name".into(), tr("dev.components.name").into())) },
                    SummaryRow { key: tr("dev.components.plz").into(), value: "70173".into(), change: None },
                ]/>
                <Table caption=tr("dev.components.table_caption")
                    headers=vec![tr("dev.components.col_ref").into(), tr("dev.components.col_service").into(), tr("dev.components.col_state").into()]
                    rows=vec![
                        vec!["A7K-3M9-XQ2".into(), tr("dev.components.option.parking").into(), tr("dev.components.tag_submitted").into()],
                        vec!["B2C-4D5-EF6".into(), tr("dev.components.option.dog").into(), tr("dev.components.tag_approved").into()],
                    ]/>
            }
        },
    )
}
