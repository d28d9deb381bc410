//! Administration pages: authorities (with the account fee notices name), postboxes (with their
//! fee notice template) and their members, staff accounts, responsibility rules with a test
//! lookup, services and their versions, unrouted cases and the audit log. Handlers pass plain
//! data; every page links back to the overview.

mod api_keys;
mod audit;
mod authorities;
mod payee;
mod postboxes;
mod retention;
mod rules;
mod services;
mod staff;
mod unrouted;
mod webhooks;

pub use api_keys::{api_keys, ApiKeyRow, ApiKeysView};
pub use audit::{audit_log, AuditRow, AuditView};
pub use authorities::{authorities, authority, authority_form, AuthorityDetail, AuthorityRow};
pub use payee::{fee_template_form, payee_form, FeeTemplateSummary, PayeeAccount, PayeeSummary};
pub use postboxes::{postbox, postbox_form, MemberRow, PostboxDetail, PostboxRow};
pub use retention::{retention_form, retention_summary};
pub use rules::{lookup, rules, LookupResult, LookupView, RuleRow, RulesView};
pub use services::{import, services, ServiceRow, VersionRow};
pub use staff::{staff, staff_form, StaffRow};
pub use unrouted::{route, unrouted, RouteView, UnroutedRow};
pub use webhooks::{
    webhook_deliveries, webhooks, DeliveriesView, DeliveryRow, WebhookRow, WebhooksView,
};

use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, PageCtx};

/// Figures shown on the overview, so that work waiting for an administrator is visible.
pub struct Overview {
    pub authorities: i64,
    pub staff: i64,
    pub services: i64,
    pub unrouted: i64,
}

pub fn overview(ctx: &PageCtx, o: Overview) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.overview.title"),
        move || {
            let n = |key: &str, count: i64| {
                crate::i18n::tf(crate::lang(), key, &[("count", &count.to_string())])
            };
            view! {
                <h1>{tr("admin.overview.title")}</h1>
                <p>{tr("admin.overview.intro")}</p>
                {(o.unrouted > 0).then(|| view! {
                    <Alert kind=AlertKind::Warning title=tr("admin.overview.unrouted_title")>
                        <p>{n("admin.overview.unrouted_text", o.unrouted)}</p>
                        <p><a class="kern-link" href="/verwaltung/admin/unzugeordnet">{tr("admin.unrouted.title")}</a></p>
                    </Alert>
                })}
                <ul class="kern-list aw-stack">
                    <li>
                        <a class="kern-link" href="/verwaltung/admin/behoerden">{tr("admin.authorities.title")}</a>
                        <br/><span class="aw-muted">{n("admin.overview.authorities", o.authorities)}</span>
                    </li>
                    <li>
                        <a class="kern-link" href="/verwaltung/admin/mitarbeitende">{tr("admin.staff.title")}</a>
                        <br/><span class="aw-muted">{n("admin.overview.staff", o.staff)}</span>
                    </li>
                    <li>
                        <a class="kern-link" href="/verwaltung/admin/zustaendigkeiten">{tr("admin.rules.title")}</a>
                        <br/><span class="aw-muted">{tr("admin.overview.rules")}</span>
                    </li>
                    <li>
                        <a class="kern-link" href="/verwaltung/admin/leistungen">{tr("admin.services.title")}</a>
                        <br/><span class="aw-muted">{n("admin.overview.services", o.services)}</span>
                    </li>
                    <li>
                        <a class="kern-link" href="/verwaltung/admin/unzugeordnet">{tr("admin.unrouted.title")}</a>
                        <br/><span class="aw-muted">{n("admin.overview.unrouted", o.unrouted)}</span>
                    </li>
                    <li>
                        <a class="kern-link" href="/verwaltung/admin/protokoll">{tr("admin.audit.title")}</a>
                        <br/><span class="aw-muted">{tr("admin.overview.audit")}</span>
                    </li>
                </ul>
            }
        },
    )
}

/// The link back to a parent page, first on every administration page.
fn back(href: &str, key: &str) -> impl IntoView {
    let href = href.to_string();
    view! { <p><a class="aw-back-link" href=href>{tr(key)}</a></p> }
}

/// A success message after a redirect, by translation key.
fn banner(key: Option<&'static str>) -> impl IntoView {
    key.map(|k| {
        view! {
            <Alert kind=AlertKind::Success title=tr("admin.done.title") announce=true>
                <p>{tr(k)}</p>
            </Alert>
        }
    })
}

/// Plain text as a table cell.
fn cell(s: impl Into<String>) -> AnyView {
    let s: String = s.into();
    view! { {s} }.into_any()
}

/// A link as a table cell.
fn link_cell(href: String, text: String) -> AnyView {
    view! { <a class="kern-link" href=href>{text}</a> }.into_any()
}

/// A one-button form as a table cell; `context` tells screen reader users which row it acts on.
fn button_cell(action: String, label: &'static str, context: String) -> AnyView {
    view! {
        <form method="post" action=action>
            <CsrfField/>
            <button type="submit" class="aw-btn-link">{label}<span class="aw-sr-only">{format!(" {context}")}</span></button>
        </form>
    }
    .into_any()
}
