//! `--apply` replaces files without taking anything from them: owner,
//! group, mode and extended attributes are kept (run as root on another
//! user's file), hard-linked and read-only files are refused unless
//! `--force`, and an edit made between the last check and the rename is
//! never overwritten.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;

fn one_file() -> tempfile::TempDir {
    tree(&[("a.c", rewrite_function("f").as_bytes())])
}

fn apply(dir: &Path, extra: &[&str]) -> std::process::Output {
    dims_fix()
        .arg("--apply")
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .output()
        .unwrap()
}

fn fixed(path: &Path) -> bool {
    fs::read_to_string(path)
        .unwrap()
        .contains("npy_intp dims[NPY_MAXDIMS];")
}

#[test]
fn owner_group_mode_and_xattrs_are_kept() {
    if !is_root() {
        let msg = "SKIPPED owner_group_mode_and_xattrs_are_kept: needs root to own a file as another user\n";
        let _ = std::io::stderr().write_all(msg.as_bytes());
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI runs as root"
        );
        return;
    }
    let dir = one_file();
    let file = dir.path().join("a.c");
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    xattr::set(&file, "user.dims", b"kept").unwrap();
    let out = apply(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fixed(&file));
    let meta = fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "owner and group");
    assert_eq!(meta.mode() & 0o7777, 0o640, "mode");
    assert_eq!(
        xattr::get(&file, "user.dims").unwrap().as_deref(),
        Some(&b"kept"[..])
    );
}

#[test]
fn a_hard_linked_file_is_refused_unless_forced() {
    let dir = one_file();
    let file = dir.path().join("a.c");
    let other = tempfile::tempdir().unwrap();
    fs::hard_link(&file, other.path().join("same.c")).unwrap();
    let before = fs::read(&file).unwrap();
    let out = apply(dir.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("dims-fix: a.c: has 2 hard links; replacing it would leave the other names with the old text (--force replaces it anyway); not written"),
        "{err}"
    );
    assert_eq!(fs::read(&file).unwrap(), before);
    let out = apply(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fixed(&file));
    assert_eq!(fs::read(other.path().join("same.c")).unwrap(), before);
}

#[test]
fn a_read_only_file_is_refused_unless_forced() {
    let dir = one_file();
    let file = dir.path().join("a.c");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let out = apply(dir.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("a.c: is read-only"), "{err}");
    assert!(!fixed(&file));
    let out = apply(dir.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(fixed(&file));
    assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o444);
}

#[test]
fn an_edit_between_the_check_and_the_rename_is_kept() {
    let dir = one_file();
    let file = dir.path().join("a.c");
    let flag = dir.path().join(".paused");
    let child = spawn_paused(dir.path(), "before-rename", &flag, &["--apply", "."]);
    // The new content is in a temporary file beside it, ready to rename.
    let mut edited = fs::read_to_string(&file).unwrap();
    edited.push_str("/* saved by the editor meanwhile */\n");
    fs::write(&file, &edited).unwrap();
    fs::remove_file(&flag).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("a.c: changed since it was read; not written"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), edited);
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.c"], "no temporary file left");
}
