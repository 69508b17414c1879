//! Equivalence: a rewrite must not change what the function does. For every
//! fixture file the tool rewrites, the original and the rewritten file are
//! each compiled with the file's call spec (tests/equivalence/calls/) into a
//! shared object, which a Python driver with NumPy loads and runs; every
//! return value, error, out-parameter and the shape, strides and values of
//! every array involved must be the same. NumPy comes from the package index
//! into the cache; without the index the test says so (and fails under CI).
//! C++ rewrites are named and left to tests/cxx_compile.rs, which compiles
//! them before and after: this harness calls C functions only.
//! Layout of tests/equivalence/: `harness.c` + `runtime.h` (the C side),
//! `driver.py` (the Python side), `calls/FIXTURE/STEM.c` (what to call),
//! `fixtures/` (cases of this test's own, beside the project's fixtures).

mod common;
#[path = "equivalence/spec.rs"]
mod spec;
#[path = "equivalence/toolchain.rs"]
mod toolchain;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use common::*;
use rayon::prelude::*;
use serde_json::Value;
use spec::{callee, covers, Spec};
use toolchain::{c_source, compile, gcc, numpy_env, run_driver, Python, Run};

pub const NUMPY: &str = "2.2.1";

/// (fixture, function) pairs the current analysis rewrites although the
/// rewrite changes what the function does. Reported, not failed on; and the
/// test fails when one of them stops being wrong, so the list shrinks with
/// the fix. Empty since issue 17: the 13 functions of
/// fixtures/manual-other-names, each reaching the array by another name in
/// the window, are manual now (their calls stay, in case one comes back).
const KNOWN_WRONG: &[(&str, &str)] = &[];

pub fn say(text: &str) {
    // Not eprintln!: the test harness captures that, and a skip must show.
    std::io::stderr().write_all(text.as_bytes()).unwrap();
}

pub fn equiv_dir() -> PathBuf {
    repo().join("tests/equivalence")
}

/// One fixture file the tool rewrites: its functions, and two copies of
/// the fixture's inputs, as they were and after `--apply`.
struct Target {
    fixture: String,
    file: String,
    functions: Vec<String>,
    original: PathBuf,
    rewritten: PathBuf,
    _tmp: Arc<tempfile::TempDir>,
}

impl Target {
    fn name(&self) -> String {
        format!("{}/{}", self.fixture, self.file)
    }

    fn spec_path(&self) -> PathBuf {
        let stem = self.file.split('.').next().unwrap();
        equiv_dir().join(format!("calls/{}/{stem}.c", self.fixture))
    }
}

/// Every fixture directory: the project's and this test's own.
fn all_fixture_dirs() -> Vec<PathBuf> {
    let mut dirs = fixture_dirs();
    let own = equiv_dir().join("fixtures");
    let mut extra: Vec<PathBuf> = std::fs::read_dir(own)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .collect();
    extra.sort();
    dirs.extend(extra);
    dirs
}

/// Copy a fixture's inputs (not its expected outputs) into `to`.
fn copy_inputs(dir: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if !name.starts_with("expected") && name != "args" && path.is_file() {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

fn dims_fix_on(dir: &Path, tree: &Path, args: &[&str]) -> Output {
    dims_fix()
        .args(args)
        .args(fixture_args(dir))
        .arg("--root")
        .arg(tree)
        .arg(tree)
        .output()
        .unwrap()
}

/// The files of one fixture that the tool rewrites, found by asking it:
/// its JSON report's rewrite findings that carry a diff.
fn targets_of(dir: &Path) -> Vec<Target> {
    let fixture = dir.file_name().unwrap().to_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let (original, rewritten) = (tmp.path().join("original"), tmp.path().join("rewritten"));
    copy_inputs(dir, &original);
    let out = dims_fix_on(dir, &original, &["--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{fixture}: no JSON report ({e}): {}", stderr(&out)));
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let has_diff = f["diff"].as_str().is_some_and(|d| !d.is_empty());
        if f["class"] == "rewrite" && has_diff {
            let file = f["file"].as_str().unwrap().to_string();
            let function = f["function"].as_str().unwrap().to_string();
            by_file.entry(file).or_default().push(function);
        }
    }
    // C++ rewrites are compiled before and after by tests/cxx_compile.rs;
    // this harness builds and calls C only (a C++ one would need its own
    // call specs, with C++ linkage and classes), so it names them instead.
    let is_cpp = |f: &String| {
        let path = original.join(f);
        let text = std::fs::read(&path).unwrap();
        dims_fix::source::Lang::of(&path, &text) == dims_fix::source::Lang::Cpp
    };
    let cpp: Vec<String> = by_file
        .keys()
        .filter(|f| is_cpp(f))
        .map(|f| format!("{fixture}/{f}"))
        .collect();
    if !cpp.is_empty() {
        say(&format!(
            "equivalence: C++ rewrites not run here (tests/cxx_compile.rs compiles them): {}\n",
            cpp.join(", ")
        ));
        by_file.retain(|f, _| !is_cpp(f));
    }
    if by_file.is_empty() {
        return Vec::new();
    }
    copy_inputs(dir, &rewritten);
    let out = dims_fix_on(dir, &rewritten, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{fixture}: {}", stderr(&out));
    let tmp = Arc::new(tmp);
    by_file
        .into_iter()
        .map(|(file, mut functions)| {
            let changed = std::fs::read(original.join(&file)).unwrap()
                != std::fs::read(rewritten.join(&file)).unwrap();
            assert!(
                changed,
                "{fixture}/{file}: a rewrite is planned but --apply changed nothing"
            );
            functions.sort();
            functions.dedup();
            Target {
                fixture: fixture.clone(),
                file,
                functions,
                original: original.clone(),
                rewritten: rewritten.clone(),
                _tmp: Arc::clone(&tmp),
            }
        })
        .collect()
}

/// Every target's spec, or a failure naming each rewritten function that
/// no spec calls: nobody adds a rewrite that this test does not run.
fn check_specs(targets: &[Target]) -> Vec<Spec> {
    let mut specs = Vec::new();
    let mut failures = Vec::new();
    for target in targets {
        let path = target.spec_path();
        let shown = path.strip_prefix(repo()).unwrap().display().to_string();
        if !path.exists() {
            failures.push(format!(
                "{}: the tool rewrites {:?}, but there is no call spec {shown} (see tests/equivalence/runtime.h)",
                target.name(),
                target.functions
            ));
            continue;
        }
        match spec::read(&path, &shown) {
            Ok(spec) => {
                let called = spec::callees(&spec.text);
                let uncalled: Vec<&String> = target
                    .functions
                    .iter()
                    .filter(|f| !called.iter().any(|c| covers(f, c)))
                    .collect();
                if spec.does_not_compile.is_none() && !uncalled.is_empty() {
                    failures.push(format!(
                        "{}: the tool rewrites {uncalled:?}, which {shown} never calls",
                        target.name(),
                    ));
                }
                specs.push(spec);
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    specs
}

/// Where two descriptions differ, as `path: original != rewritten`.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (p, q) = (x.get(k), y.get(k));
                let null = Value::Null;
                differences(
                    p.unwrap_or(&null),
                    q.unwrap_or(&null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} (original) != {b} (rewritten)")),
        _ => {}
    }
}

/// What calling a target's functions showed.
enum Outcome {
    /// The spec says the file does not compile, and it indeed does not.
    NotCompilable(String),
    Ran {
        calls: usize,
        /// Rewritten functions the calls reached.
        called: BTreeSet<String>,
        /// (function, what differs) for each call that behaved differently.
        mismatches: Vec<(String, String)>,
    },
}

/// The rewritten functions a record's calls reach (or the callee itself
/// when it is none of them).
fn functions_called(target: &Target, record: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for result in record["results"].as_array().into_iter().flatten() {
        let Some(c) = result["call"].as_str().and_then(callee) else {
            continue;
        };
        let hits: Vec<&String> = target.functions.iter().filter(|f| covers(f, &c)).collect();
        if hits.is_empty() {
            out.insert(c);
        }
        out.extend(hits.into_iter().cloned());
    }
    out
}

fn compare(target: &Target, original: &Run, rewritten: &Run) -> Result<Outcome, String> {
    let name = target.name();
    if !original.ok {
        return Err(format!(
            "{name}: the original's calls failed ({})",
            original.stderr
        ));
    }
    let mut mismatches = Vec::new();
    let mut called = BTreeSet::new();
    for (i, rec) in original.records.iter().enumerate() {
        let functions = functions_called(target, rec);
        called.extend(
            functions
                .iter()
                .filter(|f| target.functions.contains(f))
                .cloned(),
        );
        let calls: Vec<&str> = rec["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["call"].as_str())
            .collect();
        let at = format!(
            "`{}` ({}:{})",
            calls.join("`, `"),
            target.spec_path().strip_prefix(repo()).unwrap().display(),
            rec["line"]
        );
        let why = match rewritten.records.get(i) {
            None if i == rewritten.records.len() => {
                vec![format!(
                    "the rewritten code died here ({})",
                    rewritten.stderr
                )]
            }
            None => vec!["not run: the rewritten code died at an earlier call".to_string()],
            Some(new) => {
                let mut diffs = Vec::new();
                differences(rec, new, "", &mut diffs);
                diffs
            }
        };
        if !why.is_empty() {
            let text = format!("{at}:\n    {}", why.join("\n    "));
            mismatches.extend(functions.iter().map(|f| (f.clone(), text.clone())));
        }
    }
    if !rewritten.ok && rewritten.records.len() >= original.records.len() {
        return Err(format!(
            "{name}: the rewritten run failed after its calls ({})",
            rewritten.stderr
        ));
    }
    Ok(Outcome::Ran {
        calls: original.records.len(),
        called,
        mismatches,
    })
}

/// Compile and run one target, original and rewritten.
fn run_target(py: &Python, target: &Target, spec: &Spec) -> Result<Outcome, String> {
    let name = target.name();
    let source = c_source(py, &target.original, &target.file)?;
    if let Some(reason) = &spec.does_not_compile {
        let syntax = gcc(py, spec, &target.original)
            .arg("-fsyntax-only")
            .arg(&source)
            .output()
            .unwrap();
        return match syntax.status.success() {
            true => Err(format!(
                "{name}: its spec says it does not compile, but it does: give it calls"
            )),
            false => Ok(Outcome::NotCompilable(reason.clone())),
        };
    }
    let original = compile(py, spec, &source).map_err(|e| format!("{name}: the original {e}"))?;
    let source = c_source(py, &target.rewritten, &target.file)?;
    let rewritten =
        compile(py, spec, &source).map_err(|e| format!("{name}: the rewritten file {e}"))?;
    compare(
        target,
        &run_driver(py, &original),
        &run_driver(py, &rewritten),
    )
}

/// Fail on anything that went wrong except the known-wrong rewrites, which
/// are reported; and fail on a known-wrong rewrite that is wrong no more.
fn judge(targets: &[Target], outcomes: Vec<Result<Outcome, String>>) {
    let mut failures = Vec::new();
    let mut wrong: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let (mut functions, mut reached, mut calls) = (0, 0, 0);
    let mut not_compiled = Vec::new();
    for (target, outcome) in targets.iter().zip(outcomes) {
        functions += target.functions.len();
        match outcome {
            Err(e) => failures.push(e),
            Ok(Outcome::NotCompilable(why)) => {
                not_compiled.push(format!("{}: {why}", target.name()))
            }
            Ok(Outcome::Ran {
                calls: n,
                called,
                mismatches,
            }) => {
                calls += n;
                reached += called.len();
                for f in target.functions.iter().filter(|f| !called.contains(*f)) {
                    failures.push(format!(
                        "{}: {f} is rewritten but no call reached it",
                        target.name()
                    ));
                }
                for (f, text) in mismatches {
                    wrong
                        .entry((target.fixture.clone(), f))
                        .or_default()
                        .push(text);
                }
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_WRONG
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let mut report = String::new();
    for ((fixture, f), texts) in &wrong {
        let text = format!(
            "{fixture}: {f}: the rewrite changes what it does\n  {}\n",
            texts.join("\n  ")
        );
        if known.contains(&(fixture.clone(), f.clone())) {
            report.push_str(&format!("known wrong (KNOWN_WRONG, issue 17): {text}"));
        } else {
            failures.push(text);
        }
    }
    for (fixture, f) in known.iter().filter(|k| !wrong.contains_key(*k)) {
        failures.push(format!(
            "{fixture}: {f} is in KNOWN_WRONG but is no longer rewritten wrongly: remove it from the list"
        ));
    }
    report.push_str(&format!(
        "equivalence: {} rewritten files, {functions} rewritten functions ({reached} called), \
         {calls} calls compared; {} functions differ ({} known wrong); not compiled: {}\n",
        targets.len(),
        wrong.len(),
        wrong.keys().filter(|k| known.contains(*k)).count(),
        match not_compiled.is_empty() {
            true => "none".to_string(),
            false => not_compiled.join("; "),
        }
    ));
    say(&report);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rewritten_functions_behave_as_the_originals() {
    let dirs = all_fixture_dirs();
    let names: BTreeSet<_> = dirs.iter().map(|d| d.file_name().unwrap()).collect();
    assert_eq!(
        names.len(),
        dirs.len(),
        "fixture directory names are unique"
    );
    let targets: Vec<Target> = dirs.par_iter().map(|d| targets_of(d)).flatten().collect();
    let specs = check_specs(&targets);
    let Some(py) = numpy_env() else { return };
    let outcomes = targets
        .par_iter()
        .zip(&specs)
        .map(|(target, spec)| run_target(&py, target, spec))
        .collect();
    judge(&targets, outcomes);
}

/// The warnings a rewrite adds to its file: those of the rewritten file that
/// the original does not have (as multisets of messages).
fn added_warnings(py: &Python, target: &Target, spec: &Spec) -> Result<Vec<String>, String> {
    let name = target.name();
    let original = c_source(py, &target.original, &target.file)?;
    let before = toolchain::warnings(py, spec, &original)
        .map_err(|e| format!("{name}: the original does not compile:\n{e}"))?;
    let rewritten = c_source(py, &target.rewritten, &target.file)?;
    let mut after = toolchain::warnings(py, spec, &rewritten)
        .map_err(|e| format!("{name}: the rewritten file does not compile:\n{e}"))?;
    for w in &before {
        if let Some(i) = after.iter().position(|a| a == w) {
            after.remove(i);
        }
    }
    Ok(after)
}

/// DESIGN §4.5: a rewrite adds no compiler warning. Every file the tool
/// rewrites in a fixture compiles with `-std=c11 -Wall -Wextra` against
/// NumPy's and Python's headers after the rewrite with no warning the
/// original did not have (a warning-free original: with -Werror).
#[test]
fn rewritten_files_add_no_warnings() {
    let targets: Vec<Target> = all_fixture_dirs()
        .par_iter()
        .map(|d| targets_of(d))
        .flatten()
        .collect();
    let specs = check_specs(&targets);
    let Some(py) = numpy_env() else { return };
    let results: Vec<Option<Result<Vec<String>, String>>> = targets
        .par_iter()
        .zip(&specs)
        .map(|(t, spec)| {
            spec.does_not_compile
                .is_none()
                .then(|| added_warnings(&py, t, spec))
        })
        .collect();
    let mut failures = Vec::new();
    for (t, r) in targets.iter().zip(&results) {
        match r {
            None => {}
            Some(Ok(added)) if added.is_empty() => {}
            Some(Ok(added)) => failures.push(format!(
                "{}: the rewrite adds: {}",
                t.name(),
                added.join("; ")
            )),
            Some(Err(e)) => failures.push(e.clone()),
        }
    }
    say(&format!(
        "warnings: {} rewritten files compiled with -std=c11 -Wall -Wextra, {} add a warning\n",
        results.iter().flatten().count(),
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn template_names_cover_their_expansions() {
    assert!(covers("@TYPE@_widen", "BYTE_widen"));
    assert!(covers("@TYPE@_@kind@_loop", "INT_fast_loop"));
    assert!(!covers("@TYPE@_widen", "_widen"));
    assert!(!covers("@TYPE@_widen", "BYTE_widen2"));
    assert!(covers("f_ops", "f_ops") && !covers("f_ops", "f_ops_size"));
    assert_eq!(callee(" f (a, g(b))").as_deref(), Some("f"));
    assert_eq!(callee("c.calls"), None);
}
