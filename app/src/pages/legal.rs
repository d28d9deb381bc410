//! Impressum, privacy notice and accessibility statement. The operator's details come from the
//! deployment's configuration; a demo installation says that it is one.

use leptos::prelude::*;

use crate::components::{Alert, AlertKind};
use crate::{render_page, tr, PageCtx};

#[derive(Clone, Debug, Default)]
pub struct Operator {
    pub name: Option<String>,
    pub address: Vec<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

fn operator_block(op: Operator) -> impl IntoView {
    let configured = op.name.is_some();
    view! {
        {(!configured).then(|| view! {
            <Alert kind=AlertKind::Info title=tr("legal.demo_operator_title")>
                <p>{tr("legal.demo_operator")}</p>
            </Alert>
        })}
        <address class="aw-address">
            <strong>{op.name.unwrap_or_else(|| tr("legal.demo_operator_name").to_string())}</strong>
            {op.address.into_iter().map(|l| view! { <br/>{l} }).collect_view()}
            {op.phone.map(|p| view! { <br/>{format!("{}: {p}", tr("legal.phone"))} })}
            {op.email.map(|e| view! { <br/>{format!("{}: ", tr("legal.email"))}<a class="kern-link" href=format!("mailto:{e}")>{e.clone()}</a> })}
        </address>
    }
}

fn paragraphs(keys: &'static [&'static str]) -> impl IntoView {
    keys.iter().map(|k| view! { <p>{tr(k)}</p> }).collect_view()
}

pub fn impressum(ctx: &PageCtx, op: &Operator) -> String {
    let op = op.clone();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "legal.imprint.title"),
        move || {
            view! {
                <div class="aw-prose">
                    <h1>{tr("legal.imprint.title")}</h1>
                    <h2 class="kern-heading-medium">{tr("legal.imprint.provider")}</h2>
                    {operator_block(op)}
                    <h2 class="kern-heading-medium">{tr("legal.imprint.responsible_title")}</h2>
                    {paragraphs(&["legal.imprint.responsible"])}
                    <h2 class="kern-heading-medium">{tr("legal.imprint.software_title")}</h2>
                    {paragraphs(&["legal.imprint.software"])}
                </div>
            }
        },
    )
}

pub fn privacy(ctx: &PageCtx, op: &Operator) -> String {
    let op = op.clone();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "legal.privacy.title"),
        move || {
            view! {
                <div class="aw-prose">
                    <h1>{tr("legal.privacy.title")}</h1>
                    <h2 class="kern-heading-medium">{tr("legal.privacy.controller_title")}</h2>
                    {operator_block(op)}
                    <h2 class="kern-heading-medium">{tr("legal.privacy.data_title")}</h2>
                    {paragraphs(&["legal.privacy.data_account", "legal.privacy.data_applications", "legal.privacy.data_logs"])}
                    <h2 class="kern-heading-medium">{tr("legal.privacy.cookies_title")}</h2>
                    {paragraphs(&["legal.privacy.cookies"])}
                    <h2 class="kern-heading-medium">{tr("legal.privacy.recipients_title")}</h2>
                    {paragraphs(&["legal.privacy.recipients"])}
                    <h2 class="kern-heading-medium">{tr("legal.privacy.retention_title")}</h2>
                    {paragraphs(&["legal.privacy.retention"])}
                    <h2 class="kern-heading-medium">{tr("legal.privacy.rights_title")}</h2>
                    {paragraphs(&["legal.privacy.rights", "legal.privacy.complaint"])}
                </div>
            }
        },
    )
}

pub fn accessibility(ctx: &PageCtx, op: &Operator) -> String {
    let op = op.clone();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "legal.a11y.title"),
        move || {
            view! {
                <div class="aw-prose">
                    <h1>{tr("legal.a11y.title")}</h1>
                    {paragraphs(&["legal.a11y.intro"])}
                    <h2 class="kern-heading-medium">{tr("legal.a11y.status_title")}</h2>
                    {paragraphs(&["legal.a11y.status", "legal.a11y.method"])}
                    <h2 class="kern-heading-medium">{tr("legal.a11y.limits_title")}</h2>
                    {paragraphs(&["legal.a11y.limits"])}
                    <h2 class="kern-heading-medium">{tr("legal.a11y.feedback_title")}</h2>
                    {paragraphs(&["legal.a11y.feedback"])}
                    {operator_block(op)}
                    <h2 class="kern-heading-medium">{tr("legal.a11y.enforcement_title")}</h2>
                    {paragraphs(&["legal.a11y.enforcement"])}
                    <p><a class="kern-link" href="https://www.schlichtungsstelle-bgg.de">{tr("legal.a11y.enforcement_link")}</a></p>
                    <p class="aw-muted">{tr("legal.a11y.date")}</p>
                </div>
            }
        },
    )
}
