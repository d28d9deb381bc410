use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, PageCtx};

pub struct CheckSection {
    pub title: String,
    pub change_href: String,
    pub rows: Vec<(String, String)>,
}

pub struct CheckView {
    pub service_title: String,
    pub action: String,
    pub back_href: String,
    pub sections: Vec<CheckSection>,
    pub declaration: String,
    pub declared: bool,
    /// Municipalities to choose from when the postal code covers several.
    pub municipalities: Vec<(String, String)>,
    pub municipality: String,
    pub errors: Vec<FieldError>,
    pub error_declaration: Option<String>,
    pub error_municipality: Option<String>,
    /// Answers that differ from the profile: (label, new value), offered for saving back.
    pub profile_changes: Vec<(String, String)>,
}

pub fn check(ctx: &PageCtx, v: CheckView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "apply.check.title"),
        move || {
            view! {
                <p><a class="aw-back-link" href=v.back_href>{tr("form.back")}</a></p>
                <p class="kern-preline">{v.service_title}</p>
                <h1>{tr("apply.check.title")}</h1>
                <ErrorSummary errors=v.errors/>
                {v.sections.into_iter().map(|s| {
                    let context = s.title.clone();
                    let rows = s.rows.into_iter().map(|(k, val)| SummaryRow {
                        key: k.clone(),
                        value: if val.is_empty() { tr("apply.check.empty").to_string() } else { val },
                        change: Some((s.change_href.clone(), k)),
                    }).collect();
                    view! {
                        <h2 class="kern-heading-medium">{context}</h2>
                        <SummaryList rows=rows/>
                    }
                }).collect_view()}
                <form method="post" action=v.action novalidate>
                    <CsrfField/>
                    {(!v.municipalities.is_empty()).then(|| view! {
                        <Radios name="ags" legend=tr("profile.municipality") hint=tr("profile.municipality_hint")
                            options=v.municipalities.clone() selected=v.municipality.clone() error=v.error_municipality.clone()/>
                    })}
                    {(!v.profile_changes.is_empty()).then(|| {
                    let hint = v.profile_changes.iter().map(|(k, val)| format!("{k}: {val}")).collect::<Vec<_>>().join("; ");
                    view! {
                        <Checkboxes name="save_profile" legend=tr("apply.check.profile_legend") hint=hint
                            options=vec![("yes".to_string(), tr("apply.check.profile_save").to_string())]/>
                    }
                })}
                <h2 class="kern-heading-medium">{tr("apply.check.declaration")}</h2>
                    <Checkboxes name="declaration" legend=tr("apply.check.declaration")
                        options=vec![("yes".to_string(), v.declaration.clone())]
                        checked=if v.declared { vec!["yes".to_string()] } else { vec![] }
                        error=v.error_declaration/>
                    <Button kind=ButtonKind::Primary label=tr("apply.check.submit")/>
                </form>
            }
        },
    )
}

pub struct ConfirmationView {
    pub reference: String,
    pub service_title: String,
    pub authority: Option<String>,
    pub processing_time: String,
}

pub fn confirmation(ctx: &PageCtx, v: ConfirmationView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "apply.done.title"),
        move || {
            view! {
                <div class="kern-alert kern-alert--success" role="status" aria-labelledby="done-title">
                    <div class="kern-alert__header">
                        <span class="kern-icon kern-icon--success" aria-hidden="true"></span>
                        <h1 class="kern-title" id="done-title">{tr("apply.done.title")}</h1>
                    </div>
                    <div class="kern-alert__body">
                        <p>{tr("apply.done.reference")}</p>
                        <p class="aw-reference"><strong>{v.reference.clone()}</strong></p>
                    </div>
                </div>
                <p>{crate::i18n::tf(crate::lang(), "apply.done.service", &[("service", &v.service_title)])}</p>
                <h2>{tr("apply.done.next_title")}</h2>
                {match v.authority {
                    Some(a) => view! {
                        <p>{crate::i18n::tf(crate::lang(), "apply.done.next", &[("authority", &a), ("time", &v.processing_time)])}</p>
                    }.into_any(),
                    None => view! {
                        <Alert kind=AlertKind::Warning title=tr("apply.done.unrouted_title")>
                            <p>{tr("apply.done.unrouted")}</p>
                        </Alert>
                    }.into_any(),
                }}
                <p>{tr("apply.done.mail")}</p>
                <ul class="kern-list">
                    <li><a class="kern-link" href=format!("/vorgaenge/{}/zusammenfassung", v.reference)>{tr("apply.done.summary")}</a></li>
                    <li><a class="kern-link" href="/konto/antraege">{tr("apply.mine.title")}</a></li>
                </ul>
            }
        },
    )
}

/// A printable copy of what was submitted.
pub fn summary(
    ctx: &PageCtx,
    reference: &str,
    service_title: &str,
    submitted: &str,
    sections: Vec<CheckSection>,
) -> String {
    let (reference, service_title, submitted) = (
        reference.to_string(),
        service_title.to_string(),
        submitted.to_string(),
    );
    render_page(
        ctx,
        &format!("{reference} – {service_title}"),
        move || {
            view! {
                <p class="kern-preline">{tr("apply.summary.preline")}</p>
                <h1>{service_title}</h1>
                <SummaryList rows=vec![
                    SummaryRow { key: tr("apply.summary.reference").into(), value: reference, change: None },
                    SummaryRow { key: tr("apply.summary.submitted").into(), value: submitted, change: None },
                ]/>
                {sections.into_iter().map(|s| {
                    let rows = s.rows.into_iter().map(|(k, v)| SummaryRow { key: k, value: v, change: None }).collect();
                    view! { <h2 class="kern-heading-medium">{s.title}</h2><SummaryList rows=rows/> }
                }).collect_view()}
            }
        },
    )
}
