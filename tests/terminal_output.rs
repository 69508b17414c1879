//! Output that is the file: the diff and JSON carry a source's bytes
//! exactly, escape sequences, BEL and DEL included (`dims-fix . > fix.patch
//! && git apply fix.patch` works); on a terminal (a pseudo-terminal made by
//! `script`), control characters from names and source are shown escaped,
//! and colour codes are added only when colour is on.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// A rewrite finding with ESC, BEL and DEL bytes on the line before the
/// write, so they are in the diff's context.
fn hostile_source() -> String {
    rewrite_function("f").replace(
        "    PyArray_DIMS(a)[0] = v;\n",
        "    puts(\"\x1b[1mbold\x07\x7f\");\n    PyArray_DIMS(a)[0] = v;\n",
    )
}

/// An escape sequence in a file name too (sets the window title).
const NAME: &str = "t\x1b]0;pwn\x07.c";

fn repo() -> tempfile::TempDir {
    let dir = tree(&[
        ("a.c", hostile_source().as_bytes()),
        (NAME, hostile_source().as_bytes()),
    ]);
    init_repo(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "initial"]);
    dir
}

#[test]
fn the_diff_in_a_file_applies_with_git_apply() {
    let repo = repo();
    let d = repo.path();
    let patch_dir = tempfile::tempdir().unwrap();
    let patch = patch_dir.path().join("fix.patch");
    let status = dims_fix_bare()
        .arg(".")
        .current_dir(d)
        .stdout(fs::File::create(&patch).unwrap())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let bytes = fs::read(&patch).unwrap();
    assert!(bytes.windows(4).any(|w| w == b"\x1b[1m"), "ESC kept");
    assert!(
        bytes.windows(2).any(|w| w == b"\x07\x7f"),
        "BEL and DEL kept"
    );
    git(d, &["apply", patch.to_str().unwrap()]);
    let applied: Vec<Vec<u8>> = ["a.c", NAME]
        .iter()
        .map(|n| fs::read(d.join(n)).unwrap())
        .collect();
    git(d, &["checkout", "--", "."]);
    let out = dims_fix()
        .args(["--apply", "."])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (n, bytes) in ["a.c", NAME].iter().zip(applied) {
        assert_eq!(fs::read(d.join(n)).unwrap(), bytes, "{n:?}");
    }
}

#[test]
fn json_carries_the_bytes() {
    let repo = repo();
    let out = dims_fix()
        .args(["--format", "json", "."])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][0];
    assert!(
        f["diff"]
            .as_str()
            .unwrap()
            .contains("puts(\"\x1b[1mbold\x07\x7f\");"),
        "{f}"
    );
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&NAME), "{files:?}");
}

/// Run dims-fix on a pseudo-terminal (util-linux `script`); what it printed.
fn on_a_terminal(dir: &Path, args: &str) -> Option<Vec<u8>> {
    let words: Vec<std::ffi::OsString> = args.split_whitespace().map(Into::into).collect();
    assert!(writes_inside_checkout(Some(dir), &words).is_none());
    let out = Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!("{} {args}", bin().display()))
        .arg("/dev/null")
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    Some(out.stdout)
}

#[test]
fn a_terminal_sees_control_characters_escaped() {
    let repo = repo();
    let Some(shown) = on_a_terminal(repo.path(), "--color never .") else {
        let msg = "SKIPPED a_terminal_sees_control_characters_escaped: no `script` (util-linux)\n";
        let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"));
        return;
    };
    let text = String::from_utf8_lossy(&shown);
    for b in [0x1b, 0x07, 0x7f] {
        assert!(
            !shown.contains(&b),
            "raw byte {b:#x} reached the terminal:\n{text}"
        );
    }
    // The diff and the report both show the source line escaped...
    assert!(text.contains("puts(\"\\x1b[1mbold\\x07\\x7f\");"), "{text}");
    assert!(text.matches("\\x1b[1mbold").count() >= 2, "{text}");
    // ...and the name quoted like git.
    assert!(
        text.contains("\"t\\033]0;pwn\\a.c\":5:5: rewrite"),
        "{text}"
    );
    assert!(
        text.contains("diff --git \"a/t\\033]0;pwn\\a.c\""),
        "{text}"
    );

    // With colour on, colour codes are added, content is still escaped.
    let shown = on_a_terminal(repo.path(), "--color always .").unwrap();
    let text = String::from_utf8_lossy(&shown);
    assert!(text.contains("\x1b[32m+"), "coloured: {text}");
    assert!(
        !text.contains("\x1b[1mbold") && !text.contains("\x1b]0;"),
        "{text}"
    );
    assert!(!shown.contains(&0x07) && !shown.contains(&0x7f), "{text}");
}
