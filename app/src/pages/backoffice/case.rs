use leptos::prelude::*;

use crate::components::*;
use crate::pages::apply::CheckSection;
use crate::{render_page, tr, FormState, PageCtx};

/// Entered values and errors of the case page's forms, kept when one of them failed.
#[derive(Clone, Default)]
pub struct CaseForms {
    pub message: FormState,
    pub note: FormState,
    pub forward: FormState,
    pub state: FormState,
}

pub struct CaseView {
    pub reference: String,
    pub service_title: String,
    pub state: (TagKind, String),
    pub applicant: String,
    pub submitted: String,
    pub due: String,
    pub postbox: String,
    pub assignee: String,
    pub is_mine: bool,
    pub sections: Vec<CheckSection>,
    pub evidence: Vec<AttachmentView>,
    pub messages: Vec<MessageView>,
    pub notes: Vec<(String, String, String)>,
    pub timeline: Vec<(String, String)>,
    pub colleagues: Vec<(String, String)>,
    pub state_targets: Vec<(String, String)>,
    /// Kinds of message this case can take now: (value, label).
    pub message_kinds: Vec<(String, String)>,
    pub forward_targets: Vec<(String, String)>,
    pub templates: Vec<(String, String)>,
    pub fees: Vec<crate::pages::fees::CaseFeeRow>,
    pub chosen_template: String,
    pub forms: CaseForms,
    /// A success message after the last action.
    pub notice: Option<String>,
}

pub fn case_page(ctx: &PageCtx, v: CaseView) -> String {
    let title = format!("{} – {}", v.reference, v.service_title);
    let csrf = ctx.csrf.clone().unwrap_or_default();
    render_page(ctx, &title, move || {
        let base = format!("/verwaltung/vorgaenge/{}", v.reference);
        let all_errors: Vec<FieldError> = [
            &v.forms.message,
            &v.forms.note,
            &v.forms.forward,
            &v.forms.state,
        ]
        .iter()
        .flat_map(|f| f.errors.clone())
        .collect();
        let m = v.forms.message.clone();
        let kind = if m.value("kind").is_empty() {
            "message".to_string()
        } else {
            m.value("kind")
        };
        let outcomes = vec![
            (
                "approved".to_string(),
                tr("bo.case.outcome_approved").to_string(),
            ),
            (
                "rejected".to_string(),
                tr("bo.case.outcome_rejected").to_string(),
            ),
        ];
        view! {
            <p><a class="aw-back-link" href="/verwaltung">{tr("bo.case.back")}</a></p>
            <p class="kern-preline">{v.postbox.clone()}</p>
            <h1>{format!("{} – {}", v.reference, v.service_title)}</h1>
            {v.notice.map(|n| view! { <Alert kind=AlertKind::Success title=n announce=true><span></span></Alert> })}
            <ErrorSummary errors=all_errors/>
            <SummaryList rows=vec![
                SummaryRow { key: tr("bo.case.state").into(), value: v.state.1.clone(), change: None },
                SummaryRow { key: tr("bo.case.applicant").into(), value: v.applicant.clone(), change: None },
                SummaryRow { key: tr("bo.case.submitted").into(), value: v.submitted.clone(), change: None },
                SummaryRow { key: tr("bo.case.due").into(), value: v.due.clone(), change: None },
                SummaryRow { key: tr("bo.case.assignee").into(), value: v.assignee.clone(), change: None },
            ]/>
            <div class="aw-actions">
                {(!v.is_mine).then(|| view! {
                    <form method="post" action=format!("{base}/uebernehmen")>
                        <CsrfField/>
                        <Button kind=ButtonKind::Primary label=tr("bo.case.take")/>
                    </form>
                })}
            </div>
            <p>
                <a class="kern-link" href=format!("{base}/export.zip")>{tr("export.link")}</a>
                <br/><span class="aw-muted">{tr("export.hint")}</span>
            </p>

            <h2 id="antworten">{tr("bo.case.answers")}</h2>
            {v.sections.into_iter().map(|s| {
                let rows = s.rows.into_iter().map(|(k, val)| SummaryRow { key: k, value: val, change: None }).collect();
                view! { <h3 class="kern-heading-small">{s.title}</h3><SummaryList rows=rows/> }
            }).collect_view()}
            <h2>{tr("bo.case.evidence")}</h2>
            {if v.evidence.is_empty() {
                view! { <p>{tr("bo.case.no_evidence")}</p> }.into_any()
            } else {
                view! {
                    <ul class="aw-thread__files">
                        {v.evidence.into_iter().map(|a| view! { <li><a class="kern-link" href=a.href>{a.label}</a></li> }).collect_view()}
                    </ul>
                }.into_any()
            }}

            <h2>{tr("bo.case.thread")}</h2>
            <Thread messages=v.messages empty=tr("bo.case.no_messages")/>

            <h2 id="nachricht">{tr("bo.case.write")}</h2>
            {(!v.templates.is_empty()).then(|| view! {
                <form method="get" action=base.clone() class="aw-inline-form">
                    <Select name="vorlage" label=tr("bo.case.template") options=v.templates.clone() selected=v.chosen_template.clone()/>
                    <Button kind=ButtonKind::Tertiary label=tr("bo.case.template_use")/>
                </form>
            })}
            <form method="post" enctype="multipart/form-data" action=format!("{base}/nachricht?_csrf={csrf}")>
                <Radios name="kind" legend=tr("bo.case.kind") options=v.message_kinds selected=kind error=m.error("kind")/>
                <TextArea name="body" label=tr("bo.case.body") value=m.value("body") required=true max_length=20000 error=m.error("body")/>
                <TextInput name="deadline" label=tr("bo.case.deadline") hint=tr("bo.case.deadline_hint").to_string() value=m.value("deadline") input_type="date" error=m.error("deadline")/>
                <Radios name="outcome" legend=tr("bo.case.outcome") hint=tr("bo.case.outcome_hint").to_string() options=outcomes selected=m.value("outcome") error=m.error("outcome")/>
                <FileInput name="files" label=tr("bo.case.files") hint=tr("bo.case.files_hint").to_string() accept=".pdf,.jpg,.jpeg,.png" multiple=true error=m.error("files")/>
                <Button kind=ButtonKind::Primary label=tr("bo.case.send")/>
            </form>

            <crate::pages::fees::CaseFees rows=v.fees new_href=format!("{base}/gebuehren/neu")/>

            <h2>{tr("bo.case.manage")}</h2>
            <div class="aw-manage">
            {(!v.state_targets.is_empty()).then(|| view! {
                <form method="post" action=format!("{base}/status")>
                    <CsrfField/>
                    <Select name="state" label=tr("bo.case.new_state") options=v.state_targets required=true error=v.forms.state.error("state")/>
                    <Button kind=ButtonKind::Secondary label=tr("bo.case.set_state")/>
                </form>
            })}
            {(!v.colleagues.is_empty()).then(|| view! {
                <form method="post" action=format!("{base}/zuweisen")>
                    <CsrfField/>
                    <Select name="assignee" label=tr("bo.case.assign_to") options=v.colleagues required=true/>
                    <Button kind=ButtonKind::Secondary label=tr("bo.case.assign")/>
                </form>
            })}
            {(!v.forward_targets.is_empty()).then(|| view! {
                <form method="post" action=format!("{base}/weiterleiten")>
                    <CsrfField/>
                    <Select name="postbox" label=tr("bo.case.forward_to") options=v.forward_targets required=true selected=v.forms.forward.value("postbox") error=v.forms.forward.error("postbox")/>
                    <TextArea name="reason" label=tr("bo.case.forward_reason") hint=tr("bo.case.forward_reason_hint").to_string() value=v.forms.forward.value("reason") required=true max_length=2000 error=v.forms.forward.error("reason")/>
                    <Button kind=ButtonKind::Secondary label=tr("bo.case.forward")/>
                </form>
            })}
            </div>

            <h2>{tr("bo.case.notes")}</h2>
            <p class="aw-muted">{tr("bo.case.notes_hint")}</p>
            {if v.notes.is_empty() {
                view! { <p>{tr("bo.case.no_notes")}</p> }.into_any()
            } else {
                view! {
                    <ul class="aw-notes">
                        {v.notes.into_iter().map(|(who, at, body)| view! {
                            <li><p class="aw-muted">{format!("{who} · {at}")}</p><div class="aw-thread__body">{body}</div></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <form method="post" action=format!("{base}/notiz")>
                <CsrfField/>
                <TextArea name="note" label=tr("bo.case.note") value=v.forms.note.value("note") required=true max_length=5000 error=v.forms.note.error("note")/>
                <Button kind=ButtonKind::Secondary label=tr("bo.case.add_note")/>
            </form>

            <h2>{tr("bo.case.timeline")}</h2>
            <Timeline items=v.timeline/>
        }
    })
}
