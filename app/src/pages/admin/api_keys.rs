//! A postbox's API keys: which back-office systems may fetch its cases and what they may do.
//! A new key is shown once, right after it was created; afterwards only its prefix.

use leptos::prelude::*;

use super::{back, banner, cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    /// The visible start of the key, `aw_<prefix>_…`.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

pub struct ApiKeysView {
    pub postbox_id: String,
    /// "Authority – postbox", above the heading.
    pub preline: String,
    pub keys: Vec<ApiKeyRow>,
    /// (name, key) of the key just created: the only time it is shown.
    pub new_key: Option<(String, String)>,
    /// The add form: `name` and `scopes` (space-separated) with their problems.
    pub form: FormState,
}

pub const SCOPES: [&str; 4] = ["read", "acknowledge", "reply", "fees"];

fn scope_label(s: &str) -> &'static str {
    match s {
        "read" => tr("api_keys.scope.read"),
        "acknowledge" => tr("api_keys.scope.acknowledge"),
        "reply" => tr("api_keys.scope.reply"),
        "fees" => tr("api_keys.scope.fees"),
        _ => "",
    }
}

fn state_cell(base: &str, k: &ApiKeyRow) -> AnyView {
    match &k.revoked {
        Some(at) => {
            let text = crate::i18n::tf(crate::lang(), "api_keys.revoked_at", &[("time", at)]);
            view! { <Tag kind=TagKind::Danger text=tr("api_keys.revoked")/><br/>{text} }.into_any()
        }
        None => view! {
            <Tag kind=TagKind::Success text=tr("api_keys.active")/>
            <form method="post" action=format!("{base}/{}/widerrufen", k.id)>
                <CsrfField/>
                <button type="submit" class="aw-btn-link">{tr("api_keys.revoke")}<span class="aw-sr-only">{format!(" {}", k.name)}</span></button>
            </form>
        }
        .into_any(),
    }
}

/// The section on the postbox page; `base` is that page's address.
pub(super) fn api_keys_section(base: &str, postbox: &str) -> impl IntoView {
    view! {
        <h2 class="kern-heading-medium">{tr("api_keys.title")}</h2>
        <p>{tr("api_keys.section_text")}</p>
        <p><a class="kern-link" href=format!("{base}/api-schluessel")>
            {tr("api_keys.manage")}<span class="aw-sr-only">{format!(" {postbox}")}</span>
        </a></p>
    }
}

pub fn api_keys(ctx: &PageCtx, v: ApiKeysView, notice: Option<&'static str>) -> String {
    render_page(ctx, crate::i18n::t(ctx.lang, "api_keys.title"), move || {
        let postbox_href = format!("/verwaltung/admin/postfaecher/{}", v.postbox_id);
        let base = format!("{postbox_href}/api-schluessel");
        let headers = [
            "api_keys.name",
            "api_keys.prefix",
            "api_keys.scopes",
            "api_keys.created",
            "api_keys.last_used",
            "api_keys.state",
        ]
        .iter()
        .map(|k| tr(k).to_string())
        .collect();
        let empty = v.keys.is_empty();
        let rows = v
            .keys
            .iter()
            .map(|k| {
                vec![
                    cell(k.name.clone()),
                    view! { <code>{format!("aw_{}_…", k.prefix)}</code> }.into_any(),
                    cell(
                        k.scopes
                            .iter()
                            .map(|s| scope_label(s))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    cell(k.created.clone()),
                    cell(
                        k.last_used
                            .clone()
                            .unwrap_or_else(|| tr("api_keys.never").into()),
                    ),
                    state_cell(&base, k),
                ]
            })
            .collect();
        let s = v.form;
        let checked: Vec<String> = s
            .value("scopes")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let options: Vec<(String, String)> = SCOPES
            .iter()
            .map(|k| (k.to_string(), scope_label(k).to_string()))
            .collect();
        view! {
            {back(&postbox_href, "api_keys.back_postbox")}
            <p class="kern-preline">{v.preline}</p>
            <h1>{tr("api_keys.title")}</h1>
            {banner(notice)}
            {v.new_key.map(|(name, key)| view! {
                <Alert kind=AlertKind::Warning title=tr("api_keys.new_title") announce=true>
                    <p>{crate::i18n::tf(crate::lang(), "api_keys.new_text", &[("name", &name)])}</p>
                    <p><code class="aw-break">{key}</code></p>
                </Alert>
            })}
            <p>{tr("api_keys.intro")}</p>
            <p><a class="kern-link" href="/api/v1/openapi.json">{tr("api_keys.openapi")}</a></p>
            {if empty {
                view! { <p>{tr("api_keys.none")}</p> }.into_any()
            } else {
                data_table(tr("api_keys.caption").to_string(), headers, rows).into_any()
            }}
            <h2 class="kern-heading-medium">{tr("api_keys.add_title")}</h2>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=base.clone() novalidate>
                <CsrfField/>
                <TextInput name="name" label=tr("api_keys.name") hint=tr("api_keys.name_hint")
                    value=s.value("name") error=s.error("name") required=true max_length=100
                    autocomplete="off"/>
                <Checkboxes name="scopes" legend=tr("api_keys.scopes") hint=tr("api_keys.scopes_hint")
                    options=options checked=checked error=s.error("scopes")/>
                <Button kind=ButtonKind::Primary label=tr("api_keys.add")/>
            </form>
        }
    })
}
