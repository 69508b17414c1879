//! Checks on the array, the saved values, the index, the code before the write, loops.

use std::collections::HashSet;

use crate::analyze::api::{copies_shape, PURE_ACCESSORS, WIDE_TYPES};
use crate::analyze::classify::{is_identifier, ArrayCx, Origin};
use crate::analyze::facts::{BlockKind, Decl, Declared, ReadCx, UseKind, VarMod};
use crate::analyze::reason::{Before, Blocker, IndexWhy, NotOwn, SavedWhy};
use crate::analyze::{Kind, Span};
use crate::source::lexical;

use super::names::plain_declarator;

impl<'a> ArrayCx<'a> {
    /// `name` is one variable of this function: declared once, as a
    /// parameter or a local that is not `static`, `extern` or `volatile`,
    /// and not also an enumeration constant or a macro of the file. Its
    /// declaration, when it is a local.
    fn own_variable(&self, name: &str) -> Result<Option<&Decl>, NotOwn> {
        if let Some(d) = self.file.macros().get(name) {
            return Err(NotOwn::FileMacro { def: d.at });
        }
        let decl = match self.f.declared(name) {
            Declared::Nowhere => return Err(NotOwn::Nowhere),
            Declared::Twice => return Err(NotOwn::Twice),
            Declared::Param => return Ok(None),
            Declared::Shared(d) | Declared::Local(d) => d,
        };
        let qualifiers = lexical::identifiers(&self.text[decl.stmt.start..decl.declarator.start]);
        let volatile = qualifiers.contains(&"volatile").then_some("volatile");
        if let Some(q) = decl.storage.as_deref().or(volatile) {
            return Err(NotOwn::Storage {
                qualifier: q.to_string(),
                at: decl.stmt.start,
            });
        }
        Ok(Some(decl))
    }

    /// `own_variable` for the proof: a failure is a blocker naming `name`
    /// (and the index it is a variable of).
    fn own(&self, name: &str, index: Option<&str>) -> Result<Option<&Decl>, Blocker> {
        self.own_variable(name)
            .map_err(|why| Blocker::NotOwnVariable {
                name: name.to_string(),
                why,
                index: index.map(str::to_string),
            })
    }

    /// The array variable must be this function's own and followed
    /// completely: no pointer to it, no second name for it, no shape
    /// pointer kept where a copy cannot follow it, and no other array's
    /// shape read in the window (nothing proves that array is not this one).
    pub(super) fn check_array(&self, kind: Kind, win: Span) -> Result<(), Blocker> {
        let array = self.array;
        self.own(array, None)?;
        if let Some(u) = self
            .f
            .uses
            .iter()
            .find(|u| u.array == array && u.kind == UseKind::AddressOf)
        {
            return Err(Blocker::ArrayAddressTaken { at: u.span.start });
        }
        if let Some(m) = self
            .f
            .var_mods
            .iter()
            .find(|m| m.name != array && m.from.iter().any(|v| v == array))
        {
            return Err(Blocker::SecondName {
                name: m.name.clone(),
                at: m.span.start,
            });
        }
        if let Some(u) = self
            .f
            .uses
            .iter()
            .find(|u| u.array == array && u.kind == UseKind::Store && u.span.start < win.end)
        {
            return Err(Blocker::ArrayStored { at: u.span.start });
        }
        if let Some(r) = self.f.reads.iter().find(|r| {
            !r.shape.param
                && r.shape.array == array
                && r.shape.kind == kind
                && matches!(r.context, ReadCx::Stored | ReadCx::AddressOf)
        }) {
            return Err(Blocker::ShapePointerStored {
                at: r.span.start,
                address: r.context == ReadCx::AddressOf,
            });
        }
        let field = kind.field();
        if let Some((_, _, at)) = self
            .f
            .raw_fields
            .iter()
            .find(|(name, f, _)| name == array && f == field)
        {
            return Err(Blocker::RawField {
                field,
                at: at.start,
            });
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
                return Err(Blocker::OtherArray {
                    other: other.to_string(),
                    at: at.start,
                    written_after: None,
                });
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
    pub(super) fn check_saved(
        &self,
        saved: &str,
        read: &VarMod,
        first_write: Span,
        win: Span,
    ) -> Result<(), Blocker> {
        let decl = self.own(saved, None)?;
        self.saved_is_original(saved, decl, read, first_write, win)
            .map_err(|why| Blocker::SavedValue {
                saved: saved.to_string(),
                why,
            })
    }

    fn saved_is_original(
        &self,
        saved: &str,
        decl: Option<&Decl>,
        read: &VarMod,
        first_write: Span,
        win: Span,
    ) -> Result<(), SavedWhy> {
        let at = read.span.start;
        let Some(decl) = decl else {
            return Err(SavedWhy::Param);
        };
        if !WIDE_TYPES.contains(&decl.type_text.as_str()) {
            return Err(SavedWhy::Narrow {
                ty: decl.type_text.clone(),
            });
        }
        if !plain_declarator(&self.text[decl.declarator.range()], saved) {
            return Err(SavedWhy::NotScalar {
                decl: decl.stmt.start,
            });
        }
        let mods: Vec<usize> = self
            .f
            .var_mods
            .iter()
            .filter(|m| m.name == saved)
            .map(|m| m.span.start)
            .collect();
        if mods.len() != 1 {
            return Err(SavedWhy::AssignedTwice { at: mods, read: at });
        }
        if read.span.end > first_write.start {
            return Err(SavedWhy::ReadLate {
                read: at,
                write: first_write.start,
            });
        }
        let Some(place) = read.stmt else {
            return Err(SavedWhy::InExpression { read: at });
        };
        let covers = place.block.contains(win)
            && matches!(place.block_kind, BlockKind::Compound | BlockKind::Preproc);
        if !covers {
            return Err(SavedWhy::OtherBlock {
                read: at,
                write: first_write.start,
            });
        }
        if let Some(label) = self.label_skipping(read.span, win.start) {
            return Err(SavedWhy::LabelSkips { label, read: at });
        }
        Ok(())
    }

    /// An index must name the same slot at the read, the writes and the
    /// restore: no side effects, and made only of this function's own
    /// integer variables, whose address is at most lent to a call before
    /// the read.
    pub(super) fn check_index(
        &self,
        index: &str,
        vars: &[String],
        read: &VarMod,
    ) -> Result<(), Blocker> {
        let mut seen = HashSet::new();
        for v in vars.iter().filter(|v| seen.insert(v.as_str())) {
            if v == self.array || v == "sizeof" || PURE_ACCESSORS.contains(&v.as_str()) {
                continue;
            }
            let plain = match self.own(v, Some(index))? {
                Some(decl) => plain_declarator(&self.text[decl.declarator.range()], v),
                None => self.f.params.iter().any(|p| p.name == *v && !p.pointer),
            };
            let blocker = |why| Blocker::IndexVariable {
                var: v.clone(),
                why,
            };
            if !plain {
                return Err(blocker(IndexWhy::NotPlain {
                    index: index.to_string(),
                }));
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
                return Err(blocker(IndexWhy::AddressTaken { at: u.span.start }));
            }
        }
        Ok(())
    }

    /// Between the read of the saved value and the first write, nothing
    /// may change the slot behind the copy's back: the array passed to a
    /// function, or its shape passed to one that may write through it.
    pub(super) fn check_between(
        &self,
        kind: Kind,
        read: &VarMod,
        first_write: Span,
        win: Span,
    ) -> Result<(), Blocker> {
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
                return Err(Blocker::OtherArray {
                    other: other.to_string(),
                    at: w.expr.start,
                    written_after: Some(read.span.start),
                });
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
                UseKind::Passed { callee } => Before::Passed {
                    callee: callee.clone(),
                },
                _ => Before::Metadata,
            };
            return Err(Blocker::ChangedBeforeWrite {
                what,
                at: u.span.start,
                read: read.span.start,
            });
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
                ReadCx::Argument { callee, .. } => callee.clone(),
                _ => None,
            };
            return Err(Blocker::ChangedBeforeWrite {
                what: Before::ShapePassed { callee },
                at: r.span.start,
                read: read.span.start,
            });
        }
        Ok(())
    }

    /// In a loop around the window that does not also run the read, the
    /// index and the array must not change: the next pass would restore a
    /// value read from another slot or another array.
    pub(super) fn check_loops(
        &self,
        read: &VarMod,
        vars: &[String],
        win: Span,
    ) -> Result<(), Blocker> {
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
                return Err(Blocker::ChangesInLoop {
                    name: m.name.clone(),
                    at: m.span.start,
                    window: win.start,
                });
            }
        }
        Ok(())
    }
}
