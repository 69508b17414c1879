//! Findings become edits (DESIGN §4): the local copy and its redirects for a
//! rewrite, a TODO comment for a lock (one per function) or, on request, for
//! a manual finding. Whole lines are inserted or deleted; neighbours keep
//! their bytes, indentation and line endings.

use std::collections::HashSet;

use rayon::prelude::*;
use serde::Serialize;

use crate::analyze::ack::TODO_MARKER;
use crate::analyze::change::{self, Part};
use crate::analyze::{Class, CopyPlan, ExitFix, Finding, Ndim, Rewrite, Span};
use crate::edit::Edit;
use crate::error::Error;
use crate::scan::ScannedFile;
use crate::source::lexical::{self, CodeMap};
use crate::source::Lang;
use crate::span::{eol_at, indent_at, line_start, starts_line};
use crate::templates::Templates;

/// Which findings get edits.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `--only FUNCTION` / `--only FILE:LINE`; empty means all.
    pub only: Vec<Only>,
    /// `--class`: only findings of these classes; empty means all.
    pub classes: Vec<Class>,
    /// `--todo-manual`: a TODO comment at manual findings too.
    pub todo_manual: bool,
    /// Test hook: plant a syntax error in every planned rewrite, so the
    /// verification that must refuse it can be tested end to end.
    pub corrupt: bool,
}

/// A `--only` selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Only {
    Function(String),
    Line { file: String, line: usize },
}

impl Only {
    pub fn parse(s: &str) -> Only {
        match s.rsplit_once(':') {
            Some((file, line)) if !file.is_empty() && line.parse::<usize>().is_ok() => Only::Line {
                file: file.to_string(),
                line: line.parse().unwrap_or(0),
            },
            _ => Only::Function(s.to_string()),
        }
    }
}

/// Every `--only` selector must pick a finding: a typo must not turn the
/// run into a silent no-op. The error names the closest function.
pub fn check_only(files: &[ScannedFile], only: &[Only]) -> Result<(), Error> {
    for o in only {
        let hit = files.iter().any(|file| {
            file.findings
                .iter()
                .any(|f| matches_only(file, f, std::slice::from_ref(o)))
        });
        if hit {
            continue;
        }
        let message = match o {
            Only::Function(name) => {
                let closest = files
                    .iter()
                    .flat_map(|file| &file.findings)
                    .map(|f| f.display.as_str())
                    .map(|f| (strsim::jaro_winkler(name, f), f))
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                match closest {
                    Some((_, f)) => format!(
                        "--only {name}: no finding in a function of that name; \
                         the closest is {f} (--only {f})"
                    ),
                    None => format!("--only {name}: no finding in a function of that name; there are no findings"),
                }
            }
            Only::Line { file, line } => {
                format!("--only {file}:{line}: no finding has a site on that line of that file")
            }
        };
        return Err(Error::Usage(message));
    }
    Ok(())
}

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Rewrite,
    /// A restore made on an exit that skipped it (DESIGN §3b): a bug fix.
    ExitFix,
    LockTodo,
    ManualTodo,
}

/// One reviewable unit: the edits for one finding (or, for a lock TODO,
/// for all lock findings of one function).
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: ChangeKind,
    /// Indices into the file's findings.
    pub findings: Vec<usize>,
    pub edits: Vec<Edit>,
}

fn selected(file: &ScannedFile, f: &Finding, opts: &PlanOptions) -> bool {
    (opts.classes.is_empty() || opts.classes.contains(&f.class))
        && matches_only(file, f, &opts.only)
}

/// Whether `--only` (empty: every finding) picks this finding.
fn matches_only(file: &ScannedFile, f: &Finding, only: &[Only]) -> bool {
    only.is_empty()
        || only.iter().any(|o| match o {
            Only::Function(name) => &f.display == name || &f.function == name,
            Only::Line { file: path, line } => {
                (file.rel == *path || file.rel.ends_with(&format!("/{path}")))
                    && f.sites
                        .iter()
                        .any(|s| file.lines.line(s.span.start) == *line)
            }
        })
}

/// What one finding asks for, decided in finding order and built after
/// (the builds are independent: a file of thousands of TODOs builds them
/// on every core).
enum Slot<'f> {
    /// An exit fix, built at once.
    Ready(Change),
    /// The rewrite of finding `i`.
    Rewrite(usize),
    /// The lock TODO of one function: its group of lock findings.
    Lock(&'f [usize]),
    /// The manual TODO of finding `i`, above `anchor`.
    Manual(usize, usize),
}

/// Plan every change for one file, in position order.
pub fn plan(
    file: &ScannedFile,
    opts: &PlanOptions,
    templates: &Templates,
) -> Result<Vec<Change>, Error> {
    let text = file.text.as_str();
    let mut slots = Vec::new();
    // Each function's lock findings, grouped once for the file (see
    // `change::lock_groups`), and the functions given their TODOs.
    let lock_groups = change::lock_groups(&file.findings);
    let mut locked = HashSet::new();
    // What every change of the file asks of the whole text, found once.
    let copy_n = uses_algorithm(file);
    let guard = needs_version_guard(file);
    // Where the comments and literals are, found once for the file and
    // only when a TODO is considered (asked for each one, it was a pass
    // over the file per TODO).
    let code_map = std::cell::OnceCell::new();
    let code = || code_map.get_or_init(|| CodeMap::new(text));
    for (i, f) in file.findings.iter().enumerate() {
        if !selected(file, f, opts) {
            continue;
        }
        if !f.exit_fixes.is_empty() && !f.acknowledged && !f.parse_error {
            let edits: Option<Vec<Vec<Edit>>> = f
                .exit_fixes
                .iter()
                .map(|x| exit_fix_edits(text, x))
                .collect();
            if let Some(edits) = edits {
                slots.push(Slot::Ready(Change {
                    kind: ChangeKind::ExitFix,
                    findings: vec![i],
                    edits: edits.concat(),
                }));
            }
        }
        match f.class {
            Class::Rewrite => slots.push(Slot::Rewrite(i)),
            Class::Lock
                if !f.acknowledged
                    && !locked.contains(&f.function_body)
                    && can_insert_at(
                        text,
                        code(),
                        change::first_anchor(text, &file.findings, &lock_groups[&f.function_body]),
                    ) =>
            {
                locked.insert(f.function_body);
                slots.push(Slot::Lock(&lock_groups[&f.function_body]));
            }
            Class::Manual
                if opts.todo_manual
                    && !f.acknowledged
                    && !f.parse_error
                    && can_insert_at(text, code(), f.sites.first().map(|s| s.stmt.start)) =>
            {
                slots.push(Slot::Manual(i, f.sites[0].stmt.start));
            }
            _ => {}
        }
    }
    let code = code_map.get();
    let built: Vec<Result<Change, Error>> = slots
        .into_par_iter()
        .with_min_len(64)
        .map(|slot| match slot {
            Slot::Ready(change) => Ok(change),
            Slot::Rewrite(i) => Ok(Change {
                kind: ChangeKind::Rewrite,
                findings: vec![i],
                edits: file.findings[i]
                    .rewrite
                    .iter()
                    .flat_map(|r| rewrite_edits(text, r, opts.corrupt, copy_n))
                    .collect(),
            }),
            Slot::Lock(group) => {
                let code = code.expect("a lock TODO's place was checked on the code map");
                lock_todo(file, code, group, guard, opts, templates)
            }
            Slot::Manual(i, anchor) => manual_todo(file, i, anchor, templates),
        })
        .collect();
    // The first failure in finding order, as when built one by one.
    let mut changes = built.into_iter().collect::<Result<Vec<_>, _>>()?;
    changes.sort_by_key(|c| c.edits.iter().map(|e| e.range.start).min());
    Ok(changes)
}

/// The manual TODO of finding `i`, above the line holding `anchor`.
fn manual_todo(
    file: &ScannedFile,
    i: usize,
    anchor: usize,
    templates: &Templates,
) -> Result<Change, Error> {
    let f = &file.findings[i];
    let ctx = TodoContext {
        file: &file.rel,
        function: f.display.clone(),
        array: f.array.clone(),
        arrays: vec![f.array.clone()],
        lines: site_lines(file, [f]),
        descr_set: f.descr_set,
        reason: f.reason.text(f.cx(&file.lines)),
        code: f.reason.code().id(),
        evidence: f
            .evidence
            .iter()
            .map(|e| e.text(f.cx(&file.lines)))
            .collect(),
    };
    let body = templates.render("manual-todo.txt", &ctx)?;
    Ok(Change {
        kind: ChangeKind::ManualTodo,
        findings: vec![i],
        edits: vec![todo_comment(&file.text, anchor, &body)],
    })
}

/// Whether a TODO can go above the line holding `anchor`: that line must
/// start in code (see [`CodeMap::in_code`]), and the line before it must not
/// end in a line continuation, which would join the TODO to it (and leave
/// the line it joined before on its own: `// ... ??/` swallows the next
/// line under trigraphs).
fn can_insert_at(text: &str, code: &CodeMap, anchor: Option<usize>) -> bool {
    anchor.is_some_and(|a| {
        let start = line_start(text, a);
        let after_continuation =
            start > 0 && lexical::continues(&text[line_start(text, start - 1)..start - 1]);
        code.in_code(start) && !after_continuation
    })
}

/// What the TODO templates may use.
#[derive(Serialize)]
struct TodoContext<'a> {
    file: &'a str,
    function: String,
    /// The finding's array (the first one, for a lock TODO).
    array: String,
    arrays: Vec<String>,
    lines: Vec<usize>,
    descr_set: bool,
    reason: String,
    /// The reason's code (`DF101`).
    code: &'static str,
    evidence: Vec<String>,
}

fn site_lines<'a>(
    file: &ScannedFile,
    findings: impl IntoIterator<Item = &'a Finding>,
) -> Vec<usize> {
    let mut lines: Vec<usize> = findings
        .into_iter()
        .flat_map(|f| &f.sites)
        .map(|s| file.lines.line(s.span.start))
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// What a lock TODO may use: the function, its arrays, the statements of
/// the change that this TODO covers (no line numbers: they would be wrong
/// once the TODO is in) and the fields they change.
#[derive(Serialize)]
struct LockContext<'a> {
    file: &'a str,
    function: String,
    array: String,
    arrays: Vec<String>,
    /// The statements of this part of the change, as the code spells them.
    statements: Vec<String>,
    /// The metadata fields they change (`dimensions`, `nd`, `descr`, ...).
    fields: Vec<String>,
    descr_set: bool,
    /// Two arrays change together (a swap): a two-object critical section.
    swap: bool,
    /// The file is built for Pythons before 3.13 without a compat header
    /// that defines the critical-section macros.
    guard: bool,
    /// This TODO's branch (1-based) and how many the change has.
    part: usize,
    parts: usize,
    issue: &'static str,
    reason: String,
    code: &'static str,
    /// Kept for templates written before: the sites' lines, the evidence.
    lines: Vec<usize>,
    evidence: Vec<String>,
}

/// The upstream report TODOs cite.
const ISSUE: &str = "gh-28197";

/// A function's lock TODOs: above the first statement of its in-place
/// change, and of every other branch that changes the arrays.
fn lock_todo(
    file: &ScannedFile,
    code: &CodeMap,
    group: &[usize],
    guard: bool,
    opts: &PlanOptions,
    templates: &Templates,
) -> Result<Change, Error> {
    let text = file.text.as_str();
    let members: Vec<usize> = group
        .iter()
        .copied()
        .filter(|&i| selected(file, &file.findings[i], opts) && !file.findings[i].acknowledged)
        .collect();
    let group: Vec<&Finding> = members.iter().map(|&i| &file.findings[i]).collect();
    let mut evidence: Vec<String> = Vec::new();
    for f in &group {
        for e in f.evidence.iter().map(|e| e.text(f.cx(&file.lines))) {
            if !evidence.contains(&e) {
                evidence.push(e);
            }
        }
    }
    let parts: Vec<Part> = change::parts(text, &group)
        .into_iter()
        .filter(|p| can_insert_at(text, code, Some(p.anchor)))
        .collect();
    let lead = group[0];
    let mut arrays: Vec<String> = group.iter().map(|f| f.array.clone()).collect();
    arrays.dedup();
    let mut edits = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let mut fields: Vec<String> = Vec::new();
        for s in &part.steps {
            if !fields.contains(&s.field) {
                fields.push(s.field.clone());
            }
        }
        let mut statements: Vec<String> = Vec::new();
        for s in &part.steps {
            if !statements.contains(&s.text) {
                statements.push(s.text.clone());
            }
        }
        let ctx = LockContext {
            file: &file.rel,
            function: lead.display.clone(),
            array: lead.array.clone(),
            arrays: arrays.clone(),
            statements,
            fields,
            descr_set: group.iter().any(|f| f.descr_set),
            swap: arrays.len() > 1,
            guard,
            part: i + 1,
            parts: parts.len(),
            issue: ISSUE,
            reason: lead.reason.text(lead.cx(&file.lines)),
            code: lead.reason.code().id(),
            lines: site_lines(file, group.iter().copied()),
            evidence: evidence.clone(),
        };
        let body = templates.render("lock-todo.txt", &ctx)?;
        edits.push(todo_comment(
            text,
            above_comments(text, code, part.anchor),
            &body,
        ));
    }
    Ok(Change {
        kind: ChangeKind::LockTodo,
        findings: members,
        edits,
    })
}

/// Whether a critical section in this file needs a `PY_VERSION_HEX` guard:
/// the macros exist from Python 3.13 on; NumPy's core (`_core/`) and files
/// that include pythoncapi-compat get them for older Pythons too.
fn needs_version_guard(file: &ScannedFile) -> bool {
    let compat = ["npy_pycompat.h", "pythoncapi_compat.h"]
        .iter()
        .any(|h| file.text.contains(h));
    let core = file.rel.split('/').any(|c| c == "_core");
    !compat && !core
}

/// Where a comment goes above the line holding `anchor`: above the comment
/// lines directly over it (a TODO must not part a comment from its code),
/// at the highest of their starts where one can go (in code, after a line
/// that does not continue).
fn above_comments(text: &str, code: &CodeMap, anchor: usize) -> usize {
    let mut at = line_start(text, anchor);
    let mut best = at;
    while at > 0 {
        let prev = line_start(text, at - 1);
        let t = text[prev..at].trim();
        let comment = t.starts_with("/*") || t.starts_with('*') || t.starts_with("//");
        if !comment || t.contains(';') && !t.ends_with("*/") {
            break;
        }
        at = prev;
        if can_insert_at(text, code, Some(at)) {
            best = at;
        }
    }
    best
}

/// Whether the rewrite copies the shape with `std::copy_n`: a C++ file
/// that already includes `<algorithm>` (else `memcpy`, as in C).
fn uses_algorithm(file: &ScannedFile) -> bool {
    let text = file.text.as_str();
    Lang::of(&file.path, text.as_bytes()) == Lang::Cpp
        && text.lines().any(|l| {
            l.trim_start()
                .strip_prefix('#')
                .and_then(|d| d.trim_start().strip_prefix("include"))
                .is_some_and(|d| d.trim_start().starts_with("<algorithm>"))
        })
}

/// The edits of one rewrite (DESIGN §4); with `copy_n`, the copy is
/// `std::copy_n(source, ndim, name)` instead of `memcpy`.
fn rewrite_edits(text: &str, r: &Rewrite, corrupt: bool, copy_n: bool) -> Vec<Edit> {
    let (name, anchor) = match &r.copy {
        CopyPlan::Insert { before, name } => (name.as_str(), before.start),
        CopyPlan::Alias { decl, name } => (name.as_str(), decl.start),
    };
    let ndim = match r.from.ndim {
        Ndim::Array(s) => format!("PyArray_NDIM({})", &text[s.range()]),
        Ndim::Fields(s) => format!("{}->nd", &text[s.range()]),
    };
    let source = &text[r.from.source.range()];
    let indent = indent_at(text, anchor);
    let eol = eol_at(text, anchor);
    let semi = if corrupt { "" } else { ";" };
    let declare = format!("npy_intp {name}[NPY_MAXDIMS]{semi}");
    let copy = if copy_n {
        format!("std::copy_n({source}, {ndim}, {name});")
    } else {
        format!("memcpy({name}, {source}, {ndim} * sizeof(npy_intp));")
    };
    let mut edits = match &r.copy {
        CopyPlan::Insert { .. } => vec![Edit::insert(
            line_start(text, anchor),
            format!("{indent}{declare}{eol}{indent}{copy}{eol}"),
        )],
        CopyPlan::Alias { decl, .. } => vec![Edit::replace(
            decl.range(),
            format!("{declare}{eol}{indent}{copy}"),
        )],
    };
    edits.extend(r.redirects.iter().map(|s| Edit::replace(s.range(), name)));
    edits.extend(
        r.deletes
            .iter()
            .map(|&s| Edit::delete(whole_lines(text, s).unwrap_or(s.range()))),
    );
    edits
}

/// The restore copied before the exit, at the exit's indentation; an exit
/// that is the body of an `if` without braces gets them (`if (c) {`, the
/// restore, the exit, `}`). `None` when the layout is not one line per
/// statement that this can keep.
fn exit_fix_edits(text: &str, fix: &ExitFix) -> Option<Vec<Edit>> {
    let alone = |s: Span| {
        starts_line(text, s.start)
            && text[s.end..]
                .split('\n')
                .next()
                .is_some_and(|rest| rest.trim().is_empty())
    };
    if !alone(fix.exit) || !alone(fix.restore) {
        return None;
    }
    let eol = eol_at(text, fix.exit.start);
    let indent = indent_at(text, fix.exit.start);
    let from = indent_at(text, fix.restore.start);
    let mut copy = String::new();
    for line in text[line_start(text, fix.restore.start)..fix.restore.end].lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            copy.push_str(eol);
            continue;
        }
        copy.push_str(indent);
        copy.push_str(line.strip_prefix(from)?);
        copy.push_str(eol);
    }
    let exit_line = line_start(text, fix.exit.start);
    let Some(head) = fix.wrap else {
        return Some(vec![Edit::insert(exit_line, copy)]);
    };
    // `if (c)` ends the line before the exit, and the exit ends the `if`.
    let close = text[..exit_line].trim_end().len();
    let header = &text[line_start(text, close)..close];
    if head.end != fix.exit.end
        || !text[..close].ends_with(')')
        || header.contains("//")
        || header.contains("/*")
        || text[close..exit_line].matches('\n').count() != 1
    {
        return None;
    }
    let after = fix.exit.end
        + text[fix.exit.end..]
            .find('\n')
            .map_or(text.len() - fix.exit.end, |i| i + 1);
    let outer = indent_at(text, head.start);
    let end = if after == text.len() && !text.ends_with('\n') {
        format!("{eol}{outer}}}")
    } else {
        format!("{outer}}}{eol}")
    };
    Some(vec![
        Edit::insert(close, " {"),
        Edit::insert(exit_line, copy),
        Edit::insert(after, end),
    ])
}

/// A C block comment holding `body`, its first line marked, inserted as
/// whole lines above the line holding `anchor`, at that line's indentation.
fn todo_comment(text: &str, anchor: usize, body: &str) -> Edit {
    let indent = indent_at(text, anchor);
    let eol = eol_at(text, anchor);
    let columns: usize = indent.chars().map(|c| if c == '\t' { 8 } else { 1 }).sum();
    let width = 79usize.saturating_sub(columns + 3).max(40);
    let marked = format!("{TODO_MARKER}: {}", body.replace("*/", "* /"));
    let mut out = format!("{indent}/*{eol}");
    for para in marked.lines() {
        if para.trim().is_empty() {
            out.push_str(&format!("{indent} *{eol}"));
            continue;
        }
        // Never split words (`descr-set`, identifiers) across lines.
        // A list item's lines hang under its text.
        let hang = if para.starts_with("- ") { "  " } else { "" };
        let options = textwrap::Options::new(width)
            .subsequent_indent(hang)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false);
        for line in textwrap::wrap(para, options) {
            out.push_str(&format!("{indent} * {line}{eol}"));
        }
    }
    out.push_str(&format!("{indent} */{eol}"));
    Edit::insert(line_start(text, anchor), out)
}

/// The whole lines a statement occupies, with their line ending, when the
/// statement is alone on them.
fn whole_lines(text: &str, s: Span) -> Option<std::ops::Range<usize>> {
    if !starts_line(text, s.start) {
        return None;
    }
    let rest = &text[s.end..];
    let line_end = rest.find('\n').map_or(text.len(), |i| s.end + i + 1);
    text[s.end..line_end]
        .trim()
        .is_empty()
        .then(|| line_start(text, s.start)..line_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TODO goes above the comments over its statement, but not after a
    /// line the compiler continues (a backslash, blanks after it too):
    /// the comment's `/*` would join that line.
    #[test]
    fn a_todo_climbs_comments_but_not_past_a_continued_line() {
        let text = "{\n    int x = 0; // note \\ \n    /* grow */\n    // more\n    a[0] = n;\n}\n";
        let anchor = text.find("a[0]").unwrap();
        let code = CodeMap::new(text);
        assert_eq!(
            above_comments(text, &code, anchor),
            text.find("    // more").unwrap()
        );
        let plain = text.replace("note \\ ", "note");
        let anchor = plain.find("a[0]").unwrap();
        let code = CodeMap::new(&plain);
        assert_eq!(
            above_comments(&plain, &code, anchor),
            plain.find("    /* grow").unwrap()
        );
    }
}
