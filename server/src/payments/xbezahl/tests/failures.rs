//! Credentials, unreachable and silent providers, and answers outside the standard.

use std::time::{Duration, Instant};

use super::{client_for, payment, PASS, USER};
use crate::payments::xbezahl::client::CONNECT_TIMEOUT;
use crate::payments::xbezahl::{PaymentStatus, ProviderConfig, ProviderError, XBezahlClient};
use crate::payments::xbezahl_fake::FakeProvider;
use crate::secret::Secret;

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
