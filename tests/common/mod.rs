//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fixture directories, sorted.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Extra flags a fixture asks for (its `args` file).
pub fn fixture_args(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The dims-fix binary, colour off.
pub fn dims_fix() -> Command {
    let mut cmd = Command::cargo_bin("dims-fix").unwrap();
    cmd.arg("--color").arg("never").env_remove("NO_COLOR");
    cmd
}

pub fn run(args: &[&str], cwd: &Path) -> Output {
    dims_fix().args(args).current_dir(cwd).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The summary line's timing varies from run to run.
pub fn without_timing(text: &str) -> String {
    text.lines()
        .map(|l| match (l.starts_with("dims-fix: "), l.rfind(", ")) {
            (true, Some(i)) if l.ends_with(" ms") => format!("{}, [time]", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
