//! Feeds arbitrary bytes to the camt.053 parser: whatever the input, it must return a result,
//! never panic, hang or exhaust memory, and what it accepts must be a plausible statement.

#![no_main]

use amtsweg_server::payments::camt::{parse, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Tight limits as well, so that short inputs reach the limit checks too.
    let tight = Limits {
        max_depth: 8,
        max_entries: 4,
        max_text_len: 64,
    };
    for limits in [Limits::default(), tight] {
        if let Ok(statements) = parse(data, &limits) {
            assert!(statements.len() <= limits.max_entries);
            for entry in statements.iter().flat_map(|s| &s.entries) {
                assert!(entry.amount.0 >= 0);
                assert!(entry.currency.len() == 3);
                for date in entry.booking_date.iter().chain(&entry.value_date) {
                    assert_eq!(date.len(), 10);
                }
                for transaction in &entry.transactions {
                    assert!(transaction.amount.is_none_or(|a| a.0 >= 0));
                    assert!(transaction.unstructured.iter().all(|u| !u.is_empty()));
                    assert_ne!(transaction.end_to_end_id.as_deref(), Some("NOTPROVIDED"));
                }
            }
        }
    }
});
