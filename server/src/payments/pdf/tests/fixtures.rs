//! Sample letters: a fee notice as an authority sends it, one with every kind of awkward input,
//! and a summary long enough to run over many pages.

use crate::domain::{CreditorReference, Iban, Money};
use crate::payments::epc::EpcTransfer;
use crate::payments::pdf::{FeeNoticePdf, Letter, SummaryPdf, SummarySection};

pub(super) fn transfer() -> EpcTransfer {
    EpcTransfer {
        bic: Some("SOLADEST600".into()),
        name: "Landeshauptstadt Stuttgart – Stadtkasse".into(),
        iban: Iban::parse("DE89 3704 0044 0532 0130 00").expect("valid IBAN"),
        amount: Money(3070),
        reference: CreditorReference::parse("RF18 5390 0754 7034").expect("valid RF"),
        note: Some("Aktenzeichen A7K-3M9-XQ2".into()),
    }
}

fn letter(title: &str) -> Letter {
    Letter {
        sender: vec![
            "Landeshauptstadt Stuttgart – Amt für öffentliche Ordnung".into(),
            "Eberhardstraße 39".into(),
            "70173 Stuttgart".into(),
            "Telefon 0711 216-0".into(),
            "buergerbuero@stuttgart.de".into(),
        ],
        recipient: vec![
            "Frau Jürgen-Müßig Özdemir".into(),
            "Königstraße 12".into(),
            "70173 Stuttgart".into(),
        ],
        meta: vec![
            ("Aktenzeichen".into(), "A7K-3M9-XQ2".into()),
            ("Bescheid Nr.".into(), "1".into()),
            ("Datum".into(), "23.11.2026".into()),
            ("Kassenzeichen".into(), "RF18 5390 0754 7034".into()),
        ],
        title: title.into(),
        footer: "Landeshauptstadt Stuttgart · Stadtkasse · IBAN DE89 3704 0044 0532 0130 00 · \
                 BIC SOLADEST600 · Öffnungszeiten Mo–Fr 8–12 Uhr · www.stuttgart.de"
            .into(),
    }
}

pub(super) fn notice() -> FeeNoticePdf {
    let t = transfer();
    FeeNoticePdf {
        letter: letter("Gebührenbescheid"),
        intro: "Sehr geehrte Frau Özdemir,\nfür Ihren Antrag auf einen Bewohnerparkausweis \
                mit dem Aktenzeichen A7K-3M9-XQ2 setzen wir folgende Gebühren fest."
            .into(),
        item_headings: ("Gebühr".into(), "Betrag".into()),
        items: vec![
            (
                "Bewohnerparkausweis, Zone S-Mitte, 12 Monate".into(),
                Money(3070 - 1050),
            ),
            ("Auslagen für die Zustellung (Porto)".into(), Money(1050)),
        ],
        total_label: "Gesamtbetrag".into(),
        total: Money(3070),
        due_text: "Bitte überweisen Sie den Gesamtbetrag von 30,70 € bis zum 23.12.2026 und \
                   geben Sie als Verwendungszweck das Kassenzeichen RF18 5390 0754 7034 an."
            .into(),
        bank_heading: "Bankverbindung".into(),
        bank: vec![
            ("Empfänger".into(), t.name.clone()),
            ("IBAN".into(), t.iban.to_string()),
            ("BIC".into(), "SOLADEST600".into()),
            ("Betrag".into(), t.amount.format_de()),
            ("Verwendungszweck".into(), t.reference.to_string()),
        ],
        qr: Some(t.qr().expect("QR code")),
        qr_caption: "Mit Ihrer Banking-App scannen (GiroCode)".into(),
        sections: vec![
            (
                "Rechtsgrundlage".into(),
                "§ 6a Abs. 5 Straßenverkehrsgesetz (StVG) in Verbindung mit der \
                 Gebührenordnung für Maßnahmen im Straßenverkehr (GebOSt) und der Satzung \
                 über Gebühren für Bewohnerparkausweise der Landeshauptstadt Stuttgart."
                    .into(),
            ),
            (
                "Rechtsbehelfsbelehrung".into(),
                "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe \
                 Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur \
                 Niederschrift bei der Landeshauptstadt Stuttgart, Amt für öffentliche \
                 Ordnung, Eberhardstraße 39, 70173 Stuttgart, einzulegen.\nDer Widerspruch \
                 kann auch elektronisch mit einer qualifizierten elektronischen Signatur \
                 oder über das Bürgerkonto eingelegt werden. Eine einfache E-Mail genügt \
                 nicht.\nDer Widerspruch hat keine aufschiebende Wirkung; die Gebühr ist \
                 trotz eines Widerspruchs zum genannten Termin fällig (§ 80 Abs. 2 Satz 1 \
                 Nr. 1 VwGO)."
                    .into(),
            ),
        ],
        stamp: None,
    }
}

pub(super) fn long_summary() -> SummaryPdf {
    let long = "Angaben zur Begründung mit Umlauten äöü ß und Beträgen wie 1.234,56 € \
                – dieser Text wiederholt sich, damit ein Wert über mehrere Zeilen und \
                Seiten läuft. "
        .repeat(14);
    let sections = (0..4)
        .map(|s| SummarySection {
            title: format!("Abschnitt {} – Angaben zur Person und zum Vorhaben", s + 1),
            rows: (0..50)
                .map(|r| {
                    let i = s * 50 + r;
                    let value = match i {
                        199 => "Ende der Angaben".to_string(),
                        i if i % 40 == 7 => long
                            [..long.char_indices().nth(2000).map_or(long.len(), |(b, _)| b)]
                            .to_string(),
                        i if i % 10 == 3 => "Musterstraße 1\n70173 Stuttgart\nDeutschland".into(),
                        i if i % 25 == 11 => "X".repeat(300),
                        i => format!("Wert {i}"),
                    };
                    (format!("Feld {i} mit einer längeren Beschriftung"), value)
                })
                .collect(),
        })
        .collect();
    SummaryPdf {
        letter: letter("Zusammenfassung Ihres Antrags auf Wohngeld"),
        intro: "Sie haben am 23.11.2026 folgende Angaben gemacht.".into(),
        sections,
        closing: "Diese Zusammenfassung wurde maschinell erstellt.".into(),
    }
}

pub(super) fn awkward() -> FeeNoticePdf {
    let mut doc = notice();
    doc.letter.recipient = vec![
        "王小明 \u{1F600}\u{0007}".into(),
        "A very long street name that certainly does not fit into the window of a DIN \
         envelope 123"
            .into(),
        String::new(),
    ];
    doc.letter.meta.clear();
    doc.letter.sender.clear();
    doc.letter.footer = String::new();
    doc.items = vec![("x".repeat(500), Money(1)), (String::new(), Money(0))];
    doc.intro = "\n\n\u{00AD}\n".into();
    doc.sections.push(("".into(), "".into()));
    doc.stamp = Some("STORNIERT – ersetzt durch den Bescheid vom 24.11.2026".into());
    doc.qr = None;
    doc
}
