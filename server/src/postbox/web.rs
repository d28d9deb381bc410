use amtsweg_app::i18n::{t, Lang};
use amtsweg_app::pages::postbox::{self as pages, ApplicationView, OpenRequest, ThreadRow};
use amtsweg_app::FormState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sqlx::Row;

use crate::accounts::auth::User;
use crate::backoffice::cases::{self, Refused};
use crate::backoffice::present::{self, Reader};
use crate::backoffice::thread;
use crate::backoffice::uploads;
use crate::backoffice::web_actions::file_problem_key;
use crate::backoffice::web_inbox::citizen_state_tag;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other, Authed};
use crate::http::Ctx;
use crate::state::AppState;
use crate::time::format_ms;

pub async fn list(State(state): State<AppState>, Authed(ctx, user): Authed) -> AppResult<Response> {
    let lang = ctx.lang;
    // Bounded by its LIMIT and the user_id index: read inline (see db::read).
    let rows = state
        .db
        .read(
            &format!(
                "SELECT c.reference, {}, c.state, c.status, c.updated_at, c.citizen_unread FROM cases c
                 JOIN services s ON s.service_key = c.service_key
                 WHERE c.user_id = $1 ORDER BY c.updated_at DESC, c.id LIMIT 200",
                crate::applications::catalog::title_column(lang)
            ),
            &[user.id.as_str().into()],
        )
        .await?
        .into_iter()
        .map(|r| {
            let reference = r.text(0)?;
            let (st, status) = (r.text(2)?, r.text(3)?);
            Ok(ThreadRow {
                href: format!("/konto/postfach/{reference}"),
                title: r.text(1)?,
                reference,
                state: citizen_state(lang, &st, &status),
                updated: format_ms(r.int(4)?),
                unread: r.int(5)?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(private_html(pages::list(&ctx.page(), rows)))
}

/// An unrouted case is shown as "being forwarded", whatever its processing state.
fn citizen_state(
    lang: Lang,
    state: &str,
    status: &str,
) -> (amtsweg_app::components::TagKind, String) {
    if status == "unrouted" {
        (
            amtsweg_app::components::TagKind::Warning,
            t(lang, "apply.status.unrouted").to_string(),
        )
    } else {
        citizen_state_tag(lang, state)
    }
}

struct CitizenCase {
    id: String,
    reference: String,
    service_title: String,
    state: String,
    status: String,
    submitted_at: i64,
    postbox_id: Option<String>,
    unread: i64,
}

/// The citizen's own case, or 404 (a foreign reference looks exactly like a missing one).
async fn own_case(
    state: &AppState,
    user: &User,
    lang: Lang,
    reference: &str,
) -> AppResult<CitizenCase> {
    let r = sqlx::query(&format!(
        "SELECT c.id, c.reference, {}, c.state, c.status, c.submitted_at, c.postbox_id, c.citizen_unread, c.user_id FROM cases c
         JOIN services s ON s.service_key = c.service_key WHERE c.reference = $1",
        crate::applications::catalog::title_column(lang)
    ))
    .bind(reference)
    .fetch_optional(&state.db.pool)
    .await?;
    let r = crate::db::owned(r, &user.id)?.ok_or(AppError::NotFound)?;
    Ok(CitizenCase {
        id: r.try_get(0)?,
        reference: r.try_get(1)?,
        service_title: r.try_get(2)?,
        state: r.try_get(3)?,
        status: r.try_get(4)?,
        submitted_at: r.try_get(5)?,
        postbox_id: r.try_get(6)?,
        unread: r.try_get(7)?,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Params {
    ok: String,
}

pub async fn application(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(reference): Path<String>,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let case = own_case(&state, &user, ctx.lang, &reference).await?;
    if case.unread > 0 {
        cases::mark_read_by_citizen(&state.db, &case.id).await?;
    }
    let notice = (p.ok == "replied").then(|| t(ctx.lang, "pb.app.ok_replied").to_string());
    Ok(private_html(
        render(&state, &ctx, &case, FormState::default(), notice).await?,
    ))
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    case: &CitizenCase,
    form: FormState,
    notice: Option<String>,
) -> AppResult<String> {
    let lang = ctx.lang;
    let authority = match &case.postbox_id {
        Some(pb) => sqlx::query(
            "SELECT a.name, a.street, a.postal_code, a.city, a.email, a.phone, p.email FROM postboxes p
             JOIN authorities a ON a.id = p.authority_id WHERE p.id = $1",
        )
        .bind(pb)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|r| -> sqlx::Result<(String, Vec<String>)> {
            let g = |i: usize| r.try_get::<String, _>(i);
            let contact_mail = {
                let pm = g(6)?;
                if pm.is_empty() { g(4)? } else { pm }
            };
            Ok((
                g(0)?,
                vec![
                    g(1)?,
                    format!("{} {}", g(2)?, g(3)?),
                    format!("{}: {}", t(lang, "pb.app.email"), contact_mail),
                    format!("{}: {}", t(lang, "pb.app.phone"), g(5)?),
                ],
            ))
        })
        .transpose()?,
        None => None,
    };
    let authority_name = authority
        .as_ref()
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| t(lang, "pb.app.the_authority").to_string());
    let list = thread::messages(&state.db, &case.id).await?;
    let open_request = list
        .iter()
        .rev()
        .find(|m| m.kind == "request" && m.answered_at.is_none())
        .map(|m| OpenRequest {
            id: m.id.clone(),
            deadline: m.deadline_at.map(format_ms).unwrap_or_default(),
        });
    let messages = present::messages(
        lang,
        list,
        Reader::Citizen {
            authority: &authority_name,
        },
        &format!("/konto/postfach/{}/dokumente", case.reference),
    );
    let timeline = present::timeline(
        lang,
        thread::events(&state.db, &case.id, true).await?,
        Reader::Citizen {
            authority: &authority_name,
        },
    );
    let state_key = if case.status == "unrouted" {
        "unrouted"
    } else {
        case.state.as_str()
    };
    Ok(pages::application(
        &ctx.page(),
        ApplicationView {
            reference: case.reference.clone(),
            service_title: case.service_title.clone(),
            state: citizen_state(lang, &case.state, &case.status),
            state_text: t(lang, &format!("pb.state_text.{state_key}")).to_string(),
            submitted: format_ms(case.submitted_at),
            authority,
            timeline,
            messages,
            open_request,
            form,
            notice,
        },
    ))
}

/// The citizen answers a request for information, with text and files.
pub async fn reply(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path((reference, request)): Path<(String, String)>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let case = own_case(&state, &user, lang, &reference).await?;
    let form = uploads::read_message_form(&state, &mut multipart, Some(&user.id), &case.id).await?;
    let mut fs = FormState::default();
    let body = form.fields.get("body").cloned().unwrap_or_default();
    fs.values.insert("body".into(), body.clone());
    if body.trim().is_empty() {
        fs.add_error(lang, "body", "pb.app.err_body");
    }
    if let Some(p) = &form.problem {
        fs.add_error(lang, "files", file_problem_key(p));
    }
    let docs: Vec<String> = form.stored.iter().map(|s| s.document_id.clone()).collect();
    if fs.is_valid() {
        match cases::reply(&state.db, &user, &case.id, &request, body.trim(), &docs).await {
            Ok(()) => {
                return Ok(see_other(&format!(
                    "/konto/postfach/{reference}?ok=replied"
                )));
            }
            Err(Refused::Database(e)) => return Err(e.into()),
            Err(_) => fs.add_error(lang, "body", "pb.app.err_answered"),
        }
    }
    // The uploads stay in the citizen's documents (reusable), but are not sent.
    let mut resp = private_html(render(&state, &ctx, &case, fs, None).await?);
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

pub async fn download(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path((reference, doc)): Path<(String, String)>,
) -> AppResult<Response> {
    let case = own_case(&state, &user, ctx.lang, &reference).await?;
    let (key, name, content_type, size) = thread::case_document(&state.db, &case.id, &doc)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::applications::evidence::send_file(&state, &key, &name, &content_type, size).await
}
