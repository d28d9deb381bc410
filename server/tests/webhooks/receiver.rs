//! The receiving back-office system: verifies each request as the Standard Webhooks
//! specification says, with its own HMAC rather than the server's code, and records it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};

#[derive(Clone, Debug)]
pub struct Seen {
    pub id: String,
    pub verified: bool,
    pub body: serde_json::Value,
    pub answered: u16,
}

/// The receiving back-office system.
#[derive(Default)]
pub struct Receiver {
    pub secret: Mutex<String>,
    /// Answer the first valid request with 500.
    pub fail_first: AtomicBool,
    seen: Mutex<Vec<Seen>>,
}

impl Receiver {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Standard Webhooks verification, written from the specification: HMAC-SHA256 with the
/// base64-decoded key over `id.timestamp.body`, timestamps at most five minutes off.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (id, ts) = (h("webhook-id"), h("webhook-timestamp"));
    let Ok(t) = ts.parse::<i64>() else {
        return false;
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let Some(key) = secret
        .strip_prefix("whsec_")
        .and_then(|k| STANDARD.decode(k).ok())
    else {
        return false;
    };
    if (now - t).abs() > 300 || id.is_empty() {
        return false;
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    h("webhook-signature").split(' ').any(|s| s == expected)
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Arc<Receiver>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let secret = r.secret.lock().unwrap().clone();
    let verified = verify(&secret, &headers, &body);
    let status = if !verified {
        StatusCode::UNAUTHORIZED
    } else if r.fail_first.swap(false, Ordering::SeqCst) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    r.seen.lock().unwrap().push(Seen {
        id: headers["webhook-id"].to_str().unwrap().to_string(),
        verified,
        body: serde_json::from_slice(&body).unwrap_or_default(),
        answered: status.as_u16(),
    });
    status
}

/// Starts a receiver on a free port; returns its address.
pub async fn receiver(r: Arc<Receiver>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

pub async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = check() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}
