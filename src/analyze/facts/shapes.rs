//! Shape sources and references, write targets, array identity, normalised text.

use tree_sitter::Node;

use crate::analyze::api::{DIMS_SOURCES, FIELDS_TYPE, STRIDES_SOURCE};
use crate::analyze::syntax::{call_args, callee, callee_is_plain, strip_casts, strip_parens, F};
use crate::analyze::{Kind, Ndim};
use crate::span::Span;

use super::{ArrayId, ShapeRef, Target, Use, UseKind, Via, Walker};
use crate::analyze::syntax::KindName;

impl<'a> Walker<'a> {
    // ----- shape sources ---------------------------------------------------

    /// A base shape source (not an alias): `PyArray_DIMS(X)`, `PyArray_SHAPE(X)`,
    /// `((PyArrayObject_fields *)X)->dimensions`, `F->dimensions`.
    pub(super) fn source(&self, node: Node<'a>) -> Option<ShapeRef> {
        match node.kind_name() {
            "call_expression" => {
                if !callee_is_plain(node) {
                    return None;
                }
                let kind = self.source_macro(callee(node, self.src)?)?;
                let args = call_args(node);
                if args.len() != 1 {
                    return None;
                }
                Some(ShapeRef {
                    array: self.array_id(args[0]),
                    kind,
                    param: false,
                    via: Via::Source(Span::of(node)),
                    offset: None,
                    ndim: Some(Ndim::Array(Span::of(args[0]))),
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
            _ => None,
        }
    }

    /// The kind of storage a source macro returns, if `name` is one.
    pub(super) fn source_macro(&self, name: &str) -> Option<Kind> {
        match name {
            _ if DIMS_SOURCES.contains(&name) => Some(Kind::Dims),
            STRIDES_SOURCE if self.sources.strides => Some(Kind::Strides),
            _ if self.sources.dims_macros.iter().any(|m| m == name) => Some(Kind::Dims),
            _ => None,
        }
    }

    /// The array behind `X->field` when `X` is an ndarray fields pointer
    /// (a cast to `PyArrayObject_fields *` or a variable of that type).
    /// Iterator fields such as `mit->dimensions` are not.
    pub(super) fn fields_base(&self, field_expr: Node<'a>) -> Option<ArrayId> {
        if field_expr
            .child_by_field_id(F.operator)
            .map(|o| self.text(o))
            != Some("->")
        {
            return None;
        }
        let base = strip_parens(field_expr.child_by_field_id(F.argument)?);
        match base.kind_name() {
            "cast_expression" => {
                let ty: String = self
                    .text(base.child_by_field_id(F.r#type)?)
                    .split_whitespace()
                    .collect();
                if ty.strip_suffix('*') == Some(FIELDS_TYPE) {
                    Some(self.array_id(base.child_by_field_id(F.value)?))
                } else {
                    None
                }
            }
            "identifier" => {
                let name = self.text(base);
                self.fields_vars.contains(name).then(|| self.resolve(name))
            }
            _ => None,
        }
    }

    /// A shape reference: a source, a live alias, `S + k`, or `&S[k]`.
    pub(super) fn shape_ref(&self, node: Node<'a>) -> Option<ShapeRef> {
        let node = strip_casts(node);
        match node.kind_name() {
            "identifier" => self.aliases.get(self.text(node)).cloned(),
            "binary_expression" => {
                let op = self.text(node.child_by_field_id(F.operator)?);
                let left = node.child_by_field_id(F.left)?;
                let right = node.child_by_field_id(F.right)?;
                match op {
                    "+" => {
                        if let Some(s) = self.shape_ref(left) {
                            Some(with_offset(s, &norm(self.text(right))))
                        } else {
                            let s = self.shape_ref(right)?;
                            Some(with_offset(s, &norm(self.text(left))))
                        }
                    }
                    "-" => {
                        let s = self.shape_ref(left)?;
                        Some(with_offset(s, &format!("-{}", norm(self.text(right)))))
                    }
                    _ => None,
                }
            }
            "pointer_expression" => {
                // `&S[k]` is `S + k`.
                if self.text(node.child_by_field_id(F.operator)?) != "&" {
                    return None;
                }
                let arg = strip_parens(node.child_by_field_id(F.argument)?);
                if arg.kind_name() != "subscript_expression" {
                    return None;
                }
                let s = self.shape_ref(arg.child_by_field_id(F.argument)?)?;
                Some(with_offset(
                    s,
                    &norm(self.text(arg.child_by_field_id(F.index)?)),
                ))
            }
            // `d++` as a pointer (`*d++ = v`): the alias, moved by an amount
            // not tracked.
            "update_expression" => {
                let arg = strip_parens(node.child_by_field_id(F.argument)?);
                let s = self.aliases.get(self.text(arg))?.clone();
                Some(with_offset(s, "?"))
            }
            _ => self.source(node),
        }
    }

    /// The base source node or alias identifier inside a shape reference.
    pub(super) fn base_of<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        let node = strip_casts(node);
        match node.kind_name() {
            "identifier" => self.aliases.contains_key(self.text(node)).then_some(node),
            "call_expression" | "field_expression" => self.source(node).map(|_| node),
            "binary_expression" => ["left", "right"]
                .iter()
                .filter_map(|f| node.child_by_field_name(f))
                .find_map(|side| self.base_of(side)),
            "pointer_expression" => node
                .child_by_field_id(F.argument)
                .map(strip_parens)
                .and_then(|a| a.child_by_field_id(F.argument))
                .and_then(|a| self.base_of(a)),
            _ => None,
        }
    }

    /// Mark the base of a shape reference as part of a write; return the
    /// direct source expression's span, if the reference is direct.
    pub(super) fn consume(&mut self, node: Node<'a>) -> Option<Span> {
        let base = self.base_of(node)?;
        self.consumed.insert(base.start_byte());
        (base.kind_name() != "identifier").then(|| Span::of(base))
    }

    /// `S[i]` or `*S` (with `S` a shape reference) as an element of storage.
    pub(super) fn element<'t>(&self, node: Node<'t>) -> Option<(ShapeRef, Target, Node<'t>)> {
        let node = strip_parens(node);
        let (base, index) = match node.kind_name() {
            "subscript_expression" => (
                node.child_by_field_id(F.argument)?,
                Some(node.child_by_field_id(F.index)?),
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

/// Normalised expression text: no whitespace, no redundant outer parentheses.
pub fn norm(text: &str) -> String {
    let mut s: String = text.split_whitespace().collect();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].to_string();
    }
    s
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
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
