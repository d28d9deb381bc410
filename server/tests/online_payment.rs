//! Online payment through an XBezahldienste provider (the fake that follows the standard's
//! messages): the citizen is sent to the pay page and back, the outcome is read from the
//! provider, a payment is booked exactly once however often the status is asked, a cancelled
//! payment leaves the notice open, and an unreachable provider is explained.

mod common;

use amtsweg_server::payments::xbezahl::PaymentStatus;
use amtsweg_server::payments::xbezahl_fake::FakeProvider;
use common::fees::{issue, notices, world};
use common::people::text;
use common::{csrf, Backend, TestApp};

async fn run(backend: Backend) {
    let fake = FakeProvider::start("amtsweg", "geheim-123").await;
    let cfg = fake.client_config("amtsweg", "geheim-123");
    let dir = std::env::temp_dir().join(format!("amtsweg-xb-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("providers.toml");
    let var = format!("AMTSWEG_TEST_XB_{}", uuid::Uuid::new_v4().simple());
    std::env::set_var(&var, "geheim-123");
    std::fs::write(
        &file,
        format!(
            "[authority.a-stuttgart]\nbase_url = \"{}\"\noriginator_id = \"{}\"\nendpoint_id = \"{}\"\nusername = \"amtsweg\"\npassword_env = \"{var}\"\n",
            cfg.base_url, cfg.originator_id, cfg.endpoint_id
        ),
    )
    .unwrap();
    let app = TestApp::spawn_with(backend, |c| c.payment_providers = Some(file.clone())).await;
    let w = world(app).await;
    assert_eq!(
        issue(&w, &[("Parkausweis", "30,70")], &[]).await.status(),
        303
    );
    let (id, rf, _, _) = notices(&w).await[0].clone();
    let page = format!("/konto/gebuehren/{id}");

    // The notice offers online payment next to the transfer.
    let (_, html) = text(&w.app, &w.anna, &page).await;
    assert!(
        html.contains("Online bezahlen") && html.contains("<svg"),
        "{html}"
    );
    let pay = |html: String| {
        let token = csrf(&html);
        let client = w.anna.clone();
        let url = w.app.url(&format!("{page}/bezahlen"));
        async move {
            client
                .post(url)
                .form(&[("_csrf", token)])
                .send()
                .await
                .unwrap()
        }
    };
    let r = pay(html.clone()).await;
    assert_eq!(r.status(), 303);
    let pay_page = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        pay_page.starts_with(&format!("http://{}", fake.addr)),
        "{pay_page}"
    );
    let tx = fake.transactions();
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].amount.0, 3070);
    assert_eq!(
        tx[0].purpose, rf,
        "the provider books under the payment reference"
    );
    // Clicking again continues the same transaction instead of opening a second one.
    let r = pay(html.clone()).await;
    assert_eq!(r.headers()["location"].to_str().unwrap(), pay_page);
    assert_eq!(fake.transactions().len(), 1);

    // The citizen comes back before paying: still open, nothing booked.
    let back = tx[0].redirect_url.replace("http://localhost", "");
    let r = w.anna.get(w.app.url(&back)).send().await.unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{page}?zahlung=offen")
    );
    assert_eq!(notices(&w).await[0].2, "open");

    // Paid at the provider: booked once, however often the status is read.
    assert!(fake.set_status(&tx[0].transaction_id, PaymentStatus::Payed));
    for _ in 0..3 {
        let r = w.anna.get(w.app.url(&back)).send().await.unwrap();
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("{page}?zahlung=ok")
        );
    }
    let (_, _, state, paid) = notices(&w).await[0].clone();
    assert_eq!((state.as_str(), paid), ("paid", 3070));
    let online: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE source = 'online'")
        .fetch_one(&w.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(online, 1);
    let (_, html) = text(&w.app, &w.anna, &format!("{page}?zahlung=ok")).await;
    assert!(html.contains("Vielen Dank, Ihre Zahlung ist eingegangen") && html.contains("Bezahlt"));
    assert!(!html.contains("Online bezahlen"), "nothing left to pay");

    // A second notice: the citizen cancels on the pay page.
    assert_eq!(issue(&w, &[("Auslagen", "5,00")], &[]).await.status(), 303);
    let (id2, _, _, _) = notices(&w).await[0].clone();
    let page2 = format!("/konto/gebuehren/{id2}");
    let (_, html) = text(&w.app, &w.anna, &page2).await;
    let token = csrf(&html);
    let r = w
        .anna
        .post(w.app.url(&format!("{page2}/bezahlen")))
        .form(&[("_csrf", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let tx2 = fake
        .transactions()
        .into_iter()
        .find(|t| t.amount.0 == 500)
        .unwrap();
    assert!(fake.set_status(&tx2.transaction_id, PaymentStatus::Canceled));
    let r = w
        .anna
        .get(w.app.url(&tx2.redirect_url.replace("http://localhost", "")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{page2}?zahlung=abgebrochen")
    );
    assert_eq!(notices(&w).await[0].2, "open");

    // A citizen who pays and closes the browser: the payment is found by asking the provider.
    assert_eq!(
        issue(&w, &[("Zweitausfertigung", "1,00")], &[])
            .await
            .status(),
        303
    );
    let (id3, _, _, _) = notices(&w).await[0].clone();
    let (_, html) = text(&w.app, &w.anna, &format!("/konto/gebuehren/{id3}")).await;
    let r = w
        .anna
        .post(w.app.url(&format!("/konto/gebuehren/{id3}/bezahlen")))
        .form(&[("_csrf", csrf(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let tx3 = fake
        .transactions()
        .into_iter()
        .find(|t| t.amount.0 == 100)
        .unwrap();
    assert!(fake.set_status(&tx3.transaction_id, PaymentStatus::Payed));
    let poll = amtsweg_server::payments::online::poll_open;
    assert_eq!(
        poll(&w.app.state).await.unwrap(),
        0,
        "asked again only after a while"
    );
    sqlx::query("UPDATE payment_transactions SET updated_at = 0 WHERE notice_id = $1")
        .bind(&id3)
        .execute(&w.app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(poll(&w.app.state).await.unwrap(), 1);
    assert_eq!(
        poll(&w.app.state).await.unwrap(),
        0,
        "a final answer is not asked again"
    );
    assert_eq!(notices(&w).await[0].2, "paid");

    // Someone else's notice and return link are not there for another citizen.
    let bob = common::people::citizen(&w.app, "bob@example.org").await;
    assert_eq!(text(&w.app, &bob, &back).await.0, 404);
    let (_, bob_page) = text(&w.app, &bob, "/konto/gebuehren").await;
    let r = bob
        .post(w.app.url(&format!("{page2}/bezahlen")))
        .form(&[("_csrf", csrf(&bob_page))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The provider goes away: the citizen is told, nothing is lost.
    fake.stop().await;
    let (_, html) = text(&w.app, &w.anna, &page2).await;
    let token = csrf(&html);
    let r = w
        .anna
        .post(w.app.url(&format!("{page2}/bezahlen")))
        .form(&[("_csrf", token)])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    // The cancelled attempt is not reused; the new one fails and says so.
    assert_eq!(loc, format!("{page2}?zahlung=fehler"));
    let (_, html) = text(&w.app, &w.anna, &loc).await;
    assert!(html.contains("Bezahldienst ist gerade nicht erreichbar") && html.contains("<svg"));
}

#[tokio::test]
async fn sqlite() {
    run(Backend::Sqlite).await
}

#[tokio::test]
async fn postgres() {
    run(Backend::Postgres).await
}
