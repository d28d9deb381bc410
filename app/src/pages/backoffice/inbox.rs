use leptos::either::Either;
use leptos::prelude::*;

use crate::components::*;
use crate::i18n::{t, tf};
use crate::{render_page, tr, PageCtx};

pub struct PostboxCard {
    pub href: String,
    pub name: String,
    pub authority: String,
    pub role: String,
    pub new_count: String,
}

pub struct HomeView {
    pub postboxes: Vec<PostboxCard>,
    pub is_admin: bool,
    /// Leads and administrators handle the authority's incoming payments.
    pub payments_desk: bool,
    pub notice: Option<String>,
}

/// The staff start page: the postboxes this account works in.
pub fn home(ctx: &PageCtx, v: HomeView) -> String {
    render_page(ctx, t(ctx.lang, "bo.home.title"), move || {
        view! {
            <h1>{tr("bo.home.title")}</h1>
            {v.notice.map(|n| view! { <Alert kind=AlertKind::Success title=n announce=true><span></span></Alert> })}
            {if v.postboxes.is_empty() {
                view! {
                    <p>{tr("bo.home.none")}</p>
                    {v.is_admin.then(|| view! { <p><a class="kern-link" href="/verwaltung/admin">{tr("bo.home.to_admin")}</a></p> })}
                }.into_any()
            } else {
                view! {
                    <ul class="aw-cards">
                        {v.postboxes.into_iter().map(|p| view! {
                            <li class="aw-card">
                                <h2 class="kern-heading-small"><a class="kern-link" href=p.href>{p.name}</a></h2>
                                <p class="aw-muted">{format!("{} · {}", p.authority, p.role)}</p>
                                <p>{tf(crate::lang(), "bo.home.new", &[("count", &p.new_count)])}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {v.payments_desk.then(|| view! { <p><a class="kern-link" href="/verwaltung/zahlungen">{tr("fees.desk.link")}</a></p> })}
        }
    })
}

pub struct InboxRow {
    pub href: String,
    pub reference: String,
    pub applicant: String,
    pub service: String,
    pub state: (TagKind, String),
    pub assignee: String,
    pub submitted: String,
    /// The deadline's day while the case is open.
    pub due: Option<String>,
    pub overdue: bool,
    pub unread: bool,
}

/// The filter form's values as entered (kept when re-rendered).
#[derive(Clone, Default)]
pub struct InboxFilters {
    pub q: String,
    pub service: String,
    pub state: String,
    pub assignee: String,
    pub from: String,
    pub to: String,
    pub sort: String,
}

pub struct InboxView {
    pub postbox_id: String,
    pub postbox_name: String,
    pub authority_name: String,
    pub is_lead: bool,
    pub tab: String,
    /// (key, label, count, href)
    pub tabs: Vec<(String, String, String, String)>,
    pub filters: InboxFilters,
    pub services: Vec<(String, String)>,
    pub states: Vec<(String, String)>,
    pub assignees: Vec<(String, String)>,
    pub errors: Vec<FieldError>,
    pub rows: Vec<InboxRow>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

pub fn inbox(ctx: &PageCtx, v: InboxView) -> String {
    let title = format!("{} – {}", t(ctx.lang, "bo.inbox.title"), v.postbox_name);
    render_page(ctx, &title, move || {
        let f = v.filters.clone();
        let tab = v.tab.clone();
        let errors = v.errors.clone();
        let err = |name: &str| {
            errors
                .iter()
                .find(|e| e.field_id == name)
                .map(|e| e.message.clone())
        };
        let sort_options = vec![
            ("".to_string(), tr("bo.inbox.sort_oldest").to_string()),
            (
                "neueste".to_string(),
                tr("bo.inbox.sort_newest").to_string(),
            ),
        ];
        view! {
            <p class="kern-preline">{v.authority_name.clone()}</p>
            <h1>{format!("{} – {}", tr("bo.inbox.title"), v.postbox_name)}</h1>
            {v.is_lead.then(|| view! {
                <p><a class="kern-link" href=format!("/verwaltung/postfach/{}/vorlagen", v.postbox_id)>{tr("bo.templates.title")}</a></p>
            })}
            <nav aria-label=tr("bo.inbox.tabs")>
                <ul class="aw-tabs">
                    {v.tabs.into_iter().map(|(key, label, count, href)| {
                        let current = (key == tab).then_some("page");
                        view! {
                            <li><a class="aw-tabs__link" href=href aria-current=current>{label}" "<span class="kern-badge"><span class="kern-label">{count}</span></span></a></li>
                        }
                    }).collect_view()}
                </ul>
            </nav>
            <ErrorSummary errors=v.errors.clone()/>
            <form method="get" class="aw-filters" action=format!("/verwaltung/postfach/{}", v.postbox_id)>
                <input type="hidden" name="tab" value=tab.clone()/>
                <TextInput name="q" label=tr("bo.inbox.search") value=f.q.clone() hint=tr("bo.inbox.search_hint").to_string() input_type="search"/>
                <div class="aw-filters__row">
                    <Select name="service" label=tr("bo.inbox.service") options=v.services selected=f.service.clone()/>
                    <Select name="state" label=tr("bo.inbox.state") options=v.states selected=f.state.clone()/>
                    <Select name="assignee" label=tr("bo.inbox.assignee") options=v.assignees selected=f.assignee.clone()/>
                </div>
                <div class="aw-filters__row">
                    <TextInput name="from" label=tr("bo.inbox.from") value=f.from.clone() input_type="date" error=err("from")/>
                    <TextInput name="to" label=tr("bo.inbox.to") value=f.to.clone() input_type="date" error=err("to")/>
                    <Select name="sort" label=tr("bo.inbox.sort") options=sort_options selected=f.sort.clone()/>
                </div>
                <Button kind=ButtonKind::Secondary label=tr("bo.inbox.apply")/>
            </form>
            {if v.rows.is_empty() {
                Either::Left(view! { <p>{tr("bo.inbox.empty")}</p> })
            } else {
                Either::Right(view! {
                    <section class="aw-table-wrap" tabindex="0" aria-labelledby="inbox-caption">
                        <table class="kern-table kern-table--small aw-inbox">
                            <caption class="kern-title kern-title--small" id="inbox-caption">{tr("bo.inbox.caption")}</caption>
                            <thead class="kern-table__head">
                                <tr class="kern-table__row">
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_reference")}</th>
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_applicant")}</th>
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_service")}</th>
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_state")}</th>
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_assignee")}</th>
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_submitted")}</th>
                                    <th class="kern-table__header" scope="col">{tr("bo.inbox.col_due")}</th>
                                </tr>
                            </thead>
                            <tbody class="kern-table__body">
                                {v.rows.into_iter().map(|r| view! {
                                    <tr class="kern-table__row">
                                        <td class="kern-table__cell">
                                            <a class="kern-link" href=r.href>{r.reference}</a>
                                            {r.unread.then(|| view! { " "<Tag kind=TagKind::Info text=tr("bo.inbox.unread")/> })}
                                        </td>
                                        <td class="kern-table__cell">{r.applicant}</td>
                                        <td class="kern-table__cell">{r.service}</td>
                                        <td class="kern-table__cell"><Tag kind=r.state.0 text=r.state.1/></td>
                                        <td class="kern-table__cell">{mail_address(r.assignee)}</td>
                                        <td class="kern-table__cell">{day(r.submitted)}</td>
                                        <td class="kern-table__cell">
                                            {match r.due {
                                                Some(d) => Either::Left(day(d)),
                                                None => Either::Right("–"),
                                            }}
                                            {r.overdue.then(|| view! { " "<Tag kind=TagKind::Danger text=tr("bo.inbox.overdue")/> })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                })
            }}
            {(v.first_href.is_some() || v.next_href.is_some()).then(|| view! {
                <nav aria-label=tr("bo.inbox.pages")>
                    <ul class="aw-pager">
                        {v.first_href.map(|h| view! { <li><a class="kern-link" href=h>{tr("bo.inbox.first")}</a></li> })}
                        {v.next_href.map(|h| view! { <li><a class="kern-link" href=h rel="next">{tr("bo.inbox.next")}</a></li> })}
                    </ul>
                </nav>
            })}
        }
    })
}

/// A mail address that may wrap before its `@`: an address is one long word, and the assignee
/// column would otherwise be as wide as the longest one.
fn mail_address(address: String) -> impl IntoView {
    match address.split_once('@') {
        Some((local, domain)) => {
            let (local, domain) = (local.to_string(), format!("@{domain}"));
            Either::Left(view! { {local}<wbr/>{domain} })
        }
        None => Either::Right(address),
    }
}

/// A day (`YYYY-MM-DD`) as a `<time>`, which the inbox keeps from wrapping at its hyphens.
fn day(text: String) -> impl IntoView {
    let datetime = text.clone();
    view! { <time datetime=datetime>{text}</time> }
}
