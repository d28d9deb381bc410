use axum::http::header;
use serde_json::{json, Value};

use super::{FakeProvider, FAKE_ENDPOINT_ID, FAKE_ORIGINATOR_ID};
use crate::domain::Money;

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
