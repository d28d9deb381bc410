//! The page shell: skip link, header with portal name, language switch and navigation, main
//! landmark, footer with the legally required pages.

use leptos::prelude::*;

use crate::i18n::t;
use crate::PageCtx;

pub fn document(ctx: &PageCtx, title: &str, content: impl IntoView + 'static) -> impl IntoView {
    let lang = ctx.lang;
    let full_title = format!("{title} – {}", t(lang, "site.name"));
    let other = lang.other();
    let path = ctx.path.clone();
    let current = |href: &str| {
        let p = path.split('?').next().unwrap_or("");
        (p == href).then_some("page")
    };
    let mut nav = vec![
        ("/", t(lang, "nav.home")),
        ("/leistungen", t(lang, "nav.services")),
    ];
    match &ctx.user {
        Some(u) if u.staff => {
            nav.push(("/verwaltung", t(lang, "nav.backoffice")));
            if u.admin {
                nav.push(("/verwaltung/admin", t(lang, "nav.admin")));
            }
            nav.push(("/konto", t(lang, "nav.account")));
        }
        Some(_) => {
            nav.push(("/konto/antraege", t(lang, "nav.applications")));
            nav.push(("/konto/postfach", t(lang, "nav.postbox")));
            nav.push(("/konto/gebuehren", t(lang, "nav.fees")));
            nav.push(("/konto", t(lang, "nav.account")));
        }
        None => {
            nav.push(("/anmelden", t(lang, "nav.login")));
            nav.push(("/registrieren", t(lang, "nav.register")));
        }
    }
    let logout = ctx.user.as_ref().map(|u| {
        let csrf = ctx.csrf.clone().unwrap_or_default();
        let who = crate::i18n::tf(lang, "nav.logged_in_as", &[("email", &u.email)]);
        view! {
            <span class="aw-header__user aw-muted">{who}</span>
            <form method="post" action="/abmelden">
                <input type="hidden" name="_csrf" value=csrf/>
                <button type="submit" class="aw-btn-link">{t(lang, "nav.logout")}</button>
            </form>
        }
    });
    // The back office is worked at desks on wide screens, and its inbox has seven columns.
    let body_class = ctx.path.starts_with("/verwaltung").then_some("aw-wide");
    let footer_links = [
        ("/impressum", t(lang, "footer.imprint")),
        ("/datenschutz", t(lang, "footer.privacy")),
        ("/barrierefreiheit", t(lang, "footer.accessibility")),
    ];
    view! {
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{full_title}</title>
                <meta name="description" content=t(lang, "site.description")/>
                <link rel="stylesheet" href=ctx.css_href.clone()/>
                <link rel="icon" href=ctx.icon_href.clone() type="image/svg+xml"/>
            </head>
            <body class=body_class>
                <a class="aw-skip-link" href="#main">{t(lang, "layout.skip")}</a>
                <header class="aw-header">
                    <div class="aw-container aw-header__bar">
                        <a class="aw-header__brand" href="/">
                            <span class="aw-header__name">{t(lang, "site.name")}</span>
                            <span class="aw-header__tagline">{t(lang, "site.tagline")}</span>
                        </a>
                        <div class="aw-header__actions">
                            <form class="aw-lang-switch" method="post" action="/sprache">
                                <input type="hidden" name="lang" value=other.code()/>
                                <input type="hidden" name="back" value=ctx.path.clone()/>
                                <button type="submit" class="aw-btn-link" lang=other.code()>
                                    {t(other, "layout.switch_to")}
                                </button>
                            </form>
                            {logout}
                        </div>
                    </div>
                    <nav class="aw-nav" aria-label=t(lang, "nav.label")>
                        <div class="aw-container">
                            <ul class="aw-nav__list">
                                {nav.into_iter().map(|(href, label)| view! {
                                    <li><a class="aw-nav__link" href=href aria-current=current(href)>{label}</a></li>
                                }).collect_view()}
                            </ul>
                        </div>
                    </nav>
                </header>
                <main id="main" class="aw-main" tabindex="-1">{content}</main>
                <footer class="aw-footer">
                    <div class="aw-container">
                        <nav aria-label=t(lang, "footer.label")>
                            <ul class="aw-footer__links">
                                {footer_links.into_iter().map(|(href, label)| view! {
                                    <li><a href=href aria-current=current(href)>{label}</a></li>
                                }).collect_view()}
                            </ul>
                        </nav>
                        <p class="aw-footer__meta">{t(lang, "footer.note")}</p>
                    </div>
                </footer>
            </body>
        </html>
    }
}
