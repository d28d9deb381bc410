use proptest::prelude::*;

use super::file::{self, open_all, seal_all, Head, CHUNK};
use super::vault::{raw, test_key, unwrap, wrap};
use super::*;

fn key() -> DataKey {
    test_key("3f1e7a52-0000-4000-8000-000000000001")
}

#[test]
fn text_round_trip_and_legacy_plaintext() {
    let k = key();
    let sealed = super::text::seal(&k.id, raw(&k), "Hauptstraße 1");
    assert!(is_sealed(&sealed));
    assert!(!sealed.contains("Hauptstra"));
    assert_eq!(super::text::key_id(&sealed).unwrap(), Some(k.id.as_str()));
    assert_eq!(
        super::text::open(&sealed, &k.id, raw(&k)).unwrap(),
        "Hauptstraße 1"
    );
    assert_eq!(super::text::key_id("{\"a\":1}").unwrap(), None);
    // Two seals of one value differ (random nonces).
    assert_ne!(sealed, super::text::seal(&k.id, raw(&k), "Hauptstraße 1"));
}

#[test]
fn text_tampering_and_wrong_keys_are_refused() {
    let k = key();
    let sealed = super::text::seal(&k.id, raw(&k), "geheim");
    let mut bytes = sealed.clone().into_bytes();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert!(super::text::open(&tampered, &k.id, raw(&k)).is_err());
    let other = test_key(&k.id);
    assert!(matches!(
        super::text::open(&sealed, &k.id, raw(&other)),
        Err(CryptoError::Tampered)
    ));
    // A value cannot be moved under another key id.
    let moved = sealed.replacen(&k.id, "other-id", 1);
    assert!(super::text::open(&moved, "other-id", raw(&k)).is_err());
}

#[test]
fn wrapped_data_keys_need_their_deployment_key() {
    let ring = Keyring::parse(&format!(
        "{}\n# old\n{}",
        Keyring::generate_line("new").unwrap(),
        Keyring::generate_line("old").unwrap()
    ))
    .unwrap();
    assert_eq!(ring.active().id, "new");
    let data = [7u8; 32];
    let (kek, wrapped) = wrap(&ring, "dk1", &data);
    assert_eq!(kek, "new");
    assert_eq!(unwrap(&ring, "dk1", &kek, &wrapped).unwrap(), data);
    assert!(
        unwrap(&ring, "dk2", &kek, &wrapped).is_err(),
        "bound to its id"
    );
    let only_old = Keyring::parse(&Keyring::generate_line("old").unwrap()).unwrap();
    let err = unwrap(&only_old, "dk1", &kek, &wrapped).unwrap_err();
    assert!(matches!(err, CryptoError::MissingKek { .. }));
    assert!(err.to_string().contains("\"new\""), "{err}");
}

#[test]
fn key_lists_are_checked_without_showing_keys() {
    assert!(Keyring::parse("").is_err());
    assert!(Keyring::parse("a:AAAA").is_err(), "too short");
    let line = Keyring::generate_line("a").unwrap();
    assert!(
        Keyring::parse(&format!("{line},{line}")).is_err(),
        "same id twice"
    );
    let bad = Keyring::parse("bad id:xyz").unwrap_err();
    assert!(!bad.contains("xyz"));
    let two = Keyring::parse(&format!("{line}, {}", Keyring::generate_line("b").unwrap())).unwrap();
    assert_eq!(two.ids().collect::<Vec<_>>(), ["a", "b"]);
    assert!(!format!("{two:?}").contains(line.split(':').nth(1).unwrap()));
}

#[test]
fn files_round_trip_at_chunk_boundaries() {
    let k = key();
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let sealed = seal_all(&k.id, raw(&k), &data).unwrap();
        assert!(sealed.starts_with(file::MAGIC));
        for piece in [1000, CHUNK + 16, 7 * CHUNK] {
            let (id, plain) = open_all(&sealed, raw(&k), piece).unwrap();
            assert_eq!(id, k.id);
            assert_eq!(plain, data, "len {len}, read in pieces of {piece}");
        }
    }
}

#[test]
fn empty_files_still_carry_a_tag() {
    let k = key();
    let sealed = seal_all(&k.id, raw(&k), b"").unwrap();
    let Head::Sealed { len, .. } = file::head(&sealed).unwrap() else {
        panic!()
    };
    assert_eq!(sealed.len(), len + 16);
    assert_eq!(open_all(&sealed, raw(&k), 10).unwrap().1, b"");
}

#[test]
fn tampered_truncated_or_wrongly_keyed_files_fail() {
    let k = key();
    let data = vec![42u8; 2 * CHUNK + 5];
    let sealed = seal_all(&k.id, raw(&k), &data).unwrap();
    let mut flipped = sealed.clone();
    flipped[sealed.len() / 2] ^= 1;
    assert!(open_all(&flipped, raw(&k), 4096).is_err());
    // Cut at a chunk boundary: the last remaining chunk was not sealed as the last one.
    let Head::Sealed { len, .. } = file::head(&sealed).unwrap() else {
        panic!()
    };
    let boundary = len + 2 * (CHUNK + 16);
    assert!(open_all(&sealed[..boundary], raw(&k), 4096).is_err());
    assert!(open_all(&sealed[..sealed.len() - 1], raw(&k), 4096).is_err());
    assert!(
        open_all(&sealed[..len], raw(&k), 4096).is_err(),
        "no chunk at all"
    );
    let other = test_key(&k.id);
    assert!(open_all(&sealed, raw(&other), 4096).is_err());
    // The header (with the key id) is authenticated too.
    let mut renamed = sealed.clone();
    renamed[6] ^= 1;
    assert!(open_all(&renamed, raw(&k), 4096).is_err());
}

#[test]
fn legacy_files_are_recognised() {
    assert_eq!(file::head(b"%PDF-1.7").unwrap(), Head::Plain);
    assert_eq!(file::head(&[0xFF, 0xD8, 0xFF]).unwrap(), Head::Plain);
    assert_eq!(file::head(b"AW").unwrap(), Head::NeedMore);
    assert_eq!(file::head(b"").unwrap(), Head::NeedMore);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_file_round_trips(data in proptest::collection::vec(any::<u8>(), 0..(3 * CHUNK)), piece in 1usize..(2 * CHUNK)) {
        let k = key();
        let sealed = seal_all(&k.id, raw(&k), &data).unwrap();
        prop_assert_eq!(open_all(&sealed, raw(&k), piece).unwrap().1, data);
    }

    #[test]
    fn any_text_round_trips(s in "\\PC{0,300}") {
        let k = key();
        let sealed = super::text::seal(&k.id, raw(&k), &s);
        prop_assert_eq!(super::text::open(&sealed, &k.id, raw(&k)).unwrap(), s);
    }
}
