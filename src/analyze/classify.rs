//! Classes (DESIGN §3) for the writes of one function: each (function,
//! array) pair becomes a finding, each site gets a class and a reason a
//! reviewer can check. Order of preference: fresh, rewrite, lock, manual.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use super::facts::{
    ArrayId, BlockKind, Decl, Facts, How, JumpKind, ReadCx, Target, UseKind, VarMod, Via, Write,
};
use super::summary::{is_allocator, may_return_input, Summaries};
use super::{Class, Copy, CopySource, Finding, Kind, Rewrite, Role, Site, Span};
use crate::plan::starts_line;
use crate::source::lexical::{self, Define};
use crate::source::LineIndex;

/// Classify every array written in a function.
pub fn classify(f: &Facts, summaries: &Summaries, text: &str, lines: &LineIndex) -> Vec<Finding> {
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
    let defines = OnceCell::new();
    order
        .into_iter()
        .map(|array| {
            let cx = ArrayCx {
                f,
                summaries,
                text,
                lines,
                array,
                defines: &defines,
            };
            cx.finding(&groups[array], &mut taken)
        })
        .collect()
}

struct ArrayCx<'a> {
    f: &'a Facts,
    summaries: &'a Summaries,
    /// The original text (layout checks).
    text: &'a str,
    lines: &'a LineIndex,
    array: &'a str,
    /// The file's `#define`s, read when a window needs them.
    defines: &'a OnceCell<Vec<Define>>,
}

/// Where an array's value comes from at a write.
enum Origin {
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
struct Outcome {
    /// Reasons for temporary writes and restores, by write expression.
    reasons: HashMap<Span, String>,
    restores: HashSet<Span>,
    result: Option<Result<Rewrite, String>>,
}

impl<'a> ArrayCx<'a> {
    fn line(&self, pos: usize) -> usize {
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
                !crate::source::lexical::in_code(self.text, ls)
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
    fn origin(&self, pos: usize) -> Origin {
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
                if is_allocator(callee) {
                    return Origin::Alloc {
                        callee: callee.clone(),
                        at: m.span,
                        tree: None,
                        names,
                    };
                }
                if let Some(fs) = self
                    .summaries
                    .functions
                    .get(callee)
                    .filter(|s| s.fresh.is_some())
                {
                    return Origin::Alloc {
                        callee: callee.clone(),
                        at: m.span,
                        tree: Some(fs.location.clone()),
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
        let local = |name: &str| {
            let decls: Vec<&Decl> = self.f.decls.iter().filter(|d| d.name == name).collect();
            let params = self.f.params.iter().filter(|p| p.name == name).count();
            match decls.as_slice() {
                [d] => params == 0 && d.storage.is_none(),
                [] => params == 1,
                _ => false,
            }
        };
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
                        || v.call.as_deref().is_some_and(|c| self.allocates(c))
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
        if let Some(j) = self.f.jumps.iter().find(|j| {
            matches!(j.kind, JumpKind::Label | JumpKind::Case)
                && j.span.start >= alloc.end
                && j.span.start < write.start
        }) {
            return Some(format!(
                "a label at line {} lets control reach the write without the allocation",
                line(j.span.start)
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

    /// Whether a call returns a new array: an allocator, or a function of
    /// the tree whose summary says so.
    fn allocates(&self, callee: &str) -> bool {
        is_allocator(callee)
            || self
                .summaries
                .functions
                .get(callee)
                .is_some_and(|s| s.fresh.is_some())
    }

    /// Loops of the function: `for`, `while`, `do`, and backward `goto`s
    /// (from the label to the jump).
    fn loop_spans(&self) -> impl Iterator<Item = Span> + '_ {
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
        let declared = self.f.decls.iter().filter(|d| d.name == self.array).count()
            + self
                .f
                .params
                .iter()
                .filter(|p| p.name == self.array)
                .count();
        if declared > 1 {
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

    /// Find the temporary-write window for one kind of storage (DESIGN §3
    /// rewrite): every slot written is restored to the value read from it
    /// before, on every path, with nothing in between that a copy cannot
    /// redirect.
    fn window(&self, kind: Kind, ws: &[&Write], taken: &mut HashSet<String>) -> Outcome {
        let mut out = Outcome::default();
        let result = self.try_window(kind, ws, taken, &mut out);
        out.result = Some(result);
        out
    }

    fn try_window(
        &self,
        kind: Kind,
        ws: &[&Write],
        taken: &mut HashSet<String>,
        out: &mut Outcome,
    ) -> Result<Rewrite, String> {
        let array = self.array;
        let line = |pos: usize| self.line(pos);

        // Slots and their restores.
        let mut slots: Vec<(&str, Vec<&Write>)> = Vec::new();
        for &w in ws {
            match &w.target {
                Target::Element { index, .. } if !index.contains('?') => {
                    match slots.iter_mut().find(|(i, _)| i == index) {
                        Some((_, v)) => v.push(w),
                        None => slots.push((index, vec![w])),
                    }
                }
                Target::Element { .. } => {
                    return Err(format!(
                        "writes through an alias moved by an amount not tracked (line {})",
                        line(w.expr.start)
                    ))
                }
                Target::Whole => {
                    return Err(format!(
                        "{} at line {} changes {array}'s live shape and is not undone: \
                         the change persists (a bug if unintended, a missing lock if intended)",
                        describe(&w.how),
                        line(w.expr.start)
                    ))
                }
                Target::Pointer => {
                    return Err(format!(
                        "replaces {array}'s shape pointer at line {}",
                        line(w.expr.start)
                    ))
                }
            }
        }
        // Per slot: the saved variable, its read and the index variables.
        let mut saved_reads: Vec<(String, &VarMod, &str, Vec<String>)> = Vec::new();
        let mut restores: Vec<&Write> = Vec::new();
        for (index, slot) in &slots {
            let first = slot[0];
            let last = *slot.last().expect("slots are never empty");
            if !pure_index(index) {
                return Err(format!(
                    "the index [{index}] at line {} has side effects or reaches memory that \
                     may change from one evaluation to the next",
                    line(first.expr.start)
                ));
            }
            if slot.len() < 2 {
                return Err(format!(
                    "never restored: the change to {array}'s shape at line {} persists \
                     (a bug if unintended, a missing lock if intended)",
                    line(first.expr.start)
                ));
            }
            let saved = match &last.how {
                How::Assign { op, value } if op == "=" => value.ident.clone(),
                _ => None,
            };
            let Some(saved) = saved else {
                return Err(format!(
                    "the last write to {array}'s shape slot [{index}] (line {}) does not put back \
                     a saved original value: the change persists",
                    line(last.expr.start)
                ));
            };
            let read = self
                .f
                .var_mods
                .iter()
                .rfind(|m| m.name == saved && m.span.end <= first.expr.start);
            let wanted = (array.to_string(), kind, index.to_string());
            let Some(read) = read.filter(|m| m.slot_read.as_ref() == Some(&wanted)) else {
                return Err(format!(
                    "the restore at line {} stores `{saved}`, which is not the value read from \
                     {array}'s shape slot [{index}] before the write at line {}",
                    line(last.expr.start),
                    line(first.expr.start)
                ));
            };
            let vars: Vec<String> = match &first.target {
                Target::Element { index_vars, .. } => index_vars.clone(),
                _ => Vec::new(),
            };
            for m in self
                .f
                .var_mods
                .iter()
                .filter(|m| m.span.start >= read.span.end && m.span.end <= last.expr.start)
            {
                let what = if m.name == saved {
                    format!("`{saved}` (the saved value)")
                } else if vars.contains(&m.name) {
                    format!("`{}` (the index)", m.name)
                } else if m.name == array {
                    array.to_string()
                } else {
                    continue;
                };
                return Err(format!(
                    "{what} changes at line {} before the restore at line {}",
                    line(m.span.start),
                    line(last.expr.start)
                ));
            }
            let source = read
                .value
                .as_ref()
                .map_or(String::new(), |v| v.text.clone());
            out.reasons.insert(
                last.expr,
                format!(
                    "restores `{saved}`, the original value read at line {} (`{source}`)",
                    line(read.span.start)
                ),
            );
            out.restores.insert(last.expr);
            for w in &slot[..slot.len() - 1] {
                out.reasons.insert(
                    w.expr,
                    format!(
                        "temporary: restored at line {} to `{saved}` (read at line {})",
                        line(last.expr.start),
                        line(read.span.start)
                    ),
                );
            }
            saved_reads.push((saved, read, index, vars));
            restores.push(last);
        }

        // The window: the writes and restores are items of one block.
        let mut items: Vec<&Write> = ws.to_vec();
        items.sort_by_key(|w| w.expr.start);
        let first = items[0];
        let last = items[items.len() - 1];
        if let Some(w) = items.iter().find(|w| w.place.block != first.place.block) {
            return Err(format!(
                "the write at line {} and the restore at line {} are not in the same block",
                line(first.expr.start),
                line(w.expr.start)
            ));
        }
        if !matches!(
            first.place.block_kind,
            BlockKind::Compound | BlockKind::Preproc
        ) {
            return Err(format!(
                "the write at line {} is not directly inside a {{ }} block",
                line(first.expr.start)
            ));
        }
        let win = Span::new(first.place.stmt.start, last.place.stmt.end);
        // As written, the window must be code: tree-sitter may parse on
        // through an unterminated comment that a compiler would not.
        let ls = crate::plan::line_start(self.text, win.start);
        if !crate::source::lexical::in_code(self.text, ls) {
            return Err(format!(
                "line {} lies inside a comment or string as the file is written",
                line(first.expr.start)
            ));
        }
        for r in &restores {
            let whole = r.place.stmt.start == r.expr.start && r.place.stmt.end <= r.expr.end + 1;
            if !whole {
                return Err(format!(
                    "the restore at line {} is part of a larger statement",
                    line(r.expr.start)
                ));
            }
        }
        let restore_stmts: Vec<Span> = restores.iter().map(|r| r.place.stmt).collect();
        let restore_line = line(last.expr.start);
        self.check_array(kind, win)?;
        for (saved, read, index, vars) in &saved_reads {
            self.check_saved(saved, read, first.expr, win)?;
            self.check_index(index, vars, read)?;
            self.check_loops(read, vars, win)?;
            self.check_between(kind, read, first.expr, win)?;
        }
        self.check_macros(win)?;
        self.check_unknown_macros(win, "between the write and the restore")?;

        // Control flow: nothing leaves or enters the window.
        for j in self.f.jumps.iter().filter(|j| win.contains(j.span)) {
            let at = line(j.span.start);
            let leaves = match j.kind {
                JumpKind::Return => Some("`return`"),
                JumpKind::Goto => Some("`goto`"),
                JumpKind::Break | JumpKind::Continue => j
                    .scope
                    .is_none_or(|s| !win.contains(s))
                    .then_some(if j.kind == JumpKind::Break {
                        "`break`"
                    } else {
                        "`continue`"
                    }),
                JumpKind::Label | JumpKind::Case => {
                    return Err(format!(
                        "a label at line {at} lets control enter between the write and the \
                         restore at line {restore_line}"
                    ))
                }
            };
            if let Some(what) = leaves {
                return Err(format!(
                    "{what} at line {at} leaves before the restore at line {restore_line}, \
                     so the change can persist"
                ));
            }
        }

        // Uses of the array that a copy cannot redirect.
        for u in self
            .f
            .uses
            .iter()
            .filter(|u| u.array == array && win.contains(u.span))
        {
            let at = line(u.span.start);
            let blocker = match &u.kind {
                UseKind::CtorLink { .. } => continue,
                UseKind::ShapeReader(name) => format!(
                    "{name}({array}) at line {at} reads the array's real shape, which a local \
                     copy cannot redirect"
                ),
                UseKind::Passed { callee } => format!(
                    "{array} is passed to {callee}() at line {at}, which may read its shape"
                ),
                UseKind::Return | UseKind::Store | UseKind::AddressOf => {
                    format!("{array} escapes at line {at}, between the write and the restore")
                }
                UseKind::MetaWrite(_) | UseKind::Free(_) => {
                    format!("{array}'s metadata changes at line {at}, between the write and the restore")
                }
            };
            return Err(blocker);
        }
        if let Some(m) = self
            .f
            .var_mods
            .iter()
            .find(|m| m.name == array && win.contains(m.span))
        {
            return Err(format!(
                "{array} is reassigned at line {} between the write and the restore",
                line(m.span.start)
            ));
        }

        // The copy: an alias declared from the source becomes the copy, or
        // a new local array is declared before the first write.
        let temp: Vec<&Write> = items
            .iter()
            .copied()
            .filter(|w| !out.restores.contains(&w.expr))
            .collect();
        let alias = items.iter().find_map(|w| match &w.shape.via {
            Via::Alias(name) => Some(name.clone()),
            Via::Source(_) => None,
        });
        let (copy, from) = match &alias {
            Some(name) => self.alias_copy(name, ws, win)?,
            None => {
                let from = match (&first.source, first.shape.ndim) {
                    (Some(source), Some(ndim)) => CopySource {
                        source: *source,
                        ndim,
                    },
                    _ => {
                        return Err(format!(
                            "the write at line {} does not name its source directly",
                            line(first.expr.start)
                        ))
                    }
                };
                if !is_identifier(array) {
                    return Err(format!(
                        "`{array}` is not a plain variable, so changes to it cannot be tracked"
                    ));
                }
                if !starts_line(self.text, first.place.stmt.start) {
                    return Err(format!(
                        "the write at line {} shares its line with other code, so the copy \
                         cannot be declared just before it",
                        line(first.expr.start)
                    ));
                }
                // The copy's name is in scope to the end of the block: a
                // header macro used there could name it.
                let scope = Span::new(first.place.stmt.start, first.place.block.end);
                self.check_unknown_macros(scope, "where the copy would be in scope")?;
                let mut spelled = self.text[self.f.span.range()].to_string();
                for m in self.macros_used(self.f.span) {
                    spelled.push('\n');
                    spelled.push_str(&m.body);
                }
                let name = fresh_name(kind, array, &spelled, taken);
                (
                    Copy::Insert {
                        before: first.place.stmt,
                        name,
                    },
                    from,
                )
            }
        };

        // Reads inside the window go to the copy: as elements or arguments
        // only (a pointer kept, compared or measured would change meaning),
        // and, for a new copy, none after the first restore (the copy keeps
        // the changed value the real shape no longer has).
        let first_restore = restores
            .iter()
            .map(|r| r.expr.start)
            .min()
            .unwrap_or(win.end);
        if let (Copy::Insert { .. }, Some(w)) =
            (&copy, temp.iter().find(|w| w.expr.start > first_restore))
        {
            return Err(format!(
                "{array}'s shape changes again at line {} after a restore at line {}; a copy \
                 would keep the first change",
                line(w.expr.start),
                line(first_restore)
            ));
        }
        let mut redirects = Vec::new();
        for r in self.f.reads.iter().filter(|r| {
            !r.shape.param && r.shape.array == array && r.shape.kind == kind && win.contains(r.span)
        }) {
            if restore_stmts.iter().any(|s| s.contains(r.span)) {
                continue;
            }
            let at = line(r.span.start);
            match &r.context {
                ReadCx::Element => {}
                ReadCx::Argument { callee, index } => {
                    if !copies_shape(callee.as_deref(), *index) {
                        return Err(format!(
                            "{array}'s shape is passed to {}() at line {at}, which may write \
                             through it or keep it; a copy would change what it sees",
                            callee.as_deref().unwrap_or("a function")
                        ));
                    }
                }
                ReadCx::Alias | ReadCx::Stored => {
                    return Err(format!(
                        "{array}'s shape pointer is kept at line {at}, between the write and the \
                         restore; pointed at a copy it would dangle or miss the restore"
                    ))
                }
                ReadCx::Other => {
                    return Err(format!(
                        "line {at} uses {array}'s shape pointer itself (not an element or an \
                         argument); pointed at a copy it could change meaning"
                    ))
                }
            }
            if matches!(copy, Copy::Insert { .. }) && r.span.start > first_restore {
                return Err(format!(
                    "{array}'s shape is read at line {at}, after the restore at line {}; a copy \
                     would still hold the changed value",
                    line(first_restore)
                ));
            }
            match (&r.shape.via, &copy) {
                (Via::Source(span), _) => redirects.push(*span),
                (Via::Alias(name), Copy::Alias { name: copy, .. }) if name == copy => {}
                (Via::Alias(name), _) => {
                    return Err(format!(
                        "`{name}` (line {}) points at {array}'s real shape and would not see \
                         the change",
                        line(r.span.start)
                    ))
                }
            }
        }
        for w in &temp {
            if let (Via::Source(_), Some(source)) = (&w.shape.via, w.source) {
                redirects.push(source);
            }
        }
        redirects.sort();
        redirects.dedup();

        // Restores of the real shape go; a restore of an alias-turned-copy
        // stays if the copy is read afterwards.
        let mut deletes = Vec::new();
        for r in &restores {
            let keep =
                match (&r.shape.via, &copy) {
                    (Via::Alias(name), Copy::Alias { .. }) => self.f.reads.iter().any(|x| {
                        x.span.start > r.expr.end && x.shape.via == Via::Alias(name.clone())
                    }),
                    _ => false,
                };
            if !keep {
                deletes.push(r.place.stmt);
            }
        }
        Ok(Rewrite {
            kind,
            copy,
            from,
            redirects,
            deletes,
            window: win,
        })
    }

    /// The file's `#define`s.
    fn defines(&self) -> &[Define] {
        self.defines.get_or_init(|| lexical::defines_in(self.text))
    }

    /// `name` is one variable of this function: declared once, as a
    /// parameter or a local that is not `static` or `extern`, and not also
    /// an enumeration constant or a macro of the file. Its declaration, when
    /// it is a local.
    fn own_variable(&self, name: &str) -> Result<Option<&Decl>, String> {
        if let Some(d) = self.defines().iter().find(|d| d.name == name) {
            return Err(format!(
                "`{name}` is a macro of this file (line {}), so what it means at each use is \
                 not proven",
                d.line
            ));
        }
        let decls: Vec<&Decl> = self.f.decls.iter().filter(|d| d.name == name).collect();
        let params = self.f.params.iter().filter(|p| p.name == name).count();
        match decls.len() + params {
            0 => {
                return Err(format!(
                    "`{name}` is not a parameter or local variable of this function; other \
                     code may use or change it meanwhile"
                ))
            }
            1 => {}
            _ => {
                return Err(format!(
                    "`{name}` is declared more than once in this function (an inner block \
                     declares it again), so which variable each use means is not proven"
                ))
            }
        }
        if self.f.enumerators.iter().any(|e| e == name) {
            return Err(format!(
                "`{name}` is also an enumeration constant in this function"
            ));
        }
        let Some(decl) = decls.first().copied() else {
            return Ok(None);
        };
        let qualifiers = lexical::identifiers(&self.text[decl.stmt.start..decl.declarator.start]);
        let volatile = qualifiers.contains(&"volatile").then_some("volatile");
        if let Some(q) = decl.storage.as_deref().or(volatile) {
            return Err(format!(
                "`{name}` is declared `{q}` (line {}); other calls or threads may share or \
                 change it",
                self.line(decl.stmt.start)
            ));
        }
        Ok(Some(decl))
    }

    /// The array variable must be this function's own and followed
    /// completely: no pointer to it, no second name for it, no shape
    /// pointer kept where a copy cannot follow it, and no other array's
    /// shape read in the window (nothing proves that array is not this one).
    fn check_array(&self, kind: Kind, win: Span) -> Result<(), String> {
        let array = self.array;
        let line = |pos: usize| self.line(pos);
        self.own_variable(array)?;
        if let Some(u) = self
            .f
            .uses
            .iter()
            .find(|u| u.array == array && u.kind == UseKind::AddressOf)
        {
            return Err(format!(
                "the address of {array} is taken at line {}, so it can change in ways not \
                 tracked",
                line(u.span.start)
            ));
        }
        if let Some(m) = self
            .f
            .var_mods
            .iter()
            .find(|m| m.name != array && m.from.iter().any(|v| v == array))
        {
            return Err(format!(
                "`{}` is a second name for {array} (line {}); shape reads through it would \
                 not see a copy",
                m.name,
                line(m.span.start)
            ));
        }
        if let Some(u) = self
            .f
            .uses
            .iter()
            .find(|u| u.array == array && u.kind == UseKind::Store && u.span.start < win.end)
        {
            return Err(format!(
                "{array} is stored at line {}; code between the write and the restore could \
                 reach it through there",
                line(u.span.start)
            ));
        }
        if let Some(r) = self.f.reads.iter().find(|r| {
            !r.shape.param
                && r.shape.array == array
                && r.shape.kind == kind
                && r.context == ReadCx::Stored
        }) {
            return Err(format!(
                "{array}'s shape pointer is stored at line {}; reads through it would not see \
                 a copy",
                line(r.span.start)
            ));
        }
        let field = match kind {
            Kind::Dims => "dimensions",
            Kind::Strides => "strides",
        };
        if let Some((_, _, at)) = self
            .f
            .raw_fields
            .iter()
            .find(|(name, f, _)| name == array && f == field)
        {
            return Err(format!(
                "`{array}->{field}` at line {} reaches the storage directly; a copy cannot \
                 redirect it",
                line(at.start)
            ));
        }
        // Another array's shape read in the window is this array's when
        // both names hold the same object, unless it is new.
        let others = self
            .f
            .reads
            .iter()
            .filter(|r| !r.shape.param && r.shape.array != array && win.contains(r.span))
            .map(|r| (r.shape.array.as_str(), r.span))
            .chain(self.f.uses.iter().filter_map(|u| match &u.kind {
                UseKind::ShapeReader(_) if u.array != array && win.contains(u.span) => {
                    Some((u.array.as_str(), u.span))
                }
                _ => None,
            }));
        for (other, at) in others {
            if !self.is_new_at(other, at.start) {
                return Err(format!(
                    "the shape of `{other}` is read at line {}, between the write and the \
                     restore; nothing here proves `{other}` is not {array} itself",
                    line(at.start)
                ));
            }
        }
        Ok(())
    }

    /// Whether the variable `other` holds, at `pos`, an array allocated in
    /// this function.
    fn is_new_at(&self, other: &str, pos: usize) -> bool {
        let cx = ArrayCx {
            array: other,
            ..*self
        };
        is_identifier(other) && matches!(cx.origin(pos), Origin::Alloc { .. })
    }

    /// The saved value must be the slot's original on every path to the
    /// restore: a local variable wide enough for any dimension, assigned
    /// once, by a statement that runs before the window whenever it does.
    fn check_saved(
        &self,
        saved: &str,
        read: &VarMod,
        first_write: Span,
        win: Span,
    ) -> Result<(), String> {
        let line = |pos: usize| self.line(pos);
        let at = line(read.span.start);
        let Some(decl) = self.own_variable(saved)? else {
            return Err(format!(
                "`{saved}` is a parameter, not a local variable assigned here"
            ));
        };
        if !WIDE_TYPES.contains(&decl.type_text.as_str()) {
            return Err(format!(
                "`{saved}` is declared `{}`, which may not hold every dimension; the restore \
                 may not put the original back",
                decl.type_text
            ));
        }
        if !plain_declarator(&self.text[decl.declarator.range()], saved) {
            return Err(format!(
                "`{saved}` is not a plain scalar variable (line {})",
                line(decl.stmt.start)
            ));
        }
        let mods: Vec<usize> = self
            .f
            .var_mods
            .iter()
            .filter(|m| m.name == saved)
            .map(|m| line(m.span.start))
            .collect();
        if mods.len() != 1 {
            let list: Vec<String> = mods.iter().map(usize::to_string).collect();
            return Err(format!(
                "`{saved}` is assigned or has its address taken more than once (lines {}); \
                 the restore may not put back the value read at line {at}",
                list.join(", ")
            ));
        }
        if read.span.end > first_write.start {
            return Err(format!(
                "`{saved}` is read at line {at}, after the shape is first changed at line {}",
                line(first_write.start)
            ));
        }
        let Some(place) = read.stmt else {
            return Err(format!(
                "`{saved}` is read at line {at} inside a larger expression, which may not run \
                 before the write"
            ));
        };
        let covers = place.block.contains(win)
            && matches!(place.block_kind, BlockKind::Compound | BlockKind::Preproc);
        if !covers {
            return Err(format!(
                "`{saved}` is read at line {at} in a block that does not hold the write at \
                 line {}, so it may not run before it",
                line(first_write.start)
            ));
        }
        // A `case` of a switch that starts after the read cannot skip it.
        if let Some(j) = self.f.jumps.iter().find(|j| {
            let skips = match j.kind {
                JumpKind::Label => true,
                JumpKind::Case => j.scope.is_none_or(|sw| sw.start < read.span.end),
                _ => false,
            };
            skips && j.span.start >= read.span.end && j.span.start < win.start
        }) {
            return Err(format!(
                "a label at line {} lets control reach the write without reading `{saved}` \
                 at line {at}",
                line(j.span.start)
            ));
        }
        Ok(())
    }

    /// An index must name the same slot at the read, the writes and the
    /// restore: no side effects, and made only of this function's own
    /// integer variables, whose address is at most lent to a call before
    /// the read.
    fn check_index(&self, index: &str, vars: &[String], read: &VarMod) -> Result<(), String> {
        let line = |pos: usize| self.line(pos);
        let mut seen = HashSet::new();
        for v in vars.iter().filter(|v| seen.insert(v.as_str())) {
            if v == self.array || v == "sizeof" || PURE_ACCESSORS.contains(&v.as_str()) {
                continue;
            }
            let why = |e: String| format!("in the index [{index}]: {e}");
            let plain = match self.own_variable(v).map_err(why)? {
                Some(decl) => plain_declarator(&self.text[decl.declarator.range()], v),
                None => self.f.params.iter().any(|p| p.name == *v && !p.pointer),
            };
            if !plain {
                return Err(format!(
                    "`{v}` in the index [{index}] is not a plain integer variable"
                ));
            }
            let lent = |span: Span| {
                let before = self.text[..span.start].trim_end();
                let after = self.text[span.end..].trim_start();
                span.end <= read.span.start
                    && (before.ends_with('(') || before.ends_with(','))
                    && (after.starts_with(')') || after.starts_with(','))
            };
            if let Some(u) = self
                .f
                .uses
                .iter()
                .find(|u| u.array == *v && u.kind == UseKind::AddressOf && !lent(u.span))
            {
                return Err(format!(
                    "the address of `{v}` (the index) is taken at line {}, so it can change \
                     in ways not tracked",
                    line(u.span.start)
                ));
            }
        }
        Ok(())
    }

    /// Between the read of the saved value and the first write, nothing
    /// may change the slot behind the copy's back: the array passed to a
    /// function, or its shape passed to one that may write through it.
    fn check_between(
        &self,
        kind: Kind,
        read: &VarMod,
        first_write: Span,
        win: Span,
    ) -> Result<(), String> {
        let array = self.array;
        let gap = Span::new(read.span.end, first_write.start);
        // A write to another array's shape is a write to this one when both
        // names hold the same object, unless that array is new.
        let upto = Span::new(read.span.end, win.end);
        for w in self
            .f
            .writes
            .iter()
            .filter(|w| !w.shape.param && w.shape.array != array && upto.contains(w.expr))
        {
            let other = w.shape.array.as_str();
            if !self.is_new_at(other, w.expr.start) {
                return Err(format!(
                    "the shape of `{other}` is written at line {}, between the read at line {} \
                     and the restore; nothing here proves `{other}` is not {array} itself",
                    self.line(w.expr.start),
                    self.line(read.span.start)
                ));
            }
        }
        if let Some(u) = self.f.uses.iter().find(|u| {
            u.array == array
                && gap.contains(u.span)
                && matches!(
                    u.kind,
                    UseKind::Passed { .. } | UseKind::MetaWrite(_) | UseKind::Free(_)
                )
        }) {
            let what = match &u.kind {
                UseKind::Passed { callee } => format!("{array} is passed to {callee}()"),
                _ => format!("{array}'s metadata changes"),
            };
            return Err(format!(
                "{what} at line {}, after the original value is read at line {} and before \
                 the write; a change there would be undone by the restore but kept with a copy",
                self.line(u.span.start),
                self.line(read.span.start)
            ));
        }
        if let Some(r) = self.f.reads.iter().find(|r| {
            !r.shape.param
                && r.shape.array == array
                && r.shape.kind == kind
                && gap.contains(r.span)
                && matches!(&r.context, ReadCx::Argument { callee, index }
                    if !copies_shape(callee.as_deref(), *index))
        }) {
            let callee = match &r.context {
                ReadCx::Argument {
                    callee: Some(name), ..
                } => format!("{name}()"),
                _ => "a function".to_string(),
            };
            return Err(format!(
                "{array}'s shape is passed to {callee} at line {}, after the original value \
                 is read at line {}; a change there would be undone by the restore but kept \
                 with a copy",
                self.line(r.span.start),
                self.line(read.span.start)
            ));
        }
        Ok(())
    }

    /// In a loop around the window that does not also run the read, the
    /// index and the array must not change: the next pass would restore a
    /// value read from another slot or another array.
    fn check_loops(&self, read: &VarMod, vars: &[String], win: Span) -> Result<(), String> {
        let array = self.array;
        for lp in self.loop_spans() {
            if !lp.contains(win) || lp.contains(read.span) {
                continue;
            }
            if let Some(m) = self
                .f
                .var_mods
                .iter()
                .find(|m| lp.contains(m.span) && (m.name == array || vars.contains(&m.name)))
            {
                return Err(format!(
                    "`{}` changes at line {} in a loop around the write (line {}) that does \
                     not read the saved value again; a later pass could restore the wrong value",
                    m.name,
                    self.line(m.span.start),
                    self.line(win.start)
                ));
            }
        }
        Ok(())
    }

    /// The macros of this file that the code in `span` uses, directly or
    /// through other macros.
    fn macros_used(&self, span: Span) -> Vec<&Define> {
        let defs = self.defines();
        if defs.is_empty() {
            return Vec::new();
        }
        let by_name: HashMap<&str, &Define> = defs.iter().map(|d| (d.name.as_str(), d)).collect();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        let mut todo: Vec<&str> = lexical::identifiers(&self.text[span.range()]);
        while let Some(id) = todo.pop() {
            let Some(d) = by_name.get(id) else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            todo.extend(lexical::identifiers(&d.body));
            out.push(*d);
        }
        out
    }

    /// Macros of the file used in the window must not reach the array
    /// behind the copy's back, nor leave the block.
    fn check_macros(&self, win: Span) -> Result<(), String> {
        let array = self.array;
        for m in self.macros_used(win) {
            let params = m.params.as_deref().unwrap_or_default();
            let ids = lexical::identifiers(&m.body);
            let is_param = params.iter().any(|p| p == array);
            if !is_param && ids.contains(&array) {
                return Err(format!(
                    "the macro {} (defined at line {}) uses {array} itself; what it reads \
                     cannot be redirected to a copy",
                    m.name, m.line
                ));
            }
            if let Some(jump) = ids
                .iter()
                .find(|id| matches!(**id, "goto" | "return" | "break" | "continue"))
            {
                return Err(format!(
                    "the macro {} (defined at line {}) may `{jump}` out before the restore",
                    m.name, m.line
                ));
            }
            if let Some(id) = ids.iter().find(|id| self.header_macro(id)) {
                return Err(format!(
                    "the macro {} (defined at line {}) uses {id}, which is not defined in this \
                     file; a macro from a header could jump out or read the shape",
                    m.name, m.line
                ));
            }
        }
        Ok(())
    }

    /// Names in `span` that look like macros of a header (`CHECK_OR_FAIL`,
    /// `Py_RETURN_NONE`): what they expand to is unknown, so they could
    /// jump out, read the shape, or name the new copy.
    fn check_unknown_macros(&self, span: Span, place: &str) -> Result<(), String> {
        let ids = lexical::identifiers(&self.text[span.range()]);
        let at = |id: &str| {
            let line = self.text[span.range()]
                .find(id)
                .map_or(span.start, |i| span.start + i);
            self.line(line)
        };
        if let Some(id) = ids.iter().find(|id| id.starts_with("Py_RETURN")) {
            return Err(format!(
                "{id} at line {} returns from the function {place}",
                at(id)
            ));
        }
        if let Some(id) = ids.iter().find(|id| self.header_macro(id)) {
            let at = at(id);
            return Err(format!(
                "{id} at line {at} is not defined in this file; a macro from a header used \
                 {place} could jump out, read the shape, or name the copy"
            ));
        }
        Ok(())
    }

    /// An all-capitals name that is neither declared in the function, nor
    /// defined in the file, nor one of the C library's, CPython's or
    /// NumPy's constant-like names.
    fn header_macro(&self, id: &str) -> bool {
        let caps = id.len() >= 2
            && id.bytes().any(|b| b.is_ascii_uppercase())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        caps && !KNOWN_CAPS.contains(&id)
            && ![
                "NPY_", "PY_", "SIZE_", "INT", "UINT", "LONG", "ULONG", "CHAR_", "DBL_", "FLT_",
            ]
            .iter()
            .any(|p| id.starts_with(p))
            && !self.f.decls.iter().any(|d| d.name == id)
            && !self.f.params.iter().any(|p| p.name == id)
            && !self.f.enumerators.iter().any(|e| e == id)
            && !self.defines().iter().any(|d| d.name == id)
    }

    /// Check that the alias `name` can become the local copy: declared once
    /// from the source, never re-pointed, never escaping, and the array
    /// not changed by other code while the alias is in use.
    fn alias_copy(
        &self,
        name: &str,
        ws: &[&Write],
        win: Span,
    ) -> Result<(Copy, CopySource), String> {
        let array = self.array;
        let line = |pos: usize| self.line(pos);
        let defs: Vec<_> = self
            .f
            .alias_defs
            .iter()
            .filter(|d| d.name == name)
            .collect();
        let [def] = defs.as_slice() else {
            return Err(format!(
                "`{name}` is pointed at {array}'s shape more than once"
            ));
        };
        let Some(decl) = self
            .f
            .decls
            .iter()
            .find(|d| d.name == name && d.declarator == def.span)
        else {
            return Err(format!(
                "`{name}` is assigned (line {}), not declared, from {array}'s shape; a copy \
                 cannot replace it",
                line(def.span.start)
            ));
        };
        let from = match (&def.shape.via, def.shape.ndim, &def.shape.offset) {
            (Via::Source(source), Some(ndim), None) => CopySource {
                source: *source,
                ndim,
            },
            _ => {
                return Err(format!(
                    "`{name}` (line {}) does not point at the start of {array}'s shape",
                    line(def.span.start)
                ))
            }
        };
        let spelled: String = self.text[decl.stmt.range()].split_whitespace().collect();
        let source: String = self.text[from.source.range()].split_whitespace().collect();
        if spelled != format!("npy_intp*{name}={source};")
            || !starts_line(self.text, decl.stmt.start)
        {
            return Err(format!(
                "`{name}` is not declared on its own line as `npy_intp *{name} = ...;` (line {})",
                line(decl.stmt.start)
            ));
        }
        if decl.declarators != 1 || decl.type_text != "npy_intp" {
            return Err(format!(
                "`{name}` is declared together with other variables or with another type \
                 (line {})",
                line(decl.stmt.start)
            ));
        }
        if let Some(m) = self
            .f
            .var_mods
            .iter()
            .find(|m| m.name == name && m.span != def.span)
        {
            return Err(format!("`{name}` changes at line {}", line(m.span.start)));
        }
        if let Some(u) = self.f.uses.iter().find(|u| {
            u.array == name
                && matches!(
                    u.kind,
                    UseKind::Return | UseKind::Store | UseKind::AddressOf
                )
        }) {
            return Err(format!(
                "`{name}` escapes at line {}; a local array cannot stand in for it",
                line(u.span.start)
            ));
        }
        if self.f.sizeof_names.contains(name) {
            return Err(format!(
                "`{name}` is used in sizeof, which would change meaning"
            ));
        }
        if let Some(w) = ws.iter().find(|w| match &w.shape.via {
            Via::Alias(n) => n != name,
            Via::Source(_) => false,
        }) {
            return Err(format!(
                "writes go through more than one alias (line {})",
                line(w.expr.start)
            ));
        }
        if let Some(w) = ws.iter().find(|w| matches!(w.shape.via, Via::Source(_))) {
            return Err(format!(
                "{array}'s shape is written both through `{name}` and directly (line {}); \
                 as a copy `{name}` would no longer see those writes",
                line(w.expr.start)
            ));
        }
        for r in self
            .f
            .reads
            .iter()
            .filter(|r| r.shape.via == Via::Alias(name.to_string()))
        {
            let at = line(r.span.start);
            match &r.context {
                ReadCx::Element => {}
                ReadCx::Argument { .. } if win.contains(r.span) => {}
                ReadCx::Argument { .. } => {
                    return Err(format!(
                        "`{name}` is passed on at line {at}, outside the temporary change; as a \
                         local copy it would no longer reach {array}'s shape"
                    ))
                }
                _ => {
                    return Err(format!(
                        "`{name}` is copied, stored or used as a pointer at line {at}; a local \
                         array cannot stand in for it"
                    ))
                }
            }
        }
        // While the copy stands in for the alias, the live shape must not
        // change by other means, or the copy would go stale.
        let last_use = self
            .f
            .reads
            .iter()
            .filter(|r| r.shape.via == Via::Alias(name.to_string()))
            .map(|r| r.span.end)
            .chain([win.end])
            .max()
            .unwrap_or(win.end);
        let live = Span::new(decl.stmt.end, last_use);
        if let Some(m) = self
            .f
            .var_mods
            .iter()
            .find(|m| m.name == array && live.contains(m.span))
        {
            return Err(format!(
                "{array} is reassigned at line {} while `{name}` is in use; the copy would \
                 hold the old array's shape",
                line(m.span.start)
            ));
        }
        if let Some(u) = self.f.uses.iter().find(|u| {
            u.array == array
                && live.contains(u.span)
                && matches!(
                    u.kind,
                    UseKind::Passed { .. } | UseKind::MetaWrite(_) | UseKind::Free(_)
                )
        }) {
            return Err(format!(
                "{array} is used at line {} while `{name}` is in use; a copy could miss a change",
                line(u.span.start)
            ));
        }
        Ok((
            Copy::Alias {
                decl: decl.stmt,
                name: name.to_string(),
            },
            from,
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
fn describe(how: &How) -> String {
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

/// NumPy functions that copy data into the array they are given and keep
/// no reference to it: passing a new array there does not publish it.
const BORROWING_CALLEES: &[&str] = &[
    "PyArray_AssignArray",
    "PyArray_AssignRawScalar",
    "PyArray_CopyAsFlat",
    "PyArray_CopyInto",
    "PyArray_CopyAnyInto",
    "PyArray_MoveInto",
    "PyArray_FillWithScalar",
    "PyArray_AssignZero",
];

/// Types that hold any dimension (`npy_intp` and its equals).
const WIDE_TYPES: &[&str] = &[
    "npy_intp",
    "Py_ssize_t",
    "intptr_t",
    "ptrdiff_t",
    "npy_int64",
    "int64_t",
    "long long",
    "long long int",
    "signed long long",
];

/// An index that means the same each time it is evaluated and changes
/// nothing: no calls, no `++`/`--`, no assignment, no conditional.
fn pure_index(index: &str) -> bool {
    let assigns = index.match_indices('=').any(|(i, _)| {
        let b = index.as_bytes();
        let prev = i.checked_sub(1).map(|j| b[j]);
        let next = b.get(i + 1).copied();
        !(next == Some(b'=') || matches!(prev, Some(b'=' | b'!' | b'<' | b'>')))
    });
    let calls = index.match_indices('(').any(|(i, _)| {
        // A call follows an identifier; a cast or grouping does not.
        let before = index[..i].trim_end();
        before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && !PURE_ACCESSORS.iter().any(|a| before.ends_with(a))
    });
    // Memory other code may change: `x[i]`, `p->f`, `s.f`, `*p`, `&x`.
    let memory = index.contains(['[', '.', '&'])
        || index.contains("->")
        || index.match_indices('*').any(|(i, _)| {
            index[..i]
                .chars()
                .next_back()
                .is_none_or(|c| "(+-*/%,<>=!&|^?:[~".contains(c))
        });
    !(assigns
        || calls
        || memory
        || index.contains("++")
        || index.contains("--")
        || index.contains('?'))
}

/// Constant-like names of C and its libraries that are not macros with
/// effects.
const KNOWN_CAPS: &[&str] = &["NULL", "EOF", "TRUE", "FALSE", "BUFSIZ", "FILE"];

/// Functions that copy the shape they are given (NumPy's constructors and
/// shape arithmetic take `npy_intp const *dims`), and `memcpy`'s source.
const COPYING_CALLEES: &[&str] = &[
    "PyArray_NewFromDescr",
    "PyArray_NewFromDescrAndBase",
    "PyArray_NewFromDescr_int",
    "PyArray_NewFromDescrWithBase",
    "PyArray_NewLikeArrayWithShape",
    "PyArray_New",
    "PyArray_SimpleNew",
    "PyArray_SimpleNewFromData",
    "PyArray_SimpleNewFromDescr",
    "PyArray_Zeros",
    "PyArray_Empty",
    "PyArray_ZEROS",
    "PyArray_EMPTY",
    "PyArray_MultiplyList",
    "PyArray_OverflowMultiplyList",
    "PyArray_IntTupleFromIntp",
    "PyArray_CheckStrides",
];

/// Whether passing a shape pointer as argument `index` of `callee` only
/// reads it, there and then.
fn copies_shape(callee: Option<&str>, index: usize) -> bool {
    match callee {
        Some("memcpy" | "memmove" | "__builtin_memcpy" | "__builtin_memmove") => index == 1,
        Some(name) => COPYING_CALLEES.contains(&name),
        None => false,
    }
}

/// Whether a declarator declares `name` itself (`n` or `n = ...`), not a
/// pointer, an array or a function.
fn plain_declarator(declarator: &str, name: &str) -> bool {
    declarator.split('=').next().unwrap_or_default().trim() == name
}

/// Accessor macros that may appear in an index (they read, never change).
const PURE_ACCESSORS: &[&str] = &["PyArray_NDIM", "PyArray_DIM", "PyArray_STRIDE", "sizeof"];

fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `dims` unless taken, then `X_dims`, `X_dims2`, ... (DESIGN §4). A name
/// is taken when the function spells it anywhere (parameter, local, global
/// or macro it uses) or an earlier copy got it.
fn fresh_name(kind: Kind, array: &str, spelled: &str, taken: &mut HashSet<String>) -> String {
    let base = kind.as_str();
    let free = |n: &String| !taken.contains(n) && !spells_word(spelled, n);
    let chosen = [base.to_string(), format!("{array}_{base}")]
        .into_iter()
        .chain((2..).map(|n| format!("{array}_{base}{n}")))
        .find(free)
        .expect("an unbounded sequence has a free name");
    taken.insert(chosen.clone());
    chosen
}

/// Whether `text` contains `word` as a whole identifier.
fn spells_word(text: &str, word: &str) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = text.as_bytes();
    text.match_indices(word).any(|(i, _)| {
        let end = i + word.len();
        (i == 0 || !ident(bytes[i - 1])) && (end == bytes.len() || !ident(bytes[end]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_indexes() {
        for index in [
            "axis",
            "0",
            "i+1",
            "PyArray_NDIM(a)-1",
            "(int)k",
            "n==0",
            "sizeof(x)",
        ] {
            assert!(pure_index(index), "{index}");
        }
        for index in [
            "i++", "--i", "next()", "i=2", "i+=1", "c?0:1", "f(x)+1", "ax[0]", "o->axis", "o.axis",
            "*p", "1+*p", "&x-y",
        ] {
            assert!(!pure_index(index), "{index}");
        }
    }

    #[test]
    fn fresh_names_avoid_every_spelling() {
        let mut taken = HashSet::new();
        let spelled = "int dims; a_dims2(); x";
        assert_eq!(fresh_name(Kind::Dims, "a", spelled, &mut taken), "a_dims");
        assert_eq!(fresh_name(Kind::Dims, "a", spelled, &mut taken), "a_dims3");
        assert_eq!(
            fresh_name(Kind::Strides, "a", spelled, &mut taken),
            "strides"
        );
    }
}
