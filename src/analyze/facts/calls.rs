//! Calls and their arguments, alias reads, and what an expression exposes.

use tree_sitter::Node;

use crate::analyze::api::{
    ctor_link_args, FLAG_SETTERS, FREE_FNS, FREE_PTR_FNS, MEM_FNS, SAFE_ACCESSORS, SHAPE_READERS,
};
use crate::analyze::api::{is_allocator, is_c_api, std_writes};
use crate::analyze::syntax::{
    call_args, callee, callee_is_plain, is_cpp_cast, strip_casts, strip_parens, Preorder, F,
};
use crate::span::Span;

use super::shapes::norm;
use super::{
    AliasDef, ArgInfo, CallSite, Giver, How, MetaHow, Read, ShapeRef, Target, UseKind, Via, Walker,
    Write,
};
use crate::analyze::syntax::KindName;
use crate::analyze::{Kind, Ndim};

impl<'a> Walker<'a> {
    pub(super) fn call(&mut self, node: Node<'a>) {
        // A C++ cast converts its argument; the expression around it is
        // what uses the value.
        if is_cpp_cast(node, self.src) {
            return;
        }
        // A function pointer expression (`(*fp)(a)`) is unknown code: name
        // it by its text.
        let spelled;
        let name = match callee(node, self.src) {
            Some(name) => name,
            None => {
                spelled = node
                    .child_by_field_id(F.function)
                    .map_or(String::new(), |f| norm(self.text(f)));
                spelled.as_str()
            }
        };
        let plain = callee_is_plain(node);
        let args = call_args(node);
        if self.facts.lang == crate::source::Lang::Cpp && !is_c_api(name) {
            self.facts
                .may_throw
                .push((name.to_string(), Span::of(node)));
        }
        let written = match MEM_FNS.contains(&name) {
            true => Some(0),
            false => std_writes(name),
        };
        if let Some(at) = written.filter(|_| plain) {
            if let Some(first) = args.get(at).copied() {
                if let Some(shape) = self.shape_ref(first) {
                    let source = self.consume(first);
                    self.facts.writes.push(Write {
                        shape,
                        target: Target::Whole,
                        how: How::MemFn(name.to_string()),
                        expr: Span::of(node),
                        source,
                        place: self.anc.placement(node),
                    });
                }
            }
        }
        if plain {
            self.out_param_call(name, &args);
        }
        self.pointer_call(node, name, plain, &args);
        // `Py_SETREF(fa->descr, d)` assigns the field.
        if plain && matches!(name, "Py_SETREF" | "Py_XSETREF") {
            if let Some(first) = args.first().copied() {
                self.meta_write(first, node, args.get(1).copied());
            }
        }
        if plain && self.sources.meta.contains(Kind::Flags) && FLAG_SETTERS.contains(&name) {
            if let Some(first) = args.first().copied() {
                let array = self.array_id(first);
                self.meta_change(array, Kind::Flags, MetaHow::Flags(name.to_string()), node);
            }
        }
        let source_macro = self.source_macro(name).is_some();
        let infos: Vec<ArgInfo> = args
            .iter()
            .enumerate()
            .filter_map(|(index, &arg)| self.argument(node, name, index, arg, source_macro))
            .collect();
        let interesting = plain
            && !source_macro
            // A `memcpy` the tree redefines is also a call of its macro.
            && (!MEM_FNS.contains(&name) || self.sources.mem_redefined.contains(&name))
            && std_writes(name).is_none()
            && !SAFE_ACCESSORS.contains(&name)
            && !SHAPE_READERS.contains(&name);
        if interesting && !infos.is_empty() {
            self.facts.calls.push(CallSite {
                span: Span::of(node),
                callee: name.to_string(),
                args: infos,
                place: self.anc.placement(node),
            });
        }
    }

    /// A call through a function pointer (an expression, or a variable of
    /// this function) given live shape storage: it may write through it,
    /// unless the variable's declaration makes that parameter `const`.
    fn pointer_call(&mut self, node: Node, name: &str, plain: bool, args: &[Node]) {
        let local = plain
            && (self.facts.params.iter().any(|p| p.name == name)
                || self.facts.decls.iter().any(|d| d.name == name));
        if plain && !local {
            return;
        }
        let callee = node
            .child_by_field_id(F.function)
            .map_or(String::new(), |f| {
                self.text(f)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        let declared = self
            .facts
            .decls
            .iter()
            .rfind(|d| d.name == name)
            .map(|d| &self.src[d.declarator.range()]);
        for (i, &arg) in args.iter().enumerate() {
            let Some(shape) = self.shape_ref(arg).filter(|s| !s.param) else {
                continue;
            };
            if local && declared.is_some_and(|d| !crate::source::lexical::writable_param(d, i)) {
                continue;
            }
            self.facts.writes.push(Write {
                shape,
                target: Target::Whole,
                how: How::MayWrite {
                    callee: callee.clone(),
                    location: None,
                },
                expr: Span::of(node),
                source: None,
                place: self.anc.placement(node),
            });
        }
    }

    /// A call to a function of the tree that stores an argument's shape
    /// storage through its pointer parameter: `get_shape(self, &d)` makes
    /// `d` an alias of `self`'s shape.
    fn out_param_call(&mut self, name: &str, args: &[Node]) {
        let Some(Giver::OutParam {
            out, param, kind, ..
        }) = self.sources.givers.get(name)
        else {
            return;
        };
        let (Some(&target), Some(&array)) = (args.get(*out), args.get(*param)) else {
            return;
        };
        let target = strip_parens(target);
        let var = (target.kind_name() == "pointer_expression"
            && target.child_by_field_id(F.operator).map(|o| self.text(o)) == Some("&"))
        .then(|| target.child_by_field_id(F.argument).map(strip_parens))
        .flatten()
        .filter(|v| v.kind_name() == "identifier");
        let (Some(var), true) = (var, *kind == Kind::Dims || self.sources.strides) else {
            return;
        };
        let name = self.text(var).to_string();
        let shape = ShapeRef {
            array: self.array_id(array),
            kind: *kind,
            param: false,
            via: Via::Source(Span::of(target)),
            offset: None,
            ndim: Some(Ndim::Array(Span::of(array))),
        };
        self.facts.alias_defs.push(AliasDef {
            name: name.clone(),
            shape: shape.clone(),
            span: Span::of(target),
        });
        self.aliases.insert(
            name.clone(),
            ShapeRef {
                via: Via::Alias(name),
                ..shape
            },
        );
    }

    /// One argument of a call to `name`: the uses of arrays it passes, and
    /// what the tree's summaries may need to know about it.
    fn argument(
        &mut self,
        call: Node<'a>,
        name: &str,
        index: usize,
        arg: Node<'a>,
        source_macro: bool,
    ) -> Option<ArgInfo> {
        let ctor_links = ctor_link_args(name);
        let object = self.object(arg);
        // An array inside a larger argument (`c ? a : b`, `(x, a)`) is
        // passed too.
        let passed = match &object {
            Some(array) => vec![array.clone()],
            None => self.exposed(arg),
        };
        for array in &passed {
            let kind = if FREE_FNS.contains(&name) {
                Some(UseKind::Free(name.to_string()))
            } else if SAFE_ACCESSORS.contains(&name) || source_macro {
                None
            } else if SHAPE_READERS.contains(&name) {
                // The array is the first argument; the others are indexes
                // and flags (`PyArray_UpdateFlags(a, NPY_ARRAY_UPDATE_ALL)`).
                (index == 0).then(|| UseKind::ShapeReader(name.to_string()))
            } else if ctor_links.contains(&index) {
                Some(UseKind::CtorLink {
                    callee: name.to_string(),
                })
            } else {
                Some(UseKind::Passed {
                    callee: name.to_string(),
                })
            };
            if let Some(kind) = kind {
                self.push_use(array.clone(), kind, Span::of(arg));
            }
        }
        let shape = self.shape_ref(arg);
        if let (Some(s), true) = (&shape, FREE_PTR_FNS.contains(&name)) {
            if !s.param {
                self.push_use(
                    s.array.clone(),
                    UseKind::Free(name.to_string()),
                    Span::of(call),
                );
            }
        }
        let source = shape
            .as_ref()
            .and(self.base_of(arg))
            .filter(|b| b.kind_name() != "identifier")
            .map(Span::of);
        let element = self.element(arg).and_then(|(s, t, _)| match t {
            Target::Element { index, index_vars } => Some((s, index, index_vars)),
            _ => None,
        });
        let field = {
            let a = strip_parens(arg);
            if a.kind_name() == "field_expression" {
                a.child_by_field_id(F.field)
                    .map(|f| self.text(f).to_string())
                    .and_then(|f| Some((self.fields_base(a)?, f)))
            } else {
                None
            }
        };
        (shape.is_some() || element.is_some() || field.is_some() || object.is_some()).then(|| {
            ArgInfo {
                index,
                span: Span::of(arg),
                shape,
                source,
                element,
                field,
                object,
            }
        })
    }

    /// An identifier naming a live alias, outside a write target, is a read
    /// of the storage it points at.
    pub(super) fn alias_read(&mut self, node: Node<'a>) {
        let name = self.text(node);
        let Some(shape) = self.aliases.get(name) else {
            return;
        };
        if self.consumed.contains(&node.start_byte()) || self.anc.is_declared_name(node) {
            return;
        }
        let shape = shape.clone();
        self.facts.reads.push(Read {
            shape,
            span: Span::of(node),
            context: self.anc.read_context(node, self.src),
        });
    }

    /// The variables whose value an expression can evaluate to or point
    /// into (`c ? a : b`, `(x, a)`, `a + 1`, `&a[0]`), resolved: not those
    /// only passed to a call inside it, read through a field, or measured.
    pub(super) fn exposed(&self, node: Node<'a>) -> Vec<String> {
        let mut out = Vec::new();
        let mut walk = Preorder::new(node);
        while let Some(n) = walk.next() {
            let operator = |n: Node<'a>, op: &str| {
                n.kind_name() == "pointer_expression"
                    && n.child_by_field_id(F.operator)
                        .is_some_and(|o| o.kind_name() == op)
            };
            let deref = n.kind_name() == "subscript_expression" || operator(n, "*");
            let address_taken = deref && walk.parent().is_some_and(|p| operator(p, "&"));
            match n.kind_name() {
                "call_expression" | "field_expression" | "sizeof_expression" => {
                    walk.skip_children()
                }
                // `x = (a = b)` gives `a`'s new value, which `a`'s own change
                // records: one step, so a chain of assignments stays linear.
                "assignment_expression" => {
                    let left = n.child_by_field_id(F.left).map(strip_parens);
                    if let Some(l) = left.filter(|l| l.kind_name() == "identifier") {
                        out.push(self.resolve(self.text(l)));
                    }
                    walk.skip_children()
                }
                // An element's value is not the pointer, unless `&` takes
                // its address again.
                _ if deref && !address_taken => walk.skip_children(),
                "identifier" => out.push(self.resolve(self.text(n))),
                _ => {}
            }
        }
        out
    }

    /// The variables an expression's value may have been read from: every
    /// variable it names (the containers it reads an element or a field
    /// of: `ops` in `ops[i]`, `ctx` in `ctx->arr`, `pa` in `*pa`), through
    /// the arguments of calls (any call but an allocator may return one of
    /// them, as `PyArray_CheckAxis` does); not a called function's name,
    /// nor what `sizeof` measures. A nested assignment gives its variable.
    pub(super) fn sources_of(&self, node: Node<'a>) -> Vec<String> {
        let mut out = Vec::new();
        let mut walk = Preorder::new(node);
        while let Some(n) = walk.next() {
            match n.kind_name() {
                "identifier" => {
                    // Not the function a call names.
                    let called = walk.parent().is_some_and(|p| {
                        p.kind_name() == "call_expression"
                            && p.child_by_field_id(F.function)
                                .is_some_and(|f| f.id() == n.id())
                    });
                    if !called {
                        out.push(self.resolve(self.text(n)));
                    }
                }
                "sizeof_expression" => walk.skip_children(),
                "call_expression" if callee(n, self.src).is_some_and(is_allocator) => {
                    walk.skip_children()
                }
                "assignment_expression" => {
                    let left = n.child_by_field_id(F.left).map(strip_parens);
                    if let Some(l) = left.filter(|l| l.kind_name() == "identifier") {
                        out.push(self.resolve(self.text(l)));
                    }
                    walk.skip_children()
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The variable an lvalue's memory is reached from: `ctx` for
    /// `ctx->arr`, `ops` for `ops[i]`, `pa` for `*pa` (casts and
    /// parentheses aside).
    pub(super) fn container(&self, lvalue: Node<'a>) -> Option<String> {
        let mut n = strip_casts(lvalue);
        loop {
            n = match n.kind_name() {
                "identifier" => return Some(self.resolve(self.text(n))),
                "subscript_expression" | "field_expression" | "pointer_expression" => {
                    strip_casts(n.child_by_field_id(F.argument)?)
                }
                _ => return None,
            };
        }
    }

    /// Identifiers in an expression.
    pub(super) fn identifiers(&self, node: Node<'a>) -> Vec<String> {
        let mut out = Vec::new();
        for n in Preorder::new(node) {
            if n.kind_name() == "identifier" {
                out.push(self.text(n).to_string());
            }
        }
        out
    }
}
