//! The proof behind a rewrite (DESIGN §3 rewrite, §4): every slot written
//! is put back to the value read from it before, on every path, and
//! nothing between the read and the restore can see, change or hide what a
//! local copy would change. Each check returns the first reason it fails,
//! which becomes the manual finding's reason.

use std::collections::HashSet;

use super::api::copies_shape;
use super::classify::{describe, is_identifier, ArrayCx, Outcome};
use super::facts::{BlockKind, How, JumpKind, ReadCx, Target, UseKind, VarMod, Via, Write};
use super::{CopyPlan, CopySource, Kind, Rewrite, Span};
use crate::span::{line_start, starts_line};

mod alias;
mod checks;
mod macros;
mod names;

use names::{fresh_name, pure_index};

impl<'a> ArrayCx<'a> {
    /// Find the temporary-write window for one kind of storage (DESIGN §3
    /// rewrite): every slot written is restored to the value read from it
    /// before, on every path, with nothing in between that a copy cannot
    /// redirect.
    pub(super) fn window(&self, kind: Kind, ws: &[&Write], taken: &mut HashSet<String>) -> Outcome {
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
        let ls = line_start(self.text, win.start);
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
        self.check_unknown_macros(win, "between the write and the restore", true)?;

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
                self.check_unknown_macros(scope, "where the copy would be in scope", false)?;
                let mut spelled = self.text[self.f.span.range()].to_string();
                for m in self.macros_used(self.f.span) {
                    spelled.push('\n');
                    spelled.push_str(&m.body);
                }
                let name = fresh_name(kind, array, &spelled, taken);
                (
                    CopyPlan::Insert {
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
        if let (CopyPlan::Insert { .. }, Some(w)) =
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
            if matches!(copy, CopyPlan::Insert { .. }) && r.span.start > first_restore {
                return Err(format!(
                    "{array}'s shape is read at line {at}, after the restore at line {}; a copy \
                     would still hold the changed value",
                    line(first_restore)
                ));
            }
            match (&r.shape.via, &copy) {
                (Via::Source(span), _) => redirects.push(*span),
                (Via::Alias(name), CopyPlan::Alias { name: copy, .. }) if name == copy => {}
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
                    (Via::Alias(name), CopyPlan::Alias { .. }) => self.f.reads.iter().any(|x| {
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
}
