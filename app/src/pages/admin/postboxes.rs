use leptos::prelude::*;

use super::payee::{fee_template_section, FeeTemplateSummary};
use super::{back, banner, button_cell, cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct PostboxRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub days: i64,
    pub members: i64,
}

/// The form for a new postbox of an authority, or changes to one.
pub fn postbox_form(
    ctx: &PageCtx,
    state: &FormState,
    authority_name: &str,
    action: &str,
    back_href: &str,
    editing: bool,
) -> String {
    let (s, authority_name, action, back_href) = (
        state.clone(),
        authority_name.to_string(),
        action.to_string(),
        back_href.to_string(),
    );
    let title_key = if editing {
        "admin.postboxes.edit_title"
    } else {
        "admin.postboxes.new_title"
    };
    render_page(ctx, crate::i18n::t(ctx.lang, title_key), move || {
        view! {
            {back(&back_href, "form.back")}
            <p class="kern-preline">{authority_name}</p>
            <h1>{tr(title_key)}</h1>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=action novalidate>
                <CsrfField/>
                <TextInput name="name" label=tr("admin.postboxes.name") value=s.value("name")
                    error=s.error("name") required=true max_length=200/>
                <TextInput name="email" label=tr("admin.postboxes.email") input_type="email" value=s.value("email")
                    error=s.error("email") required=true max_length=254/>
                <TextInput name="processing_days" label=tr("admin.postboxes.days") hint=tr("admin.postboxes.days_hint")
                    value=s.value("processing_days") error=s.error("processing_days") required=true
                    max_length=3 inputmode="numeric" width="5"/>
                <Button kind=ButtonKind::Primary label=tr("admin.save")/>
            </form>
        }
    })
}

pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    /// `caseworker` or `lead`.
    pub role: String,
}

pub struct PostboxDetail {
    pub id: String,
    pub name: String,
    pub email: String,
    pub days: i64,
    pub authority_id: String,
    pub authority_name: String,
    pub members: Vec<MemberRow>,
    /// Staff accounts that are not yet members: (user id, address).
    pub candidates: Vec<(String, String)>,
    pub fee_template: FeeTemplateSummary,
}

fn member_roles() -> Vec<(String, String)> {
    vec![
        (
            "caseworker".to_string(),
            tr("admin.members.role_caseworker").to_string(),
        ),
        (
            "lead".to_string(),
            tr("admin.members.role_lead").to_string(),
        ),
    ]
}

/// A postbox with its members; `add` carries what was entered in the add-member form.
pub fn postbox(
    ctx: &PageCtx,
    p: PostboxDetail,
    add: &FormState,
    notice: Option<&'static str>,
) -> String {
    let (title, add) = (p.name.clone(), add.clone());
    render_page(ctx, &title, move || {
        let base = format!("/verwaltung/admin/postfaecher/{}", p.id);
        let summary = vec![
            SummaryRow {
                key: tr("admin.postboxes.authority").into(),
                value: p.authority_name.clone(),
                change: None,
            },
            SummaryRow {
                key: tr("admin.postboxes.email").into(),
                value: p.email.clone(),
                change: None,
            },
            SummaryRow {
                key: tr("admin.postboxes.days").into(),
                value: p.days.to_string(),
                change: None,
            },
        ];
        let headers = vec![
            tr("admin.members.email").to_string(),
            tr("admin.members.role").to_string(),
            tr("admin.members.remove").to_string(),
        ];
        let empty = p.members.is_empty();
        let rows = p
            .members
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let select_id = format!("member-role-{i}");
                let options = member_roles();
                let change = view! {
                    <form method="post" action=format!("{base}/mitglieder/{}/rolle", m.user_id)>
                        <CsrfField/>
                        <label class="aw-sr-only" for=select_id.clone()>
                            {crate::i18n::tf(crate::lang(), "admin.members.role_of", &[("email", &m.email)])}
                        </label>
                        <select class="kern-form-input__select" id=select_id name="role">
                            {options.into_iter().map(|(v, l)| {
                                let sel = v == m.role;
                                view! { <option value=v selected=sel>{l}</option> }
                            }).collect_view()}
                        </select>
                        " "
                        <button type="submit" class="aw-btn-link">{tr("admin.members.change")}
                            <span class="aw-sr-only">{format!(" {}", m.email)}</span></button>
                    </form>
                }
                .into_any();
                vec![
                    cell(m.email.clone()),
                    change,
                    button_cell(
                        format!("{base}/mitglieder/{}/entfernen", m.user_id),
                        tr("admin.members.remove"),
                        m.email,
                    ),
                ]
            })
            .collect();
        let no_candidates = p.candidates.is_empty();
        view! {
            {back(&format!("/verwaltung/admin/behoerden/{}", p.authority_id), "admin.postboxes.back")}
            <p class="kern-preline">{p.authority_name.clone()}</p>
            <h1>{p.name.clone()}</h1>
            {banner(notice)}
            <SummaryList rows=summary/>
            <p><a class="kern-link" href=format!("{base}/bearbeiten")>
                {tr("admin.postboxes.edit")}<span class="aw-sr-only">{format!(" {}", p.name)}</span>
            </a></p>
            {fee_template_section(&base, &p.name, p.fee_template)}
            {super::webhooks::webhooks_section(&base, &p.name)}
            {super::api_keys::api_keys_section(&base, &p.name)}
            <h2 class="kern-heading-medium">{tr("admin.members.title")}</h2>
            {if empty {
                view! { <p>{tr("admin.members.none")}</p> }.into_any()
            } else {
                data_table(tr("admin.members.caption").to_string(), headers, rows).into_any()
            }}
            <h2 class="kern-heading-medium">{tr("admin.members.add_title")}</h2>
            {if no_candidates {
                view! {
                    <p>{tr("admin.members.no_candidates")}" "
                        <a class="kern-link" href="/verwaltung/admin/mitarbeitende/neu">{tr("admin.staff.new")}</a></p>
                }.into_any()
            } else {
                view! {
                    <ErrorSummary errors=add.errors.clone()/>
                    <form method="post" action=format!("{base}/mitglieder") novalidate>
                        <CsrfField/>
                        <Select name="user" label=tr("admin.members.account") options=p.candidates.clone()
                            selected=add.value("user") error=add.error("user") required=true/>
                        <Radios name="role" legend=tr("admin.members.role") options=member_roles()
                            selected=add.value("role") error=add.error("role")/>
                        <Button kind=ButtonKind::Primary label=tr("admin.members.add")/>
                    </form>
                }.into_any()
            }}
        }
    })
}
