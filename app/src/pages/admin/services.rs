use leptos::prelude::*;

use super::{back, banner, button_cell, cell};
use crate::components::*;
use crate::{render_page, tr, PageCtx};

pub struct VersionRow {
    pub version: i64,
    pub imported: String,
    /// When it was retired, if it was.
    pub retired: Option<String>,
    /// The version new applications use.
    pub current: bool,
}

pub struct ServiceRow {
    pub key: String,
    pub title: String,
    pub versions: Vec<VersionRow>,
    /// The service's own retention period of closed cases, in days; `None`: the default.
    pub retention_days: Option<i64>,
}

/// `default_retention_days` is the deployment's period for services without their own.
pub fn services(
    ctx: &PageCtx,
    rows: Vec<ServiceRow>,
    default_retention_days: i64,
    notice: Option<&'static str>,
) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.services.title"),
        move || {
            let empty = rows.is_empty();
            view! {
                {back("/verwaltung/admin", "admin.back_overview")}
                <h1>{tr("admin.services.title")}</h1>
                {banner(notice)}
                <p>{tr("admin.services.intro")}</p>
                <p><a class="kern-btn kern-btn--secondary" href="/verwaltung/admin/leistungen/import">
                    <span class="kern-label">{tr("admin.services.import")}</span>
                </a></p>
                {empty.then(|| view! { <p>{tr("admin.services.none")}</p> })}
                {rows.into_iter().map(|s| {
                    let headers = vec![
                        tr("admin.services.version").to_string(),
                        tr("admin.services.imported").to_string(),
                        tr("admin.services.status").to_string(),
                        tr("admin.services.retire").to_string(),
                    ];
                    let versions = s.versions.into_iter().map(|v| {
                        let status = match (&v.retired, v.current) {
                            (Some(at), _) => crate::i18n::tf(crate::lang(), "admin.services.retired_at", &[("date", at)]),
                            (None, true) => tr("admin.services.current").to_string(),
                            (None, false) => tr("admin.services.available").to_string(),
                        };
                        let action = if v.retired.is_none() {
                            button_cell(
                                format!("/verwaltung/admin/leistungen/{}/{}/stilllegen", s.key, v.version),
                                tr("admin.services.retire"),
                                crate::i18n::tf(crate::lang(), "admin.services.version_of", &[("version", &v.version.to_string()), ("service", &s.title)]),
                            )
                        } else {
                            cell("")
                        };
                        vec![cell(v.version.to_string()), cell(v.imported), cell(status), action]
                    }).collect();
                    view! {
                        <h2 class="kern-heading-medium">{s.title.clone()}</h2>
                        <p class="aw-muted">{crate::i18n::tf(crate::lang(), "admin.services.key", &[("key", &s.key)])}</p>
                        {super::retention_summary(&s.key, &s.title, s.retention_days, default_retention_days)}
                        {data_table(crate::i18n::tf(crate::lang(), "admin.services.caption", &[("service", &s.title)]), headers, versions)}
                    }
                }).collect_view()}
            }
        },
    )
}

/// The import form. `text` is what was pasted or uploaded, kept when the definition has
/// problems; `problems` are the parser's line-numbered messages.
pub fn import(
    ctx: &PageCtx,
    action: &str,
    text: &str,
    problems: Vec<String>,
    errors: Vec<FieldError>,
) -> String {
    let (action, text) = (action.to_string(), text.to_string());
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "admin.import.title"),
        move || {
            let text_error = errors
                .iter()
                .find(|e| e.field_id == "definition")
                .map(|e| e.message.clone());
            view! {
                {back("/verwaltung/admin/leistungen", "admin.services.back")}
                <h1>{tr("admin.import.title")}</h1>
                <p>{tr("admin.import.intro")}</p>
                <ErrorSummary errors=errors.clone()/>
                {(!problems.is_empty()).then(|| view! {
                    <Alert kind=AlertKind::Danger title=tr("admin.import.problems_title")>
                        <ul class="kern-list">
                            {problems.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}
                        </ul>
                    </Alert>
                })}
                <form method="post" enctype="multipart/form-data" action=action novalidate>
                    <FileInput name="file" label=tr("admin.import.file") hint=tr("admin.import.file_hint")
                        accept=".toml,text/plain"/>
                    <TextArea name="definition" label=tr("admin.import.text") hint=tr("admin.import.text_hint")
                        value=text error=text_error max_length=262144/>
                    <Button kind=ButtonKind::Primary label=tr("admin.import.submit")/>
                </form>
            }
        },
    )
}
