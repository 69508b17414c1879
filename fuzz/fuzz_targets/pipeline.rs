//! Arbitrary bytes through the whole pipeline: decode, analyse, plan,
//! apply, verify, second pass. Any broken invariant is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The tool refuses undecodable files; that must never panic.
    let _ = dims_fix::source::decode(std::path::Path::new("input.c"), data.to_vec());
    let text = String::from_utf8_lossy(data);
    if let Err(e) = dims_fix::invariants::check_source(&text) {
        panic!("invariant broken: {e}\n--- input ---\n{text}");
    }
});
