//! `schema/report.schema.json` describes the JSON report: every reviewed
//! JSON snapshot follows it, and so do reports with skipped files and
//! planned diffs; a report with a field the schema does not know fails.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn every_json_snapshot_follows_the_schema() {
    let validator = report_schema();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("tests/snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with("-json.snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // insta's header, then the value.
        let body = text.splitn(3, "---\n").nth(2).unwrap();
        let v: Value = serde_json::from_str(body).unwrap();
        let errors = schema_errors(&validator, &v);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} JSON snapshots");
}

#[test]
fn reports_with_skips_and_diffs_follow_the_schema() {
    let dir = tree(&[
        ("r.c", rewrite_function("g").as_bytes()),
        ("bad.c", b"\xff PyArray_DIMS"),
    ]);
    let out = run(&["--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["findings"][0]["diff"].is_string());
    assert_eq!(v["skipped"][0]["file"], "bad.c");
    let validator = report_schema();
    assert_eq!(schema_errors(&validator, &v), Vec::<String>::new());

    // The schema is strict: a field it does not describe is caught.
    let mut extra = v.clone();
    extra["findings"][0]["undocumented"] = Value::Bool(true);
    assert!(!schema_errors(&validator, &extra).is_empty());
    let mut wrong = v;
    wrong["findings"][0]["class"] = "maybe".into();
    assert!(!schema_errors(&validator, &wrong).is_empty());
}
