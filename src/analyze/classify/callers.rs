//! What a lock finding's callers can change (DESIGN §3c): whether the
//! array a function changes in place is one of its parameters, in a
//! function only the tree can call; and whether a call passes, there, an
//! array the caller has just made.

use super::{ArrayCx, Origin};
use crate::analyze::api::BORROWING_CALLEES;
use crate::analyze::facts::{CallSite, Facts, UseKind};
use crate::analyze::reason::{Evidence, Shared};
use crate::analyze::summary::Summaries;
use crate::analyze::{Internal, Span};

use super::FileCx;

/// The words before a function's name that keep it from code outside the
/// tree (the first two are blanked for parsing, so read from the text).
const INTERNAL: &[&str] = &["static", "NPY_NO_EXPORT", "NPY_VISIBILITY_HIDDEN"];

impl ArrayCx<'_> {
    /// For a lock finding: which parameter its array is, when every change
    /// (`shared`: where, with why the array may be shared there) and every piece of evidence
    /// is on that parameter as the caller passed it, the function cannot
    /// be called from outside the tree, and it hands the array to no one
    /// before its last change.
    pub(super) fn internal(
        &self,
        shared: &[(Span, Shared)],
        evidence: &[Evidence],
    ) -> Option<Internal> {
        let linkage = self.linkage()?;
        let param = match &shared.first()?.1 {
            Shared::Param => self.array.to_string(),
            Shared::FromParam { param } => param.clone(),
            _ => return None,
        };
        let is_param = |why: &Shared| match why {
            Shared::Param => self.array == param,
            Shared::FromParam { param: p } => *p == param,
            _ => false,
        };
        if !shared.iter().all(|(_, why)| is_param(why)) {
            return None;
        }
        let evidence_on_param = evidence.iter().all(|e| match self.origin(e.at()) {
            Origin::Shared(why) => is_param(&why),
            Origin::Alloc { .. } => false,
        });
        let last = shared
            .iter()
            .map(|(w, _)| w.end)
            .chain(evidence.iter().map(Evidence::at))
            .max()?;
        let changes: Vec<Span> = shared.iter().map(|(w, _)| *w).collect();
        if !evidence_on_param || self.handed_on(&[self.array, &param], last, &changes) {
            return None;
        }
        let index = self.f.params.iter().find(|p| p.name == param)?.index;
        Some(Internal {
            param: index,
            linkage,
            api: self.api_marker(),
        })
    }

    /// `static`, `NPY_NO_EXPORT` or `NPY_VISIBILITY_HIDDEN` among the words
    /// that come before the function's name (back to the previous item);
    /// `None` for a function code outside the tree may call, or one whose
    /// name is not spelled as analysed (a template's).
    fn linkage(&self) -> Option<&'static str> {
        let f = self.f;
        let text = self.text;
        if text.get(f.name_span.range())? != f.name || f.unparsed || f.per_config {
            return None;
        }
        let head = &text.as_bytes()[..f.name_span.start];
        let mut start = head.len();
        while start > 0 {
            let b = head[start - 1];
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'*' || b.is_ascii_whitespace() {
                start -= 1;
            } else {
                break;
            }
        }
        let words = std::str::from_utf8(&head[start..]).ok()?;
        let words: Vec<&str> = words
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        if words.contains(&"extern") {
            return None;
        }
        INTERNAL.iter().copied().find(|w| words.contains(w))
    }

    /// `NUMPY_API` or `UFUNC_API` when the comment just before the function
    /// (NumPy's marker for its C API table) says so: extensions then reach
    /// the function through the table whatever its linkage.
    fn api_marker(&self) -> Option<&'static str> {
        let head = self.text.get(..self.f.name_span.start)?;
        // Back over the words before the name, to the comment's end.
        let words_start = head
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || "_* \t\r\n".contains(c))
            .len();
        let before = head[..words_start].trim_end();
        let body = before.strip_suffix("*/")?;
        let comment = &body[body.rfind("/*")? + 2..];
        ["NUMPY_API", "UFUNC_API"]
            .into_iter()
            .find(|m| comment.trim_start().starts_with(m))
    }

    /// Whether the function may hand the array (by any of `names`) to
    /// other code before `last`, or in a loop around one of `changes`:
    /// passed on, returned, stored, its address taken.
    fn handed_on(&self, names: &[&str], last: usize, changes: &[Span]) -> bool {
        let loops: Vec<Span> = self
            .loop_spans()
            .filter(|l| changes.iter().any(|c| l.contains(*c)))
            .collect();
        let early = |span: Span| span.start < last || loops.iter().any(|l| l.contains(span));
        let publishes = |kind: &UseKind| match kind {
            UseKind::Passed { callee } => !BORROWING_CALLEES.contains(&callee.as_str()),
            UseKind::CtorLink { .. } | UseKind::Return | UseKind::Store | UseKind::AddressOf => {
                true
            }
            _ => false,
        };
        self.f
            .uses
            .iter()
            .any(|u| names.contains(&u.array.as_str()) && publishes(&u.kind) && early(u.span))
            || self
                .f
                .stores
                .iter()
                .any(|s| s.from.iter().any(|v| names.contains(&v.as_str())) && early(s.span))
    }
}

/// Whether `call` (in function `f` of the file `file`) passes, as its
/// argument `index`, an array `f` has just made: the array variable's
/// value there is a new array (the freshness of DESIGN §3: made on every
/// path, not yet returned, stored or passed on), and no other argument
/// of the call hands it on first.
pub fn fresh_argument(
    f: &Facts,
    summaries: &Summaries,
    file: &FileCx,
    call: &CallSite,
    index: usize,
) -> bool {
    let Some(arg) = call.args.iter().find(|a| a.index == index) else {
        return false;
    };
    let Some(array) = &arg.object else {
        return false;
    };
    let cx = ArrayCx {
        f,
        summaries,
        text: &file.text,
        array,
        file,
    };
    let Origin::Alloc { at, names, .. } = cx.origin(call.span.start) else {
        return false;
    };
    let before = Span::new(call.span.start, call.span.start);
    if cx.first_escape(&names, at, before).is_some() {
        return false;
    }
    !f.uses.iter().any(|u| {
        names.contains(&u.array)
            && call.span.contains(u.span)
            && u.span != arg.span
            && !matches!(u.kind, UseKind::ShapeReader(_))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::facts::{self, Sources};
    use crate::analyze::syntax::{KindName, Preorder};

    /// What `ask` says of the last function of `text`, array `a`.
    fn of_last_function(
        text: &str,
        ask: fn(&ArrayCx) -> Option<&'static str>,
    ) -> Option<&'static str> {
        let masked = crate::source::Masker::new(&[]).mask(text, false);
        let tree = crate::source::parse_c(&masked);
        let func = Preorder::new(tree.root_node())
            .filter(|n| n.kind_name() == "function_definition")
            .last()
            .expect("a function");
        let f = facts::collect(func, &masked, Sources::plain(false));
        let file = FileCx::new(text);
        let summaries = Summaries::default();
        let cx = ArrayCx {
            f: &f,
            summaries: &summaries,
            text,
            array: "a",
            file: &file,
        };
        ask(&cx)
    }

    /// The linkage of the last function of `text`, as written.
    fn linkage_of(text: &str) -> Option<&'static str> {
        of_last_function(text, |cx| cx.linkage())
    }

    /// The API marker of the last function of `text`.
    fn api_of(text: &str) -> Option<&'static str> {
        of_last_function(text, |cx| cx.api_marker())
    }

    #[test]
    fn numpy_api_comments_mark_functions_of_the_api_table() {
        let body = "(PyArrayObject *a)\n{\n}\n";
        for (head, want) in [
            (
                "/*NUMPY_API\n * Removes axes.\n */\nNPY_NO_EXPORT void\nf",
                Some("NUMPY_API"),
            ),
            ("/*UFUNC_API*/\nstatic int f", Some("UFUNC_API")),
            (
                "/* Removes axes; see NUMPY_API */\nNPY_NO_EXPORT void\nf",
                None,
            ),
            ("/*NUMPY_API*/\nint x;\nNPY_NO_EXPORT void\nf", None),
            ("NPY_NO_EXPORT void\nf", None),
        ] {
            assert_eq!(api_of(&format!("{head}{body}")), want, "{head}");
        }
    }

    #[test]
    fn only_functions_the_tree_alone_can_call_are_internal() {
        let body = "(PyArrayObject *a)\n{\n}\n";
        for (head, want) in [
            ("static void\nf", Some("static")),
            ("static NPY_INLINE int *\nf", Some("static")),
            ("NPY_NO_EXPORT void\nf", Some("NPY_NO_EXPORT")),
            ("NPY_VISIBILITY_HIDDEN int f", Some("NPY_VISIBILITY_HIDDEN")),
            ("int x;\nvoid\nf", None),
            ("/* static */\nvoid f", None),
            ("extern void f", None),
            ("NPY_API void f", None),
        ] {
            assert_eq!(linkage_of(&format!("{head}{body}")), want, "{head}");
        }
    }
}
