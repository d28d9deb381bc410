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

mod api;
mod pay_page;
mod state;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use tokio::sync::oneshot;

use super::xbezahl::{PaymentStatus, ProviderConfig};
use crate::domain::Money;
use crate::secret::Secret;
use api::{create, read};
use pay_page::{pay_page, pay_page_submit};
use state::{Book, Shared};

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
