//! Where an array's value comes from, and whether a new array may be seen before a write.

use super::{ArrayCx, Origin};
use crate::analyze::api::{is_allocator, may_return_input, BORROWING_CALLEES};
use crate::analyze::facts::{BlockKind, Declared, UseKind};
use crate::analyze::reason::{Escape, Shared};
use crate::analyze::Span;

impl<'a> ArrayCx<'a> {
    /// Where the array's value at `pos` comes from (statement order),
    /// following plain copies between variables.
    pub(crate) fn origin(&self, pos: usize) -> Origin {
        let array = self.array;
        let mut name = array.to_string();
        let mut pos = pos;
        let mut names = vec![name.clone()];
        // The last copy followed: `name` was assigned the plain `value` here.
        let mut copied: Option<(String, String, usize)> = None;
        for _ in 0..8 {
            let last = self
                .f
                .var_mods
                .iter()
                .rfind(|m| m.name == name && m.span.end <= pos);
            let Some(m) = last else {
                return Origin::Shared(if self.f.params.iter().any(|p| p.name == name) {
                    if name == array {
                        Shared::Param
                    } else {
                        Shared::FromParam { param: name }
                    }
                } else if let Some((name, value, at)) = copied {
                    // A copy of something this function does not assign
                    // (a global, say): say what it was assigned.
                    Shared::Assigned { name, value, at }
                } else {
                    Shared::NotAssigned
                });
            };
            let at = m.span.start;
            let Some(value) = &m.value else {
                return Origin::Shared(Shared::UntrackedChange { name, at });
            };
            if let Some(callee) = &value.call {
                if let Some(tree) = self.allocation(callee) {
                    return Origin::Alloc {
                        callee: callee.clone(),
                        at: m.span,
                        tree,
                        names,
                    };
                }
                return Origin::Shared(Shared::CallResult {
                    callee: callee.clone(),
                    at,
                    may_return_input: may_return_input(callee),
                });
            }
            match &value.ident {
                Some(next) if !names.contains(next) => {
                    copied = Some((name, value.text.clone(), at));
                    name = next.clone();
                    pos = m.span.start;
                    names.push(name.clone());
                }
                _ => {
                    return Origin::Shared(Shared::Assigned {
                        name,
                        value: value.text.clone(),
                        at,
                    })
                }
            }
        }
        Origin::Shared(Shared::TooManyCopies)
    }

    /// Why the new array may be visible to other code at the write, if it
    /// may: a use that publishes it between the allocation and the write
    /// (or anywhere in a loop around the write that the allocation does
    /// not start afresh), a copy into a variable that is not this
    /// function's own, another value assigned to it before the write, a
    /// label that lets control reach the write without the allocation, or
    /// a variable that is itself shared.
    pub(super) fn first_escape(
        &self,
        names: &[String],
        alloc: Span,
        write: Span,
    ) -> Option<Escape> {
        let local =
            |name: &str| matches!(self.f.declared(name), Declared::Local(_) | Declared::Param);
        if let Some(n) = names.iter().find(|n| !local(n)) {
            return Some(Escape::NotLocal { name: n.clone() });
        }
        // Before the write, the names hold nothing but new arrays (or NULL).
        let other = self.f.var_mods.iter().find(|m| {
            names.contains(&m.name)
                && m.span.end <= write.start
                && m.span != alloc
                && !m.value.as_ref().is_some_and(|v| {
                    v.is_null
                        || v.ident.as_ref().is_some_and(|i| names.contains(i))
                        || v.call
                            .as_deref()
                            .is_some_and(|c| self.allocation(c).is_some())
                })
        });
        if let Some(m) = other {
            return Some(Escape::OtherValue {
                name: m.name.clone(),
                at: m.span.start,
            });
        }
        if let Some(at) = self.label_skipping(alloc, write.start) {
            return Some(Escape::LabelSkips { at });
        }
        // Loops around the write that the allocation does not start afresh
        // (it is outside them, or does not run before the write in each
        // pass): what follows the write in one pass precedes it in the next.
        let dominates = self
            .f
            .var_mods
            .iter()
            .find(|m| m.span == alloc)
            .and_then(|m| m.stmt)
            .is_some_and(|p| {
                p.block.contains(write)
                    && matches!(p.block_kind, BlockKind::Compound | BlockKind::Preproc)
            });
        let loops: Vec<Span> = self
            .loop_spans()
            .filter(|l| l.contains(write) && !(l.contains(alloc) && dominates))
            .collect();
        // Names the new array goes by: the allocated variable, the ones it
        // was copied from, and the ones it is copied to after.
        let mut names: Vec<String> = names.to_vec();
        let after = Span::new(alloc.start, write.end);
        let in_reach = |span: Span| after.contains(span) || loops.iter().any(|l| l.contains(span));
        loop {
            let copy = self.f.var_mods.iter().find(|m| {
                in_reach(m.span)
                    && m.span != alloc
                    && !names.contains(&m.name)
                    && m.from.iter().any(|v| names.contains(v))
            });
            let Some(m) = copy else { break };
            if !local(&m.name) {
                return Some(Escape::StoredIn {
                    name: m.name.clone(),
                    at: m.span.start,
                });
            }
            names.push(m.name.clone());
        }
        self.f
            .uses
            .iter()
            .filter(|u| names.contains(&u.array))
            .filter(|u| {
                let linear = u.span.end >= alloc.end
                    && u.span.start < write.end
                    && self.reaches(u.span, write);
                linear || loops.iter().any(|l| l.contains(u.span))
            })
            .find_map(|u| {
                let (name, at) = (u.array.clone(), u.span.start);
                match &u.kind {
                    UseKind::Passed { callee } if !BORROWING_CALLEES.contains(&callee.as_str()) => {
                        Some(Escape::Passed {
                            name,
                            callee: callee.clone(),
                            at,
                        })
                    }
                    UseKind::CtorLink { callee } => Some(Escape::BaseOf {
                        name,
                        callee: callee.clone(),
                        at,
                    }),
                    UseKind::Return => Some(Escape::Returned { name, at }),
                    UseKind::Store => Some(Escape::Stored { name, at }),
                    UseKind::AddressOf => Some(Escape::AddressTaken { name, at }),
                    _ => None,
                }
            })
    }

    /// Whether a call returns a new array: `Some(None)` for an allocator of
    /// the API, `Some(Some(location))` for a function of the tree whose
    /// summary says so.
    fn allocation(&self, callee: &str) -> Option<Option<String>> {
        if is_allocator(callee) {
            return Some(None);
        }
        let summary = self.summaries.functions.get(callee)?;
        summary
            .fresh
            .as_ref()
            .map(|_| Some(summary.location.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::classify::FileCx;
    use crate::analyze::facts::{self, Sources};
    use crate::analyze::summary::Summaries;
    use crate::analyze::syntax::{KindName, Preorder};

    /// The origin of `a` at the end of the only function of `text`.
    fn origin_of(text: &str) -> Shared {
        let tree = crate::source::parse_c(text.as_bytes());
        let func = Preorder::new(tree.root_node())
            .find(|n| n.kind_name() == "function_definition")
            .expect("a function");
        let sources = Sources {
            dims_macros: &[],
            strides: false,
        };
        let f = facts::collect(func, text.as_bytes(), sources);
        let file = FileCx::new(text);
        let summaries = Summaries::default();
        let cx = ArrayCx {
            f: &f,
            summaries: &summaries,
            text,
            array: "a",
            file: &file,
        };
        match cx.origin(text.len()) {
            Origin::Shared(s) => s,
            _ => panic!("not shared"),
        }
    }

    #[test]
    fn a_copy_of_a_name_the_function_does_not_assign_says_what_it_was() {
        let text = "static PyArrayObject *current;\n\
                    void f(void)\n{\n    PyArrayObject *b = current;\n    \
                    PyArrayObject *a = b;\n    PyArray_DIMS(a)[0] = 1;\n}\n";
        let at = text.find("PyArrayObject *b").unwrap();
        assert!(matches!(
            origin_of(text),
            Shared::Assigned { name, value, at: p } if name == "b" && value == "current" && p >= at
        ));
        let text = "void f(PyObject *sa)\n{\n    PyArrayObject *a = sa;\n}\n";
        assert_eq!(
            origin_of(text),
            Shared::FromParam {
                param: "sa".to_string()
            }
        );
        assert_eq!(
            origin_of("void f(void)\n{\n    g(a);\n}\n"),
            Shared::NotAssigned
        );
    }
}
