//! Filling in: one topic per page, answers saved on every step (also with mistakes, so nothing
//! typed is lost), then check, declare and submit.

use std::sync::Arc;

use amtsweg_app::components::FieldError;
use amtsweg_app::i18n::{t, Lang};
use amtsweg_app::pages::apply::{self, CheckView, ConfirmationView, FilesView, FormPageView};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use serde_json::Value;
use sqlx::Row;

use super::answers::{self, Answers};
use super::definition::{Definition, Field, FieldType, Page};
use super::submit::{self, Outcome};
use super::{catalog, views};
use crate::accounts::auth::User;
use crate::crypto::Owner;
use crate::db::{owned, CachedDraft};
use crate::error::{AppError, AppResult};
use crate::http::ctx::{private_html, see_other, Authed};
use crate::state::AppState;
use crate::time::now_ms;

pub struct Draft {
    pub id: String,
    pub def: Arc<Definition>,
    /// The answers in force: those of fields the citizen can see. Everything reads these;
    /// changes go through [`Draft::edit`].
    pub answers: Answers,
    /// Answers of fields hidden since (see `answers::split_hidden`), stored with the draft.
    hidden: Answers,
}

impl Draft {
    fn new(id: &str, def: Arc<Definition>, stored: Answers) -> Self {
        let (answers, hidden) = answers::split_hidden(&def, stored);
        Self {
            id: id.to_string(),
            def,
            answers,
            hidden,
        }
    }

    /// Changes the stored answers, hidden ones included (a same-page field is sent even while
    /// hidden), then decides again which are in force.
    pub fn edit<R>(&mut self, change: impl FnOnce(&mut Answers) -> R) -> R {
        let mut all = self.stored();
        let out = change(&mut all);
        (self.answers, self.hidden) = answers::split_hidden(&self.def, all);
        out
    }

    /// Everything the draft keeps.
    fn stored(&mut self) -> Answers {
        answers::unite(
            std::mem::take(&mut self.answers),
            std::mem::take(&mut self.hidden),
        )
    }

    /// Every answer the draft keeps, hidden ones included: what it stores, what a field
    /// rendered while hidden shows, and what limits on attached files count.
    pub fn kept(&self) -> std::borrow::Cow<'_, Answers> {
        if self.hidden.is_empty() {
            std::borrow::Cow::Borrowed(&self.answers)
        } else {
            std::borrow::Cow::Owned(answers::unite(self.answers.clone(), self.hidden.clone()))
        }
    }
}

async fn draft_row(state: &AppState, user: &User, id: &str) -> AppResult<CachedDraft> {
    let cache = state.db.drafts.as_ref();
    if let Some(hit) = cache.and_then(|c| c.get(&id.to_string())) {
        // The owner is part of the cached row: another account's id is "not found" as before.
        return if hit.0 == user.id {
            Ok(hit)
        } else {
            Err(AppError::NotFound)
        };
    }
    let since = cache.map(|c| c.generation()).unwrap_or(0);
    let row =
        sqlx::query("SELECT service_key, version, answers, user_id FROM drafts WHERE id = $1")
            .bind(id)
            .fetch_optional(&state.db.pool)
            .await?;
    let row = owned(row, &user.id)?.ok_or(AppError::NotFound)?;
    // Kept in memory decrypted, like every value a request works with.
    let raw = state.db.vault.open(&state.db.pool, row.try_get(2)?).await?;
    let found: CachedDraft = (
        user.id.clone(),
        row.try_get(0)?,
        row.try_get(1)?,
        Arc::from(raw),
    );
    if let Some(c) = cache {
        c.fill(since, id.to_string(), found.clone());
    }
    Ok(found)
}

pub async fn load_draft(state: &AppState, user: &User, id: &str) -> AppResult<Draft> {
    let (_, key, version, raw) = draft_row(state, user, id).await?;
    let def = catalog::definition(&state.db, &key, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let stored = serde_json::from_str(&raw).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Draft::new(id, def, stored))
}

pub async fn save_draft(state: &AppState, d: &Draft) -> AppResult<()> {
    let key = state
        .db
        .vault
        .key_of_pooled(&state.db.pool, Owner::Draft, &d.id)
        .await?;
    let plain = serde_json::to_string(&*d.kept()).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query(
        "UPDATE drafts SET answers = $1, updated_at = $2, reminded_at = NULL WHERE id = $3",
    )
    .bind(state.db.vault.seal(&key, &plain))
    .bind(now_ms())
    .bind(&d.id)
    .execute(state.db.writer())
    .await?;
    state.db.forget_draft(&d.id);
    Ok(())
}

/// The visible pages before and after a page, and how many visible pages come before it. In
/// definition order, so that a hidden page opened by its address leads back and on to the
/// visible pages around it.
fn neighbours<'a>(
    def: &'a Definition,
    a: &Answers,
    page: &str,
) -> (Option<&'a Page>, Option<&'a Page>, usize) {
    let at = def
        .pages
        .iter()
        .position(|p| p.id.get_ref() == page)
        .unwrap_or(0);
    let shown = |p: &&Page| answers::page_visible(p, a);
    let before: Vec<&Page> = def.pages[..at].iter().filter(shown).collect();
    let next = def.pages.iter().skip(at + 1).find(shown);
    (before.last().copied(), next, before.len())
}

/// The citizen's earlier uploads, offered for reuse: (id, label, content type, size).
async fn library(state: &AppState, user: &User) -> AppResult<Vec<(String, String, String, i64)>> {
    let rows = sqlx::query("SELECT id, file_name, content_type, size FROM documents WHERE user_id = $1 ORDER BY created_at DESC LIMIT 100")
        .bind(&user.id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<sqlx::Result<Vec<_>>>()
        .map_err(Into::into)
}

/// Whether a page's form shows a field. Without JavaScript nothing can appear while the page
/// is filled in, so a field that depends on an answer on the same page is always shown, with a
/// hint saying when it is needed.
fn on_form(d: &Draft, page: &Page, f: &Field) -> bool {
    answers::field_visible(f, &d.answers) || views::depends_on_page(f, page)
}

async fn render_page(
    state: &AppState,
    user: &User,
    ctx: &crate::http::Ctx,
    d: &Draft,
    page: &Page,
    problems: &[answers::Problem],
) -> AppResult<String> {
    let lang = ctx.lang;
    let has_files = page.fields.iter().any(|f| f.kind == FieldType::File);
    let docs = if has_files {
        library(state, user).await?
    } else {
        Vec::new()
    };
    let (prev, _, index) = neighbours(&d.def, &d.answers, page.id.get_ref());
    let page_shown = answers::page_visible(page, &d.answers);
    let view = FormPageView {
        service_title: d.def.title.get(lang).to_string(),
        title: page.title.get(lang).to_string(),
        intro: page.intro.as_ref().map(|i| i.get(lang).to_string()),
        steps: views::steps(&d.def, &d.answers, lang),
        current: index,
        action: format!("/antraege/{}/{}", d.id, page.id.get_ref()),
        back_href: match prev {
            Some(p) => format!("/antraege/{}/{}", d.id, p.id.get_ref()),
            None => format!("/leistungen/{}", d.def.service_key),
        },
        fields: page
            .fields
            .iter()
            .filter(|f| on_form(d, page, f))
            .map(|f| {
                // A hidden page can still be opened by its address (the browser's back
                // button): it shows what was entered there, as kept with the draft.
                let shown = if page_shown && answers::field_visible(f, &d.answers) {
                    std::borrow::Cow::Borrowed(&d.answers)
                } else {
                    d.kept()
                };
                let mut v = views::field_view_on(f, page, &shown, lang, problems);
                if f.kind == FieldType::File {
                    let attached = answers::list(&shown, f.id.get_ref());
                    let base = format!(
                        "/antraege/{}/{}/datei/{}",
                        d.id,
                        page.id.get_ref(),
                        f.id.get_ref()
                    );
                    v.files = Some(FilesView {
                        attached: attached
                            .iter()
                            .cloned()
                            .zip(answers::list(&shown, &answers::files_key(f.id.get_ref())))
                            .collect(),
                        library: docs
                            .iter()
                            .filter(|(id, _, ct, _)| {
                                !attached.contains(id)
                                    && f.accepted().contains(&ct.rsplit('/').next().unwrap_or(""))
                            })
                            .map(|(id, name, _, size)| {
                                (id.clone(), super::evidence::file_label(name, *size, lang))
                            })
                            .collect(),
                        accept: f
                            .accepted()
                            .iter()
                            .map(|k| {
                                if *k == "jpeg" {
                                    ".jpg,.jpeg,image/jpeg".to_string()
                                } else {
                                    format!(
                                        ".{k},{}",
                                        if *k == "pdf" {
                                            "application/pdf"
                                        } else {
                                            "image/png"
                                        }
                                    )
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                        upload_action: base.clone(),
                        library_action: format!("{base}/vorhandene"),
                        remove_action: format!("{base}/entfernen"),
                    });
                }
                v
            })
            .collect(),
        group: page
            .group
            .as_ref()
            .map(|g| views::group_view(g, &d.answers, lang, problems)),
        errors: views::errors(problems),
    };
    Ok(apply::form_page(&ctx.page(), view))
}

/// The page again with one problem on a field (failed upload), answers untouched.
pub async fn render_with_problems(
    state: &AppState,
    ctx: &crate::http::Ctx,
    user: &User,
    d: &Draft,
    page_id: &str,
    field_id: &str,
    message: String,
) -> AppResult<Response> {
    let page = d.def.page(page_id).ok_or(AppError::NotFound)?;
    let problems = [answers::Problem {
        input: field_id.to_string(),
        message,
    }];
    let mut resp = private_html(render_page(state, user, ctx, d, page, &problems).await?);
    *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

pub async fn page(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path((id, page_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let d = load_draft(&state, &user, &id).await?;
    let page = d.def.page(&page_id).ok_or(AppError::NotFound)?;
    Ok(private_html(
        render_page(&state, &user, &ctx, &d, page, &[]).await?,
    ))
}

/// Stores what a page's form sent, replacing that page's earlier answers. Only the fields the
/// page showed (`rendered`) are taken: a field hidden by an answer on another page was not in
/// the form, and its kept answer must not become empty.
fn take_answers(a: &mut Answers, page: &Page, rendered: &[&str], sent: &[(String, String)]) {
    let mut names: Vec<(String, FieldType)> = page
        .fields
        .iter()
        .filter(|f| rendered.contains(&f.id.get_ref().as_str()))
        .map(|f| (f.id.get_ref().clone(), f.kind))
        .collect();
    if let Some(g) = &page.group {
        let n = answers::group_count(a, g.id.get_ref(), g.min).min(g.max);
        for i in 0..n {
            for f in &g.fields {
                names.push((
                    answers::group_input(g.id.get_ref(), i, f.id.get_ref()),
                    f.kind,
                ));
            }
        }
    }
    for (name, kind) in names {
        match kind {
            // Files are attached and removed by their own forms.
            FieldType::File => {}
            FieldType::Date => {
                for part in ["day", "month", "year"] {
                    let key = format!("{name}.{part}");
                    let v = sent
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    a.insert(key, Value::String(v.chars().take(8).collect()));
                }
            }
            FieldType::Checkboxes => {
                let v: Vec<Value> = sent
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .take(50)
                    .map(|(_, v)| Value::String(v.clone()))
                    .collect();
                a.insert(name, Value::Array(v));
            }
            _ => {
                let v = sent
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                // Over-long input is kept up to a bound so the page can say it is too long.
                a.insert(name, Value::String(v.chars().take(5000).collect()));
            }
        }
    }
}

/// Adds an item to or removes one from the page's repeated group.
fn change_group(a: &mut Answers, page: &Page, action: &str) {
    let Some(g) = &page.group else { return };
    let gid = g.id.get_ref();
    let n = answers::group_count(a, gid, g.min).min(g.max);
    if action == "add" && n < g.max {
        a.insert(format!("{gid}#count"), Value::String((n + 1).to_string()));
    } else if let Some(i) = action
        .strip_prefix("remove:")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if i < n && n > g.min.max(1) {
            // Later items move up one place.
            for j in i..n - 1 {
                for f in &g.fields {
                    for suffix in ["", ".day", ".month", ".year"] {
                        let from = format!(
                            "{}{suffix}",
                            answers::group_input(gid, j + 1, f.id.get_ref())
                        );
                        let to =
                            format!("{}{suffix}", answers::group_input(gid, j, f.id.get_ref()));
                        match a.remove(&from) {
                            Some(v) => a.insert(to, v),
                            None => a.remove(&to),
                        };
                    }
                }
            }
            for f in &g.fields {
                for suffix in ["", ".day", ".month", ".year"] {
                    a.remove(&format!(
                        "{}{suffix}",
                        answers::group_input(gid, n - 1, f.id.get_ref())
                    ));
                }
            }
            a.insert(format!("{gid}#count"), Value::String((n - 1).to_string()));
        }
    }
}

pub async fn save_page(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path((id, page_id)): Path<(String, String)>,
    Form(sent): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut d = load_draft(&state, &user, &id).await?;
    let def = d.def.clone();
    let page = def.page(&page_id).ok_or(AppError::NotFound)?;
    let action = sent
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("next");
    let rendered: Vec<&str> = page
        .fields
        .iter()
        .filter(|f| on_form(&d, page, f))
        .map(|f| f.id.get_ref().as_str())
        .collect();
    d.edit(|a| {
        take_answers(a, page, &rendered, &sent);
        change_group(a, page, action);
    });
    save_draft(&state, &d).await?;
    let here = format!("/antraege/{id}/{page_id}");
    match action {
        "save" => return Ok(see_other("/konto/antraege")),
        "add" => return Ok(see_other(&here)),
        a if a.starts_with("remove:") => return Ok(see_other(&here)),
        _ => {}
    }
    let today = time::OffsetDateTime::now_utc().date();
    // A page hidden by an earlier answer is not part of the application: what it sent is kept
    // for when it is shown again, and checked then.
    let problems = if answers::page_visible(page, &d.answers) {
        answers::check_page(page, &d.answers, today, ctx.lang)
    } else {
        Vec::new()
    };
    if !problems.is_empty() {
        let mut resp = private_html(render_page(&state, &user, &ctx, &d, page, &problems).await?);
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(resp);
    }
    let (_, next, _) = neighbours(&def, &d.answers, &page_id);
    Ok(see_other(&match next {
        Some(p) => format!("/antraege/{id}/{}", p.id.get_ref()),
        None => format!("/antraege/{id}/pruefen"),
    }))
}

fn check_view(d: &Draft, lang: Lang) -> CheckView {
    let visible = answers::visible_pages(&d.def, &d.answers);
    CheckView {
        service_title: d.def.title.get(lang).to_string(),
        action: format!("/antraege/{}/absenden", d.id),
        back_href: visible
            .last()
            .map(|p| format!("/antraege/{}/{}", d.id, p.id.get_ref()))
            .unwrap_or_default(),
        sections: visible
            .iter()
            .map(|p| {
                views::section(
                    p,
                    &d.answers,
                    lang,
                    format!("/antraege/{}/{}", d.id, p.id.get_ref()),
                )
            })
            .collect(),
        declaration: d.def.declaration.get(lang).to_string(),
        declared: false,
        municipalities: Vec::new(),
        municipality: String::new(),
        errors: Vec::new(),
        error_declaration: None,
        error_municipality: None,
        profile_changes: Vec::new(),
    }
}

const PROFILE_COLUMNS: [&str; 8] = [
    "given_name",
    "family_name",
    "birth_date",
    "street",
    "house_number",
    "postal_code",
    "place",
    "phone",
];

/// Profile-sourced answers that differ from the saved profile: (source, label, display, stored value).
async fn profile_changes(
    state: &AppState,
    user: &User,
    d: &Draft,
    lang: Lang,
) -> AppResult<Vec<(String, String, String, String)>> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM profiles WHERE user_id = $1",
        PROFILE_COLUMNS.join(", ")
    ))
    .bind(&user.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let current = |col: &str| -> String {
        let i = PROFILE_COLUMNS.iter().position(|c| *c == col);
        match (&row, i) {
            (Some(r), Some(i)) => r.try_get::<String, _>(i).unwrap_or_default(),
            _ => String::new(),
        }
    };
    let mut out = Vec::new();
    for page in answers::visible_pages(&d.def, &d.answers) {
        for f in page
            .fields
            .iter()
            .filter(|f| answers::field_visible(f, &d.answers))
        {
            let Some(src) = f.profile.as_deref().filter(|s| PROFILE_COLUMNS.contains(s)) else {
                continue;
            };
            let value = if f.kind == FieldType::Date {
                answers::date_of(&d.answers, f.id.get_ref())
                    .ok()
                    .flatten()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            } else {
                answers::text(&d.answers, f.id.get_ref()).trim().to_string()
            };
            if !value.is_empty() && value != current(src) {
                out.push((
                    src.to_string(),
                    f.label.get(lang).to_string(),
                    answers::display(f, f.id.get_ref(), &d.answers, lang),
                    value,
                ));
            }
        }
    }
    Ok(out)
}

/// Saves changed answers back to the profile, as the citizen asked on the check page.
async fn save_to_profile(
    state: &AppState,
    user: &User,
    changes: &[(String, String, String, String)],
) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin_write().await?;
    sqlx::query("INSERT INTO profiles (user_id, updated_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
        .bind(&user.id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    for (col, _, _, value) in changes {
        // Column names come from the fixed list above, never from input.
        if PROFILE_COLUMNS.contains(&col.as_str()) {
            sqlx::query(&format!(
                "UPDATE profiles SET {col} = $1, updated_at = $2 WHERE user_id = $3"
            ))
            .bind(value)
            .bind(now_ms())
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        }
    }
    if changes.iter().any(|(c, ..)| c == "postal_code") {
        // The municipality key follows the postal code, or is cleared where that is ambiguous.
        let plz = changes
            .iter()
            .find(|(c, ..)| c == "postal_code")
            .map(|c| c.3.clone())
            .unwrap_or_default();
        let list = crate::accounts::postal::lookup(&state.db, &plz).await?;
        let ags = if list.len() == 1 {
            list[0].ags.clone()
        } else {
            String::new()
        };
        sqlx::query("UPDATE profiles SET ags = $1 WHERE user_id = $2")
            .bind(ags)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn check(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    if let Some(reference) = submit::existing_case(&state.db, &id, &user.id).await? {
        return Ok(see_other(&format!(
            "/antraege/{id}/bestaetigung?ref={reference}"
        )));
    }
    let d = load_draft(&state, &user, &id).await?;
    let today = time::OffsetDateTime::now_utc().date();
    if let Some(p) = answers::first_invalid(&d.def, &d.answers, today) {
        return Ok(see_other(&format!("/antraege/{id}/{}", p.id.get_ref())));
    }
    let mut v = check_view(&d, ctx.lang);
    v.profile_changes = profile_changes(&state, &user, &d, ctx.lang)
        .await?
        .into_iter()
        .map(|c| (c.1, c.2))
        .collect();
    Ok(private_html(apply::check(&ctx.page(), v)))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SubmitForm {
    declaration: String,
    ags: String,
    save_profile: String,
}

pub async fn submit(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(id): Path<String>,
    Form(f): Form<SubmitForm>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    if f.declaration != "yes" {
        // A repeated request for a draft submitted already leads to its confirmation. With
        // the declaration, `submit::submit` finds that case itself, when the draft is gone.
        if let Some(reference) = submit::existing_case(&state.db, &id, &user.id).await? {
            return Ok(see_other(&format!(
                "/antraege/{id}/bestaetigung?ref={reference}"
            )));
        }
        let d = load_draft(&state, &user, &id).await?;
        let mut v = check_view(&d, lang);
        let msg = t(lang, "apply.check.declaration_missing").to_string();
        v.errors = vec![FieldError {
            field_id: "declaration".into(),
            message: msg.clone(),
        }];
        v.error_declaration = Some(msg);
        v.municipality = f.ags.clone();
        let mut resp = private_html(apply::check(&ctx.page(), v));
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(resp);
    }
    // Taken before submitting: the draft is gone afterwards.
    let changes = if f.save_profile == "yes" {
        match load_draft(&state, &user, &id).await {
            Ok(d) => profile_changes(&state, &user, &d, lang).await?,
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    match submit::submit(
        &state.db,
        &id,
        &user,
        &f.ags,
        lang,
        &state.config.public_url,
    )
    .await?
    {
        Outcome::Submitted { reference } => {
            save_to_profile(&state, &user, &changes).await?;
            state.mail_wakeup.notify_one();
            Ok(see_other(&format!(
                "/antraege/{id}/bestaetigung?ref={reference}"
            )))
        }
        Outcome::Invalid { page } => Ok(see_other(&format!("/antraege/{id}/{page}"))),
        Outcome::NotFound => Err(AppError::NotFound),
        Outcome::ChooseMunicipality(list) => {
            let d = load_draft(&state, &user, &id).await?;
            let mut v = check_view(&d, lang);
            let msg = t(lang, "error.municipality.choose").to_string();
            v.municipalities = list.into_iter().map(|m| (m.ags, m.place)).collect();
            v.errors = vec![FieldError {
                field_id: "ags".into(),
                message: msg.clone(),
            }];
            v.error_municipality = Some(msg);
            v.declared = true;
            let mut resp = private_html(apply::check(&ctx.page(), v));
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
    }
}

pub async fn confirmation(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let row = sqlx::query(
        "SELECT c.reference, c.service_key, c.version, a.name, c.user_id FROM cases c
         LEFT JOIN postboxes p ON p.id = c.postbox_id LEFT JOIN authorities a ON a.id = p.authority_id
         WHERE c.draft_id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.db.pool)
    .await?;
    let row = owned(row, &user.id)?.ok_or(AppError::NotFound)?;
    let (reference, key, version, authority): (String, String, i64, Option<String>) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    let def = catalog::definition(&state.db, &key, version)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(private_html(apply::confirmation(
        &ctx.page(),
        ConfirmationView {
            reference,
            service_title: def.title.get(lang).to_string(),
            authority,
            processing_time: def.processing_time.get(lang).to_string(),
        },
    )))
}
