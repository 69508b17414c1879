//! Kills at every step boundary of a 20-commit `--commit` series.
//!
//! A step writes journal, work tree, (hooks,) commit object, index, branch.
//! SIGKILL at any boundary must leave `git status` empty or holding only
//! dims-fix's own edit of the next step — never a staged revert of a
//! committed fix — and the next run must settle it, remove every temporary
//! file and finish the series. SIGHUP (a closed terminal) at any boundary
//! must put the repository back byte for byte.

mod common;

use std::path::Path;
use std::process::Child;

use common::*;

/// The boundaries of step `n`, in the order a step passes them.
fn boundaries(n: usize) -> [String; 5] {
    [
        format!("commit-{n}"),
        format!("step-{n}-worktree"),
        format!("step-{n}-commit"),
        format!("step-{n}-index"),
        format!("step-{n}-ref"),
    ]
}

fn paused(dir: &Path, point: &str) -> Child {
    let flag = dir.join(".git/test-paused");
    spawn_paused(dir, point, &flag, &["--commit", "."])
}

/// After a kill: nothing staged or modified but dims-fix's own edit of the
/// next step (it adds a local `dims` copy, and removes no earlier fix).
fn assert_consistent(dir: &Path, at: &str) {
    let status = git(dir, &["status", "--porcelain", "--untracked-files=no"]);
    let lines: Vec<&str> = status.lines().collect();
    assert!(
        lines.len() <= 1,
        "{at}: more than one file changed:\n{status}"
    );
    if let Some(line) = lines.first() {
        assert!(
            line.starts_with(" M ") || line.starts_with("M  "),
            "{at}: not a plain edit (a staged revert shows as MM): {line}"
        );
    }
    for args in [&["diff", "--cached"][..], &["diff"][..]] {
        let diff = git(dir, args);
        assert!(
            !diff.contains("\n-    npy_intp dims[NPY_MAXDIMS];"),
            "{at}: `git {args:?}` reverts a committed fix:\n{diff}"
        );
        if !diff.is_empty() {
            assert!(
                diff.contains("\n+    npy_intp dims[NPY_MAXDIMS];"),
                "{at}: `git {args:?}` is not dims-fix's edit:\n{diff}"
            );
        }
    }
    // HEAD's files never lack a fix that HEAD's history made.
    let in_head: usize = git(dir, &["ls-tree", "--name-only", "HEAD", "src/"])
        .lines()
        .map(|f| {
            git(dir, &["show", &format!("HEAD:{f}")])
                .matches("npy_intp dims[NPY_MAXDIMS];")
                .count()
        })
        .sum();
    assert_eq!(in_head, commit_count(dir) - 1, "{at}: one fix per commit");
}

/// Only the killed run's own files may be left: earlier runs' were removed
/// by the run after them.
fn assert_only_own_leftovers(dir: &Path, pid: u32, at: &str) {
    let tag = format!("{pid}.");
    for name in leftovers(dir) {
        let base = name.rsplit('/').next().unwrap();
        let own = base.contains(&tag)
            || base == "index.lock"
                && std::fs::read_to_string(dir.join(&name))
                    .unwrap()
                    .contains(&tag)
            || base == "dims-fix-journal";
        assert!(
            own,
            "{at}: {name} is left from an earlier run (killed: {pid})"
        );
    }
}

/// The series is complete and nothing of any run is left.
fn assert_finished(dir: &Path) {
    assert_eq!(commit_count(dir), 21);
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
    assert_eq!(leftovers(dir), Vec::<String>::new());
    let fsck = git_command(dir)
        .args(["fsck", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    let files = git(dir, &["log", "--format=", "--name-only", "HEAD~20..HEAD"]);
    assert_eq!(files.lines().count(), 20, "one file per commit:\n{files}");
}

#[test]
fn sigkill_at_every_step_boundary_then_the_next_run_finishes() {
    let repo = series_repo(10, 2);
    let dir = repo.path();
    let mut kills = 0;
    // Each run is killed at a boundary of its first step; a kill after the
    // branch moved leaves that step done, so the series advances one step
    // per five kills and every boundary of every one of the 20 steps is hit.
    while commit_count(dir) < 21 {
        for point in boundaries(1) {
            let before = commit_count(dir);
            let mut child = paused(dir, &point);
            let pid = child.id();
            child.kill().unwrap();
            child.wait().unwrap();
            std::fs::remove_file(dir.join(".git/test-paused")).unwrap();
            kills += 1;
            let at = format!("SIGKILL at {point} of step {before}");
            let expected = before + usize::from(point.ends_with("-ref"));
            assert_eq!(commit_count(dir), expected, "{at}");
            assert_consistent(dir, &at);
            assert_only_own_leftovers(dir, pid, &at);
        }
    }
    assert_eq!(kills, 100);
    let last = dims_fix()
        .args(["--commit", "."])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    assert_finished(dir);
}

#[test]
fn sigkill_in_the_middle_of_a_run_then_the_next_run_finishes() {
    // Killed at step 10 with nine commits of the same run behind it.
    for point in boundaries(10) {
        let repo = series_repo(10, 2);
        let dir = repo.path();
        let mut child = paused(dir, &point);
        child.kill().unwrap();
        child.wait().unwrap();
        std::fs::remove_file(dir.join(".git/test-paused")).unwrap();
        assert_consistent(dir, &point);
        let again = dims_fix()
            .args(["--commit", "."])
            .current_dir(dir)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(0), "{point}: {}", stderr(&again));
        assert_finished(dir);
    }
}

#[test]
fn sighup_at_every_step_boundary_puts_everything_back() {
    let repo = series_repo(10, 2);
    let dir = repo.path();
    let before = repo_state(dir);
    let flag = dir.join(".git/test-paused");
    for n in 1..=20 {
        for point in boundaries(n) {
            let child = paused(dir, &point);
            signal(child.id(), "HUP");
            std::fs::remove_file(&flag).unwrap();
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{point}: {err}");
            assert!(
                err.contains("interrupted; the repository was left as it was"),
                "{point}: {err}"
            );
            assert!(repo_state(dir) == before, "{point}: the repository changed");
            assert_eq!(leftovers(dir), Vec::<String>::new(), "{point}");
        }
    }
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_finished(dir);
}
