//! Checks on the macros the window uses: of the file, or unknown ones of a header.

use std::collections::HashSet;

use crate::analyze::api::c_constant;
use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::Declared;
use crate::analyze::reason::{Blocker, MacroWhy, Place};
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
    pub(super) fn check_macros(&self, win: Span) -> Result<(), Blocker> {
        let array = self.array;
        for m in self.macros_used(win) {
            let params = m.params.as_deref().unwrap_or_default();
            let ids = lexical::identifiers(&m.body);
            let is_param = params.iter().any(|p| p == array);
            let why = if !is_param && ids.contains(&array) {
                Some(MacroWhy::UsesArray)
            } else if let Some(jump) = ids
                .iter()
                .find(|id| matches!(**id, "goto" | "return" | "break" | "continue"))
            {
                Some(MacroWhy::Jumps {
                    jump: jump.to_string(),
                })
            } else {
                ids.iter()
                    .find(|id| self.header_macro(id))
                    .map(|id| MacroWhy::UsesHeaderMacro { id: id.to_string() })
            };
            if let Some(why) = why {
                return Err(Blocker::FileMacro {
                    name: m.name.clone(),
                    def: m.at,
                    why,
                });
            }
        }
        Ok(())
    }

    /// Names in the copy's scope that look like macros of a header
    /// (`CHECK_OR_FAIL`): what they expand to is unknown, so they could
    /// name the new copy. (The window itself is checked more strictly,
    /// names of any case: `check_hidden`.)
    pub(super) fn check_copy_scope_macros(&self, span: Span) -> Result<(), Blocker> {
        let ids = lexical::identifiers_at(&self.text[span.range()]);
        let directives = super::hidden::Directives::in_span(self.text, span);
        let found = ids
            .iter()
            .find(|(at, id)| !directives.contains(span.start + at) && self.header_macro(id));
        match found {
            Some((at, id)) => Err(Blocker::HeaderMacro {
                id: id.to_string(),
                at: span.start + at,
                place: Place::CopyScope,
                returns: false,
            }),
            None => Ok(()),
        }
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
