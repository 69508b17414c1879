//! Every fixture as an input/expected pair: `--apply` turns each `input*`
//! file into its `expected*` twin (or leaves it alone when there is none),
//! a second run plans nothing (idempotence), and the `--dry-run` diff of the
//! pristine input applies with both `git apply` and `patch -p1`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// Copy a fixture's inputs (not its expected outputs) to a fresh directory.
fn inputs(dir: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("expected") && name != "args" && path.is_file() {
            fs::copy(&path, tmp.path().join(&name)).unwrap();
        }
    }
    tmp
}

/// What each input should look like after `--apply`.
fn expected(dir: &Path, name: &str) -> Vec<u8> {
    let twin = dir.join(name.replacen("input", "expected", 1));
    if name.starts_with("input") && twin.exists() {
        fs::read(twin).unwrap()
    } else {
        fs::read(dir.join(name)).unwrap()
    }
}

fn dims_fix_in(tmp: &Path, dir: &Path, action: &str) -> std::process::Output {
    dims_fix()
        .arg(action)
        .args(fixture_args(dir))
        .arg("--root")
        .arg(tmp)
        .arg(tmp)
        .output()
        .unwrap()
}

#[test]
fn apply_gives_the_expected_files_and_is_idempotent() {
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let tmp = inputs(&dir);
        let out = dims_fix_in(tmp.path(), &dir, "--apply");
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        for entry in fs::read_dir(tmp.path()).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap();
            assert!(
                fs::read(&path).unwrap() == expected(&dir, file),
                "{name}/{file} differs from its expected output:\n{}",
                String::from_utf8_lossy(&fs::read(&path).unwrap())
            );
        }
        // A second run has nothing left to do.
        let again = dims_fix_in(tmp.path(), &dir, "--dry-run");
        assert_eq!(again.status.code(), Some(0), "{name}");
        assert_eq!(stdout(&again), "", "{name}: second run plans edits");
    }
}

#[test]
fn dry_run_diffs_apply_with_git_and_patch() {
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let tmp = inputs(&dir);
        let out = dims_fix_in(tmp.path(), &dir, "--dry-run");
        let diff = out.stdout.clone();
        if diff.is_empty() {
            continue;
        }
        let patch_file = tempfile::NamedTempFile::new().unwrap();
        fs::write(patch_file.path(), &diff).unwrap();

        let git = Command::new("git")
            .args(["apply", "--whitespace=nowarn"])
            .arg(patch_file.path())
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(git.status.success(), "{name}: git apply: {}", stderr(&git));
        let by_git: Vec<(String, Vec<u8>)> = files_bytes(tmp.path());

        let tmp2 = inputs(&dir);
        let patch = Command::new("patch")
            .args(["-p1", "--quiet", "--binary", "-i"])
            .arg(patch_file.path())
            .current_dir(tmp2.path())
            .output()
            .unwrap();
        assert!(
            patch.status.success(),
            "{name}: patch -p1: {}",
            stdout(&patch)
        );
        assert_eq!(
            files_bytes(tmp2.path()),
            by_git,
            "{name}: git apply and patch agree"
        );
        for (file, bytes) in by_git {
            assert!(
                bytes == expected(&dir, &file),
                "{name}/{file}: the diff gives the expected file"
            );
        }
    }
}

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
    let dir = repo().join("fixtures/strides");
    let out = dims_fix()
        .args(["--format", "json", "--strides", "--root"])
        .arg(&dir)
        .arg(&dir)
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
