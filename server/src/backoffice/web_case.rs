//! The case page and everything a caseworker does on it. Every action answers with a 303 back
//! to the case (with a notice) or re-renders the page with the form's values and an error.

use std::collections::HashSet;

use amtsweg_app::components::AttachmentView;
use amtsweg_app::i18n::{t, Lang};
use amtsweg_app::pages::backoffice::{self as pages, CaseForms};
use amtsweg_app::FormState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sqlx::Row;

use super::access::{staff_case, Staff, StaffCase};
use super::audit::{self, Subject};
use super::cases::{self, Actor, Outgoing, Refused};
use super::present::{self, Reader};
use super::state::CaseState;
use super::uploads::{self, Problem};
use super::web_inbox::state_tag;
use super::{thread, web_inbox};
use crate::applications::evidence::file_label;
use crate::applications::{catalog, views};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;
use crate::time::{format_ms, now_ms};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PageParams {
    vorlage: String,
    ok: String,
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    audit::record_read(
        &state.db,
        &staff.user,
        &staff.ip,
        "case.view",
        Subject::Case(&case.id),
    )
    .await?;
    cases::mark_read_by_staff(&state.db, &case.id).await?;
    let mut forms = CaseForms::default();
    let mut chosen = String::new();
    if !p.vorlage.is_empty() {
        let body: Option<String> = sqlx::query_scalar(
            "SELECT body FROM reply_templates WHERE id = $1 AND postbox_id = $2",
        )
        .bind(&p.vorlage)
        .bind(&case.postbox_id)
        .fetch_optional(&state.db.pool)
        .await?;
        if let Some(b) = body {
            forms.message.values.insert("body".into(), b);
            chosen = p.vorlage.clone();
        }
    }
    let notice =
        (!p.ok.is_empty() && p.ok.len() < 20 && p.ok.chars().all(|c| c.is_ascii_lowercase()))
            .then(|| t(staff.ctx.lang, &format!("bo.case.ok.{}", p.ok)).to_string());
    let body = render(&state, &staff, &case, forms, notice, chosen).await?;
    Ok(private_html(body))
}

async fn render(
    state: &AppState,
    staff: &Staff,
    case: &StaffCase,
    forms: CaseForms,
    notice: Option<String>,
    chosen_template: String,
) -> AppResult<String> {
    let lang = staff.ctx.lang;
    let def = catalog::definition(&state.db, &case.service_key, case.version)
        .await?
        .ok_or(AppError::NotFound)?;
    let structured: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&case.answers).map_err(|e| AppError::Internal(e.into()))?;
    let a = views::answers_from_structured(&def, &structured);
    let shown: HashSet<&str> = structured.keys().map(String::as_str).collect();
    let sections = def
        .pages
        .iter()
        .filter(|p| {
            p.fields
                .iter()
                .any(|f| shown.contains(f.id.get_ref().as_str()))
                || p.group
                    .as_ref()
                    .is_some_and(|g| shown.contains(g.id.get_ref().as_str()))
        })
        .map(|p| views::section(p, &a, lang, String::new()))
        .collect();
    let base = format!("/verwaltung/vorgaenge/{}", case.reference);
    let evidence = sqlx::query(
        "SELECT d.id, d.file_name, d.size FROM case_documents cd JOIN documents d ON d.id = cd.document_id
         WHERE cd.case_id = $1 ORDER BY cd.field_id, d.file_name",
    )
    .bind(&case.id)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .map(|r| {
        let (id, name, size): (String, String, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        Ok(AttachmentView {
            href: format!("{base}/dokumente/{id}"),
            label: file_label(&name, size, lang),
        })
    })
    .collect::<sqlx::Result<Vec<_>>>()?;
    let messages = present::messages(
        lang,
        thread::messages(&state.db, &case.id).await?,
        Reader::Staff,
        &format!("{base}/dokumente"),
    );
    let timeline = present::timeline(
        lang,
        thread::events(&state.db, &case.id, false).await?,
        Reader::Staff,
    );
    let notes = thread::notes(&state.db, &case.id)
        .await?
        .into_iter()
        .map(|n| (n.author, format_ms(n.at), n.body))
        .collect();
    let colleagues: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.postbox_id = $1 AND u.id <> $2 ORDER BY u.email",
    )
    .bind(&case.postbox_id)
    .bind(&staff.user.id)
    .fetch_all(&state.db.pool)
    .await?;
    let forward_targets: Vec<(String, String)> = sqlx::query(
        "SELECT p.id, a.name, p.name FROM postboxes p JOIN authorities a ON a.id = p.authority_id
         WHERE p.id <> $1 ORDER BY a.name, p.name",
    )
    .bind(&case.postbox_id)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .map(|r| {
        let (id, a, p): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        Ok((id, format!("{a} – {p}")))
    })
    .collect::<sqlx::Result<_>>()?;
    let templates: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, title FROM reply_templates WHERE postbox_id = $1 ORDER BY title",
    )
    .bind(&case.postbox_id)
    .fetch_all(&state.db.pool)
    .await?;
    let current = CaseState::parse(&case.state).unwrap_or(CaseState::Received);
    let mut kinds = vec![(
        "message".to_string(),
        t(lang, "bo.case.kind_message").to_string(),
    )];
    if current.can_become(CaseState::AwaitingCitizen) {
        kinds.push(("request".into(), t(lang, "bo.case.kind_request").into()));
    }
    if current.can_become(CaseState::Approved) || current.can_become(CaseState::Rejected) {
        kinds.push(("decision".into(), t(lang, "bo.case.kind_decision").into()));
    }
    let assignee: Option<String> = match &case.assignee_id {
        Some(id) => {
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&state.db.pool)
                .await?
        }
        None => None,
    };
    let service_title = def.title.get(lang).to_string();
    let due = match (current, case.reply_due_at) {
        (CaseState::AwaitingCitizen, Some(d)) => format_ms(d),
        (s, _) if s.is_open() => format_ms(case.due_at),
        _ => "–".into(),
    };
    Ok(pages::case_page(
        &staff.ctx.page(),
        pages::CaseView {
            reference: case.reference.clone(),
            service_title,
            state: state_tag(lang, &case.state),
            applicant: case.applicant_name.clone(),
            submitted: format_ms(case.submitted_at),
            due,
            postbox: format!(
                "{} – {}",
                case.membership.authority_name, case.membership.postbox_name
            ),
            assignee: assignee.unwrap_or_else(|| t(lang, "bo.case.nobody").to_string()),
            is_mine: case.assignee_id.as_deref() == Some(staff.user.id.as_str()),
            sections,
            evidence,
            messages,
            notes,
            timeline,
            colleagues,
            state_targets: current
                .manual_targets()
                .into_iter()
                .map(|s| (s.as_str().to_string(), state_tag(lang, s.as_str()).1))
                .collect(),
            message_kinds: kinds,
            forward_targets,
            templates,
            chosen_template,
            forms,
            notice,
        },
    ))
}

/// Re-renders the case page with a form's problem (422), keeping what was typed.
async fn problem(
    state: &AppState,
    staff: &Staff,
    case: &StaffCase,
    forms: CaseForms,
) -> AppResult<Response> {
    let body = render(state, staff, case, forms, None, String::new()).await?;
    let mut resp = private_html(body);
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

fn done(case: &StaffCase, ok: &str) -> Response {
    see_other(&format!("/verwaltung/vorgaenge/{}?ok={ok}", case.reference))
}

/// A refusal that is no fault of the form: the case moved on meanwhile.
fn refused_form(lang: Lang, field: &str, e: &Refused) -> FormState {
    let mut f = FormState::default();
    let key = match e {
        Refused::Transition(..) | Refused::Stale => "bo.case.err_stale",
        Refused::NotMember => "bo.case.err_not_member",
        Refused::BadPostbox => "bo.case.err_postbox",
        Refused::Answered => "bo.case.err_stale",
        Refused::Database(_) => "bo.case.err_stale",
    };
    f.add_error(lang, field, key);
    f
}

fn db_or(e: Refused) -> Result<Refused, AppError> {
    match e {
        Refused::Database(d) => Err(d.into()),
        other => Ok(other),
    }
}

pub async fn take(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let actor = Actor {
        user: &staff.user,
        ip: &staff.ip,
    };
    match cases::take(&state.db, &actor, &case).await {
        Ok(()) => Ok(done(&case, "taken")),
        Err(e) => {
            let e = db_or(e)?;
            let forms = CaseForms {
                state: refused_form(staff.ctx.lang, "state", &e),
                ..Default::default()
            };
            problem(&state, &staff, &case, forms).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AssignForm {
    assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let actor = Actor {
        user: &staff.user,
        ip: &staff.ip,
    };
    match cases::assign(&state.db, &actor, &case, &f.assignee).await {
        Ok(()) => Ok(done(&case, "assigned")),
        Err(e) => {
            let e = db_or(e)?;
            let forms = CaseForms {
                state: refused_form(staff.ctx.lang, "assignee", &e),
                ..Default::default()
            };
            problem(&state, &staff, &case, forms).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StateForm {
    state: String,
}

pub async fn change_state(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Form(f): Form<StateForm>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let current = CaseState::parse(&case.state).unwrap_or(CaseState::Received);
    let Some(to) = CaseState::parse(&f.state).filter(|t| current.manual_targets().contains(t))
    else {
        let mut form = FormState::default();
        form.add_error(lang, "state", "bo.case.err_state");
        return problem(
            &state,
            &staff,
            &case,
            CaseForms {
                state: form,
                ..Default::default()
            },
        )
        .await;
    };
    let actor = Actor {
        user: &staff.user,
        ip: &staff.ip,
    };
    match cases::change_state(&state.db, &actor, &case, to).await {
        Ok(()) => Ok(done(&case, "state")),
        Err(e) => {
            let e = db_or(e)?;
            let forms = CaseForms {
                state: refused_form(lang, "state", &e),
                ..Default::default()
            };
            problem(&state, &staff, &case, forms).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NoteForm {
    note: String,
}

pub async fn note(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Form(f): Form<NoteForm>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let text = f.note.trim();
    if text.is_empty() || text.chars().count() > 5000 {
        let mut form = FormState::default();
        form.values.insert("note".into(), f.note.clone());
        form.add_error(staff.ctx.lang, "note", "bo.case.err_note");
        return problem(
            &state,
            &staff,
            &case,
            CaseForms {
                note: form,
                ..Default::default()
            },
        )
        .await;
    }
    let actor = Actor {
        user: &staff.user,
        ip: &staff.ip,
    };
    cases::add_note(&state.db, &actor, &case, text)
        .await
        .map_err(|e| match e {
            Refused::Database(d) => AppError::Database(d),
            other => AppError::Internal(other.into()),
        })?;
    Ok(done(&case, "note"))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ForwardForm {
    postbox: String,
    reason: String,
}

pub async fn forward(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    Form(f): Form<ForwardForm>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let mut form = FormState::default();
    form.values.insert("postbox".into(), f.postbox.clone());
    form.values.insert("reason".into(), f.reason.clone());
    if f.postbox.is_empty() {
        form.add_error(lang, "postbox", "bo.case.err_postbox");
    }
    if f.reason.trim().is_empty() || f.reason.chars().count() > 2000 {
        form.add_error(lang, "reason", "bo.case.err_reason");
    }
    if !form.is_valid() {
        return problem(
            &state,
            &staff,
            &case,
            CaseForms {
                forward: form,
                ..Default::default()
            },
        )
        .await;
    }
    let actor = Actor {
        user: &staff.user,
        ip: &staff.ip,
    };
    match cases::forward(
        &state.db,
        &actor,
        &case,
        &f.postbox,
        f.reason.trim(),
        &state.config.public_url,
    )
    .await
    {
        Ok(()) => {
            state.mail_wakeup.notify_one();
            // The case left this postbox; unless the caseworker is a member of the new one,
            // its page is no longer theirs to see.
            Ok(see_other("/verwaltung?ok=forwarded"))
        }
        Err(e) => {
            let e = db_or(e)?;
            let mut form2 = refused_form(lang, "postbox", &e);
            form2.values = form.values;
            problem(
                &state,
                &staff,
                &case,
                CaseForms {
                    forward: form2,
                    ..Default::default()
                },
            )
            .await
        }
    }
}

/// A message, request for information or decision, with attachments (multipart).
pub async fn send(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let form = uploads::read_message_form(&state, &mut multipart, None).await?;
    let mut fs = FormState::default();
    for k in ["kind", "body", "deadline", "outcome"] {
        fs.values
            .insert(k.into(), form.fields.get(k).cloned().unwrap_or_default());
    }
    let body = fs.value("body").trim().to_string();
    if body.is_empty() {
        fs.add_error(lang, "body", "bo.case.err_body");
    }
    let what = match fs.value("kind").as_str() {
        "message" => Some(Outgoing::Message),
        "request" => {
            let today = now_ms() / 86_400_000 * 86_400_000;
            match web_inbox::parse_day(&fs.value("deadline")) {
                Some(d) if d > today && d <= today + 365 * 86_400_000 => {
                    // The whole last day counts.
                    Some(Outgoing::Request {
                        deadline: d + 86_400_000 - 1,
                    })
                }
                _ => {
                    fs.add_error(lang, "deadline", "bo.case.err_deadline");
                    None
                }
            }
        }
        "decision" => match fs.value("outcome").as_str() {
            "approved" => Some(Outgoing::Decision { approved: true }),
            "rejected" => Some(Outgoing::Decision { approved: false }),
            _ => {
                fs.add_error(lang, "outcome", "bo.case.err_outcome");
                None
            }
        },
        _ => {
            fs.add_error(lang, "kind", "bo.case.err_kind");
            None
        }
    };
    if let Some(p) = &form.problem {
        fs.add_error(lang, "files", file_problem_key(p));
    }
    let (Some(what), true) = (what, fs.is_valid()) else {
        // Nothing is sent; files stored for this attempt are removed again.
        uploads::discard(&state, &form.stored).await;
        return problem(
            &state,
            &staff,
            &case,
            CaseForms {
                message: fs,
                ..Default::default()
            },
        )
        .await;
    };
    let docs: Vec<String> = form.stored.iter().map(|s| s.document_id.clone()).collect();
    let actor = Actor {
        user: &staff.user,
        ip: &staff.ip,
    };
    match cases::send(
        &state.db,
        &actor,
        &case,
        what,
        &body,
        &docs,
        &state.config.public_url,
    )
    .await
    {
        Ok(()) => {
            state.mail_wakeup.notify_one();
            Ok(done(&case, "sent"))
        }
        Err(e) => {
            uploads::discard(&state, &form.stored).await;
            let e = db_or(e)?;
            let mut f2 = refused_form(lang, "kind", &e);
            f2.values = fs.values;
            problem(
                &state,
                &staff,
                &case,
                CaseForms {
                    message: f2,
                    ..Default::default()
                },
            )
            .await
        }
    }
}

pub fn file_problem_key(p: &Problem) -> &'static str {
    match p {
        Problem::TooLarge => "thread.err_file_size",
        Problem::TooMany => "thread.err_file_count",
        Problem::Type => "thread.err_file_type",
        Problem::Script => "thread.err_file_script",
        Problem::Quota => "form.v.file_quota",
        Problem::Empty => "thread.err_file_empty",
    }
}

/// Evidence and attachments of the case, for members of its postbox; every download audited.
pub async fn download(
    State(state): State<AppState>,
    staff: Staff,
    Path((reference, doc)): Path<(String, String)>,
) -> AppResult<Response> {
    let case = staff_case(&state.db, &staff.user.id, &reference).await?;
    let (key, name, content_type, size) = thread::case_document(&state.db, &case.id, &doc)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record_read(
        &state.db,
        &staff.user,
        &staff.ip,
        "document.download",
        Subject::Document(&doc),
    )
    .await?;
    crate::applications::evidence::send_file(&state, &key, &name, &content_type, size).await
}
