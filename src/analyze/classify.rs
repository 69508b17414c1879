//! Classes (DESIGN §3) for the writes of one function: each (function,
//! array) pair becomes a finding, each site gets a class and a reason a
//! reviewer can check. Order of preference: fresh, rewrite, lock, manual.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use super::api::{is_allocator, may_return_input, BORROWING_CALLEES};
use super::facts::{ArrayId, BlockKind, Declared, Facts, How, JumpKind, Target, UseKind, Write};
use super::summary::Summaries;
use super::{Class, Finding, Kind, Rewrite, Role, Site, Span};
use crate::source::lexical::{self, CodeMap, Define};
use crate::source::LineIndex;

/// What the classifier reads from the file around its functions: the
/// text and lines, and, computed once per file when first needed, its
/// macros and where its comments and strings are.
pub struct FileCx<'a> {
    pub text: &'a str,
    pub lines: &'a LineIndex,
    macros: OnceCell<FileMacros>,
    code: OnceCell<CodeMap>,
}

/// A file's `#define`s, by name.
pub struct FileMacros {
    pub defs: Vec<Define>,
    pub by_name: HashMap<String, usize>,
}

impl<'a> FileCx<'a> {
    pub fn new(text: &'a str, lines: &'a LineIndex) -> Self {
        FileCx {
            text,
            lines,
            macros: OnceCell::new(),
            code: OnceCell::new(),
        }
    }

    /// The file's macros (those inside comments are not).
    pub fn macros(&self) -> &FileMacros {
        self.macros.get_or_init(|| {
            let code = self.code();
            let defs: Vec<Define> = lexical::defines_in(self.text)
                .into_iter()
                .filter(|d| code.in_code(self.lines.start(d.line)))
                .collect();
            let by_name = defs
                .iter()
                .enumerate()
                .map(|(i, d)| (d.name.clone(), i))
                .collect();
            FileMacros { defs, by_name }
        })
    }

    pub fn code(&self) -> &CodeMap {
        self.code.get_or_init(|| CodeMap::new(self.text))
    }
}

impl FileMacros {
    pub fn get(&self, name: &str) -> Option<&Define> {
        self.by_name.get(name).map(|&i| &self.defs[i])
    }
}

/// Classify every array written in a function.
pub fn classify(f: &Facts, summaries: &Summaries, file: &FileCx) -> Vec<Finding> {
    let mut order: Vec<&ArrayId> = Vec::new();
    let mut groups: HashMap<&ArrayId, Vec<&Write>> = HashMap::new();
    for w in f.writes.iter().filter(|w| !w.shape.param) {
        let group = groups.entry(&w.shape.array).or_default();
        if group.is_empty() {
            order.push(&w.shape.array);
        }
        group.push(w);
    }
    // Names given to copies so far (each must differ from every name the
    // function spells, and from each other).
    let mut taken = HashSet::new();
    order
        .into_iter()
        .map(|array| {
            let cx = ArrayCx {
                f,
                summaries,
                text: file.text,
                lines: file.lines,
                array,
                file,
            };
            cx.finding(&groups[array], &mut taken)
        })
        .collect()
}

/// One array of one function being classified.
pub(super) struct ArrayCx<'a> {
    pub(super) f: &'a Facts,
    pub(super) summaries: &'a Summaries,
    /// The original text (layout checks).
    pub(super) text: &'a str,
    pub(super) lines: &'a LineIndex,
    pub(super) array: &'a str,
    pub(super) file: &'a FileCx<'a>,
}

/// Where an array's value comes from at a write.
pub(super) enum Origin {
    /// Allocated in this function (or by a tree function returning new arrays).
    Alloc {
        callee: String,
        at: Span,
        tree: Option<String>,
        /// The variable and the variables it was copied from.
        names: Vec<String>,
    },
    /// Possibly visible to other threads; the description says why.
    Shared(String),
}

/// The result of looking for a restore window.
#[derive(Default)]
pub(super) struct Outcome {
    /// Reasons for temporary writes and restores, by write expression.
    pub(super) reasons: HashMap<Span, String>,
    pub(super) restores: HashSet<Span>,
    pub(super) result: Option<Result<Rewrite, String>>,
}

impl<'a> ArrayCx<'a> {
    pub(super) fn line(&self, pos: usize) -> usize {
        self.lines.line(pos)
    }

    fn finding(&self, writes: &[&Write], taken: &mut HashSet<String>) -> Finding {
        let array = self.array;
        let mut sites = Vec::new();
        let mut shared: Vec<(&Write, String)> = Vec::new();
        for &w in writes {
            if let How::MacroBody { name } = &w.how {
                let at = self
                    .summaries
                    .macros
                    .get(name)
                    .map_or(String::new(), |m| format!(" (defined at {})", m.location));
                let reason = format!(
                    "{name}() is a macro of this tree that writes through {array}'s shape{at}; \
                     its uses cannot be rewritten automatically"
                );
                sites.push(site(w, Class::Manual, reason));
                continue;
            }
            match self.origin(w.expr.start) {
                Origin::Alloc {
                    callee,
                    at,
                    tree,
                    names,
                } => {
                    let tree =
                        tree.map_or(String::new(), |t| format!(" (returns a new array, {t})"));
                    match self.first_escape(&names, at, w.expr) {
                        None => {
                            let reason = format!(
                                "{array} is allocated at line {} by {callee}(){tree} and not yet \
                                 returned, stored or passed on",
                                self.line(at.start)
                            );
                            sites.push(site(w, Class::Fresh, reason));
                        }
                        Some(escape) => shared.push((
                            w,
                            format!(
                                "{array} is allocated at line {} by {callee}() but {escape} \
                                 before this write",
                                self.line(at.start)
                            ),
                        )),
                    }
                }
                Origin::Shared(why) => shared.push((w, why)),
            }
        }

        let (evidence, descr_set) = self.lock_evidence();
        let origin_why = shared.first().map(|(_, why)| why.clone());
        let mut rewrites = Vec::new();
        for kind in [Kind::Dims, Kind::Strides] {
            let ws: Vec<&Write> = shared
                .iter()
                .map(|(w, _)| *w)
                .filter(|w| w.shape.kind == kind)
                .collect();
            if ws.is_empty() {
                continue;
            }
            let why_shared = |w: &Write| {
                shared
                    .iter()
                    .find(|(x, _)| x.expr == w.expr)
                    .map_or(String::new(), |(_, why)| why.clone())
            };
            let outcome = self.window(kind, &ws, taken);
            let result = outcome.result.clone().expect("window always decides");
            for w in ws {
                let role = if outcome.restores.contains(&w.expr) {
                    Role::Restore
                } else if w.target == Target::Pointer {
                    Role::Pointer
                } else {
                    Role::Write
                };
                let (class, reason) = match &result {
                    Ok(_) => (Class::Rewrite, outcome.reasons[&w.expr].clone()),
                    Err(_) if !evidence.is_empty() => (
                        Class::Lock,
                        format!(
                            "{}; part of an in-place change of {array}'s metadata ({})",
                            match role {
                                Role::Pointer => "replaces the shape pointer",
                                Role::Restore => "puts a value back",
                                Role::Write => "changes the live shape, not restored",
                            },
                            evidence[0].0
                        ),
                    ),
                    Err(blocker) => (Class::Manual, format!("{blocker}; {}", why_shared(w))),
                };
                let mut s = site(w, class, reason);
                s.role = role;
                sites.push(s);
            }
            if let Ok(rewrite) = result {
                rewrites.push(rewrite);
            }
        }
        sites.sort_by_key(|s| (s.span.start, s.span.end));
        let mut class = sites.iter().map(|s| s.class).max().unwrap_or(Class::Manual);

        // A parse error on the finding's statements or window: never guess.
        // A finding's extent: its statements, the blocks holding them (an
        // error there may have swallowed a write or its restore), windows.
        let mut extent: Vec<Span> = sites.iter().map(|s| s.stmt).collect();
        extent.extend(writes.iter().map(|w| w.place.block));
        extent.extend(rewrites.iter().map(|r| r.window));
        let parse_error = self.parse_error_in(&extent).or_else(|| {
            // tree-sitter may parse on through an unterminated comment that
            // a compiler would not: as written, the sites must be code.
            let outside = sites.iter().find(|s| {
                let ls = crate::plan::line_start(self.text, s.stmt.start);
                !self.file.code().in_code(ls)
            })?;
            Some(format!(
                "line {} lies inside a comment or string as the file is written \
                 (an unterminated comment?); check it by hand",
                self.line(outside.span.start)
            ))
        });
        if let Some(err) = &parse_error {
            class = Class::Manual;
            for s in &mut sites {
                s.class = Class::Manual;
                s.reason = err.clone();
            }
            rewrites.clear();
        }
        let parse_error = parse_error.is_some();

        let reason = match class {
            Class::Rewrite => {
                let restored: Vec<String> = sites
                    .iter()
                    .filter(|s| s.role == Role::Restore)
                    .map(|s| self.line(s.span.start).to_string())
                    .collect();
                let kinds: Vec<&str> = rewrites
                    .iter()
                    .map(|r| match r.kind {
                        Kind::Dims => "shape",
                        Kind::Strides => "strides",
                    })
                    .collect();
                format!(
                    "temporary change of {array}'s {}, restored at line{} {}; {}; a local copy \
                     removes the race",
                    kinds.join(" and "),
                    if restored.len() == 1 { "" } else { "s" },
                    restored.join(", "),
                    origin_why.unwrap_or_default()
                )
            }
            Class::Lock => {
                let list: Vec<&str> = evidence.iter().map(|(e, _)| e.as_str()).collect();
                format!(
                    "in-place change of {array}'s shape{}: the function also {}; a local copy \
                     cannot fix it, the change needs a lock",
                    if descr_set { " and dtype (descr)" } else { "" },
                    list.join(", ")
                )
            }
            Class::Fresh | Class::Manual => sites
                .iter()
                .find(|s| s.class == class)
                .map(|s| s.reason.clone())
                .unwrap_or_default(),
        };
        if class != Class::Rewrite {
            rewrites.clear();
        }
        Finding {
            function: self.f.name.clone(),
            display: self.f.name.clone(),
            function_span: self.f.name_span,
            array: array.to_string(),
            class,
            descr_set,
            reason,
            evidence: if class == Class::Lock {
                evidence.into_iter().map(|(e, _)| e).collect()
            } else {
                Vec::new()
            },
            sites,
            acknowledged: false,
            parse_error,
            rewrite: rewrites,
            function_body: self.f.span,
        }
    }

    /// Where the array's value at `pos` comes from (statement order),
    /// following plain copies between variables.
    pub(super) fn origin(&self, pos: usize) -> Origin {
        let array = self.array;
        let mut name = array.to_string();
        let mut pos = pos;
        let mut names = vec![name.clone()];
        for _ in 0..8 {
            let last = self
                .f
                .var_mods
                .iter()
                .rfind(|m| m.name == name && m.span.end <= pos);
            let Some(m) = last else {
                return Origin::Shared(if self.f.params.iter().any(|p| p.name == name) {
                    if name == array {
                        format!("{array} is a parameter")
                    } else {
                        format!("{array} comes from the parameter {name}")
                    }
                } else {
                    format!("{array} is not assigned in this function")
                });
            };
            let line = self.line(m.span.start);
            let Some(value) = &m.value else {
                return Origin::Shared(format!(
                    "{name} changes at line {line} in a way not tracked"
                ));
            };
            if let Some(callee) = &value.call {
                if let Some(tree) = self.allocation(callee) {
                    return Origin::Alloc {
                        callee: callee.clone(),
                        at: m.span,
                        tree,
                        names,
                    };
                }
                let input = if may_return_input(callee) {
                    ", which may return its input"
                } else {
                    ""
                };
                return Origin::Shared(format!(
                    "{array} holds the result of {callee}() (line {line}){input}"
                ));
            }
            match &value.ident {
                Some(next) if !names.contains(next) => {
                    name = next.clone();
                    pos = m.span.start;
                    names.push(name.clone());
                }
                _ => {
                    return Origin::Shared(format!(
                        "{name} is assigned `{}` at line {line}",
                        value.text
                    ))
                }
            }
        }
        Origin::Shared(format!(
            "{array} is copied through too many variables to follow"
        ))
    }

    /// Why the new array may be visible to other code at the write, if it
    /// may: a use that publishes it between the allocation and the write
    /// (or anywhere in a loop around the write that the allocation does
    /// not start afresh), a copy into a variable that is not this
    /// function's own, another value assigned to it before the write, a
    /// label that lets control reach the write without the allocation, or
    /// a variable that is itself shared.
    fn first_escape(&self, names: &[String], alloc: Span, write: Span) -> Option<String> {
        let line = |pos: usize| self.line(pos);
        let local =
            |name: &str| matches!(self.f.declared(name), Declared::Local(_) | Declared::Param);
        if let Some(n) = names.iter().find(|n| !local(n)) {
            return Some(format!(
                "`{n}` is not a local variable of this function (a global, a static, or \
                 declared more than once), so other code can reach it"
            ));
        }
        // Before the write, the names hold nothing but new arrays (or NULL).
        let other = self.f.var_mods.iter().find(|m| {
            names.contains(&m.name)
                && m.span.end <= write.start
                && m.span != alloc
                && !m.value.as_ref().is_some_and(|v| {
                    v.is_null
                        || v.ident.as_ref().is_some_and(|i| names.contains(i))
                        || v.call
                            .as_deref()
                            .is_some_and(|c| self.allocation(c).is_some())
                })
        });
        if let Some(m) = other {
            return Some(format!(
                "`{}` is also given another value at line {}, so it may not hold the new \
                 array at the write",
                m.name,
                line(m.span.start)
            ));
        }
        if let Some(at) = self.label_skipping(alloc, write.start) {
            return Some(format!(
                "a label at line {} lets control reach the write without the allocation",
                line(at)
            ));
        }
        // Loops around the write that the allocation does not start afresh
        // (it is outside them, or does not run before the write in each
        // pass): what follows the write in one pass precedes it in the next.
        let dominates = self
            .f
            .var_mods
            .iter()
            .find(|m| m.span == alloc)
            .and_then(|m| m.stmt)
            .is_some_and(|p| {
                p.block.contains(write)
                    && matches!(p.block_kind, BlockKind::Compound | BlockKind::Preproc)
            });
        let loops: Vec<Span> = self
            .loop_spans()
            .filter(|l| l.contains(write) && !(l.contains(alloc) && dominates))
            .collect();
        // Names the new array goes by: the allocated variable, the ones it
        // was copied from, and the ones it is copied to after.
        let mut names: Vec<String> = names.to_vec();
        let after = Span::new(alloc.start, write.end);
        let in_reach = |span: Span| after.contains(span) || loops.iter().any(|l| l.contains(span));
        loop {
            let copy = self.f.var_mods.iter().find(|m| {
                in_reach(m.span)
                    && m.span != alloc
                    && !names.contains(&m.name)
                    && m.from.iter().any(|v| names.contains(v))
            });
            let Some(m) = copy else { break };
            if !local(&m.name) {
                return Some(format!(
                    "it is stored in `{}` at line {}, which other code can reach",
                    m.name,
                    line(m.span.start)
                ));
            }
            names.push(m.name.clone());
        }
        self.f
            .uses
            .iter()
            .filter(|u| names.contains(&u.array))
            .filter(|u| {
                let linear = u.span.end >= alloc.end
                    && u.span.start < write.end
                    && self.reaches(u.span, write);
                linear || loops.iter().any(|l| l.contains(u.span))
            })
            .find_map(|u| {
                let line = self.line(u.span.start);
                let name = &u.array;
                match &u.kind {
                    UseKind::Passed { callee } if !BORROWING_CALLEES.contains(&callee.as_str()) => {
                        Some(format!("{name} is passed to {callee}() at line {line}"))
                    }
                    UseKind::CtorLink { callee } => Some(format!(
                        "{name} becomes the base of a new array ({callee}) at line {line}"
                    )),
                    UseKind::Return => Some(format!("{name} is returned at line {line}")),
                    UseKind::Store => Some(format!("{name} is stored at line {line}")),
                    UseKind::AddressOf => {
                        Some(format!("the address of {name} is taken at line {line}"))
                    }
                    _ => None,
                }
            })
    }

    /// Whether a call returns a new array: `Some(None)` for an allocator of
    /// the API, `Some(Some(location))` for a function of the tree whose
    /// summary says so.
    fn allocation(&self, callee: &str) -> Option<Option<String>> {
        if is_allocator(callee) {
            return Some(None);
        }
        let summary = self.summaries.functions.get(callee)?;
        summary
            .fresh
            .as_ref()
            .map(|_| Some(summary.location.clone()))
    }

    /// A label between `after` and `before` through which control can reach
    /// `before` without running `after`: any label, and a `case` of a switch
    /// that starts before `after` (a switch starting later runs it first).
    pub(super) fn label_skipping(&self, after: Span, before: usize) -> Option<usize> {
        self.f
            .jumps
            .iter()
            .find(|j| {
                let skips = match j.kind {
                    JumpKind::Label => true,
                    JumpKind::Case => j.scope.is_none_or(|sw| sw.start < after.end),
                    _ => false,
                };
                skips && j.span.start >= after.end && j.span.start < before
            })
            .map(|j| j.span.start)
    }

    /// Loops of the function: `for`, `while`, `do`, and backward `goto`s
    /// (from the label to the jump).
    pub(super) fn loop_spans(&self) -> impl Iterator<Item = Span> + '_ {
        let gotos = self.f.jumps.iter().filter_map(|g| {
            if g.kind != JumpKind::Goto {
                return None;
            }
            let label = self
                .f
                .jumps
                .iter()
                .find(|j| j.kind == JumpKind::Label && j.label == g.label)?;
            (label.span.start < g.span.start).then(|| Span::new(label.span.start, g.span.end))
        });
        self.f.loops.iter().copied().chain(gotos)
    }

    /// Whether control can flow from `from` to `to`: false when a block
    /// holding `from` (but not `to`) returns or jumps past `to` after it.
    fn reaches(&self, from: Span, to: Span) -> bool {
        let returns_at_from = self
            .f
            .jumps
            .iter()
            .any(|j| j.kind == JumpKind::Return && j.span.contains(from));
        if returns_at_from {
            return false;
        }
        let label_pos = |label: &Option<String>| {
            self.f
                .jumps
                .iter()
                .find(|j| j.kind == JumpKind::Label && &j.label == label)
                .map(|j| j.span.start)
        };
        !self.f.blocks.iter().any(|b| {
            b.span.contains(from)
                && !b.span.contains(to)
                && b.exits.iter().any(|x| {
                    x.span.start >= from.start
                        && match x.kind {
                            JumpKind::Return => true,
                            JumpKind::Goto => label_pos(&x.label).is_some_and(|l| l > to.start),
                            _ => false,
                        }
                })
        })
    }

    /// Assignments to the array's own metadata and frees of its shape: the
    /// evidence of an intentional in-place change (DESIGN §3 lock).
    fn lock_evidence(&self) -> (Vec<(String, Span)>, bool) {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut descr = false;
        // A name declared twice (an inner block's own variable) may be
        // another array: its fields are no evidence about this one.
        if matches!(self.f.declared(self.array), Declared::Twice) {
            return (out, descr);
        }
        for u in self.f.uses.iter().filter(|u| u.array == self.array) {
            let (key, text) = match &u.kind {
                UseKind::MetaWrite(field) => {
                    descr |= field == "descr";
                    (field.clone(), format!("assigns {}->{field}", self.array))
                }
                UseKind::Free(how) => (how.clone(), format!("frees its shape with {how}()")),
                _ => continue,
            };
            if seen.insert(key) {
                out.push((
                    format!("{text} at line {}", self.line(u.span.start)),
                    u.span,
                ));
            }
        }
        (out, descr)
    }

    /// A parse error overlapping any of `spans`, as a reason; errors inside
    /// the argument list of one of the tree's macros are expected (a type
    /// argument such as `SWAPTYPE(a, b, npy_intp *)`).
    fn parse_error_in(&self, spans: &[Span]) -> Option<String> {
        if self.f.unparsed {
            let line = self.line(self.f.span.start);
            return Some(format!(
                "the code around it did not parse as a function (ERROR from line {line}); \
                 check it by hand, or blank an unknown macro with --ignore-macro"
            ));
        }
        let err = self.f.errors.iter().find(|e| {
            let expected = e
                .in_args_of
                .as_ref()
                .is_some_and(|m| self.summaries.macros.contains_key(m));
            !expected
                && spans
                    .iter()
                    .any(|s| s.overlaps(e.span) || s.contains(e.span))
        })?;
        Some(format!(
            "tree-sitter could not parse line {} of this code (macro?); not rewritten; \
             check it by hand, or blank the macro with --ignore-macro",
            self.line(err.span.start)
        ))
    }
}

fn site(w: &Write, class: Class, reason: String) -> Site {
    Site {
        shown: Default::default(),
        span: w.expr,
        stmt: w.place.stmt,
        kind: w.shape.kind,
        role: if w.target == Target::Pointer {
            Role::Pointer
        } else {
            Role::Write
        },
        class,
        reason,
    }
}

/// A short description of the syntax of a write.
pub(super) fn describe(how: &How) -> String {
    match how {
        How::Assign { op, .. } => format!("`{op}`"),
        How::Update => "`++`/`--`".to_string(),
        How::MemFn(name) => format!("{name}()"),
        How::Callee { name, param } => {
            format!(
                "{name}() (which writes through its parameter {})",
                param + 1
            )
        }
        How::MacroAssign { name } | How::MacroBody { name } => format!("{name}()"),
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
