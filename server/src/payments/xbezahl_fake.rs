//! A stand-in XBezahldienste provider on a real local port, for tests and for running the
//! portal without a contract with a payment platform.
//!
//! It answers the messages described in [`super::xbezahl`] (create and read a payment
//! transaction under an originator and endpoint, HTTP Basic authentication, problem documents
//! with the standard's functional codes, `PAYMENT_EXISTS` for a repeated `requestId`) and serves
//! a pay page where a person chooses "Bezahlen" or "Abbrechen" and is sent back to the
//! `redirectUrl`, so a browser test can click through the whole payment.
//!
//! The request is read independently of the client's own types (as JSON values, amounts only as
//! plain JSON numbers), so a field the client misnames or an amount it writes wrongly shows up
//! as a refusal here instead of agreeing with itself.
//!
//! Tests steer it directly: [`FakeProvider::set_status`] plays the citizen or the platform,
//! [`FakeProvider::fail_next_create_after_commit`] loses an answer, and
//! [`FakeProvider::respond_next_with`] sends whatever broken answer a test needs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::xbezahl::{PaymentStatus, ProviderConfig};
use crate::domain::Money;
use crate::secret::Secret;

/// The originator and endpoint [`FakeProvider::client_config`] uses. The fake accepts any pair
/// but keeps transactions apart by pair, as a real provider does.
pub const FAKE_ORIGINATOR_ID: &str = "amtsweg";
pub const FAKE_ENDPOINT_ID: &str = "fake-kasse";

/// Prefix of the API below the host, so clients are tested against a base URL with a path.
const API_PREFIX: &str = "/xbezahldienste/api/v1";

/// How the fake names transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TransactionIds {
    /// The `requestId` doubles as `transactionId`, which the standard permits; a client can
    /// then read a transaction back after `PAYMENT_EXISTS`.
    #[default]
    RequestId,
    /// Ids of the fake's own, as platforms with their own numbering issue them; catches a
    /// client that queries by request id.
    Own,
}

#[derive(Clone, Debug, Default)]
pub struct FakeOptions {
    pub transaction_ids: TransactionIds,
}

/// A transaction as the fake holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeTransaction {
    pub originator_id: String,
    pub endpoint_id: String,
    pub transaction_id: String,
    pub request_id: String,
    pub amount: Money,
    pub purpose: String,
    pub description: String,
    pub redirect_url: String,
    /// (description, net plus tax amount) per position.
    pub items: Vec<(String, Money)>,
    pub status: PaymentStatus,
    pub payment_method: Option<String>,
}

/// How often each entry point was used; tests assert retries and polling against these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FakeCounters {
    /// POSTs to the API, including refused ones.
    pub create_calls: u64,
    /// GETs of a transaction, including refused ones.
    pub status_calls: u64,
    /// API calls refused for their credentials.
    pub unauthorized: u64,
    pub pay_page_views: u64,
    pub pay_page_submissions: u64,
}

struct Stored {
    public: FakeTransaction,
    /// The request as received, echoed back as `paymentRequest` like a provider does.
    request: Value,
    reference: String,
}

#[derive(Default)]
struct Book {
    transactions: Vec<Stored>,
    fail_next_create_after_commit: bool,
    next_response: Option<(u16, String)>,
    counters: FakeCounters,
    create_bodies: Vec<String>,
}

struct Shared {
    username: String,
    password: String,
    options: FakeOptions,
    /// `http://127.0.0.1:port`, without a trailing slash.
    origin: String,
    book: Mutex<Book>,
}

impl Shared {
    /// A panicking test must not take the fake down for the tests that share it.
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
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

    fn pay_page_url(&self, transaction_id: &str) -> String {
        format!("{}/paypage/{transaction_id}", self.origin)
    }

    fn transaction_json(&self, stored: &Stored) -> Value {
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

/// A running fake provider; it stops when dropped.
pub struct FakeProvider {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl FakeProvider {
    /// Starts on a free loopback port with default options.
    ///
    /// # Panics
    /// If no loopback port can be bound, which in a test leaves nothing sensible to do.
    pub async fn start(username: &str, password: &str) -> FakeProvider {
        Self::start_with(username, password, FakeOptions::default())
            .await
            .expect("fake payment provider binds a loopback port")
    }

    pub async fn start_with(
        username: &str,
        password: &str,
        options: FakeOptions,
    ) -> std::io::Result<FakeProvider> {
        Self::start_on(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            username,
            password,
            options,
        )
        .await
    }

    /// Starts on a given address, for a dev command that needs a stable port.
    pub async fn start_on(
        addr: SocketAddr,
        username: &str,
        password: &str,
        options: FakeOptions,
    ) -> std::io::Result<FakeProvider> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            username: username.to_owned(),
            password: password.to_owned(),
            options,
            origin: format!("http://{addr}"),
            book: Mutex::new(Book::default()),
        });
        let app = Router::new()
            .route(
                &format!("{API_PREFIX}/paymenttransaction/{{originator}}/{{endpoint}}"),
                post(create),
            )
            .route(
                &format!("{API_PREFIX}/paymenttransaction/{{originator}}/{{endpoint}}/{{id}}"),
                get(read),
            )
            .route("/paypage/{id}", get(pay_page).post(pay_page_submit))
            .with_state(Arc::clone(&shared));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(err) = serve.await {
                tracing::warn!(error = %err, "fake payment provider stopped");
            }
        });
        Ok(FakeProvider {
            addr,
            shared,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }

    /// The API base URL to configure a client with (ends in `/`).
    pub fn base_url(&self) -> String {
        format!("{}{API_PREFIX}/", self.shared.origin)
    }

    /// A client configuration for this fake with the given credentials (pass wrong ones to test
    /// refusal).
    pub fn client_config(&self, username: &str, password: &str) -> ProviderConfig {
        ProviderConfig {
            base_url: self.base_url(),
            originator_id: FAKE_ORIGINATOR_ID.to_owned(),
            endpoint_id: FAKE_ENDPOINT_ID.to_owned(),
            username: username.to_owned(),
            password: Secret::new(password.to_owned()),
        }
    }

    /// The pay page of a transaction, as `transactionRedirectUrl` gives it while it is open.
    pub fn pay_page_url(&self, transaction_id: &str) -> String {
        self.shared.pay_page_url(transaction_id)
    }

    /// Sets a transaction's status as if the citizen or the platform had acted. Returns whether
    /// the transaction exists.
    pub fn set_status(&self, transaction_id: &str, status: PaymentStatus) -> bool {
        let mut book = self.shared.book();
        match book
            .transactions
            .iter_mut()
            .find(|s| s.public.transaction_id == transaction_id)
        {
            Some(stored) => {
                stored.public.payment_method =
                    (status == PaymentStatus::Payed).then(|| "OTHER".to_owned());
                stored.public.status = status;
                true
            }
            None => false,
        }
    }

    pub fn transactions(&self) -> Vec<FakeTransaction> {
        self.shared
            .book()
            .transactions
            .iter()
            .map(|s| s.public.clone())
            .collect()
    }

    /// The next create is stored but answered with 500, as when the answer is lost on the way
    /// back; the client's retry then meets `PAYMENT_EXISTS`.
    pub fn fail_next_create_after_commit(&self) {
        self.shared.book().fail_next_create_after_commit = true;
    }

    /// The next authorised API call, create or read, is answered with exactly this status and
    /// body (as `application/json`) and has no other effect.
    pub fn respond_next_with(&self, status: u16, body: &str) {
        self.shared.book().next_response = Some((status, body.to_owned()));
    }

    pub fn counters(&self) -> FakeCounters {
        self.shared.book().counters
    }

    /// The bodies of all create requests as received, oldest first, to check the wire format.
    pub fn create_request_bodies(&self) -> Vec<String> {
        self.shared.book().create_bodies.clone()
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

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

async fn create(
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

async fn read(
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

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Testbezahldienst</title></head>\n<body>\
         <p><strong>Testbezahldienst</strong> – hier fließt kein Geld.</p>\n{body}</body></html>\n"
    )
}

async fn pay_page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut book = shared.book();
    book.counters.pay_page_views += 1;
    let Some(stored) = book
        .transactions
        .iter()
        .find(|s| s.public.transaction_id == id)
    else {
        return (
            StatusCode::NOT_FOUND,
            Html(page("Unbekannt", "<h1>Zahlung nicht gefunden</h1>\n")),
        )
            .into_response();
    };
    let tx = &stored.public;
    let body = if tx.status == PaymentStatus::Initial {
        let items: String = tx
            .items
            .iter()
            .map(|(d, m)| format!("<li>{} – {}</li>\n", escape(d), escape(&m.format_de())))
            .collect();
        format!(
            "<h1>Zahlung</h1>\n<p>{description}</p>\n<ul>\n{items}</ul>\n\
             <p>Betrag: <strong>{amount}</strong><br>Verwendungszweck: {purpose}</p>\n\
             <form method=\"post\">\n\
             <button type=\"submit\" name=\"action\" value=\"pay\">Bezahlen</button>\n\
             <button type=\"submit\" name=\"action\" value=\"cancel\">Abbrechen</button>\n\
             </form>\n",
            description = escape(&tx.description),
            amount = escape(&tx.amount.format_de()),
            purpose = escape(&tx.purpose),
        )
    } else {
        format!(
            "<h1>Zahlung abgeschlossen</h1>\n<p>Status: {}</p>\n\
             <p><a href=\"{}\">Zurück zum Portal</a></p>\n",
            escape(tx.status.as_wire()),
            escape(&tx.redirect_url),
        )
    };
    Html(page("Zahlung", &body)).into_response()
}

#[derive(Deserialize)]
struct PayForm {
    action: String,
}

async fn pay_page_submit(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let mut book = shared.book();
    book.counters.pay_page_submissions += 1;
    let Some(stored) = book
        .transactions
        .iter_mut()
        .find(|s| s.public.transaction_id == id)
    else {
        return (StatusCode::NOT_FOUND, "Zahlung nicht gefunden").into_response();
    };
    let tx = &mut stored.public;
    // Only an open transaction can change; a second click (back button, double submit) just
    // returns the citizen to the portal, as real pay pages do.
    if tx.status == PaymentStatus::Initial {
        match form.action.as_str() {
            "pay" => {
                tx.status = PaymentStatus::Payed;
                tx.payment_method = Some("OTHER".to_owned());
            }
            "cancel" => tx.status = PaymentStatus::Canceled,
            _ => return (StatusCode::BAD_REQUEST, "Unbekannte Aktion").into_response(),
        }
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, tx.redirect_url.clone())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_requests_outside_the_standard() {
        let fake = FakeProvider::start("u", "p").await;
        let http = reqwest::Client::new();
        let url = format!(
            "{}paymenttransaction/{FAKE_ORIGINATOR_ID}/{FAKE_ENDPOINT_ID}",
            fake.base_url()
        );
        let valid = json!({
            "requestId": "R1",
            "requestTimestamp": "2026-01-01T00:00:00.000Z",
            "currency": "EUR",
            "grosAmount": 30.7,
            "purpose": "RF18539007547034",
            "description": "Gebühr",
            "redirectUrl": "https://portal.example/back",
            "items": [
                {"id": "1", "totalNetAmount": 10.1, "totalTaxAmount": 0},
                {"id": "2", "totalNetAmount": 20.6, "totalTaxAmount": 0}
            ]
        });
        let send = |body: Value| {
            let request = http.post(&url).basic_auth("u", Some("p")).json(&body);
            async move {
                let response = request.send().await.expect("sent");
                let status = response.status().as_u16();
                let json: Value = response.json().await.unwrap_or(Value::Null);
                (status, json["functionalCode"].as_str().map(str::to_owned))
            }
        };
        let with = |field: &str, value: Value| {
            let mut body = valid.clone();
            body[field] = value;
            body
        };

        assert_eq!(send(valid.clone()).await, (200, None));
        assert_eq!(
            send(valid.clone()).await,
            (409, Some("PAYMENT_EXISTS".into()))
        );
        let refused = [
            (
                {
                    let mut body = with("requestId", json!("R2"));
                    body["grosAmount"] = json!(30.71);
                    body
                },
                "CALCULATION_ERROR",
            ),
            (with("grosAmount", json!("30.70")), "VALIDATION_ERROR"),
            (with("grosAmount", json!(30.705)), "VALIDATION_ERROR"),
            (with("currency", json!("USD")), "VALIDATION_ERROR"),
            (with("requestId", json!("a/b")), "VALIDATION_ERROR"),
            (with("items", json!([])), "VALIDATION_ERROR"),
        ];
        for (body, code) in refused {
            assert_eq!(send(body.clone()).await, (400, Some(code.into())), "{body}");
        }
        assert_eq!(fake.transactions().len(), 1);
        assert_eq!(fake.transactions()[0].amount, Money(3070));

        let unauthorised = http.post(&url).json(&valid).send().await.expect("sent");
        assert_eq!(unauthorised.status(), 401);
        assert!(unauthorised
            .headers()
            .contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(fake.counters().unauthorized, 1);
    }

    #[tokio::test]
    async fn transactions_are_kept_apart_per_endpoint() {
        let fake = FakeProvider::start("u", "p").await;
        let http = reqwest::Client::new();
        let base = fake.base_url();
        let body = json!({
            "requestId": "R1",
            "requestTimestamp": "2026-01-01T00:00:00.000Z",
            "currency": "EUR",
            "grosAmount": 5,
            "purpose": "RF18539007547034",
            "redirectUrl": "https://portal.example/back",
            "items": [{"id": "1", "totalNetAmount": 5, "totalTaxAmount": 0}]
        });
        for endpoint in ["a", "b"] {
            let response = http
                .post(format!("{base}paymenttransaction/o/{endpoint}"))
                .basic_auth("u", Some("p"))
                .json(&body)
                .send()
                .await
                .expect("sent");
            assert_eq!(response.status(), 200, "same requestId, other endpoint");
        }
        let other = http
            .get(format!("{base}paymenttransaction/o/c/R1"))
            .basic_auth("u", Some("p"))
            .send()
            .await
            .expect("sent");
        assert_eq!(other.status(), 404);
        assert_eq!(fake.transactions().len(), 2);
        fake.stop().await;
    }
}
