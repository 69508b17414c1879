//! A function whose array is also reachable by another name (a container,
//! a struct field, a cast, a pointer, a second parameter, a global, a call
//! that may return its input), chosen by the fuzzer's bytes: when the window
//! between the write and the restore uses that name, nothing is rewritten.
#![no_main]

use dims_fix::verify::invariants::{check_source, rewrites};
use dims_fix::verify::synth::other_name_from_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let case = other_name_from_bytes(data);
    let wrong = rewrites(&case.source).unwrap_or_else(|e| panic!("{e}\n--- source ---\n{}", case.source));
    if !wrong.is_empty() {
        panic!(
            "rewritten although the window reaches the array as {}: {wrong:?}\n--- source ---\n{}",
            case.what, case.source
        );
    }
    if let Err(e) = check_source(&case.source) {
        panic!("invariant broken: {e}\n--- source ---\n{}", case.source);
    }
});
