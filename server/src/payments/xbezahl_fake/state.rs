//! What the fake holds: its transactions, the steering from tests, and the counters.

use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::http::{header, HeaderMap};
use base64::Engine as _;
use serde_json::{json, Value};

use super::{FakeCounters, FakeOptions, FakeTransaction, API_PREFIX};
use crate::payments::xbezahl::PaymentStatus;

pub(super) struct Stored {
    pub(super) public: FakeTransaction,
    /// The request as received, echoed back as `paymentRequest` like a provider does.
    pub(super) request: Value,
    pub(super) reference: String,
}

#[derive(Default)]
pub(super) struct Book {
    pub(super) transactions: Vec<Stored>,
    pub(super) fail_next_create_after_commit: bool,
    pub(super) next_response: Option<(u16, String)>,
    pub(super) counters: FakeCounters,
    pub(super) create_bodies: Vec<String>,
}

pub(super) struct Shared {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) options: FakeOptions,
    /// `http://127.0.0.1:port`, without a trailing slash.
    pub(super) origin: String,
    pub(super) book: Mutex<Book>,
}

impl Shared {
    /// A panicking test must not take the fake down for the tests that share it.
    pub(super) fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn authorised(&self, headers: &HeaderMap) -> bool {
        let Some(encoded) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
        else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let expected = format!("{}:{}", self.username, self.password);
        decoded == expected.as_bytes()
    }

    pub(super) fn pay_page_url(&self, transaction_id: &str) -> String {
        format!("{}/paypage/{transaction_id}", self.origin)
    }

    pub(super) fn transaction_json(&self, stored: &Stored) -> Value {
        let tx = &stored.public;
        let mut info = json!({
            "transactionId": tx.transaction_id,
            "transactionUrl": format!(
                "{}{API_PREFIX}/paymenttransaction/{}/{}/{}",
                self.origin, tx.originator_id, tx.endpoint_id, tx.transaction_id
            ),
            "transactionReference": stored.reference,
            "status": tx.status.as_wire(),
        });
        if tx.status == PaymentStatus::Initial {
            info["transactionRedirectUrl"] = json!(self.pay_page_url(&tx.transaction_id));
        }
        if let Some(method) = &tx.payment_method {
            info["paymentMethod"] = json!(method);
            info["paymentMethodDetail"] = json!("Testzahlung ohne Geldfluss");
        }
        json!({ "paymentRequest": stored.request, "paymentInformation": info })
    }
}
