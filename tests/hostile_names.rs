//! File names that try to break out: a path crafted to smuggle a diff hunk
//! into a commit message (and through `git format-patch` + `git am` into an
//! unrelated file), and names with a newline, tab, backslash, `#`, `%`, `?`
//! and spaces, which must round-trip through `--dry-run | git apply`,
//! `--commit`, `--patch-dir | git am` and SARIF.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// The crafted path: read as text, the lines after the first name say
/// "patch README to PWNED".
const INJECTION: &str = "x\n\ndiff --git a/README b/README\n--- a/README\n+++ b/README\n\
                         @@ -1 +1 @@\n-hello\n+PWNED\n/y.c";

fn clone(from: &Path, to: &Path) {
    git(from, &["clone", "-q", ".", to.to_str().unwrap()]);
    git(to, &["config", "user.name", "Ada Tester"]);
    git(to, &["config", "user.email", "ada@example.com"]);
}

fn repo_with(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init_repo(dir.path());
    fs::write(dir.path().join("README"), "hello\n").unwrap();
    for (i, name) in names.iter().enumerate() {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, rewrite_function(&format!("f{i}"))).unwrap();
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "initial"]);
    dir
}

/// `git am` these patches in a fresh clone at the first commit: the tree
/// it makes, and README's content there.
fn am_in_clone(repo: &Path, patches: &[std::path::PathBuf]) -> (String, String) {
    let dest = tempfile::tempdir().unwrap();
    let dest = dest.path().join("c");
    clone(repo, &dest);
    let root = git(repo, &["rev-list", "--max-parents=0", "HEAD"]);
    git(&dest, &["reset", "-q", "--hard", root.trim()]);
    let mut args = vec!["am", "-q"];
    args.extend(patches.iter().map(|p| p.to_str().unwrap()));
    git(&dest, &args);
    (
        git(&dest, &["rev-parse", "HEAD^{tree}"]),
        fs::read_to_string(dest.join("README")).unwrap(),
    )
}

fn patch_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn a_name_cannot_smuggle_a_patch_into_a_commit_message() {
    let repo = repo_with(&[INJECTION]);
    let d = repo.path();
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let message = git(d, &["log", "-1", "--format=%B"]);
    assert!(
        !message
            .lines()
            .any(|l| l.starts_with("diff --git") || l == "+PWNED"),
        "{message}"
    );
    let quoted = "\"x\\n\\ndiff --git a/README b/README\\n--- a/README\\n+++ b/README\\n\
                  @@ -1 +1 @@\\n-hello\\n+PWNED\\n/y.c\":4";
    assert!(message.replace("\n  ", " ").contains(quoted), "{message}");
    // The commit, mailed and applied, changes its file and nothing else.
    let mail = tempfile::tempdir().unwrap();
    git(
        d,
        &[
            "format-patch",
            "-q",
            "-1",
            "HEAD",
            "-o",
            mail.path().to_str().unwrap(),
        ],
    );
    let (tree, readme) = am_in_clone(d, &patch_files(mail.path()));
    assert_eq!(readme, "hello\n");
    assert_eq!(tree, git(d, &["rev-parse", "HEAD^{tree}"]));
    // So does dims-fix's own patch series.
    let repo = repo_with(&[INJECTION]);
    let patches = tempfile::tempdir().unwrap();
    let out = dims_fix()
        .args(["--patch-dir", patches.path().to_str().unwrap(), "."])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (tree, readme) = am_in_clone(repo.path(), &patch_files(patches.path()));
    assert_eq!(readme, "hello\n");
    assert_eq!(tree, git(d, &["rev-parse", "HEAD^{tree}"]));
}

const HOSTILE: [&str; 7] = [
    "sp ace.c",
    "t\tab.c",
    "new\nline.c",
    "back\\slash.c",
    "hash#pct%q?.c",
    "dir with space/x y.c",
    "quote\"d.c",
];

#[test]
fn hostile_names_round_trip_through_git_apply() {
    let repo = repo_with(&HOSTILE);
    let dry = dims_fix()
        .arg(".")
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let patch = repo.path().join("../fix.patch");
    fs::write(&patch, &dry.stdout).unwrap();
    let applied = tempfile::tempdir().unwrap();
    let applied = applied.path().join("c");
    clone(repo.path(), &applied);
    git(&applied, &["apply", patch.to_str().unwrap()]);
    let out = dims_fix()
        .args(["--apply", "."])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for name in HOSTILE {
        assert_eq!(
            fs::read(applied.join(name)).unwrap(),
            fs::read(repo.path().join(name)).unwrap(),
            "{name:?}"
        );
        assert!(fs::read_to_string(applied.join(name))
            .unwrap()
            .contains("npy_intp dims[NPY_MAXDIMS];"));
    }
    let _ = fs::remove_file(patch);
}

#[test]
fn hostile_names_round_trip_through_commit_and_git_am() {
    let repo = repo_with(&HOSTILE);
    let d = repo.path();
    let patches = tempfile::tempdir().unwrap();
    let out = dims_fix()
        .args([
            "--commit",
            "--patch-dir",
            patches.path().to_str().unwrap(),
            ".",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(git(d, &["status", "--porcelain"]), "");
    // Each commit names exactly its file (`-z`: names end in NUL, so the
    // newline of "new\nline.c" is its own).
    let names = git(
        d,
        &["log", "-z", "--format=", "--name-only", "HEAD~7..HEAD"],
    );
    let mut committed: Vec<&str> = names
        .split('\0')
        .filter(|s| !s.trim().is_empty())
        .map(str::trim_start)
        .collect();
    committed.sort();
    let mut expected = HOSTILE.to_vec();
    expected.sort();
    assert_eq!(committed, expected);
    let (tree, _) = am_in_clone(d, &patch_files(patches.path()));
    assert_eq!(tree, git(d, &["rev-parse", "HEAD^{tree}"]));
}

#[test]
fn hostile_names_round_trip_through_sarif_and_json() {
    let repo = repo_with(&HOSTILE);
    let sarif = dims_fix()
        .args(["--format", "sarif", "."])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let mut uris: Vec<String> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap();
            assert!(
                !uri.contains([' ', '#', '?', '\n', '\t', '\\', '"']),
                "not encoded: {uri:?}"
            );
            percent_encoding::percent_decode_str(uri)
                .decode_utf8()
                .unwrap()
                .into_owned()
        })
        .collect();
    uris.sort();
    let mut names: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    names.sort();
    assert_eq!(uris, names);
    let json = dims_fix()
        .args(["--format", "json", "."])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let mut files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    assert_eq!(files, names);
}
