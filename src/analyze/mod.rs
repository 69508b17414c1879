//! Analysis: shape sources, aliases and writes (DESIGN §2), then classes
//! (DESIGN §3), from a parsed file to findings.

pub mod ack;
pub mod api;
pub mod change;
pub mod classify;
pub mod facts;
pub mod held;
pub mod reason;
pub mod summary;
pub mod syntax;
pub mod unreadable;
mod window;

use serde::{Deserialize, Serialize};
use tree_sitter::Node;

pub use crate::span::Span;
pub use facts::{Facts, Sources};

use crate::analyze::syntax::KindName;
use crate::source::lexical::Define;
use crate::source::Parsed;
use reason::{Evidence, Reason};
use syntax::{text, Preorder};

/// Which storage a site writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Dims,
    Strides,
    /// The metadata family (DESIGN §3b): one value each, not an array.
    Descr,
    Flags,
    Nd,
    Data,
    Base,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dims => "dims",
            Kind::Strides => "strides",
            Kind::Descr => "descr",
            Kind::Flags => "flags",
            Kind::Nd => "nd",
            Kind::Data => "data",
            Kind::Base => "base",
        }
    }

    /// The metadata fields beyond the shape storage, in `--fields` order.
    pub const META: [Kind; 5] = [Kind::Descr, Kind::Flags, Kind::Nd, Kind::Data, Kind::Base];

    /// The field named `name` (`descr`, ...), as `--fields` spells it.
    pub fn of_field(name: &str) -> Option<Kind> {
        [Kind::Dims, Kind::Strides]
            .into_iter()
            .chain(Kind::META)
            .find(|k| k.field() == name || k.as_str() == name)
    }

    /// Shape or strides storage (an array of `npy_intp` a copy can stand
    /// in for), not a single value.
    pub fn is_storage(self) -> bool {
        matches!(self, Kind::Dims | Kind::Strides)
    }

    /// What a write of this kind changes, as reasons name it.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Dims => "shape",
            Kind::Strides => "strides",
            Kind::Descr => "dtype (descr)",
            Kind::Flags => "flags",
            Kind::Nd => "number of dimensions (nd)",
            Kind::Data => "data pointer",
            Kind::Base => "base",
        }
    }

    /// The `PyArrayObject_fields` member holding this storage.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Dims => "dimensions",
            Kind::Strides => "strides",
            Kind::Descr => "descr",
            Kind::Flags => "flags",
            Kind::Nd => "nd",
            Kind::Data => "data",
            Kind::Base => "base",
        }
    }
}

/// The metadata fields beyond the shape that a run analyses (`--fields`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaSet(u8);

impl MetaSet {
    pub const ALL: MetaSet = MetaSet(0b1_1111);

    pub fn of(kinds: impl IntoIterator<Item = Kind>) -> MetaSet {
        let mut set = MetaSet::default();
        for k in kinds {
            if let Some(i) = Kind::META.iter().position(|&m| m == k) {
                set.0 |= 1 << i;
            }
        }
        set
    }

    pub fn contains(self, kind: Kind) -> bool {
        Kind::META
            .iter()
            .position(|&m| m == kind)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::META.into_iter().filter(move |&k| self.contains(k))
    }
}

/// A finding's class (DESIGN §3), ordered by how much attention it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The array was allocated here and is not yet visible: safe.
    Fresh,
    /// A temporary change, restored: fixed with a local copy.
    Rewrite,
    /// An intentional in-place change of a live array: needs a lock.
    Lock,
    /// Cannot be proven safe to rewrite: a person decides.
    Manual,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Fresh => "fresh",
            Class::Rewrite => "rewrite",
            Class::Lock => "lock",
            Class::Manual => "manual",
        }
    }
}

/// A site's part in its finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes an element (or a range) of the storage.
    Write,
    /// Puts back the original value after a temporary write.
    Restore,
    /// Replaces the storage pointer itself.
    Pointer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Write => "write",
            Role::Restore => "restore",
            Role::Pointer => "pointer",
        }
    }
}

/// One write (DESIGN §3: every write site gets one class and a reason).
#[derive(Debug, Clone)]
pub struct Site {
    /// The write expression.
    pub span: Span,
    /// The statement holding it.
    pub stmt: Span,
    pub kind: Kind,
    pub role: Role,
    pub class: Class,
    pub reason: Reason,
    /// For a function read once per preprocessor branch configuration:
    /// the directive of the innermost such branch holding the site.
    pub branch: Option<Span>,
    /// Where and what, rendered once while the file's text is at hand.
    pub shown: Shown,
}

/// A site as reports show it: 1-based lines and columns (in characters)
/// and the statement's text on one line.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub text: String,
    /// "`#else` at line 12": the branch the site was seen with.
    pub branch: Option<String>,
}

/// How a rewrite finding's copy is made.
#[derive(Debug, Clone)]
pub enum CopyPlan {
    /// Declare `npy_intp NAME[NPY_MAXDIMS];` + memcpy before this statement.
    Insert { before: Span, name: String },
    /// Turn the alias declaration `npy_intp *NAME = SOURCE;` into the copy.
    Alias { decl: Span, name: String },
}

/// Where the copy's contents come from, as spans of the original text.
#[derive(Debug, Clone)]
pub struct CopySource {
    /// The source expression (`PyArray_DIMS(aop)`, `fa->dimensions`).
    pub source: Span,
    /// How to get the number of dimensions.
    pub ndim: Ndim,
}

/// The number of dimensions of the array behind a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ndim {
    /// `PyArray_NDIM(<span>)`
    Array(Span),
    /// `<span>->nd` for a fields pointer or cast.
    Fields(Span),
}

/// The edits a rewrite finding needs (turned into text by `plan`).
#[derive(Debug, Clone)]
pub struct Rewrite {
    pub kind: Kind,
    pub copy: CopyPlan,
    pub from: CopySource,
    /// Source expressions to replace with the copy's name.
    pub redirects: Vec<Span>,
    /// Restore statements to delete.
    pub deletes: Vec<Span>,
    /// From the first write to the last restore.
    pub window: Span,
}

/// A restore made on an exit path that skipped it (DESIGN §3b): the
/// statement that restores, copied as written before the exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitFix {
    /// The `return` or `goto` statement.
    pub exit: Span,
    /// The statement (with the `if` around the restore, when there is one)
    /// that puts the field back.
    pub restore: Span,
    /// The exit is the body of this `if`, without braces: braces go around
    /// the restore and the exit.
    pub wrap: Option<Span>,
}

/// One (function, array) pair with writes.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The function's name as analysed (template tokens masked).
    pub function: String,
    /// The function's name as the file spells it (what reports show).
    pub display: String,
    /// The function name's span (for the original spelling in templates).
    pub function_span: Span,
    pub array: String,
    /// For a finding of the metadata family (`--fields`): the field; the
    /// shape and strides findings have none.
    pub field: Option<Kind>,
    pub class: Class,
    /// The function assigns the array's descr (the dtype setter).
    pub descr_set: bool,
    pub reason: Reason,
    /// For a lock: the in-place metadata changes that show intent.
    pub evidence: Vec<Evidence>,
    /// Sorted by position.
    pub sites: Vec<Site>,
    /// Acknowledged by the tool's own TODO or a `dims-fix: allow(...)`
    /// comment, or resolved.
    pub acknowledged: bool,
    /// A lock finding whose every write is held under a lock on its array:
    /// the lock, as the code takes it (`Py_BEGIN_CRITICAL_SECTION(self)`).
    pub resolved: Option<String>,
    /// Demoted to manual by a parse error nearby: reported, never edited
    /// (not even a TODO: where a comment lands in code that does not parse
    /// is a guess).
    pub parse_error: bool,
    /// The edits, for a rewrite finding (one per kind of storage).
    pub rewrite: Vec<Rewrite>,
    /// For a metadata change whose restore an exit skips: the restore
    /// made on each such exit too (empty when one cannot be proven).
    pub exit_fixes: Vec<ExitFix>,
    /// The function's span (for hunk context and grouping).
    pub function_body: Span,
    /// In a `.c.src` template, the tokens as masked and as written, for
    /// reasons to show them as the file does.
    pub spelled: Vec<(String, String)>,
    /// The function was read once per preprocessor branch configuration;
    /// the findings of its readings are merged.
    pub per_config: bool,
    /// For a lock finding on a parameter of a function that code outside
    /// the tree cannot call: what its callers are asked (`scan` decides).
    pub internal: Option<Internal>,
}

/// A lock finding's array is one of the function's parameters as the
/// caller passed it, the function cannot be called from outside the tree,
/// and it hands the array on to no one before its last change: if every
/// call in the tree passes an array the caller just made, nobody else can
/// see the change (DESIGN §3c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Internal {
    /// The parameter's position (0-based).
    pub param: usize,
    /// What keeps it internal, as written: `static`, `NPY_NO_EXPORT` or
    /// `NPY_VISIBILITY_HIDDEN`.
    pub linkage: &'static str,
    /// `NUMPY_API` (or `UFUNC_API`) when a comment marks the function for
    /// NumPy's C API table: extensions can call it too.
    pub api: Option<&'static str>,
}

/// What one walk over a parsed file yields.
#[derive(Debug, Default)]
pub struct FileFacts {
    pub functions: Vec<Facts>,
    pub macros: Vec<Define>,
}

/// The function-like macros among `defines` (every `#define` of the
/// masked text `masked`, from `lexical::defines_in`) that are in code, not
/// in a comment; the facts of a file's functions come from
/// [`unit_facts`], one unit at a time.
pub fn file_macros(masked: &str, defines: Vec<Define>) -> Vec<Define> {
    let code = crate::source::lexical::CodeMap::new(masked);
    defines
        .into_iter()
        .filter(|d| d.params.is_some() && code.in_code(d.at))
        .collect()
}

/// Facts for the functions of one parsed unit (and for code in ERROR
/// nodes that did not parse as a function but writes or calls).
pub fn unit_facts(parsed: &Parsed, unit: &crate::source::Unit, sources: Sources) -> Vec<Facts> {
    let mut out = Vec::new();
    let src = parsed.masked(unit.config);
    let branches: Vec<facts::BranchSeen> = match (&parsed.layout, unit.per_config) {
        (Some(layout), true) => layout
            .branches_in(&unit.range)
            .map(|b| facts::BranchSeen {
                directive: Span::new(b.directive.start, b.directive.end),
                body: Span::new(b.body.start, b.body.end),
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut walk = Preorder::new(unit.tree.root_node());
    while let Some(node) = walk.next() {
        let found = match node.kind_name() {
            "function_definition" => Some(facts::collect(node, src, sources)),
            "ERROR" if !has_function(node) => {
                let mut f = facts::collect(node, src, sources);
                (!f.writes.is_empty() || !f.calls.is_empty()).then(|| {
                    f.name = guess_name(node, src);
                    f
                })
            }
            // Descend: functions inside `#if` or `extern "C"` blocks.
            _ => continue,
        };
        if let Some(mut f) = found {
            f.per_config = unit.per_config;
            f.config = unit.config;
            f.branches = branches.clone();
            out.push(f);
        }
        walk.skip_children();
    }
    out
}

fn has_function(node: Node) -> bool {
    Preorder::new(node).any(|n| n.kind_name() == "function_definition")
}

/// The likely function name in code that did not parse: the identifier
/// before the first `(` that precedes the first `{`.
fn guess_name(node: Node, src: &[u8]) -> String {
    let t = text(node, src);
    let head = &t[..t.find('{').unwrap_or(t.len())];
    head.rfind('(')
        .map(|p| &head[..p])
        .and_then(|h| {
            h.rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .find(|w| !w.is_empty())
        })
        .map(|name| format!("{name} (unparsed)"))
        .unwrap_or_else(|| "(unparsed code)".to_string())
}

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

impl Finding {
    /// How reasons of this finding are rendered: its array, the file's lines.
    pub fn cx<'a>(&'a self, lines: &'a crate::span::LineIndex) -> reason::Cx<'a> {
        reason::Cx {
            array: &self.array,
            lines,
            spelled: &self.spelled,
        }
    }

    /// Fill in what reports show (names as spelled, positions, statement
    /// texts) while the file's text is at hand.
    pub fn render(&mut self, text: &str, lines: &crate::span::LineIndex) {
        let span = self.function_span;
        if span.end > span.start && span.end <= text.len() {
            self.display = text[span.range()].to_string();
        }
        for site in &mut self.sites {
            let (line, column) = lines.line_col(text, site.span.start);
            let (end_line, end_column) = lines.line_col(text, site.span.end);
            // The statement, unless parse errors made it huge: then the write.
            let huge = lines.line(site.stmt.end) - lines.line(site.stmt.start) > 3;
            let branch = site.branch.map(|d| {
                let mut directive = snippet(text, d);
                if directive.chars().count() > 60 {
                    directive = directive.chars().take(59).collect::<String>() + "…";
                }
                format!("`{directive}` at line {}", lines.line(d.start))
            });
            site.shown = Shown {
                line,
                column,
                end_line,
                end_column,
                text: snippet(text, if huge { site.span } else { site.stmt }),
                branch,
            };
        }
    }
}
