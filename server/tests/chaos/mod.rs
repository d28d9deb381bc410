//! Parts of the crash and database-restart tests: the real server as a child process, and
//! citizens who keep applying through every failure the way people do (reload, send again).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod postgres;
pub mod server;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};

use super::common::apply::{PARKING, PNG};
use super::common::{csrf, PW};

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub uploads: usize,
    pub cut_uploads: usize,
    pub cut_submits: usize,
    pub cut_other: usize,
    pub resubmits: usize,
    pub forbidden: usize,
    pub server_errors: Vec<String>,
}

/// What the citizens share: where the server is now, and what they saw.
pub struct Shared {
    base: Mutex<String>,
    confirmed: Mutex<Vec<(String, String)>>,
    stats: Mutex<Stats>,
}

impl Shared {
    pub fn new(base: &str) -> Shared {
        Shared {
            base: Mutex::new(base.to_string()),
            confirmed: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
        }
    }

    pub fn set_base(&self, base: &str) {
        *self.base.lock().unwrap() = base.to_string();
    }

    fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }

    /// (draft id, reference) of every submission a citizen saw confirmed.
    pub fn confirmed(&self) -> Vec<(String, String)> {
        self.confirmed.lock().unwrap().clone()
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().clone()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Upload,
    Submit,
    Other,
}

/// Why a step has to be done again.
#[derive(Debug)]
enum Again {
    /// No answer: the server is down or was killed while answering.
    NoAnswer,
    /// The session is gone: log in again.
    LoggedOut,
    /// The form token is stale: fetch it again.
    Token,
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

pub struct Citizen {
    shared: Arc<Shared>,
    email: String,
    client: reqwest::Client,
    rng: rand::rngs::StdRng,
    token: Option<String>,
}

impl Citizen {
    pub fn new(shared: Arc<Shared>, email: &str, seed: u64) -> Citizen {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Citizen {
            shared,
            email: email.to_string(),
            client,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            token: None,
        }
    }

    /// Applies again and again until `stop`, then finishes the application in hand. Returns
    /// the number of submissions seen confirmed.
    pub async fn run(mut self, stop: Arc<AtomicBool>) -> usize {
        let mut done = 0;
        while !stop.load(Ordering::SeqCst) {
            self.apply().await;
            done += 1;
        }
        done
    }

    async fn pause(&mut self, why: Again) {
        match why {
            Again::LoggedOut => self.token = None,
            Again::Token => self.token = None,
            Again::NoAnswer => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    async fn send(&self, kind: Kind, request: reqwest::RequestBuilder) -> Result<Answer, Again> {
        let path = request
            .try_clone()
            .and_then(|r| r.build().ok())
            .map(|r| r.url().path().to_string())
            .unwrap_or_default();
        let cut = |e: &reqwest::Error| {
            // Refused connections happen while the server is down; anything later means the
            // request was on its way when the server died.
            if !e.is_connect() {
                let mut s = self.shared.stats.lock().unwrap();
                match kind {
                    Kind::Upload => s.cut_uploads += 1,
                    Kind::Submit => s.cut_submits += 1,
                    Kind::Other => s.cut_other += 1,
                }
            }
            Again::NoAnswer
        };
        let resp = request.send().await.map_err(|e| cut(&e))?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.text().await.map_err(|e| cut(&e))?;
        if status >= 500 {
            self.shared
                .stats
                .lock()
                .unwrap()
                .server_errors
                .push(format!("{status} {path}"));
            return Err(Again::NoAnswer);
        }
        if location.starts_with("/anmelden") {
            return Err(Again::LoggedOut);
        }
        if status == 403 {
            // The token a page carried was saved with the session before the page left the
            // server, so a refusal means the session or its store failed.
            self.shared.stats.lock().unwrap().forbidden += 1;
            return Err(Again::Token);
        }
        Ok(Answer {
            status,
            location,
            body,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base())
    }

    async fn get(&self, path: &str) -> Result<Answer, Again> {
        self.send(Kind::Other, self.client.get(self.url(path)))
            .await
    }

    /// The session's form token, logging in first when the session is gone.
    async fn token(&mut self) -> Result<String, Again> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let service = format!("/leistungen/{PARKING}");
        let page = match self.get(&service).await {
            Ok(a) if a.body.contains("Abmelden") || a.body.contains("/abmelden") => a,
            Ok(_) | Err(Again::LoggedOut) => {
                self.log_in().await?;
                self.get(&service).await?
            }
            Err(e) => return Err(e),
        };
        let t = csrf(&page.body);
        self.token = Some(t.clone());
        Ok(t)
    }

    async fn log_in(&mut self) -> Result<(), Again> {
        let page = self.get("/anmelden").await?;
        let token = csrf(&page.body);
        let r = self
            .send(
                Kind::Other,
                self.client.post(self.url("/anmelden")).form(&[
                    ("email", self.email.as_str()),
                    ("password", PW),
                    ("_csrf", token.as_str()),
                ]),
            )
            .await?;
        assert_eq!(r.status, 303, "log-in of {}: {}", self.email, r.body);
        Ok(())
    }

    async fn post(
        &mut self,
        kind: Kind,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Answer, Again> {
        let token = self.token().await?;
        let mut all = fields.to_vec();
        all.push(("_csrf", &token));
        self.send(kind, self.client.post(self.url(path)).form(&all))
            .await
    }

    /// Posts a page of the form until the answer is the redirect to `next`.
    async fn page(&mut self, draft: &str, page: &str, fields: &[(&str, &str)], next: &str) {
        let path = format!("/antraege/{draft}/{page}");
        let want = format!("/antraege/{draft}/{next}");
        loop {
            match self.post(Kind::Other, &path, fields).await {
                Ok(a) if a.status == 303 && a.location == want => return,
                Ok(a) => panic!("{path}: {} {} {}", a.status, a.location, a.body),
                Err(why) => self.pause(why).await,
            }
        }
    }

    async fn apply(&mut self) {
        let start = format!("/leistungen/{PARKING}/antrag");
        let draft = loop {
            match self.post(Kind::Other, &start, &[]).await {
                Ok(a) if a.status == 303 => {
                    break a.location.split('/').nth(2).unwrap().to_string()
                }
                Ok(a) => panic!("start: {} {}", a.status, a.body),
                Err(why) => self.pause(why).await,
            }
        };
        let person = [
            ("given_name", "Erika"),
            ("family_name", "Mustermann"),
            ("birth_date.day", "27"),
            ("birth_date.month", "3"),
            ("birth_date.year", "1990"),
        ];
        self.page(&draft, "person", &person, "address").await;
        let address = [
            ("street", "Hauptstraße"),
            ("house_number", "1"),
            ("postal_code", "70173"),
            ("place", "Stuttgart"),
        ];
        self.page(&draft, "address", &address, "vehicle").await;
        let vehicle = [("plate", "S-AB 1234"), ("keeper", "self")];
        self.page(&draft, "vehicle", &vehicle, "evidence").await;
        self.upload(&draft).await;
        self.page(&draft, "evidence", &[], "period").await;
        self.page(&draft, "period", &[("months", "12")], "pruefen")
            .await;
        self.submit(&draft).await;
    }

    /// Uploads the evidence unless an earlier, cut-off attempt got it attached after all.
    async fn upload(&mut self, draft: &str) {
        let page = format!("/antraege/{draft}/evidence");
        let action = format!("{page}/datei/registration_certificate");
        // Sizes from a few KB to two MB: the larger ones stream for a while, so kills find
        // them half-written in staging, committed without a row, or with a row not yet
        // attached to the draft.
        let size = self.rng.gen_range(PNG.len()..2 * 1024 * 1024);
        let mut bytes = PNG.to_vec();
        bytes.extend((PNG.len()..size).map(|_| self.rng.gen::<u8>()));
        loop {
            let shown = match self.get(&page).await {
                Ok(a) => a,
                Err(why) => {
                    self.pause(why).await;
                    continue;
                }
            };
            if shown
                .body
                .contains("/datei/registration_certificate/entfernen/")
            {
                return;
            }
            let token = match self.token().await {
                Ok(t) => t,
                Err(why) => {
                    self.pause(why).await;
                    continue;
                }
            };
            let part = reqwest::multipart::Part::bytes(bytes.clone())
                .file_name("fahrzeugschein.png")
                .mime_str("image/png")
                .unwrap();
            let form = reqwest::multipart::Form::new().part("file", part);
            let request = self
                .client
                .post(self.url(&format!("{action}?_csrf={token}")))
                .multipart(form);
            match self.send(Kind::Upload, request).await {
                Ok(a) if a.status == 303 && a.location == page => {
                    self.shared.stats.lock().unwrap().uploads += 1;
                    return;
                }
                Ok(a) => panic!("upload: {} {} {}", a.status, a.location, a.body),
                Err(why) => self.pause(why).await,
            }
        }
    }

    /// Submits until the confirmation is seen; a repeat after a cut-off submit must lead to
    /// the same case.
    async fn submit(&mut self, draft: &str) {
        let action = format!("/antraege/{draft}/absenden");
        let confirmation = format!("/antraege/{draft}/bestaetigung?ref=");
        let mut tries = 0;
        loop {
            tries += 1;
            match self
                .post(Kind::Submit, &action, &[("declaration", "yes")])
                .await
            {
                Ok(a) if a.status == 303 && a.location.starts_with(&confirmation) => {
                    let reference = a.location[confirmation.len()..].to_string();
                    self.shared
                        .confirmed
                        .lock()
                        .unwrap()
                        .push((draft.to_string(), reference));
                    if tries > 1 {
                        self.shared.stats.lock().unwrap().resubmits += 1;
                    }
                    return;
                }
                Ok(a) => panic!("submit: {} {} {}", a.status, a.location, a.body),
                Err(why) => self.pause(why).await,
            }
        }
    }
}
