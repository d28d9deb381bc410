//! Submission: one transaction freezes the answers, finds the postbox, creates the case with its
//! reference number and queues the confirmation mail. The unique `draft_id` of a case makes it
//! happen exactly once, whatever the number of concurrent or repeated requests.

use amtsweg_app::i18n::Lang;
use sqlx::Row;

use super::answers::{self, Answers, PREFILLED};
use super::definition::FieldType;
use super::{catalog, routing};
use crate::accounts::auth::User;
use crate::accounts::postal;
use crate::backoffice::state::CaseState;
use crate::db::batch::Batch;
use crate::db::{is_unique_violation, owned, Db};
use crate::domain::{Ags, PostalCode, Reference};
use crate::mail::enqueue_into;
use crate::mail::templates::{render, Template};
use crate::time::now_ms;

#[derive(Debug)]
pub enum Outcome {
    /// The case exists (now or from an earlier request for the same draft).
    Submitted {
        reference: String,
    },
    /// A visible page has problems; the citizen is sent there.
    Invalid {
        page: String,
    },
    /// The postal code covers several municipalities: the citizen chooses on the check page.
    ChooseMunicipality(Vec<postal::Municipality>),
    NotFound,
}

/// The case already created for a draft, if any (answers repeated submits the same way).
pub async fn existing_case(db: &Db, draft_id: &str, user_id: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT reference, user_id FROM cases WHERE draft_id = $1")
        .bind(draft_id)
        .fetch_optional(&db.pool)
        .await?;
    owned(row, user_id)?.map(|r| r.try_get(0)).transpose()
}

pub async fn submit(
    db: &Db,
    draft_id: &str,
    user: &User,
    chosen_ags: &str,
    lang: Lang,
    public_url: &str,
) -> anyhow::Result<Outcome> {
    // No lookup of an existing case first: the batch that creates the case deletes the draft,
    // so a draft that is still there has none, and for a missing one it is looked up below.
    let row = sqlx::query(
        "SELECT service_key, version, answers, user_id, data_key_id FROM drafts WHERE id = $1",
    )
    .bind(draft_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = owned(row, &user.id)? else {
        // A concurrent request may have just turned the draft into a case.
        return Ok(match existing_case(db, draft_id, &user.id).await? {
            Some(reference) => Outcome::Submitted { reference },
            None => Outcome::NotFound,
        });
    };
    let (key, version, raw): (String, i64, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let raw = db.vault.open(&db.pool, raw).await?;
    // The case keeps the draft's data key, under which its evidence is encrypted already. A
    // draft from before encryption has none yet and gets one.
    let data_key = match row.try_get::<Option<String>, _>(4)? {
        Some(id) => db.vault.get_pooled(&db.pool, &id).await?,
        None => {
            db.vault
                .key_of_pooled(&db.pool, crate::crypto::Owner::Draft, draft_id)
                .await?
        }
    };
    let def = catalog::definition(db, &key, version)
        .await?
        .ok_or_else(|| anyhow::anyhow!("definition {key} v{version} missing"))?;
    let stored: Answers = serde_json::from_str(&raw)?;
    // As the pages saw them: answers of fields hidden since are kept in the draft, not sent.
    let (answers, _) = answers::split_hidden(&def, stored);
    let today = time::OffsetDateTime::now_utc().date();
    if let Some(page) = answers::first_invalid(&def, &answers, today) {
        return Ok(Outcome::Invalid {
            page: page.id.get_ref().clone(),
        });
    }
    // The municipality decides responsibility: from the postal code, or the citizen's choice.
    let plz = PostalCode::parse(answers::text(&answers, "postal_code"));
    let municipalities = match &plz {
        Some(p) => postal::lookup(db, p.as_str()).await?,
        None => Vec::new(),
    };
    let ags = match municipalities.as_slice() {
        [one] => Some(one.ags.clone()),
        [] => None,
        several => match several.iter().find(|m| m.ags == chosen_ags) {
            Some(m) => Some(m.ags.clone()),
            None => return Ok(Outcome::ChooseMunicipality(municipalities)),
        },
    };
    let responsible = match ags.as_deref().and_then(Ags::parse) {
        Some(a) => routing::lookup(db, &key, &a, plz.as_ref()).await?,
        None => None,
    };
    let mut structured_map = answers::structured(&def, &answers);
    // Evidence: the case records each file with its hash, as it was at submission.
    let mut frozen_docs: Vec<(String, String)> = Vec::new();
    for (_, field) in def.fields().filter(|(p, f)| {
        f.kind == FieldType::File
            && answers::page_visible(p, &answers)
            && answers::field_visible(f, &answers)
    }) {
        let mut items = Vec::new();
        for doc in answers::list(&answers, field.id.get_ref()) {
            let row = sqlx::query(
                "SELECT file_name, content_type, size, sha256, user_id FROM documents WHERE id = $1",
            )
            .bind(&doc)
            .fetch_optional(&db.pool)
            .await?;
            let Some(r) = owned(row, &user.id)? else {
                continue;
            };
            items.push(serde_json::json!({
                "document_id": doc,
                "file_name": r.try_get::<String, _>(0)?,
                "content_type": r.try_get::<String, _>(1)?,
                "size": r.try_get::<i64, _>(2)?,
                "sha256": r.try_get::<String, _>(3)?,
            }));
            frozen_docs.push((doc, field.id.get_ref().clone()));
        }
        structured_map.insert(field.id.get_ref().clone(), serde_json::Value::Array(items));
    }
    let structured = serde_json::Value::Object(structured_map);
    let now = now_ms();
    let applicant_name = format!(
        "{} {}",
        answers::text(&answers, "given_name").trim(),
        answers::text(&answers, "family_name").trim()
    )
    .trim()
    .chars()
    .take(200)
    .collect::<String>();
    let reference = Reference::generate();
    // Time-ordered, so the case's entries in the id-keyed indexes (cases, events, search words,
    // documents) go to the newest pages, which the submissions just before changed as well.
    let case_id = uuid::Uuid::now_v7().to_string();
    // Everything the write needs is read first: the write itself is one batch, one round
    // trip, so the single SQLite writer is held for SQLite's work only.
    let processing_days = responsible.as_ref().map_or(30, |r| r.processing_days);
    let listeners = match &responsible {
        Some(r) => {
            crate::webhooks::targets(
                &db.pool,
                &r.postbox_id,
                crate::webhooks::Event::SubmissionReceived,
            )
            .await?
        }
        None => Vec::new(),
    };
    let mut batch = Batch::new();
    // First, so that a second submission of the draft fails before anything else is written.
    batch
        .add(
            "INSERT INTO cases (id, reference, draft_id, user_id, service_key, version, answers, ags, postal_code,
                                postbox_id, status, submitted_at, applicant_name, updated_at, due_at, data_key_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(case_id.clone())
        .bind(reference.to_string())
        .bind(draft_id.to_string())
        .bind(user.id.clone())
        .bind(key.clone())
        .bind(version)
        .bind(db.vault.seal(&data_key, &structured.to_string()))
        .bind(ags.clone().unwrap_or_default())
        .bind(plz.as_ref().map(|p| p.as_str().to_string()).unwrap_or_default())
        .bind(responsible.as_ref().map(|r| r.postbox_id.clone()))
        .bind(if responsible.is_some() { "submitted" } else { "unrouted" })
        .bind(now)
        .bind(applicant_name.clone())
        .bind(now)
        .bind(now + processing_days * 86_400_000)
        .bind(data_key.id.clone());
    if let Some(r) = &responsible {
        crate::backoffice::search::index_name_into(
            &mut batch,
            &r.postbox_id,
            &case_id,
            now,
            &applicant_name,
            Some(CaseState::Received.as_str()),
        );
        crate::webhooks::deliveries(
            &mut batch,
            &listeners,
            &r.postbox_id,
            crate::webhooks::Event::SubmissionReceived,
            serde_json::json!({ "case_reference": reference.as_str(), "service_key": key }),
        );
    }
    crate::backoffice::cases::event_into(&mut batch, &case_id, Some(user), "submitted", "", true);
    for (doc, field) in &frozen_docs {
        batch
            .add("INSERT INTO case_documents (case_id, document_id, field_id) VALUES ($1, $2, $3)")
            .bind(case_id.clone())
            .bind(doc.clone())
            .bind(field.clone());
    }
    batch
        .add("DELETE FROM drafts WHERE id = $1")
        .bind(draft_id.to_string());
    if answers
        .get(PREFILLED)
        .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        batch
            .add("INSERT INTO profile_usage (user_id, used_for, used_at) VALUES ($1, $2, $3)")
            .bind(user.id.clone())
            .bind(format!("{} ({})", def.title.get(lang), reference))
            .bind(now);
    }
    if responsible.is_none() {
        // Nothing is lost: the case stays visible as unrouted until an administrator acts.
        batch
            .add(
                "INSERT INTO admin_alerts (id, kind, subject_id, message, created_at) VALUES ($1, 'case_unrouted', $2, $3, $4)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(case_id.clone())
            .bind(format!("case {reference} for service {key} (AGS {}) matches no responsibility rule", ags.clone().unwrap_or_default()))
            .bind(now);
    }
    let mail = render(
        &Template::ApplicationReceived {
            reference: reference.as_str(),
            service: def.title.get(user.lang),
        },
        user.lang,
        &user.email,
        public_url,
    );
    enqueue_into(&mut batch, &mail);
    // Once handed over, the write goes through even if the citizen's request is cancelled
    // (`Db::write`), so forgetting the cached draft must not depend on the request either.
    let written = {
        let db = db.clone();
        let draft_id = draft_id.to_string();
        tokio::spawn(async move {
            let written = db.write(batch).await;
            if written.is_ok() {
                db.forget_draft(&draft_id);
            }
            written
        })
        .await?
    };
    match written {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Ok(match existing_case(db, draft_id, &user.id).await? {
                Some(reference) => Outcome::Submitted { reference },
                None => anyhow::bail!("unique violation without an existing case: {e}"),
            });
        }
        Err(e) => return Err(e.into()),
    }
    if responsible.is_none() {
        tracing::error!(reference = %reference, service = %key, "submitted case matches no responsibility rule");
    }
    Ok(Outcome::Submitted {
        reference: reference.to_string(),
    })
}
