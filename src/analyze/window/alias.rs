//! Whether an alias of the shape can become the local copy.

use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::{ReadCx, UseKind, Via, Write};
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
    ) -> Result<(CopyPlan, CopySource), String> {
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
            CopyPlan::Alias {
                decl: decl.stmt,
                name: name.to_string(),
            },
            from,
        ))
    }
}
