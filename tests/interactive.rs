//! `--interactive` in a real pseudo-terminal: each change shown with its
//! finding and diff, accepted or skipped; what is written is exactly what
//! `--only` of the accepted findings writes, through the same paths.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// A repository holding two fixture sources (one rewrite, three lock
/// TODOs), committed.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init_repo(dir.path());
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(
        dir.path().join("src/repeat.c"),
        fixture_source("repeat-temporary-axis"),
    )
    .unwrap();
    fs::write(
        dir.path().join("src/setters.c"),
        fixture_source("lock-setters"),
    )
    .unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "initial"]);
    dir
}

fn sources(dir: &Path) -> Vec<String> {
    ["src/repeat.c", "src/setters.c"]
        .iter()
        .map(|f| fs::read_to_string(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn accepting_one_finding_equals_only_of_it() {
    let dir = repo();
    let out = in_terminal(&["n", "y", "n", "n"])
        .args(["--interactive", "--apply", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let shown = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    // Each change offered with its finding and diff, in order.
    for n in 1..=4 {
        assert!(
            shown.contains(&format!("({n}/4) Apply this change [y,n,q,?]? ")),
            "{shown}"
        );
    }
    assert!(
        shown.contains("src/repeat.c:22: rewrite tile_along_axis: src:"),
        "{shown}"
    );
    assert!(
        shown.contains("src/setters.c:17: lock retype_setter: self:"),
        "{shown}"
    );
    assert!(
        shown.contains("+    npy_intp dims[NPY_MAXDIMS];"),
        "{shown}"
    );
    assert_eq!(
        git(dir.path(), &["status", "--porcelain"]),
        " M src/setters.c\n"
    );
    let only = repo();
    let out = dims_fix()
        .args(["--only", "retype_setter", "--apply", "."])
        .current_dir(only.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sources(dir.path()), sources(only.path()));
}

#[test]
fn accepted_changes_go_through_commit_and_quit_skips_the_rest() {
    let dir = repo();
    let out = in_terminal(&["?", "y", "q"])
        .args(["--interactive", "--commit", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let shown = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    // `?` shows the sites and the keys, then asks again.
    assert!(shown.contains("q - quit"), "{shown}");
    assert!(shown.contains("restore"), "{shown}");
    assert_eq!(
        shown.matches("(1/4) Apply this change").count(),
        2,
        "{shown}"
    );
    assert!(!shown.contains("(3/4)"), "{shown}");
    assert_eq!(
        git(dir.path(), &["log", "--format=%s", "-1"]),
        "BUG: avoid data race on the shape of src in tile_along_axis\n"
    );
    assert_eq!(
        git(dir.path(), &["rev-list", "--count", "HEAD"]).trim(),
        "2"
    );
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    // End of input (Ctrl-D) at the first prompt: nothing is written.
    let dir = repo();
    let out = in_terminal(&[])
        .args(["--interactive", "--apply", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
}

#[test]
fn without_a_terminal_interactive_is_refused() {
    let dir = repo();
    let out = dims_fix()
        .args(["--interactive", "--apply", "."])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--interactive needs a terminal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
}
