//! Staying inside the tree: links to a file and to a directory outside the
//! scanned paths are not followed (reported as skipped) nor written, even
//! with `--follow`; a link planted in `--patch-dir` is refused before any
//! commit; an in-tree link to another file of the tree is scanned once, and
//! `--commit` succeeds with the link left a link.

mod common;

use std::fs;
use std::os::unix::fs::symlink;

use common::*;

/// A tree holding one source, and an outside directory the tree links to:
/// `src/out.c` → `outside/x.c`, `src/vendor` → `outside/lib/`.
fn tree_with_outside_links() -> (tempfile::TempDir, tempfile::TempDir) {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("x.c"), rewrite_function("outside_file")).unwrap();
    fs::create_dir(outside.path().join("lib")).unwrap();
    fs::write(
        outside.path().join("lib/y.c"),
        rewrite_function("outside_dir"),
    )
    .unwrap();
    let tree = tempfile::tempdir().unwrap();
    fs::create_dir(tree.path().join("src")).unwrap();
    fs::write(tree.path().join("src/in.c"), rewrite_function("inside")).unwrap();
    symlink(outside.path().join("x.c"), tree.path().join("src/out.c")).unwrap();
    symlink(outside.path().join("lib"), tree.path().join("src/vendor")).unwrap();
    (tree, outside)
}

#[test]
fn links_out_of_the_tree_are_not_followed_or_written() {
    let (tree, outside) = tree_with_outside_links();
    let before = files_bytes(outside.path());
    let before_lib = files_bytes(&outside.path().join("lib"));
    let out = dims_fix()
        .args(["--apply", "."])
        .current_dir(tree.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("wrote src/in.c"), "{err}");
    assert!(
        err.contains("src/out.c: symbolic link to a file outside the scanned paths"),
        "{err}"
    );
    assert!(
        err.contains("src/vendor: symbolic link to a directory outside the scanned paths"),
        "{err}"
    );
    assert!(
        !err.contains("outside_file") && !err.contains("outside_dir"),
        "{err}"
    );
    assert_eq!(files_bytes(outside.path()), before);
    assert_eq!(files_bytes(&outside.path().join("lib")), before_lib);
}

#[test]
fn follow_reads_through_links_but_never_writes_there() {
    let (tree, outside) = tree_with_outside_links();
    let before = files_bytes(outside.path());
    let before_lib = files_bytes(&outside.path().join("lib"));
    let out = dims_fix()
        .args(["--apply", "--follow", "."])
        .current_dir(tree.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    // Found and reported, refused for writing.
    assert!(err.contains("rewrite DF400: outside_file"), "{err}");
    assert!(err.contains("rewrite DF400: outside_dir"), "{err}");
    assert!(
        err.matches("outside the scanned paths (reached through a symbolic link); not written")
            .count()
            == 2,
        "{err}"
    );
    assert!(err.contains("wrote src/in.c"), "{err}");
    assert_eq!(files_bytes(outside.path()), before);
    assert_eq!(files_bytes(&outside.path().join("lib")), before_lib);
}

#[test]
fn a_link_planted_in_the_patch_dir_is_refused_before_any_commit() {
    let repo = series_repo(1, 1);
    let d = repo.path();
    let victim = tempfile::NamedTempFile::new().unwrap();
    fs::write(victim.path(), "precious\n").unwrap();
    let patches = d.join("patches");
    fs::create_dir(&patches).unwrap();
    symlink(
        victim.path(),
        patches.join("0001-BUG-avoid-data-race-on-the-shape-of-a-in-f0_0.patch"),
    )
    .unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "patches dir"]);
    let before = repo_state(d);
    let out = dims_fix()
        .args(["--commit", "--patch-dir", "patches", "."])
        .current_dir(d)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is a symbolic link; dims-fix writes patches only as regular files"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(victim.path()).unwrap(), "precious\n");
    assert!(repo_state(d) == before, "nothing committed");
}

#[test]
fn an_in_tree_link_is_scanned_once_and_commit_succeeds() {
    let repo = series_repo(1, 1);
    let d = repo.path();
    symlink("m00.c", d.join("src/alias.c")).unwrap();
    git(d, &["add", "src/alias.c"]);
    git(d, &["commit", "-qm", "alias"]);
    let json = dims_fix()
        .args(["--format", "json", "."])
        .current_dir(d)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["src/m00.c"], "one finding, under the real name");
    for _ in 0..2 {
        let out = dims_fix()
            .args(["--commit", "."])
            .current_dir(d)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    assert_eq!(commit_count(d), 3);
    assert_eq!(git(d, &["status", "--porcelain"]), "");
    assert!(fs::symlink_metadata(d.join("src/alias.c"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        git(d, &["show", "--format=", "--name-only", "HEAD"]).trim(),
        "src/m00.c"
    );
}

#[test]
fn a_nested_plain_repository_does_not_stop_the_commit() {
    let repo = series_repo(1, 1);
    let d = repo.path();
    let nested = d.join("vendor/lib");
    fs::create_dir_all(&nested).unwrap();
    init_repo(&nested);
    fs::write(nested.join("n.c"), rewrite_function("nested")).unwrap();
    git(&nested, &["add", "-A"]);
    git(&nested, &["commit", "-qm", "nested"]);
    let out = dims_fix()
        .args(["--commit", "."])
        .current_dir(d)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("vendor/lib/n.c: inside the nested git repository vendor/lib; run dims-fix --commit there"),
        "{err}"
    );
    assert_eq!(commit_count(d), 2);
    assert_eq!(git(&nested, &["status", "--porcelain"]), "");
}
