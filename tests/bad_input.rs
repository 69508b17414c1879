//! The bad-input matrix: every row asserts the message naming the file,
//! the documented exit code, and that nothing on disk changed (no panic,
//! no partial write, no lost change).

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

const WRITE: &str =
    "void f(PyArrayObject *a, npy_intp v)\n{\n    npy_intp n = PyArray_DIM(a, 0);\n    \
PyArray_DIMS(a)[0] = v;\n    Py_XDECREF(PyArray_Zeros(1, PyArray_DIMS(a), NULL, 0));\n    PyArray_DIMS(a)[0] = n;\n}\n";

/// Run `--apply` on `dir`, check exit code and that stderr says `message`.
fn apply(dir: &Path, extra: &[&str], code: i32, message: &str) -> String {
    let out = dims_fix()
        .arg("--apply")
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(message), "expected {message:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn empty_file() {
    let dir = tree(&[("empty.c", b"")]);
    apply(dir.path(), &[], 0, "0 findings");
    let out = dims_fix()
        .arg("empty.c")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn binary_file_with_a_c_name() {
    let dir = tree(&[("blob.c", b"\x7fELF\x02\x01\x01\x00PyArray_DIMS\x00\xff\xfe")]);
    let before = files_bytes(dir.path());
    apply(
        dir.path(),
        &[],
        3,
        "dims-fix: blob.c: binary file (NUL byte on line 1), skipped",
    );
    assert_eq!(files_bytes(dir.path()), before);
}

#[test]
fn invalid_utf8_in_a_comment_and_in_an_identifier() {
    let mut in_comment = format!("/* caf */\n{WRITE}").into_bytes();
    in_comment[3] = 0xe9; // a Latin-1 byte in the comment
    let mut in_ident = WRITE.as_bytes().to_vec();
    let at = in_ident
        .windows(10)
        .position(|w| w == b"npy_intp n")
        .unwrap();
    in_ident[at + 3] = 0xff; // `npy\xffntp n`, on line 3
    let dir = tree(&[
        ("comment.c", &in_comment),
        ("ident.c", &in_ident),
        ("good.c", WRITE.as_bytes()),
    ]);
    let before: Vec<_> = files_bytes(dir.path())
        .into_iter()
        .filter(|(n, _)| n != "good.c")
        .collect();
    let err = apply(
        dir.path(),
        &[],
        3,
        "dims-fix: comment.c: not valid UTF-8 (line 1), skipped",
    );
    assert!(
        err.contains("dims-fix: ident.c: not valid UTF-8 (line 3), skipped"),
        "{err}"
    );
    assert!(err.contains("wrote good.c"), "the rest is processed: {err}");
    let after: Vec<_> = files_bytes(dir.path())
        .into_iter()
        .filter(|(n, _)| n != "good.c")
        .collect();
    assert_eq!(after, before);
}

#[test]
fn a_50_mb_generated_file() {
    let mut big = String::with_capacity(50 << 20);
    big.push_str(WRITE);
    while big.len() < 50 << 20 {
        big.push_str("static int filler_function(int x) { return x + 1; }\n");
    }
    let dir = tree(&[("big.c", big.as_bytes()), ("good.c", WRITE.as_bytes())]);
    let err = apply(dir.path(), &[], 3, "dims-fix: big.c: ");
    assert!(err.contains("larger than --max-file-size"), "{err}");
    assert_eq!(fs::read(dir.path().join("big.c")).unwrap(), big.as_bytes());
}

#[test]
fn ten_thousand_nested_braces() {
    let depth = 10_000;
    let src = format!(
        "void deep(PyArrayObject *a)\n{{\n{}PyArray_DIMS(a)[0] = 1;\n{}}}\n",
        "{".repeat(depth),
        "}".repeat(depth)
    );
    let dir = tree(&[("deep.c", src.as_bytes())]);
    let started = Instant::now();
    let out = dims_fix()
        .args(["--format", "json", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["class"], "manual");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_symlink_loop() {
    // Links are not followed by default: a link back up the tree is a
    // directory inside the scanned paths, walked where it is.
    let dir = tree(&[("good.c", WRITE.as_bytes())]);
    fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
    let err = apply(dir.path(), &[], 0, "wrote good.c");
    assert!(!err.contains("sub/up"), "{err}");
    // With --follow the loop is found and reported.
    let dir = tree(&[("good.c", WRITE.as_bytes())]);
    fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
    let err = apply(dir.path(), &["--follow"], 3, "symbolic link loop");
    assert!(err.contains("sub/up"), "{err}");
    assert!(err.contains("wrote good.c"), "{err}");
}

#[test]
fn an_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree(&[("locked.c", WRITE.as_bytes())]);
    lock_file(dir.path(), "locked.c");
    let mut cmd = unprivileged();
    let out = cmd
        .args(["--apply", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dims-fix: locked.c: cannot read: Permission denied"),
        "{}",
        stderr(&out)
    );
    fs::set_permissions(
        dir.path().join("locked.c"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert_eq!(
        fs::read(dir.path().join("locked.c")).unwrap(),
        WRITE.as_bytes()
    );
}

#[test]
fn a_path_that_does_not_exist() {
    let dir = tree(&[]);
    let out = dims_fix()
        .args(["--apply", "missing/dir"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "dims-fix: missing/dir: no such file or directory\n"
    );
}

#[test]
fn a_file_deleted_between_discovery_and_read() {
    let sub = tempfile::tempdir().unwrap();
    fs::write(sub.path().join("gone.c"), WRITE).unwrap();
    fs::write(sub.path().join("good.c"), WRITE).unwrap();
    let flag = sub.path().join(".paused");
    let child = spawn_paused(sub.path(), "after-walk", &flag, &["--apply", "."]);
    fs::remove_file(sub.path().join("gone.c")).unwrap();
    fs::remove_file(flag).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("dims-fix: gone.c: cannot read: No such file or directory"),
        "{err}"
    );
    assert!(err.contains("wrote good.c"), "{err}");
}

#[test]
fn a_file_changed_between_reading_and_writing() {
    let dir = tree(&[("f.c", WRITE.as_bytes())]);
    let flag = dir.path().join(".paused");
    let child = spawn_paused(dir.path(), "before-write", &flag, &["--apply", "."]);
    let edited = format!("{WRITE}/* someone else's edit */\n");
    fs::write(dir.path().join("f.c"), &edited).unwrap();
    fs::remove_file(flag).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("dims-fix: f.c: changed since it was read; not written"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("f.c")).unwrap(),
        edited,
        "no lost change"
    );
}

#[test]
fn a_broken_file_that_parses_worse_after_a_todo() {
    // A fuzz input with ten parse errors: after the planned TODOs
    // tree-sitter recovers differently, so the change cannot be checked.
    let broken =
        fs::read(repo().join("tests/regressions/broken-file-parses-worse-after-todo.c")).unwrap();
    let dir = tree(&[("broken.c", &broken)]);
    let err = apply(
        dir.path(),
        &["--todo-manual"],
        3,
        "dims-fix: broken.c: the file already has 10 parse errors",
    );
    assert!(err.contains("file left untouched"), "{err}");
    assert_eq!(fs::read(dir.path().join("broken.c")).unwrap(), broken);
}

#[test]
fn a_utf16_file_that_mentions_a_shape_source() {
    // As an editor on Windows may save it: a byte order mark, then UTF-16LE.
    let mut bytes = vec![0xFF, 0xFE];
    for unit in WRITE.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    let dir = tree(&[("wide.c", &bytes), ("good.c", WRITE.as_bytes())]);
    let before = fs::read(dir.path().join("wide.c")).unwrap();
    apply(
        dir.path(),
        &[],
        3,
        "dims-fix: wide.c: UTF-16 text that mentions a shape source, not analysed",
    );
    assert_eq!(fs::read(dir.path().join("wide.c")).unwrap(), before);
}

#[test]
fn hidden_paths_are_counted_and_walked_on_request() {
    let dir = tree(&[
        (".hidden.c", WRITE.as_bytes()),
        (".cache/inner.c", WRITE.as_bytes()),
        (".git/HEAD", b"ref: refs/heads/main\n"),
        ("seen.c", WRITE.as_bytes()),
    ]);
    let count = |extra: &[&str]| -> (u64, u64) {
        let out = dims_fix()
            .args(["--format", "json"])
            .args(extra)
            .arg(".")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let hidden = v["stats"]["passed_over"]["hidden"].as_u64().unwrap();
        (v["stats"]["files_seen"].as_u64().unwrap(), hidden)
    };
    // `.hidden.c` and `.cache`, not `.git`.
    assert_eq!(count(&[]), (1, 2));
    assert_eq!(count(&["--hidden"]), (3, 0));
    let out = dims_fix()
        .arg(".")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("; not read: 2 hidden (--hidden),"),
        "{}",
        stderr(&out)
    );
}

/// The inputs that took the analysis from 8 to 42 seconds (issue 17), each
/// run as a user would: that they finish in under a second is measured by
/// bench/slow-inputs.sh, not here.
#[test]
fn inputs_that_once_took_quadratic_time_or_worse() {
    let inputs = slow_inputs();
    let files: Vec<(&str, &[u8])> = inputs
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = tree(&files);
    for (name, _) in &inputs {
        let out = dims_fix()
            .args(["--format", "json", name])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!v["findings"].as_array().unwrap().is_empty(), "{name}");
    }
}

/// 800 chained assignments, a body inside 10,000 nested `#if 1`, 4,000
/// `else if`, 8,000 rewrite findings in one file (bench/slow-inputs.sh
/// writes the same files).
fn slow_inputs() -> Vec<(String, Vec<u8>)> {
    let head = "#include \"numpy/arrayobject.h\"\n\n";
    let vars: Vec<String> = (0..800).map(|i| format!("v{i}")).collect();
    let chain = format!(
        "{head}void f(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp {};\n    \
         npy_intp k = PyArray_DIM(a, 0);\n    PyArray_DIMS(a)[0] = v;\n    {} = 0;\n    \
         PyArray_DIMS(a)[0] = k;\n}}\n",
        vars.join(", "),
        vars.join(" = ")
    );
    let nested = format!(
        "{head}void f(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp k = PyArray_DIM(a, 0);\n\
         {}    PyArray_DIMS(a)[0] = v;\n    PyArray_DIMS(a)[0] = k;\n{}}}\n",
        "#if 1\n".repeat(10_000),
        "#endif\n".repeat(10_000)
    );
    let branch = |c: usize| {
        format!(
            "    else if (c == {c}) {{\n        PyArray_DIMS(a)[0] = v;\n        \
             PyArray_DIMS(a)[0] = k;\n    }}\n"
        )
    };
    let else_if = format!(
        "{head}void f(PyArrayObject *a, npy_intp v, int c)\n{{\n    npy_intp k = PyArray_DIM(a, 0);\n    \
         if (c < 0) {{\n    }}\n{}}}\n",
        (0..4_000).map(branch).collect::<String>()
    );
    let many = format!(
        "{head}{}",
        (0..8_000)
            .map(|i| format!(
                "void f{i}(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp n = PyArray_DIM(a, 0);\n    \
                 PyArray_DIMS(a)[0] = v;\n    PyArray_DIMS(a)[0] = n;\n}}\n\n"
            ))
            .collect::<String>()
    );
    [
        ("chained-assignments.c", chain),
        ("nested-if.c", nested),
        ("else-if.c", else_if),
        ("many-findings.c", many),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t.into_bytes()))
    .collect()
}

#[test]
fn a_3000_term_sum_and_100000_nested_parentheses() {
    // Once a stack overflow (no file named, exit 134) and 17 s of
    // quadratic work: each is analysed now, never fatal. Their speed is
    // measured by bench/deep.sh.
    let sum = format!(
        "void long_sum(PyArrayObject *a, npy_intp n)\n{{\n    npy_intp t = {};\n    PyArray_DIMS(a)[0] = t;\n}}\n",
        vec!["n"; 3000].join(" + ")
    );
    let parens = format!(
        "void deep(PyArrayObject *a, npy_intp n)\n{{\n    PyArray_DIMS(a)[0] = {}n{};\n}}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let dir = tree(&[("sum.c", sum.as_bytes()), ("parens.c", parens.as_bytes())]);
    let started = Instant::now();
    let out = dims_fix()
        .args(["--format", "json", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(found, [("parens.c", "DF101"), ("sum.c", "DF101")]);
    // A hang guard, not a timing claim.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_panic_in_one_file_leaves_the_others_intact() {
    let dir = tree(&[
        ("a.c", WRITE.as_bytes()),
        ("boom.c", WRITE.as_bytes()),
        ("c.c", WRITE.as_bytes()),
    ]);
    let run = |panic: Option<&str>| {
        let mut cmd = dims_fix();
        cmd.args(["--format", "json", "."]).current_dir(dir.path());
        if let Some(p) = panic {
            cmd.env("DIMS_FIX_TEST_PANIC", p);
        }
        cmd.output().unwrap()
    };
    let clean = run(None);
    let out = run(Some("boom"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("dims-fix: boom.c: internal error while analysing this file"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let findings = |o: &std::process::Output| -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    let all = findings(&clean);
    let kept: Vec<serde_json::Value> = all.into_iter().filter(|f| f["file"] != "boom.c").collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(findings(&out), kept, "the other files' results are intact");
}
