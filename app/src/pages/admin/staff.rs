use leptos::prelude::*;

use super::{back, banner, button_cell, cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct StaffRow {
    pub id: String,
    pub email: String,
    /// `caseworker` or `admin`.
    pub role: String,
    pub lang: String,
    /// Names of the postboxes the account works in.
    pub postboxes: Vec<String>,
    /// Whether the account has set up its second factor.
    pub two_factor: bool,
    /// The viewer may reset it (not for their own account).
    pub two_factor_resettable: bool,
}

pub fn staff(ctx: &PageCtx, rows: Vec<StaffRow>, notice: Option<&'static str>) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.staff.title"),
        move || {
            let headers = vec![
                tr("admin.staff.email").to_string(),
                tr("admin.staff.role").to_string(),
                tr("admin.staff.lang").to_string(),
                tr("admin.staff.postboxes").to_string(),
                tr("twofactor.admin.column").to_string(),
                tr("admin.staff.link").to_string(),
            ];
            let empty = rows.is_empty();
            let rows = rows
                .into_iter()
                .map(|s| {
                    vec![
                        cell(s.email.clone()),
                        cell(tr(&format!("role.{}", s.role))),
                        cell(tr(&format!("admin.lang.{}", s.lang))),
                        cell(if s.postboxes.is_empty() {
                            tr("admin.staff.no_postbox").to_string()
                        } else {
                            s.postboxes.join(", ")
                        }),
                        two_factor_cell(&s),
                        button_cell(
                            format!("/verwaltung/admin/mitarbeitende/{}/link", s.id),
                            tr("admin.staff.send_link"),
                            s.email,
                        ),
                    ]
                })
                .collect();
            view! {
                {back("/verwaltung/admin", "admin.back_overview")}
                <h1>{tr("admin.staff.title")}</h1>
                {banner(notice)}
                <p>{tr("admin.staff.intro")}</p>
                <p><a class="kern-btn kern-btn--secondary" href="/verwaltung/admin/mitarbeitende/neu">
                    <span class="kern-label">{tr("admin.staff.new")}</span>
                </a></p>
                {if empty {
                    view! { <p>{tr("admin.staff.none")}</p> }.into_any()
                } else {
                    data_table(tr("admin.staff.caption").to_string(), headers, rows).into_any()
                }}
            }
        },
    )
}

pub fn staff_form(ctx: &PageCtx, state: &FormState) -> String {
    let s = state.clone();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.staff.new_title"),
        move || {
            let roles = vec![
                ("caseworker".to_string(), tr("role.caseworker").to_string()),
                ("admin".to_string(), tr("role.admin").to_string()),
            ];
            let langs = vec![
                ("de".to_string(), tr("admin.lang.de").to_string()),
                ("en".to_string(), tr("admin.lang.en").to_string()),
            ];
            view! {
                {back("/verwaltung/admin/mitarbeitende", "form.back")}
                <h1>{tr("admin.staff.new_title")}</h1>
                <p>{tr("admin.staff.new_intro")}</p>
                <ErrorSummary errors=s.errors.clone()/>
                <form method="post" action="/verwaltung/admin/mitarbeitende/neu" novalidate>
                    <CsrfField/>
                    <TextInput name="email" label=tr("admin.staff.email") input_type="email" value=s.value("email")
                        error=s.error("email") required=true max_length=254 autocomplete="off"/>
                    <Radios name="role" legend=tr("admin.staff.role") options=roles
                        selected=s.value("role") error=s.error("role")/>
                    <Radios name="lang" legend=tr("admin.staff.lang") options=langs
                        selected=s.value("lang") error=s.error("lang") inline=true/>
                    <Button kind=ButtonKind::Primary label=tr("admin.staff.submit")/>
                </form>
            }
        },
    )
}

/// The second factor's state, with the reset button where the viewer may use it.
fn two_factor_cell(s: &StaffRow) -> AnyView {
    let state = tr(if s.two_factor {
        "twofactor.admin.on"
    } else {
        "twofactor.admin.off"
    });
    if !s.two_factor_resettable {
        return cell(state);
    }
    let action = format!(
        "/verwaltung/admin/mitarbeitende/{}/zwei-faktor-zuruecksetzen",
        s.id
    );
    let context = format!(" {}", s.email);
    view! {
        {state}
        <form method="post" action=action>
            <CsrfField/>
            <button type="submit" class="aw-btn-link">{tr("twofactor.admin.reset")}<span class="aw-sr-only">{context}</span></button>
        </form>
    }
    .into_any()
}
