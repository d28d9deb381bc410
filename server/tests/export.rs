//! The e-file export on SQLite and PostgreSQL: a caseworker downloads a case as a ZIP package
//! whose manifest lists every file with a hash that checks out, with the answers, the summary,
//! the evidence as uploaded, the thread with its attachments and the fee notice; the export is
//! audited, leaves no temporary file, and nobody outside the case's postbox reaches it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use amtsweg_server::domain::Role;
use common::apply::PNG;
use common::fees::{issue, world};
use common::people::{citizen, href, multipart, staff, text};
use common::{Backend, TestApp};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Every entry of a ZIP by path.
fn unzip(bytes: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP file");
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().unwrap().into_owned(), content)
        })
        .collect()
}

fn json(entries: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(&entries[path]).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn exports(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'export.case'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

db_test!(a_case_exports_as_a_package_an_e_file_can_check, |app| {
    let w = world(app).await;
    let case = format!("/verwaltung/vorgaenge/{}", w.reference);
    let r = multipart(
        &w.app,
        &w.cw,
        &case,
        &format!("{case}/nachricht"),
        &[("kind", "message"), ("body", "Ihr Antrag ist vollständig.")],
        &[("hinweis.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = issue(&w, &[("Bewohnerparkausweis", "30,70")], &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());

    // The case page links to the package.
    let (_, page) = text(&w.app, &w.cw, &case).await;
    assert!(page.contains("Als Paket für die E-Akte herunterladen (ZIP)"));
    let link = href(&page, &format!("{case}/export.zip"));
    let r = w.cw.get(w.app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/zip");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".zip"),
        "{disposition}"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        h["content-length"].to_str().unwrap(),
        bytes.len().to_string()
    );
    let entries = unzip(bytes);

    // The manifest describes the case and lists every other file, with hashes that check out.
    let manifest = json(&entries, "manifest.json");
    assert_eq!(manifest["format"], "amtsweg-case-export");
    assert_eq!(manifest["version"], 1);
    assert_eq!(manifest["reference"], w.reference.as_str());
    assert_eq!(manifest["service"]["key"], "99058011012000");
    assert!(manifest["service"]["title"]
        .as_str()
        .unwrap()
        .contains("Bewohnerparkausweis"));
    assert!(manifest["definition_version"].as_i64().unwrap() >= 1);
    assert_eq!(manifest["authority"]["id"], "a-stuttgart");
    assert_eq!(manifest["postbox"]["id"], "p-stuttgart-parken");
    assert!(manifest["postbox"]["name"].as_str().is_some());
    assert_eq!(manifest["state"], "received");
    assert_eq!(manifest["applicant_name"], "Erika Mustermann");
    for key in ["submitted_at", "exported_at"] {
        let at = manifest[key].as_str().unwrap();
        assert!(
            at.ends_with('Z') && time::OffsetDateTime::parse(at, &Rfc3339).is_ok(),
            "{key}: {at}"
        );
    }
    let files = manifest["files"].as_array().unwrap();
    let listed: BTreeSet<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    let packed: BTreeSet<&str> = entries
        .keys()
        .map(String::as_str)
        .filter(|p| *p != "manifest.json")
        .collect();
    assert_eq!(listed, packed, "the manifest lists every file but itself");
    assert_eq!(listed.len(), files.len(), "no path twice");
    for f in files {
        let content = &entries[f["path"].as_str().unwrap()];
        assert_eq!(f["size"].as_u64().unwrap(), content.len() as u64, "{f}");
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(content)), "{f}");
        assert!(f["content_type"].as_str().is_some_and(|t| t.contains('/')));
    }

    // Answers by field key, typed as stored, with the evidence pointing into the package.
    let answers = json(&entries, "answers.json");
    assert_eq!(
        answers["definition_version"],
        manifest["definition_version"]
    );
    assert_eq!(answers["answers"]["plate"], "S-AB 1234");
    assert_eq!(answers["answers"]["family_name"], "Mustermann");
    let evidence = &answers["answers"]["registration_certificate"][0];
    assert_eq!(evidence["path"], "evidence/fahrzeugschein.png");
    assert!(answers["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["key"] == "plate" && f["label"]["de"].as_str().is_some()));
    assert_eq!(entries["evidence/fahrzeugschein.png"], PNG);
    let listed_evidence = files
        .iter()
        .find(|f| f["path"] == "evidence/fahrzeugschein.png")
        .unwrap();
    assert_eq!(listed_evidence["kind"], "evidence");
    assert_eq!(listed_evidence["field"], "registration_certificate");
    assert!(entries["summary.pdf"].starts_with(b"%PDF-"));

    // The thread with the caseworker's message and its attachment; the fee notice's PDF is
    // packed once, under fees/, and its message refers to it there.
    let messages = json(&entries, "messages.json");
    let thread = messages["messages"].as_array().unwrap();
    let sent = thread
        .iter()
        .find(|m| m["body"] == "Ihr Antrag ist vollständig.")
        .expect("the caseworker's message");
    assert_eq!(sent["from_citizen"], false);
    assert_eq!(sent["attachments"][0]["path"], "messages/hinweis.pdf");
    assert_eq!(entries["messages/hinweis.pdf"], PDF);
    let fees = manifest["fee_notices"].as_array().unwrap();
    assert_eq!(fees.len(), 1);
    assert_eq!(fees[0]["total_cents"], 3070);
    let fee_path = fees[0]["path"].as_str().unwrap();
    assert!(fee_path.starts_with("fees/") && entries[fee_path].starts_with(b"%PDF-"));
    assert!(thread
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap())
        .any(|a| a["path"] == fee_path));
    assert_eq!(entries.keys().filter(|p| p.starts_with("fees/")).count(), 1);

    // Audited; nothing left in the temporary directory.
    assert_eq!(exports(&w.app).await, 1);
    assert!(
        w.app.state.storage.temp_files().is_empty(),
        "{:?}",
        w.app.state.storage.temp_files()
    );

    // Neither the citizen nor a caseworker of another postbox reaches it.
    let other = staff(
        &w.app,
        "cw@esslingen.example",
        Role::Caseworker,
        &[("p-esslingen-buergeramt", "lead")],
    )
    .await;
    let bob = citizen(&w.app, "bob@example.org").await;
    for client in [&w.anna, &other, &bob] {
        let r = client.get(w.app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }
    let (s, _) = text(
        &w.app,
        &other,
        "/verwaltung/vorgaenge/XX-0000-0000/export.zip",
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(exports(&w.app).await, 1);
    assert!(w.app.state.storage.temp_files().is_empty());
});

db_test!(
    a_damaged_or_missing_file_fails_the_export_and_leaves_nothing,
    |app| {
        let w = world(app).await;
        let link = format!("/verwaltung/vorgaenge/{}/export.zip", w.reference);
        let (key, id): (String, String) = sqlx::query_as(
        "SELECT d.storage_key, d.id FROM case_documents cd JOIN documents d ON d.id = cd.document_id
         JOIN cases c ON c.id = cd.case_id WHERE c.reference = $1",
    )
    .bind(&w.reference)
    .fetch_one(&w.app.state.db.pool)
    .await
    .unwrap();

        // Content that no longer matches the hash recorded at upload is not exported.
        sqlx::query("UPDATE documents SET sha256 = $1 WHERE id = $2")
            .bind("0".repeat(64))
            .bind(&id)
            .execute(&w.app.state.db.pool)
            .await
            .unwrap();
        let r = w.cw.get(w.app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 500);
        assert!(w.app.state.storage.temp_files().is_empty());

        // Nor is a case whose file is gone from storage.
        w.app.state.storage.delete(&key).await.unwrap();
        let r = w.cw.get(w.app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 500);
        assert!(w.app.state.storage.temp_files().is_empty());
        assert_eq!(exports(&w.app).await, 0);
    }
);
