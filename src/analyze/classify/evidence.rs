//! What overrides a rewrite: evidence of an in-place change (lock), parse errors (manual).

use std::collections::HashSet;

use super::ArrayCx;
use crate::analyze::facts::{Declared, UseKind};
use crate::analyze::Span;

impl<'a> ArrayCx<'a> {
    /// Assignments to the array's own metadata and frees of its shape: the
    /// evidence of an intentional in-place change (DESIGN §3 lock).
    pub(super) fn lock_evidence(&self) -> (Vec<(String, Span)>, bool) {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut descr = false;
        // A name declared twice (an inner block's own variable) may be
        // another array: its fields are no evidence about this one.
        if matches!(self.f.declared(self.array), Declared::Twice) {
            return (out, descr);
        }
        for u in self.f.uses.iter().filter(|u| u.array == self.array) {
            let (key, text) = match &u.kind {
                UseKind::MetaWrite(field) => {
                    descr |= field == "descr";
                    (field.clone(), format!("assigns {}->{field}", self.array))
                }
                UseKind::Free(how) => (how.clone(), format!("frees its shape with {how}()")),
                _ => continue,
            };
            if seen.insert(key) {
                out.push((
                    format!("{text} at line {}", self.line(u.span.start)),
                    u.span,
                ));
            }
        }
        (out, descr)
    }

    /// A parse error overlapping any of `spans`, as a reason; errors inside
    /// the argument list of one of the tree's macros are expected (a type
    /// argument such as `SWAPTYPE(a, b, npy_intp *)`).
    pub(super) fn parse_error_in(&self, spans: &[Span]) -> Option<String> {
        if self.f.unparsed {
            let line = self.line(self.f.span.start);
            return Some(format!(
                "the code around it did not parse as a function (ERROR from line {line}); \
                 check it by hand, or blank an unknown macro with --ignore-macro"
            ));
        }
        let err = self.f.errors.iter().find(|e| {
            let expected = e
                .in_args_of
                .as_ref()
                .is_some_and(|m| self.summaries.macros.contains_key(m));
            !expected
                && spans
                    .iter()
                    .any(|s| s.overlaps(e.span) || s.contains(e.span))
        })?;
        Some(format!(
            "tree-sitter could not parse line {} of this code (macro?); not rewritten; \
             check it by hand, or blank the macro with --ignore-macro",
            self.line(err.span.start)
        ))
    }
}
