//! The JSON report: a stable interface (DESIGN §5). Fields may be added,
//! never renamed or dropped; these view structs are the only place it is
//! defined.

use rayon::prelude::*;
use serde::Serialize;

use crate::analyze::{Class, Finding, Kind, Role};
use crate::edit::Edit;
use crate::scan::{Scan, ScannedFile};

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
    /// The metadata field of a finding of the family (`--fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    pub reason: String,
    /// The reason's code (`DF101`; `dims-fix --explain CODE`).
    pub code: &'static str,
    pub acknowledged: bool,
    /// For a lock held where it is made: the lock, as the code takes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    pub sites: Vec<SiteView>,
    /// The unified diff of this finding's edits, when one is planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The planned edits as exact replacements (SARIF `fixes`), on the
    /// first finding of each change only, so that applying every
    /// finding's fix gives the dry run's result once.
    #[serde(skip)]
    pub fix: Vec<Replacement>,
}

/// One edit, positioned in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub start_line: usize,
    /// 1-based, in characters.
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// 0-based, in characters.
    pub char_offset: usize,
    pub char_length: usize,
    pub inserted: String,
}

impl Replacement {
    fn of(file: &ScannedFile, edit: &Edit) -> Replacement {
        let text = file.text.as_str();
        let (start_line, start_column) = file.lines.line_col(text, edit.range.start);
        let (end_line, end_column) = file.lines.line_col(text, edit.range.end);
        let char_offset = file.lines.char_offset(text, edit.range.start);
        Replacement {
            start_line,
            start_column,
            end_line,
            end_column,
            char_offset,
            char_length: file.lines.char_offset(text, edit.range.end) - char_offset,
            inserted: edit.content.clone(),
        }
    }
}

/// A finding's planned change: its diff, and its edits when the finding
/// is the first the change covers.
pub struct Planned {
    pub diff: String,
    pub edits: Option<Vec<Edit>>,
}

/// Something the run wants said about a file beside the findings: why it
/// was skipped, or could not be parsed (SARIF notifications, the
/// verbose report).
pub struct Notice {
    pub file: String,
    /// What kind of notice: `skipped`, `not-analysed` or `parse-error`.
    pub id: &'static str,
    pub level: &'static str,
    pub message: String,
    /// Line and column (1-based), where the notice is about one place.
    pub at: Option<(usize, usize)>,
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

impl Report {
    /// The notices of this report: one per skipped file, per file that
    /// may hold a hit but was not analysed, and per parse error (a note:
    /// judged locally, it changes only a finding it overlaps).
    pub fn notices(&self) -> Vec<Notice> {
        let skipped = self.skipped.iter().map(|s| Notice {
            file: s.file.clone(),
            id: "skipped",
            level: "warning",
            message: s.reason.clone(),
            at: None,
        });
        let not_analysed = self.not_analysed.iter().map(|s| Notice {
            file: s.file.clone(),
            id: "not-analysed",
            level: "warning",
            message: s.reason.clone(),
            at: None,
        });
        let parse_errors = self.stats.parse_failures.iter().map(|p| Notice {
            file: p.file.clone(),
            id: "parse-error",
            level: "note",
            message: if p.function.is_empty() {
                "parse error (judged locally: it changes only a finding it overlaps)".to_string()
            } else {
                format!(
                    "parse error in {} (judged locally: it changes only a finding it overlaps)",
                    p.function
                )
            },
            at: Some((p.line, p.column)),
        });
        skipped.chain(not_analysed).chain(parse_errors).collect()
    }
}

/// Build the report; `planned` gives a finding's planned change, if any.
pub fn build(scan: &Scan, planned: &(dyn Fn(usize, usize) -> Option<Planned> + Sync)) -> Report {
    // Each view (and its diff) is made on its own: a file of thousands of
    // findings uses every core, and the views keep the findings' order.
    let findings = scan
        .files
        .par_iter()
        .enumerate()
        .flat_map(|(fi, file)| {
            file.findings
                .par_iter()
                .enumerate()
                .with_min_len(GRAIN)
                .map(move |(ni, f)| finding_view(file, f, planned(fi, ni)))
        })
        .collect();
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

/// Findings one task renders at least.
const GRAIN: usize = 32;

/// One finding as reports show it, with its planned change if any.
fn finding_view(file: &ScannedFile, f: &Finding, planned: Option<Planned>) -> FindingView {
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
    let fix = planned
        .as_ref()
        .and_then(|p| p.edits.as_ref())
        .map(|edits| edits.iter().map(|e| Replacement::of(file, e)).collect())
        .unwrap_or_default();
    FindingView {
        file: file.rel.clone(),
        function: f.display.clone(),
        array: f.array.clone(),
        class: f.class,
        descr_set: f.descr_set,
        field: f.field.map(|k| k.as_str()),
        reason: f.reason.text(cx),
        code: f.reason.code().id(),
        acknowledged: f.acknowledged,
        resolved: f.resolved.clone(),
        sites,
        diff: planned.map(|p| p.diff),
        fix,
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
