//! The case page: answers, evidence, thread, notes, timeline and the forms for every action.

use amtsweg_app::components::AttachmentView;
use amtsweg_app::i18n::t;
use amtsweg_app::pages::backoffice::{self as pages, CaseForms};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sqlx::Row;

use super::access::{postbox_members, staff_case, Staff, StaffCase};
use super::audit::{self, Subject};
use super::cases;
use super::present::{self, Reader};
use super::state::CaseState;
use super::thread;
use super::web_inbox::state_tag;
use crate::applications::evidence::file_label;
use crate::applications::{catalog, views};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other};
use crate::state::AppState;
use crate::time::format_ms;

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
    // Most views find nothing unread: no write for them.
    if case.staff_unread > 0 {
        cases::mark_read_by_staff(&state.db, &case.id).await?;
    }
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
    let structured: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        &state
            .db
            .vault
            .open(&state.db.pool, case.answers.clone())
            .await?,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let sections = views::submitted_sections(&def, &structured, lang);
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
    let mut colleagues = postbox_members(&state.db, &case.postbox_id).await?;
    colleagues.retain(|(id, _)| *id != staff.user.id);
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
            fees: crate::payments::web_staff::case_rows(state, lang, case).await?,
            chosen_template,
            forms,
            notice,
        },
    ))
}

/// Re-renders the case page with a form's problem (422), keeping what was typed.
pub(super) async fn problem(
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

pub(super) fn done(case: &StaffCase, ok: &str) -> Response {
    see_other(&format!("/verwaltung/vorgaenge/{}?ok={ok}", case.reference))
}
