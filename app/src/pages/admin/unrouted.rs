use leptos::prelude::*;

use super::{back, banner, cell, link_cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

/// An unrouted case: no answer content, only what is needed to find its postbox.
pub struct UnroutedRow {
    pub reference: String,
    pub service: String,
    pub ags: String,
    pub postal_code: String,
    pub submitted: String,
}

pub fn unrouted(ctx: &PageCtx, rows: Vec<UnroutedRow>, notice: Option<&'static str>) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.unrouted.title"),
        move || {
            let headers = vec![
                tr("admin.unrouted.reference").to_string(),
                tr("admin.unrouted.service").to_string(),
                tr("admin.unrouted.ags").to_string(),
                tr("admin.unrouted.postal_code").to_string(),
                tr("admin.unrouted.submitted").to_string(),
            ];
            let empty = rows.is_empty();
            let rows = rows
                .into_iter()
                .map(|r| {
                    vec![
                        link_cell(
                            format!("/verwaltung/admin/unzugeordnet/{}", r.reference),
                            r.reference,
                        ),
                        cell(r.service),
                        cell(r.ags),
                        cell(r.postal_code),
                        cell(r.submitted),
                    ]
                })
                .collect();
            view! {
                {back("/verwaltung/admin", "admin.back_overview")}
                <h1>{tr("admin.unrouted.title")}</h1>
                {banner(notice)}
                <p>{tr("admin.unrouted.intro")}</p>
                {if empty {
                    view! { <p>{tr("admin.unrouted.none")}</p> }.into_any()
                } else {
                    data_table(tr("admin.unrouted.caption").to_string(), headers, rows).into_any()
                }}
            }
        },
    )
}

pub struct RouteView {
    pub reference: String,
    pub service: String,
    pub ags: String,
    pub postal_code: String,
    pub submitted: String,
    /// (postbox id, "authority – postbox") of every postbox.
    pub postboxes: Vec<(String, String)>,
    /// What the responsibility rules say now, if anything ("authority – postbox").
    pub suggestion: Option<String>,
    pub state: FormState,
}

pub fn route(ctx: &PageCtx, v: RouteView) -> String {
    let title = crate::i18n::tf(
        ctx.lang,
        "admin.route.title",
        &[("reference", &v.reference)],
    );
    render_page(ctx, &title.clone(), move || {
        let s = v.state;
        let summary = vec![
            SummaryRow {
                key: tr("admin.unrouted.service").into(),
                value: v.service,
                change: None,
            },
            SummaryRow {
                key: tr("admin.unrouted.ags").into(),
                value: v.ags,
                change: None,
            },
            SummaryRow {
                key: tr("admin.unrouted.postal_code").into(),
                value: v.postal_code,
                change: None,
            },
            SummaryRow {
                key: tr("admin.unrouted.submitted").into(),
                value: v.submitted,
                change: None,
            },
        ];
        view! {
            {back("/verwaltung/admin/unzugeordnet", "admin.unrouted.back")}
            <h1>{title}</h1>
            <SummaryList rows=summary/>
            {v.suggestion.map(|sug| view! {
                <Alert kind=AlertKind::Info title=tr("admin.route.suggestion_title")>
                    <p>{crate::i18n::tf(crate::lang(), "admin.route.suggestion", &[("postbox", &sug)])}</p>
                </Alert>
            })}
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=format!("/verwaltung/admin/unzugeordnet/{}", v.reference) novalidate>
                <CsrfField/>
                <Select name="postbox" label=tr("admin.route.postbox") options=v.postboxes
                    selected=s.value("postbox") error=s.error("postbox") required=true/>
                <Button kind=ButtonKind::Primary label=tr("admin.route.submit")/>
            </form>
        }
    })
}
