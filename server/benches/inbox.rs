//! The caseworker's inbox at scale: first page and a search by name with 10,000 and with
//! 1,000,000 cases in the postbox (seeded by `amtsweg seed cases`), one client after another
//! for median and p99, then 64 connections for throughput next to /healthz.
//!
//!   cargo build --release -p amtsweg-server && cargo bench -p amtsweg-server --bench inbox
//!   BENCH_SIZES=10000 cargo bench -p amtsweg-server --bench inbox       # a quick run
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo bench -p amtsweg-server --bench inbox

mod support;

use std::time::{Duration, Instant};

use support::{load, pct, Server};

const SEQUENTIAL: usize = 300;
const CASEWORKER: &str = "sachbearbeitung@amtsweg.example";

async fn sequential(client: &reqwest::Client, url: &str) -> (Duration, Duration) {
    for _ in 0..20 {
        let _ = client.get(url).send().await.unwrap().bytes().await;
    }
    let mut lat = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        let r = client.get(url).send().await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        let _ = r.bytes().await;
        lat.push(t.elapsed());
    }
    (pct(&mut lat, 0.5), pct(&mut lat, 0.99))
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut server = Server::prepare("inbox");
    println!("### Inbox ({}, release build, 2 cores)\n", server.backend);
    println!("| cases | request | median | p99 | req/s at 64 conn. | p99 at 64 conn. | errors |");
    println!("|---|---|---|---|---|---|---|");
    let mut seeded = 0;
    for size in sizes {
        let t = Instant::now();
        let count = (size - seeded).to_string();
        server.run(&["seed", "cases", "--count", &count, "--assignee", CASEWORKER]);
        seeded = size;
        eprintln!("seeded up to {size} cases in {:.1?}", t.elapsed());
        server.start().await;
        let client = server.login(CASEWORKER, "Amtsweg-Demo-2026").await;
        let inbox = format!("{}/verwaltung/postfach/p-stuttgart-parken", server.base);
        let healthz = format!("{}/healthz", server.base);
        for (name, url) in [
            ("/healthz", healthz.clone()),
            ("inbox, tab New, first page", format!("{inbox}?tab=neu")),
            ("inbox, tab All, first page", format!("{inbox}?tab=alle")),
            (
                "search by name \"müller\"",
                format!("{inbox}?tab=alle&q=m%C3%BCller"),
            ),
            (
                "search by two names \"anna schmidt\"",
                format!("{inbox}?tab=alle&q=anna+schmidt"),
            ),
        ] {
            let (p50, p99) = sequential(&client, &url).await;
            let (rps, _, lp99, errors) = load(&client, &url, 5).await;
            println!(
                "| {size} | {name} | {:.2} ms | {:.2} ms | {rps:.0} | {:.1} ms | {errors} |",
                p50.as_secs_f64() * 1000.0,
                p99.as_secs_f64() * 1000.0,
                lp99.as_secs_f64() * 1000.0
            );
        }
        println!(
            "| {size} | server peak RSS | {:.1} MB | | | | |",
            server.peak_rss_mb()
        );
        server.stop().await;
    }
}
