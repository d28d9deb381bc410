//! People in tests: staff with memberships and citizens, each logged in on a client of its
//! own, and the small page helpers their tests share.

use amtsweg_server::accounts::totp;
use amtsweg_server::accounts::users::{self, NewUser};
use amtsweg_server::domain::{Email, Role};
use amtsweg_server::secret::Secret;

use super::{csrf, login, registered, TestApp, PW};

/// A verified staff account, logged in on a client of its own.
pub async fn staff(
    app: &TestApp,
    email: &str,
    role: Role,
    postboxes: &[(&str, &str)],
) -> reqwest::Client {
    let user = NewUser {
        email: Email::parse(email).unwrap(),
        password: Secret::new(PW.to_string()),
        role,
        lang: amtsweg_app::i18n::Lang::De,
        verified: true,
    };
    let id = users::create(&app.state.db, user, "http://localhost", false)
        .await
        .unwrap();
    // Staff accounts log in with a second factor; this one has an authenticator already, so
    // `login` completes the step with a code computed from the stored key.
    let secret = totp::base32_encode(&totp::new_secret());
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret, last_step, enabled_at) VALUES ($1, $2, 0, 0)",
    )
    .bind(&id)
    .bind(&secret)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    for (postbox, member_role) in postboxes {
        sqlx::query("INSERT INTO memberships (postbox_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)")
            .bind(*postbox)
            .bind(&id)
            .bind(*member_role)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
    let (client, _) = app.other_client();
    assert_eq!(login(app, &client, email, PW).await.status(), 303);
    client
}

/// A registered citizen logged in on a client of its own.
pub async fn citizen(app: &TestApp, email: &str) -> reqwest::Client {
    registered(app, email).await;
    let (client, _) = app.other_client();
    assert_eq!(login(app, &client, email, PW).await.status(), 303);
    client
}

pub async fn text(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a multipart form (token from `page`) with text fields and files.
pub async fn multipart(
    app: &TestApp,
    client: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let (_, html) = text(app, client, page).await;
    let token = csrf(&html);
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        form = form.part(
            "files",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    client
        .post(app.url(&format!("{action}?_csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The first link in `html` that starts with `prefix`.
pub fn href(html: &str, prefix: &str) -> String {
    let needle = format!("href=\"{prefix}");
    let i = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no link {prefix}"))
        + 6;
    html[i..].split('"').next().unwrap().to_string()
}
