//! Installing and integrating as users do: `pip install .` into a fresh
//! virtual environment gives a working `dims-fix` command; the crate
//! package is small, holds what the build needs and passes
//! `cargo publish --dry-run`; and the pre-commit hook, run by the real
//! `pre-commit`, blocks a commit with a shape write and lets the fixed one
//! through.
//!
//! The release builds share cargo's target directory (`CARGO_TARGET_DIR`),
//! so one made once (here or by `cargo build --release`) serves the next;
//! the package check, a debug build, has a directory of its own in it.
//! The Python tools come from PyPI into a cache outside the checkout
//! (`scripts/python-tools.sh`), and pip takes the build backend from it;
//! without the index these tests skip, saying so (and fail under CI=true).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}{}",
        out.status,
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The checkout's files as they are now (tracked and new, not ignored) in
/// a fresh repository with one commit: what a clone of the next commit
/// would hold. Its path and the commit.
fn clean_export() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let list = git_command(&repo())
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .unwrap();
    check(&list, "git ls-files");
    for name in list.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).unwrap();
        let from = repo().join(name);
        if !from.is_file() {
            continue; // deleted, not yet staged
        }
        let to = dir.path().join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    init_repo(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "export"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
    (dir, head)
}

/// The cache's virtual environment with maturin and pre-commit.
fn python_tools() -> Option<PathBuf> {
    cached_tool(
        "python-tools.sh",
        "the Python tools (maturin, pre-commit from PyPI)",
    )
}

fn venv(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let out = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    check(&out, "python3 -m venv");
    venv
}

/// Acceptance: in a fresh virtual environment, `pip install .` builds and
/// installs the command; `dims-fix --version` and `dims-fix examples/` work.
#[test]
fn pip_install_gives_the_dims_fix_command() {
    if python_tools().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let venv = venv(tmp.path());
    let install = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "."])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    // The build backend (maturin) comes from the package index.
    if !install.status.success() && says_offline(&stderr(&install)) {
        skip(&format!(
            "pip install . cannot reach the package index: {}",
            stderr(&install)
        ));
        return;
    }
    check(&install, "pip install .");
    let installed = venv.join("bin/dims-fix");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    check(&version, "dims-fix --version");
    assert_eq!(
        stdout(&version),
        format!("dims-fix {}\n", env!("CARGO_PKG_VERSION"))
    );
    // A dry run on the sample (it writes nothing): the same diff as the
    // binary under test, and the closing hint.
    let args = ["--color", "never", "examples/"];
    assert_eq!(
        writes_inside_checkout(Some(&repo()), &args.map(Into::into)),
        None
    );
    let sample = Command::new(&installed)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    check(&sample, "dims-fix examples/");
    let ours = dims_fix()
        .arg("examples/")
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(stdout(&sample), stdout(&ours));
    assert!(stdout(&sample).starts_with("diff --git a/examples/grid.c b/examples/grid.c"));
    assert!(
        stderr(&sample).contains("run with --apply"),
        "{}",
        stderr(&sample)
    );
}

/// The crate package: what the build needs, no tests or fixtures, and
/// `cargo publish --dry-run` (which builds it) passes on a clean tree.
#[test]
fn cargo_publish_dry_run_passes() {
    let (export, _) = clean_export();
    let list = Command::new(env!("CARGO"))
        .args(["package", "--list", "--offline"])
        .current_dir(export.path())
        .output()
        .unwrap();
    check(&list, "cargo package --list");
    let files = stdout(&list);
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "docs/output.md",
        "src/main.rs",
        "src/lib.rs",
        "templates/commit.txt",
        "templates/lock-todo.txt",
        "templates/manual-todo.txt",
        "schema/report.schema.json",
    ] {
        assert!(files.lines().any(|l| l == needed), "{needed} not packaged");
    }
    for left_out in ["tests/", "fixtures/", "fuzz/", "bench/", "scripts/", ".ci/"] {
        assert!(
            !files.lines().any(|l| l.starts_with(left_out)),
            "{left_out} packaged:\n{files}"
        );
    }
    // Its own target directory: the package's check builds a debug
    // `dims-fix`, which must not replace the one the other tests run.
    let publish = Command::new(env!("CARGO"))
        .args(["publish", "--dry-run"])
        .current_dir(export.path())
        .env("CARGO_TARGET_DIR", target_dir().join("package-check"))
        .output()
        .unwrap();
    let err = stderr(&publish);
    if !publish.status.success()
        && [
            "Couldn't resolve host",
            "failed to query replaced source",
            "network failure",
        ]
        .iter()
        .any(|m| err.contains(m))
    {
        skip(&format!("crates.io cannot be reached: {err}"));
        return;
    }
    check(&publish, "cargo publish --dry-run");
    assert!(err.contains("aborting upload due to dry run"), "{err}");
}

/// Acceptance: with the real `pre-commit` and this repository's
/// `.pre-commit-hooks.yaml`, a commit adding a shape write is blocked;
/// with the fix it goes through.
#[test]
fn pre_commit_hook_blocks_a_shape_write_until_it_is_fixed() {
    let Some(tools) = python_tools() else { return };
    let (export, rev) = clean_export();
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let proj = project.path();
    init_repo(proj);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: dims-fix\n",
        export.path().display()
    );
    std::fs::write(proj.join(".pre-commit-config.yaml"), config).unwrap();
    std::fs::write(proj.join("README"), "an extension\n").unwrap();
    git(proj, &["add", "-A"]);
    git(proj, &["commit", "-qm", "initial"]);
    let pre_commit = |args: &[&str]| {
        let mut cmd = Command::new(tools.join("bin/pre-commit"));
        for var in GIT_ENV {
            cmd.env_remove(var);
        }
        cmd.args(args)
            .current_dir(proj)
            .env("PRE_COMMIT_HOME", home.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .unwrap()
    };
    // Builds the hook's environment (pip install of the exported commit,
    // its build backend from the package index).
    let install = pre_commit(&["install", "--install-hooks"]);
    let said = format!("{}{}", stdout(&install), stderr(&install));
    if !install.status.success() && says_offline(&said) {
        skip(&format!(
            "pre-commit cannot reach the package index to build the hook: {said}"
        ));
        return;
    }
    check(&install, "pre-commit install");
    let commit = |message: &str| {
        git_command(proj)
            .args(["commit", "-qm", message])
            .env("PRE_COMMIT_HOME", home.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .unwrap()
    };

    std::fs::create_dir(proj.join("src")).unwrap();
    std::fs::write(proj.join("src/ext.c"), rewrite_function("ext_repeat")).unwrap();
    git(proj, &["add", "src/ext.c"]);
    let blocked = commit("add ext_repeat");
    assert!(!blocked.status.success(), "the commit went through");
    let said = format!("{}{}", stdout(&blocked), stderr(&blocked));
    assert!(said.contains("dims-fix"), "{said}");
    assert!(
        said.contains("src/ext.c:4:5: rewrite DF400: ext_repeat"),
        "{said}"
    );
    assert_eq!(commit_count(proj), 1);

    // The fix dims-fix proposes, applied, passes the hook.
    let apply = dims_fix()
        .args(["--apply", "src/ext.c"])
        .current_dir(proj)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    git(proj, &["add", "src/ext.c"]);
    let passed = commit("add ext_repeat, on a local copy of the shape");
    check(&passed, "the fixed commit");
    assert_eq!(commit_count(proj), 2);
}
