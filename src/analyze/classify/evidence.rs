//! What overrides a rewrite: evidence of an in-place change (lock), parse errors (manual).

use std::collections::HashSet;

use super::{ArrayCx, Origin};
use crate::analyze::facts::{Declared, UseKind};
use crate::analyze::reason::{Evidence, Limit};
use crate::analyze::Span;

impl<'a> ArrayCx<'a> {
    /// Assignments to the array's own metadata and frees of its shape: the
    /// evidence of an intentional in-place change (DESIGN §3 lock), and
    /// whether the descr is among them.
    pub(super) fn lock_evidence(&self) -> (Vec<Evidence>, bool) {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut descr = false;
        // A name declared twice (an inner block's own variable) may be
        // another array: its fields are no evidence about this one.
        if matches!(self.f.declared(self.array), Declared::Twice) {
            return (out, descr);
        }
        for u in self.f.uses.iter().filter(|u| u.array == self.array) {
            let at = u.span.start;
            if matches!(u.kind, UseKind::MetaWrite(_) | UseKind::Free(_)) && self.fresh_at(u.span) {
                // Setting up an array nobody else can see yet is no
                // in-place change of a shared one.
                continue;
            }
            let (key, evidence) = match &u.kind {
                UseKind::MetaWrite(field) => {
                    descr |= field == "descr";
                    let field = field.clone();
                    (field.clone(), Evidence::AssignsField { field, at })
                }
                UseKind::Free(how) => (
                    how.clone(),
                    Evidence::FreesShape {
                        how: how.clone(),
                        at,
                    },
                ),
                _ => continue,
            };
            if seen.insert(key) {
                out.push(evidence);
            }
        }
        (out, descr)
    }

    /// Whether the array is a new one nobody else can see yet at `span`.
    fn fresh_at(&self, span: Span) -> bool {
        match self.origin(span.start) {
            Origin::Alloc { at, names, .. } => self.first_escape(&names, at, span).is_none(),
            Origin::Shared(_) => false,
        }
    }

    /// A parse error overlapping any of `spans`; errors inside the
    /// argument list of one of the tree's macros are expected (a type
    /// argument such as `SWAPTYPE(a, b, npy_intp *)`).
    pub(super) fn parse_error_in(&self, spans: &[Span]) -> Option<Limit> {
        if self.f.unparsed {
            return Some(Limit::Unparsed {
                at: self.f.span.start,
            });
        }
        if self.f.knr {
            return Some(Limit::KnR {
                at: self.f.name_span.start,
            });
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
        Some(Limit::ParseError { at: err.span.start })
    }
}
