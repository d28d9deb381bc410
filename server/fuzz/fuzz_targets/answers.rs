//! Form answers as posts send them, against the demo definitions: validation, rendering, the
//! frozen case answers and their read-back.
//! The invariants live in `amtsweg_server::fuzzing`, shared with the property tests.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| amtsweg_server::fuzzing::answers(data));
