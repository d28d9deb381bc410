//! The API: creating and reading transactions, with the checks and error documents of the
//! standard.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::state::{Book, Shared, Stored};
use super::{FakeTransaction, TransactionIds};
use crate::domain::Money;
use crate::payments::xbezahl::PaymentStatus;

fn problem(status: StatusCode, functional_code: &str, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "status": status.as_u16(),
        "title": status.canonical_reason().unwrap_or("Error"),
        "detail": detail,
        "functionalCode": functional_code,
    });
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"xbezahldienste\""),
        );
    }
    response
}

fn unauthorised(book: &mut Book) -> Response {
    book.counters.unauthorized += 1;
    problem(
        StatusCode::UNAUTHORIZED,
        "FORBIDDEN",
        "Authentisierung fehlgeschlagen",
    )
}

fn canned(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// An amount as the standard writes it: a JSON number in euros with at most two decimals.
fn amount(value: Option<&Value>) -> Option<Money> {
    let Some(Value::Number(n)) = value else {
        return None;
    };
    let text = n.to_string();
    let (euros, cents) = text.split_once('.').unwrap_or((&text, ""));
    if euros.is_empty()
        || euros.len() > 13
        || cents.len() > 2
        || !euros.bytes().all(|b| b.is_ascii_digit())
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents = format!("{cents:0<2}");
    Some(Money(
        euros.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?,
    ))
}

fn text<'a>(request: &'a Value, field: &str) -> Option<&'a str> {
    request.get(field)?.as_str()
}

/// The parts of a create request the fake acts on, or the functional code and reason for
/// refusing it.
fn parse_request(request: &Value) -> Result<ParsedRequest, (&'static str, String)> {
    let invalid = |why: &str| Err(("VALIDATION_ERROR", why.to_owned()));
    let Some(request_id) = text(request, "requestId").filter(|id| {
        (1..=36).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) else {
        return invalid("requestId fehlt oder ist ungültig");
    };
    if text(request, "requestTimestamp").is_none_or(str::is_empty) {
        return invalid("requestTimestamp fehlt");
    }
    if text(request, "currency") != Some("EUR") {
        return invalid("currency muss EUR sein");
    }
    let Some(gross) = amount(request.get("grosAmount")) else {
        return invalid("grosAmount fehlt oder ist kein Betrag");
    };
    let Some(purpose) = text(request, "purpose").filter(|p| (1..=27).contains(&p.chars().count()))
    else {
        return invalid("purpose fehlt oder ist zu lang");
    };
    let Some(redirect_url) = text(request, "redirectUrl").filter(|u| u.starts_with("http")) else {
        return invalid("redirectUrl fehlt");
    };
    let Some(raw_items) = request.get("items").and_then(Value::as_array) else {
        return invalid("items fehlen");
    };
    let mut items = Vec::new();
    for item in raw_items {
        let (Some(net), Some(tax)) = (
            amount(item.get("totalNetAmount")),
            amount(item.get("totalTaxAmount")),
        ) else {
            return invalid("Position ohne totalNetAmount/totalTaxAmount");
        };
        let description = text(item, "description").unwrap_or_default().to_owned();
        items.push((description, Money(net.0 + tax.0)));
    }
    if items.is_empty() {
        return invalid("items fehlen");
    }
    if items.iter().map(|(_, m)| m.0).sum::<i64>() != gross.0 {
        return Err((
            "CALCULATION_ERROR",
            "Summe der Positionen weicht von grosAmount ab".to_owned(),
        ));
    }
    Ok(ParsedRequest {
        request_id: request_id.to_owned(),
        amount: gross,
        purpose: purpose.to_owned(),
        description: text(request, "description").unwrap_or_default().to_owned(),
        redirect_url: redirect_url.to_owned(),
        items,
    })
}

struct ParsedRequest {
    request_id: String,
    amount: Money,
    purpose: String,
    description: String,
    redirect_url: String,
    items: Vec<(String, Money)>,
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    Path((originator, endpoint)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut book = shared.book();
    book.counters.create_calls += 1;
    if !shared.authorised(&headers) {
        return unauthorised(&mut book);
    }
    if let Some((status, body)) = book.next_response.take() {
        return canned(status, body);
    }
    book.create_bodies
        .push(String::from_utf8_lossy(&body).into_owned());
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Kein gültiges JSON",
        );
    };
    let parsed = match parse_request(&request) {
        Ok(parsed) => parsed,
        Err((code, why)) => return problem(StatusCode::BAD_REQUEST, code, &why),
    };
    let duplicate = book.transactions.iter().any(|s| {
        s.public.originator_id == originator
            && s.public.endpoint_id == endpoint
            && s.public.request_id == parsed.request_id
    });
    if duplicate {
        return problem(
            StatusCode::CONFLICT,
            "PAYMENT_EXISTS",
            "requestId bereits verwendet",
        );
    }
    let transaction_id = match shared.options.transaction_ids {
        TransactionIds::RequestId => parsed.request_id.clone(),
        TransactionIds::Own => format!("FAKE{}", uuid::Uuid::new_v4().simple()).to_uppercase(),
    };
    let reference = format!("KZ{:08}", book.transactions.len() + 1);
    let stored = Stored {
        public: FakeTransaction {
            originator_id: originator,
            endpoint_id: endpoint,
            transaction_id,
            request_id: parsed.request_id,
            amount: parsed.amount,
            purpose: parsed.purpose,
            description: parsed.description,
            redirect_url: parsed.redirect_url,
            items: parsed.items,
            status: PaymentStatus::Initial,
            payment_method: None,
        },
        request,
        reference,
    };
    let answer = shared.transaction_json(&stored);
    book.transactions.push(stored);
    if std::mem::take(&mut book.fail_next_create_after_commit) {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNSPECIFIED",
            "Verbindung abgebrochen",
        );
    }
    (StatusCode::OK, axum::Json(answer)).into_response()
}

pub(super) async fn read(
    State(shared): State<Arc<Shared>>,
    Path((originator, endpoint, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut book = shared.book();
    book.counters.status_calls += 1;
    if !shared.authorised(&headers) {
        return unauthorised(&mut book);
    }
    if let Some((status, body)) = book.next_response.take() {
        return canned(status, body);
    }
    match book.transactions.iter().find(|s| {
        s.public.originator_id == originator
            && s.public.endpoint_id == endpoint
            && s.public.transaction_id == id
    }) {
        Some(stored) => {
            (StatusCode::OK, axum::Json(shared.transaction_json(stored))).into_response()
        }
        None => problem(
            StatusCode::NOT_FOUND,
            "UNSPECIFIED",
            "Transaktion nicht gefunden",
        ),
    }
}
