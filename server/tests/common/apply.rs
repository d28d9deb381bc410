//! Applying through the pages, for tests of what happens to applications afterwards.

use super::{csrf, form, TestApp};

/// Starts a draft of `service` and returns its id.
pub async fn start_with(app: &TestApp, client: &reqwest::Client, service: &str) -> String {
    let r = form(
        app,
        client,
        &format!("/leistungen/{service}"),
        &format!("/leistungen/{service}/antrag"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    loc.split('/').nth(2).unwrap().to_string()
}

pub async fn page_with(
    app: &TestApp,
    client: &reqwest::Client,
    draft: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let path = format!("/antraege/{draft}/{page}");
    form(app, client, &path, &path, fields).await
}

pub const PARKING: &str = "99058011012000";

/// A 1×1 PNG.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82";

pub async fn upload_with(
    app: &TestApp,
    client: &reqwest::Client,
    draft: &str,
    page: &str,
    field: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let html = client
        .get(app.url(&format!("/antraege/{draft}/{page}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&html);
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    client
        .post(app.url(&format!(
            "/antraege/{draft}/{page}/datei/{field}?_csrf={token}"
        )))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

pub async fn fill_parking_with(app: &TestApp, client: &reqwest::Client, draft: &str, plz: &str) {
    let r = page_with(
        app,
        client,
        draft,
        "person",
        &[
            ("given_name", "Erika"),
            ("family_name", "Mustermann"),
            ("birth_date.day", "27"),
            ("birth_date.month", "3"),
            ("birth_date.year", "1990"),
        ],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/antraege/{draft}/address")
    );
    let r = page_with(
        app,
        client,
        draft,
        "address",
        &[
            ("street", "Hauptstraße"),
            ("house_number", "1"),
            ("postal_code", plz),
            ("place", "Ort"),
        ],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/antraege/{draft}/vehicle")
    );
    let r = page_with(
        app,
        client,
        draft,
        "vehicle",
        &[("plate", "S-AB 1234"), ("keeper", "self")],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/antraege/{draft}/evidence")
    );
    let r = upload_with(
        app,
        client,
        draft,
        "evidence",
        "registration_certificate",
        "fahrzeugschein.png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = page_with(app, client, draft, "evidence", &[]).await;
    assert_eq!(r.headers()["location"], format!("/antraege/{draft}/period"));
    let r = page_with(app, client, draft, "period", &[("months", "12")]).await;
    assert_eq!(
        r.headers()["location"],
        format!("/antraege/{draft}/pruefen")
    );
}

/// Starts, fills in and submits a parking permit as the citizen logged in on `client`;
/// returns the reference number.
pub async fn submit_parking(app: &TestApp, client: &reqwest::Client, plz: &str) -> String {
    let draft = start_with(app, client, PARKING).await;
    fill_parking_with(app, client, &draft, plz).await;
    let check = client
        .get(app.url(&format!("/antraege/{draft}/pruefen")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&check);
    let r = client
        .post(app.url(&format!("/antraege/{draft}/absenden")))
        .form(&[("_csrf", token.as_str()), ("declaration", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let page = client
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "aw-reference\"><strong>";
    let i = page.find(marker).expect("confirmation shows the reference") + marker.len();
    page[i..].split('<').next().unwrap().trim().to_string()
}
