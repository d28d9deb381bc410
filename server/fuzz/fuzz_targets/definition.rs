//! Form definitions (TOML uploaded by administrators): parse, export round trip, validation
//! and rendering of every page, empty and filled in.
//! The invariants live in `amtsweg_server::fuzzing`, shared with the property tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| amtsweg_server::fuzzing::definition(data));
