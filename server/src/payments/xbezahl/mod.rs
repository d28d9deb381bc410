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

mod client;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;

pub use client::XBezahlClient;
pub use wire::{parse_decimal_cents, WireAmount};

use crate::domain::Money;
use crate::secret::Secret;

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
