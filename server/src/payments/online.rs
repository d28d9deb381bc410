//! Online payment of a fee notice: one provider transaction per attempt, the citizen sent to
//! the provider's pay page and back, and the outcome read from the provider (never from the
//! redirect). A payment is booked under the provider's transaction id, unique per account, so
//! repeated or late status answers can never book it twice.

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use sqlx::Row;

use super::notices::NoticeState;
use super::reconcile::{self, BookedPayment};
use super::web_citizen::own_notice;
use super::xbezahl::{
    CreatePayment, PaymentStatus, ProviderConfig, ProviderTransaction, XBezahlClient,
};
use crate::accounts::auth::User;
use crate::error::{AppError, AppResult};
use crate::http::ctx::{see_other, Authed};
use crate::secret::Secret;
use crate::state::AppState;
use crate::time::now_ms;

/// The providers configured per authority (`AMTSWEG_PAYMENT_PROVIDERS`, a TOML file).
#[derive(Clone, Default)]
pub struct PaymentProviders {
    clients: HashMap<String, Arc<XBezahlClient>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    #[serde(default)]
    authority: HashMap<String, ProviderEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    base_url: String,
    originator_id: String,
    endpoint_id: String,
    username: String,
    /// The password itself is read from this environment variable, so the file can be
    /// shared and versioned without secrets.
    password_env: String,
}

impl PaymentProviders {
    /// Reads the file; every problem names the authority and what is wrong.
    pub fn load(path: &FsPath) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read payment providers file {}: {e}", path.display()))?;
        let file: ProvidersFile = toml::from_str(&text)
            .map_err(|e| format!("payment providers file {}: {}", path.display(), e.message()))?;
        let mut clients = HashMap::new();
        for (authority, e) in file.authority {
            if !(e.base_url.starts_with("https://") || e.base_url.starts_with("http://127.0.0.1")) {
                return Err(format!(
                    "payment provider of authority {authority}: base_url must use https"
                ));
            }
            let password = std::env::var(&e.password_env).map_err(|_| {
                format!(
                    "payment provider of authority {authority}: environment variable {} is not set",
                    e.password_env
                )
            })?;
            let base_url = if e.base_url.ends_with('/') {
                e.base_url
            } else {
                format!("{}/", e.base_url)
            };
            clients.insert(
                authority,
                Arc::new(XBezahlClient::new(ProviderConfig {
                    base_url,
                    originator_id: e.originator_id,
                    endpoint_id: e.endpoint_id,
                    username: e.username,
                    password: Secret::new(password),
                })),
            );
        }
        Ok(Self { clients })
    }

    pub fn has(&self, authority_id: &str) -> bool {
        self.clients.contains_key(authority_id)
    }

    pub fn client(&self, authority_id: &str) -> Option<Arc<XBezahlClient>> {
        self.clients.get(authority_id).cloned()
    }
}

/// An attempt still open at the provider that the citizen can continue instead of starting a
/// second transaction (half an hour, about as long as pay pages stay valid).
const REUSE_MS: i64 = 30 * 60 * 1000;

/// Starts (or continues) paying a notice online and sends the citizen to the pay page.
pub async fn start(
    State(state): State<AppState>,
    Authed(ctx, user): Authed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let n = own_notice(&state, &user.id, &id).await?;
    let client = state
        .payment_providers
        .client(&n.authority_id)
        .ok_or(AppError::NotFound)?;
    let back = format!("/konto/gebuehren/{}", n.id);
    if n.state != NoticeState::Open || n.outstanding().0 <= 0 {
        return Ok(see_other(&back));
    }
    let recent: Option<(String, Option<String>)> = sqlx::query(
        "SELECT id, payment_url FROM payment_transactions
         WHERE notice_id = $1 AND status = 'INITIAL' AND payment_url IS NOT NULL AND created_at > $2
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&n.id)
    .bind(now_ms() - REUSE_MS)
    .fetch_optional(&state.db.pool)
    .await?
    .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
    .transpose()?;
    if let Some((_, Some(url))) = recent {
        return Ok(see_other(&url));
    }
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let now = now_ms();
    // Recorded before the call: if the answer is lost, the attempt is still known.
    sqlx::query(
        "INSERT INTO payment_transactions (id, notice_id, status, created_at, updated_at) VALUES ($1, $2, 'CREATING', $3, $3)",
    )
    .bind(&request_id)
    .bind(&n.id)
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    let req = CreatePayment {
        request_id: request_id.clone(),
        amount: n.outstanding(),
        purpose: n.payment_reference.clone(),
        description: format!(
            "{} {}",
            amtsweg_app::pages::fees::notice_title(ctx.lang, n.number),
            n.case_reference
        ),
        redirect_url: format!(
            "{}/konto/gebuehren/{}/rueckkehr?versuch={request_id}",
            state.config.public_url.trim_end_matches('/'),
            n.id
        ),
        items: if n.paid.0 == 0 {
            n.items.clone()
        } else {
            Vec::new()
        },
    };
    // One retry with the same request id: the provider's duplicate check makes it safe.
    let mut created = client.create(&req).await;
    if matches!(&created, Err(e) if e.is_retryable()) {
        created = client.create(&req).await;
    }
    match created {
        Ok(t) => {
            sqlx::query(
                "UPDATE payment_transactions SET provider_transaction_id = $1, payment_url = $2, status = $3, updated_at = $4
                 WHERE id = $5",
            )
            .bind(&t.transaction_id)
            .bind(&t.payment_url)
            .bind(t.status.as_wire())
            .bind(now_ms())
            .bind(&request_id)
            .execute(&state.db.pool)
            .await?;
            match (&t.status, &t.payment_url) {
                (PaymentStatus::Initial, Some(url)) => Ok(see_other(url)),
                _ => {
                    let outcome = record(&state, &user, &n.id, &request_id, &t).await?;
                    Ok(see_other(&format!("{back}?zahlung={outcome}")))
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, notice = %n.id, "online payment could not be started");
            sqlx::query(
                "UPDATE payment_transactions SET status = 'ERROR', updated_at = $1 WHERE id = $2",
            )
            .bind(now_ms())
            .bind(&request_id)
            .execute(&state.db.pool)
            .await?;
            Ok(see_other(&format!("{back}?zahlung=fehler")))
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReturnParams {
    versuch: String,
}

/// The citizen is back from the pay page: ask the provider what happened.
pub async fn back(
    State(state): State<AppState>,
    Authed(_, user): Authed,
    Path(id): Path<String>,
    Query(p): Query<ReturnParams>,
) -> AppResult<Response> {
    let n = own_notice(&state, &user.id, &id).await?;
    let back = format!("/konto/gebuehren/{}", n.id);
    let provider_id: Option<Option<String>> = sqlx::query_scalar(
        "SELECT provider_transaction_id FROM payment_transactions WHERE id = $1 AND notice_id = $2",
    )
    .bind(&p.versuch)
    .bind(&n.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let (Some(Some(provider_id)), Some(client)) =
        (provider_id, state.payment_providers.client(&n.authority_id))
    else {
        return Ok(see_other(&back));
    };
    let outcome = match client.status(&provider_id).await {
        Ok(t) => record(&state, &user, &n.id, &p.versuch, &t).await?,
        Err(e) => {
            tracing::warn!(error = %e, notice = %n.id, "payment status could not be read");
            "fehler"
        }
    };
    Ok(see_other(&format!("{back}?zahlung={outcome}")))
}

/// Stores what the provider reports; a payment is booked the first time it says PAYED. Returns
/// the outcome word for the notice page.
pub async fn record(
    state: &AppState,
    citizen: &User,
    notice_id: &str,
    request_id: &str,
    t: &ProviderTransaction,
) -> AppResult<&'static str> {
    let mut tx = state.db.begin_write().await?;
    // A final status is never replaced by a late INITIAL answer arriving out of order.
    sqlx::query(
        "UPDATE payment_transactions SET status = $1, updated_at = $2
         WHERE id = $3 AND status NOT IN ('PAYED', 'CANCELED', 'FAILED')",
    )
    .bind(t.status.as_wire())
    .bind(now_ms())
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    let outcome = match t.status {
        PaymentStatus::Payed => {
            let row = sqlx::query(
                "SELECT n.authority_id, n.payee_iban, n.total_cents - n.paid_cents, t.created_at FROM fee_notices n
                 JOIN payment_transactions t ON t.notice_id = n.id WHERE n.id = $1 AND t.id = $2",
            )
            .bind(notice_id)
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
            let (authority, iban, left): (String, String, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let amount = t.amount.map(|m| m.0).unwrap_or(left);
            let payment_id = uuid::Uuid::new_v4().to_string();
            let now = now_ms();
            let inserted = sqlx::query(
                "INSERT INTO payments (id, authority_id, source, account_iban, entry_ref, amount_cents, booking_date,
                     payer_name, remittance, notice_id, matched_by, matched_at, created_at)
                 VALUES ($1, $2, 'online', $3, $4, $5, $6, $7, $8, $9, 'online', $10, $10)
                 ON CONFLICT (account_iban, entry_ref) DO NOTHING",
            )
            .bind(&payment_id)
            .bind(&authority)
            .bind(&iban)
            .bind(format!("xbezahl:{}", t.transaction_id))
            .bind(amount)
            .bind(super::notices::today())
            .bind(&citizen.email)
            .bind(t.payment_method.clone().unwrap_or_default())
            .bind(notice_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                reconcile::settle(
                    &mut tx,
                    citizen,
                    "",
                    &[BookedPayment {
                        payment_id,
                        notice_id: notice_id.to_string(),
                        amount: crate::domain::Money(amount),
                    }],
                    &state.config.public_url,
                )
                .await?;
            }
            "ok"
        }
        PaymentStatus::Initial => "offen",
        PaymentStatus::Canceled => "abgebrochen",
        _ => "fehler",
    };
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(outcome)
}

/// Attempts are asked again this long after the last answer, …
const POLL_AFTER_MS: i64 = 5 * 60 * 1000;
/// … for this long after they started (pay pages expire well before).
const POLL_FOR_MS: i64 = 48 * 3600 * 1000;

/// Asks the provider about attempts the citizen never came back from (the browser closed after
/// paying), so the payment is booked anyway. Several instances may ask about the same attempt;
/// booking is idempotent, so that costs a provider call, never a second payment.
pub async fn poll_open(state: &AppState) -> AppResult<usize> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT t.id, t.provider_transaction_id, t.notice_id, n.authority_id, c.user_id FROM payment_transactions t
         JOIN fee_notices n ON n.id = t.notice_id JOIN cases c ON c.id = n.case_id
         WHERE t.status = 'INITIAL' AND t.provider_transaction_id IS NOT NULL AND t.updated_at < $1 AND t.created_at > $2
         ORDER BY t.updated_at LIMIT 100",
    )
    .bind(now - POLL_AFTER_MS)
    .bind(now - POLL_FOR_MS)
    .fetch_all(&state.db.pool)
    .await?;
    let mut asked = 0;
    for r in rows {
        let (id, provider_id, notice, authority): (String, String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        let user_id: Option<String> = r.try_get(4)?;
        let (Some(client), Some(user_id)) = (state.payment_providers.client(&authority), user_id)
        else {
            continue;
        };
        let Some(citizen) = crate::accounts::auth::load_user(&state.db, &user_id).await? else {
            continue;
        };
        match client.status(&provider_id).await {
            Ok(t) => {
                record(state, &citizen, &notice, &id, &t).await?;
                asked += 1;
            }
            Err(e) => tracing::warn!(error = %e, attempt = %id, "payment status could not be read"),
        }
    }
    Ok(asked)
}

/// Runs `poll_open` every minute until shutdown.
pub async fn poll_loop(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = poll_open(&state).await {
            tracing::warn!(error = %e, "polling open online payments failed");
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}
