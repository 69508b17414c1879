//! A C++ rewrite compiles: every C++ input of a `fixtures/cpp-*` fixture
//! that `--apply` changes (every `cpp-rewrite-*` one must change), and
//! what `--apply` makes of it, pass `g++ -fsyntax-only -std=c++17 -Wall
//! -Wextra` against NumPy's and Python's headers, and the rewrite adds no
//! warning. NumPy's headers come from the package index into the cache
//! (shared with tests/equivalence.rs); without the index the test says so
//! visibly, and fails under CI=true.

mod common;
#[path = "equivalence/spec.rs"]
#[allow(dead_code)]
mod spec;
#[path = "equivalence/toolchain.rs"]
#[allow(dead_code)]
mod toolchain;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use toolchain::{numpy_env, Python};

pub const NUMPY: &str = "2.2.1";

pub fn say(text: &str) {
    // Not eprintln!: the test harness captures that, and a skip must show.
    std::io::stderr().write_all(text.as_bytes()).unwrap();
}

pub fn equiv_dir() -> PathBuf {
    repo().join("tests/equivalence")
}

/// The C++ inputs of the C++ fixtures, by fixture directory.
fn cpp_rewrite_inputs() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("cpp-") {
            continue;
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().file_name().to_string_lossy().to_string();
            if file.starts_with("input") && file.ends_with(".cpp") {
                found.push((dir.clone(), file));
            }
        }
    }
    found.sort();
    found
}

/// The warnings of g++ on `source`, each without its position (a rewrite
/// moves lines, not messages), sorted; `Err` with g++'s output when the
/// file does not compile.
fn gxx_warnings(py: &Python, source: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("g++")
        .args(["-fsyntax-only", "-std=c++17", "-Wall", "-Wextra"])
        .arg(format!("-isystem{}", py.numpy_include))
        .arg(format!("-isystem{}", py.python_include))
        .arg(source)
        .output()
        .expect("g++ runs (apt-get install g++)");
    if !out.status.success() {
        return Err(stderr(&out));
    }
    let mut found: Vec<String> = stderr(&out)
        .lines()
        .filter_map(|l| l.split_once(": warning: ").map(|(_, w)| w.to_string()))
        .collect();
    found.sort();
    Ok(found)
}

#[test]
fn cpp_rewrites_compile_before_and_after_with_no_new_warning() {
    let Some(py) = numpy_env() else {
        say("SKIPPED cxx_compile: no NumPy headers (see above)\n");
        return;
    };
    let inputs_found = cpp_rewrite_inputs();
    assert!(!inputs_found.is_empty(), "no fixtures/cpp-*/input*.cpp");
    for (dir, file) in inputs_found {
        let name = format!("{}/{file}", dir.file_name().unwrap().to_string_lossy());
        let tmp = inputs(&dir);
        let out = dims_fix()
            .arg("--apply")
            .args(fixture_args(&dir))
            .arg("--root")
            .arg(tmp.path())
            .arg(tmp.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let original = dir.join(&file);
        let rewritten = tmp.path().join(&file);
        let changed = std::fs::read(&original).unwrap() != std::fs::read(&rewritten).unwrap();
        assert!(
            changed || !name.starts_with("cpp-rewrite-"),
            "{name}: --apply rewrote nothing"
        );
        if !changed {
            continue;
        }
        let before = gxx_warnings(&py, &original)
            .unwrap_or_else(|e| panic!("{name}: the original does not compile:\n{e}"));
        let mut after = gxx_warnings(&py, &rewritten)
            .unwrap_or_else(|e| panic!("{name}: the rewritten file does not compile:\n{e}"));
        for w in &before {
            if let Some(i) = after.iter().position(|a| a == w) {
                after.remove(i);
            }
        }
        assert!(
            after.is_empty(),
            "{name}: the rewrite adds warnings: {after:#?}"
        );
        say(&format!(
            "{name}: compiles with g++ before ({} warnings) and after, none new\n",
            before.len()
        ));
    }
}
