//! PDF letters from an authority: the fee notice (Gebührenbescheid) with its GiroCode, and the
//! summary of a submitted application.
//!
//! The layout follows DIN 5008 (form B) because these letters are printed and posted in window
//! envelopes, filed by caseworkers next to paper mail, and read by citizens who expect an
//! official letter to look like one: the recipient address sits exactly in the envelope window,
//! the information block (reference number, date) where every German office puts it.
//!
//! Files are PDF/A-2a and PDF/UA-1: notices are records that must stay readable for decades, and
//! citizens using screen readers are entitled to them as much as anyone (BITV 2.0). That is why
//! the fonts are embedded, every character maps back to Unicode, and the content carries a
//! structure tree (headings, tables, a figure with alternative text for the QR code) while
//! decoration and page furniture are marked as artifacts.
//!
//! Text is laid out here rather than by a text engine: the documents are simple, and measuring
//! the glyph advances of the one embedded font ourselves keeps the line breaks exact and the
//! output identical for identical input.

mod body;
mod font;
mod layout;
mod letter;
mod render;
mod style;
mod tags;
#[cfg(test)]
mod tests;
mod wrap;

use font::fonts;
use layout::Layout;

use super::epc::QrMatrix;
use crate::domain::Money;

/// The parts every letter has. The caller localizes all text.
#[derive(Clone, Debug, Default)]
pub struct Letter {
    /// Authority name first, then street, postal code and city, phone, email.
    pub sender: Vec<String>,
    /// Name, street, postal code and city: what goes into the envelope window.
    pub recipient: Vec<String>,
    /// The information block, e.g. ("Aktenzeichen", "A7K-3M9-XQ2"), ("Datum", "23.11.2026").
    /// The first pair is repeated on every page next to the page number, which reads
    /// "Seite n von m" (German, like the letters); "Datum" becomes the PDF's creation date.
    pub meta: Vec<(String, String)>,
    pub title: String,
    pub footer: String,
}

#[derive(Clone, Debug)]
pub struct FeeNoticePdf {
    pub letter: Letter,
    pub intro: String,
    pub item_headings: (String, String),
    pub items: Vec<(String, Money)>,
    pub total_label: String,
    pub total: Money,
    pub due_text: String,
    pub bank_heading: String,
    /// Empfänger, IBAN (grouped), BIC, Betrag, Verwendungszweck.
    pub bank: Vec<(String, String)>,
    pub qr: Option<QrMatrix>,
    pub qr_caption: String,
    /// Headed texts after the payment details; paragraphs separated by `\n`.
    pub sections: Vec<(String, String)>,
    /// A remark that changes what the letter means ("STORNIERT", "Ersetzt durch …"), printed
    /// prominently below the title.
    pub stamp: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SummaryPdf {
    pub letter: Letter,
    pub intro: String,
    pub sections: Vec<SummarySection>,
    pub closing: String,
}

#[derive(Clone, Debug)]
pub struct SummarySection {
    pub title: String,
    /// Label and value; values may be long and contain line breaks.
    pub rows: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be used: {0}")]
    Font(&'static str),
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

pub fn fee_notice(doc: &FeeNoticePdf) -> Result<Vec<u8>, PdfError> {
    let mut l = Layout::new(fonts()?, &doc.letter);
    l.fee_notice_body(doc);
    l.finish()
}

pub fn summary(doc: &SummaryPdf) -> Result<Vec<u8>, PdfError> {
    let mut l = Layout::new(fonts()?, &doc.letter);
    l.summary_body(doc);
    l.finish()
}
