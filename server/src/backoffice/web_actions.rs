//! What a caseworker does on the case page: take, assign, change state, note, forward, and
//! send a message, request or decision with attachments; and evidence downloads. Each answers
//! with a 303 back to the case or the case page re-rendered with the form's problem.

use amtsweg_app::i18n::Lang;
use amtsweg_app::pages::backoffice::CaseForms;
use amtsweg_app::FormState;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use axum::Form;

use super::access::{staff_case, Staff};
use super::audit::{self, Subject};
use super::cases::{self, Actor, Outgoing, Refused};
use super::state::CaseState;
use super::thread;
use super::uploads::{self, Problem};
use super::web_case::{done, problem};
use super::web_inbox;
use crate::error::{AppError, AppResult};
use crate::http::ctx::see_other;
use crate::state::AppState;
use crate::time::now_ms;

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
    let form = uploads::read_message_form(&state, &mut multipart, None, &case.id).await?;
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
        Ok(_) => {
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
