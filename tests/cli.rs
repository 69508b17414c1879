//! The command line: exit codes (DESIGN §6), bad input, report formats.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const TEMP_WRITE: &str = "#include \"numpy/arrayobject.h\"\n\
void f(PyArrayObject *a, npy_intp v)\n{\n    PyArray_DIMS(a)[0] = v;\n}\n";

const FRESH_ONLY: &str = "PyObject *g(npy_intp n)\n{\n    \
PyArrayObject *r = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_INTP);\n    \
PyArray_DIMS(r)[0] = 0;\n    return (PyObject *)r;\n}\n";

fn json(dir: &Path, extra: &[&str]) -> (Value, i32, String) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    args.push(".");
    let out = run(&args, dir);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v, out.status.code().unwrap(), stderr(&out))
}

#[test]
fn missing_path_is_a_usage_error() {
    let dir = tree(&[]);
    let out = run(&["no/such/dir"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "dims-fix: no/such/dir: no such file or directory\n"
    );
}

#[test]
fn empty_path_is_a_usage_error() {
    let dir = tree(&[]);
    let out = run(&[""], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("PATH"), "{}", stderr(&out));
}

#[test]
fn bad_flag_is_a_usage_error() {
    let dir = tree(&[]);
    let out = run(&["--format", "yaml", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("yaml"));
}

#[test]
fn a_file_operand_is_scanned_whatever_its_name() {
    let dir = tree(&[("notes.txt", TEMP_WRITE.as_bytes())]);
    let out = run(&["--format", "json", "notes.txt"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["file"], "notes.txt");
    assert_eq!(v["findings"][0]["class"], "manual");
}

#[test]
fn non_utf8_file_is_skipped_with_its_line_and_the_rest_goes_on() {
    let mut bad = b"/* caf\xe9 */\nvoid h(PyArrayObject *a) { PyArray_DIMS(a)[0] = 1; }\n".to_vec();
    bad.extend_from_slice(b"\n");
    let dir = tree(&[("bad.c", &bad), ("good.c", TEMP_WRITE.as_bytes())]);
    let (v, code, err) = json(dir.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(err, "dims-fix: bad.c: not valid UTF-8 (line 1), skipped\n");
    assert_eq!(v["skipped"][0]["file"], "bad.c");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["file"], "good.c");
}

#[test]
fn binary_file_with_a_c_name_is_skipped() {
    let dir = tree(&[("blob.c", b"\x7fELF\x00\x01PyArray_DIMS\x00")]);
    let (v, code, err) = json(dir.path(), &[]);
    assert_eq!(code, 3);
    assert_eq!(
        err,
        "dims-fix: blob.c: binary file (NUL byte on line 1), skipped\n"
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn oversized_file_is_skipped() {
    let dir = tree(&[("big.c", TEMP_WRITE.as_bytes())]);
    let (_, code, err) = json(dir.path(), &["--max-file-size", "10"]);
    assert_eq!(code, 3);
    assert!(err.starts_with("dims-fix: big.c: "), "{err}");
    assert!(err.contains("larger than --max-file-size (10)"), "{err}");
}

#[test]
fn broken_symlink_is_reported() {
    let dir = tree(&[("good.c", TEMP_WRITE.as_bytes())]);
    std::os::unix::fs::symlink("gone.c", dir.path().join("dangling.c")).unwrap();
    let (v, code, err) = json(dir.path(), &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains("dangling.c: broken symbolic link, skipped"),
        "{err}"
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn unreadable_file_is_reported() {
    let dir = tree(&[
        ("locked.c", TEMP_WRITE.as_bytes()),
        ("good.c", TEMP_WRITE.as_bytes()),
    ]);
    lock_file(dir.path(), "locked.c");
    let mut cmd = unprivileged();
    let out = cmd
        .args(["--format", "json", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("locked.c: cannot read: Permission denied"),
        "{}",
        stderr(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["file"], "good.c");
}

#[test]
fn check_fails_on_open_findings_only() {
    let dir = tree(&[("f.c", TEMP_WRITE.as_bytes())]);
    assert_eq!(run(&["--check", "."], dir.path()).status.code(), Some(1));
    assert_eq!(run(&["."], dir.path()).status.code(), Some(0));

    let fresh = tree(&[("g.c", FRESH_ONLY.as_bytes())]);
    assert_eq!(run(&["--check", "."], fresh.path()).status.code(), Some(0));

    let allowed = TEMP_WRITE.replace(
        "    PyArray_DIMS(a)[0] = v;",
        "    PyArray_DIMS(a)[0] = v; /* dims-fix: allow(manual) a is private here */",
    );
    let acked = tree(&[("f.c", allowed.as_bytes())]);
    let (v, code, _) = json(acked.path(), &["--check"]);
    assert_eq!(code, 0);
    assert_eq!(v["findings"][0]["acknowledged"], true);

    // An allow comment must say why; another class's allow does not count.
    for comment in [
        "/* dims-fix: allow(manual) */",
        "/* dims-fix: allow(lock) private */",
    ] {
        let bare = TEMP_WRITE.replace(
            "    PyArray_DIMS(a)[0] = v;",
            &format!("    PyArray_DIMS(a)[0] = v; {comment}"),
        );
        let dir = tree(&[("f.c", bare.as_bytes())]);
        let (v, code, _) = json(dir.path(), &["--check"]);
        assert_eq!(code, 1, "{comment}");
        assert_eq!(v["findings"][0]["acknowledged"], false, "{comment}");
    }
}

#[test]
fn json_report_follows_the_schema() {
    let dir = tree(&[
        ("b.c", TEMP_WRITE.as_bytes()),
        ("a.c", FRESH_ONLY.as_bytes()),
    ]);
    let (v, code, _) = json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["tool"], format!("dims-fix {}", env!("CARGO_PKG_VERSION")));
    let findings = v["findings"].as_array().unwrap();
    let files: Vec<&str> = findings
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["a.c", "b.c"], "sorted by file");
    let f = &findings[1];
    for key in ["function", "array", "class", "descr_set", "reason", "sites"] {
        assert!(!f[key].is_null(), "missing {key}");
    }
    let site = &f["sites"][0];
    assert_eq!(site["line"], 4);
    assert_eq!(site["column"], 5);
    assert_eq!(site["kind"], "dims");
    assert_eq!(site["role"], "write");
    assert_eq!(site["text"], "PyArray_DIMS(a)[0] = v;");
    assert_eq!(findings[0]["class"], "fresh");
    assert_eq!(findings[0]["code"], "DF301", "allocated here");
    assert_eq!(f["code"], "DF101", "never restored");
    assert_eq!(site["code"], "DF101");
    for key in ["files_seen", "files_parsed", "elapsed_ms"] {
        assert!(v["stats"][key].is_u64(), "stats.{key}");
    }
    assert_eq!(v["stats"]["files_seen"], 2);
}

#[test]
fn sarif_report_is_sarif_2_1_0() {
    let allowed = TEMP_WRITE.replace(
        "    PyArray_DIMS(a)[0] = v;",
        "    /* dims-fix: allow(manual) private */\n    PyArray_DIMS(a)[0] = v;",
    );
    let dir = tree(&[("f.c", allowed.as_bytes()), ("g.c", FRESH_ONLY.as_bytes())]);
    let out = run(&["--format", "sarif", "--report-fresh", "."], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "dims-fix");
    // One rule per code used, its help the code's page.
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["DF101", "DF301"]);
    assert_eq!(rules[0]["name"], "ChangePersists");
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "warning");
    assert!(rules[0]["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("```c"));
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let manual = results.iter().find(|r| r["ruleId"] == "DF101").unwrap();
    assert_eq!(manual["ruleIndex"], 0);
    let loc = &manual["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "f.c");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 5);
    assert_eq!(manual["suppressions"][0]["kind"], "inSource");
    let fresh = results.iter().find(|r| r["ruleId"] == "DF301").unwrap();
    assert_eq!(fresh["ruleIndex"], 1);
    assert_eq!(fresh["level"], "note");
    assert!(fresh.get("suppressions").is_none());
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
}

/// Code scanning shows what needs attention: proven-safe (fresh) findings
/// only when asked for.
#[test]
fn sarif_leaves_fresh_findings_out_unless_asked() {
    let dir = tree(&[
        ("f.c", TEMP_WRITE.as_bytes()),
        ("g.c", FRESH_ONLY.as_bytes()),
    ]);
    let out = run(&["--format", "sarif", "."], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["DF101"], "no rule for a result left out");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "DF101");
}

/// One function defined twice, under `#if` and `#else`: two findings that
/// GitHub must not merge, so two fingerprints; the same ones on every run.
#[test]
fn sarif_fingerprints_are_unique_and_stable() {
    let body = "{\n    PyArray_DIMS(a)[0] = v;\n}\n";
    let text = format!(
        "#if defined(WIDE)\nvoid f(PyArrayObject *a, npy_intp v)\n{body}#else\n\
         void f(PyArrayObject *a, npy_intp v)\n{body}#endif\n"
    );
    let dir = tree(&[("f.c", text.as_bytes())]);
    let sarif = || {
        let out = run(&["--format", "sarif", "."], dir.path());
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = sarif();
    let results = first["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_unique_fingerprints(&first, "f.c");
    let prints = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&first), prints(&sarif()));
}

/// A skipped file is a notification of the run's invocation, so code
/// scanning shows it.
#[test]
fn sarif_notifies_each_skipped_file() {
    let dir = tree(&[
        ("good.c", TEMP_WRITE.as_bytes()),
        ("bad.c", b"\xff PyArray_DIMS"),
    ]);
    let out = run(&["--format", "sarif", "."], dir.path());
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "warning");
    assert_eq!(
        notes[0]["message"]["text"],
        "bad.c: not valid UTF-8 (line 1), skipped"
    );
    let artifact = &notes[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact["uri"], "bad.c");
    assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = tree(&[("f.c", TEMP_WRITE.as_bytes())]);
    let always = dims_fix_bare()
        .args(["--color", "always", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(stderr(&always).contains("\x1b["), "--color always colours");
    let never = dims_fix_bare()
        .args(["--color", "never", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!stderr(&never).contains("\x1b["));
    // `auto` into a pipe, and NO_COLOR: plain.
    let auto = dims_fix_bare()
        .args(["."])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!stderr(&auto).contains("\x1b["), "NO_COLOR wins");
}

#[test]
fn parse_error_around_a_hit_makes_it_manual() {
    let src =
        "PyObject *g(PyArrayObject *a, npy_intp k)\n{\n    npy_intp n = PyArray_DIM(a, 0);\n    \
GUARD(a)\n    PyArray_DIMS(a)[0] = k;\n    Py_XDECREF(PyArray_Zeros(1, PyArray_DIMS(a), NULL, 0));\n    PyArray_DIMS(a)[0] = n;\n    \
return NULL;\n}\n";
    let dir = tree(&[("g.c", src.as_bytes())]);
    let (v, code, _) = json(dir.path(), &["--check"]);
    assert_eq!(code, 1);
    // tree-sitter reads `GUARD(a) PyArray_DIMS(a)[0] = k;` as a declaration:
    // that write is a mention it could not place, said so with the line.
    assert_eq!(v["findings"][0]["class"], "manual");
    assert_eq!(v["findings"][0]["code"], "DF506", "unplaced mention");
    assert!(v["findings"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("could not parse (from line 4)"));
    assert_eq!(v["findings"][0]["sites"][0]["line"], 5);
    // The restore, seen, is demoted by the error near it.
    assert_eq!(v["findings"][1]["class"], "manual");
    assert_eq!(
        v["findings"][1]["code"], "DF502",
        "parse error near the write"
    );
}

#[test]
fn explain_prints_a_codes_page() {
    let dir = tree(&[]);
    let out = run(&["--explain", "DF110"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(
        page.starts_with("DF110 jump-leaves-window (manual)\n"),
        "{page}"
    );
    assert!(page.contains("What to do:"), "{page}");
    // By name too; an unknown code is a usage error listing the codes.
    let by_name = run(&["--explain", "jump-leaves-window"], dir.path());
    assert_eq!(stdout(&by_name), page);
    let bad = run(&["--explain", "DF999"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("DF101 change-persists"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn include_and_exclude_globs_select_files() {
    let dir = tree(&[
        ("src/a.c", TEMP_WRITE.as_bytes()),
        ("tests/b.c", TEMP_WRITE.as_bytes()),
    ]);
    let files = |flags: &[&str]| -> Vec<String> {
        let (v, _, _) = json(dir.path(), flags);
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["file"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(files(&["--exclude", "tests/**"]), ["src/a.c"]);
    assert_eq!(files(&["--include", "tests/**"]), ["tests/b.c"]);
    let out = run(&["--include", "[", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--include ["), "{}", stderr(&out));
}

/// README's first command: the sample shows each class once, in a short
/// report, and README shows that report as it is.
#[test]
fn the_sample_shows_each_class_once_as_readme_says() {
    let out = dims_fix()
        .arg("--root")
        .arg(repo())
        .arg(repo().join("examples"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = without_timing(&stderr(&out));
    let classes: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("examples/"))
        .map(|l| l.split(": ").nth(1).unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(classes, ["rewrite", "lock", "fresh", "manual"]);
    let lines = stdout(&out).lines().count() + report.lines().count();
    assert!(lines < 80, "{lines} lines");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let shown = without_timing(&readme);
    assert!(
        shown.contains(&report),
        "README's sample report differs:\n{report}"
    );
}

/// The issue's first example: a top-level macro call without `;` before
/// the function. Its write is reported and `--check` fails.
#[test]
fn check_fails_on_a_write_after_a_top_level_macro_call() {
    let src =
        std::fs::read(repo().join("fixtures/macro-call-swallows-next-function/input.c")).unwrap();
    let dir = tree(&[("distance_wrap.c", &src)]);
    let (v, code, err) = json(dir.path(), &["--check"]);
    assert_eq!(code, 1, "{err}");
    let functions: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    assert_eq!(functions, ["set_first", "set_second"]);
}

/// A lock finding whose every caller passes a new array is fresh: no TODO,
/// and `--check` passes; across files too. One caller passing a shared
/// array, or the function's address taken, keeps it a lock that fails
/// `--check`.
#[test]
fn check_passes_when_every_caller_passes_a_new_array() {
    let fixture = |name: &str, file: &str| {
        std::fs::read(repo().join(format!("fixtures/{name}/{file}"))).unwrap()
    };
    let fresh = tree(&[("s.c", &fixture("lock-callers-fresh", "input.c"))]);
    let (v, code, err) = json(fresh.path(), &["--check"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["findings"][0]["class"], "fresh");
    assert_eq!(v["findings"][0]["code"], "DF303");
    let out = run(&["--apply", "."], fresh.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read(fresh.path().join("s.c")).unwrap(),
        fixture("lock-callers-fresh", "input.c"),
        "no TODO for a fresh finding"
    );
    let other = "lock-callers-other-file";
    let across = tree(&[
        ("shape.c", &fixture(other, "shape.c")),
        ("shape.h", &fixture(other, "shape.h")),
        ("squeeze.c", &fixture(other, "squeeze.c")),
    ]);
    let (v, code, err) = json(across.path(), &["--check"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["findings"][0]["class"], "fresh");
    // Alone, the writer has no caller: a lock.
    let alone = tree(&[("shape.c", &fixture(other, "shape.c"))]);
    let (v, code, _) = json(alone.path(), &["--check"]);
    assert_eq!(code, 1);
    assert_eq!(v["findings"][0]["class"], "lock");
    for name in ["lock-callers-shared", "lock-callers-address-taken"] {
        let dir = tree(&[("s.c", &fixture(name, "input.c"))]);
        let (v, code, _) = json(dir.path(), &["--check"]);
        assert_eq!(code, 1, "{name}");
        assert_eq!(v["findings"][0]["class"], "lock", "{name}");
    }
}

/// Ignore files count only inside a git repository, never for a tracked
/// file; --no-ignore turns them off; the summary counts what they hid.
#[test]
fn ignore_files_apply_only_in_git_and_never_to_tracked_files() {
    let ignore = b"*.c\nbuild/\n";
    let files: &[(&str, &[u8])] = &[
        (".gitignore", ignore),
        ("pkg/tracked.c", TEMP_WRITE.as_bytes()),
        ("pkg/untracked.c", TEMP_WRITE.as_bytes()),
        ("build/generated.c", TEMP_WRITE.as_bytes()),
    ];
    // Outside a repository: everything is read.
    let plain = tree(files);
    let (v, code, _) = json(plain.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["stats"]["files_seen"], 3);
    assert_eq!(v["stats"]["passed_over"]["ignore_rule"], 0);
    // In a repository: only the tracked one of the ignored files.
    let repo = tree(files);
    init_repo(repo.path());
    git(repo.path(), &["add", ".gitignore"]);
    git(repo.path(), &["add", "-f", "pkg/tracked.c"]);
    let (v, _, err) = json(repo.path(), &[]);
    let seen: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["pkg/tracked.c"], "{err}");
    assert_eq!(v["stats"]["passed_over"]["ignore_rule"], 2);
    let text = run(&["."], repo.path());
    assert!(
        stderr(&text).contains("not read: 2 by ignore rules"),
        "{}",
        stderr(&text)
    );
    // --no-ignore: all three.
    let (v, _, _) = json(repo.path(), &["--no-ignore"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 3);
}

/// A repository inside a tree that is not one: its ignore files apply
/// under it, at any depth, and nowhere else.
#[test]
fn ignore_files_of_a_nested_repository_apply_under_it_only() {
    let files: &[(&str, &[u8])] = &[
        ("top.c", TEMP_WRITE.as_bytes()),
        ("gen.c", TEMP_WRITE.as_bytes()),
        ("sub/.gitignore", b"gen.c\n"),
        ("sub/gen.c", TEMP_WRITE.as_bytes()),
        ("sub/kept.c", TEMP_WRITE.as_bytes()),
        ("sub/deep/er/gen.c", TEMP_WRITE.as_bytes()),
        ("sub/deep/er/kept.c", TEMP_WRITE.as_bytes()),
    ];
    let dir = tree(files);
    init_repo(&dir.path().join("sub"));
    let (v, code, err) = json(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let mut seen: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, ["gen.c", "sub/deep/er/kept.c", "sub/kept.c", "top.c"]);
    assert_eq!(v["stats"]["passed_over"]["ignore_rule"], 2);
}

/// C++ files are analysed with the C++ grammar: found by the walk and when
/// named, their writes reported, nothing left "not analysed".
#[test]
fn cpp_files_are_analysed_with_the_cpp_grammar() {
    let cpp =
        "#include \"numpy/arrayobject.h\"\nnamespace ext {\nvoid f(PyArrayObject *a)\n{\n    \
PyArray_DIMS(a)[0] = 1;\n}\n}\n";
    let dir = tree(&[
        ("module.cpp", cpp.as_bytes()),
        ("quiet.cc", b"int g(void) { return 0; }\n"),
        ("c.c", FRESH_ONLY.as_bytes()),
    ]);
    let (v, code, _) = json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["not_analysed"].as_array().unwrap().len(), 0);
    assert_eq!(v["stats"]["cpp_files"], 2);
    let cpp_finding = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "module.cpp")
        .expect("the C++ write is reported");
    assert_eq!(cpp_finding["function"], "f");
    assert_eq!(cpp_finding["class"], "manual");
    let (_, code, _) = json(dir.path(), &["--check"]);
    assert_eq!(code, 1, "the C++ write is an open finding");
    // Named on the command line: the same.
    let out = run(&["--format", "json", "module.cpp"], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    let text = run(&["module.cpp"], dir.path());
    assert!(
        stderr(&text).contains("1 file seen (1 C++)"),
        "{}",
        stderr(&text)
    );
}
