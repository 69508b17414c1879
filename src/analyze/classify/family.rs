//! The metadata family (DESIGN §3b): changes of an array's descr, flags,
//! nd, data or base. Each (array, field) of a function becomes a finding
//! of its own, with the shape's classes: fresh on an array made here, a
//! lock for a change that stays, manual for a change put back later
//! (other threads see it; no copy can stand in for it), and, outranking
//! every other reason, an exit that skips the put-back.

use std::collections::HashMap;

use super::ArrayCx;
use crate::analyze::api::META_READERS;
use crate::analyze::facts::{
    ArrayId, BlockKind, Facts, Jump, JumpKind, MetaChange, MetaHow, Placement, UseKind,
};
use crate::analyze::reason::{Blocker, Evidence, Reason, Shared};
use crate::analyze::summary::Summaries;
use crate::analyze::{Class, ExitFix, Finding, Kind, Role, Site, Span};
use crate::source::lexical::{identifiers, identifiers_at};

use super::FileCx;

/// The findings of one function's metadata changes, one per (array, field).
pub(super) fn classify(f: &Facts, summaries: &Summaries, file: &FileCx) -> Vec<Finding> {
    let mut order: Vec<(&ArrayId, Kind)> = Vec::new();
    let mut groups: HashMap<(&ArrayId, Kind), Vec<&MetaChange>> = HashMap::new();
    for c in &f.meta {
        let group = groups.entry((&c.array, c.kind)).or_default();
        if group.is_empty() {
            order.push((&c.array, c.kind));
        }
        group.push(c);
    }
    order
        .into_iter()
        .map(|(array, kind)| {
            let cx = ArrayCx {
                f,
                summaries,
                text: &file.text,
                array,
                file,
            };
            cx.meta_finding(kind, &groups[&(array, kind)])
        })
        .collect()
}

/// A change put back later: the change, its restores in text order (the
/// last on the way through, earlier ones on exits), and the variable
/// holding the saved value.
struct Window<'c> {
    change: &'c MetaChange,
    restores: Vec<&'c MetaChange>,
    saved: String,
    /// The exits that leave without a restore, in text order.
    exits: Vec<Exit<'c>>,
}

/// A way out of a window: a jump statement, or a `Py_RETURN_...` macro
/// (which returns, but is no `return` to the parser).
#[derive(Clone, Copy)]
struct Exit<'j> {
    span: Span,
    what: &'static str,
    jump: Option<&'j Jump>,
}

/// Changes of an array made here and not yet seen (with why), and the
/// others (with why their array may be shared).
type Sorted<'c> = (Vec<(&'c MetaChange, Reason)>, Vec<(&'c MetaChange, Shared)>);

impl Window<'_> {
    /// The restore on the way through: the window ends there.
    fn last(&self) -> &MetaChange {
        self.restores.last().expect("a window has a restore")
    }

    /// Whether `c` is the change, one of its restores, or between them.
    fn holds(&self, c: &MetaChange) -> bool {
        self.change.expr.start <= c.expr.start && c.expr.start <= self.last().expr.start
    }
}

impl<'a> ArrayCx<'a> {
    fn meta_finding(&self, kind: Kind, changes: &[&MetaChange]) -> Finding {
        let (fresh, mut live) = self.sort_changes(changes);
        let windows = self.meta_windows(kind, changes);
        let (mut sites, seen_later) = fresh_in_windows(fresh, &mut live, &windows);
        live.sort_by_key(|(c, _)| c.expr.start);
        // A field assigned twice in a function that changes nothing else
        // of the array looks like a change undone by hand
        // (`out->nd = 1; ... out->nd = 0;`); with other fields changed too,
        // or through the flag API, it is an in-place change (a setter,
        // `__setstate__`).
        let set_again = live
            .iter()
            .all(|(c, _)| matches!(c.how, MetaHow::Assign(_)))
            && !self.changes_other_metadata(kind);
        let mut evidence = Vec::new();
        // The changes no window holds: the second of them is the one that
        // sets the field again.
        let leftover: Vec<&MetaChange> = live
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| !windows.iter().any(|w| w.holds(c)))
            .collect();
        let again = leftover.get(1).copied();
        for (c, why) in live.iter() {
            let (role, class, blocker) = self.change_class(
                kind,
                c,
                &windows,
                again.filter(|_| set_again),
                &mut evidence,
            );
            let reason = match blocker {
                None => Reason::LockSite {
                    role,
                    kind,
                    evidence: evidence.last().cloned().expect("a lock site has evidence"),
                },
                Some(blocker) => Reason::Manual {
                    blocker,
                    shared: (!seen_later.contains(&c.expr)).then(|| why.clone()),
                },
            };
            sites.push(meta_site(c, role, class, reason));
        }
        sites.sort_by_key(|s| (s.span.start, s.span.end));
        let class = sites.iter().map(|s| s.class).max().unwrap_or(Class::Manual);
        let descr_set = kind == Kind::Descr && class == Class::Lock;
        // The first site's blocker, unless a skipped restore outranks it.
        let blockers: Vec<&Blocker> = sites
            .iter()
            .filter_map(|s| match &s.reason {
                Reason::Manual { blocker, .. } => Some(blocker),
                _ => None,
            })
            .collect();
        let first_blocker = blockers
            .iter()
            .find(|b| matches!(b, Blocker::RestoreSkipped { .. }))
            .or(blockers.first())
            .map(|&b| b.clone());
        let reason = match class {
            Class::Manual => Reason::Manual {
                blocker: first_blocker.expect("a manual finding has a blocker"),
                shared: live
                    .first()
                    .filter(|(c, _)| !seen_later.contains(&c.expr))
                    .map(|(_, why)| why.clone()),
            },
            Class::Lock => Reason::InPlaceChange {
                field: Some(kind),
                descr_set,
                evidence: evidence.clone(),
                shared_callers: Vec::new(),
            },
            _ => sites[0].reason.clone(),
        };
        let internal = (class == Class::Lock)
            .then(|| {
                let changes: Vec<(Span, Shared)> =
                    live.iter().map(|(c, why)| (c.expr, why.clone())).collect();
                self.internal(&changes, &evidence)
            })
            .flatten();
        Finding {
            exit_fixes: self.exit_fixes(&windows),
            internal,
            ..self.new_finding(Some(kind), class, reason, sites, (descr_set, evidence))
        }
    }

    /// The restores made on every exit that skips one, when each can be
    /// (none otherwise: a partial fix would leave the bug on some path).
    fn exit_fixes(&self, windows: &[Window]) -> Vec<ExitFix> {
        let mut fixes = Vec::new();
        for w in windows {
            for exit in &w.exits {
                match exit.jump.and_then(|j| self.exit_fix(w, j)) {
                    Some(fix) => fixes.push(fix),
                    None => return Vec::new(),
                }
            }
        }
        fixes
    }

    /// Whether the function changes any other metadata of the array: its
    /// shape or strides, or another field.
    fn changes_other_metadata(&self, kind: Kind) -> bool {
        let array = self.array;
        self.f.writes.iter().any(|w| w.shape.array == array)
            || self
                .f
                .meta
                .iter()
                .any(|m| m.array == array && m.kind != kind)
            || self.f.uses.iter().any(|u| {
                u.array == array
                    && match &u.kind {
                        UseKind::MetaWrite(field) => field != kind.field(),
                        UseKind::Free(_) => true,
                        _ => false,
                    }
            })
    }

    /// The changes of an array made here and not yet seen (with why), and
    /// the others, with why their array may be shared.
    fn sort_changes<'c>(&self, changes: &[&'c MetaChange]) -> Sorted<'c> {
        let mut fresh = Vec::new();
        let mut live: Vec<(&MetaChange, Shared)> = Vec::new();
        for &c in changes {
            match self.freshness(c.expr) {
                Ok(reason) => fresh.push((c, reason)),
                Err(why) => live.push((c, why)),
            }
        }
        (fresh, live)
    }

    /// A change's role and class, with its blocker when manual (none for a
    /// lock, whose evidence it adds): in a window (put back later), set
    /// again by hand (`again`: the change that does), or for good.
    fn change_class(
        &self,
        kind: Kind,
        c: &MetaChange,
        windows: &[Window],
        again: Option<&MetaChange>,
        evidence: &mut Vec<Evidence>,
    ) -> (Role, Class, Option<Blocker>) {
        match windows.iter().find(|w| w.holds(c)) {
            Some(w) => {
                let restores = w.restores.iter().any(|r| std::ptr::eq(*r, c));
                let role = if restores { Role::Restore } else { Role::Write };
                let blocker = self.skipped(kind, w).unwrap_or(Blocker::MetaSwap {
                    kind,
                    restore: w.last().expr.start,
                    saved: w.saved.clone(),
                    view: view_of(kind, w),
                });
                (role, Class::Manual, Some(blocker))
            }
            None => match again {
                // Set again later, to something not saved from it.
                Some(later) => (
                    Role::Write,
                    Class::Manual,
                    Some(Blocker::MetaSetAgain {
                        kind,
                        at: later.expr.start,
                        value: match &later.how {
                            MetaHow::Assign(v) => v.text.clone(),
                            MetaHow::Flags(name) => format!("{name}()"),
                            MetaHow::Update => "an update".to_string(),
                        },
                    }),
                ),
                None => {
                    let e = match &c.how {
                        MetaHow::Assign(_) | MetaHow::Update => Evidence::AssignsField {
                            field: kind.field().to_string(),
                            at: c.expr.start,
                        },
                        MetaHow::Flags(how) => Evidence::SetsFlags {
                            how: how.clone(),
                            at: c.expr.start,
                        },
                    };
                    evidence.push(e);
                    (Role::Write, Class::Lock, None)
                }
            },
        }
    }

    /// Changes put back later: a later assignment of the field from a
    /// variable that last held the field's own value before the change
    /// (`saved = PyArray_DESCR(self)`, `storeflags = PyArray_FLAGS(arr)`),
    /// unchanged since, on the same array variable, also unchanged; the
    /// assignments from it that follow are restores too (on other paths).
    fn meta_windows(&self, kind: Kind, live: &[&'a MetaChange]) -> Vec<Window<'a>> {
        let mut out: Vec<Window<'a>> = Vec::new();
        let mut i = 0;
        while i < live.len() {
            let change = live[i];
            let found = live[i + 1..].iter().enumerate().find_map(|(j, r)| {
                let MetaHow::Assign(value) = &r.how else {
                    return None;
                };
                let saved = value.ident.as_ref()?;
                let save = self
                    .f
                    .var_mods
                    .iter()
                    .rfind(|m| &m.name == saved && m.span.end <= change.expr.start)?;
                let slot = save.slot_read.as_ref()?;
                let proven = slot.0 == *self.array
                    && slot.1 == kind
                    && !self.f.var_mods.iter().any(|m| {
                        (&m.name == saved || m.name == *self.array)
                            && m.span.start > save.span.end
                            && m.span.start < r.expr.start
                    });
                proven.then(|| (i + 1 + j, saved.clone()))
            });
            match found {
                Some((j, saved)) => {
                    let mut restores = vec![live[j]];
                    let mut next = j + 1;
                    while let Some(r) = live.get(next) {
                        match &r.how {
                            MetaHow::Assign(v) if v.ident.as_ref() == Some(&saved) => {
                                restores.push(r);
                                next += 1;
                            }
                            _ => break,
                        }
                    }
                    let mut w = Window {
                        change,
                        restores,
                        saved,
                        exits: Vec::new(),
                    };
                    w.exits = self.skipping_exits(&w);
                    out.push(w);
                    i = next;
                }
                None => i += 1,
            }
        }
        out
    }

    /// The exits between a window's change and its restore that leave
    /// without the restore: a `return` or `throw`; a `goto` to a label
    /// outside the window; a `break` or `continue` of a loop or switch that
    /// holds the restore. An exit on the other branch of an `if` whose one
    /// branch holds the change is not on the change's path.
    fn skipping_exits(&self, w: &Window) -> Vec<Exit<'a>> {
        let (from, to) = (w.change.expr.end, w.last().expr.start);
        let mut exits: Vec<Exit<'a>> = self
            .f
            .jumps
            .iter()
            .filter(|j| {
                if j.span.start < from || j.span.start >= to {
                    return false;
                }
                let leaves = match j.kind {
                    JumpKind::Return | JumpKind::Throw => true,
                    JumpKind::Goto => self.label_at(&j.label).is_none_or(|l| l < from || l >= to),
                    JumpKind::Break | JumpKind::Continue => j.scope.is_none_or(|s| s.end > to),
                    JumpKind::Label | JumpKind::Case => false,
                };
                let apart = self.f.if_else.iter().any(|ie| {
                    (ie.then.contains(w.change.expr) && ie.otherwise.contains(j.span))
                        || (ie.otherwise.contains(w.change.expr) && ie.then.contains(j.span))
                });
                let in_lambda = self.f.lambdas.iter().any(|l| l.contains(j.span));
                leaves && !apart && !in_lambda && !self.restored_before(w, j.span)
            })
            .map(|j| Exit {
                span: j.span,
                what: j.kind.spelled(),
                jump: Some(j),
            })
            .chain(
                self.macro_returns(from, to)
                    .filter(|&at| {
                        !self.f.lambdas.iter().any(|l| l.contains(at))
                            && !self.restored_before(w, at)
                    })
                    .map(|span| Exit {
                        span,
                        what: "`Py_RETURN_...`",
                        jump: None,
                    }),
            )
            .collect();
        exits.sort_by_key(|e| e.span.start);
        exits
    }

    /// `Py_RETURN_NONE` and the other `Py_RETURN_...` macros, in code
    /// between `from` and `to`.
    fn macro_returns(&self, from: usize, to: usize) -> impl Iterator<Item = Span> + '_ {
        let code = &self.text[from..to];
        code.match_indices("Py_RETURN_").filter_map(move |(i, _)| {
            let at = from + i;
            let before = self.text[..at].chars().next_back();
            let word = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            (word && self.file.code().in_code(at)).then(|| Span::new(at, at + "Py_RETURN_".len()))
        })
    }

    /// Whether an earlier restore of the window runs before the exit at
    /// `exit`: the restore's own statement, or a copy of the statement that
    /// restores on the way through (with its `if`), as an item of a block
    /// holding the exit, before it.
    fn restored_before(&self, w: &Window, exit: Span) -> bool {
        // As written, whatever its indentation.
        let unit = |p: &Placement| -> String {
            self.text[p.stmt.range()]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let through: Vec<String> = w.last().enclosing.iter().map(unit).collect();
        w.restores[..w.restores.len() - 1].iter().any(|r| {
            r.enclosing.iter().enumerate().any(|(i, p)| {
                p.block.contains(exit)
                    && p.stmt.end <= exit.start
                    && (i == 0 || through.contains(&unit(p)))
            })
        })
    }

    /// The reason of a window whose restore an exit skips (the first).
    fn skipped(&self, kind: Kind, w: &Window) -> Option<Blocker> {
        let exit = w.exits.first()?;
        Some(Blocker::RestoreSkipped {
            kind,
            jump: exit.what,
            at: exit.span.start,
            restore: w.last().expr.start,
            view: view_of(kind, w),
        })
    }

    /// The restore made on `exit` too, when that provably does what the
    /// restore would: the statement holding the restore in the innermost
    /// block that also holds the exit (so an `if` guarding the restore
    /// comes along), after the exit, with no jump or declaration in it,
    /// every name it mentions unchanged since the change, and the exit's
    /// own text not mentioning the array. Only `return` and `goto`, as an
    /// item of a `{ }` block or the body of an `if` without braces.
    fn exit_fix(&self, w: &Window, exit: &Jump) -> Option<ExitFix> {
        if !matches!(exit.kind, JumpKind::Return | JumpKind::Goto) || self.f.per_config {
            return None;
        }
        let place = exit.place?;
        let restore = w
            .last()
            .enclosing
            .iter()
            .find(|p| p.block.contains(exit.span))
            .filter(|p| !p.stmt.contains(exit.span) && p.stmt.start >= exit.span.end)?
            .stmt;
        let inside = |s: Span| restore.contains(s);
        if self.f.jumps.iter().any(|j| inside(j.span))
            || self.f.decls.iter().any(|d| inside(d.stmt))
            || self.f.lambdas.iter().any(|l| inside(*l))
            || self
                .parse_error_in(&[Span::new(w.change.expr.start, restore.end)])
                .is_some()
        {
            return None;
        }
        let names = identifiers(&self.text[restore.range()]);
        // Anything the restore reads must hold at the exit what it holds at
        // the restore: nothing of it changes, or is declared, in between
        // (nor between the change and the exit, for the guard).
        let between = |at: usize| at >= w.change.expr.start && at < restore.start;
        let changed = self
            .f
            .var_mods
            .iter()
            .any(|m| names.contains(&m.name.as_str()) && between(m.span.start))
            || self
                .f
                .decls
                .iter()
                .any(|d| names.contains(&d.name.as_str()) && between(d.stmt.start));
        if changed || !self.only_restores(restore, w) {
            return None;
        }
        let root = self
            .array
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()?;
        if root.is_empty() || identifiers(&self.text[exit.span.range()]).contains(&root) {
            return None;
        }
        let wrap = match place.block_kind {
            BlockKind::Compound => None,
            BlockKind::Other if self.text[place.block.range()].starts_with("if") => {
                Some(place.block)
            }
            _ => return None,
        };
        Some(ExitFix {
            exit: exit.span,
            restore,
            wrap,
        })
    }
}

impl ArrayCx<'_> {
    /// Whether the statement copied to an exit does nothing but restore:
    /// one assignment (the restore), calls only of reference counting and
    /// field readers, and otherwise `if`, `NULL`, the fields type and the
    /// function's own variables (no macro that could return or jump).
    fn only_restores(&self, unit: Span, w: &Window) -> bool {
        let code = &self.text[unit.range()];
        let assignments = code
            .char_indices()
            .filter(|&(i, c)| {
                c == '='
                    && !matches!(code[..i].chars().next_back(), Some('=' | '!' | '<' | '>'))
                    && !code[i + 1..].starts_with('=')
            })
            .count();
        if assignments != w.restores.iter().filter(|r| unit.contains(r.expr)).count()
            || code.contains("++")
            || code.contains("--")
        {
            return false;
        }
        let own = |name: &str| {
            self.f.params.iter().any(|p| p.name == name)
                || self.f.decls.iter().any(|d| d.name == name)
        };
        identifiers_at(code).into_iter().all(|(start, word)| {
            let called = code[start + word.len()..].trim_start().starts_with('(');
            let member = code[..start].trim_end().ends_with("->");
            if word == "if" {
                true
            } else if called {
                RESTORE_CALLS.contains(&word) || META_READERS.iter().any(|(n, _)| *n == word)
            } else {
                matches!(word, "NULL" | "PyArrayObject_fields" | "PyArrayObject")
                    || member
                    || own(word)
            }
        })
    }
}

/// The calls a restore copied to an exit may make: reference counting.
const RESTORE_CALLS: &[&str] = &[
    "Py_XDECREF",
    "Py_DECREF",
    "Py_CLEAR",
    "Py_XINCREF",
    "Py_INCREF",
];

/// For a dtype swap to a plain variable: that variable (the dtype of the
/// view that would replace the swap).
fn view_of(kind: Kind, w: &Window) -> Option<String> {
    match &w.change.how {
        MetaHow::Assign(v) if kind == Kind::Descr => v.ident.clone(),
        _ => None,
    }
}

/// A change made while the array was new but put back after it may have
/// been seen is part of a temporary change of a shared array: it joins
/// `live` (its span listed, as why the array may be shared is said at the
/// restore, not at it); the other fresh changes are fresh sites.
fn fresh_in_windows<'c>(
    fresh: Vec<(&'c MetaChange, Reason)>,
    live: &mut Vec<(&'c MetaChange, Shared)>,
    windows: &[Window],
) -> (Vec<Site>, Vec<Span>) {
    let mut sites = Vec::new();
    let mut seen_later: Vec<Span> = Vec::new();
    for (c, reason) in fresh {
        let shared = windows
            .iter()
            .filter(|w| w.holds(c))
            .flat_map(|w| live.iter().filter(|(l, _)| w.holds(l)))
            .map(|(_, why)| why.clone())
            .next();
        match shared {
            Some(why) => {
                seen_later.push(c.expr);
                live.push((c, why));
            }
            None => sites.push(meta_site(c, Role::Write, Class::Fresh, reason)),
        }
    }
    (sites, seen_later)
}

fn meta_site(c: &MetaChange, role: Role, class: Class, reason: Reason) -> Site {
    Site {
        shown: Default::default(),
        branch: None,
        span: c.expr,
        stmt: c.place.stmt,
        kind: c.kind,
        role,
        class,
        reason,
    }
}
