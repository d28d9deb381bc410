//! What rendering a page costs, without the database or the network: the caseworker's inbox
//! (the heaviest page that is loaded most) with an empty postbox and with a full page of 25
//! cases, built from fixed data and rendered ROUNDS times on one thread with the server's
//! allocator. Prints µs per page and its size; rerun after changes to `app/` or its components.
//!
//!   cargo bench -p amtsweg-server --bench render

use std::time::{Duration, Instant};

use amtsweg_app::components::TagKind;
use amtsweg_app::pages::backoffice::{self as pages, InboxFilters, InboxRow, InboxView};
use amtsweg_app::{PageCtx, UserInfo};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUNDS: u32 = 5000;

fn inbox(rows: usize) -> InboxView {
    let postbox = "p-stuttgart-parken";
    InboxView {
        postbox_id: postbox.into(),
        postbox_name: "Parkraummanagement".into(),
        authority_name: "Landeshauptstadt Stuttgart".into(),
        is_lead: false,
        tab: "neu".into(),
        tabs: ["neu", "meine", "wartend", "ueberfaellig", "alle"]
            .iter()
            .map(|t| {
                (
                    t.to_string(),
                    format!("Reiter {t}"),
                    "99+".to_string(),
                    format!("/verwaltung/postfach/{postbox}?tab={t}"),
                )
            })
            .collect(),
        filters: InboxFilters::default(),
        services: (1..=12)
            .map(|i| {
                (
                    format!("service-{i}"),
                    format!("Verwaltungsleistung Nummer {i}"),
                )
            })
            .collect(),
        states: [
            "Eingegangen",
            "In Bearbeitung",
            "Wartet auf Antwort",
            "Bewilligt",
            "Abgelehnt",
            "Abgeschlossen",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("state-{i}"), s.to_string()))
        .collect(),
        assignees: (1..=3)
            .map(|i| (format!("u{i}"), format!("person{i}@stuttgart.example")))
            .collect(),
        errors: Vec::new(),
        rows: (0..rows)
            .map(|i| InboxRow {
                href: format!("/verwaltung/vorgaenge/AW-2026-{i:06}"),
                reference: format!("AW-2026-{i:06}"),
                applicant: format!("Müller-Lüdenscheidt, Anna {i}"),
                service: "Bewohnerparkausweis beantragen".into(),
                state: (TagKind::Info, "Eingegangen".into()),
                assignee: "sachbearbeitung@amtsweg.example".into(),
                submitted: "2026-11-20".into(),
                due: Some("2026-12-20".into()),
                overdue: i % 3 == 0,
                unread: i % 4 == 0,
            })
            .collect(),
        next_href: (rows > 0)
            .then(|| format!("/verwaltung/postfach/{postbox}?tab=neu&after=1_{rows}")),
        first_href: None,
    }
}

fn main() {
    let ctx = PageCtx {
        path: "/verwaltung/postfach/p-stuttgart-parken".into(),
        css_href: "/assets/app.0123456789abcdef.css".into(),
        icon_href: "/assets/icon.0123456789abcdef.svg".into(),
        user: Some(UserInfo {
            email: "sachbearbeitung@amtsweg.example".into(),
            staff: true,
            admin: false,
        }),
        csrf: Some("x".repeat(43)),
        ..PageCtx::default()
    };
    println!("### Rendering a page ({ROUNDS} rounds each, one thread, release build)\n");
    println!("| page | HTML | µs per page |");
    println!("|---|---|---|");
    for rows in [0, 25] {
        let size = pages::inbox(&ctx, inbox(rows)).len();
        let mut spent = Duration::ZERO;
        for _ in 0..ROUNDS {
            // Built just before it is rendered (warm in the cache, as in a handler), but not
            // timed: handlers pay for their data elsewhere.
            let v = inbox(rows);
            let t = Instant::now();
            std::hint::black_box(pages::inbox(&ctx, v));
            spent += t.elapsed();
        }
        let us = spent.as_secs_f64() * 1e6 / f64::from(ROUNDS);
        println!("| caseworker inbox, {rows} rows | {size} B | {us:.1} |");
    }
}
