//! A postbox's webhooks: the endpoints its events are sent to (with the form to add one and the
//! signing secret, shown once after creation) and each endpoint's delivery history, so that an
//! administrator can see why a back-office system heard nothing.

use leptos::prelude::*;

use super::{back, banner, cell};
use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// Event names (`submission.received`, …).
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled: `failing` (a day of failed deliveries) or `admin`.
    pub disabled_reason: String,
    /// While enabled: since when deliveries fail, formatted.
    pub failing_since: Option<String>,
    pub created: String,
}

pub struct WebhooksView {
    pub postbox_id: String,
    /// "Authority – postbox", above the heading.
    pub preline: String,
    pub endpoints: Vec<WebhookRow>,
    /// Every event an endpoint can subscribe to.
    pub events: Vec<String>,
    /// (address, secret) of the endpoint just created: the only time the secret is shown.
    pub new_secret: Option<(String, String)>,
    /// The add form: `url` and `events` (space-separated) with their problems.
    pub form: FormState,
    /// Development mode, where `http://` receivers are allowed.
    pub allow_http: bool,
}

pub struct DeliveryRow {
    pub event: String,
    pub created: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// When the next attempt is due, for pending deliveries.
    pub next_attempt: Option<String>,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub delivered: Option<String>,
}

pub struct DeliveriesView {
    pub postbox_id: String,
    pub preline: String,
    pub endpoint: WebhookRow,
    pub rows: Vec<DeliveryRow>,
}

/// Readable name of an event; the technical name stays visible next to it.
fn event_label(event: &str) -> &'static str {
    let key = match event {
        "submission.received" => "webhooks.event.submission_received",
        "citizen.replied" => "webhooks.event.citizen_replied",
        "fee.paid" => "webhooks.event.fee_paid",
        _ => return "",
    };
    tr(key)
}

fn events_cell(events: &[String]) -> AnyView {
    let items = events
        .iter()
        .map(|e| view! { <li>{event_label(e)}" "<code>{e.clone()}</code></li> })
        .collect_view();
    view! { <ul class="kern-list">{items}</ul> }.into_any()
}

fn state_cell(e: &WebhookRow) -> AnyView {
    if e.enabled {
        let failing = e.failing_since.clone().map(|since| {
            let text =
                crate::i18n::tf(crate::lang(), "webhooks.failing_since", &[("time", &since)]);
            view! { <br/><Tag kind=TagKind::Warning text=text/> }
        });
        view! { <Tag kind=TagKind::Success text=tr("webhooks.enabled")/>{failing} }.into_any()
    } else {
        let reason = if e.disabled_reason == "failing" {
            tr("webhooks.reason_failing")
        } else {
            tr("webhooks.reason_admin")
        };
        view! { <Tag kind=TagKind::Danger text=tr("webhooks.disabled")/><br/>{reason} }.into_any()
    }
}

/// One-button forms and the history link for an endpoint; the hidden text names the address.
fn actions_cell(base: &str, e: &WebhookRow) -> AnyView {
    let url = format!("{base}/{}", e.id);
    let toggle = if e.enabled {
        ("deaktivieren", tr("webhooks.disable"))
    } else {
        ("aktivieren", tr("webhooks.enable"))
    };
    let button = |path: &str, label: &'static str| {
        view! {
            <form method="post" action=format!("{url}/{path}")>
                <CsrfField/>
                <button type="submit" class="aw-btn-link">{label}<span class="aw-sr-only">{format!(" {}", e.url)}</span></button>
            </form>
        }
    };
    view! {
        <div class="aw-actions">
            <a class="kern-link" href=url.clone()>{tr("webhooks.deliveries")}<span class="aw-sr-only">{format!(" {}", e.url)}</span></a>
            {button(toggle.0, toggle.1)}
            {button("loeschen", tr("webhooks.delete"))}
        </div>
    }
    .into_any()
}

/// The section on the postbox page; `base` is that page's address.
pub(super) fn webhooks_section(base: &str, postbox: &str) -> impl IntoView {
    view! {
        <h2 class="kern-heading-medium">{tr("webhooks.title")}</h2>
        <p>{tr("webhooks.section_text")}</p>
        <p><a class="kern-link" href=format!("{base}/webhooks")>
            {tr("webhooks.manage")}<span class="aw-sr-only">{format!(" {postbox}")}</span>
        </a></p>
    }
}

/// The list of endpoints with the add form.
pub fn webhooks(ctx: &PageCtx, v: WebhooksView, notice: Option<&'static str>) -> String {
    render_page(ctx, crate::i18n::t(ctx.lang, "webhooks.title"), move || {
        let postbox_href = format!("/verwaltung/admin/postfaecher/{}", v.postbox_id);
        let base = format!("{postbox_href}/webhooks");
        let headers = vec![
            tr("webhooks.url").to_string(),
            tr("webhooks.events").to_string(),
            tr("webhooks.state").to_string(),
            tr("webhooks.created").to_string(),
            tr("webhooks.actions").to_string(),
        ];
        let empty = v.endpoints.is_empty();
        let rows = v
            .endpoints
            .iter()
            .map(|e| {
                vec![
                    view! { <code>{e.url.clone()}</code> }.into_any(),
                    events_cell(&e.events),
                    state_cell(e),
                    cell(e.created.clone()),
                    actions_cell(&base, e),
                ]
            })
            .collect();
        let s = v.form;
        let checked: Vec<String> = s
            .value("events")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let options: Vec<(String, String)> = v
            .events
            .iter()
            .map(|e| (e.clone(), format!("{} ({e})", event_label(e))))
            .collect();
        let url_hint = if v.allow_http {
            tr("webhooks.url_hint_dev")
        } else {
            tr("webhooks.url_hint")
        };
        view! {
            {back(&postbox_href, "webhooks.back_postbox")}
            <p class="kern-preline">{v.preline}</p>
            <h1>{tr("webhooks.title")}</h1>
            {banner(notice)}
            {v.new_secret.map(|(url, secret)| view! {
                <Alert kind=AlertKind::Warning title=tr("webhooks.secret_title") announce=true>
                    <p>{crate::i18n::tf(crate::lang(), "webhooks.secret_text", &[("url", &url)])}</p>
                    <p><code>{secret}</code></p>
                </Alert>
            })}
            <p>{tr("webhooks.intro")}</p>
            <p>{tr("webhooks.verify")}</p>
            {if empty {
                view! { <p>{tr("webhooks.none")}</p> }.into_any()
            } else {
                data_table(tr("webhooks.caption").to_string(), headers, rows).into_any()
            }}
            <h2 class="kern-heading-medium">{tr("webhooks.add_title")}</h2>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=base.clone() novalidate>
                <CsrfField/>
                <TextInput name="url" label=tr("webhooks.url") hint=url_hint input_type="url"
                    value=s.value("url") error=s.error("url") required=true max_length=2000
                    autocomplete="off"/>
                <Checkboxes name="events" legend=tr("webhooks.events") hint=tr("webhooks.events_hint")
                    options=options checked=checked error=s.error("events")/>
                <Button kind=ButtonKind::Primary label=tr("webhooks.add")/>
            </form>
        }
    })
}

fn delivery_state(r: &DeliveryRow) -> AnyView {
    let (kind, key) = match r.state.as_str() {
        "delivered" => (TagKind::Success, "webhooks.state_delivered"),
        "failed" => (TagKind::Danger, "webhooks.state_failed"),
        _ => (TagKind::Info, "webhooks.state_pending"),
    };
    let next = r.next_attempt.clone().map(|t| {
        let text = crate::i18n::tf(crate::lang(), "webhooks.next_attempt", &[("time", &t)]);
        view! { <br/>{text} }
    });
    view! { <Tag kind=kind text=tr(key)/>{next} }.into_any()
}

/// An endpoint's latest deliveries.
pub fn webhook_deliveries(ctx: &PageCtx, v: DeliveriesView) -> String {
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "webhooks.history_title"),
        move || {
            let back_href = format!("/verwaltung/admin/postfaecher/{}/webhooks", v.postbox_id);
            let headers = [
                "webhooks.history_event",
                "webhooks.history_created",
                "webhooks.state",
                "webhooks.history_attempts",
                "webhooks.history_status",
                "webhooks.history_error",
                "webhooks.history_delivered",
            ]
            .iter()
            .map(|k| tr(k).to_string())
            .collect();
            let empty = v.rows.is_empty();
            let rows = v
                .rows
                .iter()
                .map(|r| {
                    vec![
                        view! { <code>{r.event.clone()}</code> }.into_any(),
                        cell(r.created.clone()),
                        delivery_state(r),
                        cell(r.attempts.to_string()),
                        cell(r.last_status.map(|s| s.to_string()).unwrap_or_default()),
                        cell(r.last_error.clone()),
                        cell(r.delivered.clone().unwrap_or_default()),
                    ]
                })
                .collect();
            let summary = vec![
                SummaryRow {
                    key: tr("webhooks.url").into(),
                    value: v.endpoint.url.clone(),
                    change: None,
                },
                SummaryRow {
                    key: tr("webhooks.created").into(),
                    value: v.endpoint.created.clone(),
                    change: None,
                },
            ];
            view! {
                {back(&back_href, "webhooks.back")}
                <p class="kern-preline">{v.preline}</p>
                <h1>{tr("webhooks.history_title")}</h1>
                <SummaryList rows=summary/>
                <h2 class="kern-heading-medium">{tr("webhooks.events")}</h2>
                {events_cell(&v.endpoint.events)}
                <h2 class="kern-heading-medium">{tr("webhooks.state")}</h2>
                <p>{state_cell(&v.endpoint)}</p>
                <p>{tr("webhooks.history_intro")}</p>
                {if empty {
                    view! { <p>{tr("webhooks.history_none")}</p> }.into_any()
                } else {
                    data_table(tr("webhooks.history_caption").to_string(), headers, rows).into_any()
                }}
            }
        },
    )
}
