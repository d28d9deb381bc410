//! Two-factor authentication: the second step of a login, setting up an authenticator app,
//! recovery codes, the settings page and the confirmation of identity before sensitive changes.

use leptos::prelude::*;

use crate::components::*;
use crate::i18n::{t, tf};
use crate::{render_page, tr, FormState, PageCtx};

/// The form that ends a half-done login (it logs out, which forgets the password step).
fn cancel_login() -> impl IntoView {
    view! {
        <form method="post" action="/abmelden">
            <CsrfField/>
            <Button kind=ButtonKind::Tertiary label=tr("twofactor.cancel_login")/>
        </form>
    }
}

/// The second step of a login: a code from the app or a recovery code.
pub fn second_step(ctx: &PageCtx, state: &FormState) -> String {
    let s = state.clone();
    render_page(ctx, t(ctx.lang, "twofactor.step.title"), move || {
        view! {
            <h1>{tr("twofactor.step.title")}</h1>
            <p>{tr("twofactor.step.intro")}</p>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action="/anmelden/sicherheitscode" novalidate>
                <CsrfField/>
                <TextInput name="code" label=tr("twofactor.code") hint=tr("twofactor.step.hint")
                    autocomplete="one-time-code" error=s.error("code") required=true max_length=32 width="20"/>
                <Button kind=ButtonKind::Primary label=tr("twofactor.step.submit")/>
            </form>
            <h2 class="kern-heading-small">{tr("twofactor.step.lost_title")}</h2>
            <p>{tr("twofactor.step.lost_text")}</p>
            {cancel_login()}
        }
    })
}

/// What the set-up page shows.
#[derive(Clone, Debug)]
pub struct EnrolView {
    /// Where the confirmation code is posted.
    pub action: String,
    /// The `otpauth://` URI as an inline SVG QR code.
    pub qr_svg: String,
    /// The key in groups of four, for typing it in.
    pub secret_grouped: String,
    /// The account name the app will show.
    pub account: String,
    /// A staff account that has to do this before anything else.
    pub required: bool,
    /// An authenticator is already set up and will be replaced.
    pub replaces: bool,
}

pub fn enrol(ctx: &PageCtx, v: EnrolView, state: &FormState) -> String {
    let s = state.clone();
    render_page(ctx, t(ctx.lang, "twofactor.enrol.title"), move || {
        let facts = vec![
            SummaryRow {
                key: tr("twofactor.enrol.key").into(),
                value: v.secret_grouped.clone(),
                change: None,
            },
            SummaryRow {
                key: tr("twofactor.enrol.account").into(),
                value: format!("{} ({})", v.account, tr("twofactor.enrol.issuer")),
                change: None,
            },
            SummaryRow {
                key: tr("twofactor.enrol.kind").into(),
                value: tr("twofactor.enrol.kind_value").into(),
                change: None,
            },
        ];
        view! {
            {(!v.required).then(|| view! {
                <p><a class="aw-back-link" href="/konto/zwei-faktor">{tr("twofactor.back")}</a></p>
            })}
            <h1>{tr("twofactor.enrol.title")}</h1>
            {v.required.then(|| view! {
                <Alert kind=AlertKind::Info title=tr("twofactor.enrol.required_title")>
                    <p>{tr("twofactor.enrol.required_text")}</p>
                </Alert>
            })}
            {v.replaces.then(|| view! {
                <Alert kind=AlertKind::Warning title=tr("twofactor.enrol.replace_title")>
                    <p>{tr("twofactor.enrol.replace_text")}</p>
                </Alert>
            })}
            <p>{tr("twofactor.enrol.intro")}</p>
            <ErrorSummary errors=s.errors.clone()/>
            <h2 class="kern-heading-medium">{tr("twofactor.enrol.step1")}</h2>
            <p>{tr("twofactor.enrol.step1_text")}</p>
            <h2 class="kern-heading-medium">{tr("twofactor.enrol.step2")}</h2>
            <figure class="aw-qr">
                <div class="aw-qr__code" inner_html=v.qr_svg.clone()></div>
                <figcaption>{tr("twofactor.enrol.qr_caption")}</figcaption>
            </figure>
            <p>{tr("twofactor.enrol.manual")}</p>
            <SummaryList rows=facts/>
            <h2 class="kern-heading-medium">{tr("twofactor.enrol.step3")}</h2>
            <form method="post" action=v.action.clone() novalidate>
                <CsrfField/>
                <TextInput name="code" label=tr("twofactor.code") hint=tr("twofactor.enrol.code_hint")
                    autocomplete="one-time-code" inputmode="numeric" error=s.error("code")
                    required=true max_length=8 width="10"/>
                <Button kind=ButtonKind::Primary label=tr("twofactor.enrol.submit")/>
            </form>
            {v.required.then(cancel_login)}
        }
    })
}

/// New recovery codes, shown this once.
pub fn recovery_codes(ctx: &PageCtx, codes: Vec<String>, next: &str) -> String {
    let next = next.to_string();
    render_page(ctx, t(ctx.lang, "twofactor.codes.title"), move || {
        view! {
            <h1>{tr("twofactor.codes.title")}</h1>
            <Alert kind=AlertKind::Warning title=tr("twofactor.codes.once_title") announce=true>
                <p>{tr("twofactor.codes.once_text")}</p>
            </Alert>
            <p>{tr("twofactor.codes.intro")}</p>
            <ol class="aw-recovery-codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
            <p><a class="kern-btn kern-btn--primary" href=next>
                <span class="kern-label">{tr("twofactor.codes.continue")}</span>
            </a></p>
        }
    })
}

/// The account's second factor as the settings page shows it.
#[derive(Clone, Debug)]
pub struct SettingsView {
    /// When it was switched on, formatted; `None` while it is off.
    pub enabled_since: Option<String>,
    pub recovery_left: i64,
    /// Citizens may switch it off; staff may not.
    pub can_disable: bool,
    pub notice: Option<&'static str>,
}

pub fn settings(ctx: &PageCtx, v: SettingsView) -> String {
    render_page(ctx, t(ctx.lang, "twofactor.title"), move || {
        let lang = crate::lang();
        let body = match v.enabled_since.clone() {
            Some(since) => {
                let left = v.recovery_left.to_string();
                let rows = vec![
                    SummaryRow {
                        key: tr("twofactor.state").into(),
                        value: tf(lang, "twofactor.on_since", &[("time", &since)]),
                        change: None,
                    },
                    SummaryRow {
                        key: tr("twofactor.codes.title").into(),
                        value: tf(lang, "twofactor.codes.left", &[("count", &left)]),
                        change: None,
                    },
                ];
                view! {
                    <SummaryList rows=rows/>
                    {(v.recovery_left <= 3).then(|| view! {
                        <Alert kind=AlertKind::Warning title=tr("twofactor.codes.few_title")>
                            <p>{tr("twofactor.codes.few_text")}</p>
                        </Alert>
                    })}
                    <h2 class="kern-heading-medium">{tr("twofactor.codes.renew_title")}</h2>
                    <p>{tr("twofactor.codes.renew_text")}</p>
                    <form method="post" action="/konto/zwei-faktor/wiederherstellungscodes">
                        <CsrfField/>
                        <Button kind=ButtonKind::Secondary label=tr("twofactor.codes.renew")/>
                    </form>
                    <h2 class="kern-heading-medium">{tr("twofactor.replace_title")}</h2>
                    <p>{tr("twofactor.replace_text")}</p>
                    <p><a class="kern-link" href="/konto/zwei-faktor/einrichten">{tr("twofactor.replace")}</a></p>
                    {if v.can_disable {
                        view! {
                            <h2 class="kern-heading-medium">{tr("twofactor.disable_title")}</h2>
                            <p>{tr("twofactor.disable_text")}</p>
                            <form method="post" action="/konto/zwei-faktor/ausschalten">
                                <CsrfField/>
                                <Button kind=ButtonKind::Secondary label=tr("twofactor.disable")/>
                            </form>
                        }
                        .into_any()
                    } else {
                        view! { <p>{tr("twofactor.staff_required")}</p> }.into_any()
                    }}
                }
                .into_any()
            }
            None => view! {
                <SummaryList rows=vec![SummaryRow {
                    key: tr("twofactor.state").into(),
                    value: tr("twofactor.off").into(),
                    change: None,
                }]/>
                <p><a class="kern-btn kern-btn--primary" href="/konto/zwei-faktor/einrichten">
                    <span class="kern-label">{tr("twofactor.enable")}</span>
                </a></p>
            }
            .into_any(),
        };
        view! {
            <p><a class="aw-back-link" href="/konto">{tr("account.back")}</a></p>
            <h1>{tr("twofactor.title")}</h1>
            {v.notice.map(|k| view! {
                <Alert kind=AlertKind::Success title=tr(&format!("{k}.title")) announce=true>
                    <p>{tr(&format!("{k}.text"))}</p>
                </Alert>
            })}
            <p>{tr("twofactor.intro")}</p>
            {body}
        }
    })
}

/// The confirmation of identity before a sensitive change.
#[derive(Clone, Debug)]
pub struct ReauthView {
    pub action: String,
    /// Fields of the form that led here, sent on unchanged (a change that was posted while
    /// the last confirmation was too old); empty when the page was opened by a redirect.
    pub carried: Vec<(String, String)>,
    /// Where to return afterwards (the redirect case).
    pub next: Option<String>,
    /// The account has a second factor, so a code is asked for too.
    pub needs_code: bool,
}

pub fn reauth(ctx: &PageCtx, v: ReauthView, state: &FormState) -> String {
    let s = state.clone();
    render_page(ctx, t(ctx.lang, "twofactor.reauth.title"), move || {
        let carried = !v.carried.is_empty();
        view! {
            <h1>{tr("twofactor.reauth.title")}</h1>
            <p>{tr(if v.needs_code { "twofactor.reauth.intro_code" } else { "twofactor.reauth.intro" })}</p>
            {carried.then(|| view! { <p>{tr("twofactor.reauth.carried")}</p> })}
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=v.action.clone() novalidate>
                <CsrfField/>
                {v.next.clone().map(|n| view! { <input type="hidden" name="next" value=n/> })}
                {v.carried.clone().into_iter().map(|(k, val)| view! {
                    <input type="hidden" name=k value=val/>
                }).collect_view()}
                <TextInput name="_reauth_password" label=tr("auth.password") input_type="password"
                    autocomplete="current-password" error=s.error("_reauth_password") required=true max_length=256/>
                {v.needs_code.then(|| view! {
                    <TextInput name="_reauth_code" label=tr("twofactor.code") hint=tr("twofactor.step.hint")
                        autocomplete="one-time-code" error=s.error("_reauth_code") required=true max_length=32 width="20"/>
                })}
                <Button kind=ButtonKind::Primary label=tr(if carried { "twofactor.reauth.submit_carried" } else { "twofactor.reauth.submit" })/>
            </form>
        }
    })
}
