//! The proof behind a rewrite (DESIGN §3 rewrite, §4): every slot written
//! is put back to the value read from it before, on every path, and
//! nothing between the read and the restore can see, change or hide what a
//! local copy would change. Each check returns the first reason it fails,
//! which becomes the manual finding's reason.

use std::collections::HashSet;

use super::api::{c_constant, copies_shape, PURE_ACCESSORS, WIDE_TYPES};
use super::classify::{describe, is_identifier, ArrayCx, Origin, Outcome};
use super::facts::{
    BlockKind, Decl, Declared, How, JumpKind, ReadCx, Target, UseKind, VarMod, Via, Write,
};
use super::{Copy, CopySource, Kind, Rewrite, Span};
use crate::plan::starts_line;
use crate::source::lexical::{self, Define};

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

    /// `name` is one variable of this function: declared once, as a
    /// parameter or a local that is not `static`, `extern` or `volatile`,
    /// and not also an enumeration constant or a macro of the file. Its
    /// declaration, when it is a local.
    fn own_variable(&self, name: &str) -> Result<Option<&Decl>, String> {
        if let Some(d) = self.file.macros().get(name) {
            return Err(format!(
                "`{name}` is a macro of this file (line {}), so what it means at each use is \
                 not proven",
                d.line
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
        let macros = self.file.macros();
        if macros.defs.is_empty() {
            return Vec::new();
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        let mut todo: Vec<&str> = lexical::identifiers(&self.text[span.range()]);
        while let Some(id) = todo.pop() {
            let Some(d) = macros.get(id) else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            todo.extend(lexical::identifiers(&d.body));
            out.push(d);
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

    /// Names in `span` that look like macros of a header (`CHECK_OR_FAIL`):
    /// what they expand to is unknown, so they could jump out, read the
    /// shape, or name the new copy. In the window itself, also CPython's
    /// `Py_RETURN_...`, which return.
    fn check_unknown_macros(&self, span: Span, place: &str, window: bool) -> Result<(), String> {
        let ids = lexical::identifiers_at(&self.text[span.range()]);
        let line = |offset: usize| self.line(span.start + offset);
        if let Some((at, id)) = ids
            .iter()
            .find(|(_, id)| window && id.starts_with("Py_RETURN"))
        {
            return Err(format!(
                "{id} at line {} returns from the function {place}",
                line(*at)
            ));
        }
        if let Some((at, id)) = ids.iter().find(|(_, id)| self.header_macro(id)) {
            return Err(format!(
                "{id} at line {} is not defined in this file; a macro from a header used \
                 {place} could jump out, read the shape, or name the copy",
                line(*at)
            ));
        }
        Ok(())
    }

    /// An all-capitals name that is neither declared in the function, nor
    /// defined in the file, nor a constant-like name of C, CPython or NumPy.
    fn header_macro(&self, id: &str) -> bool {
        let caps = id.len() >= 2
            && id.bytes().any(|b| b.is_ascii_uppercase())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        caps && !c_constant(id)
            && matches!(self.f.declared(id), Declared::Nowhere)
            && self.file.macros().get(id).is_none()
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

/// An index that means the same each time it is evaluated and changes
/// nothing: no calls, no `++`/`--`, no assignment, no conditional.
fn pure_index(index: &str) -> bool {
    let index: String = index.split_whitespace().collect();
    let b = index.as_bytes();
    let at = |i: Option<usize>| i.and_then(|i| b.get(i).copied());
    let assigns = index.match_indices('=').any(|(i, _)| {
        let prev = at(i.checked_sub(1));
        let comparison = match prev {
            _ if at(Some(i + 1)) == Some(b'=') => true,
            Some(b'=' | b'!') => true,
            // `<=`, `>=` compare; `<<=`, `>>=` assign.
            Some(c @ (b'<' | b'>')) => at(i.checked_sub(2)) != Some(c),
            _ => false,
        };
        !comparison
    });
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let calls = index.match_indices('(').any(|(i, _)| {
        // A call follows an identifier; a cast or grouping does not.
        let before = &index[..i];
        let name_start = before.rfind(|c: char| !ident(c)).map_or(0, |p| p + 1);
        let name = &before[name_start..];
        !name.is_empty() && !PURE_ACCESSORS.contains(&name)
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

/// Whether a declarator declares `name` itself (`n` or `n = ...`), not a
/// pointer, an array or a function.
fn plain_declarator(declarator: &str, name: &str) -> bool {
    declarator.split('=').next().unwrap_or_default().trim() == name
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
            "i<=j",
            "sizeof(x)",
        ] {
            assert!(pure_index(index), "{index}");
        }
        for index in [
            "i++",
            "--i",
            "next()",
            "i=2",
            "i+=1",
            "c?0:1",
            "f(x)+1",
            "ax[0]",
            "o->axis",
            "o.axis",
            "*p",
            "1+ *p",
            "&x-y",
            "i<<=1",
            "i>>=1",
            "my_PyArray_NDIM(a)",
            "foo_sizeof(x)",
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
