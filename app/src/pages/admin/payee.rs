//! What fee notices take from the administration: the authority's account (section on the
//! authority page and its form) and the postbox's template (section on the postbox page and
//! its form). Kept apart from the authority and postbox pages, which stay about organisation.

use leptos::prelude::*;

use super::back;
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

/// The account as stored, ready to read: IBAN grouped, BIC possibly empty.
pub struct PayeeAccount {
    pub name: String,
    pub iban: String,
    pub bic: String,
}

/// The authority page's view of how citizens pay its fee notices.
pub struct PayeeSummary {
    /// `None` while no usable account is stored: no notice can be issued then.
    pub account: Option<PayeeAccount>,
    /// Whether operators configured an online payment provider for the authority.
    pub online: bool,
}

fn row(key: &str, value: String) -> SummaryRow {
    SummaryRow {
        key: tr(key).into(),
        value,
        change: None,
    }
}

/// The section on the authority page; `base` is that page's address.
pub(super) fn payee_section(base: &str, authority: &str, p: PayeeSummary) -> impl IntoView {
    let missing = p.account.is_none();
    let mut rows = match p.account {
        Some(a) => vec![
            row("admin.payee.name", a.name),
            row("admin.payee.iban", a.iban),
            row(
                "admin.payee.bic",
                if a.bic.is_empty() {
                    tr("admin.payee.no_bic").to_string()
                } else {
                    a.bic
                },
            ),
        ],
        None => vec![row("admin.payee.account", tr("admin.payee.none").into())],
    };
    rows.push(row(
        "admin.payee.online",
        tr(if p.online {
            "admin.payee.online_yes"
        } else {
            "admin.payee.online_no"
        })
        .into(),
    ));
    let link_key = if missing {
        "admin.payee.set"
    } else {
        "admin.payee.edit"
    };
    view! {
        <h2 class="kern-heading-medium">{tr("admin.payee.title")}</h2>
        <SummaryList rows=rows/>
        {missing.then(|| view! { <p>{tr("admin.payee.none_text")}</p> })}
        <p class="aw-muted">{tr("admin.payee.online_hint")}</p>
        <p><a class="kern-link" href=format!("{base}/konto")>
            {tr(link_key)}<span class="aw-sr-only">{format!(" {authority}")}</span>
        </a></p>
    }
}

/// The account form; `action` is also the page's address.
pub fn payee_form(ctx: &PageCtx, state: &FormState, authority: &str, action: &str) -> String {
    let (s, authority, action) = (state.clone(), authority.to_string(), action.to_string());
    let back_href = action.trim_end_matches("/konto").to_string();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.payee.title"),
        move || {
            view! {
                {back(&back_href, "form.back")}
                <p class="kern-preline">{authority}</p>
                <h1>{tr("admin.payee.title")}</h1>
                <ErrorSummary errors=s.errors.clone()/>
                <p>{tr("admin.payee.intro")}</p>
                <form method="post" action=action novalidate>
                    <CsrfField/>
                    <TextInput name="payee_name" label=tr("admin.payee.name") hint=tr("admin.payee.name_hint")
                        value=s.value("payee_name") error=s.error("payee_name") required=true max_length=70/>
                    <TextInput name="payee_iban" label=tr("admin.payee.iban") hint=tr("admin.payee.iban_hint")
                        value=s.value("payee_iban") error=s.error("payee_iban") required=true max_length=42
                        autocomplete="off"/>
                    <TextInput name="payee_bic" label=tr("admin.payee.bic") hint=tr("admin.payee.bic_hint")
                        value=s.value("payee_bic") error=s.error("payee_bic") max_length=14
                        autocomplete="off" width="20"/>
                    <Button kind=ButtonKind::Primary label=tr("admin.save")/>
                </form>
            }
        },
    )
}

/// A postbox's template for new fee notices.
pub struct FeeTemplateSummary {
    pub due_days: i64,
    /// Empty when none is stored.
    pub remedy: String,
}

/// Text with line breaks as paragraphs (blank lines) and breaks within them, as it will read
/// on the notice.
fn paragraphs(text: &str) -> impl IntoView {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines = p
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    let l = l.to_string();
                    view! { {(i > 0).then(|| view! { <br/> })}{l} }
                })
                .collect_view();
            view! { <p>{lines}</p> }
        })
        .collect_view()
}

/// The section on the postbox page; `base` is that page's address.
pub(super) fn fee_template_section(
    base: &str,
    postbox: &str,
    t: FeeTemplateSummary,
) -> impl IntoView {
    let rows = vec![row("admin.fee_template.due_days", t.due_days.to_string())];
    let remedy = if t.remedy.trim().is_empty() {
        view! { <p>{tr("admin.fee_template.remedy_none")}</p> }.into_any()
    } else {
        paragraphs(&t.remedy).into_any()
    };
    view! {
        <h2 class="kern-heading-medium">{tr("admin.fee_template.title")}</h2>
        <SummaryList rows=rows/>
        <h3 class="kern-heading-small">{tr("admin.fee_template.remedy")}</h3>
        {remedy}
        <p><a class="kern-link" href=format!("{base}/gebuehren")>
            {tr("admin.fee_template.edit")}<span class="aw-sr-only">{format!(" {postbox}")}</span>
        </a></p>
    }
}

/// The template form; `preline` names authority and postbox, `action` is also the page's
/// address.
pub fn fee_template_form(ctx: &PageCtx, state: &FormState, preline: &str, action: &str) -> String {
    let (s, preline, action) = (state.clone(), preline.to_string(), action.to_string());
    let back_href = action.trim_end_matches("/gebuehren").to_string();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.fee_template.title"),
        move || {
            view! {
                {back(&back_href, "form.back")}
                <p class="kern-preline">{preline}</p>
                <h1>{tr("admin.fee_template.title")}</h1>
                <ErrorSummary errors=s.errors.clone()/>
                <p>{tr("admin.fee_template.intro")}</p>
                <form method="post" action=action novalidate>
                    <CsrfField/>
                    <TextInput name="fee_due_days" label=tr("admin.fee_template.due_days")
                        hint=tr("admin.fee_template.due_days_hint") value=s.value("fee_due_days")
                        error=s.error("fee_due_days") required=true max_length=3 inputmode="numeric" width="5"/>
                    <TextArea name="fee_remedy" label=tr("admin.fee_template.remedy")
                        hint=tr("admin.fee_template.remedy_hint") value=s.value("fee_remedy")
                        error=s.error("fee_remedy") max_length=5000/>
                    <Button kind=ButtonKind::Primary label=tr("admin.save")/>
                </form>
            }
        },
    )
}
