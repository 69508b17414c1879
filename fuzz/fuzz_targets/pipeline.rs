//! Arbitrary bytes through the whole pipeline: decode, analyse, plan,
//! apply, verify, second pass. Any broken invariant is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The tool refuses undecodable files (that must never panic); what it
    // accepts is UTF-8 without NUL bytes, so mutated bytes are made into
    // such a text to reach the analysis too.
    let text = match dims_fix::source::decode(std::path::Path::new("input.c"), data.to_vec()) {
        Ok(text) => text,
        Err(_) => String::from_utf8_lossy(data).replace('\0', " "),
    };
    if let Err(e) = dims_fix::verify::invariants::check_source(&text) {
        panic!("invariant broken: {e}\n--- input ---\n{text}");
    }
});
