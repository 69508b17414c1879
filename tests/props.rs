//! Property tests: the edit layer against a brute-force reference, and the
//! whole pipeline's invariants on generated functions.

use dims_fix::edit::{Edit, Patch};
use dims_fix::verify::invariants::{check_source, rewrites};
use dims_fix::verify::synth::{other_name_from_bytes, source_from_bytes};
use proptest::prelude::*;

/// Text with the bytes that matter to layout: tabs, CRLF, no final newline.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("\t"),
            Just("\r\n"),
            Just("\n"),
            Just("é"),
            Just(" ")
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn edits(len: usize) -> impl Strategy<Value = Vec<Edit>> {
    let one = (0..=len, 0..=len, "[xy\n]{0,3}")
        .prop_map(|(a, b, c)| Edit::replace(a.min(b)..a.max(b), c));
    proptest::collection::vec(one, 0..6)
}

/// Byte ranges on char boundaries only (edits are planned on tokens).
fn on_boundaries(text: &str, edits: &[Edit]) -> bool {
    edits
        .iter()
        .all(|e| text.is_char_boundary(e.range.start) && text.is_char_boundary(e.range.end))
}

fn overlap(a: &Edit, b: &Edit) -> bool {
    let (x, y) = (&a.range, &b.range);
    if x.is_empty() || y.is_empty() {
        let (ins, other) = if x.is_empty() { (x, y) } else { (y, x) };
        return other.start < ins.start && ins.start < other.end;
    }
    x.start < y.end && y.start < x.end
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn patch_applies_like_the_reference_or_reports_an_overlap(
        (text, edits) in text().prop_flat_map(|t| { let n = t.len(); (Just(t), edits(n)) })
    ) {
        prop_assume!(on_boundaries(&text, &edits));
        let clash = edits.iter().enumerate().any(|(i, a)| edits[i + 1..].iter().any(|b| overlap(a, b)));
        match Patch::new(edits.clone()) {
            Err(_) => prop_assert!(clash, "an overlap was reported where there is none"),
            Ok(patch) => {
                prop_assert!(!clash, "overlapping edits were accepted");
                // Reference: apply from the back, so earlier offsets stay valid;
                // at one offset the replacement first, then the insertions
                // (last planned first, so they end up in planned order).
                let mut order: Vec<(usize, &Edit)> = edits.iter().enumerate().collect();
                order.sort_by_key(|(i, e)| (std::cmp::Reverse(e.range.start), e.range.is_empty(), std::cmp::Reverse(*i)));
                let mut want = text.clone();
                for (_, e) in order {
                    want.replace_range(e.range.clone(), &e.content);
                }
                prop_assert_eq!(patch.apply(&text), want);
            }
        }
    }

    #[test]
    fn generated_functions_keep_every_invariant(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        let source = source_from_bytes(&bytes);
        if let Err(e) = check_source(&source) {
            prop_assert!(false, "{e}\n--- source ---\n{source}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Another name of the array used in the window (a container, a struct
    /// field, a cast, a pointer, a second parameter, a global, a call that
    /// may return its input) blocks the rewrite; without that use, the same
    /// function is rewritten (issue 17).
    #[test]
    fn another_name_of_the_array_in_the_window_blocks_the_rewrite(
        bytes in proptest::collection::vec(any::<u8>(), 0..8)
    ) {
        let case = other_name_from_bytes(&bytes);
        let wrong = rewrites(&case.source).map_err(|e| TestCaseError::fail(format!("{e}\n{}", case.source)))?;
        prop_assert!(wrong.is_empty(), "{}: rewritten: {:?}\n--- source ---\n{}", case.what, wrong, case.source);
        if case.control_rewrites {
            prop_assert_eq!(rewrites(&case.control), Ok(vec!["g: a".to_string()]), "{}\n--- control ---\n{}", case.what, case.control);
        }
        for source in [&case.source, &case.control] {
            if let Err(e) = check_source(source) {
                prop_assert!(false, "{e}\n--- source ---\n{source}");
            }
        }
    }
}

#[test]
fn every_fixture_keeps_every_invariant() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for dir in std::fs::read_dir(fixtures).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("input") || name.ends_with(".h") || name == "user.c" {
                let text = std::fs::read_to_string(&path).unwrap();
                check_source(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
}

/// Inputs the fuzzers once broke, kept in `tests/regressions/` under the
/// name of the bug each pins, so they stay fixed: every one keeps the
/// invariants, read as the pipeline fuzz target reads bytes; one with a
/// `.expected.c` twin plans exactly that result.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut seen = 0;
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".expected.c") {
            continue;
        }
        // As the pipeline target reads bytes: lossy UTF-8 with NULs blanked.
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
        let checked = check_source(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected = path.with_file_name(name.replace(".c", ".expected.c"));
        if let Ok(want) = std::fs::read_to_string(&expected) {
            assert_eq!(checked.result.as_deref(), Some(want.as_str()), "{name}");
        }
        seen += 1;
    }
    assert_eq!(seen, 11, "every kept regression is checked");
}
