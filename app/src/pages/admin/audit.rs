use leptos::prelude::*;

use super::{back, cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub client_ip: String,
}

pub struct AuditView {
    /// Filter values (`actor`, `action`, `subject`, `from`, `to`) and their problems.
    pub filter: FormState,
    pub rows: Vec<AuditRow>,
    /// The next (older) page with the same filters, if there is one.
    pub older_href: Option<String>,
    /// The first page with the same filters, when not on it.
    pub newest_href: Option<String>,
    pub export_href: String,
}

pub fn audit_log(ctx: &PageCtx, v: AuditView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.audit.title"),
        move || {
            let f = v.filter;
            let headers = vec![
                tr("admin.audit.at").to_string(),
                tr("admin.audit.actor").to_string(),
                tr("admin.audit.action").to_string(),
                tr("admin.audit.subject").to_string(),
                tr("admin.audit.detail").to_string(),
                tr("admin.audit.client_ip").to_string(),
            ];
            let empty = v.rows.is_empty();
            let lang = crate::lang();
            let rows = v
                .rows
                .into_iter()
                .map(|r| {
                    // Known actions get a readable label; the code stays visible for filtering.
                    let action = if crate::i18n::has_key(lang, &r.action) {
                        let label = tr(&r.action);
                        view! { {label}<br/><code>{r.action}</code> }.into_any()
                    } else {
                        view! { <code>{r.action}</code> }.into_any()
                    };
                    vec![
                        cell(r.at),
                        cell(r.actor),
                        action,
                        view! { <code>{r.subject}</code> }.into_any(),
                        cell(r.detail),
                        cell(r.client_ip),
                    ]
                })
                .collect();
            let has_errors = !f.errors.is_empty();
            view! {
                {back("/verwaltung/admin", "admin.back_overview")}
                <h1>{tr("admin.audit.title")}</h1>
                <p>{tr("admin.audit.intro")}</p>
                <ErrorSummary errors=f.errors.clone()/>
                <form method="get" action="/verwaltung/admin/protokoll" novalidate>
                    <TextInput name="actor" label=tr("admin.audit.actor") hint=tr("admin.audit.actor_hint")
                        value=f.value("actor") error=f.error("actor") max_length=254 autocomplete="off"/>
                    <TextInput name="action" label=tr("admin.audit.action") hint=tr("admin.audit.action_hint")
                        value=f.value("action") error=f.error("action") max_length=100 autocomplete="off"/>
                    <TextInput name="subject" label=tr("admin.audit.subject_id") value=f.value("subject")
                        error=f.error("subject") max_length=100 autocomplete="off"/>
                    <TextInput name="from" label=tr("admin.audit.from") hint=tr("admin.audit.date_hint")
                        value=f.value("from") error=f.error("from") max_length=10 width="10" autocomplete="off"/>
                    <TextInput name="to" label=tr("admin.audit.to") hint=tr("admin.audit.date_hint")
                        value=f.value("to") error=f.error("to") max_length=10 width="10" autocomplete="off"/>
                    <Button kind=ButtonKind::Primary label=tr("admin.audit.filter")/>
                </form>
                {(!has_errors).then(|| view! {
                    <p><a class="kern-link" href=v.export_href download>{tr("admin.audit.export_link")}</a></p>
                })}
                {if empty {
                    view! { <p>{tr("admin.audit.none")}</p> }.into_any()
                } else {
                    data_table(tr("admin.audit.caption").to_string(), headers, rows).into_any()
                }}
                {(v.newest_href.is_some() || v.older_href.is_some()).then(|| view! {
                    <nav aria-label=tr("admin.audit.pages")>
                        <ul class="kern-list">
                            {v.newest_href.map(|h| view! { <li><a class="kern-link" href=h>{tr("admin.audit.newest")}</a></li> })}
                            {v.older_href.map(|h| view! { <li><a class="kern-link" href=h>{tr("admin.audit.older")}</a></li> })}
                        </ul>
                    </nav>
                })}
            }
        },
    )
}
