//! One test per fixture and per property (`cargo test --test fixtures`
//! lists them as `FIXTURE::apply`, `FIXTURE::diff`, `FIXTURE::report`):
//! `--apply` turns each `input*` file into its `expected*` twin (or leaves
//! it alone when there is none) and a second run plans nothing
//! (idempotence); the `--dry-run` diff of the pristine input applies with
//! both `git apply` and `patch -p1`; and the findings report, as text,
//! JSON and SARIF, matches its reviewed snapshot.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use libtest_mimic::{Arguments, Failed, Trial};

/// One property checked on one fixture (its name and directory).
type Check = fn(&str, &Path);

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let checks: [(&str, Check); 3] = [
            ("apply", apply_gives_the_expected_files_and_is_idempotent),
            ("diff", dry_run_diff_applies_with_git_and_patch),
            ("report", reports_match_their_snapshots),
        ];
        for (what, check) in checks {
            let (name, dir) = (name.clone(), dir.clone());
            trials.push(Trial::test(format!("{name}::{what}"), move || {
                catch(move || check(&name, &dir))
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// A panic (a failed assertion, a snapshot mismatch) is the trial's failure.
fn catch(check: impl FnOnce() + std::panic::UnwindSafe) -> Result<(), Failed> {
    std::panic::catch_unwind(check).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Failed::from(msg)
    })
}

/// What each input should look like after `--apply`.
fn expected(dir: &Path, name: &str) -> Vec<u8> {
    let twin = dir.join(name.replacen("input", "expected", 1));
    if name.starts_with("input") && twin.exists() {
        fs::read(twin).unwrap()
    } else {
        fs::read(dir.join(name)).unwrap()
    }
}

fn dims_fix_in(tmp: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    dims_fix()
        .args(args)
        .args(fixture_args(dir))
        .arg("--root")
        .arg(tmp)
        .arg(tmp)
        .output()
        .unwrap()
}

fn apply_gives_the_expected_files_and_is_idempotent(name: &str, dir: &Path) {
    let tmp = inputs(dir);
    let out = dims_fix_in(tmp.path(), dir, &["--apply"]);
    assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    for entry in fs::read_dir(tmp.path()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap();
        assert!(
            fs::read(&path).unwrap() == expected(dir, file),
            "{name}/{file} differs from its expected output:\n{}",
            String::from_utf8_lossy(&fs::read(&path).unwrap())
        );
    }
    // A second run has nothing left to do.
    let again = dims_fix_in(tmp.path(), dir, &["--dry-run"]);
    assert_eq!(again.status.code(), Some(0), "{name}");
    assert_eq!(stdout(&again), "", "{name}: second run plans edits");
}

fn dry_run_diff_applies_with_git_and_patch(name: &str, dir: &Path) {
    let tmp = inputs(dir);
    let out = dims_fix_in(tmp.path(), dir, &["--dry-run"]);
    let diff = out.stdout;
    if diff.is_empty() {
        // Nothing to change: the inputs are their own expected outputs.
        for (file, bytes) in files_bytes(tmp.path()) {
            assert!(
                bytes == expected(dir, &file),
                "{name}/{file}: no diff, yet a change expected"
            );
        }
        return;
    }
    let patch_file = tempfile::NamedTempFile::new().unwrap();
    fs::write(patch_file.path(), &diff).unwrap();
    let git = git_command(tmp.path())
        .args(["apply", "--whitespace=nowarn"])
        .arg(patch_file.path())
        .output()
        .unwrap();
    assert!(git.status.success(), "{name}: git apply: {}", stderr(&git));
    let by_git: Vec<(String, Vec<u8>)> = files_bytes(tmp.path());
    let tmp2 = inputs(dir);
    let patch = Command::new("patch")
        .args(["-p1", "--quiet", "--binary", "-i"])
        .arg(patch_file.path())
        .current_dir(tmp2.path())
        .output()
        .unwrap();
    assert!(
        patch.status.success(),
        "{name}: patch -p1: {}",
        stdout(&patch)
    );
    assert_eq!(
        files_bytes(tmp2.path()),
        by_git,
        "{name}: git apply and patch agree"
    );
    for (file, bytes) in by_git {
        assert!(
            bytes == expected(dir, &file),
            "{name}/{file}: the diff gives the expected file"
        );
    }
}

fn report(dir: &Path, format: &str) -> std::process::Output {
    let mut args = fixture_args(dir);
    args.extend(["--format".into(), format.into(), "--root".into()]);
    args.push(dir.to_str().unwrap().into());
    args.push(dir.to_str().unwrap().into());
    dims_fix().args(&args).output().unwrap()
}

fn reports_match_their_snapshots(name: &str, dir: &Path) {
    let text = report(dir, "text");
    assert_eq!(text.status.code(), Some(0), "{name}: {}", stderr(&text));
    insta::assert_snapshot!(format!("{name}-text"), without_timing(&stderr(&text)));

    let json = report(dir, "json");
    let mut v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    v["stats"]["elapsed_ms"] = 0.into();
    insta::assert_snapshot!(
        format!("{name}-json"),
        serde_json::to_string_pretty(&v).unwrap()
    );

    let sarif = report(dir, "sarif");
    let mut v: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file:///[root]/".into();
    insta::assert_snapshot!(
        format!("{name}-sarif"),
        serde_json::to_string_pretty(&v).unwrap()
    );
}
