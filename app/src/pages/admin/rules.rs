use leptos::prelude::*;

use super::{back, banner, button_cell, cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct RuleRow {
    pub id: String,
    pub service: String,
    /// `postal_code`, `municipality`, `county` or `state`.
    pub kind: String,
    pub code: String,
    pub postbox: String,
}

pub struct RulesView {
    /// (service key, title) of every service.
    pub services: Vec<(String, String)>,
    /// The service the list is filtered by (empty: all).
    pub filter: String,
    pub rules: Vec<RuleRow>,
    /// More rules matched than are shown.
    pub truncated: bool,
    /// (postbox id, "authority – postbox") of every postbox.
    pub postboxes: Vec<(String, String)>,
    /// What was entered in the add form, with its problems.
    pub add: FormState,
    pub notice: Option<&'static str>,
}

fn area_kinds() -> Vec<(String, String)> {
    ["postal_code", "municipality", "county", "state"]
        .into_iter()
        .map(|k| (k.to_string(), tr(&format!("admin.area.{k}")).to_string()))
        .collect()
}

pub fn rules(ctx: &PageCtx, v: RulesView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.rules.title"),
        move || {
            let headers = vec![
                tr("admin.rules.service").to_string(),
                tr("admin.rules.area_kind").to_string(),
                tr("admin.rules.area_code").to_string(),
                tr("admin.rules.postbox").to_string(),
                tr("admin.rules.delete").to_string(),
            ];
            let empty = v.rules.is_empty();
            let rows = v
                .rules
                .into_iter()
                .map(|r| {
                    let kind = tr(&format!("admin.area.{}", r.kind)).to_string();
                    let context = format!("{} {} {}", r.service, kind, r.code);
                    vec![
                        cell(r.service),
                        cell(kind),
                        cell(r.code),
                        cell(r.postbox),
                        button_cell(
                            format!("/verwaltung/admin/zustaendigkeiten/{}/loeschen", r.id),
                            tr("admin.rules.delete"),
                            context,
                        ),
                    ]
                })
                .collect();
            let add = v.add;
            view! {
                {back("/verwaltung/admin", "admin.back_overview")}
                <h1>{tr("admin.rules.title")}</h1>
                {banner(v.notice)}
                <p>{tr("admin.rules.intro")}</p>
                <p><a class="kern-link" href="/verwaltung/admin/zustaendigkeiten/pruefen">{tr("admin.lookup.title")}</a></p>
                <form method="get" action="/verwaltung/admin/zustaendigkeiten">
                    <Select name="leistung" label=tr("admin.rules.filter") hint=tr("admin.rules.filter_hint")
                        options=v.services.clone() selected=v.filter.clone()/>
                    <Button kind=ButtonKind::Secondary label=tr("admin.rules.show")/>
                </form>
                {if empty {
                    view! { <p>{tr("admin.rules.none")}</p> }.into_any()
                } else {
                    data_table(tr("admin.rules.caption").to_string(), headers, rows).into_any()
                }}
                {v.truncated.then(|| view! { <p class="aw-muted">{tr("admin.rules.truncated")}</p> })}
                <h2 class="kern-heading-medium">{tr("admin.rules.add_title")}</h2>
                <ErrorSummary errors=add.errors.clone()/>
                <form method="post" action="/verwaltung/admin/zustaendigkeiten" novalidate>
                    <CsrfField/>
                    <Select name="service" label=tr("admin.rules.service") options=v.services
                        selected=add.value("service") error=add.error("service") required=true/>
                    <Radios name="area_kind" legend=tr("admin.rules.area_kind") options=area_kinds()
                        selected=add.value("area_kind") error=add.error("area_kind")/>
                    <TextInput name="area_code" label=tr("admin.rules.area_code") hint=tr("admin.rules.area_code_hint")
                        value=add.value("area_code") error=add.error("area_code") required=true max_length=8
                        inputmode="numeric" width="10"/>
                    <Select name="postbox" label=tr("admin.rules.postbox") options=v.postboxes
                        selected=add.value("postbox") error=add.error("postbox") required=true/>
                    <Button kind=ButtonKind::Primary label=tr("admin.rules.add")/>
                </form>
            }
        },
    )
}

/// What the test lookup found.
pub enum LookupResult {
    Found {
        authority: String,
        postbox: String,
        /// The kind of rule that matched (`postal_code`, …).
        matched: String,
        delegated: bool,
    },
    Nobody,
}

pub struct LookupView {
    pub services: Vec<(String, String)>,
    /// Entered values (`leistung`, `plz`, `ags`) and their problems.
    pub state: FormState,
    /// Municipalities to choose from when the postal code covers several.
    pub municipalities: Vec<(String, String)>,
    pub result: Option<LookupResult>,
}

pub fn lookup(ctx: &PageCtx, v: LookupView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.lookup.title"),
        move || {
            let s = v.state;
            let result = v.result.map(|r| match r {
                LookupResult::Found {
                    authority,
                    postbox,
                    matched,
                    delegated,
                } => {
                    let rule = tr(&format!("admin.area.{matched}")).to_string();
                    view! {
                        <Alert kind=AlertKind::Success title=tr("admin.lookup.found_title") announce=true>
                            <p>{crate::i18n::tf(crate::lang(), "admin.lookup.found", &[("authority", &authority), ("postbox", &postbox)])}</p>
                            <p>{crate::i18n::tf(crate::lang(), "admin.lookup.matched", &[("kind", &rule)])}</p>
                            {delegated.then(|| view! { <p>{tr("admin.lookup.delegated")}</p> })}
                        </Alert>
                    }
                    .into_any()
                }
                LookupResult::Nobody => view! {
                    <Alert kind=AlertKind::Warning title=tr("admin.lookup.none_title") announce=true>
                        <p>{tr("admin.lookup.none")}</p>
                    </Alert>
                }
                .into_any(),
            });
            let choose = !v.municipalities.is_empty();
            view! {
                {back("/verwaltung/admin/zustaendigkeiten", "admin.rules.back")}
                <h1>{tr("admin.lookup.title")}</h1>
                <p>{tr("admin.lookup.intro")}</p>
                {result}
                <ErrorSummary errors=s.errors.clone()/>
                <form method="get" action="/verwaltung/admin/zustaendigkeiten/pruefen" novalidate>
                    <Select name="leistung" label=tr("admin.rules.service") options=v.services
                        selected=s.value("leistung") error=s.error("leistung") required=true/>
                    <TextInput name="plz" label=tr("admin.lookup.postal_code") value=s.value("plz")
                        error=s.error("plz") required=true max_length=5 inputmode="numeric" width="5"/>
                    {choose.then(|| view! {
                        <Radios name="ags" legend=tr("admin.lookup.municipality") hint=tr("admin.lookup.municipality_hint")
                            options=v.municipalities.clone() selected=s.value("ags") error=s.error("ags")/>
                    })}
                    <Button kind=ButtonKind::Primary label=tr("admin.lookup.submit")/>
                </form>
            }
        },
    )
}
