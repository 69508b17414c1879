//! The scan stage drives `source` and `analyze` over the tree: what to scan
//! and what a scan yields (here), the steps over the whole tree (`tree`),
//! one file's parse (`parse`), the callees a function needs summaries of
//! (`callees`), and the classification of a file (`classify`).

use std::path::PathBuf;

use crate::analyze::facts::Giver;
use crate::analyze::summary::{macro_giver, MacroSummary, Summaries};
use crate::analyze::{Finding, Kind, MetaSet, Sources};
use crate::discover;
use crate::source::{lexical, Skip};
use crate::span::LineIndex;

mod account;
mod callees;
mod callers;
mod classify;
mod guard;
mod parse;
mod tree;

pub use classify::{reanalyze, scan_text, Reading};
pub(crate) use guard::guarded;
pub use parse::{change_in, Outline, Reread};
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
    pub strides_macros: Vec<String>,
    pub strides: bool,
    /// The metadata fields beyond the shape (`--fields`).
    pub meta: MetaSet,
    pub ignore_macros: Vec<String>,
    pub threads: usize,
    /// Walk hidden files and directories too (`--hidden`).
    pub hidden: bool,
    /// Follow symbolic links out of `paths` (`--follow`; read, never written).
    pub follow: bool,
    /// Say for every file seen whether it was parsed (`--verbose`).
    pub notes: bool,
    /// Apply no ignore file (`--no-ignore`).
    pub no_ignore: bool,
    /// Leave unparsed the functions whose every mention is plainly a read
    /// (the lexical write filter; off with `--parse-all`).
    pub write_filter: bool,
}

impl ScanOptions {
    /// The options for one text analysed in memory (`scan_text`): no paths
    /// to walk, every default, `--strides` on.
    pub fn for_text() -> ScanOptions {
        ScanOptions {
            paths: Vec::new(),
            root: PathBuf::from("/"),
            include: Vec::new(),
            exclude: Vec::new(),
            max_file_size: u64::MAX,
            dims_macros: Vec::new(),
            strides_macros: Vec::new(),
            strides: true,
            meta: MetaSet::default(),
            ignore_macros: Vec::new(),
            threads: 1,
            hidden: false,
            follow: false,
            notes: false,
            no_ignore: false,
            write_filter: true,
        }
    }

    /// The sources the flags name (no knowledge of the tree yet).
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            dims_macros: &self.dims_macros,
            strides_macros: &self.strides_macros,
            meta: self.meta,
            ..Sources::plain(self.strides)
        }
    }

    /// The names the prefilter and the outline look for.
    pub fn needles(&self) -> Vec<String> {
        discover::needles(
            &self.dims_macros,
            &self.strides_macros,
            self.strides,
            self.meta.contains(Kind::Flags),
        )
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
    /// How its mentions of shape sources ended.
    pub accounting: Accounting,
}

/// How the mentions of shape sources ended (DESIGN §1, accounting): each
/// is read, a site of a finding, or a finding saying why it could not be
/// analysed.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Accounting {
    pub mentions: usize,
    pub read: usize,
    pub at_sites: usize,
    pub not_analysed: usize,
}

impl std::ops::AddAssign for Accounting {
    fn add_assign(&mut self, o: Accounting) {
        self.mentions += o.mentions;
        self.read += o.read;
        self.at_sites += o.at_sites;
        self.not_analysed += o.not_analysed;
    }
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
    /// Where the parse errors are (judged locally: only one overlapping a
    /// finding's statements changes it).
    pub parse_failures: Vec<ParseFailure>,
    pub accounting: Accounting,
    /// What the walk passed over, by reason.
    pub passed_over: discover::SkipCounts,
    /// C++ files seen: by name, and `.h` files whose content is C++.
    pub cpp_files: usize,
    /// The `.h` files among those that were read as C++ because of their
    /// content (the others went to C), sorted; left out of JSON when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpp_headers: Vec<String>,
    pub elapsed_ms: u128,
}

/// What became of one file seen, for `--verbose`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNote {
    /// Relative to the root.
    pub file: String,
    pub note: String,
}

/// An ERROR or MISSING node of tree-sitter in a parsed file.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ParseFailure {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The function it is in, when it is in one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub function: String,
}

/// The outcome of a scan.
pub struct Scan {
    pub files: Vec<ScannedFile>,
    pub skipped: Vec<Skip>,
    /// Per file seen and not skipped, whether and how it was parsed; only
    /// with [`ScanOptions::notes`], sorted by file.
    pub notes: Vec<FileNote>,
    /// Files that may hold a hit but could not be analysed.
    pub not_analysed: Vec<Skip>,
    pub stats: Stats,
    /// Kept to re-analyse planned results with the same knowledge.
    pub summaries: Summaries,
}

/// What the `#define`s of one text tell about the tree, found lexically:
/// its shape-writing macros and its accessor macros.
#[derive(Default)]
struct TreeMacros {
    writers: Vec<(String, MacroSummary)>,
    givers: Vec<(String, Giver)>,
    /// The C library's `mem*` functions it redefines as macros.
    redefined: Vec<&'static str>,
}

/// Shape-writing and accessor macros among the `#define`s of one text.
fn tree_macros_in(opts: &ScanOptions, rel: &str, text: &str) -> TreeMacros {
    let needles = opts.needles();
    let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
    let mut out = TreeMacros {
        redefined: lexical::macros_named(text, crate::analyze::api::MEM_FNS),
        ..TreeMacros::default()
    };
    for m in lexical::macros_mentioning(text, &refs) {
        let line = crate::span::line_of(text.as_bytes(), m.at);
        let location = format!("{rel}:{line}");
        if m.params.is_some() && m.may_write() {
            if let Some(s) = MacroSummary::of(&m, location.clone(), opts.sources()) {
                if s.writes_shape.is_some() {
                    out.writers.push((m.name.clone(), s));
                    continue;
                }
            }
        }
        if let Some(g) = macro_giver(&m, location, opts.sources()) {
            out.givers.push((m.name, g));
        }
    }
    out
}

/// Whether `name` is a shape source already (built in, or by a flag).
fn is_source_name(opts: &ScanOptions, name: &str) -> bool {
    crate::analyze::api::DIMS_SOURCES.contains(&name)
        || name == crate::analyze::api::STRIDES_SOURCE
        || opts
            .dims_macros
            .iter()
            .chain(&opts.strides_macros)
            .any(|m| m == name)
}
