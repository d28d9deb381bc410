//! Routing of a service and address to exactly one postbox, on SQLite and PostgreSQL.

mod common;

use amtsweg_server::applications::routing::{lookup, parse_rules, upsert_rules, AreaKind};
use amtsweg_server::domain::{Ags, PostalCode};
use common::{Backend, TestApp};

const PARKING: &str = "99058011012000";
const REGISTRATION: &str = "99115005001000";
const MAINTENANCE: &str = "99108008252000";
const DOG_TAX: &str = "99016001002000";

async fn who(
    app: &TestApp,
    service: &str,
    ags: &str,
    plz: Option<&str>,
) -> Option<(String, AreaKind, bool)> {
    let ags = Ags::parse(ags).unwrap();
    let plz = plz.map(|p| PostalCode::parse(p).unwrap());
    lookup(&app.state.db, service, &ags, plz.as_ref())
        .await
        .unwrap()
        .map(|r| (r.postbox_id, r.matched, r.delegated))
}

db_test!(
    most_specific_rule_wins_and_delegation_is_recognised,
    |app| {
        amtsweg_server::demo::load(&app.state.db, "http://localhost")
            .await
            .unwrap();
        // Municipality rule.
        assert_eq!(
            who(&app, PARKING, "08111000", Some("70173")).await,
            Some(("p-stuttgart-parken".into(), AreaKind::Municipality, false))
        );
        // County rule covers every municipality of the county.
        assert_eq!(
            who(&app, MAINTENANCE, "08116033", None).await,
            Some(("p-esslingen-jugendamt".into(), AreaKind::County, false))
        );
        // Berlin is one AGS; postal codes split it.
        assert_eq!(
            who(&app, PARKING, "11000000", Some("10115")).await,
            Some((
                "p-berlin-mitte-buergeramt".into(),
                AreaKind::PostalCode,
                false
            ))
        );
        assert_eq!(
            who(&app, PARKING, "11000000", Some("13353")).await,
            None,
            "other districts have no rule in the demo"
        );
        // Nürtingen delegated certificates of registration to the city of Esslingen.
        assert_eq!(
            who(&app, REGISTRATION, "08116049", None).await,
            Some((
                "p-esslingen-buergeramt".into(),
                AreaKind::Municipality,
                true
            ))
        );
        assert_eq!(
            who(&app, REGISTRATION, "08116019", None).await,
            Some((
                "p-esslingen-buergeramt".into(),
                AreaKind::Municipality,
                false
            ))
        );
        // No rule at all.
        assert_eq!(who(&app, DOG_TAX, "16064046", None).await, None);
        // A state rule is the fallback; a municipality rule beats it.
        let rules = parse_rules(&format!("{DOG_TAX},state,08,p-esslingen-buergeramt\n")).unwrap();
        upsert_rules(&app.state.db, &rules).await.unwrap();
        assert_eq!(
            who(&app, DOG_TAX, "08116033", None).await.map(|r| r.1),
            Some(AreaKind::State)
        );
        assert_eq!(
            who(&app, DOG_TAX, "08111000", None).await.map(|r| r.0),
            Some("p-stuttgart-buergerbuero".into())
        );
    }
);

db_test!(rules_for_unknown_postboxes_are_refused_whole, |app| {
    amtsweg_server::demo::load(&app.state.db, "http://localhost")
        .await
        .unwrap();
    let rules = parse_rules(&format!(
        "{DOG_TAX},state,09,p-stuttgart-parken\n{DOG_TAX},state,10,p-nowhere\n"
    ))
    .unwrap();
    let err = upsert_rules(&app.state.db, &rules).await.unwrap_err();
    assert!(err.contains("p-nowhere"), "{err}");
    assert_eq!(
        who(&app, DOG_TAX, "09162000", None).await,
        None,
        "nothing of the refused file was kept"
    );
    let _ = Backend::Sqlite;
});
