//! How long closed cases of a service are kept: the service's own period or the deployment's
//! default.

use leptos::prelude::*;

use super::back;
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

/// The retention line under a service in the list, with the link to change it.
pub fn retention_summary(
    key: &str,
    title: &str,
    days: Option<i64>,
    default_days: i64,
) -> impl IntoView {
    let text = match days {
        Some(d) => crate::i18n::tf(
            crate::lang(),
            "retention.summary_own",
            &[("days", &d.to_string())],
        ),
        None => crate::i18n::tf(
            crate::lang(),
            "retention.summary_default",
            &[("days", &default_days.to_string())],
        ),
    };
    let href = format!("/verwaltung/admin/leistungen/{key}/aufbewahrung");
    let title = title.to_string();
    view! {
        <p>
            {text}" "
            <a class="kern-link" href=href>
                {tr("retention.edit")}<span class="aw-sr-only">{format!(" {title}")}</span>
            </a>
        </p>
    }
}

/// The form; `action` is also the page's address. An empty field means the default.
pub fn retention_form(
    ctx: &PageCtx,
    state: &FormState,
    service_title: &str,
    default_days: i64,
    action: &str,
) -> String {
    let (s, title, action) = (state.clone(), service_title.to_string(), action.to_string());
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "retention.title"),
        move || {
            let hint = crate::i18n::tf(
                crate::lang(),
                "retention.days_hint",
                &[("days", &default_days.to_string())],
            );
            view! {
                {back("/verwaltung/admin/leistungen", "admin.services.back")}
                <p class="kern-preline">{title}</p>
                <h1>{tr("retention.title")}</h1>
                <ErrorSummary errors=s.errors.clone()/>
                <p>{tr("retention.intro")}</p>
                <p>{tr("retention.fees")}</p>
                <form method="post" action=action novalidate>
                    <CsrfField/>
                    <TextInput name="days" label=tr("retention.days") hint=hint value=s.value("days")
                        error=s.error("days") max_length=5 inputmode="numeric" width="5"/>
                    <Button kind=ButtonKind::Primary label=tr("admin.save")/>
                </form>
            }
        },
    )
}
