//! Online payment of fee notices through an XBezahldienste provider (ePayBL, pmPayment, ePay21
//! and other platforms that speak the standard).
//!
//! # The standard, as far as this module relies on it
//!
//! XBezahldienste is the open REST interface that connects online services to the payment
//! platforms of the Länder (official standard since November 2023, see
//! <https://digitale-verwaltung.de>, "XBezahldienste"). The specification itself is published in
//! the XRepository; it was not available to us, so the message shapes below follow an open
//! implementation that talks to ePayBL, pmPayment and ePay21 in production: the payment models
//! and provider clients of `aivot-digital/gover` (GitHub, `src/main/java/de/aivot/GoverBackend/
//! payment/models/XBezahldienste*.java`, `enums/XBezahldienst*.java`,
//! `core/payment/*PaymentProviderDefinition.java`).
//!
//! - `POST {base}paymenttransaction/{originatorId}/{endpointId}` with a payment request creates a
//!   transaction; `GET {base}paymenttransaction/{originatorId}/{endpointId}/{transactionId}`
//!   reads it. The originator is the online service, the endpoint the authority that receives
//!   the money; both are assigned by the provider. All three providers answer a successful POST
//!   with 200 and the transaction.
//! - Payment request: `requestId` (set by the online service, at most 36 characters of
//!   `[A-Za-z0-9_-]`), `requestTimestamp`, `currency` (`EUR` only), `grosAmount` (sic), `purpose`
//!   (the booking text, at most 27 characters), `description` (shown on the pay page),
//!   `redirectUrl` (where the pay page sends the citizen back; the outcome must then be read with
//!   GET, never taken from the redirect), `items` (positions with `id`, `reference`,
//!   `description`, `taxRate`, `quantity`, `totalNetAmount`, `totalTaxAmount`,
//!   `singleNetAmount`, `singleTaxAmount`, `bookingData`) and an optional `requestor`.
//!   `grosAmount` must equal the sum of the items' net plus tax amounts.
//! - Transaction: `{ "paymentRequest": …, "paymentInformation": … }`; the information carries
//!   `transactionId` (the provider's id for later GETs; a provider may simply reuse the
//!   `requestId`), `transactionUrl` (the REST URL of the transaction), `transactionRedirectUrl`
//!   (the pay page; present only while the status is `INITIAL`), `transactionReference`
//!   (the provider's business reference, possibly the Kassenzeichen), `transactionTimestamp`,
//!   `paymentMethod` (`GIROPAY`, `PAYDIRECT`, `CREDITCARD`, `PAYPAL`, `OTHER`),
//!   `paymentMethodDetail`, `status` and `statusDetail`.
//! - Status: `INITIAL` (created, the citizen has not finished), `PAYED` (sic), `CANCELED` (the
//!   citizen aborted) and `FAILED` (the provider aborted, e.g. a declined card).
//! - Errors: a problem document (`type`, `status`, `title`, `detail`) with a `functionalCode`:
//!   `NO_VALID_ORIGINATOR_OR_ENDPOINT`, `PAYMENT_EXISTS` (a request with this `requestId` was
//!   already placed), `CALCULATION_ERROR`, `BOOKING_DATA_MISSING`, `VALIDATION_ERROR`,
//!   `FORBIDDEN`, `UNSPECIFIED`.
//!
//! # Choices where the sources are silent or differ
//!
//! - Authentication differs per platform (ePayBL: TLS client certificate; pmPayment: OAuth 2
//!   client credentials; ePay21: HTTP Basic). This client does HTTP Basic only.
//! - The HTTP status of `PAYMENT_EXISTS` is not stated; the client recognises the functional
//!   code on any error status, and the fake answers 409.
//! - There is no documented way to find a transaction by `requestId`. After `PAYMENT_EXISTS` the
//!   client reads the transaction under the `requestId`, which finds it at providers that reuse
//!   the request id as transaction id; elsewhere it reports [`ProviderError::AlreadyExists`].
//!   That case can only follow an answer that never reached us, so the citizen never saw that
//!   transaction's pay page and a new attempt under a fresh `requestId` cannot pay twice.
//! - Amounts are JSON numbers (the reference models use `BigDecimal`). They are written from
//!   whole cents and read back through their shortest decimal text, which is exact for every
//!   amount with at most 15 significant digits; see [`WireAmount`].
//! - Fees carry no VAT, so each item is sent with quantity 1, `taxRate` 0 and zero tax amounts.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::domain::Money;
use crate::secret::Secret;

/// Connection set-up to a provider that answers at all takes milliseconds; five seconds only
/// trips on a host that drops packets, and the citizen is waiting for the redirect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole request including the body, long enough for a slow platform and short enough that a
/// request handler does not hang behind the proxy's own timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Transactions are a few kilobytes; a provider (or something pretending to be one) streaming
/// more must not be able to fill our memory.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Length limits as enforced by the reference implementation. Truncating the purpose would cut
/// the creditor reference that reconciliation matches on, so over-long values are refused.
const MAX_REQUEST_ID_CHARS: usize = 36;
const MAX_PURPOSE_CHARS: usize = 27;
const MAX_DESCRIPTION_CHARS: usize = 250;
/// Below 2^53 hundredths every amount has an exact shortest decimal form as an `f64`; ten
/// billion euros is far beyond any fee.
const MAX_CENTS: i64 = 1_000_000_000_000;

/// Where and as whom to reach the provider.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// Base of the XBezahldienste API, e.g. `https://epay.example.de/xbezahldienste/api/v1/`;
    /// `paymenttransaction/…` is appended.
    pub base_url: String,
    /// Identifies the online service (assigned by the provider).
    pub originator_id: String,
    /// Identifies the receiving authority (assigned by the provider).
    pub endpoint_id: String,
    pub username: String,
    pub password: Secret<String>,
}

/// One payment attempt for a fee notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatePayment {
    /// Unique per notice and attempt and identical on every retry of that attempt: the
    /// provider's duplicate check on it is what makes retries safe.
    pub request_id: String,
    pub amount: Money,
    /// The creditor reference of the notice, so the provider's booking can be matched.
    pub purpose: String,
    /// Shown to the citizen on the pay page.
    pub description: String,
    /// Where the pay page sends the citizen back, whatever the outcome.
    pub redirect_url: String,
    /// Positions as (description, amount); they must add up to `amount`. Empty means one
    /// position over the whole amount.
    pub items: Vec<(String, Money)>,
}

/// The state of a transaction at the provider.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Created; the citizen has not finished on the pay page.
    Initial,
    /// The citizen paid (the standard spells it `PAYED`).
    Payed,
    /// The citizen aborted on the pay page.
    Canceled,
    /// The provider aborted, for instance after a declined card.
    Failed,
    /// A value the standard did not list when this was written; kept rather than refused so a
    /// newer provider cannot make every status query fail.
    Other(String),
}

impl PaymentStatus {
    pub fn as_wire(&self) -> &str {
        match self {
            Self::Initial => "INITIAL",
            Self::Payed => "PAYED",
            Self::Canceled => "CANCELED",
            Self::Failed => "FAILED",
            Self::Other(s) => s,
        }
    }

    pub fn from_wire(s: &str) -> Self {
        match s {
            "INITIAL" => Self::Initial,
            "PAYED" => Self::Payed,
            "CANCELED" => Self::Canceled,
            "FAILED" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether polling can stop. An unknown status is not final: giving up on a transaction
    /// that later turns out paid is worse than asking once more.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Payed | Self::Canceled | Self::Failed)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

/// A transaction as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderTransaction {
    /// The provider's id; status queries use it, not the request id.
    pub transaction_id: String,
    /// Echo of our request id, where the provider includes the request.
    pub request_id: Option<String>,
    /// The pay page to send the citizen to; only present while the status is `INITIAL`.
    pub payment_url: Option<String>,
    pub status: PaymentStatus,
    /// The gross amount the provider holds, where it echoes the request; worth comparing with
    /// the notice before marking it paid.
    pub amount: Option<Money>,
    /// The provider's business reference (possibly the Kassenzeichen).
    pub reference: Option<String>,
    /// How the citizen paid (`CREDITCARD`, `PAYPAL`, …), once paid.
    pub payment_method: Option<String>,
}

/// What can go wrong talking to the provider. The texts never contain credentials nor
/// anything the provider sent beyond its functional code, so they are safe to log and show.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached; nothing was created.
    #[error("payment provider unreachable")]
    Unreachable,
    /// The request went out but no answer came in time; the transaction may or may not exist,
    /// so retry with the same request id.
    #[error("payment provider did not answer in time")]
    Timeout,
    /// The provider failed (5xx); a retry with the same request id is safe.
    #[error("payment provider failed with HTTP {status}")]
    Server { status: u16 },
    /// Wrong credentials, or these credentials may not use this originator or endpoint.
    #[error("payment provider refused our credentials")]
    Unauthorized,
    /// The provider refused the request for a reason named by the standard's functional code.
    #[error("payment provider rejected the request: {code}")]
    Rejected {
        /// The HTTP status of the answer.
        status: u16,
        /// The functional code (`CALCULATION_ERROR`, `VALIDATION_ERROR`, …), or
        /// `UNSPECIFIED` when the answer named none.
        code: String,
        /// The provider's explanation, for the log only: it is text from outside.
        detail: Option<String>,
    },
    /// The provider has a transaction for this request id that cannot be read back (it issues
    /// its own transaction ids) or that differs from this request. Start a new attempt with a
    /// new request id; the citizen never saw the old transaction's pay page.
    #[error("payment provider already has a transaction for request {request_id}")]
    AlreadyExists { request_id: String },
    /// No such transaction at this provider, originator and endpoint.
    #[error("payment provider does not know this transaction")]
    NotFound,
    /// The answer did not follow the standard.
    #[error("payment provider answered outside the standard: {0}")]
    Protocol(String),
    /// Our own request or configuration is unusable; sending it would not help.
    #[error("invalid payment request: {0}")]
    InvalidRequest(String),
}

impl ProviderError {
    /// Whether repeating the same call (with the same request id) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable | Self::Timeout | Self::Server { .. }
        )
    }
}

/// A client for one originator and endpoint at one provider. Cheap to clone.
#[derive(Clone, Debug)]
pub struct XBezahlClient {
    http: reqwest::Client,
    config: ProviderConfig,
}

impl XBezahlClient {
    pub fn new(config: ProviderConfig) -> Self {
        Self::with_timeouts(config, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    fn with_timeouts(config: ProviderConfig, connect: Duration, request: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            // A redirect on an API call is a misconfiguration; following it would at best hide
            // it and at worst send the credentials to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("amtsweg/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("reqwest client with rustls and static options always builds");
        Self { http, config }
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Creates the transaction. If the provider already has one for this request id (a retry
    /// after an answer that got lost), returns that one instead, so callers can simply repeat a
    /// failed call until it succeeds or fails with a non-retryable error.
    pub async fn create(&self, req: &CreatePayment) -> Result<ProviderTransaction, ProviderError> {
        let body = request_body(req, now_timestamp())?;
        let url = self.url(None)?;
        let response = self
            .http
            .post(url)
            .basic_auth(&self.config.username, Some(self.config.password.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await;
        match read_answer(response).await? {
            Answer::Ok(bytes) => parse_transaction(&bytes),
            Answer::Error(err) if err.code() == Some("PAYMENT_EXISTS") => {
                tracing::info!(
                    request_id = %req.request_id,
                    "payment provider already has this request; reading it back"
                );
                self.recover_existing(req).await
            }
            Answer::Error(err) => Err(err.into_error()),
        }
    }

    /// Reads the current state of a transaction.
    pub async fn status(&self, transaction_id: &str) -> Result<ProviderTransaction, ProviderError> {
        if transaction_id.is_empty() {
            return Err(ProviderError::InvalidRequest(
                "empty transaction id".to_owned(),
            ));
        }
        let url = self.url(Some(transaction_id))?;
        let response = self
            .http
            .get(url)
            .basic_auth(&self.config.username, Some(self.config.password.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await;
        match read_answer(response).await? {
            Answer::Ok(bytes) => parse_transaction(&bytes),
            Answer::Error(err) => Err(err.into_error()),
        }
    }

    async fn recover_existing(
        &self,
        req: &CreatePayment,
    ) -> Result<ProviderTransaction, ProviderError> {
        let exists = || ProviderError::AlreadyExists {
            request_id: req.request_id.clone(),
        };
        let tx = match self.status(&req.request_id).await {
            Ok(tx) => tx,
            Err(ProviderError::NotFound) => return Err(exists()),
            Err(other) => return Err(other),
        };
        // Whatever sits under this id must really be this request: a request id reused for a
        // different amount is a bug on our side that must not be papered over.
        let same_request = tx
            .request_id
            .as_deref()
            .is_none_or(|id| id == req.request_id);
        let same_amount = tx.amount.is_none_or(|a| a == req.amount);
        if same_request && same_amount {
            Ok(tx)
        } else {
            tracing::warn!(
                request_id = %req.request_id,
                "transaction found under the request id differs from the request"
            );
            Err(exists())
        }
    }

    fn url(&self, transaction_id: Option<&str>) -> Result<reqwest::Url, ProviderError> {
        let mut url = reqwest::Url::parse(&self.config.base_url)
            .map_err(|_| ProviderError::InvalidRequest("provider base URL is invalid".into()))?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
            // Credentials in the URL would end up in logs and error texts.
            return Err(ProviderError::InvalidRequest(
                "provider base URL must be http(s) without credentials".into(),
            ));
        }
        url.set_query(None);
        url.set_fragment(None);
        {
            let mut segments = url.path_segments_mut().map_err(|()| {
                ProviderError::InvalidRequest("provider base URL cannot take a path".into())
            })?;
            segments.pop_if_empty();
            // Segments are percent-encoded here, so an id cannot change the path.
            segments.extend([
                "paymenttransaction",
                &self.config.originator_id,
                &self.config.endpoint_id,
            ]);
            if let Some(id) = transaction_id {
                segments.push(id);
            }
        }
        Ok(url)
    }
}

/// An answer read to the end: the body of a success, or the classified failure.
enum Answer {
    Ok(Vec<u8>),
    Error(ErrorAnswer),
}

struct ErrorAnswer {
    status: u16,
    problem: Option<Problem>,
}

impl ErrorAnswer {
    /// The functional code, if it looks like one: it ends up in error texts, which must not
    /// carry arbitrary text from outside.
    fn code(&self) -> Option<&str> {
        self.problem
            .as_ref()?
            .functional_code
            .as_deref()
            .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
    }

    fn into_error(self) -> ProviderError {
        let code = self.code().map(str::to_owned);
        match (self.status, code.as_deref()) {
            (401 | 403, _) | (_, Some("FORBIDDEN")) => ProviderError::Unauthorized,
            (500..=599, _) => ProviderError::Server {
                status: self.status,
            },
            (404, None | Some("UNSPECIFIED")) => ProviderError::NotFound,
            (status, code) => ProviderError::Rejected {
                status,
                code: code.unwrap_or("UNSPECIFIED").to_owned(),
                detail: self.problem.and_then(|p| p.detail),
            },
        }
    }
}

/// The standard's error document. Everything is optional: an error page from a proxy in front
/// of the provider must still be classified by its HTTP status.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Problem {
    functional_code: Option<String>,
    detail: Option<String>,
}

async fn read_answer(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<Answer, ProviderError> {
    let mut response = response.map_err(transport_error)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ProviderError::Protocol("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    if status.is_success() {
        Ok(Answer::Ok(body))
    } else if status.is_redirection() {
        Err(ProviderError::Protocol(format!(
            "unexpected redirect (HTTP {})",
            status.as_u16()
        )))
    } else {
        Ok(Answer::Error(ErrorAnswer {
            status: status.as_u16(),
            problem: serde_json::from_slice(&body).ok(),
        }))
    }
}

fn transport_error(err: reqwest::Error) -> ProviderError {
    // `without_url` because a URL is more than the log needs; the text never reaches Display.
    let err = err.without_url();
    tracing::warn!(error = %err, "payment provider request failed");
    if err.is_timeout() {
        ProviderError::Timeout
    } else if err.is_connect() {
        ProviderError::Unreachable
    } else if err.is_decode() || err.is_body() {
        ProviderError::Protocol("answer could not be read".into())
    } else {
        ProviderError::Unreachable
    }
}

fn now_timestamp() -> String {
    let format = ::time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    ::time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// An amount on the wire: a JSON number in euros, written and read without losing a cent.
///
/// Writing divides whole cents by 100 in `f64`, which yields the double nearest to the decimal
/// amount; serde_json prints the shortest text that reads back as that double, and for at most
/// 15 significant digits that text is the decimal amount itself (`30.7`, `999999.99`). Reading
/// goes the same way back: the number's shortest text is parsed as a decimal, so `30.705` is
/// refused instead of rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireAmount(pub Money);

impl Serialize for WireAmount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Exact: amounts are checked to stay below 2^53 cents before they get here.
        let euros = self.0 .0 as f64 / 100.0;
        serializer.serialize_f64(euros)
    }
}

impl<'de> Deserialize<'de> for WireAmount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;

        impl Visitor<'_> for AmountVisitor {
            type Value = WireAmount;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount in euros with at most two decimals")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireAmount, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireAmount, E> {
                self.visit_str(&v.to_string())
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WireAmount, E> {
                if !v.is_finite() {
                    return Err(E::custom("amount is not a finite number"));
                }
                // Rust prints the shortest round-tripping decimal, never in exponent notation.
                self.visit_str(&v.to_string())
            }

            /// Some providers quote decimals to keep them exact; accepting that costs nothing.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireAmount, E> {
                parse_decimal_cents(v)
                    .map(|c| WireAmount(Money(c)))
                    .ok_or_else(|| E::custom("amount is not a non-negative euro amount"))
            }
        }

        deserializer.deserialize_any(AmountVisitor)
    }
}

/// `"30.7"` → 3070. Plain decimal text only: no sign, no exponent, at most two decimals.
pub fn parse_decimal_cents(text: &str) -> Option<i64> {
    let (int_part, frac) = text.split_once('.').unwrap_or((text, ""));
    if int_part.is_empty()
        || int_part.len() > 15
        || frac.len() > 2
        || (text.contains('.') && frac.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let euros: i64 = int_part.parse().ok()?;
    let frac_cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    let cents = euros.checked_mul(100)?.checked_add(frac_cents)?;
    (cents <= MAX_CENTS).then_some(cents)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody<'a> {
    request_id: &'a str,
    request_timestamp: String,
    currency: &'static str,
    gros_amount: WireAmount,
    purpose: &'a str,
    description: &'a str,
    redirect_url: &'a str,
    items: Vec<ItemBody<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemBody<'a> {
    id: String,
    description: &'a str,
    tax_rate: u8,
    quantity: u32,
    total_net_amount: WireAmount,
    total_tax_amount: WireAmount,
    single_net_amount: WireAmount,
    single_tax_amount: WireAmount,
}

fn request_body(req: &CreatePayment, timestamp: String) -> Result<RequestBody<'_>, ProviderError> {
    let invalid = |what: &str| Err(ProviderError::InvalidRequest(what.to_owned()));
    if req.request_id.is_empty()
        || req.request_id.chars().count() > MAX_REQUEST_ID_CHARS
        || !req
            .request_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return invalid("request id must be 1 to 36 letters, digits, '-' or '_'");
    }
    if req.purpose.is_empty()
        || req.purpose.chars().count() > MAX_PURPOSE_CHARS
        || req.purpose.chars().any(char::is_control)
    {
        return invalid("purpose must be 1 to 27 characters");
    }
    if req.description.chars().count() > MAX_DESCRIPTION_CHARS
        || req.description.chars().any(char::is_control)
    {
        return invalid("description must be at most 250 characters on one line");
    }
    if !(req.redirect_url.starts_with("https://") || req.redirect_url.starts_with("http://")) {
        return invalid("redirect URL must be absolute");
    }
    let in_range = |m: Money| (1..=MAX_CENTS).contains(&m.0);
    if !in_range(req.amount) {
        return invalid("amount must be positive");
    }
    let positions: Vec<(&str, Money)> = if req.items.is_empty() {
        vec![(req.description.as_str(), req.amount)]
    } else {
        req.items.iter().map(|(d, m)| (d.as_str(), *m)).collect()
    };
    if positions.iter().any(|(_, m)| !in_range(*m)) {
        return invalid("every item amount must be positive");
    }
    if positions
        .iter()
        .any(|(d, _)| d.chars().count() > MAX_DESCRIPTION_CHARS || d.chars().any(char::is_control))
    {
        return invalid("item descriptions must be at most 250 characters on one line");
    }
    // Caught here rather than as the provider's CALCULATION_ERROR: it is our bug either way,
    // and this way no half-valid request is stored at the provider.
    let sum = positions
        .iter()
        .try_fold(0i64, |acc, (_, m)| acc.checked_add(m.0));
    if sum != Some(req.amount.0) {
        return invalid("items do not add up to the amount");
    }
    let zero = WireAmount(Money(0));
    let items = positions
        .into_iter()
        .enumerate()
        .map(|(i, (description, amount))| ItemBody {
            id: (i + 1).to_string(),
            description,
            tax_rate: 0,
            quantity: 1,
            total_net_amount: WireAmount(amount),
            total_tax_amount: zero,
            single_net_amount: WireAmount(amount),
            single_tax_amount: zero,
        })
        .collect();
    Ok(RequestBody {
        request_id: &req.request_id,
        request_timestamp: timestamp,
        currency: "EUR",
        gros_amount: WireAmount(req.amount),
        purpose: &req.purpose,
        description: &req.description,
        redirect_url: &req.redirect_url,
        items,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionBody {
    payment_information: Option<InformationBody>,
    payment_request: Option<EchoBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InformationBody {
    transaction_id: Option<String>,
    transaction_redirect_url: Option<String>,
    transaction_reference: Option<String>,
    payment_method: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EchoBody {
    request_id: Option<String>,
    gros_amount: Option<WireAmount>,
}

fn parse_transaction(bytes: &[u8]) -> Result<ProviderTransaction, ProviderError> {
    let body: TransactionBody = serde_json::from_slice(bytes).map_err(|e| {
        // The message can quote the provider's values; those go to the log, not into the error.
        tracing::warn!(error = %e, "payment provider sent an unreadable transaction");
        ProviderError::Protocol(format!(
            "transaction unreadable ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let info = body
        .payment_information
        .ok_or_else(|| ProviderError::Protocol("paymentInformation missing".into()))?;
    let transaction_id = info
        .transaction_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::Protocol("transactionId missing".into()))?;
    let status = info
        .status
        .map(|s| PaymentStatus::from_wire(&s))
        .ok_or_else(|| ProviderError::Protocol("status missing".into()))?;
    let (request_id, amount) = match body.payment_request {
        Some(echo) => (echo.request_id, echo.gros_amount.map(|a| a.0)),
        None => (None, None),
    };
    Ok(ProviderTransaction {
        transaction_id,
        request_id,
        // A pay page link after the end would only lead the citizen to an error page.
        payment_url: info
            .transaction_redirect_url
            .filter(|_| status == PaymentStatus::Initial),
        status,
        amount,
        reference: info.transaction_reference,
        payment_method: info.payment_method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::xbezahl_fake::{FakeOptions, FakeProvider, TransactionIds};
    use std::time::Instant;

    const USER: &str = "amtsweg-test";
    const PASS: &str = "s3cret-pass-word";

    fn payment(request_id: &str, cents: i64) -> CreatePayment {
        CreatePayment {
            request_id: request_id.to_owned(),
            amount: Money(cents),
            purpose: "RF18539007547034".to_owned(),
            description: "Bewohnerparkausweis Zone B".to_owned(),
            redirect_url: "https://amtsweg.example/zahlung/zurueck?n=1".to_owned(),
            items: vec![],
        }
    }

    fn client_for(fake: &FakeProvider) -> XBezahlClient {
        XBezahlClient::new(fake.client_config(USER, PASS))
    }

    #[tokio::test]
    async fn lifecycle_initial_then_payed() {
        // Own ids, so a client that queried by request id instead of transaction id would fail.
        let fake = FakeProvider::start_with(
            USER,
            PASS,
            FakeOptions {
                transaction_ids: TransactionIds::Own,
            },
        )
        .await
        .expect("fake starts");
        let client = client_for(&fake);

        let created = client
            .create(&payment("N1-A1", 3070))
            .await
            .expect("created");
        assert_eq!(created.status, PaymentStatus::Initial);
        assert_ne!(created.transaction_id, "N1-A1");
        assert_eq!(created.request_id.as_deref(), Some("N1-A1"));
        assert_eq!(created.amount, Some(Money(3070)));
        let pay_url = created.payment_url.clone().expect("pay page while INITIAL");
        assert_eq!(pay_url, fake.pay_page_url(&created.transaction_id));

        let polled = client
            .status(&created.transaction_id)
            .await
            .expect("status");
        assert_eq!(polled.status, PaymentStatus::Initial);

        assert!(fake.set_status(&created.transaction_id, PaymentStatus::Payed));
        let polled = client
            .status(&created.transaction_id)
            .await
            .expect("status");
        assert_eq!(polled.status, PaymentStatus::Payed);
        assert!(polled.status.is_final());
        assert_eq!(polled.payment_url, None, "no pay page once finished");
        assert_eq!(polled.transaction_id, created.transaction_id);

        let counters = fake.counters();
        assert_eq!(counters.create_calls, 1);
        assert_eq!(counters.status_calls, 2);
    }

    #[tokio::test]
    async fn retry_after_lost_answer_returns_the_same_transaction() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = client_for(&fake);
        let req = payment("N7-A1", 12_345);

        fake.fail_next_create_after_commit();
        let first = client.create(&req).await.expect_err("answer lost");
        assert!(matches!(first, ProviderError::Server { status: 500 }));
        assert!(first.is_retryable());

        let second = client.create(&req).await.expect("retry recovers");
        let third = client.create(&req).await.expect("and again");
        assert_eq!(second.transaction_id, third.transaction_id);
        assert_eq!(second.status, PaymentStatus::Initial);
        assert!(second.payment_url.is_some());
        assert_eq!(second.amount, Some(Money(12_345)));

        let stored = fake.transactions();
        assert_eq!(stored.len(), 1, "one transaction at the provider");
        assert_eq!(stored[0].transaction_id, second.transaction_id);
        assert_eq!(fake.counters().create_calls, 3);
    }

    #[tokio::test]
    async fn duplicate_at_a_provider_with_own_ids_is_reported_not_hidden() {
        let fake = FakeProvider::start_with(
            USER,
            PASS,
            FakeOptions {
                transaction_ids: TransactionIds::Own,
            },
        )
        .await
        .expect("fake starts");
        let client = client_for(&fake);
        let req = payment("N8-A1", 500);

        fake.fail_next_create_after_commit();
        assert!(client.create(&req).await.is_err());
        let err = client.create(&req).await.expect_err("cannot be read back");
        assert!(
            matches!(&err, ProviderError::AlreadyExists { request_id } if request_id == "N8-A1"),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        // The next attempt goes through under its own request id.
        let next = client
            .create(&payment("N8-A2", 500))
            .await
            .expect("new attempt");
        assert_eq!(next.status, PaymentStatus::Initial);
        assert_eq!(fake.transactions().len(), 2);
    }

    #[tokio::test]
    async fn reused_request_id_with_another_amount_is_not_recovered() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = client_for(&fake);
        client
            .create(&payment("N9-A1", 1000))
            .await
            .expect("created");
        let err = client
            .create(&payment("N9-A1", 2000))
            .await
            .expect_err("different amount");
        assert!(
            matches!(err, ProviderError::AlreadyExists { .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn wrong_credentials_are_a_clean_error() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = XBezahlClient::new(fake.client_config(USER, "wrong-password"));
        let err = client
            .create(&payment("N2-A1", 1000))
            .await
            .expect_err("refused");
        assert!(matches!(err, ProviderError::Unauthorized), "{err:?}");
        assert!(!err.is_retryable());
        let text = format!("{err} {err:?}");
        assert!(!text.contains("wrong-password") && !text.contains(USER));

        let err = client.status("whatever").await.expect_err("refused");
        assert!(matches!(err, ProviderError::Unauthorized), "{err:?}");
        assert!(fake.transactions().is_empty());
        assert_eq!(fake.counters().unauthorized, 2);
    }

    #[tokio::test]
    async fn configuration_debug_hides_the_password() {
        let config = ProviderConfig {
            base_url: "https://epay.example/api/".into(),
            originator_id: "amtsweg".into(),
            endpoint_id: "0815".into(),
            username: "user".into(),
            password: Secret::new("hunter2".into()),
        };
        let client = XBezahlClient::new(config);
        assert!(!format!("{client:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn provider_down_is_unreachable_quickly() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let client = XBezahlClient::new(ProviderConfig {
            base_url: format!("http://127.0.0.1:{port}/api/"),
            originator_id: "o".into(),
            endpoint_id: "e".into(),
            username: USER.into(),
            password: Secret::new(PASS.into()),
        });
        let started = Instant::now();
        let err = client
            .create(&payment("N3-A1", 1000))
            .await
            .expect_err("nobody listens");
        assert!(matches!(err, ProviderError::Unreachable), "{err:?}");
        assert!(err.is_retryable());
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn silent_provider_is_a_retryable_timeout() {
        // Accepts connections and never answers, like a provider stuck behind its proxy.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let holder = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let client = XBezahlClient::with_timeouts(
            ProviderConfig {
                base_url: format!("http://127.0.0.1:{port}/"),
                originator_id: "o".into(),
                endpoint_id: "e".into(),
                username: USER.into(),
                password: Secret::new(PASS.into()),
            },
            CONNECT_TIMEOUT,
            Duration::from_millis(300),
        );
        let err = client
            .create(&payment("N11-A1", 100))
            .await
            .expect_err("no answer");
        assert!(matches!(err, ProviderError::Timeout), "{err:?}");
        assert!(err.is_retryable());
        holder.abort();
    }

    #[tokio::test]
    async fn malformed_answers_are_protocol_errors() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = client_for(&fake);
        let cases = [
            "{not json",
            "[]",
            r#"{"paymentInformation":{"status":"INITIAL"}}"#,
            r#"{"paymentInformation":{"transactionId":"t1"}}"#,
            r#"{"paymentInformation":{"transactionId":"t1","status":"PAYED"},"paymentRequest":{"grosAmount":30.705}}"#,
            r#"{"paymentInformation":{"transactionId":"t1","status":"PAYED"},"paymentRequest":{"grosAmount":-1}}"#,
            r#"{"paymentInformation":{"transactionId":7,"status":"PAYED"}}"#,
            "",
        ];
        for body in cases {
            fake.respond_next_with(200, body);
            let err = client.status("t1").await.expect_err(body);
            assert!(matches!(err, ProviderError::Protocol(_)), "{body}: {err:?}");
        }
        // Nothing of it sticks: the next request is answered normally.
        let created = client.create(&payment("N4-A1", 100)).await.expect("fine");
        assert_eq!(created.status, PaymentStatus::Initial);
    }

    #[tokio::test]
    async fn error_answers_are_classified() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = client_for(&fake);

        let err = client.status("no-such-id").await.expect_err("unknown");
        assert!(matches!(err, ProviderError::NotFound), "{err:?}");

        fake.respond_next_with(
            422,
            r#"{"status":422,"title":"Unprocessable","detail":"Haushaltsstelle fehlt","functionalCode":"BOOKING_DATA_MISSING"}"#,
        );
        let err = client
            .create(&payment("N5-A1", 100))
            .await
            .expect_err("rejected");
        match &err {
            ProviderError::Rejected {
                status,
                code,
                detail,
            } => {
                assert_eq!((*status, code.as_str()), (422, "BOOKING_DATA_MISSING"));
                assert_eq!(detail.as_deref(), Some("Haushaltsstelle fehlt"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            !err.to_string().contains("Haushaltsstelle"),
            "detail stays out of Display"
        );

        fake.respond_next_with(502, "<html>Bad Gateway</html>");
        let err = client.status("x").await.expect_err("proxy error");
        assert!(
            matches!(err, ProviderError::Server { status: 502 }),
            "{err:?}"
        );

        fake.respond_next_with(400, "plain text");
        let err = client.status("x").await.expect_err("bad request");
        assert!(
            matches!(&err, ProviderError::Rejected { status: 400, code, .. } if code == "UNSPECIFIED"),
            "{err:?}"
        );

        fake.respond_next_with(302, "");
        let err = client.status("x").await.expect_err("redirect");
        assert!(matches!(err, ProviderError::Protocol(_)), "{err:?}");
    }

    #[tokio::test]
    async fn amounts_are_exact_cents_on_the_wire() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = client_for(&fake);
        let mut req = payment("N6-A1", 3070);
        req.items = vec![
            ("Gebühr".into(), Money(1010)),
            ("Auslagen".into(), Money(2060)),
        ];
        let tx = client.create(&req).await.expect("created");
        assert_eq!(tx.amount, Some(Money(3070)));

        let body = fake.create_request_bodies().pop().expect("recorded");
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert!(body.contains(r#""grosAmount":30.7"#), "{body}");
        assert!(body.contains(r#""totalNetAmount":10.1"#), "{body}");
        assert!(body.contains(r#""totalNetAmount":20.6"#), "{body}");
        assert_eq!(json["currency"], "EUR");
        assert_eq!(json["purpose"], "RF18539007547034");
        assert_eq!(json["items"].as_array().map(Vec::len), Some(2));

        for (i, cents) in [1, 10, 99, 3070, 99_999_999, 123_456_789_012, MAX_CENTS]
            .into_iter()
            .enumerate()
        {
            let tx = client
                .create(&payment(&format!("AMT-{i}"), cents))
                .await
                .expect("created");
            assert_eq!(tx.amount, Some(Money(cents)));
            let stored = fake
                .transactions()
                .into_iter()
                .find(|t| t.transaction_id == tx.transaction_id)
                .expect("stored");
            assert_eq!(stored.amount, Money(cents));
        }
        let body = fake.create_request_bodies().pop().expect("recorded");
        assert!(body.contains(r#""grosAmount":10000000000.0"#), "{body}");
    }

    #[test]
    fn every_amount_round_trips_exactly() {
        let check = |cents: i64| {
            let text = serde_json::to_string(&WireAmount(Money(cents))).expect("serialize");
            assert!(!text.contains(['e', 'E']), "{cents}: {text}");
            let back: WireAmount = serde_json::from_str(&text).expect("parse");
            assert_eq!(back.0, Money(cents), "{text}");
            assert_eq!(parse_decimal_cents(&text), Some(cents));
        };
        for cents in 0..=300_000 {
            check(cents);
        }
        // A spread over the whole range, including values next to powers of ten.
        let mut c: i64 = 1;
        while c < MAX_CENTS {
            for d in [-1, 0, 1, 7, 99] {
                if (0..=MAX_CENTS).contains(&(c + d)) {
                    check(c + d);
                }
            }
            c = c * 3 + 1;
        }
        for cents in [99_999_999, 100_000_001, 999_999_999_999, MAX_CENTS] {
            check(cents);
        }
        assert_eq!(
            serde_json::to_string(&WireAmount(Money(3070)))
                .ok()
                .as_deref(),
            Some("30.7")
        );
        assert_eq!(
            serde_json::to_string(&WireAmount(Money(99_999_999)))
                .ok()
                .as_deref(),
            Some("999999.99")
        );
    }

    #[test]
    fn amounts_outside_two_decimals_are_refused() {
        let parse = |s: &str| serde_json::from_str::<WireAmount>(s).map(|a| a.0 .0).ok();
        assert_eq!(parse("30.70"), Some(3070));
        assert_eq!(parse("\"30.70\""), Some(3070));
        assert_eq!(parse("1e3"), Some(100_000));
        assert_eq!(parse("0.1"), Some(10));
        assert_eq!(parse("30.705"), None);
        assert_eq!(parse("-0.01"), None);
        assert_eq!(parse("\"1,50\""), None);
        assert_eq!(parse("\"\""), None);
        assert_eq!(parse("\"5.\""), None);
        assert_eq!(parse("1e300"), None);
        assert_eq!(parse("null"), None);
        assert_eq!(parse("true"), None);
    }

    #[test]
    fn invalid_requests_are_refused_before_sending() {
        let bad = |edit: &dyn Fn(&mut CreatePayment)| {
            let mut req = payment("N1-A1", 1000);
            edit(&mut req);
            matches!(
                request_body(&req, String::new()),
                Err(ProviderError::InvalidRequest(_))
            )
        };
        assert!(!bad(&|_| {}));
        assert!(bad(&|r| r.request_id = String::new()));
        assert!(bad(&|r| r.request_id = "a/b".into()));
        assert!(bad(&|r| r.request_id = "x".repeat(37)));
        assert!(bad(&|r| r.purpose = "RF18 5390 0754 7034 0000 0000".into()));
        assert!(bad(&|r| r.purpose = String::new()));
        assert!(bad(&|r| r.description = "a\nb".into()));
        assert!(bad(&|r| r.redirect_url = "/relative".into()));
        assert!(bad(&|r| r.amount = Money(0)));
        assert!(bad(&|r| r.amount = Money(MAX_CENTS + 1)));
        assert!(bad(
            &|r| r.items = vec![("a".into(), Money(600)), ("b".into(), Money(300))]
        ));
        assert!(bad(
            &|r| r.items = vec![("a".into(), Money(1100)), ("b".into(), Money(-100))]
        ));
        assert!(!bad(
            &|r| r.items = vec![("a".into(), Money(700)), ("b".into(), Money(300))]
        ));
    }

    #[test]
    fn urls_encode_ids_as_single_segments() {
        let client = XBezahlClient::new(ProviderConfig {
            base_url: "https://epay.example/xbezahldienste/api/v1.0.0".into(),
            originator_id: "amts weg".into(),
            endpoint_id: "09/162".into(),
            username: "u".into(),
            password: Secret::new("p".into()),
        });
        let url = client.url(Some("../x")).expect("url");
        assert_eq!(
            url.as_str(),
            "https://epay.example/xbezahldienste/api/v1.0.0/paymenttransaction/amts%20weg/09%2F162/..%2Fx"
        );
        let with_slash = XBezahlClient::new(ProviderConfig {
            base_url: "https://epay.example/api/".into(),
            ..client.config().clone()
        });
        assert_eq!(
            with_slash.url(None).expect("url").as_str(),
            "https://epay.example/api/paymenttransaction/amts%20weg/09%2F162"
        );
        let with_creds = XBezahlClient::new(ProviderConfig {
            base_url: "https://u:p@epay.example/api/".into(),
            ..client.config().clone()
        });
        assert!(matches!(
            with_creds.url(None),
            Err(ProviderError::InvalidRequest(_))
        ));
    }

    #[test]
    fn unknown_statuses_are_kept_and_not_final() {
        let tx = parse_transaction(
            br#"{"paymentInformation":{"transactionId":"t","status":"REFUNDED","transactionRedirectUrl":"https://pay/x"}}"#,
        )
        .expect("parsed");
        assert_eq!(tx.status, PaymentStatus::Other("REFUNDED".into()));
        assert!(!tx.status.is_final());
        assert_eq!(tx.payment_url, None);
        assert_eq!(tx.amount, None);
        for s in ["INITIAL", "PAYED", "CANCELED", "FAILED"] {
            assert_eq!(PaymentStatus::from_wire(s).as_wire(), s);
        }
    }

    #[tokio::test]
    async fn pay_page_can_be_clicked_through() {
        let fake = FakeProvider::start(USER, PASS).await;
        let client = client_for(&fake);
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");

        let mut req = payment("N10-A1", 4250);
        req.description = "Parkausweis <Zone \"B\"> & mehr".into();
        let tx = client.create(&req).await.expect("created");
        let page_url = tx.payment_url.expect("pay page");
        let page = browser.get(&page_url).send().await.expect("page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        assert!(html.contains("Bezahlen") && html.contains("Abbrechen"));
        assert!(html.contains("42,50 €"), "{html}");
        assert!(html.contains("Parkausweis &lt;Zone &quot;B&quot;&gt; &amp; mehr"));
        assert!(!html.contains("<Zone"));

        let answer = browser
            .post(&page_url)
            .form(&[("action", "pay")])
            .send()
            .await
            .expect("pay");
        assert_eq!(answer.status(), 303);
        assert_eq!(
            answer.headers()["location"].to_str().ok(),
            Some(req.redirect_url.as_str())
        );
        let polled = client.status(&tx.transaction_id).await.expect("status");
        assert_eq!(polled.status, PaymentStatus::Payed);
        assert!(polled.payment_method.is_some());

        // A second click cannot turn a payment into a cancellation.
        let again = browser
            .post(&page_url)
            .form(&[("action", "cancel")])
            .send()
            .await
            .expect("again");
        assert_eq!(again.status(), 303);
        let polled = client.status(&tx.transaction_id).await.expect("status");
        assert_eq!(polled.status, PaymentStatus::Payed);

        let tx = client
            .create(&payment("N10-A2", 100))
            .await
            .expect("created");
        let page_url = tx.payment_url.expect("pay page");
        let answer = browser
            .post(&page_url)
            .form(&[("action", "cancel")])
            .send()
            .await
            .expect("cancel");
        assert_eq!(answer.status(), 303);
        let polled = client.status(&tx.transaction_id).await.expect("status");
        assert_eq!(polled.status, PaymentStatus::Canceled);
        assert_eq!(fake.counters().pay_page_views, 1);
    }
}
