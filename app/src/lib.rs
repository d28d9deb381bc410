//! Pages and components of Amtsweg, rendered to HTML on the server. This crate knows nothing of
//! the database or HTTP: handlers pass in plain data and get a complete document back.

pub mod components;
pub mod i18n;
pub mod layout;
pub mod pages;

use i18n::Lang;
use leptos::prelude::*;

/// What every page needs to know about the request it answers.
#[derive(Clone, Debug, Default)]
pub struct PageCtx {
    pub lang: Lang,
    /// Path and query of the current request, for the language switch and `aria-current`.
    pub path: String,
    pub css_href: String,
    pub icon_href: String,
    pub dev_mode: bool,
    /// The logged-in account, if any.
    pub user: Option<UserInfo>,
    /// The session's form token; forms include it as `_csrf`.
    pub csrf: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UserInfo {
    pub email: String,
    pub staff: bool,
    pub admin: bool,
}

/// Entered values and the problems found with them, for re-rendering a form.
#[derive(Clone, Debug, Default)]
pub struct FormState {
    pub values: std::collections::HashMap<String, String>,
    pub errors: Vec<components::FieldError>,
}

impl FormState {
    pub fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// The translated message for a field, if it has one.
    pub fn error(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field_id == name)
            .map(|e| e.message.clone())
    }

    /// Records a problem; `key` is a translation key.
    pub fn add_error(&mut self, lang: i18n::Lang, field: &str, key: &str) {
        self.errors.push(components::FieldError {
            field_id: field.to_string(),
            message: i18n::t(lang, key).to_string(),
        });
    }

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The language of the page being rendered (from the context `render` provides). A context of
/// its own: `tr` runs dozens of times per page, and reading `PageCtx` clones all its strings.
pub fn lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// Numbers element ids within one page (alerts, tables), so that output is deterministic.
#[derive(Clone, Default)]
struct IdCounter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

pub fn next_id() -> usize {
    use_context::<IdCounter>()
        .map(|c| c.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1)
        .unwrap_or(0)
}

/// Translates a key in the language of the page being rendered.
pub fn tr(key: &str) -> &'static str {
    i18n::t(lang(), key)
}

/// Renders a complete HTML document. The body is built inside the call so that components can
/// read the page context.
pub fn render_page<V, F>(ctx: &PageCtx, title: &str, body: F) -> String
where
    F: FnOnce() -> V,
    V: IntoView + 'static,
{
    let owner = Owner::new();
    let html = owner.with(|| {
        provide_context(ctx.clone());
        provide_context(ctx.lang);
        provide_context(IdCounter::default());
        let content = body();
        // tachys sizes its buffer from the view's own estimate, and every `view!` result is a
        // leptos `View`, which reports none; growing from there copied the page several times.
        let mut buf = String::with_capacity(64 * 1024);
        layout::document(ctx, title, content).to_html_with_buf(
            &mut buf,
            &mut leptos::tachys::view::Position::FirstChild,
            true,
            false,
            vec![],
        );
        buf
    });
    document_without_markers(&html)
}

/// Tachys marks list ends and text boundaries with `<!>` for hydration. Without hydration
/// they serve no purpose and are parse errors; dynamic text and attributes never contain a
/// raw `<` (tachys escapes it), so removing them cannot alter content. Done in one pass into
/// the final buffer: `str::replace` and a second copy for the doctype were 4 % of the CPU
/// time of the caseworker's inbox (BENCHMARKS.md).
fn document_without_markers(html: &str) -> String {
    const DOCTYPE: &str = "<!DOCTYPE html>";
    let mut out = String::with_capacity(DOCTYPE.len() + html.len());
    out.push_str(DOCTYPE);
    let mut last = 0;
    for at in memchr::memmem::find_iter(html.as_bytes(), b"<!>") {
        out.push_str(&html[last..at]);
        last = at + 3;
    }
    out.push_str(&html[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::document_without_markers;

    #[test]
    fn markers_go_and_everything_else_stays() {
        for html in [
            "",
            "<!>",
            "<p>a<!>b</p><!>",
            "<!<!>>",
            "<!-- kept --><!>>x<!",
            "ä<!>ö<!><!>ü",
        ] {
            assert_eq!(
                document_without_markers(html),
                format!("<!DOCTYPE html>{}", html.replace("<!>", "")),
                "{html}"
            );
        }
    }
}
