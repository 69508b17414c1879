//! Operands and streams that used to hang or lie: a FIFO, `/dev/zero` and
//! `-j 100000` each get a message and an exit within a second; a full
//! stderr leaves the run's exit code as it is (no panic); a full stdout
//! after files were written says so with exit 4; a patch directory that
//! cannot be written stops `--commit` before any commit.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Run dims-fix; its output, and how long it took.
fn timed(dir: &std::path::Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = dims_fix()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Never wait for a hang: kill what is still running after 10 s.
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = started.elapsed();
    (child.wait_with_output().unwrap(), took)
}

fn assert_quick(took: Duration, what: &str) {
    assert!(took < Duration::from_secs(1), "{what} took {took:?}");
}

#[test]
fn a_fifo_operand_or_in_a_tree_is_refused_without_blocking() {
    let dir = tree(&[("good.c", rewrite_function("f").as_bytes())]);
    let ok = Command::new("mkfifo")
        .arg(dir.path().join("pipe.c"))
        .status()
        .unwrap();
    assert!(ok.success());
    for args in [&["pipe.c"][..], &["."][..]] {
        let (out, took) = timed(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_quick(took, &format!("dims-fix {args:?}"));
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("pipe.c: not a regular file (a FIFO), skipped"),
            "{err}"
        );
    }
}

#[test]
fn dev_zero_is_refused_without_reading_it() {
    let dir = tree(&[]);
    let (out, took) = timed(dir.path(), &["/dev/zero"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_quick(took, "dims-fix /dev/zero");
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("not a regular file (a character device), skipped"),
        "{err}"
    );
}

#[test]
fn threads_are_capped() {
    let dir = tree(&[("good.c", rewrite_function("f").as_bytes())]);
    let (out, took) = timed(dir.path(), &["-j", "100000", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_quick(took, "dims-fix -j 100000");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("100000") && err.contains("1..=256"), "{err}");
}

/// Run with stderr (or stdout) on /dev/full.
fn full(dir: &std::path::Path, args: &[&str], stdout_full: bool) -> Output {
    let dev_full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let mut cmd = dims_fix_bare();
    cmd.args(args).current_dir(dir);
    if stdout_full {
        cmd.stdout(dev_full()).stderr(Stdio::piped());
    } else {
        cmd.stderr(dev_full()).stdout(Stdio::piped());
    }
    cmd.output().unwrap()
}

#[test]
fn a_full_stderr_keeps_the_run_s_exit_code() {
    let dir = tree(&[("good.c", rewrite_function("f").as_bytes())]);
    for (args, code) in [
        (&["."][..], 0),
        (&["--check", "."][..], 1),
        (&["missing"][..], 2),
    ] {
        let piped = dims_fix()
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(piped.status.code(), Some(code), "{args:?}");
        let out = full(dir.path(), args, false);
        assert_eq!(out.status.code(), Some(code), "{args:?} with 2>/dev/full");
    }
}

#[test]
fn a_full_stdout_after_writing_files_says_they_were_written() {
    let dir = tree(&[("good.c", rewrite_function("f").as_bytes())]);
    let out = full(dir.path(), &["--apply", "--format", "json", "."], true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("wrote good.c"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("were made before this failure and are kept"),
        "{err}"
    );
    // Nothing changed yet: a plain usage-level failure.
    let dir = tree(&[("good.c", rewrite_function("f").as_bytes())]);
    let out = full(dir.path(), &["--format", "json", "."], true);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unwritable_patch_dir_stops_commit_before_any_commit() {
    let repo = series_repo(2, 1);
    let d = repo.path();
    std::fs::write(d.join("file.txt"), "not a directory\n").unwrap();
    let before = repo_state(d);
    let out = dims_fix()
        .args(["--commit", "--patch-dir", "file.txt/patches", "."])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("file.txt/patches"),
        "{}",
        stderr(&out)
    );
    assert!(repo_state(d) == before, "no commit was made");
}
