//! Reconciling one bank statement of BENCH_ENTRIES (default 100,000) credits against as many
//! open fee notices, in process, on SQLite (or PostgreSQL with BENCH_DATABASE_URL): time and
//! peak memory of parsing and booking, then of importing the same statement again (every entry
//! known already). Target: under 10 s and under 200 MB.
//!
//! The credits quote their notice the ways payers do: 80 % with the structured RF reference,
//! 10 % with the RF reference typed into the free text with spaces and a line break, 5 % with
//! only the case's reference number, 5 % with nothing usable (they wait for a person). All
//! seeded cases belong to one citizen account, so every paid notice also queues its mail.
//!
//! `cargo bench -p amtsweg-server --bench reconcile`

use std::time::Instant;

use amtsweg_server::accounts::auth::User;
use amtsweg_server::db::Db;
use amtsweg_server::domain::{Money, Role};
use amtsweg_server::payments::camt::{write_sample_statement, CamtVersion, SampleCredit};
use amtsweg_server::payments::notices::payment_reference;
use amtsweg_server::payments::reconcile::Importer;
use sqlx::Row;

/// The account `write_sample_statement` books on.
const ACCOUNT: &str = "DE89370400440532013000";

/// Peak resident memory of this process since the last reset, in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Makes the peak start again from the current size (Linux: `5` to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("amtsweg-bench-reconcile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/amtsweg.db", dir.display()));
    let db = Db::connect(&url, 4).await.unwrap();
    db.migrate().await.unwrap();
    amtsweg_server::demo::load(&db, "http://localhost")
        .await
        .unwrap();
    sqlx::query("UPDATE authorities SET payee_iban = $1 WHERE id = 'a-stuttgart'")
        .bind(ACCOUNT)
        .execute(&db.pool)
        .await
        .unwrap();

    let t = Instant::now();
    amtsweg_server::seed::cases(&db, "p-stuttgart-parken", n, None)
        .await
        .unwrap();
    let citizen: String =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'buergerin@amtsweg.example'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    sqlx::query("UPDATE cases SET user_id = $1")
        .bind(&citizen)
        .execute(&db.pool)
        .await
        .unwrap();
    let cases: Vec<(String, String, String)> =
        sqlx::query("SELECT id, reference, applicant_name FROM cases ORDER BY reference")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    let mut refs = Vec::with_capacity(cases.len());
    for chunk in cases.chunks(500) {
        let sql = format!(
            "INSERT INTO fee_notices (id, case_id, authority_id, number, payment_reference, state, total_cents,
                 due_date, legal_basis, remedy, payee_name, payee_iban, payee_bic, recipient, issued_by_label, issued_at)
             VALUES {}",
            db.placeholders().rows(chunk.len(), 16)
        );
        let mut q = sqlx::query(&sql);
        for (id, reference, _) in chunk {
            let rf = payment_reference(reference, 1).unwrap();
            refs.push(rf.clone());
            q = q
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(id.clone())
                .bind("a-stuttgart")
                .bind(1_i64)
                .bind(rf.as_str().to_string())
                .bind("open")
                .bind(3070_i64)
                .bind("2026-12-31")
                .bind("GebOSt Nr. 265")
                .bind("Widerspruch binnen eines Monats")
                .bind("Landeshauptstadt Stuttgart, Stadtkasse")
                .bind(ACCOUNT)
                .bind("SOLADEST600")
                .bind("[]")
                .bind("bench")
                .bind(0_i64);
        }
        q.execute(&db.pool).await.unwrap();
    }
    eprintln!("seeded {n} cases with open notices in {:.1?}", t.elapsed());

    let file = dir.join("statement.xml");
    let credits = cases
        .iter()
        .zip(&refs)
        .enumerate()
        .map(|(i, ((_, reference, name), rf))| {
            let grouped = rf.to_string();
            let (structured, text): (Option<String>, Vec<String>) = match i % 20 {
                0..=15 => (
                    Some(rf.as_str().to_string()),
                    vec!["Bewohnerparkausweis".into()],
                ),
                16 | 17 => {
                    let (a, b) = grouped.split_at(9);
                    (None, vec![format!("Gebuehr {a}"), b.to_string()])
                }
                18 => (None, vec![format!("Parkausweis Az. {reference}")]),
                _ => (None, vec!["Parkausweis".into()]),
            };
            SampleCredit {
                entry_ref: format!("BENCH-{i:08}"),
                amount: Money(if i % 20 == 19 { 3071 } else { 3070 }),
                debtor_name: name.clone(),
                debtor_iban: "DE02120300000000202051".into(),
                reference: structured,
                unstructured: text,
                booked: true,
                credit: true,
                booking_date: "2026-11-23".into(),
            }
        });
    write_sample_statement(
        std::fs::File::create(&file).unwrap(),
        CamtVersion::V02,
        credits,
    )
    .unwrap();
    let size_mb = std::fs::metadata(&file).unwrap().len() as f64 / 1e6;

    let user = User {
        id: citizen.clone(),
        email: "kasse@amtsweg.example".into(),
        role: Role::Caseworker,
        lang: amtsweg_app::i18n::Lang::De,
        epoch: 0,
    };
    let who = Importer {
        user: &user,
        ip: "127.0.0.1",
    };
    for run in ["first import", "same statement again"] {
        reset_peak();
        let before = peak_rss_mb();
        let t = Instant::now();
        let outcome = amtsweg_server::payments::import::import_file(
            &db,
            &who,
            "a-stuttgart",
            "statement.xml",
            "bench",
            file.clone(),
            "http://localhost",
        )
        .await
        .unwrap();
        let total = t.elapsed();
        println!(
            "{} ({}): {n} entries, {size_mb:.0} MB XML: total {:.2} s; peak RSS {:.0} MB (at start {:.0} MB); {} new, {} matched, {} open, {} known",
            run,
            db_label(&url),
            total.as_secs_f64(),
            peak_rss_mb(),
            before,
            outcome.new,
            outcome.matched,
            outcome.open,
            outcome.known
        );
    }
    let paid: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fee_notices WHERE state = 'paid'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let mails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (mail_mb, db_mb): (f64, f64) = (
        sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(SUM(LENGTH(body_text) + LENGTH(body_html)), 0) FROM mail_outbox",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap() as f64
            / 1e6,
        std::fs::metadata(dir.join("amtsweg.db"))
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0),
    );
    println!("notices paid: {paid}; mails queued: {mails} ({mail_mb:.0} MB of mail text); database file {db_mb:.0} MB");
    let _ = std::fs::remove_dir_all(&dir);
}

fn db_label(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}
