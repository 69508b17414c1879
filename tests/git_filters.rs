//! git's semantics for content, with real git: blobs go through the clean
//! conversion of their path (autocrlf, `eol=crlf`, `ident`, a clean/smudge
//! filter driver), so each commit's diff is exactly the tool's edit and
//! `git status` is clean afterwards; files that hide their state from git
//! (assume-unchanged, skip-worktree) or whose filter is not configured are
//! refused; commit.gpgSign is honoured; hooks see the new content;
//! identities with control characters are refused.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::*;

const FILE: &str = "src/m.c";

/// A repository configured by `setup` (run after `git init`), holding one
/// C file with one rewrite finding, written as `text` and committed.
fn repo_with(setup: &[&[&str]], attributes: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    init_repo(d);
    for args in setup {
        git(d, args);
    }
    if !attributes.is_empty() {
        fs::write(d.join(".gitattributes"), attributes).unwrap();
    }
    fs::create_dir(d.join("src")).unwrap();
    fs::write(d.join(FILE), text).unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "initial"]);
    // The work tree as a checkout makes it (smudged, line endings converted).
    fs::remove_file(d.join(FILE)).unwrap();
    git(d, &["checkout", "--", FILE]);
    assert_eq!(git(d, &["status", "--porcelain"]), "");
    dir
}

fn commit(dir: &Path) -> Output {
    dims_fix()
        .args(["--commit", "."])
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A diff without its `index` lines (blob ids differ by construction).
fn norm(diff: &str) -> String {
    diff.lines()
        .filter(|l| !l.starts_with("index "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `--commit` succeeds; the commit's diff is the dry run's diff of the
/// work tree passed through `to_repo` (the clean conversion); the
/// committed blob holds `expected`; `git status` is clean.
fn assert_commits_only_the_edit(dir: &Path, to_repo: impl Fn(&str) -> String, expected: &str) {
    let dry = dims_fix().arg(".").current_dir(dir).output().unwrap();
    let out = commit(dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let committed = git(dir, &["show", "--format=", "HEAD"]);
    assert_eq!(norm(&committed), norm(&to_repo(&stdout(&dry))));
    let blob = git(dir, &["show", &format!("HEAD:{FILE}")]);
    assert!(blob.contains(expected), "{blob}");
    assert!(blob.contains("npy_intp dims[NPY_MAXDIMS];"), "{blob}");
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
}

#[test]
fn autocrlf_commits_lf_blobs() {
    let text = rewrite_function("f");
    let repo = repo_with(&[&["config", "core.autocrlf", "true"]], "", &text);
    let work = fs::read_to_string(repo.path().join(FILE)).unwrap();
    assert!(work.contains("\r\n"), "checked out with CRLF");
    assert_commits_only_the_edit(repo.path(), |d| d.replace('\r', ""), "PyArray_Zeros");
    let blob = git(repo.path(), &["show", &format!("HEAD:{FILE}")]);
    assert!(!blob.contains('\r'), "no CRLF in history");
}

#[test]
fn eol_crlf_attribute_commits_lf_blobs() {
    let text = rewrite_function("f");
    let repo = repo_with(&[], "*.c text eol=crlf\n", &text);
    assert!(fs::read_to_string(repo.path().join(FILE))
        .unwrap()
        .contains("\r\n"));
    assert_commits_only_the_edit(repo.path(), |d| d.replace('\r', ""), "PyArray_Zeros");
}

#[test]
fn ident_is_committed_unexpanded() {
    let text = format!("/* $Id$ */\n{}", rewrite_function("f"));
    let repo = repo_with(&[], "*.c ident\n", &text);
    let work = fs::read_to_string(repo.path().join(FILE)).unwrap();
    assert!(work.contains("$Id: "), "expanded in the work tree: {work}");
    let collapse = |d: &str| {
        d.lines()
            .map(|l| match (l.find("$Id: "), l.rfind(" $")) {
                (Some(a), Some(b)) if b > a => format!("{}$Id${}", &l[..a], &l[b + 2..]),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_commits_only_the_edit(repo.path(), collapse, "/* $Id$ */");
}

#[test]
fn a_clean_smudge_filter_runs() {
    let text = format!("/* key: @SECRET@ */\n{}", rewrite_function("f"));
    let repo = repo_with(
        &[
            &[
                "config",
                "filter.secret.clean",
                "sed s/SECRET-VALUE/@SECRET@/",
            ],
            &[
                "config",
                "filter.secret.smudge",
                "sed s/@SECRET@/SECRET-VALUE/",
            ],
        ],
        "*.c filter=secret\n",
        &text,
    );
    let work = fs::read_to_string(repo.path().join(FILE)).unwrap();
    assert!(work.contains("SECRET-VALUE"), "smudged: {work}");
    assert_commits_only_the_edit(
        repo.path(),
        |d| d.replace("SECRET-VALUE", "@SECRET@"),
        "/* key: @SECRET@ */",
    );
}

fn assert_refused(dir: &Path, message: &str) {
    let before = repo_state(dir);
    let out = commit(dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
    assert!(repo_state(dir) == before, "the repository changed");
}

#[test]
fn files_hiding_their_state_from_git_are_refused() {
    for (flag, said) in [
        ("--assume-unchanged", "is marked assume-unchanged"),
        ("--skip-worktree", "is marked skip-worktree"),
    ] {
        let repo = repo_with(&[], "", &rewrite_function("f"));
        git(repo.path(), &["update-index", flag, FILE]);
        // A local change git does not show: it must not be committed.
        let mut text = fs::read_to_string(repo.path().join(FILE)).unwrap();
        text.push_str("/* local, unreviewed */\n");
        fs::write(repo.path().join(FILE), text).unwrap();
        assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");
        assert_refused(repo.path(), &format!("src/m.c: {said}"));
    }
}

#[test]
fn a_filter_without_a_driver_is_refused() {
    let repo = repo_with(&[], "", &rewrite_function("f"));
    fs::write(repo.path().join(".gitattributes"), "*.c filter=lfs\n").unwrap();
    git(repo.path(), &["add", ".gitattributes"]);
    git(repo.path(), &["commit", "-qm", "attributes"]);
    assert_refused(repo.path(), "filter.lfs.clean is not configured");
}

/// A stand-in for gpg: signs by printing a fixed signature (or fails).
fn fake_gpg(dir: &Path, works: bool) -> String {
    let path = dir.join("fake-gpg");
    let script = if works {
        "#!/bin/sh\ncat >/dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 0 X' >&2\n\
         printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n'\n"
    } else {
        "#!/bin/sh\necho 'no secret key' >&2\nexit 2\n"
    };
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn commit_gpgsign_signs_through_git_or_refuses() {
    let tools = tempfile::tempdir().unwrap();
    let repo = repo_with(&[], "", &rewrite_function("f"));
    let d = repo.path();
    git(d, &["config", "commit.gpgsign", "true"]);
    git(
        d,
        &["config", "gpg.program", &fake_gpg(tools.path(), false)],
    );
    assert_refused(d, "gpg failed to sign");
    git(d, &["config", "gpg.program", &fake_gpg(tools.path(), true)]);
    let out = commit(d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let raw = git(d, &["cat-file", "commit", "HEAD"]);
    assert!(
        raw.contains("\ngpgsig -----BEGIN PGP SIGNATURE-----"),
        "{raw}"
    );
}

#[test]
fn hooks_see_the_new_content() {
    let repo = repo_with(&[], "", &rewrite_function("f"));
    let hook = repo.path().join(".git/hooks/pre-commit");
    fs::write(
        &hook,
        "#!/bin/sh\ngrep -q 'npy_intp dims\\[NPY_MAXDIMS\\];' src/m.c || { echo 'old content' >&2; exit 1; }\n\
         git diff --cached --name-only HEAD > .git/hook-saw\n",
    )
    .unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    let out = commit(repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Its index held exactly the commit.
    assert_eq!(
        fs::read_to_string(repo.path().join(".git/hook-saw")).unwrap(),
        "src/m.c\n"
    );
}

#[test]
fn identities_with_control_characters_are_refused() {
    let repo = repo_with(&[], "", &rewrite_function("f"));
    let d = repo.path();
    let before = repo_state(d);
    let run = |env: Option<(&str, &str)>, args: &[&str]| {
        let mut cmd = dims_fix();
        cmd.args(["--commit"]).args(args).arg(".").current_dir(d);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    for out in [
        run(None, &["--author", "Eve\nEvil <e@x>"]),
        run(
            Some(("GIT_AUTHOR_NAME", "Eve\nauthor Mallory <m@x> 0 +0000")),
            &[],
        ),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("control character"),
            "{}",
            stderr(&out)
        );
    }
    git(d, &["config", "user.name", "Eve\tTab"]);
    let out = run(None, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("user.name"), "{}", stderr(&out));
    git(d, &["config", "user.name", "Ada Tester"]);
    assert!(repo_state(d) == before);
}
