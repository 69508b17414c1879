//! Checks on the macros the window uses: of the file, or unknown ones of a header.

use std::collections::HashSet;

use crate::analyze::api::c_constant;
use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::Declared;
use crate::analyze::Span;
use crate::source::lexical::{self, Define};

impl<'a> ArrayCx<'a> {
    /// The macros of this file that the code in `span` uses, directly or
    /// through other macros.
    pub(super) fn macros_used(&self, span: Span) -> Vec<&Define> {
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
    pub(super) fn check_macros(&self, win: Span) -> Result<(), String> {
        let array = self.array;
        for m in self.macros_used(win) {
            let params = m.params.as_deref().unwrap_or_default();
            let ids = lexical::identifiers(&m.body);
            let is_param = params.iter().any(|p| p == array);
            if !is_param && ids.contains(&array) {
                return Err(format!(
                    "the macro {} (defined at line {}) uses {array} itself; what it reads \
                     cannot be redirected to a copy",
                    m.name,
                    self.line(m.at)
                ));
            }
            if let Some(jump) = ids
                .iter()
                .find(|id| matches!(**id, "goto" | "return" | "break" | "continue"))
            {
                return Err(format!(
                    "the macro {} (defined at line {}) may `{jump}` out before the restore",
                    m.name,
                    self.line(m.at)
                ));
            }
            if let Some(id) = ids.iter().find(|id| self.header_macro(id)) {
                return Err(format!(
                    "the macro {} (defined at line {}) uses {id}, which is not defined in this \
                     file; a macro from a header could jump out or read the shape",
                    m.name,
                    self.line(m.at)
                ));
            }
        }
        Ok(())
    }

    /// Names in `span` that look like macros of a header (`CHECK_OR_FAIL`):
    /// what they expand to is unknown, so they could jump out, read the
    /// shape, or name the new copy. In the window itself, also CPython's
    /// `Py_RETURN_...`, which return.
    pub(super) fn check_unknown_macros(
        &self,
        span: Span,
        place: &str,
        window: bool,
    ) -> Result<(), String> {
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
}
