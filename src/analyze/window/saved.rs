//! The last steps of the proof, on the edits themselves: a saved value that
//! only the removed restores read goes with them (DESIGN §4.5: no new
//! compiler warning), and no line the rewrite inserts or removes sits after
//! a line continuation.

use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::{Decl, Declared};
use crate::analyze::reason::Blocker;
use crate::analyze::Span;
use crate::source::lexical;
use crate::span::line_start;

use super::Saved;

impl<'a> ArrayCx<'a> {
    /// Step 9: the statements (or declarators) that go with the restores:
    /// each saved value that nothing else reads — not the function, not a
    /// macro it uses — loses its declaration and its assignment, which
    /// read a shape slot and change nothing else. Left alone it would be
    /// set but unused (`-Wunused-but-set-variable`, `-Wunused-variable`).
    pub(super) fn unused_saved(
        &self,
        saved: &[Saved],
        deleted: &[Span],
    ) -> Result<Vec<Span>, Blocker> {
        let mut out = Vec::new();
        let mut decls: Vec<&Decl> = Vec::new();
        for s in saved {
            let Declared::Local(decl) = self.f.declared(&s.name) else {
                continue;
            };
            if self.read_elsewhere(&s.name, decl, s, deleted) {
                continue;
            }
            let in_decl = decl.declarator.contains(s.read.span);
            if !in_decl {
                // `n = PyArray_DIM(a, 0);`: the assignment is its own statement.
                let alone = s.read.stmt.is_some_and(|p| {
                    p.stmt.start == s.read.span.start
                        && self.text[s.read.span.end..p.stmt.end].trim() == ";"
                });
                let Some(place) = s.read.stmt.filter(|_| alone) else {
                    return Err(Blocker::SavedLeftUnused {
                        saved: s.name.clone(),
                        at: s.read.span.start,
                    });
                };
                out.push(place.stmt);
            }
            decls.push(decl);
        }
        out.extend(self.declarator_removals(&decls));
        Ok(out)
    }

    /// Whether the saved variable is read anywhere but its declaration, its
    /// assignment and the restores that go.
    fn read_elsewhere(&self, name: &str, decl: &Decl, s: &Saved, deleted: &[Span]) -> bool {
        let body = self.f.span;
        let allowed = |at: usize| {
            let p = Span::new(at, at + name.len());
            decl.declarator.contains(p)
                || s.read.span.contains(p)
                || deleted.iter().any(|d| d.contains(p))
        };
        let read = lexical::identifiers_at(&self.text[body.range()])
            .into_iter()
            .any(|(at, id)| id == name && !allowed(body.start + at));
        read || self
            .macros_used(body)
            .iter()
            .any(|m| lexical::identifiers(&m.body).contains(&name))
    }

    /// What to delete to remove these declarators: a whole declaration
    /// when all of its go, else each run of them with the commas that join
    /// it to the rest.
    fn declarator_removals(&self, gone: &[&Decl]) -> Vec<Span> {
        let mut out = Vec::new();
        let mut stmts: Vec<Span> = gone.iter().map(|d| d.stmt).collect();
        stmts.sort();
        stmts.dedup();
        for stmt in stmts {
            let mut mates: Vec<&Decl> = self.f.decls.iter().filter(|d| d.stmt == stmt).collect();
            mates.sort_by_key(|d| d.declarator.start);
            let removed: Vec<bool> = mates
                .iter()
                .map(|m| gone.iter().any(|g| g.declarator == m.declarator))
                .collect();
            if removed.iter().all(|&r| r) {
                out.push(stmt);
                continue;
            }
            let mut i = 0;
            while i < mates.len() {
                if !removed[i] {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j + 1 < mates.len() && removed[j + 1] {
                    j += 1;
                }
                out.push(match i {
                    0 => Span::new(mates[0].declarator.start, mates[j + 1].declarator.start),
                    _ => Span::new(mates[i - 1].declarator.end, mates[j].declarator.end),
                });
                i = j + 1;
            }
        }
        out
    }

    /// Step 10: no line the rewrite inserts before, or removes, follows a
    /// line ending in a continuation (`\`, or `??/`, which is one under
    /// the trigraphs of `-std=c99`/`c11`, even in a `//` comment): the
    /// compiler would join the new or the next line to it. Nor may a
    /// removed statement's own last line continue.
    pub(super) fn check_continuations(
        &self,
        insert_before: Option<Span>,
        deleted: &[Span],
    ) -> Result<(), Blocker> {
        let lines = insert_before.iter().chain(deleted);
        for s in lines {
            let start = line_start(self.text, s.start);
            if start > 0 {
                let prev = line_start(self.text, start - 1);
                if lexical::continues(&self.text[prev..start - 1]) {
                    return Err(Blocker::LineContinuation { at: prev });
                }
            }
        }
        for s in deleted {
            let end = self.text[s.end..]
                .find('\n')
                .map_or(self.text.len(), |i| s.end + i);
            if lexical::continues(&self.text[line_start(self.text, s.end.max(1) - 1)..end]) {
                return Err(Blocker::LineContinuation {
                    at: line_start(self.text, s.start),
                });
            }
        }
        Ok(())
    }
}
