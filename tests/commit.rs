//! `--commit` and `--patch-dir`: the series, every refusal (message, exit
//! code 2, and HEAD, refs, index and work tree unchanged), a failure midway
//! rolled back, branches, sub-directories, worktrees.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// A throwaway repository holding two fixture sources, committed on `main`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo::empty();
        r.write("src/repeat.c", &fixture_source("repeat-temporary-axis"));
        r.write("src/setters.c", &fixture_source("lock-setters"));
        r.write("README", "not C\n");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-qm", "initial"]);
        r
    }

    fn empty() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        init_repo(r.path());
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    fn dims_fix(&self, args: &[&str]) -> Output {
        dims_fix()
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap()
    }

    /// HEAD, refs, reflogs, index bytes and every work-tree file.
    fn state(&self) -> Vec<(String, Vec<u8>)> {
        repo_state(self.path())
    }

    fn subjects(&self, range: &str) -> Vec<String> {
        self.git(&["log", "--reverse", "--format=%s", range])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Refusal: exit 2, the message, nothing changed.
fn assert_refused(repo: &Repo, args: &[&str], message: &str) {
    let before = repo.state();
    let out = repo.dims_fix(args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(message),
        "expected {message:?} in:\n{}",
        stderr(&out)
    );
    assert!(repo.state() == before, "the repository changed");
}

const SERIES: [&str; 4] = [
    "BUG: avoid data race on the shape of src in tile_along_axis",
    "MAINT: mark in-place shape change in retype_setter for locking",
    "MAINT: mark in-place shape change in reshape_setter for locking",
    "MAINT: mark in-place shape change in grow_in_place for locking",
];

#[test]
fn commits_one_per_finding_and_leaves_a_clean_tree() {
    let repo = Repo::new();
    let dry = repo.dims_fix(&["."]);
    let out = repo.dims_fix(&["--commit", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.subjects("main~4..main"), SERIES);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    for (i, file) in [
        "src/repeat.c",
        "src/setters.c",
        "src/setters.c",
        "src/setters.c",
    ]
    .iter()
    .enumerate()
    {
        let rev = format!("main~{}", 3 - i);
        let files = repo.git(&["show", "--format=", "--name-only", &rev]);
        assert_eq!(files.trim(), *file, "commit {rev} touches only its file");
    }
    // The message follows the template: race explained, sites, trailer.
    let body = repo.git(&["log", "-1", "--format=%B", "main~3"]);
    assert!(body.contains("numpy#28197"), "{body}");
    assert!(
        body.contains("- src/repeat.c:22 (rewrite, write):"),
        "{body}"
    );
    assert!(body.trim_end().ends_with(&format!(
        "Generated-by: dims-fix {}",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(body.lines().all(|l| l.chars().count() <= 72), "{body}");
    // The commits together are exactly the dry run's diff.
    let committed = repo.git(&["diff", "main~4", "main"]);
    let norm = |d: &str| {
        d.lines()
            .filter(|l| !l.starts_with("index "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(norm(&committed), norm(&stdout(&dry)));
    // Author and committer from git config.
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>"])
            .trim(),
        "Ada Tester <ada@example.com>|Ada Tester <ada@example.com>"
    );
    // Nothing left to do.
    let again = repo.dims_fix(&["--commit", "."]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stderr(&again).contains("nothing to commit"));
    assert_eq!(repo.subjects("main~4..main"), SERIES);
}

#[test]
fn group_file_and_all_merge_commits() {
    let repo = Repo::new();
    assert_eq!(
        repo.dims_fix(&["--commit", "--group", "file", "."])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        repo.subjects("main~2..main"),
        [
            "BUG: avoid data race on the shape of src in tile_along_axis",
            "MAINT: mark in-place shape changes for locking in src/setters.c",
        ]
    );
    let repo = Repo::new();
    assert_eq!(
        repo.dims_fix(&["--commit", "--group", "all", "."])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        repo.subjects("main~1..main"),
        ["BUG: avoid data races on array shapes in src/repeat.c, src/setters.c"]
    );
}

#[test]
fn author_and_signoff() {
    let repo = Repo::new();
    let out = repo.dims_fix(&[
        "--commit",
        "--author",
        "Bo Reviewer <bo@example.org>",
        "--signoff",
        ".",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "Bo Reviewer <bo@example.org>"
    );
    let body = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        body.trim_end()
            .ends_with("Signed-off-by: Ada Tester <ada@example.com>"),
        "{body}"
    );
    assert_refused(
        &repo,
        &["--commit", "--author", "nobody", "."],
        "expected \"Name <email>\"",
    );
}

#[test]
fn refuses_outside_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.c"),
        fixture_source("repeat-temporary-axis"),
    )
    .unwrap();
    let before = fs::read(dir.path().join("a.c")).unwrap();
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not inside a git repository"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(dir.path().join("a.c")).unwrap(), before);
}

#[test]
fn refuses_a_bare_repository() {
    let repo = Repo::new();
    let bare = tempfile::tempdir().unwrap();
    let ok = git_command(repo.path())
        .args(["clone", "-q", "--bare"])
        .arg(repo.path())
        .arg(bare.path().join("b.git"))
        .status()
        .unwrap();
    assert!(ok.success());
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(bare.path().join("b.git"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bare repository"), "{}", stderr(&out));
}

#[test]
fn refuses_detached_and_unborn_heads() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "--detach"]);
    assert_refused(&repo, &["--commit", "."], "HEAD is detached");

    let unborn = Repo::empty();
    unborn.write("a.c", &fixture_source("repeat-temporary-axis"));
    assert_refused(&unborn, &["--commit", "."], "HEAD is unborn");
    unborn.git(&["add", "a.c"]);
    assert_refused(
        &unborn,
        &["--commit", "--branch", "x", "."],
        "HEAD is unborn",
    );
}

#[test]
fn detached_head_may_commit_on_a_new_branch() {
    let repo = Repo::new();
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "--detach"]);
    let out = repo.dims_fix(&["--commit", "--branch", "fix/dims", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.git(&["rev-parse", "main"]), base);
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/fix/dims"
    );
    assert_eq!(repo.subjects("main..fix/dims"), SERIES);
}

#[test]
fn refuses_while_an_operation_is_in_progress() {
    for (marker, what) in [
        ("MERGE_HEAD", "a merge is in progress"),
        ("CHERRY_PICK_HEAD", "a cherry-pick is in progress"),
        ("BISECT_LOG", "a bisect is in progress"),
        ("rebase-merge", "a rebase is in progress"),
    ] {
        let repo = Repo::new();
        let head = repo.git(&["rev-parse", "HEAD"]);
        let path = repo.path().join(".git").join(marker);
        if marker == "rebase-merge" {
            fs::create_dir(&path).unwrap();
            fs::write(path.join("head-name"), "refs/heads/main\n").unwrap();
        } else {
            fs::write(&path, &head).unwrap();
        }
        assert_refused(&repo, &["--commit", "."], what);
    }
}

#[test]
fn refuses_dirty_staged_or_untracked_files_it_would_change() {
    let repo = Repo::new();
    repo.write(
        "src/repeat.c",
        &(fixture_source("repeat-temporary-axis") + "/* mine */\n"),
    );
    assert_refused(
        &repo,
        &["--commit", "."],
        "src/repeat.c: has uncommitted changes",
    );
    repo.git(&["add", "src/repeat.c"]);
    assert_refused(
        &repo,
        &["--commit", "."],
        "src/repeat.c: has staged changes",
    );

    let repo = Repo::new();
    repo.write("src/new.c", &fixture_source("rewrite-compound"));
    assert_refused(&repo, &["--commit", "."], "src/new.c: untracked");
}

#[test]
fn refuses_an_existing_branch_unless_forced() {
    let repo = Repo::new();
    repo.git(&["branch", "fix/dims"]);
    assert_refused(
        &repo,
        &["--commit", "--branch", "fix/dims", "."],
        "branch fix/dims already exists",
    );
    let out = repo.dims_fix(&["--commit", "--branch", "fix/dims", "--force-branch", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.subjects("main..fix/dims"), SERIES);
    assert_refused(
        &repo,
        &["--commit", "--branch", "bad..name", "."],
        "not a valid branch name",
    );
}

#[test]
fn refuses_without_an_identity() {
    let repo = Repo::new();
    repo.git(&["config", "--unset", "user.name"]);
    repo.git(&["config", "--unset", "user.email"]);
    let before = repo.state();
    let home = tempfile::tempdir().unwrap();
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(repo.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("EMAIL")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no author identity"),
        "{}",
        stderr(&out)
    );
    assert!(repo.state() == before);
}

#[test]
fn unrelated_dirty_files_and_staged_entries_survive() {
    let repo = Repo::new();
    repo.write("README", "edited, not staged\n");
    repo.write("notes.txt", "untracked\n");
    repo.write("staged.txt", "staged only\n");
    repo.git(&["add", "staged.txt"]);
    let staged_entry = repo.git(&["ls-files", "-s", "staged.txt"]);
    let out = repo.dims_fix(&["--commit", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.subjects("main~4..main"), SERIES);
    assert_eq!(
        fs::read_to_string(repo.path().join("README")).unwrap(),
        "edited, not staged\n"
    );
    assert_eq!(
        fs::read_to_string(repo.path().join("notes.txt")).unwrap(),
        "untracked\n"
    );
    assert_eq!(repo.git(&["ls-files", "-s", "staged.txt"]), staged_entry);
    let status = repo.git(&["status", "--porcelain"]);
    assert_eq!(status, " M README\nA  staged.txt\n?? notes.txt\n");
    // Never committed: the staged file is in none of the commits.
    assert!(!repo
        .git(&["log", "--name-only", "--format=", "main~4..main"])
        .contains("staged.txt"));
}

#[test]
fn a_failure_midway_leaves_the_repository_as_it_was() {
    let repo = Repo::new();
    // A pre-commit hook that accepts the first commit and fails the second.
    let hook = repo.path().join(".git/hooks/pre-commit");
    fs::write(
        &hook,
        "#!/bin/sh\nif [ -e .git/hook-ran ]; then echo 'second commit rejected' >&2; exit 1; fi\ntouch .git/hook-ran\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    repo.write("staged.txt", "staged\n");
    repo.git(&["add", "staged.txt"]);
    let before = repo.state();
    let out = repo.dims_fix(&["--commit", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the pre-commit hook failed"), "{err}");
    assert!(err.contains("second commit rejected"), "{err}");
    assert!(err.contains("left as it was"), "{err}");
    assert!(
        repo.path().join(".git/hook-ran").exists(),
        "the first commit was made"
    );
    assert!(
        repo.state() == before,
        "HEAD, refs, reflogs, index and files restored"
    );
}

#[test]
fn a_commit_msg_hook_may_edit_the_message() {
    let repo = Repo::new();
    let hook = repo.path().join(".git/hooks/commit-msg");
    fs::write(&hook, "#!/bin/sh\necho 'Reviewed-by: Hook' >> \"$1\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(repo.dims_fix(&["--commit", "."]).status.code(), Some(0));
    assert!(repo
        .git(&["log", "-1", "--format=%B"])
        .contains("Reviewed-by: Hook"));
}

#[test]
fn works_from_a_subdirectory_with_relative_paths() {
    let repo = Repo::new();
    let out = dims_fix()
        .args(["--commit", "repeat.c"])
        .current_dir(repo.path().join("src"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.subjects("main~1..main"), [SERIES[0]]);
    assert_eq!(
        repo.git(&["show", "--format=", "--name-only", "main"])
            .trim(),
        "src/repeat.c"
    );
}

#[test]
fn works_in_a_linked_worktree() {
    let repo = Repo::new();
    let wt = tempfile::tempdir().unwrap();
    let wt_path = wt.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        wt_path.to_str().unwrap(),
    ]);
    let main_before = repo.git(&["rev-parse", "main"]);
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(&wt_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.subjects("main..side"), SERIES);
    assert_eq!(repo.git(&["rev-parse", "main"]), main_before);
    let status = git_command(&wt_path)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(status.stdout).unwrap(), "");
}

#[test]
fn files_in_a_submodule_are_left_to_the_submodule() {
    let sub = Repo::new();
    let top = Repo::empty();
    top.write("top.c", &fixture_source("rewrite-compound"));
    top.git(&["add", "top.c"]);
    top.git(&["commit", "-qm", "top"]);
    top.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.path().to_str().unwrap(),
        "vendor",
    ]);
    top.git(&["commit", "-qm", "add submodule"]);
    let out = top.dims_fix(&["--commit", "."]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("vendor/src/repeat.c: inside submodule vendor"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        top.subjects("HEAD~1..HEAD"),
        ["BUG: avoid data race on the shape of arr in doubled_rows"]
    );
    assert_eq!(top.git(&["status", "--porcelain"]), "");
}

#[test]
fn patch_dir_series_applies_with_git_am() {
    let repo = Repo::new();
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let patches = tempfile::tempdir().unwrap();
    // Without committing: the working tree stays as it is.
    let out = repo.dims_fix(&["--patch-dir", patches.path().to_str().unwrap(), "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let mut names: Vec<String> = fs::read_dir(patches.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "0001-BUG-avoid-data-race-on-the-shape-of-src-in-tile_alon.patch",
            "0002-MAINT-mark-in-place-shape-change-in-retype_setter-fo.patch",
            "0003-MAINT-mark-in-place-shape-change-in-reshape_setter-f.patch",
            "0004-MAINT-mark-in-place-shape-change-in-grow_in_place-fo.patch",
        ]
    );
    let files: Vec<PathBuf> = names.iter().map(|n| patches.path().join(n)).collect();
    let mut am = vec!["am", "-q"];
    am.extend(files.iter().map(|f| f.to_str().unwrap()));
    repo.git(&am);
    assert_eq!(repo.subjects(&format!("{base}..HEAD")), SERIES);
    // The same tree as committing directly.
    let direct = Repo::new();
    assert_eq!(direct.dims_fix(&["--commit", "."]).status.code(), Some(0));
    assert_eq!(
        repo.git(&["rev-parse", "HEAD^{tree}"]),
        direct.git(&["rev-parse", "HEAD^{tree}"])
    );
}

#[test]
fn patch_dir_works_without_git() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.c"),
        fixture_source("repeat-temporary-axis"),
    )
    .unwrap();
    let patches = dir.path().join("out");
    let out = dims_fix()
        .args(["--author", "Cy Sender <cy@example.net>", "--patch-dir"])
        .arg(&patches)
        .arg(dir.path().join("a.c"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let patch = fs::read_to_string(
        patches.join("0001-BUG-avoid-data-race-on-the-shape-of-src-in-tile_alon.patch"),
    )
    .unwrap();
    assert!(patch.starts_with("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: Cy Sender <cy@example.net>\nDate: "), "{patch}");
    assert!(patch.contains(
        "\nSubject: [PATCH] BUG: avoid data race on the shape of src in tile_along_axis\n"
    ));
    assert!(patch.contains("+    npy_intp dims[NPY_MAXDIMS];\n"));
}

#[test]
fn branch_leaves_the_original_branch_untouched() {
    let repo = Repo::new();
    let main_before = repo.git(&["rev-parse", "main"]);
    let out = repo.dims_fix(&["--commit", "--branch", "fix/dims", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(repo.git(&["rev-parse", "main"]), main_before);
    assert_eq!(repo.git(&["rev-parse", "fix/dims~4"]), main_before);
    assert_eq!(repo.subjects("main..fix/dims"), SERIES);
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/fix/dims"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn refuses_a_head_lock_and_the_branch_lock() {
    let repo = Repo::new();
    fs::write(repo.path().join(".git/HEAD.lock"), "").unwrap();
    assert_refused(&repo, &["--commit", "."], "HEAD.lock exists");
    fs::remove_file(repo.path().join(".git/HEAD.lock")).unwrap();
    fs::write(repo.path().join(".git/refs/heads/main.lock"), "").unwrap();
    assert_refused(&repo, &["--commit", "."], "refs/heads/main.lock exists");
}

#[test]
fn sha256_and_reftable_repositories_get_an_honest_message() {
    for (flag, said) in [
        ("--object-format=sha256", "uses SHA-256 object names"),
        (
            "--ref-format=reftable",
            "keeps its refs in the reftable format",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", flag]);
        fs::write(
            dir.path().join("a.c"),
            fixture_source("repeat-temporary-axis"),
        )
        .unwrap();
        let before = fs::read(dir.path().join("a.c")).unwrap();
        let out = dims_fix()
            .args(["--commit", "."])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
        assert!(!stderr(&out).contains("not inside a git repository"));
        assert_eq!(fs::read(dir.path().join("a.c")).unwrap(), before);
    }
}

#[test]
fn an_empty_commit_template_is_an_error() {
    let repo = Repo::new();
    let templates = tempfile::tempdir().unwrap();
    fs::write(templates.path().join("commit.txt"), "\n").unwrap();
    let dir = templates.path().to_str().unwrap();
    assert_refused(
        &repo,
        &["--commit", "--templates", dir, "."],
        "renders an empty commit message",
    );
    let patches = tempfile::tempdir().unwrap();
    let out = repo.dims_fix(&[
        "--templates",
        dir,
        "--patch-dir",
        patches.path().to_str().unwrap(),
        ".",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        fs::read_dir(patches.path()).unwrap().count(),
        0,
        "no 0001-.patch"
    );
}

#[test]
fn a_root_outside_the_paths_is_an_error() {
    let repo = Repo::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = repo.dims_fix(&["--root", elsewhere.path().to_str().unwrap(), "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not contain"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "no a//abs/path diff");
}
