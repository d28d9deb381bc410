use super::testing::{assert_epc_payload, decode_greyscale};
use super::*;

fn transfer() -> EpcTransfer {
    EpcTransfer {
        bic: Some("BFSWDE33XXX".into()),
        name: "Landeshauptstadt Stuttgart, Amt für öffentliche Ordnung".into(),
        iban: Iban::parse("DE89 3704 0044 0532 0130 00").expect("valid IBAN"),
        amount: Money(3070),
        reference: CreditorReference::parse("RF18 5390 0754 7034").expect("valid RF"),
        note: Some("Bewohnerparkausweis A7K-3M9-XQ2".into()),
    }
}

#[test]
fn full_payload_line_by_line() {
    let t = transfer();
    let payload = t.payload().unwrap();
    assert_eq!(
        payload,
        [
            "BCD",
            "002",
            "1",
            "SCT",
            "BFSWDE33XXX",
            "Landeshauptstadt Stuttgart, Amt für öffentliche Ordnung",
            "DE89370400440532013000",
            "EUR30.70",
            "",
            "RF18539007547034",
            "",
            "Bewohnerparkausweis A7K-3M9-XQ2",
        ]
        .join("\n")
    );
    assert_epc_payload(&payload, &t);
}

#[test]
fn without_bic_and_note_ends_with_the_reference() {
    let t = EpcTransfer {
        bic: None,
        note: None,
        ..transfer()
    };
    let payload = t.payload().unwrap();
    let lines: Vec<&str> = payload.split('\n').collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[4], "");
    assert_eq!(lines[9], "RF18539007547034");
    assert_epc_payload(&payload, &t);

    // Blank optional values count as absent.
    let blank = EpcTransfer {
        bic: Some("  ".into()),
        note: Some(" ".into()),
        ..transfer()
    };
    assert_eq!(blank.payload().unwrap(), payload);
}

#[test]
fn bic_of_eight_in_any_case() {
    let t = EpcTransfer {
        bic: Some(" cobadeff ".into()),
        ..transfer()
    };
    let payload = t.payload().unwrap();
    assert_eq!(payload.split('\n').nth(4), Some("COBADEFF"));
    assert_epc_payload(&payload, &t);
    for bad in [
        "COBADEF",
        "COBADEFF1",
        "COBADEFF12",
        "C0BADEFF",
        "COBADEFF1234",
        "COBÄDEFF",
    ] {
        let t = EpcTransfer {
            bic: Some(bad.into()),
            ..transfer()
        };
        assert_eq!(t.payload(), Err(EpcError::BicInvalid), "{bad}");
    }
}

#[test]
fn names_are_counted_in_characters() {
    let name = "Ä".repeat(35) + &"ö".repeat(20) + &"ß".repeat(15);
    assert_eq!(name.chars().count(), 70);
    assert_eq!(name.len(), 140);
    let t = EpcTransfer {
        name: name.clone(),
        ..transfer()
    };
    let payload = t.payload().unwrap();
    assert_eq!(payload.split('\n').nth(5), Some(name.as_str()));
    assert_epc_payload(&payload, &t);
    t.qr().unwrap();

    let long = EpcTransfer {
        name: "a".repeat(71),
        ..transfer()
    };
    assert_eq!(long.payload(), Err(EpcError::NameTooLong));
    let long = EpcTransfer {
        name: "ü".repeat(71),
        ..transfer()
    };
    assert_eq!(long.payload(), Err(EpcError::NameTooLong));
    let empty = EpcTransfer {
        name: " \n ".into(),
        ..transfer()
    };
    assert_eq!(empty.payload(), Err(EpcError::NameEmpty));
}

#[test]
fn line_breaks_cannot_shift_fields() {
    let t = EpcTransfer {
        name: "Stadt\nDE00 Evil".into(),
        note: Some("a\r\nb".into()),
        ..transfer()
    };
    let payload = t.payload().unwrap();
    let lines: Vec<&str> = payload.split('\n').collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[5], "Stadt DE00 Evil");
    assert_eq!(lines[6], "DE89370400440532013000");
    assert_eq!(lines[11], "a  b");
}

#[test]
fn amount_bounds() {
    for (cents, text) in [
        (1, "EUR0.01"),
        (99_999_999_999, "EUR999999999.99"),
        (100, "EUR1.00"),
    ] {
        let t = EpcTransfer {
            amount: Money(cents),
            ..transfer()
        };
        let payload = t.payload().unwrap();
        assert_eq!(payload.split('\n').nth(7), Some(text));
        assert_epc_payload(&payload, &t);
    }
    for cents in [0, -1, 100_000_000_000, i64::MIN, i64::MAX] {
        let t = EpcTransfer {
            amount: Money(cents),
            ..transfer()
        };
        assert_eq!(t.payload(), Err(EpcError::AmountOutOfRange), "{cents}");
        assert_eq!(t.qr(), Err(EpcError::AmountOutOfRange), "{cents}");
    }
}

#[test]
fn note_limit() {
    let t = EpcTransfer {
        note: Some("é".repeat(70)),
        ..transfer()
    };
    assert_epc_payload(&t.payload().unwrap(), &t);
    let t = EpcTransfer {
        note: Some("é".repeat(71)),
        ..transfer()
    };
    assert_eq!(t.payload(), Err(EpcError::NoteTooLong));
}

#[test]
fn too_large_for_version_13() {
    // 70 characters of three bytes each, twice: valid lengths, but 460 bytes, more than the
    // 331 bytes a version 13 code holds at level M.
    let t = EpcTransfer {
        name: "€".repeat(70),
        note: Some("€".repeat(70)),
        ..transfer()
    };
    assert!(t.payload().is_ok());
    assert_eq!(t.qr(), Err(EpcError::TooLarge));
}

/// Renders the matrix the way a printer would: 4 pixels per module, quiet zone, white paper.
fn render(m: &QrMatrix, scale: usize) -> (usize, Vec<u8>) {
    let size = (m.width + 2 * QUIET_ZONE) * scale;
    let mut pixels = vec![255u8; size * size];
    for py in 0..size {
        for px in 0..size {
            let (x, y) = (px / scale, py / scale);
            if x >= QUIET_ZONE && y >= QUIET_ZONE && m.is_dark(x - QUIET_ZONE, y - QUIET_ZONE) {
                pixels[py * size + px] = 0;
            }
        }
    }
    (size, pixels)
}

#[test]
fn qr_code_decodes_to_the_payload() {
    let name70 = "Ä".repeat(35) + &"ö".repeat(20) + &"ß".repeat(15);
    let transfers = [
        transfer(),
        EpcTransfer {
            bic: None,
            note: None,
            amount: Money(1),
            ..transfer()
        },
        EpcTransfer {
            name: name70,
            note: Some("Gebühr für Führungszeugnis – Straße".into()),
            amount: Money(99_999_999_999),
            ..transfer()
        },
    ];
    for t in transfers {
        let m = t.qr().unwrap();
        assert!(m.width >= 21 && m.width <= 17 + 4 * 13, "version 1 to 13");
        let (size, pixels) = render(&m, 4);
        let found = decode_greyscale(size, size, &pixels);
        assert_eq!(found.len(), 1, "one code");
        let (text, version, ecc) = &found[0];
        assert_eq!(*text, t.payload().unwrap());
        assert!(*version <= 13);
        assert_eq!(*ecc, 0, "level M");
        assert_epc_payload(text, &t);
    }
}

#[test]
fn svg_is_small_accessible_and_scales() {
    let m = transfer().qr().unwrap();
    let svg = m.svg("GiroCode: 30,70 € an \"Stadt\" <Kasse> & Co");
    assert!(svg.starts_with("<svg "));
    assert!(svg.ends_with("</svg>"));
    let size = m.width + 8;
    assert!(svg.contains(&format!(r#"viewBox="0 0 {size} {size}""#)));
    assert!(!svg.contains("width=\"") || svg.contains(&format!(r#"<rect width="{size}""#)));
    assert!(!svg.contains(" height=\"") || svg.contains(&format!(r#"height="{size}" fill"#)));
    assert!(svg.contains(r#"role="img""#));
    assert!(svg.contains(r#"shape-rendering="crispEdges""#));
    assert!(svg
        .contains(r#"aria-label="GiroCode: 30,70 € an &quot;Stadt&quot; &lt;Kasse&gt; &amp; Co""#));
    assert!(svg
        .contains("<title>GiroCode: 30,70 € an &quot;Stadt&quot; &lt;Kasse&gt; &amp; Co</title>"));
    assert_eq!(svg.matches("<path").count(), 1);
    assert!(svg.len() < 12_000, "{} bytes", svg.len());

    // The path, read back, covers exactly the dark modules.
    let d = svg
        .split(" d=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    let mut covered = vec![false; size * size];
    let (mut x, mut y) = (0i64, 0i64);
    for cmd in d.split('z').filter(|c| !c.is_empty()) {
        let (mv, rest) = cmd.split_once('h').unwrap();
        let rel = mv.starts_with('m');
        let mut nums = mv[1..].split(' ').map(|n| n.parse::<i64>().unwrap());
        let (dx, dy) = (nums.next().unwrap(), nums.next().unwrap());
        if rel {
            x += dx;
            y += dy;
        } else {
            (x, y) = (dx, dy);
        }
        let len: i64 = rest.split('v').next().unwrap().parse().unwrap();
        assert_eq!(rest, format!("{len}v1h-{len}"));
        for i in 0..len {
            covered[(y as usize) * size + (x + i) as usize] = true;
        }
    }
    for yy in 0..size {
        for xx in 0..size {
            let dark =
                xx >= QUIET_ZONE && yy >= QUIET_ZONE && m.is_dark(xx - QUIET_ZONE, yy - QUIET_ZONE);
            assert_eq!(covered[yy * size + xx], dark, "module {xx},{yy}");
        }
    }
}

#[test]
fn out_of_range_modules_are_light() {
    let m = transfer().qr().unwrap();
    assert!(!m.is_dark(m.width, 0));
    assert!(!m.is_dark(0, m.width));
    assert!(!m.is_dark(usize::MAX, usize::MAX));
    assert!(m.is_dark(0, 0), "finder pattern corner");
}
