//! Uploaded file names: cleaning for display and downloads, and unique, safe paths in the
//! e-file export.
//! The invariants live in `amtsweg_server::fuzzing`, shared with the property tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| amtsweg_server::fuzzing::file_names(data));
