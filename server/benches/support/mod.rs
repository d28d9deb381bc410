//! Shared by the benchmarks: starting the release binary on a fresh database, a load generator
//! with a fixed number of connections, and percentiles.

#![allow(dead_code, reason = "each benchmark uses a different part")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CONNECTIONS: usize = 64;

pub fn token(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let Some(start) = html.find(marker) else {
        panic!("no form token in: {}", &html[..html.len().min(600)]);
    };
    let start = start + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

/// `CONNECTIONS` clients request `url` for `secs` seconds; returns (requests/s, p50, p99, errors).
pub async fn load(
    client: &reqwest::Client,
    url: &str,
    secs: u64,
) -> (f64, Duration, Duration, usize) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_string());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match client
                        .get(&url)
                        .header("accept-encoding", "br")
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let rps = all.len() as f64 / secs as f64;
    (rps, pct(&mut all, 0.5), pct(&mut all, 0.99), errors)
}

/// The release binary on a fresh SQLite file, or on `BENCH_DATABASE_URL` (an empty PostgreSQL
/// database), with the demo data loaded.
pub struct Server {
    pub bin: String,
    pub base: String,
    pub backend: &'static str,
    pub db_url: String,
    pub dir: std::path::PathBuf,
    env: Vec<(&'static str, String)>,
    child: Option<Child>,
}

impl Server {
    pub fn prepare(tag: &str) -> Server {
        let bin = std::env::var("AMTSWEG_BIN").unwrap_or_else(|_| {
            format!(
                "{}/release/amtsweg",
                std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into())
            )
        });
        let dir = std::env::temp_dir().join(format!("amtsweg-bench-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let db_url = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}/amtsweg.db", dir.display()));
        let backend = if db_url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let env = vec![
            ("AMTSWEG_DATA_DIR", dir.to_str().unwrap().to_string()),
            ("AMTSWEG_LISTEN", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", db_url.clone()),
            ("RUST_LOG", "warn".to_string()),
        ];
        let server = Server {
            bin,
            base: format!("http://127.0.0.1:{port}"),
            backend,
            db_url,
            dir,
            env,
            child: None,
        };
        server.run(&["demo"]);
        server
    }

    /// Runs a command of the binary against the same database, e.g. `user create`.
    pub fn run(&self, args: &[&str]) {
        let ok = Command::new(&self.bin)
            .args(args)
            .envs(self.env.iter().cloned())
            .env("AMTSWEG_NEW_PASSWORD", "Fahrrad Hafen Regen Lampe")
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "{args:?}");
    }

    pub async fn start(&mut self) {
        self.child = Some(
            Command::new(&self.bin)
                .arg("serve")
                .envs(self.env.iter().cloned())
                .spawn()
                .unwrap(),
        );
        for _ in 0..100 {
            if reqwest::get(format!("{}/healthz", self.base)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not start");
    }

    /// Peak resident memory of the server so far, in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        let pid = self.child.as_ref().map(|c| c.id()).unwrap_or(0);
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<f64>().ok())
            })
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }

    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A client with cookies, logged in as `email` (with the demo key's code for demo staff).
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();
        let html = client
            .get(format!("{}/anmelden", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = client
            .post(format!("{}/anmelden", self.base))
            .form(&[
                ("email", email),
                ("password", password),
                ("_csrf", &token(&html)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login of {email}");
        let to = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        if to.as_deref() == Some("/anmelden/sicherheitscode") {
            // Demo staff log in with the published demo key's current code.
            use amtsweg_server::accounts::totp;
            let url = format!("{}/anmelden/sicherheitscode", self.base);
            let html = client.get(&url).send().await.unwrap().text().await.unwrap();
            let key = totp::base32_decode(amtsweg_server::demo::TOTP_SECRET).unwrap();
            let now = amtsweg_server::time::now_ms();
            let code = totp::code(&key, totp::step_at(now));
            let r = client
                .post(&url)
                .form(&[("code", code.as_str()), ("_csrf", &token(&html))])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "second step of {email}");
        }
        client
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
