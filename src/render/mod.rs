//! Output: the findings report (text, JSON, SARIF) and, later, diffs.

pub mod diff;
pub mod report;
pub mod sarif;
pub mod text;

use crate::analyze::{Finding, Span};
use crate::scan::FileReport;

/// A statement's text on one line: whitespace runs collapsed, shortened.
pub fn snippet(text: &str, span: Span) -> String {
    let collapsed: String = text[span.range()]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    const MAX: usize = 160;
    if collapsed.chars().count() <= MAX {
        collapsed
    } else {
        let cut: String = collapsed.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

/// The function name as spelled in the original file (template tokens kept).
pub fn function_name(file: &FileReport, f: &Finding) -> String {
    let span = f.function_span;
    if span.end > span.start && span.end <= file.text.len() {
        file.text[span.range()].to_string()
    } else {
        f.function.clone()
    }
}
