//! Demonstration data, so that a newcomer can try everything at once. Loading is idempotent.
//!
//! Service keys follow the 14-digit LeiKa format; they are examples, not checked against the
//! current federal catalogue.

use amtsweg_app::i18n::Lang;

use crate::accounts::users::{self, CreateUserError, NewUser};
use crate::accounts::{mfa, postal};
use crate::applications::{catalog, routing};
use crate::db::Db;
use crate::domain::Email;
use crate::secret::Secret;
use crate::time::now_ms;

pub const PASSWORD: &str = "Amtsweg-Demo-2026";

/// The authenticator key of the demo caseworker and administrator (Base32). It is published
/// (README), so that anyone trying the demo can add it to an authenticator app; never use a
/// fixed key anywhere else.
pub const TOTP_SECRET: &str = "AMTSWEGDEMOZWEIFAKTORSTUTTGART23";

pub const ACCOUNTS: [(&str, &str); 3] = [
    ("buergerin@amtsweg.example", "citizen"),
    ("sachbearbeitung@amtsweg.example", "caseworker"),
    ("admin@amtsweg.example", "admin"),
];

struct DemoAuthority {
    id: &'static str,
    name: &'static str,
    ags: &'static str,
    street: &'static str,
    postal_code: &'static str,
    city: &'static str,
    email: &'static str,
    phone: &'static str,
}

const AUTHORITIES: [DemoAuthority; 4] = [
    DemoAuthority {
        id: "a-stuttgart",
        name: "Landeshauptstadt Stuttgart – Amt für öffentliche Ordnung (Demo)",
        ags: "08111000",
        street: "Eberhardstraße 39",
        postal_code: "70173",
        city: "Stuttgart",
        email: "ordnungsamt@stuttgart.amtsweg.example",
        phone: "+49 711 216-0",
    },
    DemoAuthority {
        id: "a-esslingen",
        name: "Landratsamt Esslingen (Demo)",
        ags: "08116000",
        street: "Pulverwiesen 11",
        postal_code: "73728",
        city: "Esslingen am Neckar",
        email: "poststelle@landkreis-esslingen.amtsweg.example",
        phone: "+49 711 3902-0",
    },
    DemoAuthority {
        id: "a-esslingen-stadt",
        name: "Stadt Esslingen am Neckar – Bürgeramt (Demo)",
        ags: "08116019",
        street: "Ritterstraße 17",
        postal_code: "73728",
        city: "Esslingen am Neckar",
        email: "buergeramt@esslingen.amtsweg.example",
        phone: "+49 711 3512-0",
    },
    DemoAuthority {
        id: "a-berlin-mitte",
        name: "Bezirksamt Mitte von Berlin (Demo)",
        ags: "11000000",
        street: "Karl-Marx-Allee 31",
        postal_code: "10178",
        city: "Berlin",
        email: "buergeramt@ba-mitte.amtsweg.example",
        phone: "+49 30 9018-20",
    },
];

/// (id, authority id, name, mail)
const POSTBOXES: [(&str, &str, &str, &str); 5] = [
    (
        "p-stuttgart-parken",
        "a-stuttgart",
        "Parkraummanagement",
        "parken@stuttgart.amtsweg.example",
    ),
    (
        "p-stuttgart-buergerbuero",
        "a-stuttgart",
        "Bürgerbüro",
        "buergerbuero@stuttgart.amtsweg.example",
    ),
    (
        "p-esslingen-jugendamt",
        "a-esslingen",
        "Jugendamt – Unterhaltsvorschuss",
        "uvg@landkreis-esslingen.amtsweg.example",
    ),
    (
        "p-esslingen-buergeramt",
        "a-esslingen-stadt",
        "Bürgeramt",
        "buergeramt@esslingen.amtsweg.example",
    ),
    (
        "p-berlin-mitte-buergeramt",
        "a-berlin-mitte",
        "Bürgeramt",
        "buergeramt@ba-mitte.amtsweg.example",
    ),
];

/// (key, German title, English title, German summary, English summary)
const SERVICES: [(&str, &str, &str, &str, &str); 4] = [
    (
        "99058011012000",
        "Bewohnerparkausweis beantragen",
        "Apply for a resident parking permit",
        "Mit dem Bewohnerparkausweis parken Sie in Ihrem Wohngebiet in den gekennzeichneten Bereichen.",
        "With a resident parking permit you may park in the marked zones of your neighbourhood.",
    ),
    (
        "99016001002000",
        "Hund zur Hundesteuer anmelden",
        "Register a dog for dog tax",
        "Wer einen Hund hält, meldet ihn innerhalb eines Monats zur Hundesteuer an.",
        "If you keep a dog, register it for dog tax within one month.",
    ),
    (
        "99115005001000",
        "Meldebescheinigung beantragen",
        "Apply for a certificate of registration",
        "Die Meldebescheinigung bestätigt Ihre gemeldete Wohnanschrift, etwa für Arbeitgeber oder Vermieter.",
        "The certificate of registration confirms your registered address, for employers or landlords for example.",
    ),
    (
        "99108008252000",
        "Unterhaltsvorschuss beantragen",
        "Apply for child maintenance advance",
        "Alleinerziehende erhalten Unterhaltsvorschuss, wenn der andere Elternteil keinen oder zu wenig Unterhalt zahlt.",
        "Single parents receive a maintenance advance when the other parent pays no or too little maintenance.",
    ),
];

/// Responsibility rules: Stuttgart by municipality; Landkreis Esslingen by county; Berlin split
/// by postal code (only Mitte's codes are served); Nürtingen has delegated certificates of
/// registration to the city of Esslingen.
const DEMO_RULES: &str = "service_key,area_kind,area_code,postbox_id
99058011012000,municipality,08111000,p-stuttgart-parken
99058011012000,postal_code,10115,p-berlin-mitte-buergeramt
99058011012000,postal_code,10117,p-berlin-mitte-buergeramt
99058011012000,postal_code,10178,p-berlin-mitte-buergeramt
99016001002000,municipality,08111000,p-stuttgart-buergerbuero
99115005001000,municipality,08111000,p-stuttgart-buergerbuero
99115005001000,municipality,08116019,p-esslingen-buergeramt
99115005001000,municipality,08116049,p-esslingen-buergeramt
99115005001000,postal_code,10115,p-berlin-mitte-buergeramt
99115005001000,postal_code,10117,p-berlin-mitte-buergeramt
99115005001000,postal_code,10178,p-berlin-mitte-buergeramt
99108008252000,county,08116,p-esslingen-jugendamt
";

/// Accounts for fee notices: (authority, account holder, IBAN, BIC). Fictitious accounts with
/// valid check digits, at the Landesbank and Kreissparkasse the real offices would use.
const PAYEES: [(&str, &str, &str, &str); 4] = [
    (
        "a-stuttgart",
        "Landeshauptstadt Stuttgart, Stadtkasse",
        "DE88600501010002345678",
        "SOLADEST600",
    ),
    (
        "a-esslingen",
        "Landratsamt Esslingen, Kreiskasse",
        "DE11611500200100223344",
        "ESSLDE66XXX",
    ),
    (
        "a-esslingen-stadt",
        "Stadt Esslingen am Neckar, Stadtkasse",
        "DE93611500200200445566",
        "ESSLDE66XXX",
    ),
    (
        "a-berlin-mitte",
        "Bezirksamt Mitte von Berlin, Bezirkskasse",
        "DE17100500000123456789",
        "BELADEBEXXX",
    ),
];

/// The usual instructions on legal remedies of a German fee notice, for the demo postboxes.
fn remedy(a: &DemoAuthority) -> String {
    format!(
        "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben werden. \
         Der Widerspruch ist schriftlich, in elektronischer Form nach § 3a Absatz 2 des \
         Verwaltungsverfahrensgesetzes oder zur Niederschrift bei der Behörde einzulegen: {}, {}, {} {}.\n\
         Der Widerspruch hat keine aufschiebende Wirkung; die Gebühr ist auch bei Widerspruch \
         zum genannten Termin zu zahlen (§ 80 Absatz 2 Satz 1 Nummer 1 VwGO).",
        a.name, a.street, a.postal_code, a.city
    )
}

pub async fn load(db: &Db, public_url: &str) -> anyhow::Result<()> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    for a in &AUTHORITIES {
        sqlx::query(
            "INSERT INTO authorities (id, name, ags, street, postal_code, city, email, phone, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .bind(a.id)
        .bind(a.name)
        .bind(a.ags)
        .bind(a.street)
        .bind(a.postal_code)
        .bind(a.city)
        .bind(a.email)
        .bind(a.phone)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for (id, authority, name, mail) in POSTBOXES {
        sqlx::query(
            "INSERT INTO postboxes (id, authority_id, name, email, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(authority)
        .bind(name)
        .bind(mail)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for (authority, payee, iban, bic) in PAYEES {
        // Only where no account was set, so an administrator's change survives a reload.
        sqlx::query(
            "UPDATE authorities SET payee_name = $1, payee_iban = $2, payee_bic = $3 WHERE id = $4 AND payee_iban = ''",
        )
        .bind(payee)
        .bind(iban)
        .bind(bic)
        .bind(authority)
        .execute(&mut *tx)
        .await?;
    }
    for a in &AUTHORITIES {
        sqlx::query(
            "UPDATE postboxes SET fee_remedy = $1 WHERE authority_id = $2 AND fee_remedy = ''",
        )
        .bind(remedy(a))
        .bind(a.id)
        .execute(&mut *tx)
        .await?;
    }
    for (key, title_de, title_en, summary_de, summary_en) in SERVICES {
        sqlx::query(
            "INSERT INTO services (service_key, title_de, title_en, summary_de, summary_en, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service_key) DO NOTHING",
        )
        .bind(key)
        .bind(title_de)
        .bind(title_en)
        .bind(summary_de)
        .bind(summary_en)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    for (name, text) in catalog::DEMO_DEFINITIONS {
        match catalog::import(db, text).await {
            Ok(_) | Err(catalog::ImportError::VersionExists { .. }) => {}
            Err(e) => anyhow::bail!("demo definition {name}: {e}"),
        }
    }
    let rules = routing::parse_rules(DEMO_RULES).map_err(anyhow::Error::msg)?;
    routing::upsert_rules(db, &rules)
        .await
        .map_err(anyhow::Error::msg)?;

    // A real import (`amtsweg import postal-codes`) is never replaced by the excerpt.
    if postal::is_empty(db).await? {
        postal::replace_all(db, &postal::parse(postal::DEMO_EXCERPT.as_bytes())?).await?;
    }

    for (email, role) in ACCOUNTS {
        let user = NewUser {
            email: Email::parse(email).map_err(|e| anyhow::anyhow!("demo address {email}: {e}"))?,
            password: Secret::new(PASSWORD.to_string()),
            role: role
                .parse()
                .map_err(|()| anyhow::anyhow!("demo role {role}"))?,
            lang: Lang::De,
            verified: true,
        };
        match users::create(db, user, public_url, false).await {
            Ok(_) | Err(CreateUserError::Exists) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The demo caseworker leads every demo postbox, so the whole back office can be tried.
    let mut tx = db.begin_write().await?;
    // Staff must log in with a second factor; the demo staff share a published key.
    for (email, _) in ACCOUNTS.iter().filter(|(_, role)| *role != "citizen") {
        mfa::enrol_demo(&mut tx, email, TOTP_SECRET).await?;
    }
    for (postbox, _, _, _) in POSTBOXES {
        sqlx::query(
            "INSERT INTO memberships (postbox_id, user_id, role, created_at)
             SELECT $1, id, 'lead', $2 FROM users WHERE email = $3
             ON CONFLICT (postbox_id, user_id) DO NOTHING",
        )
        .bind(postbox)
        .bind(now)
        .bind(ACCOUNTS[1].0)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::totp;

    /// The README publishes the demo key and the URIs an app takes it in; they must stay true.
    #[test]
    fn the_readme_names_the_demo_key() {
        let readme = include_str!("../../README.md");
        assert_eq!(totp::base32_decode(TOTP_SECRET).map(|k| k.len()), Some(20));
        assert!(readme.contains(TOTP_SECRET));
        for (email, role) in ACCOUNTS.iter().filter(|(_, r)| *r != "citizen") {
            let uri = totp::otpauth_uri(mfa::ISSUER, email, TOTP_SECRET);
            assert!(readme.contains(&uri), "{role}: {uri}");
        }
    }
}
