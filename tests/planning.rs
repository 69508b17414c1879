//! Planning across fixtures: a plan that fails its check is refused, `--only`
//! picks findings, JSON carries each finding's diff, templates override.

mod common;

use std::fs;

use common::*;

#[test]
fn a_plan_that_fails_its_check_is_refused_and_nothing_is_written() {
    require_test_hooks();
    let dir = repo().join("fixtures/repeat-temporary-axis");
    let tmp = inputs(&dir);
    let before = files_bytes(tmp.path());
    // The hook plants a syntax error in every planned rewrite.
    let out = dims_fix()
        .env("DIMS_FIX_TEST_CORRUPT_PLAN", "1")
        .args(["--apply", "--root"])
        .arg(tmp.path())
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("dims-fix: input.c: internal error: the planned change failed its check (the result has 1 parse error where the original has 0); file left untouched"),
        "{err}"
    );
    assert!(!err.contains("wrote"), "{err}");
    assert_eq!(files_bytes(tmp.path()), before, "nothing written");
    // And a dry run shows no diff for it.
    let dry = dims_fix()
        .env("DIMS_FIX_TEST_CORRUPT_PLAN", "1")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(3));
    assert_eq!(stdout(&dry), "");
}

/// A rewritten function whose every mention is then a read (the copy's
/// source, an element) is one the write filter lets go; the check still
/// parses it, and refuses the planted syntax error.
#[test]
fn the_check_parses_a_rewritten_function_the_filter_lets_go() {
    require_test_hooks();
    let text = format!(
        "#include \"numpy/arrayobject.h\"\n\n{}",
        rewrite_function("f")
    );
    let tmp = tree(&[("input.c", text.as_bytes())]);
    let out = dims_fix()
        .env("DIMS_FIX_TEST_CORRUPT_PLAN", "1")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("the planned change failed its check (the result has 1 parse error"),
        "{}",
        stderr(&out)
    );
    // Without the planted error, the result is read as reads only.
    let out = dims_fix().arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("+    memcpy(dims, PyArray_DIMS(a)"));
}

#[test]
fn only_restricts_edits_to_chosen_findings() {
    let dir = repo().join("fixtures/manual-todo");
    let tmp = inputs(&dir);
    let by_function = dims_fix()
        .args(["--todo-manual", "--only", "sized_in_window"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let diff = stdout(&by_function);
    assert!(diff.contains("TODO(dims-fix): sized_in_window"), "{diff}");
    assert!(
        !diff.contains("TODO(dims-fix): forget_to_restore"),
        "{diff}"
    );
    // The report still lists every finding.
    assert!(stderr(&by_function).contains("2 findings"));

    let by_line = dims_fix()
        .args(["--todo-manual", "--only", "input.c:8"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let diff = stdout(&by_line);
    assert!(diff.contains("TODO(dims-fix): forget_to_restore"), "{diff}");
    assert!(!diff.contains("sized_in_window writes"), "{diff}");
}

#[test]
fn json_carries_each_findings_diff() {
    // The input only: the fixture's expected.c is tracked, and git never
    // ignores a tracked file, so a walk of the directory would read it too.
    let dir = repo().join("fixtures/strides");
    let out = dims_fix()
        .args(["--format", "json", "--strides", "--root"])
        .arg(&dir)
        .arg(dir.join("input.c"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let rewrite = &findings[0];
    assert_eq!(rewrite["class"], "rewrite");
    let diff = rewrite["diff"].as_str().unwrap();
    assert!(diff.contains("+    strides[0] = old * step;"), "{diff}");
    assert!(!diff.contains("TODO"), "only this finding's edits: {diff}");
    let lock = &findings[1];
    assert!(lock["diff"]
        .as_str()
        .unwrap()
        .contains("TODO(dims-fix): squeeze_in_place"));
}

#[test]
fn templates_can_be_overridden() {
    let dir = repo().join("fixtures/lock-setters");
    let templates = tempfile::tempdir().unwrap();
    fs::write(
        templates.path().join("lock-todo.txt"),
        "take the array lock in {{ function }} ({{ arrays | join(\",\") }})\n",
    )
    .unwrap();
    let out = dims_fix()
        .arg("--templates")
        .arg(templates.path())
        .arg(&dir)
        .output()
        .unwrap();
    assert!(stdout(&out).contains("TODO(dims-fix): take the array lock in retype_setter (self)"));

    fs::write(
        templates.path().join("lock-todo.txt"),
        "{{ no_such_variable }}",
    )
    .unwrap();
    let bad = dims_fix()
        .arg("--templates")
        .arg(templates.path())
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("template lock-todo.txt"),
        "{}",
        stderr(&bad)
    );
}
