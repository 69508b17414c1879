//! The scan stage drives `source` and `analyze` over the tree: what to scan
//! and what a scan yields (here), the steps over the whole tree (`tree`),
//! one file's parse (`parse`), the callees a function needs summaries of
//! (`callees`), and the classification of a file (`classify`).

use std::path::PathBuf;

use crate::analyze::summary::{MacroSummary, Summaries};
use crate::analyze::{Finding, Sources};
use crate::discover;
use crate::source::{lexical, Skip};
use crate::span::LineIndex;

mod callees;
mod classify;
mod parse;
mod tree;

pub use classify::{reanalyze, scan_text};
pub use tree::scan_tree;

/// What to scan and how.
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    /// Reported paths are relative to this directory.
    pub root: PathBuf,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub max_file_size: u64,
    pub dims_macros: Vec<String>,
    pub strides: bool,
    pub ignore_macros: Vec<String>,
    pub threads: usize,
    /// Walk hidden files and directories too (`--hidden`).
    pub hidden: bool,
}

impl ScanOptions {
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            dims_macros: &self.dims_macros,
            strides: self.strides,
        }
    }
}

/// A file with findings, and the text they refer to.
pub struct ScannedFile {
    pub path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub rel: String,
    pub text: String,
    pub lines: LineIndex,
    /// ERROR/MISSING nodes in the file (a planned result may not add any).
    pub parse_errors: usize,
    /// Sorted by first site.
    pub findings: Vec<Finding>,
}

/// Counters for the report.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    /// C-family files found.
    pub files_seen: usize,
    /// Files parsed (the rest could not contain a hit).
    pub files_parsed: usize,
    /// ERROR/MISSING nodes in parsed files (judged locally, never fatal).
    pub parse_errors: usize,
    pub files_with_parse_errors: usize,
    /// Hidden directories and C-family files the walk left out (in JSON
    /// as `hidden_paths`, when there are any).
    #[serde(rename = "hidden_paths", skip_serializing_if = "is_zero")]
    pub hidden: usize,
    pub elapsed_ms: u128,
}

/// The outcome of a scan.
pub struct Scan {
    pub files: Vec<ScannedFile>,
    pub skipped: Vec<Skip>,
    pub stats: Stats,
    /// Kept to re-analyse planned results with the same knowledge.
    pub summaries: Summaries,
}

/// Shape-writing macros among lexically found `#define`s of one text.
fn shape_macros_in(opts: &ScanOptions, rel: &str, text: &str) -> Vec<(String, MacroSummary)> {
    let needles = discover::needles(&opts.dims_macros, opts.strides);
    let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
    lexical::writing_macros(text, &refs)
        .into_iter()
        .filter_map(|m| {
            let line = crate::span::line_of(text.as_bytes(), m.at);
            let s = MacroSummary::of(&m, format!("{rel}:{line}"), opts.sources())?;
            s.writes_shape.is_some().then_some((m.name, s))
        })
        .collect()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
