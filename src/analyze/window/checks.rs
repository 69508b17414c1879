//! Checks on the array, the saved values, the index, the code before the write, loops.

use std::collections::HashSet;

use crate::analyze::api::{copies_shape, PURE_ACCESSORS, WIDE_TYPES};
use crate::analyze::classify::{is_identifier, ArrayCx, Origin};
use crate::analyze::facts::{BlockKind, Decl, Declared, ReadCx, UseKind, VarMod};
use crate::analyze::{Kind, Span};
use crate::source::lexical;

use super::names::plain_declarator;

impl<'a> ArrayCx<'a> {
    /// `name` is one variable of this function: declared once, as a
    /// parameter or a local that is not `static`, `extern` or `volatile`,
    /// and not also an enumeration constant or a macro of the file. Its
    /// declaration, when it is a local.
    fn own_variable(&self, name: &str) -> Result<Option<&Decl>, String> {
        if let Some(d) = self.file.macros().get(name) {
            return Err(format!(
                "`{name}` is a macro of this file (line {}), so what it means at each use is \
                 not proven",
                self.line(d.at)
            ));
        }
        let decl = match self.f.declared(name) {
            Declared::Nowhere => {
                return Err(format!(
                    "`{name}` is not a parameter or local variable of this function; other \
                     code may use or change it meanwhile"
                ))
            }
            Declared::Twice => {
                return Err(format!(
                    "`{name}` is declared more than once in this function (an inner block, \
                     or an enumeration constant), so which one each use means is not proven"
                ))
            }
            Declared::Param => return Ok(None),
            Declared::Shared(d) | Declared::Local(d) => d,
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
    pub(super) fn check_array(&self, kind: Kind, win: Span) -> Result<(), String> {
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
    pub(super) fn check_saved(
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
        if let Some(label) = self.label_skipping(read.span, win.start) {
            return Err(format!(
                "a label at line {} lets control reach the write without reading `{saved}` \
                 at line {at}",
                line(label)
            ));
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
    ) -> Result<(), String> {
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
    pub(super) fn check_between(
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
    pub(super) fn check_loops(
        &self,
        read: &VarMod,
        vars: &[String],
        win: Span,
    ) -> Result<(), String> {
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
}
