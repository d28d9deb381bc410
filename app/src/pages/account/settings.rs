use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

pub struct Overview {
    pub email: String,
    pub role_key: &'static str,
    pub profile_complete: bool,
    /// Whether a second factor is set up.
    pub two_factor: bool,
    pub notice: Option<&'static str>,
}

pub fn overview(ctx: &PageCtx, o: Overview) -> String {
    render_page(ctx, crate::i18n::t(ctx.lang, "account.title"), move || {
        let rows = vec![
            SummaryRow {
                key: tr("auth.email").into(),
                value: o.email.clone(),
                change: Some(("/konto/email".into(), tr("auth.email").into())),
            },
            SummaryRow {
                key: tr("auth.password").into(),
                value: "••••••••••••".into(),
                change: Some(("/konto/passwort".into(), tr("auth.password").into())),
            },
            SummaryRow {
                key: tr("twofactor.title").into(),
                value: tr(if o.two_factor {
                    "twofactor.on"
                } else {
                    "twofactor.off"
                })
                .into(),
                change: Some(("/konto/zwei-faktor".into(), tr("twofactor.title").into())),
            },
            SummaryRow {
                key: tr("account.role").into(),
                value: tr(o.role_key).into(),
                change: None,
            },
            SummaryRow {
                key: tr("account.profile").into(),
                value: tr(if o.profile_complete {
                    "account.profile_filled"
                } else {
                    "account.profile_empty"
                })
                .into(),
                change: Some(("/konto/profil".into(), tr("account.profile").into())),
            },
        ];
        view! {
            <h1>{tr("account.title")}</h1>
            {o.notice.map(|k| view! {
                <Alert kind=AlertKind::Success title=tr(&format!("{k}.title")) announce=true>
                    <p>{tr(&format!("{k}.text"))}</p>
                </Alert>
            })}
            <SummaryList rows=rows/>
            <h2 class="kern-heading-medium">{tr("account.sessions_title")}</h2>
            <p>{tr("account.sessions_text")}</p>
            <form method="post" action="/konto/abmelden-ueberall">
                <CsrfField/>
                <Button kind=ButtonKind::Secondary label=tr("account.logout_everywhere")/>
            </form>
            <h2 class="kern-heading-medium">{tr("account.data_title")}</h2>
            <p>{tr("account.data_text")}</p>
            <ul class="kern-list">
                <li><a class="kern-link" href="/konto/daten" download>{tr("account.export")}</a></li>
                <li><a class="kern-link" href="/konto/loeschen">{tr("account.delete")}</a></li>
            </ul>
        }
    })
}

pub fn change_password(ctx: &PageCtx, state: &FormState) -> String {
    let s = state.clone();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "account.password.title"),
        move || {
            view! {
                <p><a class="kern-link" href="/konto">{tr("account.back")}</a></p>
                <h1>{tr("account.password.title")}</h1>
                <p>{tr("account.password.intro")}</p>
                <ErrorSummary errors=s.errors.clone()/>
                <form method="post" action="/konto/passwort" novalidate>
                    <CsrfField/>
                    <TextInput name="current_password" label=tr("account.current_password") input_type="password"
                        autocomplete="current-password" error=s.error("current_password") required=true max_length=256/>
                    <TextInput name="password" label=tr("auth.new_password") input_type="password"
                        autocomplete="new-password" hint=tr("auth.password_rules") error=s.error("password")
                        required=true max_length=256/>
                    <TextInput name="password_confirm" label=tr("auth.password_confirm") input_type="password"
                        autocomplete="new-password" error=s.error("password_confirm") required=true max_length=256/>
                    <Button kind=ButtonKind::Primary label=tr("account.password.submit")/>
                </form>
            }
        },
    )
}

pub fn change_email(ctx: &PageCtx, state: &FormState, current: &str) -> String {
    let (s, current) = (state.clone(), current.to_string());
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "account.email.title"),
        move || {
            view! {
                <p><a class="kern-link" href="/konto">{tr("account.back")}</a></p>
                <h1>{tr("account.email.title")}</h1>
                <p>{crate::i18n::tf(crate::lang(), "account.email.intro", &[("email", &current)])}</p>
                <ErrorSummary errors=s.errors.clone()/>
                <form method="post" action="/konto/email" novalidate>
                    <CsrfField/>
                    <TextInput name="new_email" label=tr("account.email.new") input_type="email" autocomplete="email"
                        value=s.value("new_email") error=s.error("new_email") required=true max_length=254/>
                    <TextInput name="current_password" label=tr("account.current_password") input_type="password"
                        autocomplete="current-password" error=s.error("current_password") required=true max_length=256/>
                    <Button kind=ButtonKind::Primary label=tr("account.email.submit")/>
                </form>
            }
        },
    )
}

pub fn delete(ctx: &PageCtx, state: &FormState) -> String {
    let s = state.clone();
    render_page(
        ctx,
        crate::i18n::t(ctx.lang, "account.delete_page.title"),
        move || {
            view! {
                <p><a class="kern-link" href="/konto">{tr("account.back")}</a></p>
                <h1>{tr("account.delete_page.title")}</h1>
                <Alert kind=AlertKind::Warning title=tr("account.delete_page.warning_title")>
                    <p>{tr("account.delete_page.warning")}</p>
                    <p>{tr("account.delete_page.kept")}</p>
                </Alert>
                <ErrorSummary errors=s.errors.clone()/>
                <form method="post" action="/konto/loeschen" novalidate>
                    <CsrfField/>
                    <TextInput name="current_password" label=tr("account.current_password") input_type="password"
                        autocomplete="current-password" error=s.error("current_password") required=true max_length=256/>
                    <Checkboxes name="confirm" legend=tr("account.delete_page.confirm_legend")
                        options=vec![("yes".to_string(), tr("account.delete_page.confirm").to_string())]
                        checked=if s.value("confirm") == "yes" { vec!["yes".to_string()] } else { vec![] }
                        error=s.error("confirm")/>
                    <Button kind=ButtonKind::Primary label=tr("account.delete_page.submit")/>
                </form>
            }
        },
    )
}
