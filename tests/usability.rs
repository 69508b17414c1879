//! What a user meets first: flags that would do nothing are errors, the
//! help says how to read the results, a closed pipe ends the run quietly
//! with its own exit code, paths apply where the command ran, and the
//! report says what to do next.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::*;

const TEMP_WRITE: &str =
    "void f(PyArrayObject *a, npy_intp v)\n{\n    PyArray_DIMS(a)[0] = v;\n}\n";

#[test]
fn flags_that_need_commit_are_errors_without_it() {
    let dir = tree(&[("f.c", TEMP_WRITE.as_bytes())]);
    for args in [
        &["--branch", "fix"][..],
        &["--signoff"],
        &["--group", "file"],
        &["--author", "A <a@example.com>"],
        &["--force"],
    ] {
        let out = run(&[args, &["."]].concat(), dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("--commit"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // --group and --author also serve --patch-dir; --force serves --apply.
    let patches = tempfile::tempdir().unwrap();
    let out = dims_fix()
        .args([
            "--group",
            "all",
            "--author",
            "A <a@example.com>",
            "--patch-dir",
        ])
        .arg(patches.path())
        .arg(".")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn empty_names_are_rejected() {
    let dir = tree(&[("f.c", TEMP_WRITE.as_bytes())]);
    for flag in [
        "--dims-macro",
        "--ignore-macro",
        "--only",
        "--include",
        "--exclude",
    ] {
        let out = run(&[flag, "", "."], dir.path());
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(stderr(&out).contains(flag), "{flag}: {}", stderr(&out));
    }
    let out = run(&["--dims-macro", "MY DIMS", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a C identifier"));
}

#[test]
fn only_that_matches_nothing_names_the_closest_function() {
    let text = rewrite_function("PyArray_Repeat") + &rewrite_function("other_function");
    let dir = tree(&[("r.c", text.as_bytes())]);
    let out = run(&["--only", "PyArray_repeat", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--only PyArray_repeat: no finding")
            && stderr(&out).contains("the closest is PyArray_Repeat"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "no diff after a usage error");
    let out = run(&["--only", "r.c:1", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--only r.c:1"), "{}", stderr(&out));
    let out = run(
        &["--only", "r.c:4", "--only", "PyArray_Repeat", "."],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `dims-fix --format json | head -c1`: the reader goes away after one
/// byte; the run's exit code is what it would have been (0, or 1 with
/// --check), never 2, every time.
#[test]
fn a_closed_pipe_keeps_the_runs_exit_code() {
    // Enough findings that the report outgrows the pipe's buffer.
    let text: String = (0..50)
        .map(|i| rewrite_function(&format!("f{i}")))
        .collect();
    let dir = tree(&[("many.c", text.as_bytes())]);
    for (check, want) in [(false, 0), (true, 1)] {
        let mut codes = Vec::new();
        for _ in 0..100 {
            let mut child = dims_fix()
                .args(["--format", "json"])
                .args(check.then_some("--check"))
                .arg(".")
                .current_dir(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut out = child.stdout.take().unwrap();
            let mut byte = [0u8; 1];
            out.read_exact(&mut byte).unwrap();
            drop(out);
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            let code = child.wait().unwrap().code();
            assert_eq!(err, "", "a closed pipe is no error");
            codes.push(code);
        }
        assert!(
            codes.iter().all(|&c| c == Some(want)),
            "--check {check}: {codes:?}"
        );
    }
}

#[test]
fn help_shows_examples_the_allow_comment_and_exit_codes() {
    let out = run(&["--help"], &repo());
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for part in [
        "Examples:",
        "dims-fix --apply src/",
        "/* dims-fix: allow(manual)",
        "Exit codes:",
        "  3  some input could not be read",
        "--show-settings",
    ] {
        assert!(help.contains(part), "--help lacks {part:?}:\n{help}");
    }
}

#[test]
fn completions_and_man_page() {
    let out = run(&["--completions", "bash"], &repo());
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("--dims-macro"), "{}", stdout(&out));
    let out = run(&["--completions", "zsh"], &repo());
    assert!(stdout(&out).contains("#compdef dims-fix"));
    let out = run(&["--man"], &repo());
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH dims-fix"),
        "{page}"
    );
    assert!(page.contains("dims\\-macro"), "{page}");
}

#[test]
fn quiet_prints_only_problems_and_verbose_says_why_files_were_not_parsed() {
    let dir = tree(&[
        ("f.c", TEMP_WRITE.as_bytes()),
        ("plain.c", b"int add(int a, int b) { return a + b; }\n"),
        ("bad.c", b"PyArray_DIMS \xff\n"),
    ]);
    let quiet = run(&["--quiet", "."], dir.path());
    assert_eq!(quiet.status.code(), Some(3));
    assert_eq!(
        stderr(&quiet),
        "dims-fix: bad.c: not valid UTF-8 (line 1), skipped\n"
    );
    let verbose = run(&["--verbose", "."], dir.path());
    let err = stderr(&verbose);
    assert!(err.contains("dims-fix: f.c: parsed\n"), "{err}");
    assert!(
        err.contains("dims-fix: plain.c: not parsed: names none of PyArray_DIMS"),
        "{err}"
    );
    assert!(!err.contains("bad.c: not parsed"), "a skip says why itself");
    assert!(err.contains("f.c:3:5: manual DF101"), "{err}");
    let both = run(&["--quiet", "--verbose", "."], dir.path());
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn the_report_ends_with_the_next_command() {
    let dir = tree(&[("r.c", rewrite_function("g").as_bytes())]);
    let out = run(&["."], dir.path());
    assert!(
        stderr(&out).ends_with(
            "dims-fix: 1 rewrite planned: run with --apply to write them, or --commit to commit them\n"
        ),
        "{}",
        stderr(&out)
    );
    let quiet = run(&["--quiet", "."], dir.path());
    assert_eq!(stderr(&quiet), "");
    assert!(stdout(&quiet).starts_with("diff --git a/r.c b/r.c"));
}

/// Outside git, paths are relative to where the command runs, so the diff
/// applies there: README's `dims-fix DIR > fix.patch && git apply fix.patch`.
#[test]
fn outside_git_the_diff_applies_where_it_was_made() {
    let dir = tree(&[("pkg/src/r.c", rewrite_function("g").as_bytes())]);
    let out = run(&["pkg/src"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("diff --git a/pkg/src/r.c b/pkg/src/r.c"),
        "{}",
        stdout(&out)
    );
    let patch = dir.path().join("fix.patch");
    std::fs::write(&patch, out.stdout).unwrap();
    let git = git_command(dir.path())
        .args(["apply", "fix.patch"])
        .output()
        .unwrap();
    assert!(git.status.success(), "{}", stderr(&git));
    assert!(std::fs::read_to_string(dir.path().join("pkg/src/r.c"))
        .unwrap()
        .contains("npy_intp dims[NPY_MAXDIMS];"));
    // The report names the files the same way.
    let again = tree(&[("pkg/src/r.c", rewrite_function("g").as_bytes())]);
    let out = run(&["--format", "json", "pkg"], again.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["file"], "pkg/src/r.c");
}

/// `--format github`: one workflow command per finding needing attention,
/// values escaped so a name cannot end the command or start another.
#[test]
fn github_annotations_are_escaped_workflow_commands() {
    let dir = tree(&[
        ("a,b:c%.c", TEMP_WRITE.as_bytes()),
        ("r.c", rewrite_function("g").as_bytes()),
    ]);
    let out = run(&["--format", "github", "--check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("::warning file=a%2Cb%3Ac%25.c,line=3,col=5,endLine=3,endColumn=27,title=DF101 manual%3A f::f: a: never restored"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("%0A3:5 write: PyArray_DIMS(a)[0] = v;%0A(dims-fix --explain DF101)"));
    assert!(
        lines[1].starts_with("::error file=r.c,line=4,col=5,"),
        "{}",
        lines[1]
    );
}
