//! Accounting (DESIGN §1): every mention of a shape source in the code of
//! a scanned file ends in exactly one of a read, a site of a finding, or a
//! finding of its own saying why it could not be analysed. The first
//! reading of a file sorts its mentions; classification makes the
//! findings and checks that every write the first reading saw is a site.

use std::collections::HashSet;

use crate::analyze::api::FLAG_SETTERS;
use crate::analyze::facts::{Facts, How};
use crate::analyze::reason::{Limit, Reason};
use crate::analyze::{Class, Finding, Kind, MetaSet, Role, Site, Span};
use crate::source::lexical::Define;
use crate::source::{lexical, Parsed};

/// A mention that could not be analysed, and why.
#[derive(Debug, Clone)]
pub(super) struct Open {
    pub(super) span: Span,
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) limit: Limit,
    /// The function it is in: its name, the name's span and its span.
    pub(super) function: Option<(String, Span, Span)>,
}

/// How the mentions of one file ended, after its first reading.
#[derive(Debug, Clone, Default)]
pub(super) struct Accounts {
    pub(super) mentions: usize,
    /// Where the mentions the first reading saw written are.
    pub(super) written: Vec<usize>,
    /// Where every mention starts (to count reads and sites at the end).
    pub(super) at: Vec<usize>,
    pub(super) open: Vec<Open>,
}

/// Sort the mentions of a parsed file by what its facts say of them;
/// `kind_of` tells the names of shape sources (and their kind). Mentions
/// in `read_only` (functions the lexical filter found to only read) are
/// reads.
pub(super) fn account(
    kind_of: &dyn Fn(&str) -> Option<Kind>,
    (strides, meta): (bool, MetaSet),
    parsed: &Parsed,
    (functions, macros): (&[Facts], &[Define]),
    read_only: &[std::ops::Range<usize>],
) -> Accounts {
    let fields: Vec<&str> = if strides {
        vec!["dimensions", "strides"]
    } else {
        vec!["dimensions"]
    };
    let found =
        |config: usize| lexical::mentions(parsed.masked(config), |w| kind_of(w).is_some(), &fields);
    // Each mention with the configuration whose text holds it: a mention
    // in a branch that configuration 0 blanks is in a later one's text
    // only (at the same offset).
    let mut spans: Vec<(std::ops::Range<usize>, usize)> =
        found(0).into_iter().map(|m| (m, 0)).collect();
    if !parsed.configs.is_empty() {
        let mut seen: HashSet<usize> = spans.iter().map(|(m, _)| m.start).collect();
        for k in 1..=parsed.configs.len() {
            for m in found(k) {
                if seen.insert(m.start) {
                    spans.push((m, k));
                }
            }
        }
    }
    spans.sort_by_key(|(m, _)| m.start);
    let mut acc = Accounts {
        mentions: spans.len(),
        ..Accounts::default()
    };
    macro_changes(&mut acc, meta, macros);
    // The functions that may hold a mention, swept in text order so that
    // each mention looks at the few functions open there, not at all.
    let mut by_start: Vec<usize> = (0..functions.len()).collect();
    by_start.sort_by_key(|&i| functions[i].span.start);
    let mut next = 0;
    let mut open_here: Vec<usize> = Vec::new();
    for (m, config) in spans {
        let text = parsed.masked(config);
        let span = Span::new(m.start, m.end);
        while next < by_start.len() && functions[by_start[next]].span.start <= span.start {
            open_here.push(by_start[next]);
            next += 1;
        }
        open_here.retain(|&i| functions[i].span.end >= span.start);
        let mut holding: Vec<usize> = open_here
            .iter()
            .copied()
            .filter(|&i| functions[i].span.contains(span))
            .collect();
        holding.sort_unstable();
        let name = String::from_utf8_lossy(&text[m.clone()]).into_owned();
        let kind = match name.strip_prefix("->") {
            Some("strides") => Kind::Strides,
            Some(_) => Kind::Dims,
            None => kind_of(&name).unwrap_or(Kind::Dims),
        };
        acc.at.push(span.start);
        let holders: Vec<&Facts> = holding.iter().map(|&i| &functions[i]).collect();
        if holders.iter().any(|f| written(f, span)) {
            acc.written.push(span.start);
            continue;
        }
        if holders.iter().any(|f| covered(f, span, &name)) {
            continue;
        }
        // In a function the lexical filter let go: a read.
        if holders.is_empty() && read_only.iter().any(|r| r.contains(&span.start)) {
            continue;
        }
        let function = holders
            .first()
            .map(|f| (f.name.clone(), f.name_span, f.span));
        let limit = match holders.first() {
            Some(f) => in_function(f, span, &name, text),
            None => match outside(parsed, span, &name) {
                Some(limit) => limit,
                None => continue,
            },
        };
        acc.open.push(Open {
            span,
            name,
            kind,
            limit,
            function,
        });
    }
    acc
}

/// Function-like macros whose body changes a metadata field `--fields`
/// selects (a flag setter, `->descr = d`): the macro summaries follow
/// shape writes to each use, not these, so each such macro is a mention
/// not analysed (DF509), at its `#define`.
fn macro_changes(acc: &mut Accounts, meta: MetaSet, macros: &[Define]) {
    for d in macros {
        let Some((name, kind)) = meta_in_body(&d.body, meta) else {
            continue;
        };
        let span = Span::new(d.at, d.at + 1);
        acc.mentions += 1;
        acc.at.push(span.start);
        acc.open.push(Open {
            span,
            name: name.clone(),
            kind,
            limit: Limit::InMacro {
                at: d.at,
                name,
                macro_name: d.name.clone(),
            },
            function: None,
        });
    }
}

/// The first change of a selected field in a macro body: a flag setter's
/// name, or `->field` followed by an assignment operator.
fn meta_in_body(body: &str, meta: MetaSet) -> Option<(String, Kind)> {
    if meta.contains(Kind::Flags) {
        let words = lexical::identifiers(body);
        if let Some(setter) = FLAG_SETTERS.iter().find(|s| words.contains(s)) {
            return Some((setter.to_string(), Kind::Flags));
        }
    }
    meta.iter().find_map(|kind| {
        let field = format!("->{}", kind.field());
        body.match_indices(&field).find_map(|(i, _)| {
            let rest = body[i + field.len()..].trim_start();
            let word_ends = !body[i + field.len()..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            let op = rest.trim_start_matches(['|', '&', '^', '+', '-', '*', '/', '<', '>']);
            let assigns = op.starts_with('=') && !op.starts_with("==") && !rest.starts_with("==");
            (word_ends && assigns).then(|| (field.clone(), kind))
        })
    })
}

/// A write the first reading saw: its source expression holds the mention
/// (or, for a flag setter, the change is that call).
fn written(f: &Facts, m: Span) -> bool {
    f.meta.iter().any(|c| c.expr.start == m.start)
        || f.writes.iter().any(|w| {
            w.source.is_some_and(|s| s.contains(m))
                || (matches!(
                    w.how,
                    How::MacroBody { .. } | How::MacroAssign { .. } | How::Callee { .. }
                ) && w.expr.contains(m))
        })
}

/// A read, a look-alike field (`it->dimensions`), the function's own name,
/// or a use of one of the tree's macros that the summaries decide.
fn covered(f: &Facts, m: Span, name: &str) -> bool {
    f.reads.iter().any(|r| r.span.contains(m))
        || f.raw_fields.iter().any(|(_, _, s)| s.contains(m))
        || f.name_span.contains(m)
        || f.calls
            .iter()
            .any(|c| c.callee == name && c.span.start == m.start)
        || f.writes.iter().any(|w| {
            w.expr.contains(m) && w.source.is_none() && matches!(w.how, How::MayWrite { .. })
        })
}

/// Why a mention inside a function was not placed: nested too deep, or
/// in code that did not parse (an error in its statement: overlapping it,
/// or before it with no `;` or brace between, as `GUARD(a)` before
/// `PyArray_DIMS(a)[0] = k;` makes tree-sitter read a declaration).
fn in_function(f: &Facts, m: Span, name: &str, text: &[u8]) -> Limit {
    if let Some(deep) = f.too_deep.iter().find(|d| d.contains(m)) {
        return Limit::TooDeep {
            at: deep.start,
            limit: crate::analyze::facts::MAX_DEPTH,
        };
    }
    let same_statement = |e: Span| {
        e.start <= m.start
            && text
                .get(e.end.min(m.start)..m.start)
                .is_some_and(|between| !between.iter().any(|b| matches!(b, b';' | b'{' | b'}')))
    };
    let error = f
        .errors
        .iter()
        .find(|e| e.span.contains(m) || e.span.overlaps(m) || same_statement(e.span))
        .map(|e| e.span.start)
        .or_else(|| f.unparsed.then_some(f.span.start));
    Limit::Unrecognised {
        at: m.start,
        name: name.to_string(),
        error,
    }
}

/// Why a mention outside the functions analysed was not placed; `None`
/// for a declaration (`npy_intp *shape_of(PyArrayObject *);`).
fn outside(parsed: &Parsed, m: Span, name: &str) -> Option<Limit> {
    if let Some(b) = parsed
        .layout
        .as_ref()
        .and_then(|l| l.unread.iter().find(|b| b.body.contains(&m.start)))
    {
        return Some(Limit::BranchNotRead {
            at: b.directive.start,
            name: name.to_string(),
        });
    }
    // A prototype (`static npy_intp *shape_of(PyArrayObject *);`, as
    // Cython declares its accessors) is a declaration even inside code
    // tree-sitter could not parse: a type before the name, a parameter
    // list and `;` after it.
    if !name.starts_with("->")
        && after_type(&parsed.file.masked, m.start)
        && lexical::declares(&parsed.file.masked, m.end)
    {
        return None;
    }
    if parsed
        .functions
        .iter()
        .any(|r| r.start <= m.start && m.end <= r.end)
    {
        let error = parsed.errors.iter().copied().find(|&e| {
            parsed
                .functions
                .iter()
                .any(|r| r.contains(&e) && r.contains(&m.start))
        });
        return Some(Limit::Unrecognised {
            at: m.start,
            name: name.to_string(),
            error,
        });
    }
    if !name.starts_with("->") && lexical::declares(&parsed.file.masked, m.end) {
        return None;
    }
    Some(Limit::OutsideFunction {
        at: m.start,
        name: name.to_string(),
    })
}

/// Whether the code before `at` ends in what can end a declaration's type
/// (`*`, or a word that is not a statement keyword): not a statement
/// start (`;`, `{`, `}`, `)`), where a macro call could be a write.
fn after_type(text: &[u8], at: usize) -> bool {
    let before = &text[..at.min(text.len())];
    let end = before
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    match before[..end].last() {
        Some(b'*') => true,
        Some(&b) if crate::source::tokens::is_ident(b) => {
            let start = before[..end]
                .iter()
                .rposition(|&b| !crate::source::tokens::is_ident(b))
                .map_or(0, |i| i + 1);
            !matches!(
                &before[start..end],
                b"else" | b"do" | b"return" | b"case" | b"goto" | b"sizeof"
            )
        }
        _ => false,
    }
}

/// The findings of the mentions that could not be analysed: one each,
/// manual, never edited.
pub(super) fn limit_findings(open: &[Open], text: &str) -> Vec<Finding> {
    open.iter()
        .map(|o| {
            let line = crate::span::line_start(text, o.span.start.min(text.len()));
            let line_end = text[line..].find('\n').map_or(text.len(), |e| line + e);
            let reason = Reason::Limit(o.limit.clone());
            let (function, name_span, body) = match &o.function {
                Some((name, name_span, body)) => (name.clone(), *name_span, *body),
                None => ("(top level)".to_string(), Span::new(0, 0), o.span),
            };
            Finding {
                display: function.clone(),
                function,
                function_span: name_span,
                array: o.name.clone(),
                field: None,
                class: Class::Manual,
                descr_set: false,
                reason: reason.clone(),
                evidence: Vec::new(),
                sites: vec![Site {
                    span: o.span,
                    stmt: Span::new(line, line_end),
                    kind: o.kind,
                    role: Role::Write,
                    class: Class::Manual,
                    reason,
                    branch: None,
                    shown: Default::default(),
                }],
                acknowledged: false,
                resolved: None,
                // Reported, never edited: where a comment would go in code
                // that could not be analysed is a guess.
                parse_error: true,
                rewrite: Vec::new(),
                exit_fixes: Vec::new(),
                function_body: body,
                per_config: false,
                internal: None,
                spelled: Vec::new(),
            }
        })
        .collect()
}

/// Where the sites of some findings are, to ask whether a position is in
/// one of them in logarithmic time (a file with thousands of findings has
/// tens of thousands of mentions to place).
pub(super) struct SiteIndex {
    /// Site starts, sorted, and the furthest end of the sites starting at
    /// or before each.
    starts: Vec<usize>,
    reach: Vec<usize>,
}

impl SiteIndex {
    pub(super) fn new(findings: &[Finding]) -> SiteIndex {
        let mut spans: Vec<(usize, usize)> = findings
            .iter()
            .flat_map(|f| &f.sites)
            .map(|s| (s.span.start, s.span.end.max(s.span.start + 1)))
            .collect();
        spans.sort_unstable();
        let mut reach = Vec::with_capacity(spans.len());
        let mut furthest = 0;
        for &(_, end) in &spans {
            furthest = furthest.max(end);
            reach.push(furthest);
        }
        SiteIndex {
            starts: spans.into_iter().map(|(start, _)| start).collect(),
            reach,
        }
    }

    /// Whether `at` is inside a site.
    pub(super) fn covers(&self, at: usize) -> bool {
        let n = self.starts.partition_point(|&s| s <= at);
        n > 0 && self.reach[n - 1] > at
    }
}

/// The accounting invariant, checked on every run: every write the first
/// reading saw is a site of a finding (or of a finding of its own). The
/// first that is not.
pub(super) fn lost_write(acc: &Accounts, sites: &SiteIndex) -> Option<usize> {
    acc.written.iter().copied().find(|&at| !sites.covers(at))
}

/// How many mentions ended at a site of a finding.
pub(super) fn at_sites(acc: &Accounts, sites: &SiteIndex) -> usize {
    acc.at.iter().filter(|&&at| sites.covers(at)).count()
}
