//! C functions assembled from the known building blocks (writes, aliases,
//! restores, fresh arrays, setters, blockers) by the fuzzer's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = dims_fix::verify::synth::source_from_bytes(data);
    if let Err(e) = dims_fix::verify::invariants::check_source(&source) {
        panic!("invariant broken: {e}\n--- source ---\n{source}");
    }
});
