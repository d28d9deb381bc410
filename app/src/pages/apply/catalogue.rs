use leptos::either::Either;
use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, PageCtx};

#[derive(Clone, Debug)]
pub struct Card {
    pub key: String,
    pub title: String,
    pub summary: String,
}

pub struct CatalogueView {
    pub query: String,
    pub situation: String,
    pub situations: Vec<(String, String)>,
    pub results: Vec<Card>,
}

pub fn catalogue(ctx: &PageCtx, v: CatalogueView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "apply.catalogue.title"),
        move || {
            let count = crate::i18n::tf(
                crate::lang(),
                "apply.catalogue.count",
                &[("n", &v.results.len().to_string())],
            );
            view! {
                <h1>{tr("apply.catalogue.title")}</h1>
                <form method="get" action="/leistungen" role="search" class="aw-search">
                    <TextInput name="q" label=tr("apply.catalogue.search") value=v.query.clone() hint=tr("apply.catalogue.search_hint") required=true max_length=100 input_type="search"/>
                    <Select name="lage" label=tr("apply.catalogue.situation") options=v.situations.clone() selected=v.situation.clone()/>
                    <Button kind=ButtonKind::Secondary label=tr("apply.catalogue.submit")/>
                </form>
                <h2 aria-live="polite">{count}</h2>
                {if v.results.is_empty() {
                    Either::Left(view! { <p>{tr("apply.catalogue.none")}</p> })
                } else {
                    Either::Right(view! { <ul class="aw-card-list">{v.results.into_iter().map(card).collect_view()}</ul> })
                }}
            }
        },
    )
}

fn card(c: Card) -> impl IntoView {
    view! {
        <li class="kern-card kern-card--interactive aw-card" data-service-key=c.key.clone()>
            <div class="kern-card__container">
                <div class="kern-card__header">
                    <h3 class="kern-title"><a class="kern-link kern-link--stretched" href=format!("/leistungen/{}", c.key)>{c.title}</a></h3>
                </div>
                <div class="kern-card__body"><p>{c.summary}</p></div>
            </div>
        </li>
    }
}

/// Outcome of the "who is responsible for my address?" check on the service page.
#[derive(Clone, Debug)]
pub enum Responsibility {
    NotChecked,
    InvalidPostalCode,
    UnknownPostalCode,
    ChooseMunicipality(Vec<(String, String)>),
    Found {
        authority: String,
        postbox: String,
        delegated: bool,
    },
    NoneResponsible,
}

pub struct ServiceView {
    pub key: String,
    pub title: String,
    pub summary: String,
    pub details: Vec<(String, String)>,
    pub postal_code: String,
    pub responsibility: Responsibility,
    pub logged_in: bool,
    pub has_profile: bool,
}

pub fn service(ctx: &PageCtx, v: ServiceView) -> String {
    render_page(ctx, &v.title.clone(), move || {
        let rows = v
            .details
            .into_iter()
            .map(|(k, val)| SummaryRow {
                key: k,
                value: val,
                change: None,
            })
            .collect();
        let start_action = format!("/leistungen/{}/antrag", v.key);
        let login_href = format!("/anmelden?next=/leistungen/{}", v.key);
        let blocked = matches!(v.responsibility, Responsibility::NoneResponsible);
        let check_error = match &v.responsibility {
            Responsibility::InvalidPostalCode => Some(tr("error.postal_code.invalid").to_string()),
            Responsibility::UnknownPostalCode => Some(tr("error.postal_code.unknown").to_string()),
            _ => None,
        };
        let result = match v.responsibility.clone() {
            Responsibility::Found { authority, postbox, delegated } => Some(view! {
                <Alert kind=AlertKind::Success title=tr("apply.service.responsible") announce=true>
                    <p><strong>{authority}</strong>{format!(" – {postbox}")}</p>
                    {delegated.then(|| view! { <p>{tr("apply.service.delegated")}</p> })}
                </Alert>
            }.into_any()),
            Responsibility::NoneResponsible => Some(view! {
                <Alert kind=AlertKind::Warning title=tr("apply.service.none_title") announce=true>
                    <p>{tr("apply.service.none_text")}</p>
                </Alert>
            }.into_any()),
            _ => None,
        };
        let choose = match &v.responsibility {
            Responsibility::ChooseMunicipality(list) => Some(list.clone()),
            _ => None,
        };
        view! {
            <p><a class="aw-back-link" href="/leistungen">{tr("apply.service.back")}</a></p>
            <h1>{v.title.clone()}</h1>
            <p class="aw-lead">{v.summary}</p>
            <SummaryList rows=rows/>
            <h2>{tr("apply.service.check_title")}</h2>
            <p>{tr("apply.service.check_text")}</p>
            <form method="get" action=format!("/leistungen/{}", v.key) novalidate>
                <TextInput name="plz" label=tr("profile.postal_code") value=v.postal_code.clone() width="5"
                    inputmode="numeric" autocomplete="postal-code" max_length=5 required=true error=check_error/>
                {choose.map(|list| view! {
                    <Radios name="ags" legend=tr("profile.municipality") hint=tr("profile.municipality_hint") options=list/>
                })}
                <Button kind=ButtonKind::Secondary label=tr("apply.service.check_submit")/>
            </form>
            {result}
            <h2>{tr("apply.service.apply_title")}</h2>
            {if blocked {
                view! { <p>{tr("apply.service.cannot_apply")}</p> }.into_any()
            } else if v.logged_in {
                view! {
                    <form method="post" action=start_action>
                        <CsrfField/>
                        {v.has_profile.then(|| view! {
                            <Checkboxes name="prefill" legend=tr("apply.service.prefill_legend")
                                options=vec![("yes".to_string(), tr("apply.service.prefill").to_string())]
                                checked=vec!["yes".to_string()] hint=tr("apply.service.prefill_hint")/>
                        })}
                        <Button kind=ButtonKind::Primary label=tr("apply.service.start")/>
                    </form>
                }.into_any()
            } else {
                view! {
                    <p>{tr("apply.service.login_needed")}</p>
                    <p><a class="kern-btn kern-btn--primary" href=login_href><span class="kern-label">{tr("apply.service.login")}</span></a></p>
                }.into_any()
            }}
        }
    })
}
