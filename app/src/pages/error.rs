use leptos::prelude::*;

use crate::{render_page, tr, PageCtx};

/// Error pages say what happened and what to do, never why internally.
pub fn render(ctx: &PageCtx, status: u16) -> String {
    let key = match status {
        400 => "400",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        429 => "429",
        503 => "503",
        s if s >= 500 => "500",
        _ => "400",
    };
    let title = crate::i18n::t(ctx.lang, &format!("error.page.{key}.title"));
    render_page(ctx, title, move || {
        view! {
            <h1>{tr(&format!("error.page.{key}.title"))}</h1>
            <p>{tr(&format!("error.page.{key}.text"))}</p>
            <p><a class="kern-link" href="/">{tr("error.page.home_link")}</a></p>
        }
    })
}
