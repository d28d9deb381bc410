//! The JSON messages of the standard and amounts on the wire ([`WireAmount`]).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{CreatePayment, PaymentStatus, ProviderError, ProviderTransaction};
use crate::domain::Money;

/// Length limits as enforced by the reference implementation. Truncating the purpose would cut
/// the creditor reference that reconciliation matches on, so over-long values are refused.
const MAX_REQUEST_ID_CHARS: usize = 36;
const MAX_PURPOSE_CHARS: usize = 27;
const MAX_DESCRIPTION_CHARS: usize = 250;
/// Below 2^53 hundredths every amount has an exact shortest decimal form as an `f64`; ten
/// billion euros is far beyond any fee.
pub(super) const MAX_CENTS: i64 = 1_000_000_000_000;

/// The standard's error document. Everything is optional: an error page from a proxy in front
/// of the provider must still be classified by its HTTP status.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Problem {
    pub(super) functional_code: Option<String>,
    pub(super) detail: Option<String>,
}

pub(super) fn now_timestamp() -> String {
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
pub(super) struct RequestBody<'a> {
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

pub(super) fn request_body(
    req: &CreatePayment,
    timestamp: String,
) -> Result<RequestBody<'_>, ProviderError> {
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

pub(super) fn parse_transaction(bytes: &[u8]) -> Result<ProviderTransaction, ProviderError> {
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
