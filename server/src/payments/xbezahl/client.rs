//! The HTTP side: requests with HTTP Basic authentication, answers read within limits, and
//! failures classified so callers know whether a retry is safe.

use std::time::Duration;

use super::wire::{now_timestamp, parse_transaction, request_body, Problem};
use super::{CreatePayment, ProviderConfig, ProviderError, ProviderTransaction};

/// Connection set-up to a provider that answers at all takes milliseconds; five seconds only
/// trips on a host that drops packets, and the citizen is waiting for the redirect.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole request including the body, long enough for a slow platform and short enough that a
/// request handler does not hang behind the proxy's own timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Transactions are a few kilobytes; a provider (or something pretending to be one) streaming
/// more must not be able to fill our memory.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

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

    pub(super) fn with_timeouts(
        config: ProviderConfig,
        connect: Duration,
        request: Duration,
    ) -> Self {
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

    pub(super) fn url(&self, transaction_id: Option<&str>) -> Result<reqwest::Url, ProviderError> {
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
