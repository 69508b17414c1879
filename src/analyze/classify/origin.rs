//! Where an array's value comes from, and whether a new array may be seen before a write.

use super::{ArrayCx, Origin};
use crate::analyze::api::{is_allocator, may_return_input, BORROWING_CALLEES};
use crate::analyze::facts::{BlockKind, Declared, Placement, UseKind, VarMod};
use crate::analyze::reason::{Escape, Reason, Shared};
use crate::analyze::Span;

impl<'a> ArrayCx<'a> {
    /// Where the array's value at `pos` comes from (statement order),
    /// following plain copies between variables.
    pub(crate) fn origin(&self, pos: usize) -> Origin {
        self.origin_of(self.array, pos)
    }

    /// At the write or change `expr`: the array is new and not yet seen
    /// (the fresh reason), or why it may be shared.
    pub(super) fn freshness(&self, expr: Span) -> Result<Reason, Shared> {
        match self.origin(expr.start) {
            Origin::Alloc {
                callee,
                at,
                tree,
                names,
            } => match self.first_escape(&names, at, expr) {
                None => Ok(Reason::Fresh {
                    alloc: at.start,
                    callee,
                    location: tree,
                }),
                Some(escape) => Err(Shared::Escaped {
                    alloc: at.start,
                    callee,
                    escape,
                }),
            },
            Origin::Shared(why) => Err(why),
        }
    }

    /// Where the value of variable `array` at `pos` comes from.
    fn origin_of(&self, array: &str, pos: usize) -> Origin {
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
        let chain = names;
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
            .or_else(|| self.not_on_every_path(chain, alloc, write))
    }

    /// Fresh means an allocation reaches the write on every path: every
    /// way from the function's start to the write passes an assignment of
    /// a new array to the variable (for a copy `r = t`, of `t` to `r`, and
    /// a new array to `t` before). When not: the branch the allocation
    /// sits in, and what the variable holds on the other paths.
    fn not_on_every_path(&self, names: &[String], alloc: Span, write: Span) -> Option<Escape> {
        if self.always_new(names, write.start) {
            return None;
        }
        let m = self.f.var_mods.iter().find(|m| m.span == alloc)?;
        let branch = m.stmt.map_or(alloc.start, |p| p.block.start);
        let before = match self.origin_of(&m.name, m.span.start) {
            Origin::Shared(why) => why,
            // An earlier allocation that does not reach the write either:
            // what was there before the first one.
            Origin::Alloc { names, .. } => match self.origin_of(
                names.last().map_or(m.name.as_str(), String::as_str),
                self.f.var_mods.first().map_or(0, |v| v.span.start),
            ) {
                Origin::Shared(why) => why,
                Origin::Alloc { .. } => Shared::NotAssigned,
            },
        };
        let (construct, branch) = construct_at(self.text, branch);
        Some(Escape::NotOnEveryPath {
            branch,
            construct,
            before: Box::new(before),
        })
    }

    /// Whether every path to `pos` gives `names[0]` a new array (through
    /// the copies of the chain `names`).
    fn always_new(&self, names: &[String], mut pos: usize) -> bool {
        for (i, name) in names.iter().enumerate() {
            let next = names.get(i + 1);
            let fills = |m: &VarMod| {
                &m.name == name
                    && m.value.as_ref().is_some_and(|v| match next {
                        Some(n) => v.ident.as_ref() == Some(n),
                        None => v
                            .call
                            .as_deref()
                            .is_some_and(|c| self.allocation(c).is_some()),
                    })
            };
            if !self.reached(&fills, pos) {
                return false;
            }
            if next.is_some() {
                match self
                    .f
                    .var_mods
                    .iter()
                    .rfind(|m| fills(m) && m.span.end <= pos)
                {
                    Some(m) => pos = m.span.start,
                    None => return false,
                }
            }
        }
        true
    }

    /// Whether a statement that `fills` runs on every path to `pos`: it is
    /// an item of a `{ }` block holding `pos`, before it, or an `if`/`else`
    /// there has one in both branches.
    fn reached(&self, fills: &dyn Fn(&VarMod) -> bool, pos: usize) -> bool {
        let before_in_block = |p: &Placement| {
            p.block_kind == BlockKind::Compound
                && p.block.start < pos
                && pos < p.block.end
                && p.stmt.end <= pos
        };
        self.f
            .var_mods
            .iter()
            .any(|m| fills(m) && m.stmt.as_ref().is_some_and(before_in_block))
            || self.f.if_else.iter().any(|i| {
                before_in_block(&i.place)
                    && self.fills_branch(fills, i.then, 0)
                    && self.fills_branch(fills, i.otherwise, 0)
            })
    }

    /// Whether branch body `body` always runs a statement that `fills`
    /// (nested `if`/`else` followed to a bounded depth).
    fn fills_branch(&self, fills: &dyn Fn(&VarMod) -> bool, body: Span, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        let top = |p: &Placement| {
            p.stmt == body || (p.block == body && p.block_kind == BlockKind::Compound)
        };
        self.f
            .var_mods
            .iter()
            .any(|m| fills(m) && m.stmt.as_ref().is_some_and(top))
            || self.f.if_else.iter().any(|i| {
                top(&i.place)
                    && self.fills_branch(fills, i.then, depth + 1)
                    && self.fills_branch(fills, i.otherwise, depth + 1)
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

/// The construct starting at `pos` and where its keyword is: `if`,
/// `else`, `case`, `#if`... For a `{ }` block, the statement it is the
/// body of (`if (c) {`), or `{` itself.
fn construct_at(text: &str, pos: usize) -> (String, usize) {
    let b = text.as_bytes();
    let word_at = |at: usize| -> String {
        text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let at = pos
        + (text.get(pos..).unwrap_or("").len() - text.get(pos..).unwrap_or("").trim_start().len());
    match b.get(at) {
        Some(b'#') => {
            let rest = text[at + 1..].trim_start();
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            (format!("#{word}"), at)
        }
        Some(b'{') => {
            // Back over blanks and one parenthesised condition to a keyword.
            let mut i = at;
            while i > 0 && b[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            if i > 0 && b[i - 1] == b')' {
                let mut depth = 0usize;
                while i > 0 {
                    i -= 1;
                    match b[i] {
                        b')' => depth += 1,
                        b'(' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                while i > 0 && b[i - 1].is_ascii_whitespace() {
                    i -= 1;
                }
            }
            let end = i;
            while i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
                i -= 1;
            }
            let word = &text[i..end];
            if matches!(word, "if" | "else" | "for" | "while" | "do" | "switch") {
                (word.to_string(), i)
            } else {
                ("{".to_string(), at)
            }
        }
        _ => {
            let word = word_at(at);
            if word.is_empty() {
                ("{".to_string(), at)
            } else {
                (word, at)
            }
        }
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
        let sources = Sources::plain(false);
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
