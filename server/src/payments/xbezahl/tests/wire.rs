//! What goes over the wire: amounts to the cent, request checks, URLs and statuses.

use super::{client_for, payment, PASS, USER};
use crate::domain::Money;
use crate::payments::xbezahl::wire::{parse_transaction, request_body, MAX_CENTS};
use crate::payments::xbezahl::{
    parse_decimal_cents, CreatePayment, PaymentStatus, ProviderConfig, ProviderError, WireAmount,
    XBezahlClient,
};
use crate::payments::xbezahl_fake::FakeProvider;
use crate::secret::Secret;

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
