//! The proof behind a rewrite (DESIGN §3 rewrite, §4): every slot written
//! is put back to the value read from it before, on every path, and
//! nothing between the read and the restore can see, change or hide what a
//! local copy would change. The proof is a sequence of named steps; each
//! returns the first blocker it finds, which becomes the manual finding's
//! reason.

use std::collections::HashSet;

use super::api::copies_shape;
use super::classify::{describe, is_identifier, ArrayCx, Outcome};
use super::facts::{BlockKind, How, JumpKind, ReadCx, Target, UseKind, VarMod, Via, Write};
use super::reason::{Blocker, Changed, Layout, Limit, Persist, Reason};
use super::{CopyPlan, CopySource, Kind, Rewrite, Span};
use crate::span::{line_start, starts_line};

mod alias;
mod checks;
mod hidden;
mod macros;
mod names;
mod others;
mod saved;
#[cfg(test)]
mod tests;

use names::{fresh_name, pure_index};

/// The writes of one slot (by index), in order: the last is the restore.
type Slot<'w> = (&'w str, Vec<&'w Write>);

/// A proven restore: the saved variable, its read, the slot's index and
/// the index's variables.
pub(super) struct Saved<'f> {
    name: String,
    read: &'f VarMod,
    index: String,
    vars: Vec<String>,
}

/// The window: from the first write's statement to the last restore's.
struct Window<'w> {
    span: Span,
    first: &'w Write,
    /// Every write, in order.
    items: Vec<&'w Write>,
    restores: Vec<&'w Write>,
}

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
    ) -> Result<Rewrite, Blocker> {
        let slots = self.slots(ws)?;
        let mut saved = Vec::new();
        let mut restores = Vec::new();
        for slot in &slots {
            let (s, restore) = self.prove_restore(kind, slot, out)?;
            saved.push(s);
            restores.push(restore);
        }
        let win = self.window_span(ws, restores)?;
        self.check_hidden(win.span)?;
        self.check_array(kind, win.span)?;
        for s in &saved {
            self.check_saved(&s.name, s.read, win.first.expr, win.span)?;
            self.check_index(&s.index, &s.vars, s.read)?;
            self.check_loops(s.read, &s.vars, win.span)?;
            self.check_between(kind, s.read, win.first.expr, win.span)?;
        }
        self.check_macros(win.span)?;
        self.check_unknown_names(win.span, true)?;
        // A `return` inside a lambda leaves the lambda, not the window.
        self.check_cpp(&win)?;
        self.check_jumps(&win)?;
        self.check_uses_in_window(win.span)?;
        let (copy, from) = self.copy_plan(kind, ws, &win, taken)?;
        let temp: Vec<&Write> = win
            .items
            .iter()
            .copied()
            .filter(|w| !out.restores.contains(&w.expr))
            .collect();
        let redirects = self.redirects(kind, &copy, &win, &temp)?;
        self.check_unknown_names(win.span, false)?;
        self.check_other_names(win.span)?;
        let mut deletes = self.deletes(&copy, &win.restores);
        deletes.extend(self.unused_saved(&saved, &deletes)?);
        let insert = match &copy {
            CopyPlan::Insert { before, .. } => Some(*before),
            CopyPlan::Alias { .. } => None,
        };
        self.check_continuations(insert, &deletes)?;
        Ok(Rewrite {
            kind,
            deletes,
            copy,
            from,
            redirects,
            window: win.span,
        })
    }

    /// Step 1: the writes by slot. A write of the whole storage, of the
    /// pointer, or through an alias moved by an unknown amount has no slot.
    fn slots<'w>(&self, ws: &[&'w Write]) -> Result<Vec<Slot<'w>>, Blocker> {
        let mut slots: Vec<Slot<'w>> = Vec::new();
        for &w in ws {
            let at = w.expr.start;
            match &w.target {
                Target::Element { index, .. } if !index.contains('?') => {
                    match slots.iter_mut().find(|(i, _)| i == index) {
                        Some((_, v)) => v.push(w),
                        None => slots.push((index, vec![w])),
                    }
                }
                Target::Element { .. } => return Err(Blocker::AliasMoved { at }),
                Target::Whole => {
                    return Err(self.persists(Persist::Whole {
                        kind: w.shape.kind,
                        how: describe(&w.how),
                        at,
                    }))
                }
                Target::Pointer => return Err(Blocker::ReplacesPointer { at }),
            }
        }
        Ok(slots)
    }

    /// A change no statement undoes; in C++, when a local object of class
    /// type declared before it in an enclosing block may undo it in its
    /// destructor, that is the reason instead (the last such object).
    fn persists(&self, p: Persist) -> Blocker {
        let at = match &p {
            Persist::NeverRestored { at, .. } | Persist::Whole { at, .. } => *at,
            Persist::NotSaved { at, .. } => *at,
        };
        let innermost = |decl: Span| {
            self.f
                .blocks
                .iter()
                .filter(|b| b.span.contains(decl))
                .min_by_key(|b| b.span.end - b.span.start)
                .map(|b| b.span)
        };
        let object = self.f.objects.iter().rfind(|(_, decl)| {
            decl.end <= at && innermost(*decl).is_some_and(|b| b.start <= at && at < b.end)
        });
        match object {
            Some((name, decl)) => Blocker::InDestructor {
                object: name.clone(),
                declared: decl.start,
                at,
            },
            None => Blocker::Persists(p),
        }
    }

    /// Step 2, per slot: the last write stores a saved variable, read from
    /// the same slot before the first write, and nothing it depends on
    /// changes before the restore. Records the sites' reasons.
    fn prove_restore<'w>(
        &self,
        kind: Kind,
        (index, slot): &Slot<'w>,
        out: &mut Outcome,
    ) -> Result<(Saved<'a>, &'w Write), Blocker> {
        let array = self.array;
        let first = slot[0];
        let last = *slot.last().expect("slots are never empty");
        if !pure_index(index) {
            return Err(Blocker::ImpureIndex {
                index: index.to_string(),
                at: first.expr.start,
            });
        }
        if slot.len() < 2 {
            return Err(self.persists(Persist::NeverRestored {
                kind,
                at: first.expr.start,
            }));
        }
        let saved = match &last.how {
            How::Assign { op, value } if op == "=" => value.ident.clone(),
            _ => None,
        };
        let Some(saved) = saved else {
            return Err(Blocker::Persists(Persist::NotSaved {
                kind,
                index: index.to_string(),
                at: last.expr.start,
            }));
        };
        let read = self
            .f
            .var_mods
            .iter()
            .rfind(|m| m.name == saved && m.span.end <= first.expr.start);
        let wanted = (array.to_string(), kind, index.to_string());
        let Some(read) = read.filter(|m| m.slot_read.as_ref() == Some(&wanted)) else {
            return Err(Blocker::RestoreNotOriginal {
                saved,
                index: index.to_string(),
                restore: last.expr.start,
                write: first.expr.start,
            });
        };
        let vars: Vec<String> = match &first.target {
            Target::Element { index_vars, .. } => index_vars.clone(),
            _ => Vec::new(),
        };
        self.unchanged_until_restore(&saved, &vars, read, last)?;
        let source = read
            .value
            .as_ref()
            .map_or(String::new(), |v| v.text.clone());
        out.reasons.insert(
            last.expr,
            Reason::Restore {
                saved: saved.clone(),
                read: read.span.start,
                source,
            },
        );
        out.restores.insert(last.expr);
        for w in &slot[..slot.len() - 1] {
            out.reasons.insert(
                w.expr,
                Reason::TemporaryWrite {
                    restore: last.expr.start,
                    saved: saved.clone(),
                    read: read.span.start,
                },
            );
        }
        let saved = Saved {
            name: saved,
            read,
            index: index.to_string(),
            vars,
        };
        Ok((saved, last))
    }

    /// The saved value, the index variables and the array do not change
    /// between the read and the restore.
    fn unchanged_until_restore(
        &self,
        saved: &str,
        vars: &[String],
        read: &VarMod,
        restore: &Write,
    ) -> Result<(), Blocker> {
        let changed = self
            .f
            .var_mods
            .iter()
            .filter(|m| m.span.start >= read.span.end && m.span.end <= restore.expr.start)
            .find_map(|m| {
                let what = if m.name == saved {
                    Changed::Saved(saved.to_string())
                } else if vars.contains(&m.name) {
                    Changed::Index(m.name.clone())
                } else if m.name == self.array {
                    Changed::Array
                } else {
                    return None;
                };
                Some((what, m.span.start))
            });
        match changed {
            Some((what, at)) => Err(Blocker::ChangedBeforeRestore {
                what,
                at,
                restore: restore.expr.start,
            }),
            None => Ok(()),
        }
    }

    /// Step 3: the writes and restores are whole statements of one block,
    /// which is code as the file is written.
    fn window_span<'w>(
        &self,
        ws: &[&'w Write],
        restores: Vec<&'w Write>,
    ) -> Result<Window<'w>, Blocker> {
        let mut items: Vec<&Write> = ws.to_vec();
        items.sort_by_key(|w| w.expr.start);
        let first = items[0];
        let last = items[items.len() - 1];
        if let Some(w) = items.iter().find(|w| w.place.block != first.place.block) {
            return Err(Blocker::Layout(Layout::NotSameBlock {
                write: first.expr.start,
                restore: w.expr.start,
            }));
        }
        if !matches!(
            first.place.block_kind,
            BlockKind::Compound | BlockKind::Preproc
        ) {
            return Err(Blocker::Layout(Layout::NotInBlock {
                write: first.expr.start,
            }));
        }
        let span = Span::new(first.place.stmt.start, last.place.stmt.end);
        // As written, the window must be code: tree-sitter may parse on
        // through an unterminated comment that a compiler would not.
        let ls = line_start(self.text, span.start);
        if !self.file.code().in_code(ls) {
            // Always overridden by the finding's own check of its sites
            // (the same line), which says more.
            return Err(Blocker::Limit(Limit::InComment {
                at: first.expr.start,
                window: true,
            }));
        }
        for r in &restores {
            let whole = r.place.stmt.start == r.expr.start && r.place.stmt.end <= r.expr.end + 1;
            if !whole {
                return Err(Blocker::Layout(Layout::RestoreInExpression {
                    at: r.expr.start,
                }));
            }
        }
        Ok(Window {
            span,
            first,
            items,
            restores,
        })
    }

    /// Step 4: control flow. Nothing leaves the window before the restore,
    /// and no label lets control in.
    fn check_jumps(&self, win: &Window) -> Result<(), Blocker> {
        let restore = win.items[win.items.len() - 1].expr.start;
        for j in self.f.jumps.iter().filter(|j| win.span.contains(j.span)) {
            let at = j.span.start;
            let leaves = match j.kind {
                JumpKind::Return | JumpKind::Throw | JumpKind::Goto => Some(j.kind.spelled()),
                JumpKind::Break | JumpKind::Continue => j
                    .scope
                    .is_none_or(|s| !win.span.contains(s))
                    .then_some(j.kind.spelled()),
                JumpKind::Label | JumpKind::Case => {
                    return Err(Blocker::LabelEnters { at, restore })
                }
            };
            if let Some(jump) = leaves {
                return Err(Blocker::JumpLeaves { jump, at, restore });
            }
        }
        Ok(())
    }

    /// Step 4b (C++): no lambda boundary between the writes and their
    /// window, and no call in the window that may throw (an exception
    /// leaves like a `return`), unless the function is `noexcept`.
    fn check_cpp(&self, win: &Window) -> Result<(), Blocker> {
        for item in win.items.iter().chain(&win.restores) {
            let inside = |l: &&Span| l.contains(item.expr);
            let lambda = self.f.lambdas.iter().rfind(inside);
            if lambda.is_some_and(|l| !l.contains(win.span)) {
                return Err(Blocker::InLambda {
                    at: item.expr.start,
                });
            }
        }
        if let Some(l) = self.f.lambdas.iter().find(|l| win.span.contains(**l)) {
            return Err(Blocker::InLambda { at: l.start });
        }
        let restore = win.items[win.items.len() - 1].expr.start;
        let first = win.first.expr.end;
        let throws = self
            .f
            .may_throw
            .iter()
            .find(|(_, s)| win.span.contains(*s) && s.start >= first && s.start < restore);
        match throws {
            Some((callee, at)) if !self.f.noexcept => Err(Blocker::MayThrow {
                callee: callee.clone(),
                at: at.start,
                restore,
            }),
            _ => Ok(()),
        }
    }

    /// Step 5: uses of the array in the window that a copy cannot
    /// redirect, and reassignments of the variable.
    fn check_uses_in_window(&self, win: Span) -> Result<(), Blocker> {
        let array = self.array;
        for u in self
            .f
            .uses
            .iter()
            .filter(|u| u.array == array && win.contains(u.span))
        {
            let at = u.span.start;
            return Err(match &u.kind {
                UseKind::CtorLink { .. } => continue,
                UseKind::ShapeReader(name) => Blocker::ShapeReaderInWindow {
                    name: name.clone(),
                    at,
                },
                UseKind::Passed { callee } => Blocker::PassedInWindow {
                    callee: callee.clone(),
                    at,
                },
                UseKind::Return | UseKind::Store | UseKind::AddressOf => {
                    Blocker::EscapesInWindow { at }
                }
                UseKind::MetaWrite(_) | UseKind::Free(_) => Blocker::MetadataInWindow { at },
            });
        }
        match self
            .f
            .var_mods
            .iter()
            .find(|m| m.name == array && win.contains(m.span))
        {
            Some(m) => Err(Blocker::ReassignedInWindow { at: m.span.start }),
            None => Ok(()),
        }
    }

    /// Step 6: the copy. An alias declared from the source becomes the
    /// copy, or a new local array is declared before the first write.
    fn copy_plan(
        &self,
        kind: Kind,
        ws: &[&Write],
        win: &Window,
        taken: &mut HashSet<String>,
    ) -> Result<(CopyPlan, CopySource), Blocker> {
        let alias = win.items.iter().find_map(|w| match &w.shape.via {
            Via::Alias(name) => Some(name.clone()),
            Via::Source(_) => None,
        });
        if let Some(name) = alias {
            return self.alias_copy(&name, ws, win.span);
        }
        let first = win.first;
        let from = match (&first.source, first.shape.ndim) {
            (Some(source), Some(ndim)) => CopySource {
                source: *source,
                ndim,
            },
            _ => {
                return Err(Blocker::Layout(Layout::SourceNotDirect {
                    at: first.expr.start,
                }))
            }
        };
        if !is_identifier(self.array) {
            return Err(Blocker::NotPlainVariable);
        }
        if !starts_line(self.text, first.place.stmt.start) {
            return Err(Blocker::Layout(Layout::SharesLine {
                at: first.expr.start,
            }));
        }
        // The copy's name is in scope to the end of the block: a header
        // macro used there could name it.
        let scope = Span::new(first.place.stmt.start, first.place.block.end);
        self.check_copy_scope_macros(scope)?;
        let mut spelled = self.text[self.f.span.range()].to_string();
        for m in self.macros_used(self.f.span) {
            spelled.push('\n');
            spelled.push_str(&m.body);
        }
        let scope = self.file.scope();
        let macros = self.file.macros();
        let in_scope = |n: &str| scope.names.contains(n) || macros.get(n).is_some();
        let name = fresh_name(kind, self.array, &spelled, in_scope, taken);
        let copy = CopyPlan::Insert {
            before: first.place.stmt,
            name,
        };
        Ok((copy, from))
    }

    /// Step 7: reads inside the window go to the copy: as elements or
    /// arguments only (a pointer kept, compared or measured would change
    /// meaning), and, for a new copy, none after the first restore (the
    /// copy keeps the changed value the real shape no longer has).
    fn redirects(
        &self,
        kind: Kind,
        copy: &CopyPlan,
        win: &Window,
        temp: &[&Write],
    ) -> Result<Vec<Span>, Blocker> {
        let array = self.array;
        let first_restore = win
            .restores
            .iter()
            .map(|r| r.expr.start)
            .min()
            .unwrap_or(win.span.end);
        let insert = matches!(copy, CopyPlan::Insert { .. });
        if let (true, Some(w)) = (insert, temp.iter().find(|w| w.expr.start > first_restore)) {
            return Err(Blocker::ChangesAfterRestore {
                at: w.expr.start,
                restore: first_restore,
            });
        }
        let restore_stmts: Vec<Span> = win.restores.iter().map(|r| r.place.stmt).collect();
        let mut redirects = Vec::new();
        for r in self.f.reads.iter().filter(|r| {
            !r.shape.param
                && r.shape.array == array
                && r.shape.kind == kind
                && win.span.contains(r.span)
        }) {
            if restore_stmts.iter().any(|s| s.contains(r.span)) {
                continue;
            }
            let at = r.span.start;
            match &r.context {
                ReadCx::Element => {}
                ReadCx::Argument { callee, index } => {
                    if !copies_shape(callee.as_deref(), *index) {
                        return Err(Blocker::ShapePassedInWindow {
                            callee: callee.clone(),
                            at,
                        });
                    }
                }
                ReadCx::Alias | ReadCx::Stored | ReadCx::AddressOf => {
                    return Err(Blocker::ShapePointerInWindow { kept: true, at })
                }
                ReadCx::Other => return Err(Blocker::ShapePointerInWindow { kept: false, at }),
            }
            if insert && r.span.start > first_restore {
                return Err(Blocker::ReadAfterRestore {
                    at,
                    restore: first_restore,
                });
            }
            match (&r.shape.via, copy) {
                (Via::Source(span), _) => redirects.push(*span),
                (Via::Alias(name), CopyPlan::Alias { name: copy, .. }) if name == copy => {}
                (Via::Alias(name), _) => {
                    return Err(Blocker::OtherAlias {
                        name: name.clone(),
                        at,
                    })
                }
            }
        }
        for w in temp {
            if let (Via::Source(_), Some(source)) = (&w.shape.via, w.source) {
                redirects.push(source);
            }
        }
        redirects.sort();
        redirects.dedup();
        Ok(redirects)
    }

    /// Step 8: restores of the real shape go; a restore of an
    /// alias-turned-copy stays if the copy is read afterwards.
    fn deletes(&self, copy: &CopyPlan, restores: &[&Write]) -> Vec<Span> {
        restores
            .iter()
            .filter(|r| {
                let keep = match (&r.shape.via, copy) {
                    (Via::Alias(name), CopyPlan::Alias { .. }) => self.f.reads.iter().any(|x| {
                        x.span.start > r.expr.end && x.shape.via == Via::Alias(name.clone())
                    }),
                    _ => false,
                };
                !keep
            })
            .map(|r| r.place.stmt)
            .collect()
    }
}
