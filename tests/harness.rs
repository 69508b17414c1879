//! The tests never write into this project's own checkout: every run of
//! dims-fix that writes (`--apply`, `--commit`, `--patch-dir`) works on a
//! copy in a temporary directory of its own. `tests/common` refuses a run
//! aimed inside the checkout; these tests prove that it does, that the
//! tests start dims-fix and git only through it, and that temporary
//! directories are not inside the checkout either.

mod common;

use std::ffi::OsString;
use std::path::Path;

use common::*;

fn words(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn aimed_inside(cwd: Option<&Path>, args: &[&str]) -> bool {
    writes_inside_checkout(cwd, &words(args)).is_some()
}

#[test]
fn writing_runs_aimed_at_the_checkout_are_caught() {
    let checkout = repo();
    let fixtures = checkout.join("fixtures");
    let fixture = fixtures.join("repeat-temporary-axis");
    let fixture = fixture.to_str().unwrap();
    // The tests run in the checkout: a relative path or `.` lands in it.
    assert!(aimed_inside(None, &["--commit", "fixtures"]));
    assert!(aimed_inside(None, &["--apply", "."]));
    assert!(aimed_inside(None, &["--apply"]));
    assert!(aimed_inside(None, &["--commit", fixture]));
    assert!(aimed_inside(
        Some(&fixtures),
        &["--color", "never", "--commit"]
    ));
    assert!(aimed_inside(
        Some(&checkout),
        &["--apply", "--force", "src"]
    ));
    // A directory that does not exist yet (a temporary one made there).
    let made_there = checkout.join("target/tmp-made-inside");
    assert!(aimed_inside(
        None,
        &["--commit", made_there.to_str().unwrap()]
    ));
    // A patch directory, even in a dry run.
    assert!(aimed_inside(None, &["--patch-dir", "patches", "/tmp"]));

    // A link from a temporary directory into the checkout is followed.
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&fixtures, tmp.path().join("link")).unwrap();
    assert!(aimed_inside(Some(tmp.path()), &["--apply", "link"]));

    // What the tests do: temporary copies, and read-only runs anywhere.
    assert!(!aimed_inside(Some(tmp.path()), &["--commit", "."]));
    assert!(!aimed_inside(
        None,
        &["--apply", tmp.path().to_str().unwrap()]
    ));
    assert!(!aimed_inside(None, &["fixtures"]));
    assert!(!aimed_inside(Some(&checkout), &["--format", "json", "."]));
    // A usage error writes nothing.
    assert!(!aimed_inside(None, &["--apply", "--commit", "."]));
}

#[test]
fn a_writing_run_aimed_at_the_checkout_is_not_started() {
    // Harmless if the guard failed: the path does not exist, so dims-fix
    // would only say so.
    let missing = repo().join("tests/no-such-directory");
    let started = std::panic::catch_unwind(|| {
        dims_fix().arg("--apply").arg(&missing).output().unwrap();
    });
    let message = started.expect_err("the run was started");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("inside the project's checkout"),
        "{message}"
    );
}

#[test]
fn tests_start_dims_fix_and_git_only_through_common() {
    let dir = repo().join("tests");
    // Spelled in pieces, so this file does not match itself.
    let needles = [
        concat!("cargo", "_bin("),
        concat!("Command::new(", "\"git\")"),
    ];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if needles.iter().any(|n| code.contains(n)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "start dims-fix with common::dims_fix() and git with common::git_command():\n{}",
        found.join("\n")
    );
}

#[test]
fn temporary_directories_are_outside_the_checkout() {
    let checkout = repo().canonicalize().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path().canonicalize().unwrap();
    assert!(
        !tmp.starts_with(&checkout),
        "the temporary directory {} is inside the checkout {}: a test's repository there \
         would be this project's; set TMPDIR elsewhere",
        tmp.display(),
        checkout.display()
    );
}
