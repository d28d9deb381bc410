//! The postal code table import (CSV): rows within their formats, a bounded problem list.
//! The invariants live in `amtsweg_server::fuzzing`, shared with the property tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| amtsweg_server::fuzzing::postal_csv(data));
