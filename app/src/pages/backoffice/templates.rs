use leptos::prelude::*;

use crate::components::*;
use crate::i18n::t;
use crate::{render_page, tr, FormState, PageCtx};

pub struct TemplateRow {
    pub id: String,
    pub title: String,
    pub body: String,
}

pub struct TemplatesView {
    pub postbox_id: String,
    pub postbox_name: String,
    pub can_edit: bool,
    pub rows: Vec<TemplateRow>,
    pub form: FormState,
    pub notice: Option<String>,
}

pub fn templates(ctx: &PageCtx, v: TemplatesView) -> String {
    render_page(ctx, t(ctx.lang, "bo.templates.title"), move || {
        let action = format!("/verwaltung/postfach/{}/vorlagen", v.postbox_id);
        view! {
            <p><a class="aw-back-link" href=format!("/verwaltung/postfach/{}", v.postbox_id)>{tr("bo.templates.back")}</a></p>
            <p class="kern-preline">{v.postbox_name.clone()}</p>
            <h1>{tr("bo.templates.title")}</h1>
            {v.notice.map(|n| view! { <Alert kind=AlertKind::Success title=n announce=true><span></span></Alert> })}
            <ErrorSummary errors=v.form.errors.clone()/>
            {if v.rows.is_empty() {
                view! { <p>{tr("bo.templates.none")}</p> }.into_any()
            } else {
                view! {
                    <ul class="aw-notes">
                        {v.rows.into_iter().map(|r| {
                            let del = format!("{action}/{}/loeschen", r.id);
                            let title = r.title.clone();
                            view! {
                                <li>
                                    <h2 class="kern-heading-small">{r.title}</h2>
                                    <div class="aw-thread__body">{r.body}</div>
                                    {v.can_edit.then(|| view! {
                                        <form method="post" action=del>
                                            <CsrfField/>
                                            <button type="submit" class="aw-btn-link">{tr("bo.templates.delete")}<span class="aw-sr-only">{format!(" {title}")}</span></button>
                                        </form>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {v.can_edit.then(|| view! {
                <h2>{tr("bo.templates.new")}</h2>
                <form method="post" action=action.clone()>
                    <CsrfField/>
                    <TextInput name="title" label=tr("bo.templates.field_title") value=v.form.value("title") required=true max_length=120 error=v.form.error("title")/>
                    <TextArea name="body" label=tr("bo.templates.field_body") value=v.form.value("body") required=true max_length=20000 error=v.form.error("body")/>
                    <Button kind=ButtonKind::Primary label=tr("bo.templates.save")/>
                </form>
            })}
        }
    })
}
