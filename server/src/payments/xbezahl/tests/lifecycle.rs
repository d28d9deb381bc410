//! A payment from creation to its end, retries after lost answers, and the pay page.

use super::{client_for, payment, PASS, USER};
use crate::domain::Money;
use crate::payments::xbezahl::{PaymentStatus, ProviderError};
use crate::payments::xbezahl_fake::{FakeOptions, FakeProvider, TransactionIds};

#[tokio::test]
async fn lifecycle_initial_then_payed() {
    // Own ids, so a client that queried by request id instead of transaction id would fail.
    let fake = FakeProvider::start_with(
        USER,
        PASS,
        FakeOptions {
            transaction_ids: TransactionIds::Own,
        },
    )
    .await
    .expect("fake starts");
    let client = client_for(&fake);

    let created = client
        .create(&payment("N1-A1", 3070))
        .await
        .expect("created");
    assert_eq!(created.status, PaymentStatus::Initial);
    assert_ne!(created.transaction_id, "N1-A1");
    assert_eq!(created.request_id.as_deref(), Some("N1-A1"));
    assert_eq!(created.amount, Some(Money(3070)));
    let pay_url = created.payment_url.clone().expect("pay page while INITIAL");
    assert_eq!(pay_url, fake.pay_page_url(&created.transaction_id));

    let polled = client
        .status(&created.transaction_id)
        .await
        .expect("status");
    assert_eq!(polled.status, PaymentStatus::Initial);

    assert!(fake.set_status(&created.transaction_id, PaymentStatus::Payed));
    let polled = client
        .status(&created.transaction_id)
        .await
        .expect("status");
    assert_eq!(polled.status, PaymentStatus::Payed);
    assert!(polled.status.is_final());
    assert_eq!(polled.payment_url, None, "no pay page once finished");
    assert_eq!(polled.transaction_id, created.transaction_id);

    let counters = fake.counters();
    assert_eq!(counters.create_calls, 1);
    assert_eq!(counters.status_calls, 2);
}

#[tokio::test]
async fn retry_after_lost_answer_returns_the_same_transaction() {
    let fake = FakeProvider::start(USER, PASS).await;
    let client = client_for(&fake);
    let req = payment("N7-A1", 12_345);

    fake.fail_next_create_after_commit();
    let first = client.create(&req).await.expect_err("answer lost");
    assert!(matches!(first, ProviderError::Server { status: 500 }));
    assert!(first.is_retryable());

    let second = client.create(&req).await.expect("retry recovers");
    let third = client.create(&req).await.expect("and again");
    assert_eq!(second.transaction_id, third.transaction_id);
    assert_eq!(second.status, PaymentStatus::Initial);
    assert!(second.payment_url.is_some());
    assert_eq!(second.amount, Some(Money(12_345)));

    let stored = fake.transactions();
    assert_eq!(stored.len(), 1, "one transaction at the provider");
    assert_eq!(stored[0].transaction_id, second.transaction_id);
    assert_eq!(fake.counters().create_calls, 3);
}

#[tokio::test]
async fn duplicate_at_a_provider_with_own_ids_is_reported_not_hidden() {
    let fake = FakeProvider::start_with(
        USER,
        PASS,
        FakeOptions {
            transaction_ids: TransactionIds::Own,
        },
    )
    .await
    .expect("fake starts");
    let client = client_for(&fake);
    let req = payment("N8-A1", 500);

    fake.fail_next_create_after_commit();
    assert!(client.create(&req).await.is_err());
    let err = client.create(&req).await.expect_err("cannot be read back");
    assert!(
        matches!(&err, ProviderError::AlreadyExists { request_id } if request_id == "N8-A1"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    // The next attempt goes through under its own request id.
    let next = client
        .create(&payment("N8-A2", 500))
        .await
        .expect("new attempt");
    assert_eq!(next.status, PaymentStatus::Initial);
    assert_eq!(fake.transactions().len(), 2);
}

#[tokio::test]
async fn reused_request_id_with_another_amount_is_not_recovered() {
    let fake = FakeProvider::start(USER, PASS).await;
    let client = client_for(&fake);
    client
        .create(&payment("N9-A1", 1000))
        .await
        .expect("created");
    let err = client
        .create(&payment("N9-A1", 2000))
        .await
        .expect_err("different amount");
    assert!(
        matches!(err, ProviderError::AlreadyExists { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn pay_page_can_be_clicked_through() {
    let fake = FakeProvider::start(USER, PASS).await;
    let client = client_for(&fake);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let mut req = payment("N10-A1", 4250);
    req.description = "Parkausweis <Zone \"B\"> & mehr".into();
    let tx = client.create(&req).await.expect("created");
    let page_url = tx.payment_url.expect("pay page");
    let page = browser.get(&page_url).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Bezahlen") && html.contains("Abbrechen"));
    assert!(html.contains("42,50 €"), "{html}");
    assert!(html.contains("Parkausweis &lt;Zone &quot;B&quot;&gt; &amp; mehr"));
    assert!(!html.contains("<Zone"));

    let answer = browser
        .post(&page_url)
        .form(&[("action", "pay")])
        .send()
        .await
        .expect("pay");
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"].to_str().ok(),
        Some(req.redirect_url.as_str())
    );
    let polled = client.status(&tx.transaction_id).await.expect("status");
    assert_eq!(polled.status, PaymentStatus::Payed);
    assert!(polled.payment_method.is_some());

    // A second click cannot turn a payment into a cancellation.
    let again = browser
        .post(&page_url)
        .form(&[("action", "cancel")])
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), 303);
    let polled = client.status(&tx.transaction_id).await.expect("status");
    assert_eq!(polled.status, PaymentStatus::Payed);

    let tx = client
        .create(&payment("N10-A2", 100))
        .await
        .expect("created");
    let page_url = tx.payment_url.expect("pay page");
    let answer = browser
        .post(&page_url)
        .form(&[("action", "cancel")])
        .send()
        .await
        .expect("cancel");
    assert_eq!(answer.status(), 303);
    let polled = client.status(&tx.transaction_id).await.expect("status");
    assert_eq!(polled.status, PaymentStatus::Canceled);
    assert_eq!(fake.counters().pay_page_views, 1);
}
