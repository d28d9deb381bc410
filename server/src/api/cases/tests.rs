use super::*;
use proptest::prelude::*;

#[test]
fn cursors_round_trip() {
    let c = encode_cursor(1_700_000_000_000, "4f1c-aa");
    assert_eq!(
        decode_cursor(&c).unwrap(),
        (1_700_000_000_000, "4f1c-aa".into())
    );
    assert!(decode_cursor("nonsense!").is_err());
    assert!(decode_cursor(&encode_cursor(1, "x'; DROP")).is_err());
}

proptest! {
    #[test]
    fn any_cursor_text_is_refused_or_parsed(s in ".{0,120}") {
        let _ = decode_cursor(&s);
    }
}
