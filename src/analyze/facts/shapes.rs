//! Shape sources and references, write targets, array identity, normalised text.

use tree_sitter::Node;

use crate::analyze::api::{ARRAY_TYPE, DIMS_SOURCES, FIELDS_TYPE, STRIDES_SOURCE};
use crate::analyze::syntax::{
    call_args, callee, callee_is_plain, cpp_cast, is_cpp_cast, strip_casts, strip_parens,
    subscript_index, F,
};
use crate::analyze::{Kind, Ndim};
use crate::span::Span;

use super::{ArrayId, Giver, ShapeRef, Target, Use, UseKind, Via, Walker};
use crate::analyze::syntax::KindName;

impl<'a> Walker<'a> {
    // ----- shape sources ---------------------------------------------------

    /// A base shape source (not an alias): `PyArray_DIMS(X)`, `PyArray_SHAPE(X)`,
    /// `((PyArrayObject_fields *)X)->dimensions`, `F->dimensions`, `A->dimensions`
    /// for an `A` declared `PyArrayObject *`, and an accessor of the tree
    /// (`shape_of(X)`, `MY_DIMS(X)`, an object-like `DIMS`).
    pub(super) fn source(&self, node: Node) -> Option<ShapeRef> {
        match node.kind_name() {
            "call_expression" => {
                if !callee_is_plain(node) {
                    return None;
                }
                let name = callee(node, self.src)?;
                // The arguments only of a call that can be a source: most
                // calls are not, and listing them walks the tree.
                let (kind, arg) = match self.source_macro(name) {
                    Some(kind) => match call_args(node)[..] {
                        [arg] => (kind, arg),
                        _ => return None,
                    },
                    None => match self.sources.givers.get(name)? {
                        Giver::Returns {
                            param: Some(p),
                            kind,
                            typed,
                            ..
                        } => {
                            let arg = *call_args(node).get(*p)?;
                            if !self.kind_on(*kind) || (*typed && !self.is_ndarray(arg)) {
                                return None;
                            }
                            (*kind, arg)
                        }
                        _ => return None,
                    },
                };
                Some(ShapeRef {
                    array: self.array_id(arg),
                    kind,
                    param: false,
                    via: Via::Source(Span::of(node)),
                    offset: None,
                    ndim: Some(Ndim::Array(Span::of(arg))),
                })
            }
            "field_expression" => {
                let field = self.text(node.child_by_field_id(F.field)?);
                let kind = match field {
                    "dimensions" => Kind::Dims,
                    "strides" if self.sources.strides => Kind::Strides,
                    _ => return None,
                };
                let base = node.child_by_field_id(F.argument)?;
                Some(ShapeRef {
                    array: self.fields_base(node)?,
                    kind,
                    param: false,
                    via: Via::Source(Span::of(node)),
                    offset: None,
                    ndim: Some(Ndim::Fields(Span::of(base))),
                })
            }
            "identifier" => match self.sources.givers.get(self.text(node))? {
                Giver::Returns {
                    param: None,
                    array: Some(array),
                    kind,
                    ..
                } if self.kind_on(*kind) && !self.aliases.contains_key(self.text(node)) => {
                    Some(ShapeRef {
                        array: array.clone(),
                        kind: *kind,
                        param: false,
                        via: Via::Source(Span::of(node)),
                        offset: None,
                        ndim: None,
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether storage of this kind is analysed.
    fn kind_on(&self, kind: Kind) -> bool {
        kind == Kind::Dims || self.sources.strides
    }

    /// The kind of storage a source macro returns, if `name` is one.
    pub(super) fn source_macro(&self, name: &str) -> Option<Kind> {
        match name {
            _ if DIMS_SOURCES.contains(&name) => Some(Kind::Dims),
            STRIDES_SOURCE if self.sources.strides => Some(Kind::Strides),
            _ if self.sources.dims_macros.iter().any(|m| m == name) => Some(Kind::Dims),
            _ if self.sources.strides && self.sources.strides_macros.iter().any(|m| m == name) => {
                Some(Kind::Strides)
            }
            _ => None,
        }
    }

    /// A variable's declared type: `PyArrayObject_fields *` and
    /// `PyArrayObject *` variables reach an ndarray's fields.
    pub(super) fn typed_var(&mut self, name: &str, type_text: &str, is_ptr: bool) {
        self.fields_vars.remove(name);
        self.array_vars.remove(name);
        self.other_vars.remove(name);
        match type_text {
            FIELDS_TYPE if is_ptr => self.fields_vars.insert(name.to_string()),
            ARRAY_TYPE if is_ptr => self.array_vars.insert(name.to_string()),
            _ => self.other_vars.insert(name.to_string()),
        };
    }

    /// Whether an expression is an ndarray pointer: a cast to
    /// `PyArrayObject *` (or its fields), a variable of that type (or a
    /// global of the file), or a struct field the file declares so.
    pub(super) fn is_ndarray(&self, node: Node) -> bool {
        let node = strip_parens(node);
        match node.kind_name() {
            "cast_expression" => node
                .child_by_field_id(F.r#type)
                .map(|t| self.text(t).split_whitespace().collect::<String>())
                .is_some_and(|ty| {
                    matches!(ty.strip_suffix('*'), Some(FIELDS_TYPE) | Some(ARRAY_TYPE))
                }),
            // `static_cast<PyArrayObject_fields *>(a)`, `reinterpret_cast<...>`.
            "call_expression" if is_cpp_cast(node, self.src) => cpp_cast(node)
                .map(|(t, _)| self.text(t).split_whitespace().collect::<String>())
                .is_some_and(|ty| {
                    matches!(ty.strip_suffix('*'), Some(FIELDS_TYPE) | Some(ARRAY_TYPE))
                }),
            "identifier" => {
                let name = self.text(node);
                self.fields_vars.contains(name)
                    || self.array_vars.contains(name)
                    || (!self.other_vars.contains(name) && self.sources.array_names.contains(name))
            }
            "field_expression" => node
                .child_by_field_id(F.field)
                .is_some_and(|f| self.sources.array_names.contains(self.text(f))),
            _ => false,
        }
    }

    /// The array behind `X->field` when `X` is an ndarray pointer (a cast
    /// to `PyArrayObject_fields *` or `PyArrayObject *`, a variable or
    /// struct field of that type). Iterator fields such as
    /// `mit->dimensions` are not.
    pub(super) fn fields_base(&self, field_expr: Node) -> Option<ArrayId> {
        if field_expr
            .child_by_field_id(F.operator)
            .map(|o| self.text(o))
            != Some("->")
        {
            return None;
        }
        let base = strip_parens(field_expr.child_by_field_id(F.argument)?);
        if !self.is_ndarray(base) {
            return None;
        }
        Some(match base.kind_name() {
            "cast_expression" => self.array_id(base.child_by_field_id(F.value)?),
            "call_expression" => self.array_id(cpp_cast(base)?.1),
            "identifier" => self.resolve(self.text(base)),
            _ => self.array_id(base),
        })
    }

    /// A shape reference: a source, a live alias, `S + k`, or `&S[k]`.
    ///
    /// A search with an explicit stack, never recursion: how deeply
    /// operators nest is the input's to choose (a 3,000-term `+` chain).
    /// The left operand is tried before the right one, as the offsets
    /// compose from the base outwards.
    pub(super) fn shape_ref<'t>(&self, node: Node<'t>) -> Option<ShapeRef> {
        /// A node to look at, how it was reached (its parent entry), and
        /// what reaching it adds to the offset.
        struct Step<'t> {
            node: Node<'t>,
            parent: Option<usize>,
            add: Add<'t>,
        }
        #[derive(Clone, Copy)]
        enum Add<'t> {
            None,
            Plus(Node<'t>),
            Minus(Node<'t>),
        }
        let mut steps = vec![Step {
            node,
            parent: None,
            add: Add::None,
        }];
        let mut todo = vec![0usize];
        while let Some(at) = todo.pop() {
            let node = strip_casts(steps[at].node);
            fn push<'t>(
                steps: &mut Vec<Step<'t>>,
                at: usize,
                node: Node<'t>,
                add: Add<'t>,
            ) -> usize {
                steps.push(Step {
                    node,
                    parent: Some(at),
                    add,
                });
                steps.len() - 1
            }
            let found = match node.kind_name() {
                "identifier" => self
                    .aliases
                    .get(self.text(node))
                    .cloned()
                    .or_else(|| self.source(node)),
                "binary_expression" => {
                    let (Some(op), Some(left), Some(right)) = (
                        node.child_by_field_id(F.operator),
                        node.child_by_field_id(F.left),
                        node.child_by_field_id(F.right),
                    ) else {
                        continue;
                    };
                    match self.text(op) {
                        "+" => {
                            // Left first: pushed last.
                            let r = push(&mut steps, at, right, Add::Plus(left));
                            let l = push(&mut steps, at, left, Add::Plus(right));
                            todo.extend([r, l]);
                        }
                        "-" => {
                            let l = push(&mut steps, at, left, Add::Minus(right));
                            todo.push(l);
                        }
                        _ => {}
                    }
                    continue;
                }
                // `*out`, where `*out = S` handed out the storage.
                "pointer_expression" if self.deref_alias(node).is_some() => {
                    self.deref_alias(node).cloned()
                }
                "pointer_expression" => {
                    // `&S[k]` is `S + k`.
                    let arg = node
                        .child_by_field_id(F.operator)
                        .filter(|o| self.text(*o) == "&")
                        .and_then(|_| node.child_by_field_id(F.argument))
                        .map(strip_parens)
                        .filter(|a| a.kind_name() == "subscript_expression");
                    if let Some(arg) = arg {
                        if let (Some(base), Some(index)) =
                            (arg.child_by_field_id(F.argument), subscript_index(arg))
                        {
                            let b = push(&mut steps, at, base, Add::Plus(index));
                            todo.push(b);
                        }
                    }
                    continue;
                }
                // `d++` as a pointer (`*d++ = v`): the alias, moved by an
                // amount not tracked.
                "update_expression" => node
                    .child_by_field_id(F.argument)
                    .map(strip_parens)
                    .and_then(|arg| self.aliases.get(self.text(arg)).cloned())
                    .map(|s| with_offset(s, "?")),
                _ => self.source(node),
            };
            let Some(mut shape) = found else { continue };
            // Offsets compose from the base outwards.
            let mut cur = Some(at);
            while let Some(i) = cur {
                let step = &steps[i];
                shape = match step.add {
                    Add::None => shape,
                    Add::Plus(n) => with_offset(shape, &norm(self.text(n))),
                    Add::Minus(n) => with_offset(shape, &format!("-{}", norm(self.text(n)))),
                };
                cur = step.parent;
            }
            return Some(shape);
        }
        None
    }

    /// The base source node or alias identifier inside a shape reference
    /// (an explicit stack, left before right, as for `shape_ref`).
    pub(super) fn base_of<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        let mut todo = vec![node];
        while let Some(node) = todo.pop() {
            let node = strip_casts(node);
            match node.kind_name() {
                "identifier"
                    if self.aliases.contains_key(self.text(node))
                        || self.source(node).is_some() =>
                {
                    return Some(node)
                }
                "pointer_expression" if self.deref_alias(node).is_some() => return Some(node),
                "call_expression" | "field_expression" if self.source(node).is_some() => {
                    return Some(node)
                }
                "binary_expression" => {
                    todo.extend(node.child_by_field_id(F.right));
                    todo.extend(node.child_by_field_id(F.left));
                }
                "pointer_expression" => todo.extend(
                    node.child_by_field_id(F.argument)
                        .map(strip_parens)
                        .and_then(|a| a.child_by_field_id(F.argument)),
                ),
                _ => {}
            }
        }
        None
    }

    /// The storage `*p` points at, when `*p = S` handed it out.
    pub(super) fn deref_alias(&self, node: Node) -> Option<&ShapeRef> {
        if node.kind_name() != "pointer_expression"
            || node.child_by_field_id(F.operator).map(|o| self.text(o)) != Some("*")
        {
            return None;
        }
        let arg = strip_parens(node.child_by_field_id(F.argument)?);
        if arg.kind_name() != "identifier" {
            return None;
        }
        self.aliases.get(&deref_key(self.text(arg)))
    }

    /// Mark the base of a shape reference as part of a write; return the
    /// direct source expression's span, if the reference is direct.
    pub(super) fn consume(&mut self, node: Node<'a>) -> Option<Span> {
        let base = self.base_of(node)?;
        self.consumed.insert(base.start_byte());
        let through_alias = match base.kind_name() {
            "identifier" => self.aliases.contains_key(self.text(base)),
            "pointer_expression" => true,
            _ => false,
        };
        (!through_alias).then(|| Span::of(base))
    }

    /// `S[i]` or `*S` (with `S` a shape reference) as an element of storage.
    pub(super) fn element<'t>(&self, node: Node<'t>) -> Option<(ShapeRef, Target, Node<'t>)> {
        let node = strip_parens(node);
        let (base, index) = match node.kind_name() {
            "subscript_expression" => (
                node.child_by_field_id(F.argument)?,
                Some(subscript_index(node)?),
            ),
            "pointer_expression" if self.text(node.child_by_field_id(F.operator)?) == "*" => {
                (node.child_by_field_id(F.argument)?, None)
            }
            _ => return None,
        };
        let shape = self.shape_ref(base)?;
        let (index_text, mut vars) = match index {
            Some(i) => (norm(self.text(i)), self.identifiers(i)),
            None => ("0".to_string(), Vec::new()),
        };
        let index = match &shape.offset {
            Some(off) => {
                vars.extend(identifiers_in(off));
                if index_text == "0" {
                    off.clone()
                } else {
                    format!("{off}+{index_text}")
                }
            }
            None => index_text,
        };
        Some((
            shape,
            Target::Element {
                index,
                index_vars: vars,
            },
            base,
        ))
    }

    /// What an lvalue writes, if it is storage: an element, or the pointer
    /// itself (`->dimensions = p`).
    pub(super) fn target<'t>(&self, lvalue: Node<'t>) -> Option<(ShapeRef, Target, Node<'t>)> {
        let lvalue = strip_parens(lvalue);
        if let Some(found) = self.element(lvalue) {
            return Some(found);
        }
        if lvalue.kind_name() == "field_expression" {
            let shape = self.source(lvalue)?;
            return Some((shape, Target::Pointer, lvalue));
        }
        None
    }

    // ----- array identity --------------------------------------------------

    /// The array an expression denotes.
    pub(super) fn array_id(&self, node: Node<'a>) -> ArrayId {
        let node = strip_casts(node);
        if node.kind_name() == "identifier" {
            self.resolve(self.text(node))
        } else {
            norm(self.text(node))
        }
    }

    /// A variable name, with fields pointers resolved to the array they view.
    pub(super) fn resolve(&self, name: &str) -> ArrayId {
        self.fields_of
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// The array variable an expression is, if it is one (casts stripped).
    pub(super) fn object(&self, node: Node<'a>) -> Option<ArrayId> {
        let node = strip_casts(node);
        (node.kind_name() == "identifier").then(|| self.resolve(self.text(node)))
    }

    pub(super) fn object_use(&mut self, node: Node<'a>, kind: UseKind) {
        if let Some(array) = self.object(node) {
            self.push_use(array, kind, Span::of(node));
        }
    }

    pub(super) fn push_use(&mut self, array: ArrayId, kind: UseKind, span: Span) {
        self.facts.uses.push(Use { array, kind, span });
    }
}

/// Normalised expression text: no whitespace, no redundant outer
/// parentheses. Linear in the text: the parentheses are matched once (a
/// layer at a time, with a copy each, took 17 s on 100,000 of them).
pub fn norm(text: &str) -> String {
    let s: String = text.split_whitespace().collect();
    let b = s.as_bytes();
    // The matching `)` of every `(`.
    let mut partner = vec![usize::MAX; b.len()];
    let mut open = Vec::new();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' => open.push(i),
            b')' => {
                if let Some(o) = open.pop() {
                    partner[o] = i;
                }
            }
            _ => {}
        }
    }
    let (mut i, mut j) = (0usize, b.len());
    while j >= i + 2 && b[i] == b'(' && partner[i] == j - 1 {
        i += 1;
        j -= 1;
    }
    s[i..j].to_string()
}

/// Identifier-like words in normalised expression text.
fn identifiers_in(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| t.starts_with(|c: char| c.is_alphabetic() || c == '_'))
        .map(str::to_string)
}

fn with_offset(mut shape: ShapeRef, add: &str) -> ShapeRef {
    shape.offset = Some(match shape.offset {
        Some(old) => format!("{old}+{add}"),
        None => add.to_string(),
    });
    shape
}

/// The key under which `*p` is a live alias in the walker.
pub(super) fn deref_key(name: &str) -> String {
    format!("*{name}")
}
