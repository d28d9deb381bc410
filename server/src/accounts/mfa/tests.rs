use super::*;
use proptest::prelude::*;

#[test]
fn recovery_codes_are_well_formed_and_distinct() {
    let codes: Vec<String> = (0..200).map(|_| new_recovery_code()).collect();
    for c in &codes {
        assert_eq!(c.len(), 19, "{c}");
        assert_eq!(c.matches('-').count(), 3, "{c}");
        assert_eq!(
            normalize_recovery_code(c).as_deref(),
            Some(c.replace('-', "").as_str())
        );
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len());
}

#[test]
fn recovery_codes_are_read_as_typed() {
    assert_eq!(
        normalize_recovery_code("0123 4567 89ab cdef").as_deref(),
        Some("0123456789ABCDEF")
    );
    assert_eq!(
        normalize_recovery_code("oI2l-4567-89AB-CDEF").as_deref(),
        Some("0121456789ABCDEF"),
        "O, I and L read as digits"
    );
    assert_eq!(normalize_recovery_code("123456"), None, "a TOTP code");
    assert_eq!(
        normalize_recovery_code("0123-4567-89AB-CDEU"),
        None,
        "U is not in the alphabet"
    );
    assert_eq!(
        normalize_recovery_code("0123-4567-89AB-CDE"),
        None,
        "too short"
    );
    assert_ne!(
        recovery_hash("a", "0123456789ABCDEF"),
        recovery_hash("b", "0123456789ABCDEF")
    );
}

proptest! {
    #[test]
    fn normalizing_is_idempotent(s in "[0-9A-Za-z -]{0,24}") {
        if let Some(n) = normalize_recovery_code(&s) {
            prop_assert_eq!(normalize_recovery_code(&n), Some(n.clone()));
            prop_assert_eq!(n.len(), RECOVERY_LEN);
        }
    }
}
