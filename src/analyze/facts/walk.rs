//! The walk itself: each node by kind, parameters, values, jumps and blocks.

use tree_sitter::Node;

use crate::analyze::syntax::{
    callee, callee_is_plain, declarator_name, first_named, strip_casts, text, Preorder, F,
};
use crate::analyze::Kind;
use crate::span::Span;

use super::shapes::norm;
use super::{
    Block, IfElse, Jump, JumpKind, Param, ParseError, Read, Return, ShapeRef, UseKind, Value, Via,
    Walker,
};
use crate::analyze::syntax::KindName;

impl<'a> Walker<'a> {
    pub(super) fn text(&self, node: Node) -> &'a str {
        text(node, self.src)
    }

    pub(super) fn value(&self, node: Node<'a>) -> Value {
        let stripped = strip_casts(node);
        let short = stripped.byte_range().len() <= 16;
        Value {
            span: Span::of(node),
            is_null: short && matches!(norm(self.text(stripped)).as_str(), "NULL" | "0"),
            ident: (stripped.kind_name() == "identifier").then(|| self.text(stripped).to_string()),
            call: (stripped.kind_name() == "call_expression")
                .then(|| callee(stripped, self.src).map(str::to_string))
                .flatten(),
            text: shown(self.text(node)),
        }
    }

    pub(super) fn params(&mut self, list: Node<'a>) {
        let mut cursor = list.walk();
        self.facts.knr = list
            .named_children(&mut cursor)
            .any(|c| c.kind_name() == "identifier");
        let decls: Vec<Node> = list
            .named_children(&mut cursor)
            .filter(|c| c.kind_name() == "parameter_declaration")
            .collect();
        for (index, decl) in decls.into_iter().enumerate() {
            let Some(declarator) = decl.child_by_field_id(F.declarator) else {
                continue;
            };
            let Some(name_node) = declarator_name(declarator) else {
                continue;
            };
            let name = self.text(name_node).to_string();
            let is_ptr = declarator.kind_name() == "pointer_declarator";
            let type_text = decl
                .child_by_field_id(F.r#type)
                .map(|t| self.text(t))
                .unwrap_or("");
            // `const npy_intp *p` and `npy_intp const *p`: the pointee is const.
            let before = &self.text(decl)[..declarator.start_byte() - decl.start_byte()];
            let const_pointee = before.split_whitespace().any(|t| t == "const");
            self.typed_var(&name, type_text, is_ptr);
            let writable_ptr = is_ptr && !const_pointee;
            let decl_text = self.text(decl);
            let at = name_node.start_byte() - decl.start_byte();
            let type_text = format!(
                "{} {}",
                &decl_text[..at],
                &decl_text[at + name_node.byte_range().len()..]
            );
            if writable_ptr {
                // The parameter points at storage of its own: writes through
                // it make the function's summary (DESIGN §2).
                self.aliases.insert(
                    name.clone(),
                    ShapeRef {
                        array: name.clone(),
                        kind: Kind::Dims,
                        param: true,
                        via: Via::Alias(name.clone()),
                        offset: None,
                        ndim: None,
                    },
                );
            }
            self.facts.params.push(Param {
                name,
                index,
                writable_ptr,
                pointer: declarator.kind_name() != "identifier",
                type_text,
            });
        }
    }

    pub(super) fn visit(&mut self, node: Node<'a>) {
        // A macro call read as a type (`GUARD(a) PyArray_DIMS(a)[0] = k;`
        // parses as a declaration) is a parse error that tree-sitter does
        // not flag: count it as one, never read past it silently.
        if node.is_error() || node.is_missing() || node.kind_name() == "macro_type_specifier" {
            self.parse_error(node);
        }
        match node.kind_name() {
            "declaration" => self.declaration(node),
            "assignment_expression" => self.assignment(node),
            "update_expression" => self.update(node),
            "call_expression" => self.call(node),
            "pointer_expression" => self.address_of(node),
            "compound_statement" => self.block(node),
            "return_statement" => {
                let value = first_named(node).map(|v| self.value(v));
                let shape = first_named(node).and_then(|v| self.shape_ref(v));
                if let Some(v) = first_named(node) {
                    self.object_use(v, UseKind::Return);
                }
                self.facts.returns.push(Return {
                    span: Span::of(node),
                    value,
                    shape,
                });
                self.jump(node, JumpKind::Return, None);
            }
            "goto_statement" => {
                let label = node
                    .child_by_field_id(F.label)
                    .map(|l| self.text(l).to_string());
                self.jump(node, JumpKind::Goto, label);
            }
            "break_statement" => self.jump(node, JumpKind::Break, None),
            "throw_statement" => self.jump(node, JumpKind::Throw, None),
            "lambda_expression" => self.facts.lambdas.push(Span::of(node)),
            "continue_statement" => self.jump(node, JumpKind::Continue, None),
            "labeled_statement" => {
                let label = node
                    .child_by_field_id(F.label)
                    .map(|l| self.text(l).to_string());
                self.jump(node, JumpKind::Label, label);
            }
            "case_statement" => self.jump(node, JumpKind::Case, None),
            "sizeof_expression" => {
                for n in Preorder::new(node) {
                    if n.kind_name() == "identifier" {
                        self.facts.sizeof_names.insert(self.text(n).to_string());
                    }
                }
            }
            "initializer_list" => {
                let mut cursor = node.walk();
                let items: Vec<Node> = node.named_children(&mut cursor).collect();
                for item in items {
                    for array in self.exposed(item) {
                        self.push_use(array, UseKind::Store, Span::of(item));
                    }
                }
            }
            "identifier" => self.alias_read(node),
            "for_statement" | "while_statement" | "do_statement" => {
                self.facts.loops.push(Span::of(node))
            }
            "if_statement" => self.if_else(node),
            "enumerator" => {
                if let Some(name) = node.child_by_field_id(F.name) {
                    self.facts.enumerators.push(self.text(name).to_string());
                }
            }
            _ => {}
        }
        if matches!(node.kind_name(), "call_expression" | "field_expression")
            && !self.consumed.contains(&node.start_byte())
        {
            if let Some(shape) = self.source(node) {
                self.facts.reads.push(Read {
                    shape,
                    span: Span::of(node),
                    context: self.anc.read_context(node, self.src),
                });
            } else if node.kind_name() == "field_expression" {
                self.raw_field(node);
            }
        }
    }

    /// `X->dimensions` on a plain variable: not a source, but it reaches
    /// the same storage when `X` is an ndarray.
    fn raw_field(&mut self, node: Node<'a>) {
        let (Some(op), Some(field), Some(base)) = (
            node.child_by_field_id(F.operator),
            node.child_by_field_id(F.field),
            node.child_by_field_id(F.argument),
        ) else {
            return;
        };
        let field = self.text(field);
        if self.text(op) != "->" || !matches!(field, "dimensions" | "strides") {
            return;
        }
        // A look-alike (`it->dimensions`, `multi->iters[j]->strides`): the
        // variable, or the expression, it is on.
        let base = strip_casts(base);
        let on = if base.kind_name() == "identifier" {
            self.resolve(self.text(base))
        } else {
            norm(self.text(base))
        };
        self.facts
            .raw_fields
            .push((on, field.to_string(), Span::of(node)));
    }

    fn if_else(&mut self, node: Node) {
        let then = node.child_by_field_id(F.consequence);
        let otherwise = node.child_by_field_id(F.alternative).and_then(first_named);
        if let (Some(then), Some(otherwise)) = (then, otherwise) {
            self.facts.if_else.push(IfElse {
                place: self.anc.placement(node),
                then: Span::of(then),
                otherwise: Span::of(otherwise),
            });
        }
    }

    fn parse_error(&mut self, node: Node<'a>) {
        let in_args_of = self
            .anc
            .parent(node)
            .filter(|p| p.kind_name() == "argument_list")
            .and_then(|p| self.anc.parent(p))
            .filter(|call| call.kind_name() == "call_expression" && callee_is_plain(*call))
            .and_then(|call| callee(call, self.src))
            .map(str::to_string);
        self.facts.errors.push(ParseError {
            span: Span::of(node),
            in_args_of,
        });
    }

    fn jump(&mut self, node: Node<'a>, kind: JumpKind, label: Option<String>) {
        let scope = matches!(kind, JumpKind::Break | JumpKind::Continue | JumpKind::Case)
            .then(|| self.anc.jump_scope(node, kind))
            .flatten();
        let place =
            matches!(kind, JumpKind::Return | JumpKind::Goto).then(|| self.anc.placement(node));
        self.facts.jumps.push(Jump {
            kind,
            span: Span::of(node),
            label,
            scope,
            place,
        });
    }

    fn block(&mut self, node: Node<'a>) {
        let mut cursor = node.walk();
        let exits = node
            .named_children(&mut cursor)
            .filter(|c| matches!(c.kind_name(), "return_statement" | "goto_statement"))
            .map(|c| Jump {
                kind: if c.kind_name() == "return_statement" {
                    JumpKind::Return
                } else {
                    JumpKind::Goto
                },
                span: Span::of(c),
                label: c
                    .child_by_field_id(F.label)
                    .map(|l| self.text(l).to_string()),
                scope: None,
                place: None,
            })
            .collect();
        self.facts.blocks.push(Block {
            span: Span::of(node),
            exits,
        });
    }
}

/// An expression's text as reasons show it: normalised, and cut short
/// (each value of a chain `a = b = ... = 0` holds the rest of the chain;
/// copying it whole would be quadratic).
fn shown(text: &str) -> String {
    const MAX: usize = 120;
    if text.len() <= MAX {
        return norm(text);
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", norm(&text[..end]))
}
