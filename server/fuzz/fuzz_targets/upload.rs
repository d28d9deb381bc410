//! Upload content checks (evidence, message and API attachments): type by content, PDF
//! script markers, limits; the verdict must not depend on how the bytes arrive in chunks.
//! The invariants live in `amtsweg_server::fuzzing`, shared with the property tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| amtsweg_server::fuzzing::upload(data));
