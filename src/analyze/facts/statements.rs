//! Declarations, assignments and updates: variable changes, aliases and writes.

use tree_sitter::Node;

use crate::analyze::api::{DIM_READER, META_FIELDS, META_READERS, STRIDE_READER};
use crate::analyze::syntax::{
    call_args, callee, declarator_name, is_statement, strip_casts, strip_parens, F,
};
use crate::analyze::Kind;
use crate::span::Span;

use super::shapes::{deref_key, norm};
use super::{
    AliasDef, ArrayId, BlockKind, Decl, How, MetaChange, MetaHow, Placement, ShapeRef, Store,
    Target, UseKind, VarMod, Via, Walker, Write,
};
use crate::analyze::syntax::KindName;

impl<'a> Walker<'a> {
    // ----- statements and expressions -------------------------------------

    pub(super) fn declaration(&mut self, node: Node<'a>) {
        let type_text = node
            .child_by_field_id(F.r#type)
            .map(|t| self.text(t).to_string())
            .unwrap_or_default();
        let mut cursor = node.walk();
        let declarators: Vec<Node> = node
            .children_by_field_id(
                std::num::NonZeroU16::new(F.declarator).expect("field ids are non-zero"),
                &mut cursor,
            )
            .collect();
        let count = declarators.len();
        let mut walk = node.walk();
        let storage = node
            .children(&mut walk)
            .filter(|c| c.kind_name() == "storage_class_specifier")
            .map(|c| self.text(c))
            .find(|t| matches!(*t, "static" | "extern" | "_Thread_local" | "thread_local"))
            .map(str::to_string);
        for declarator in declarators {
            let Some(name_node) = declarator_name(declarator) else {
                continue;
            };
            let name = self.text(name_node).to_string();
            let inner = if declarator.kind_name() == "init_declarator" {
                declarator.child_by_field_id(F.declarator)
            } else {
                Some(declarator)
            };
            let is_ptr = inner.is_some_and(|d| d.kind_name() == "pointer_declarator");
            // A new declaration shadows any earlier meaning of the name.
            self.fields_of.remove(&name);
            self.typed_var(&name, &type_text, is_ptr);
            let value = (declarator.kind_name() == "init_declarator")
                .then(|| declarator.child_by_field_id(F.value))
                .flatten();
            if storage.is_none() && inner.is_some_and(is_object_declarator) {
                self.class_object(node, &name);
            }
            self.facts.decls.push(Decl {
                name: name.clone(),
                stmt: Span::of(node),
                declarator: Span::of(declarator),
                type_text: type_text.clone(),
                declarators: count,
                value: value.map(|v| self.value(v)),
                storage: storage.clone(),
            });
            self.assign_var(&name, declarator, value, value.is_some());
        }
    }

    /// C++: record `name`, declared by `node`, when its type is a class
    /// (a template, a qualified or class name, a class written out), not
    /// a builtin or a scalar typedef (`npy_intp`, `Py_ssize_t`, `size_t`).
    fn class_object(&mut self, node: Node<'a>, name: &str) {
        if self.facts.lang != crate::source::Lang::Cpp {
            return;
        }
        let Some(ty) = node.child_by_field_id(F.r#type) else {
            return;
        };
        let text = self.text(ty);
        let last = text.rsplit("::").next().unwrap_or(text).trim();
        let scalar =
            last.ends_with("_t") || ["npy_", "NPY_", "Py"].iter().any(|p| last.starts_with(p));
        let class = match ty.kind_name() {
            "template_type" | "class_specifier" | "struct_specifier" => true,
            "qualified_identifier" | "type_identifier" => !scalar,
            _ => false,
        };
        if class {
            self.facts.objects.push((name.to_string(), Span::of(node)));
        }
    }

    /// A variable gets a new value (`value` is `None` when unknown). A
    /// declaration without initialiser is not `record`ed as a change.
    fn assign_var(&mut self, name: &str, node: Node<'a>, value: Option<Node>, record: bool) {
        let new_alias = value.and_then(|v| self.shape_ref(v));
        let slot_read = value.and_then(|v| self.slot_read(v));
        let fields_target = value
            .map(strip_casts)
            .filter(|v| v.kind_name() == "identifier" && self.text(*v) != name)
            .map(|v| self.resolve(self.text(v)));
        match new_alias {
            Some(shape) => {
                // Reads and writes through the alias name it, not its source.
                let through = ShapeRef {
                    via: Via::Alias(name.to_string()),
                    ..shape.clone()
                };
                self.facts.alias_defs.push(AliasDef {
                    name: name.to_string(),
                    shape,
                    span: Span::of(node),
                });
                self.aliases.insert(name.to_string(), through);
            }
            None => {
                self.aliases.remove(name);
            }
        }
        // What `*name` pointed at is no longer known.
        self.aliases.remove(&deref_key(name));
        if self.fields_vars.contains(name) {
            match fields_target {
                Some(array) => {
                    self.fields_of.insert(name.to_string(), array);
                }
                None => {
                    self.fields_of.remove(name);
                }
            }
        }
        if !record {
            return;
        }
        let from = value.map_or(Vec::new(), |v| self.exposed(v));
        let sources = value.map_or(Vec::new(), |v| self.sources_of(v));
        let value = value.map(|v| self.value(v));
        let whole = node.kind_name() == "init_declarator" || self.anc.runs_with_statement(node);
        self.facts.var_mods.push(VarMod {
            name: name.to_string(),
            span: Span::of(node),
            value,
            slot_read,
            stmt: whole.then(|| self.anc.placement(node)),
            from,
            sources,
        });
    }

    /// The slot a value reads: `PyArray_DIM(X, i)`, `PyArray_DIMS(X)[i]`,
    /// `d[i]` for an alias `d`, `*S`; a metadata field's one slot (index
    /// `""`): `PyArray_DESCR(X)`, `X->flags`.
    fn slot_read(&self, value: Node<'a>) -> Option<(ArrayId, Kind, String)> {
        let value = strip_casts(value);
        if let Some(read) = self.meta_read(value) {
            return Some(read);
        }
        if value.kind_name() == "call_expression" {
            let kind = match callee(value, self.src)? {
                DIM_READER => Kind::Dims,
                STRIDE_READER if self.sources.strides => Kind::Strides,
                _ => return None,
            };
            let args = call_args(value);
            return (args.len() == 2)
                .then(|| (self.array_id(args[0]), kind, norm(self.text(args[1]))));
        }
        match self.element(value)? {
            (shape, Target::Element { index, .. }, _) if !shape.param => {
                Some((shape.array, shape.kind, index))
            }
            _ => None,
        }
    }

    pub(super) fn assignment(&mut self, node: Node<'a>) {
        let (Some(left), Some(right), Some(op)) = (
            node.child_by_field_id(F.left),
            node.child_by_field_id(F.right),
            node.child_by_field_id(F.operator),
        ) else {
            return;
        };
        let op = self.text(op).to_string();
        let assigned = (op == "=").then_some(right);
        let left = strip_parens(left);
        if op == "=" && self.out_store(left, right, node) {
            return;
        }
        if left.kind_name() == "identifier" {
            let name = self.text(left).to_string();
            if op == "=" {
                self.assign_var(&name, node, Some(right), true);
            } else {
                self.moved_alias(&name);
                self.var_mod(&name, node);
            }
            return;
        }
        // Storing an array anywhere but a local variable publishes it.
        let stored = self.exposed(right);
        for array in &stored {
            self.push_use(array.clone(), UseKind::Store, Span::of(right));
        }
        if let Some(into) = self.container(left) {
            self.facts.stores.push(Store {
                into,
                from: stored,
                span: Span::of(node),
            });
        }
        if let Some((shape, target, base)) = self.target(left) {
            let source = self
                .consume(base)
                .or_else(|| (target == Target::Pointer).then(|| Span::of(left)));
            let value = self.value(right);
            self.facts.writes.push(Write {
                shape,
                target,
                how: How::Assign { op, value },
                expr: Span::of(node),
                source,
                place: self.anc.placement(node),
            });
        }
        self.meta_write(left, node, assigned);
    }

    /// `*p = S`: the storage is handed out through pointer `p`, and `*p`
    /// is an alias of it until `p` changes (NumPy's
    /// `_check_compatibility_with_new_dtype`: `*newdims = PyArray_DIMS(self)`,
    /// then `(*newdims)[k] = v`). Whether it was one.
    fn out_store(&mut self, left: Node, right: Node, node: Node) -> bool {
        if left.kind_name() != "pointer_expression"
            || left.child_by_field_id(F.operator).map(|o| self.text(o)) != Some("*")
        {
            return false;
        }
        let Some(p) = left
            .child_by_field_id(F.argument)
            .map(strip_parens)
            .filter(|p| p.kind_name() == "identifier")
        else {
            return false;
        };
        let Some(shape) = self.shape_ref(right).filter(|s| !s.param) else {
            return false;
        };
        let name = self.text(p).to_string();
        let key = deref_key(&name);
        self.facts.alias_defs.push(AliasDef {
            name: key.clone(),
            shape: shape.clone(),
            span: Span::of(node),
        });
        self.facts.out_stores.push((name, shape.clone()));
        self.aliases.insert(
            key.clone(),
            ShapeRef {
                via: Via::Alias(key),
                ..shape
            },
        );
        true
    }

    /// `X->nd = ...`, `X->descr = ...` on an ndarray: evidence of an
    /// in-place metadata change, and (for a field `--fields` selects) a
    /// change of its own. `value`: the value assigned, when known.
    pub(super) fn meta_write(&mut self, lvalue: Node<'a>, node: Node<'a>, value: Option<Node<'a>>) {
        let lvalue = strip_parens(lvalue);
        if lvalue.kind_name() != "field_expression" {
            return;
        }
        let Some(field) = lvalue.child_by_field_id(F.field).map(|f| self.text(f)) else {
            return;
        };
        let kind = Kind::of_field(field).filter(|k| self.sources.meta.contains(*k));
        if !META_FIELDS.contains(&field) && kind.is_none() {
            return;
        }
        let Some(array) = self.fields_base(lvalue) else {
            return;
        };
        if META_FIELDS.contains(&field) {
            self.push_use(
                array.clone(),
                UseKind::MetaWrite(field.to_string()),
                Span::of(node),
            );
        }
        if let Some(kind) = kind {
            let how = value.map_or(MetaHow::Update, |v| MetaHow::Assign(self.value(v)));
            self.meta_change(array, kind, how, node);
        }
    }

    pub(super) fn meta_change(&mut self, array: ArrayId, kind: Kind, how: MetaHow, node: Node<'a>) {
        let enclosing = match how {
            MetaHow::Assign(_) => self.enclosing(node),
            _ => Vec::new(),
        };
        self.facts.meta.push(MetaChange {
            array,
            kind,
            how,
            expr: Span::of(node),
            place: self.anc.placement(node),
            enclosing,
        });
    }

    /// The statements holding `node` that are items of a `{ }` block,
    /// innermost first, up to the function (or lambda) body.
    fn enclosing(&self, node: Node<'a>) -> Vec<Placement> {
        let mut out = Vec::new();
        let mut cur = node;
        while let Some(parent) = self.anc.parent(cur) {
            match parent.kind_name() {
                "function_definition" | "translation_unit" | "lambda_expression" => break,
                "compound_statement" if is_statement(cur.kind_name()) => out.push(Placement {
                    stmt: Span::of(cur),
                    block: Span::of(parent),
                    block_kind: BlockKind::Compound,
                }),
                _ => {}
            }
            cur = parent;
        }
        out
    }

    /// A read of one metadata field (`--fields`): `PyArray_DESCR(X)`,
    /// `PyArray_FLAGS(X)`, `X->nd`, ..., as `(X, field, "")`.
    fn meta_read(&self, value: Node<'a>) -> Option<(ArrayId, Kind, String)> {
        if self.sources.meta.is_empty() {
            return None;
        }
        let value = strip_parens(value);
        let (array, kind) = match value.kind_name() {
            "call_expression" => {
                let args = call_args(value);
                let kind = META_READERS
                    .iter()
                    .find(|(name, _)| Some(*name) == callee(value, self.src))
                    .map(|&(_, k)| k)?;
                if args.len() != 1 {
                    return None;
                }
                (self.array_id(args[0]), kind)
            }
            "field_expression" => {
                let field = self.text(value.child_by_field_id(F.field)?);
                (self.fields_base(value)?, Kind::of_field(field)?)
            }
            _ => return None,
        };
        (!kind.is_storage() && self.sources.meta.contains(kind))
            .then(|| (array, kind, String::new()))
    }

    pub(super) fn update(&mut self, node: Node<'a>) {
        let Some(arg) = node.child_by_field_id(F.argument).map(strip_parens) else {
            return;
        };
        if arg.kind_name() == "identifier" {
            let name = self.text(arg).to_string();
            self.moved_alias(&name);
            self.var_mod(&name, node);
            return;
        }
        if let Some((shape, target, base)) = self.target(arg) {
            let source = self.consume(base);
            self.facts.writes.push(Write {
                shape,
                target,
                how: How::Update,
                expr: Span::of(node),
                source,
                place: self.anc.placement(node),
            });
        }
    }

    /// `d += k` or `d++` on an alias moves it by an amount not tracked.
    fn moved_alias(&mut self, name: &str) {
        if let Some(shape) = self.aliases.get_mut(name) {
            shape.offset = Some("?".to_string());
        }
    }

    /// A modification of a variable whose new value is not tracked.
    fn var_mod(&mut self, name: &str, node: Node<'a>) {
        self.facts.var_mods.push(VarMod {
            name: name.to_string(),
            span: Span::of(node),
            value: None,
            slot_read: None,
            stmt: None,
            from: Vec::new(),
            sources: Vec::new(),
        });
    }

    /// `&v`: the variable may be changed through the pointer.
    pub(super) fn address_of(&mut self, node: Node<'a>) {
        let is_addr = node
            .child_by_field_id(F.operator)
            .is_some_and(|o| self.text(o) == "&");
        let Some(arg) = node.child_by_field_id(F.argument).map(strip_parens) else {
            return;
        };
        if is_addr && arg.kind_name() == "identifier" {
            let name = self.text(arg).to_string();
            self.var_mod(&name, node);
            let array = self.resolve(&name);
            self.push_use(array, UseKind::AddressOf, Span::of(node));
        }
    }
}

/// A declarator of an object itself (`g`, `g = ...`, `g(a)`, `g{a}`), not
/// of a pointer, a reference or an array.
fn is_object_declarator(d: Node) -> bool {
    match d.kind_name() {
        "identifier" => true,
        // `Guard g(a);` may read as a function declaration.
        "function_declarator" => d
            .child_by_field_id(F.declarator)
            .is_some_and(|n| n.kind_name() == "identifier"),
        _ => false,
    }
}
