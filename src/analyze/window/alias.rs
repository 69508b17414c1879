//! Whether an alias of the shape can become the local copy.

use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::{AliasDef, Decl, ReadCx, UseKind, Via, Write};
use crate::analyze::reason::{AliasWhy, Blocker};
use crate::analyze::{CopyPlan, CopySource, Span};
use crate::span::starts_line;

impl<'a> ArrayCx<'a> {
    /// Check that the alias `name` can become the local copy: declared once
    /// from the source, never re-pointed, never escaping, and the array
    /// not changed by other code while the alias is in use.
    pub(super) fn alias_copy(
        &self,
        name: &str,
        ws: &[&Write],
        win: Span,
    ) -> Result<(CopyPlan, CopySource), Blocker> {
        let blocker = |why: AliasWhy| Blocker::AliasCopy {
            name: name.to_string(),
            why,
        };
        let (def, decl, from) = self.alias_declaration(name).map_err(blocker)?;
        self.alias_use(name, def, ws, win).map_err(blocker)?;
        self.alias_stays_valid(name, decl, win).map_err(blocker)?;
        let copy = CopyPlan::Alias {
            decl: decl.stmt,
            name: name.to_string(),
        };
        Ok((copy, from))
    }

    /// The alias is declared alone, once, as `npy_intp *d = SOURCE;`,
    /// pointing at the start of the shape.
    fn alias_declaration(
        &self,
        name: &str,
    ) -> Result<(&'a AliasDef, &'a Decl, CopySource), AliasWhy> {
        let defs: Vec<&AliasDef> = self
            .f
            .alias_defs
            .iter()
            .filter(|d| d.name == name)
            .collect();
        let [def] = defs.as_slice() else {
            return Err(AliasWhy::PointedTwice);
        };
        let Some(decl) = self
            .f
            .decls
            .iter()
            .find(|d| d.name == name && d.declarator == def.span)
        else {
            return Err(AliasWhy::Assigned { at: def.span.start });
        };
        let from = match (&def.shape.via, def.shape.ndim, &def.shape.offset) {
            (Via::Source(source), Some(ndim), None) => CopySource {
                source: *source,
                ndim,
            },
            _ => return Err(AliasWhy::Offset { at: def.span.start }),
        };
        let spelled: String = self.text[decl.stmt.range()].split_whitespace().collect();
        let source: String = self.text[from.source.range()].split_whitespace().collect();
        if spelled != format!("npy_intp*{name}={source};")
            || !starts_line(self.text, decl.stmt.start)
        {
            return Err(AliasWhy::DeclarationForm {
                at: decl.stmt.start,
            });
        }
        if decl.declarators != 1 || decl.type_text != "npy_intp" {
            return Err(AliasWhy::DeclaredWithOthers {
                at: decl.stmt.start,
            });
        }
        Ok((def, decl, from))
    }

    /// The alias is never re-pointed or escapes, is the only one written
    /// through, and is only indexed, or passed on inside the change.
    fn alias_use(
        &self,
        name: &str,
        def: &AliasDef,
        ws: &[&Write],
        win: Span,
    ) -> Result<(), AliasWhy> {
        if let Some(m) = self
            .f
            .var_mods
            .iter()
            .find(|m| m.name == name && m.span != def.span)
        {
            return Err(AliasWhy::Changes { at: m.span.start });
        }
        if let Some(u) = self.f.uses.iter().find(|u| {
            u.array == name
                && matches!(
                    u.kind,
                    UseKind::Return | UseKind::Store | UseKind::AddressOf
                )
        }) {
            return Err(AliasWhy::Escapes { at: u.span.start });
        }
        if self.f.sizeof_names.contains(name) {
            return Err(AliasWhy::InSizeof);
        }
        if let Some(w) = ws.iter().find(|w| match &w.shape.via {
            Via::Alias(n) => n != name,
            Via::Source(_) => false,
        }) {
            return Err(AliasWhy::SeveralAliases { at: w.expr.start });
        }
        if let Some(w) = ws.iter().find(|w| matches!(w.shape.via, Via::Source(_))) {
            return Err(AliasWhy::AlsoDirect { at: w.expr.start });
        }
        for r in self
            .f
            .reads
            .iter()
            .filter(|r| r.shape.via == Via::Alias(name.to_string()))
        {
            let at = r.span.start;
            match &r.context {
                ReadCx::Element => {}
                ReadCx::Argument { .. } if win.contains(r.span) => {}
                ReadCx::Argument { .. } => return Err(AliasWhy::PassedOutside { at }),
                _ => return Err(AliasWhy::UsedAsPointer { at }),
            }
        }
        Ok(())
    }

    /// While the copy stands in for the alias, the live shape must not
    /// change by other means, or the copy would go stale.
    fn alias_stays_valid(&self, name: &str, decl: &Decl, win: Span) -> Result<(), AliasWhy> {
        let array = self.array;
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
            return Err(AliasWhy::ArrayReassigned { at: m.span.start });
        }
        if let Some(u) = self.f.uses.iter().find(|u| {
            u.array == array
                && live.contains(u.span)
                && matches!(
                    u.kind,
                    UseKind::Passed { .. } | UseKind::MetaWrite(_) | UseKind::Free(_)
                )
        }) {
            return Err(AliasWhy::ArrayUsed { at: u.span.start });
        }
        Ok(())
    }
}
