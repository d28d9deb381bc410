use leptos::prelude::*;

use crate::components::*;
use crate::{render_page, tr, FormState, PageCtx};

fn title(ctx: &PageCtx, key: &str) -> &'static str {
    crate::i18n::t(ctx.lang, key)
}

/// An optional success or info message shown above a form, by translation key.
fn banner(key: Option<&'static str>) -> impl IntoView {
    key.map(|k| {
        view! {
            <Alert kind=AlertKind::Success title=tr(&format!("{k}.title")) announce=true>
                <p>{tr(&format!("{k}.text"))}</p>
            </Alert>
        }
    })
}

pub fn login(ctx: &PageCtx, state: &FormState, next: &str, notice: Option<&'static str>) -> String {
    let (s, next) = (state.clone(), next.to_string());
    render_page(ctx, title(ctx, "auth.login.title"), move || {
        view! {
            <h1>{tr("auth.login.title")}</h1>
            {banner(notice)}
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action="/anmelden" novalidate>
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <TextInput name="email" label=tr("auth.email") input_type="email" autocomplete="username"
                    value=s.value("email") error=s.error("email") required=true max_length=254/>
                <TextInput name="password" label=tr("auth.password") input_type="password"
                    autocomplete="current-password" error=s.error("password") required=true max_length=256/>
                <Button kind=ButtonKind::Primary label=tr("auth.login.submit")/>
            </form>
            <ul class="kern-list">
                <li><a class="kern-link" href="/passwort-vergessen">{tr("auth.login.forgot")}</a></li>
                <li><a class="kern-link" href="/registrieren">{tr("auth.login.register")}</a></li>
            </ul>
        }
    })
}

pub fn register(ctx: &PageCtx, state: &FormState) -> String {
    let s = state.clone();
    render_page(ctx, title(ctx, "auth.register.title"), move || {
        view! {
            <h1>{tr("auth.register.title")}</h1>
            <p>{tr("auth.register.intro")}</p>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action="/registrieren" novalidate>
                <CsrfField/>
                <TextInput name="email" label=tr("auth.email") input_type="email" autocomplete="email"
                    hint=tr("auth.register.email_hint") value=s.value("email") error=s.error("email")
                    required=true max_length=254/>
                <TextInput name="password" label=tr("auth.new_password") input_type="password"
                    autocomplete="new-password" hint=tr("auth.password_rules") error=s.error("password")
                    required=true max_length=256/>
                <TextInput name="password_confirm" label=tr("auth.password_confirm") input_type="password"
                    autocomplete="new-password" error=s.error("password_confirm") required=true max_length=256/>
                <Button kind=ButtonKind::Primary label=tr("auth.register.submit")/>
            </form>
            <p><a class="kern-link" href="/anmelden">{tr("auth.register.have_account")}</a></p>
        }
    })
}

pub fn forgot(ctx: &PageCtx, state: &FormState) -> String {
    let s = state.clone();
    render_page(ctx, title(ctx, "auth.forgot.title"), move || {
        view! {
            <h1>{tr("auth.forgot.title")}</h1>
            <p>{tr("auth.forgot.intro")}</p>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action="/passwort-vergessen" novalidate>
                <CsrfField/>
                <TextInput name="email" label=tr("auth.email") input_type="email" autocomplete="username"
                    value=s.value("email") error=s.error("email") required=true max_length=254/>
                <Button kind=ButtonKind::Primary label=tr("auth.forgot.submit")/>
            </form>
        }
    })
}

pub fn reset(ctx: &PageCtx, state: &FormState, token: &str) -> String {
    let (s, action) = (state.clone(), format!("/passwort-neu/{token}"));
    render_page(ctx, title(ctx, "auth.reset.title"), move || {
        view! {
            <h1>{tr("auth.reset.title")}</h1>
            <ErrorSummary errors=s.errors.clone()/>
            <form method="post" action=action novalidate>
                <CsrfField/>
                <TextInput name="password" label=tr("auth.new_password") input_type="password"
                    autocomplete="new-password" hint=tr("auth.password_rules") error=s.error("password")
                    required=true max_length=256/>
                <TextInput name="password_confirm" label=tr("auth.password_confirm") input_type="password"
                    autocomplete="new-password" error=s.error("password_confirm") required=true max_length=256/>
                <Button kind=ButtonKind::Primary label=tr("auth.reset.submit")/>
            </form>
        }
    })
}

/// A page that explains a link from a mail and confirms it with a button: mail scanners that
/// open links must not use up the token.
pub fn confirm(ctx: &PageCtx, key: &'static str, action: &str) -> String {
    let action = action.to_string();
    render_page(ctx, title(ctx, &format!("{key}.title")), move || {
        view! {
            <h1>{tr(&format!("{key}.title"))}</h1>
            <p>{tr(&format!("{key}.text"))}</p>
            <form method="post" action=action>
                <CsrfField/>
                <Button kind=ButtonKind::Primary label=tr(&format!("{key}.submit"))/>
            </form>
        }
    })
}

/// A message page: `key.title`, `key.text` and an optional link.
pub fn notice(
    ctx: &PageCtx,
    key: &'static str,
    link: Option<(&'static str, &'static str)>,
) -> String {
    render_page(ctx, title(ctx, &format!("{key}.title")), move || {
        view! {
            <h1>{tr(&format!("{key}.title"))}</h1>
            <p>{tr(&format!("{key}.text"))}</p>
            {link.map(|(href, label)| view! { <p><a class="kern-link" href=href>{tr(label)}</a></p> })}
        }
    })
}
