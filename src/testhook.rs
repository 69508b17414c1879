//! Test hooks, compiled in only with the `test-hooks` cargo feature (the
//! tests turn it on; a default build has none): pause points, for tests
//! that must act between two steps of a run (delete a file after the walk,
//! edit one before `--apply` writes, signal the process in the middle of a
//! commit series), and a corrupted plan, to prove that verification
//! refuses it. Without the feature every hook is a no-op.
//!
//! A pause point is inert unless `DIMS_FIX_TEST_PAUSE` names it; then the
//! run creates the file named by `DIMS_FIX_TEST_PAUSE_FILE` and waits (at
//! most a minute) until the test removes it.

/// Wait at the pause point `point`, if the test asked for it.
#[cfg(feature = "test-hooks")]
pub fn pause(point: &str) {
    use std::path::Path;
    use std::time::{Duration, Instant};
    if std::env::var("DIMS_FIX_TEST_PAUSE").ok().as_deref() != Some(point) {
        return;
    }
    let Some(flag) = std::env::var_os("DIMS_FIX_TEST_PAUSE_FILE") else {
        return;
    };
    if std::fs::write(&flag, point).is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Path::new(&flag).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Wait at the pause point `point`: a no-op without the `test-hooks` feature.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn pause(_point: &str) {}

/// Panic while analysing a file whose path (relative to the root)
/// contains `DIMS_FIX_TEST_PANIC`, to prove that one file's internal error
/// leaves the others' results intact. A no-op without the feature.
#[cfg(feature = "test-hooks")]
pub fn panic_in(rel: &str) {
    if let Some(which) = std::env::var_os("DIMS_FIX_TEST_PANIC") {
        if !which.is_empty() && rel.contains(which.to_string_lossy().as_ref()) {
            panic!("test hook: DIMS_FIX_TEST_PANIC");
        }
    }
}

/// Panic in a chosen file: a no-op without the `test-hooks` feature.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn panic_in(_rel: &str) {}

/// Whether to plant a syntax error in every planned rewrite
/// (`DIMS_FIX_TEST_CORRUPT_PLAN`), so the verification that must refuse it
/// can be tested end to end. Always false without the `test-hooks` feature.
pub fn corrupt_plan() -> bool {
    cfg!(feature = "test-hooks") && std::env::var_os("DIMS_FIX_TEST_CORRUPT_PLAN").is_some()
}

/// The way a test chooses with `DIMS_FIX_TEST_FACTS` for the facts of the
/// functions to classify (see `scan::tree`): `packed` or `parsed` make a
/// small tree take a large one's ways. Without the feature, nothing.
fn facts_way() -> Option<String> {
    if !cfg!(feature = "test-hooks") {
        return None;
    }
    std::env::var("DIMS_FIX_TEST_FACTS").ok()
}

/// The candidate bytes up to which the first parse keeps facts: `budget`,
/// or none when a test asks for `packed` or `parsed`.
pub fn candidates_budget(budget: usize) -> usize {
    match facts_way().as_deref() {
        Some("packed" | "parsed") => 0,
        _ => budget,
    }
}

/// The bytes of packed facts a tree keeps: `budget`, or none when a test
/// asks for `parsed` (every writer is parsed again).
pub fn packed_budget(budget: usize) -> usize {
    match facts_way().as_deref() {
        Some("parsed") => 0,
        _ => budget,
    }
}
