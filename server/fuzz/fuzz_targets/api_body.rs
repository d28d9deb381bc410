//! API request bodies, cursors and idempotency keys: problem details or a request within
//! every limit.
//! The invariants live in `amtsweg_server::fuzzing`, shared with the property tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| amtsweg_server::fuzzing::api_body(data));
