//! The fee notice as a letter: assembled from the notice's facts into the PDF layout, and kept
//! in storage as issued (a notice is a legal document; it is never re-rendered later).

use sha2::{Digest, Sha256};

use super::epc::EpcTransfer;
use super::notices::{date_de, Payee};
use super::pdf::{self, FeeNoticePdf, Letter};
use crate::domain::{CreditorReference, Money};
use crate::state::AppState;
use crate::time::now_ms;

/// The transfer a notice asks for, as its GiroCode carries it: to the payee, over `amount`,
/// quoting the payment reference, with the case's reference number as note to the payer.
pub fn giro_transfer(
    payee: &Payee,
    amount: Money,
    reference: &CreditorReference,
    case_reference: &str,
) -> EpcTransfer {
    EpcTransfer {
        bic: Some(payee.bic.clone()),
        name: payee.name.clone(),
        iban: payee.iban.clone(),
        amount,
        reference: reference.clone(),
        note: Some(format!("Aktenzeichen {case_reference}")),
    }
}

/// Everything a notice says, borrowed from the caller.
pub struct NoticeDocument<'a> {
    pub letterhead: &'a [String],
    pub recipient: &'a [String],
    pub case_reference: &'a str,
    pub number: i64,
    pub issued_on: &'a str,
    pub items: &'a [(String, Money)],
    pub total: Money,
    pub due_date: &'a str,
    pub legal_basis: &'a str,
    pub remedy: &'a str,
    pub payee: &'a Payee,
    pub reference: &'a CreditorReference,
    /// The number of the notice this one corrects.
    pub replaces: Option<i64>,
}

impl NoticeDocument<'_> {
    pub fn transfer(&self) -> EpcTransfer {
        giro_transfer(self.payee, self.total, self.reference, self.case_reference)
    }

    /// The PDF, in German like every official letter.
    pub fn render(&self) -> Result<Vec<u8>, String> {
        let qr = self.transfer().qr().map_err(|e| e.to_string())?;
        // The name alone, without a guessed form of address.
        let greeting = match self.recipient.first() {
            Some(name) if !name.trim().is_empty() => format!("Guten Tag {},", name.trim()),
            _ => "Sehr geehrte Damen und Herren,".to_string(),
        };
        let mut intro = format!(
            "{greeting}\nfür Ihren Antrag mit dem Aktenzeichen {} setzen wir folgende Gebühren fest.",
            self.case_reference
        );
        if let Some(old) = self.replaces {
            intro.push_str(&format!(
                " Dieser Bescheid ersetzt den Gebührenbescheid Nr. {old}, der damit aufgehoben ist."
            ));
        }
        let mut sections = Vec::new();
        if !self.legal_basis.trim().is_empty() {
            sections.push(("Rechtsgrundlage".to_string(), self.legal_basis.to_string()));
        }
        if !self.remedy.trim().is_empty() {
            sections.push((
                "Rechtsbehelfsbelehrung".to_string(),
                self.remedy.to_string(),
            ));
        }
        let doc = FeeNoticePdf {
            letter: Letter {
                sender: self.letterhead.to_vec(),
                recipient: self.recipient.to_vec(),
                meta: vec![
                    ("Aktenzeichen".into(), self.case_reference.to_string()),
                    ("Bescheid Nr.".into(), self.number.to_string()),
                    ("Datum".into(), date_de(self.issued_on)),
                    ("Kassenzeichen".into(), self.reference.to_string()),
                ],
                title: "Gebührenbescheid".into(),
                footer: self.letterhead.first().cloned().unwrap_or_default(),
            },
            intro,
            item_headings: ("Gebühr".into(), "Betrag".into()),
            items: self.items.to_vec(),
            total_label: "Gesamtbetrag".into(),
            total: self.total,
            due_text: format!(
                "Bitte überweisen Sie den Gesamtbetrag bis zum {} und geben Sie als Verwendungszweck das Kassenzeichen {} an.",
                date_de(self.due_date),
                self.reference
            ),
            bank_heading: "Bankverbindung".into(),
            bank: vec![
                ("Empfänger".into(), self.payee.name.clone()),
                ("IBAN".into(), self.payee.iban.to_string()),
                ("BIC".into(), self.payee.bic.clone()),
                ("Betrag".into(), self.total.format_de()),
                ("Verwendungszweck".into(), self.reference.to_string()),
            ]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect(),
            qr: Some(qr),
            qr_caption: "Mit Ihrer Banking-App scannen (GiroCode)".into(),
            sections,
            stamp: None,
        };
        pdf::fee_notice(&doc).map_err(|e| e.to_string())
    }
}

/// Puts a generated PDF into storage and records it, inside the caller's transaction, as a
/// document that belongs to no citizen (it is not offered for reuse as evidence). Returns the
/// document id and the storage key (to remove the file if the transaction fails).
pub async fn store(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
    bytes: &[u8],
    file_name: &str,
) -> std::io::Result<(String, String)> {
    let data_key = state
        .db
        .vault
        .key_of(conn, crate::crypto::Owner::Case, case_id)
        .await?;
    let mut upload = state
        .storage
        .begin_sealed(state.db.vault.sealer(&data_key))
        .await?;
    upload.write(bytes).await?;
    let key = state.storage.commit(upload).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let inserted = sqlx::query(
        "INSERT INTO documents (id, user_id, storage_key, file_name, content_type, size, sha256, created_at, data_key_id)
         VALUES ($1, NULL, $2, $3, 'application/pdf', $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&key)
    .bind(file_name)
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(hex::encode(Sha256::digest(bytes)))
    .bind(now_ms())
    .bind(&data_key.id)
    .execute(&mut *conn)
    .await;
    if let Err(e) = inserted {
        let _ = state.storage.delete(&key).await;
        return Err(std::io::Error::other(e));
    }
    Ok((id, key))
}
