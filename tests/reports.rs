//! The findings report for every fixture, as reviewed snapshots: each write
//! form of DESIGN §2 and each class of §3, with the negatives.

mod common;

use common::*;

#[test]
fn every_fixture_reports_as_reviewed() {
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let mut args = fixture_args(&dir);
        args.extend(["--format".into(), "text".into(), "--root".into()]);
        args.push(dir.to_str().unwrap().into());
        args.push(dir.to_str().unwrap().into());
        let out = dims_fix().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(name, without_timing(&stderr(&out)));
    }
}
