use leptos::prelude::*;

use super::payee::{payee_section, PayeeSummary};
use super::{back, banner, cell, link_cell, PostboxRow};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct AuthorityRow {
    pub id: String,
    pub name: String,
    pub ags: String,
    pub city: String,
    pub postboxes: i64,
}

pub fn authorities(ctx: &PageCtx, rows: Vec<AuthorityRow>, notice: Option<&'static str>) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.authorities.title"),
        move || {
            let headers = vec![
                tr("admin.authorities.name").to_string(),
                tr("admin.authorities.ags").to_string(),
                tr("admin.authorities.city").to_string(),
                tr("admin.authorities.postboxes").to_string(),
            ];
            let empty = rows.is_empty();
            let rows = rows
                .into_iter()
                .map(|a| {
                    vec![
                        link_cell(format!("/verwaltung/admin/behoerden/{}", a.id), a.name),
                        cell(a.ags),
                        cell(a.city),
                        cell(a.postboxes.to_string()),
                    ]
                })
                .collect();
            view! {
                {back("/verwaltung/admin", "admin.back_overview")}
                <h1>{tr("admin.authorities.title")}</h1>
                {banner(notice)}
                <p><a class="kern-btn kern-btn--secondary" href="/verwaltung/admin/behoerden/neu">
                    <span class="kern-label">{tr("admin.authorities.new")}</span>
                </a></p>
                {if empty {
                    view! { <p>{tr("admin.authorities.none")}</p> }.into_any()
                } else {
                    data_table(tr("admin.authorities.caption").to_string(), headers, rows).into_any()
                }}
            }
        },
    )
}

/// The form for a new authority (`editing` false) or changes to one.
pub fn authority_form(ctx: &PageCtx, state: &FormState, action: &str, editing: bool) -> String {
    let (s, action) = (state.clone(), action.to_string());
    let title_key = if editing {
        "admin.authorities.edit_title"
    } else {
        "admin.authorities.new_title"
    };
    let back_href = if editing {
        action.trim_end_matches("/bearbeiten").to_string()
    } else {
        "/verwaltung/admin/behoerden".to_string()
    };
    render_page(ctx, crate::i18n::t(ctx.lang, title_key), move || {
        view! {
            {back(&back_href, "form.back")}
            <h1>{tr(title_key)}</h1>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=action novalidate>
                <CsrfField/>
                <TextInput name="name" label=tr("admin.authorities.name") value=s.value("name")
                    error=s.error("name") required=true max_length=200 autocomplete="organization"/>
                <TextInput name="ags" label=tr("admin.authorities.ags") hint=tr("admin.authorities.ags_hint")
                    value=s.value("ags") error=s.error("ags") required=true max_length=8 inputmode="numeric" width="10"/>
                <TextInput name="street" label=tr("admin.authorities.street") value=s.value("street")
                    error=s.error("street") required=true max_length=200 autocomplete="street-address"/>
                <TextInput name="postal_code" label=tr("admin.authorities.postal_code") value=s.value("postal_code")
                    error=s.error("postal_code") required=true max_length=5 inputmode="numeric" width="5" autocomplete="postal-code"/>
                <TextInput name="city" label=tr("admin.authorities.city") value=s.value("city")
                    error=s.error("city") required=true max_length=200 autocomplete="address-level2"/>
                <TextInput name="email" label=tr("admin.authorities.email") input_type="email" value=s.value("email")
                    error=s.error("email") required=true max_length=254 autocomplete="email"/>
                <TextInput name="phone" label=tr("admin.authorities.phone") input_type="tel" value=s.value("phone")
                    error=s.error("phone") max_length=30 autocomplete="tel" width="20"/>
                <Button kind=ButtonKind::Primary label=tr("admin.save")/>
            </form>
        }
    })
}

pub struct AuthorityDetail {
    pub id: String,
    pub name: String,
    pub ags: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub email: String,
    pub phone: String,
    pub postboxes: Vec<PostboxRow>,
    pub payee: PayeeSummary,
}

pub fn authority(ctx: &PageCtx, a: AuthorityDetail, notice: Option<&'static str>) -> String {
    let title = a.name.clone();
    render_page(ctx, &title, move || {
        let base = format!("/verwaltung/admin/behoerden/{}", a.id);
        let summary = vec![
            SummaryRow {
                key: tr("admin.authorities.ags").into(),
                value: a.ags.clone(),
                change: None,
            },
            SummaryRow {
                key: tr("admin.authorities.address").into(),
                value: format!("{}, {} {}", a.street, a.postal_code, a.city),
                change: None,
            },
            SummaryRow {
                key: tr("admin.authorities.email").into(),
                value: a.email.clone(),
                change: None,
            },
            SummaryRow {
                key: tr("admin.authorities.phone").into(),
                value: a.phone.clone(),
                change: None,
            },
        ];
        let headers = vec![
            tr("admin.postboxes.name").to_string(),
            tr("admin.postboxes.email").to_string(),
            tr("admin.postboxes.days").to_string(),
            tr("admin.postboxes.members").to_string(),
        ];
        let empty = a.postboxes.is_empty();
        let rows = a
            .postboxes
            .into_iter()
            .map(|p| {
                vec![
                    link_cell(format!("/verwaltung/admin/postfaecher/{}", p.id), p.name),
                    cell(p.email),
                    cell(p.days.to_string()),
                    cell(p.members.to_string()),
                ]
            })
            .collect();
        view! {
            {back("/verwaltung/admin/behoerden", "admin.authorities.back")}
            <p class="kern-preline">{tr("admin.authorities.preline")}</p>
            <h1>{a.name.clone()}</h1>
            {banner(notice)}
            <SummaryList rows=summary/>
            <p><a class="kern-link" href=format!("{base}/bearbeiten")>
                {tr("admin.authorities.edit")}<span class="aw-sr-only">{format!(" {}", a.name)}</span>
            </a></p>
            {payee_section(&base, &a.name, a.payee)}
            <h2 class="kern-heading-medium">{tr("admin.postboxes.title")}</h2>
            <p><a class="kern-btn kern-btn--secondary" href=format!("{base}/postfaecher/neu")>
                <span class="kern-label">{tr("admin.postboxes.new")}</span>
            </a></p>
            {if empty {
                view! { <p>{tr("admin.postboxes.none")}</p> }.into_any()
            } else {
                data_table(tr("admin.postboxes.caption").to_string(), headers, rows).into_any()
            }}
        }
    })
}
