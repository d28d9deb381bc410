//! What compressing a page costs: the pages citizens and caseworkers load most, as the server
//! renders them (start page, catalogue search, the citizen's postbox, the caseworker's inbox
//! with 10,000 cases), each compressed ROUNDS times at the fastest level with brotli (quality
//! 0, 4 MB window: what tower-http's brotli encoder uses at `CompressionLevel::Fastest`) and
//! with gzip (level 1, flate2 on zlib-rs: what the server sends now). Prints µs per page and
//! compressed size, for the choice in `startup.rs`.
//!
//!   cargo build --release -p amtsweg-server && cargo bench -p amtsweg-server --bench compression

mod support;

use std::io::Write;
use std::time::Instant;

use support::Server;

const ROUNDS: u32 = 2000;
const CASEWORKER: &str = "sachbearbeitung@amtsweg.example";
const CITIZEN: &str = "buergerin@amtsweg.example";
const PASSWORD: &str = "Amtsweg-Demo-2026";

fn brotli(page: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 0,
        lgwin: 22,
        ..Default::default()
    };
    let mut w = brotli::CompressorWriter::with_params(Vec::new(), 4096, &params);
    w.write_all(page).unwrap();
    w.into_inner()
}

fn gzip(page: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(page).unwrap();
    e.finish().unwrap()
}

/// Microseconds per compression and the compressed size.
fn measure(page: &[u8], compress: fn(&[u8]) -> Vec<u8>) -> (f64, usize) {
    let size = compress(page).len();
    let t = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(compress(std::hint::black_box(page)));
    }
    (t.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS), size)
}

#[tokio::main]
async fn main() {
    let mut server = Server::prepare("compression");
    server.run(&[
        "seed",
        "cases",
        "--count",
        "10000",
        "--assignee",
        CASEWORKER,
    ]);
    server.start().await;
    let anonymous = reqwest::Client::new();
    let citizen = server.login(CITIZEN, PASSWORD).await;
    let caseworker = server.login(CASEWORKER, PASSWORD).await;
    let base = &server.base;
    let pages = [
        ("start page", &anonymous, format!("{base}/")),
        (
            "catalogue search \"parken\"",
            &anonymous,
            format!("{base}/leistungen?q=parken"),
        ),
        (
            "citizen postbox",
            &citizen,
            format!("{base}/konto/postfach"),
        ),
        (
            "caseworker inbox, 10,000 cases",
            &caseworker,
            format!("{base}/verwaltung/postfach/p-stuttgart-parken"),
        ),
    ];
    println!("### Compressing a page ({ROUNDS} rounds each, release build)\n");
    println!("| page | HTML | brotli q0: µs, bytes | gzip 1 (zlib-rs): µs, bytes |");
    println!("|---|---|---|---|");
    for (name, client, url) in pages {
        // Without `gzip` among the client's features reqwest asks for the page uncompressed.
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let html = r.bytes().await.unwrap();
        let (bt, bs) = measure(&html, brotli);
        let (gt, gs) = measure(&html, gzip);
        println!(
            "| {name} | {} B | {bt:.1} µs, {bs} B | {gt:.1} µs, {gs} B |",
            html.len()
        );
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(&server.dir);
}
