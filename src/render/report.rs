//! The JSON report: a stable interface (DESIGN §5). Fields may be added,
//! never renamed or dropped; these view structs are the only place it is
//! defined.

use serde::Serialize;

use crate::analyze::{Class, Kind, Role};
use crate::scan::Scan;

pub const SCHEMA: u32 = 1;

/// `dims-fix <version>`, as the report and commit trailers name the tool.
pub fn tool() -> String {
    format!("dims-fix {}", env!("CARGO_PKG_VERSION"))
}

#[derive(Serialize)]
pub struct Report {
    pub schema: u32,
    pub tool: String,
    pub findings: Vec<FindingView>,
    pub skipped: Vec<SkipView>,
    /// Files that may hold a hit and were not analysed (C++, until it is):
    /// `--check` fails while there are any.
    pub not_analysed: Vec<NotAnalysedView>,
    pub stats: crate::scan::Stats,
}

#[derive(Serialize)]
pub struct FindingView {
    /// Relative to the root, `/`-separated.
    pub file: String,
    pub function: String,
    pub array: String,
    pub class: Class,
    pub descr_set: bool,
    pub reason: String,
    /// The reason's code (`DF101`; `dims-fix --explain CODE`).
    pub code: &'static str,
    pub acknowledged: bool,
    pub sites: Vec<SiteView>,
    /// The unified diff of this finding's edits, when one is planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Serialize)]
pub struct SiteView {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub kind: Kind,
    pub role: Role,
    pub class: Class,
    pub text: String,
    pub reason: String,
    pub code: &'static str,
    /// For a function read once per preprocessor branch configuration:
    /// the branch the site was seen with ("`#else` at line 12").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_with: Option<String>,
}

#[derive(Serialize)]
pub struct NotAnalysedView {
    pub file: String,
    pub language: &'static str,
    pub reason: String,
}

#[derive(Serialize)]
pub struct SkipView {
    pub file: String,
    pub reason: String,
}

/// Build the report; `diff` gives a finding's planned diff, if any.
pub fn build(scan: &Scan, diff: &dyn Fn(usize, usize) -> Option<String>) -> Report {
    let mut findings = Vec::new();
    for (fi, file) in scan.files.iter().enumerate() {
        for (ni, f) in file.findings.iter().enumerate() {
            let cx = f.cx(&file.lines);
            let sites = f
                .sites
                .iter()
                .map(|s| SiteView {
                    line: s.shown.line,
                    column: s.shown.column,
                    end_line: s.shown.end_line,
                    end_column: s.shown.end_column,
                    kind: s.kind,
                    role: s.role,
                    class: s.class,
                    text: s.shown.text.clone(),
                    reason: s.reason.text(cx),
                    code: s.reason.code().id(),
                    seen_with: s.shown.branch.clone(),
                })
                .collect();
            findings.push(FindingView {
                file: file.rel.clone(),
                function: f.display.clone(),
                array: f.array.clone(),
                class: f.class,
                descr_set: f.descr_set,
                reason: f.reason.text(cx),
                code: f.reason.code().id(),
                acknowledged: f.acknowledged,
                sites,
                diff: diff(fi, ni),
            });
        }
    }
    Report {
        schema: SCHEMA,
        tool: tool(),
        findings,
        skipped: scan
            .skipped
            .iter()
            .map(|s| SkipView {
                file: s.path.to_string_lossy().into_owned(),
                reason: s.reason.clone(),
            })
            .collect(),
        not_analysed: scan
            .not_analysed
            .iter()
            .map(|s| NotAnalysedView {
                file: s.path.to_string_lossy().into_owned(),
                language: "c++",
                reason: s.reason.clone(),
            })
            .collect(),
        stats: scan.stats.clone(),
    }
}

/// Counts per class, for summaries.
pub fn counts(report: &Report) -> [usize; 4] {
    let mut c = [0; 4];
    for f in &report.findings {
        c[f.class as usize] += 1;
    }
    c
}
