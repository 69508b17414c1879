//! Other git processes at work while `--commit` runs (real `git`, started
//! while dims-fix waits at a pause point): a commit, an `add`, a
//! `pack-refs`, a second dims-fix. Nothing of theirs is lost (branches,
//! tags, reflog entries, staged paths), and dims-fix either completes on
//! top of the new state or stops without touching it and says so.

mod common;

use std::path::Path;
use std::process::{Child, Output};

use common::*;

const FLAG: &str = ".git/test-paused";

fn start(dir: &Path, point: &str) -> Child {
    spawn_paused(dir, point, &dir.join(FLAG), &["--commit", "."])
}

fn resume(dir: &Path, child: Child) -> Output {
    std::fs::remove_file(dir.join(FLAG)).unwrap();
    child.wait_with_output().unwrap()
}

/// Run git and return its output whatever its exit status.
fn git_try(dir: &Path, args: &[&str]) -> Output {
    git_command(dir).args(args).output().unwrap()
}

fn subjects(dir: &Path) -> Vec<String> {
    git(dir, &["log", "--format=%s"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn reflog(dir: &Path, r: &str) -> String {
    git(dir, &["reflog", "show", "--format=%H %gs", r])
}

const OURS: [&str; 2] = [
    "BUG: avoid data race on the shape of a in f1_0",
    "BUG: avoid data race on the shape of a in f0_0",
];

#[test]
fn a_commit_made_before_the_series_starts_is_built_upon() {
    let repo = series_repo(2, 1);
    let dir = repo.path();
    let child = start(dir, "before-commit");
    std::fs::write(dir.join("theirs.txt"), "theirs\n").unwrap();
    git(dir, &["add", "theirs.txt"]);
    git(dir, &["commit", "-qm", "theirs"]);
    let out = resume(dir, child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(subjects(dir), [OURS[0], OURS[1], "theirs", "initial"]);
    assert!(reflog(dir, "main").contains("commit: theirs"));
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
}

#[test]
fn an_add_made_before_the_series_starts_stays_staged() {
    let repo = series_repo(2, 1);
    let dir = repo.path();
    let child = start(dir, "before-commit");
    std::fs::write(dir.join("new.txt"), "staged\n").unwrap();
    git(dir, &["add", "new.txt"]);
    let out = resume(dir, child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(git(dir, &["status", "--porcelain"]), "A  new.txt\n");
    let committed = git(dir, &["log", "--name-only", "--format=", "HEAD~2..HEAD"]);
    assert!(!committed.contains("new.txt"), "{committed}");
}

#[test]
fn a_commit_and_an_add_during_the_series_wait_for_git_s_lock() {
    let repo = series_repo(2, 1);
    let dir = repo.path();
    std::fs::write(dir.join("staged.txt"), "staged before\n").unwrap();
    git(dir, &["add", "staged.txt"]);
    let child = start(dir, "commit-2");
    // git's own lock keeps them out while dims-fix holds the index.
    std::fs::write(dir.join("later.txt"), "later\n").unwrap();
    for args in [&["add", "later.txt"][..], &["commit", "-qm", "theirs"][..]] {
        let o = git_try(dir, args);
        assert!(!o.status.success(), "git {args:?} went through the lock");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("index.lock"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let out = resume(dir, child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(subjects(dir), [OURS[0], OURS[1], "initial"]);
    // Nothing of theirs was lost: the staged path is staged, and both
    // commands go through now.
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        "A  staged.txt\n?? later.txt\n"
    );
    git(dir, &["add", "later.txt"]);
    git(dir, &["commit", "-qm", "theirs"]);
    assert_eq!(subjects(dir)[0], "theirs");
}

#[test]
fn a_branch_moved_around_the_lock_stops_the_series_and_is_kept() {
    let repo = series_repo(2, 1);
    let dir = repo.path();
    let child = start(dir, "commit-2");
    // Plumbing needs no index lock: their commit lands on the branch.
    let ours1 = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    let theirs = git(
        dir,
        &["commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "theirs"],
    );
    let theirs = theirs.trim();
    git(
        dir,
        &[
            "update-ref",
            "-m",
            "theirs",
            "refs/heads/main",
            theirs,
            &ours1,
        ],
    );
    let out = resume(dir, child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("refs/heads/main was moved during the run"),
        "{err}"
    );
    assert!(err.contains("run dims-fix again to finish"), "{err}");
    // Their commit stays where they put it, on top of dims-fix's first.
    assert_eq!(git(dir, &["rev-parse", "HEAD"]).trim(), theirs);
    assert_eq!(subjects(dir), ["theirs", OURS[1], "initial"]);
    assert!(reflog(dir, "main").contains(&format!("{theirs} theirs")));
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
    assert_eq!(leftovers(dir), Vec::<String>::new());
    // Running again finishes the series on top of theirs.
    let again = dims_fix()
        .args(["--commit", "."])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(subjects(dir), [OURS[0], "theirs", OURS[1], "initial"]);
}

/// A repository with a branch and a loose tag besides main.
fn with_branch_and_tag() -> tempfile::TempDir {
    let repo = series_repo(3, 1);
    git(repo.path(), &["branch", "feature"]);
    git(repo.path(), &["tag", "-a", "-m", "v1", "v1"]);
    repo
}

#[test]
fn pack_refs_during_the_series_loses_nothing() {
    let repo = with_branch_and_tag();
    let dir = repo.path();
    let refs_before = git(dir, &["for-each-ref", "refs/tags", "refs/heads/feature"]);
    let child = start(dir, "commit-2");
    git(dir, &["pack-refs", "--all", "--prune"]);
    let out = resume(dir, child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        git(dir, &["for-each-ref", "refs/tags", "refs/heads/feature"]),
        refs_before
    );
    assert_eq!(subjects(dir).len(), 4);
    assert_eq!(
        reflog(dir, "main").lines().count(),
        4,
        "{}",
        reflog(dir, "main")
    );
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
}

#[test]
fn pack_refs_then_a_failing_hook_rolls_back_without_losing_refs() {
    let repo = with_branch_and_tag();
    let dir = repo.path();
    let hook = dir.join(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        "#!/bin/sh\nn=$(cat .git/hook-count 2>/dev/null || echo 0)\n\
         echo $((n+1)) > .git/hook-count\n[ \"$n\" -lt 2 ]\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = repo_state(dir);
    let child = start(dir, "commit-2");
    git(dir, &["pack-refs", "--all", "--prune"]);
    let out = resume(dir, child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the pre-commit hook failed"), "{err}");
    assert!(err.contains("left as it was"), "{err}");
    // Refs (now packed), reflogs, index and files as they were.
    assert!(repo_state(dir) == before, "the repository changed");
    assert_eq!(leftovers(dir), Vec::<String>::new());
}

#[test]
fn a_second_run_during_a_run_is_refused_and_changes_nothing() {
    let repo = series_repo(2, 1);
    let dir = repo.path();
    let child = start(dir, "commit-2");
    let during = repo_state(dir);
    let second = dims_fix()
        .args(["--commit", "."])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!(
            "another dims-fix (process {}) is working",
            child.id()
        )),
        "{}",
        stderr(&second)
    );
    assert!(
        repo_state(dir) == during,
        "the second run changed something"
    );
    let out = resume(dir, child);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(subjects(dir), [OURS[0], OURS[1], "initial"]);
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
}
