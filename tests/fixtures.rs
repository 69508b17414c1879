//! One test per fixture and per property (`cargo test --test fixtures`
//! lists them as `FIXTURE::apply`, `FIXTURE::diff`, `FIXTURE::report`, ...):
//! `--apply` turns each `input*` file into its `expected*` twin (or leaves
//! it alone when there is none) and a second run plans nothing
//! (idempotence); the `--dry-run` diff of the pristine input applies with
//! both `git apply` and `patch -p1`; the findings report, as text,
//! JSON and SARIF, matches its reviewed snapshot (the JSON follows
//! `schema/report.schema.json`); and the SARIF log serves code scanning:
//! unique fingerprints, help for every rule, and `fixes` that, applied,
//! give what the dry run's diff gives; and the lexical write filter
//! changes nothing: with `--parse-all` (every candidate function parsed)
//! the findings, the accounting of mentions and the diff are the same;
//! nor does where the facts of the functions to classify come from.

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
    let mut trials = vec![Trial::test("write-filter::unparsed", || {
        catch(the_filter_leaves_reading_functions_unparsed)
    })];
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let checks: [(&str, Check); 6] = [
            ("apply", apply_gives_the_expected_files_and_is_idempotent),
            ("diff", dry_run_diff_applies_with_git_and_patch),
            ("report", reports_match_their_snapshots),
            ("sarif", sarif_serves_code_scanning),
            ("filter", the_write_filter_changes_nothing),
            ("facts", the_facts_kept_packed_or_parsed_agree),
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
    let errors = schema_errors(&report_schema(), &v);
    assert!(
        errors.is_empty(),
        "{name}: JSON breaks the schema: {errors:?}"
    );
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

/// The findings, the accounting of mentions and the dry run's diff of a
/// fixture, with `extra` arguments and `DIMS_FIX_TEST_FACTS` set to
/// `facts` (when not empty).
fn results(
    dir: &Path,
    extra: &[&str],
    facts: &str,
) -> (serde_json::Value, serde_json::Value, Vec<u8>) {
    let mut args = fixture_args(dir);
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--root".into(), dir.to_str().unwrap().into()]);
    args.push(dir.to_str().unwrap().into());
    let run = |more: &[&str]| {
        let mut cmd = dims_fix();
        cmd.args(&args).args(more);
        if !facts.is_empty() {
            cmd.env("DIMS_FIX_TEST_FACTS", facts);
        }
        cmd.output().unwrap()
    };
    let json = run(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let diff = run(&["--dry-run"]).stdout;
    (
        v["findings"].clone(),
        v["stats"]["accounting"].clone(),
        diff,
    )
}

fn the_write_filter_changes_nothing(name: &str, dir: &Path) {
    let (filtered, parsed) = (results(dir, &[], ""), results(dir, &["--parse-all"], ""));
    assert!(
        filtered.0 == parsed.0,
        "{name}: the findings differ with --parse-all"
    );
    assert!(
        filtered.1 == parsed.1,
        "{name}: the accounting differs: {} with the filter, {} with --parse-all",
        filtered.1,
        parsed.1
    );
    assert!(
        filtered.2 == parsed.2,
        "{name}: the diff differs with --parse-all"
    );
}

/// Where the facts of the functions to classify come from changes
/// nothing: kept from the first parse (a small tree), packed then (a
/// large one), or parsed again (past the packed blocks' budget).
fn the_facts_kept_packed_or_parsed_agree(name: &str, dir: &Path) {
    let kept = results(dir, &[], "");
    for facts in ["packed", "parsed"] {
        let other = results(dir, &[], facts);
        assert!(kept.0 == other.0, "{name}: the findings differ, {facts}");
        assert!(kept.1 == other.1, "{name}: the accounting differs, {facts}");
        assert!(kept.2 == other.2, "{name}: the diff differs, {facts}");
    }
}

/// The filter does act: each fixture's reading function, whose statement
/// macro tree-sitter cannot parse, is parsed only with `--parse-all`
/// (in `write-filter-calls`, one that passes the shape whole to calls
/// that do not write).
fn the_filter_leaves_reading_functions_unparsed() {
    for (fixture, with, without) in [("write-filter", 0, 4), ("write-filter-calls", 3, 4)] {
        let dir = repo().join("fixtures").join(fixture);
        let errors = |extra: &[&str]| {
            let out = dims_fix()
                .args(extra)
                .arg("--format")
                .arg("json")
                .arg(&dir)
                .output()
                .unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["stats"]["parse_errors"].as_u64().unwrap()
        };
        assert_eq!(
            (errors(&[]), errors(&["--parse-all"])),
            (with, without),
            "{fixture}: parse errors with the filter and with --parse-all"
        );
    }
}

fn sarif_serves_code_scanning(name: &str, dir: &Path) {
    for fresh in [false, true] {
        let mut args = vec!["--format", "sarif"];
        args.extend(fresh.then_some("--report-fresh"));
        let tmp = inputs(dir);
        let out = dims_fix_in(tmp.path(), dir, &args);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_unique_fingerprints(&log, name);
        assert_help_per_rule(&log, name);
        let results = log["runs"][0]["results"].as_array().unwrap();
        if !fresh {
            assert!(
                results.iter().all(|r| r["properties"]["class"] != "fresh"),
                "{name}: fresh results without --report-fresh"
            );
        }
        // The fixes, applied, give what the dry run's diff gives.
        let fixed = apply_sarif_fixes(&log, tmp.path());
        let diff = dims_fix_in(tmp.path(), dir, &["--dry-run"]).stdout;
        if !diff.is_empty() {
            let patch_file = tempfile::NamedTempFile::new().unwrap();
            fs::write(patch_file.path(), &diff).unwrap();
            let git = git_command(tmp.path())
                .args(["apply", "--whitespace=nowarn"])
                .arg(patch_file.path())
                .output()
                .unwrap();
            assert!(git.status.success(), "{name}: git apply: {}", stderr(&git));
        }
        let originals = inputs(dir);
        for (file, bytes) in files_bytes(tmp.path()) {
            let by_fixes = fixed
                .iter()
                .find(|(f, _)| *f == file)
                .map(|(_, text)| text.clone().into_bytes())
                .unwrap_or_else(|| fs::read(originals.path().join(&file)).unwrap());
            assert!(
                by_fixes == bytes,
                "{name}/{file}: SARIF fixes give another result than the dry run:\n{}",
                String::from_utf8_lossy(&by_fixes)
            );
        }
    }
}
