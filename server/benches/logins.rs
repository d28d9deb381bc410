//! Login throughput and server memory under 200 concurrent login attempts.
//!
//! Runs the release binary as a separate process on a fresh SQLite database, creates 200
//! verified accounts, then lets 200 clients log in at the same time (GET the form for its token,
//! POST the credentials), several rounds. Prints logins per second, latency percentiles and the
//! server's peak RSS (VmHWM).
//!
//!   cargo build --release -p amtsweg-server && cargo bench -p amtsweg-server --bench logins

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USERS: usize = 200;
const ROUNDS: usize = 3;
const PASSWORD: &str = "Fahrrad Hafen Regen Lampe";

fn binary() -> String {
    std::env::var("AMTSWEG_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/amtsweg")
    })
}

fn vm(pid: u32, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} MB", kb / 1024.0))
        .unwrap_or_else(|| "?".into())
}

fn token(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("form token") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::main]
async fn main() {
    let bin = binary();
    let dir = std::env::temp_dir().join(format!("amtsweg-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = [
        ("AMTSWEG_DATA_DIR", dir.to_str().unwrap().to_string()),
        ("AMTSWEG_LISTEN", format!("127.0.0.1:{port}")),
        ("AMTSWEG_LOGIN_LIMIT_PER_CLIENT", "1000000".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ];
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = Command::new(&bin);
        c.args(args)
            .envs(env.iter().cloned())
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null());
        if let Some(p) = stdin {
            c.env("AMTSWEG_NEW_PASSWORD", p);
        }
        assert!(c.status().expect("run amtsweg").success(), "{args:?}");
    };
    run(&["migrate"], None);
    run(
        &[
            "user",
            "create",
            "--email",
            "bench-0@example.org",
            "--role",
            "citizen",
            "--no-mail",
        ],
        Some(PASSWORD),
    );
    // The other accounts share the first one's hash: hashing them one by one would only slow
    // the set-up, and every login still verifies a full argon2id hash.
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}/amtsweg.db", dir.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        for i in 1..USERS {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, role, locale, email_verified_at, created_at, updated_at)
                 VALUES (?, ?, ?, 'citizen', 'de', 0, 0, 0)",
            )
            .bind(format!("bench-{i}"))
            .bind(format!("bench-{i}@example.org"))
            .bind(&hash)
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
    let mut server = Command::new(&bin)
        .arg("serve")
        .envs(env.iter().cloned())
        .env_remove("DATABASE_URL")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle = vm(server.id(), "VmRSS");
    let mut latencies = Vec::new();
    let mut failures = 0;
    let started = Instant::now();
    for round in 0..ROUNDS {
        let tasks: Vec<_> = (0..USERS)
            .map(|i| {
                let base = base.clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::builder()
                        .cookie_store(true)
                        .redirect(reqwest::redirect::Policy::none())
                        .build()
                        .unwrap();
                    let t = Instant::now();
                    let html = client
                        .get(format!("{base}/anmelden"))
                        .send()
                        .await?
                        .text()
                        .await?;
                    let email = format!("bench-{i}@example.org");
                    let r = client
                        .post(format!("{base}/anmelden"))
                        .form(&[
                            ("email", email.as_str()),
                            ("password", PASSWORD),
                            ("_csrf", &token(&html)),
                        ])
                        .send()
                        .await?;
                    Ok::<_, reqwest::Error>((r.status().as_u16(), t.elapsed()))
                })
            })
            .collect();
        for t in tasks {
            match t.await.unwrap() {
                Ok((303, d)) => latencies.push(d),
                _ => failures += 1,
            }
        }
        eprintln!("round {} done", round + 1);
    }
    let total = started.elapsed();
    let peak = vm(server.id(), "VmHWM");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    let n = latencies.len();
    println!("### Logins: {USERS} concurrent attempts × {ROUNDS} rounds ({} cores, release build, SQLite)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    println!();
    println!("Command: `cargo build --release -p amtsweg-server && cargo bench -p amtsweg-server --bench logins`");
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| successful logins | {n} (failed: {failures}) |");
    println!(
        "| logins per second | {:.1} |",
        n as f64 / total.as_secs_f64()
    );
    println!(
        "| latency p50 / p99 (form + login) | {:?} / {:?} |",
        pct(0.5),
        pct(0.99)
    );
    println!("| server RSS idle | {idle} |");
    println!("| server peak RSS (VmHWM) | {peak} |");
    assert_eq!(failures, 0, "every login must succeed");
}
