//! One pre-order walk over a function collects what the classifier needs —
//! shape writes and reads, aliases, uses of array variables, variable
//! changes, jumps, blocks and parse errors — as plain data (byte spans), so
//! the tree can be dropped as soon as the walk is done.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::api::{
    ctor_link_args, FREE_FNS, FREE_PTR_FNS, MEM_FNS, META_FIELDS, SAFE_ACCESSORS, SHAPE_READERS,
};
use super::span::Span;
use super::syntax::{
    call_args, callee, callee_is_plain, declarator_name, first_named, is_block, is_statement,
    strip_casts, strip_parens, text, Preorder, F,
};
use super::{Kind, Ndim};

/// Array identity: the variable name (fields pointers resolved to the array
/// they view), or the normalised expression text for other expressions.
pub type ArrayId = String;

/// What counts as a shape source.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    /// Extra `PyArray_DIMS`-like macros (`--dims-macro`).
    pub dims_macros: &'a [String],
    /// Analyse strides too (`--strides`).
    pub strides: bool,
}

/// How a shape reference reaches the storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Directly through a source expression.
    Source(Span),
    /// Through a local alias variable.
    Alias(String),
}

/// A reference to an array's shape storage, or (`param`) to the storage a
/// pointer parameter points at — the latter feeds the summaries of §2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeRef {
    pub array: ArrayId,
    pub kind: Kind,
    pub param: bool,
    pub via: Via,
    /// Added element offset (`S + k`), normalised text; `None` for 0.
    pub offset: Option<String>,
    /// How to get the array's number of dimensions from the source.
    pub ndim: Option<Ndim>,
}

/// Which part of the storage a write changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One element; the index is normalised text including any offset.
    Element {
        index: String,
        index_vars: Vec<String>,
    },
    /// An unknown range (memcpy/memset, a callee writing through a pointer).
    Whole,
    /// The pointer itself is replaced (`->dimensions = p`).
    Pointer,
}

/// An expression's value as far as the classifier needs it.
#[derive(Debug, Clone, Default)]
pub struct Value {
    pub span: Span,
    /// Normalised text.
    pub text: String,
    /// The variable it is (casts and parentheses stripped).
    pub ident: Option<String>,
    /// The function it calls (casts and parentheses stripped).
    pub call: Option<String>,
    /// `NULL` or `0`.
    pub is_null: bool,
}

/// The syntax that performs a write.
#[derive(Debug, Clone)]
pub enum How {
    Assign {
        op: String,
        value: Value,
    },
    Update,
    MemFn(String),
    /// A function of the tree writing through the parameter at this position.
    Callee {
        name: String,
        param: usize,
    },
    /// A macro of the tree assigning its argument.
    MacroAssign {
        name: String,
    },
    /// A macro of the tree whose body writes through a shape source.
    MacroBody {
        name: String,
    },
}

/// Where a statement sits: the block item holding it and that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The statement that is an item of `block`.
    pub stmt: Span,
    pub block: Span,
    pub block_kind: BlockKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// `{ ... }`
    Compound,
    /// A branch of `#if`/`#ifdef`/`#else`.
    Preproc,
    /// Statements after a `case` label.
    Case,
    /// The single-statement body of `if`/`for`/... or unknown.
    Other,
}

/// One write to shape storage (or, with `shape.param`, through a parameter).
#[derive(Debug, Clone)]
pub struct Write {
    pub shape: ShapeRef,
    pub target: Target,
    pub how: How,
    /// The write expression (assignment, update or call).
    pub expr: Span,
    /// The source expression inside it (`PyArray_DIMS(aop)`), if direct.
    pub source: Option<Span>,
    pub place: Placement,
}

/// A read of shape storage through a source expression or an alias.
#[derive(Debug, Clone)]
pub struct Read {
    pub shape: ShapeRef,
    pub span: Span,
    pub context: ReadCx,
}

/// What the code does with a shape pointer it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadCx {
    /// Passed as a call argument (possibly with an offset): the function
    /// called (when it is a plain name) and the argument's position.
    Argument {
        callee: Option<String>,
        index: usize,
    },
    /// Indexed or dereferenced: `S[i]`, `*S`.
    Element,
    /// Assigned to a variable (which becomes an alias).
    Alias,
    /// Stored elsewhere: a field, an array element, an initialiser list,
    /// or returned.
    Stored,
    /// Anything else (`sizeof`, a comparison, a conditional, ...).
    Other,
}

/// How a function uses an array variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseKind {
    /// Passed to a function that may read its shape or keep it.
    Passed {
        callee: String,
    },
    /// Passed as `obj`/`base` of an array constructor.
    CtorLink {
        callee: String,
    },
    /// Passed to a macro/function that reads the shape through the array.
    ShapeReader(String),
    Return,
    /// Stored somewhere other than a local variable.
    Store,
    AddressOf,
    /// One of its metadata fields is assigned.
    MetaWrite(String),
    /// Its shape storage is freed.
    Free(String),
}

#[derive(Debug, Clone)]
pub struct Use {
    pub array: ArrayId,
    pub kind: UseKind,
    pub span: Span,
}

/// A change to a variable: assignment, declaration, update, or `&v`.
#[derive(Debug, Clone)]
pub struct VarMod {
    pub name: String,
    pub span: Span,
    /// The assigned value for a plain `=` or an initialiser.
    pub value: Option<Value>,
    /// The shape slot the value reads (`PyArray_DIM(X, i)`, `S[i]`).
    pub slot_read: Option<(ArrayId, Kind, String)>,
    /// Where the statement sits, when the change is a whole statement (a
    /// declaration, or an assignment that is an expression statement).
    pub stmt: Option<Placement>,
    /// Variables the new value can be (or point into): see `exposed`.
    pub from: Vec<String>,
}

/// An argument of a call, as the summaries of the tree may need it.
#[derive(Debug, Clone)]
pub struct ArgInfo {
    pub index: usize,
    pub span: Span,
    pub shape: Option<ShapeRef>,
    /// The direct source expression inside `shape`, if any.
    pub source: Option<Span>,
    /// `S[i]` as an argument (an lvalue a macro may assign).
    pub element: Option<(ShapeRef, String, Vec<String>)>,
    /// `X->field` on an ndarray (fields pointer or cast).
    pub field: Option<(ArrayId, String)>,
    /// The argument is an array variable.
    pub object: Option<ArrayId>,
}

/// A call to a plain identifier with arguments the summaries may turn into
/// a write or into evidence.
#[derive(Debug, Clone)]
pub struct CallSite {
    pub span: Span,
    pub callee: String,
    pub args: Vec<ArgInfo>,
    pub place: Placement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpKind {
    Return,
    Goto,
    Break,
    Continue,
    Label,
    Case,
}

#[derive(Debug, Clone)]
pub struct Jump {
    pub kind: JumpKind,
    pub span: Span,
    pub label: Option<String>,
    /// For `break`/`continue`: the loop or switch it leaves; for `case`:
    /// its switch.
    pub scope: Option<Span>,
}

/// A `{ ... }` block and the `return`/`goto` statements directly in it.
#[derive(Debug, Clone)]
pub struct Block {
    pub span: Span,
    pub exits: Vec<Jump>,
}

/// A parameter of the function.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub index: usize,
    /// A pointer whose pointee is not `const`.
    pub writable_ptr: bool,
    /// Declared as a pointer or an array.
    pub pointer: bool,
}

/// A declared local variable.
#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    /// The whole declaration statement.
    pub stmt: Span,
    /// The declarator (`*d = PyArray_DIMS(X)`).
    pub declarator: Span,
    pub type_text: String,
    /// How many declarators the statement has.
    pub declarators: usize,
    pub value: Option<Value>,
    /// `static`, `extern` or `_Thread_local`, when declared so.
    pub storage: Option<String>,
}

/// Where an alias was made and what it points at.
#[derive(Debug, Clone)]
pub struct AliasDef {
    pub name: String,
    pub shape: ShapeRef,
    pub span: Span,
}

/// An ERROR or MISSING node.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub span: Span,
    /// When the error sits in the argument list of a call to this name
    /// (a macro taking a type, like `SWAPTYPE(a, b, npy_intp *)`).
    pub in_args_of: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Return {
    pub span: Span,
    pub value: Option<Value>,
}

/// Everything one walk learns about a function.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// The function's name (masked text; see `name_span` for the original).
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub body: Span,
    /// Set when the code could not be parsed as a function (ERROR node).
    pub unparsed: bool,
    pub params: Vec<Param>,
    pub decls: Vec<Decl>,
    pub writes: Vec<Write>,
    pub reads: Vec<Read>,
    pub uses: Vec<Use>,
    pub var_mods: Vec<VarMod>,
    pub calls: Vec<CallSite>,
    pub jumps: Vec<Jump>,
    pub blocks: Vec<Block>,
    pub alias_defs: Vec<AliasDef>,
    pub returns: Vec<Return>,
    pub errors: Vec<ParseError>,
    /// Identifiers used inside `sizeof` (an alias there cannot become an array).
    pub sizeof_names: HashSet<String>,
    /// `for`, `while` and `do` statements.
    pub loops: Vec<Span>,
    /// Enumeration constants declared in the function.
    pub enumerators: Vec<String>,
    /// `X->dimensions` / `X->strides` on a variable that is not known to be
    /// an ndarray fields pointer (so not a shape source): the variable,
    /// the field and where.
    pub raw_fields: Vec<(String, String, Span)>,
}

/// How a name is declared in a function.
#[derive(Debug, Clone, Copy)]
pub enum Declared<'f> {
    /// Not here: a global, a macro, or nothing.
    Nowhere,
    Param,
    /// A local variable of each call.
    Local(&'f Decl),
    /// A `static`, `extern` or thread-local variable: shared between calls.
    Shared(&'f Decl),
    /// More than once (an inner block declares it again), or also as an
    /// enumeration constant.
    Twice,
}

impl Facts {
    /// How `name` is declared in this function.
    pub fn declared(&self, name: &str) -> Declared<'_> {
        let mut decls = self.decls.iter().filter(|d| d.name == name);
        let params = self.params.iter().filter(|p| p.name == name).count();
        let enums = self.enumerators.iter().filter(|e| *e == name).count();
        let first = decls.next();
        let count = params + enums + usize::from(first.is_some()) + decls.count();
        match (count, first) {
            (0, _) => Declared::Nowhere,
            (1, Some(d)) if d.storage.is_some() => Declared::Shared(d),
            (1, Some(d)) => Declared::Local(d),
            (1, None) if params == 1 => Declared::Param,
            _ => Declared::Twice,
        }
    }
}

/// Walk state: aliases and fields pointers as of the current position.
struct Walker<'a> {
    src: &'a [u8],
    sources: Sources<'a>,
    facts: Facts,
    /// Live aliases: variable name to the storage it points at.
    aliases: HashMap<String, ShapeRef>,
    /// Variables declared `PyArrayObject_fields *`.
    fields_vars: HashSet<String>,
    /// Fields pointers viewing another array variable (`fa = (...)self`).
    fields_of: HashMap<String, ArrayId>,
    /// Start bytes of source expressions and alias identifiers that are part
    /// of a write target, so they are not also counted as reads.
    consumed: HashSet<usize>,
}

/// Collect the facts of a function definition. For an ERROR node holding
/// code that did not parse as a function, pass the node itself.
pub fn collect(func: Node, src: &[u8], sources: Sources) -> Facts {
    let mut w = Walker {
        src,
        sources,
        facts: Facts {
            span: Span::of(func),
            unparsed: func.kind() != "function_definition",
            ..Facts::default()
        },
        aliases: HashMap::new(),
        fields_vars: HashSet::new(),
        fields_of: HashMap::new(),
        consumed: HashSet::new(),
    };
    let declarator = func
        .child_by_field_id(F.declarator)
        .and_then(find_function_declarator);
    if let Some(name) = declarator
        .and_then(|d| d.child_by_field_id(F.declarator))
        .and_then(declarator_name)
    {
        w.facts.name = text(name, src).to_string();
        w.facts.name_span = Span::of(name);
    }
    if let Some(params) = declarator.and_then(|d| d.child_by_field_id(F.parameters)) {
        w.params(params);
    }
    let body = func.child_by_field_id(F.body).unwrap_or(func);
    w.facts.body = Span::of(body);
    for node in Preorder::new(body) {
        w.visit(node);
    }
    w.facts
}

/// The function declarator inside a definition's declarator (through
/// pointer declarators for functions returning pointers).
pub fn find_function_declarator(mut node: Node) -> Option<Node> {
    loop {
        match node.kind() {
            "function_declarator" => return Some(node),
            "pointer_declarator" | "attributed_declarator" => {
                node = node.child_by_field_id(F.declarator)?
            }
            "parenthesized_declarator" => node = first_named(node)?,
            _ => return None,
        }
    }
}

/// Where the statement holding `node` sits.
pub fn placement(node: Node) -> Placement {
    let mut item = node;
    while let Some(parent) = item.parent() {
        let kind = parent.kind();
        if is_statement(item.kind()) {
            let block_kind = match kind {
                "compound_statement" => Some(BlockKind::Compound),
                "case_statement" => Some(BlockKind::Case),
                // A `#if` branch is only as good as the block around it: in
                // a `case` without braces a declaration cannot go there.
                _ if is_block(kind) => Some(if preproc_in_compound(parent) {
                    BlockKind::Preproc
                } else {
                    BlockKind::Other
                }),
                // The body of `if`/`else`/`for`/`while`/`do` without braces.
                "if_statement" | "else_clause" | "for_statement" | "while_statement"
                | "do_statement" => Some(BlockKind::Other),
                _ => None,
            };
            if let Some(block_kind) = block_kind {
                return Placement {
                    stmt: Span::of(item),
                    block: Span::of(parent),
                    block_kind,
                };
            }
        }
        if matches!(kind, "function_definition" | "translation_unit") {
            break;
        }
        item = parent;
    }
    Placement {
        stmt: Span::of(item),
        block: Span::of(item),
        block_kind: BlockKind::Other,
    }
}

/// Whether a `#if` branch (through any nesting of `#if`s) is a block item of
/// a `{ }` block other than a `switch` body (where it belongs to a `case`).
fn preproc_in_compound(mut node: Node) -> bool {
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "compound_statement" => {
                return parent
                    .parent()
                    .is_none_or(|p| p.kind() != "switch_statement")
            }
            "preproc_if" | "preproc_ifdef" | "preproc_else" | "preproc_elif"
            | "preproc_elifdef" => node = parent,
            _ => return false,
        }
    }
    false
}

/// The nearest loop or switch around a `break`/`continue`, the switch of a
/// `case`.
fn jump_scope(node: Node, kind: JumpKind) -> Option<Span> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        match n.kind() {
            "for_statement" | "while_statement" | "do_statement" => return Some(Span::of(n)),
            "switch_statement" if matches!(kind, JumpKind::Break | JumpKind::Case) => {
                return Some(Span::of(n))
            }
            "function_definition" => return None,
            _ => cur = n.parent(),
        }
    }
    None
}

impl<'a> Walker<'a> {
    fn text(&self, node: Node) -> &'a str {
        text(node, self.src)
    }

    fn value(&self, node: Node) -> Value {
        let stripped = strip_casts(node);
        let t = norm(self.text(node));
        Value {
            span: Span::of(node),
            is_null: matches!(norm(self.text(stripped)).as_str(), "NULL" | "0"),
            ident: (stripped.kind() == "identifier").then(|| self.text(stripped).to_string()),
            call: (stripped.kind() == "call_expression")
                .then(|| callee(stripped, self.src).map(str::to_string))
                .flatten(),
            text: t,
        }
    }

    fn params(&mut self, list: Node) {
        let mut cursor = list.walk();
        let decls: Vec<Node> = list
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "parameter_declaration")
            .collect();
        for (index, decl) in decls.into_iter().enumerate() {
            let Some(declarator) = decl.child_by_field_id(F.declarator) else {
                continue;
            };
            let Some(name) = declarator_name(declarator) else {
                continue;
            };
            let name = self.text(name).to_string();
            let is_ptr = declarator.kind() == "pointer_declarator";
            let type_text = decl
                .child_by_field_id(F.r#type)
                .map(|t| self.text(t))
                .unwrap_or("");
            // `const npy_intp *p` and `npy_intp const *p`: the pointee is const.
            let before = &self.text(decl)[..declarator.start_byte() - decl.start_byte()];
            let const_pointee = before.split_whitespace().any(|t| t == "const");
            if type_text == "PyArrayObject_fields" && is_ptr {
                self.fields_vars.insert(name.clone());
            }
            let writable_ptr = is_ptr && !const_pointee;
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
                pointer: declarator.kind() != "identifier",
            });
        }
    }

    fn visit(&mut self, node: Node) {
        // A macro call read as a type (`GUARD(a) PyArray_DIMS(a)[0] = k;`
        // parses as a declaration) is a parse error that tree-sitter does
        // not flag: count it as one, never read past it silently.
        if node.is_error() || node.is_missing() || node.kind() == "macro_type_specifier" {
            self.parse_error(node);
        }
        match node.kind() {
            "declaration" => self.declaration(node),
            "assignment_expression" => self.assignment(node),
            "update_expression" => self.update(node),
            "call_expression" => self.call(node),
            "pointer_expression" => self.address_of(node),
            "compound_statement" => self.block(node),
            "return_statement" => {
                let value = first_named(node).map(|v| self.value(v));
                if let Some(v) = first_named(node) {
                    self.object_use(v, UseKind::Return);
                }
                self.facts.returns.push(Return {
                    span: Span::of(node),
                    value,
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
                    if n.kind() == "identifier" {
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
            "enumerator" => {
                if let Some(name) = node.child_by_field_id(F.name) {
                    self.facts.enumerators.push(self.text(name).to_string());
                }
            }
            _ => {}
        }
        if matches!(node.kind(), "call_expression" | "field_expression")
            && !self.consumed.contains(&node.start_byte())
        {
            if let Some(shape) = self.source(node) {
                self.facts.reads.push(Read {
                    shape,
                    span: Span::of(node),
                    context: read_context(node, self.src),
                });
            } else if node.kind() == "field_expression" {
                self.raw_field(node);
            }
        }
    }

    /// `X->dimensions` on a plain variable: not a source, but it reaches
    /// the same storage when `X` is an ndarray.
    fn raw_field(&mut self, node: Node) {
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
        let base = strip_casts(base);
        if base.kind() == "identifier" {
            self.facts.raw_fields.push((
                self.resolve(self.text(base)),
                field.to_string(),
                Span::of(node),
            ));
        }
    }

    fn parse_error(&mut self, node: Node) {
        let in_args_of = node
            .parent()
            .filter(|p| p.kind() == "argument_list")
            .and_then(|p| p.parent())
            .filter(|call| call.kind() == "call_expression" && callee_is_plain(*call))
            .and_then(|call| callee(call, self.src))
            .map(str::to_string);
        self.facts.errors.push(ParseError {
            span: Span::of(node),
            in_args_of,
        });
    }

    fn jump(&mut self, node: Node, kind: JumpKind, label: Option<String>) {
        let scope = matches!(kind, JumpKind::Break | JumpKind::Continue | JumpKind::Case)
            .then(|| jump_scope(node, kind))
            .flatten();
        self.facts.jumps.push(Jump {
            kind,
            span: Span::of(node),
            label,
            scope,
        });
    }

    fn block(&mut self, node: Node) {
        let mut cursor = node.walk();
        let exits = node
            .named_children(&mut cursor)
            .filter(|c| matches!(c.kind(), "return_statement" | "goto_statement"))
            .map(|c| Jump {
                kind: if c.kind() == "return_statement" {
                    JumpKind::Return
                } else {
                    JumpKind::Goto
                },
                span: Span::of(c),
                label: c
                    .child_by_field_id(F.label)
                    .map(|l| self.text(l).to_string()),
                scope: None,
            })
            .collect();
        self.facts.blocks.push(Block {
            span: Span::of(node),
            exits,
        });
    }

    // ----- shape sources ---------------------------------------------------

    /// A base shape source (not an alias): `PyArray_DIMS(X)`, `PyArray_SHAPE(X)`,
    /// `((PyArrayObject_fields *)X)->dimensions`, `F->dimensions`.
    fn source(&self, node: Node) -> Option<ShapeRef> {
        match node.kind() {
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
    fn source_macro(&self, name: &str) -> Option<Kind> {
        match name {
            "PyArray_DIMS" | "PyArray_SHAPE" => Some(Kind::Dims),
            "PyArray_STRIDES" if self.sources.strides => Some(Kind::Strides),
            _ if self.sources.dims_macros.iter().any(|m| m == name) => Some(Kind::Dims),
            _ => None,
        }
    }

    /// The array behind `X->field` when `X` is an ndarray fields pointer
    /// (a cast to `PyArrayObject_fields *` or a variable of that type).
    /// Iterator fields such as `mit->dimensions` are not.
    fn fields_base(&self, field_expr: Node) -> Option<ArrayId> {
        if field_expr
            .child_by_field_id(F.operator)
            .map(|o| self.text(o))
            != Some("->")
        {
            return None;
        }
        let base = strip_parens(field_expr.child_by_field_id(F.argument)?);
        match base.kind() {
            "cast_expression" => {
                let ty: String = self
                    .text(base.child_by_field_id(F.r#type)?)
                    .split_whitespace()
                    .collect();
                if ty == "PyArrayObject_fields*" {
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
    fn shape_ref(&self, node: Node) -> Option<ShapeRef> {
        let node = strip_casts(node);
        match node.kind() {
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
                if arg.kind() != "subscript_expression" {
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
    fn base_of<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        let node = strip_casts(node);
        match node.kind() {
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
    fn consume(&mut self, node: Node) -> Option<Span> {
        let base = self.base_of(node)?;
        self.consumed.insert(base.start_byte());
        (base.kind() != "identifier").then(|| Span::of(base))
    }

    /// `S[i]` or `*S` (with `S` a shape reference) as an element of storage.
    fn element<'t>(&self, node: Node<'t>) -> Option<(ShapeRef, Target, Node<'t>)> {
        let node = strip_parens(node);
        let (base, index) = match node.kind() {
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
    fn target<'t>(&self, lvalue: Node<'t>) -> Option<(ShapeRef, Target, Node<'t>)> {
        let lvalue = strip_parens(lvalue);
        if let Some(found) = self.element(lvalue) {
            return Some(found);
        }
        if lvalue.kind() == "field_expression" {
            let shape = self.source(lvalue)?;
            return Some((shape, Target::Pointer, lvalue));
        }
        None
    }

    // ----- array identity --------------------------------------------------

    /// The array an expression denotes.
    fn array_id(&self, node: Node) -> ArrayId {
        let node = strip_casts(node);
        if node.kind() == "identifier" {
            self.resolve(self.text(node))
        } else {
            norm(self.text(node))
        }
    }

    /// A variable name, with fields pointers resolved to the array they view.
    fn resolve(&self, name: &str) -> ArrayId {
        self.fields_of
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// The array variable an expression is, if it is one (casts stripped).
    fn object(&self, node: Node) -> Option<ArrayId> {
        let node = strip_casts(node);
        (node.kind() == "identifier").then(|| self.resolve(self.text(node)))
    }

    fn object_use(&mut self, node: Node, kind: UseKind) {
        if let Some(array) = self.object(node) {
            self.push_use(array, kind, Span::of(node));
        }
    }

    fn push_use(&mut self, array: ArrayId, kind: UseKind, span: Span) {
        self.facts.uses.push(Use { array, kind, span });
    }

    // ----- statements and expressions -------------------------------------

    fn declaration(&mut self, node: Node) {
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
            .filter(|c| c.kind() == "storage_class_specifier")
            .map(|c| self.text(c))
            .find(|t| matches!(*t, "static" | "extern" | "_Thread_local" | "thread_local"))
            .map(str::to_string);
        for declarator in declarators {
            let Some(name_node) = declarator_name(declarator) else {
                continue;
            };
            let name = self.text(name_node).to_string();
            let inner = if declarator.kind() == "init_declarator" {
                declarator.child_by_field_id(F.declarator)
            } else {
                Some(declarator)
            };
            let is_ptr = inner.is_some_and(|d| d.kind() == "pointer_declarator");
            if type_text == "PyArrayObject_fields" && is_ptr {
                self.fields_vars.insert(name.clone());
            } else {
                // A new declaration shadows any earlier meaning of the name.
                self.fields_vars.remove(&name);
                self.fields_of.remove(&name);
            }
            let value = (declarator.kind() == "init_declarator")
                .then(|| declarator.child_by_field_id(F.value))
                .flatten();
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

    /// A variable gets a new value (`value` is `None` when unknown). A
    /// declaration without initialiser is not `record`ed as a change.
    fn assign_var(&mut self, name: &str, node: Node, value: Option<Node>, record: bool) {
        let new_alias = value.and_then(|v| self.shape_ref(v));
        let slot_read = value.and_then(|v| self.slot_read(v));
        let fields_target = value
            .map(strip_casts)
            .filter(|v| v.kind() == "identifier" && self.text(*v) != name)
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
        let value = value.map(|v| self.value(v));
        let whole = node.kind() == "init_declarator" || runs_with_statement(node);
        self.facts.var_mods.push(VarMod {
            name: name.to_string(),
            span: Span::of(node),
            value,
            slot_read,
            stmt: whole.then(|| placement(node)),
            from,
        });
    }

    /// The slot a value reads: `PyArray_DIM(X, i)`, `PyArray_DIMS(X)[i]`,
    /// `d[i]` for an alias `d`, `*S`.
    fn slot_read(&self, value: Node) -> Option<(ArrayId, Kind, String)> {
        let value = strip_casts(value);
        if value.kind() == "call_expression" {
            let kind = match callee(value, self.src)? {
                "PyArray_DIM" => Kind::Dims,
                "PyArray_STRIDE" if self.sources.strides => Kind::Strides,
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

    fn assignment(&mut self, node: Node) {
        let (Some(left), Some(right), Some(op)) = (
            node.child_by_field_id(F.left),
            node.child_by_field_id(F.right),
            node.child_by_field_id(F.operator),
        ) else {
            return;
        };
        let op = self.text(op).to_string();
        let left = strip_parens(left);
        if left.kind() == "identifier" {
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
        for array in self.exposed(right) {
            self.push_use(array, UseKind::Store, Span::of(right));
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
                place: placement(node),
            });
        }
        self.meta_write(left, node);
    }

    /// `X->nd = ...`, `X->descr = ...` on an ndarray: evidence of an
    /// in-place metadata change.
    fn meta_write(&mut self, lvalue: Node, node: Node) {
        let lvalue = strip_parens(lvalue);
        if lvalue.kind() != "field_expression" {
            return;
        }
        let Some(field) = lvalue.child_by_field_id(F.field).map(|f| self.text(f)) else {
            return;
        };
        if !META_FIELDS.contains(&field) {
            return;
        }
        if let Some(array) = self.fields_base(lvalue) {
            self.push_use(array, UseKind::MetaWrite(field.to_string()), Span::of(node));
        }
    }

    fn update(&mut self, node: Node) {
        let Some(arg) = node.child_by_field_id(F.argument).map(strip_parens) else {
            return;
        };
        if arg.kind() == "identifier" {
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
                place: placement(node),
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
    fn var_mod(&mut self, name: &str, node: Node) {
        self.facts.var_mods.push(VarMod {
            name: name.to_string(),
            span: Span::of(node),
            value: None,
            slot_read: None,
            stmt: None,
            from: Vec::new(),
        });
    }

    /// `&v`: the variable may be changed through the pointer.
    fn address_of(&mut self, node: Node) {
        let is_addr = node
            .child_by_field_id(F.operator)
            .is_some_and(|o| self.text(o) == "&");
        let Some(arg) = node.child_by_field_id(F.argument).map(strip_parens) else {
            return;
        };
        if is_addr && arg.kind() == "identifier" {
            let name = self.text(arg).to_string();
            self.var_mod(&name, node);
            let array = self.resolve(&name);
            self.push_use(array, UseKind::AddressOf, Span::of(node));
        }
    }

    fn call(&mut self, node: Node) {
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
        if plain && MEM_FNS.contains(&name) {
            if let Some(first) = args.first().copied() {
                if let Some(shape) = self.shape_ref(first) {
                    let source = self.consume(first);
                    self.facts.writes.push(Write {
                        shape,
                        target: Target::Whole,
                        how: How::MemFn(name.to_string()),
                        expr: Span::of(node),
                        source,
                        place: placement(node),
                    });
                }
            }
        }
        // `Py_SETREF(fa->descr, d)` assigns the field.
        if plain && matches!(name, "Py_SETREF" | "Py_XSETREF") {
            if let Some(first) = args.first().copied() {
                self.meta_write(first, node);
            }
        }
        let ctor_links = ctor_link_args(name);
        let source_macro = self.source_macro(name).is_some();
        let mut infos = Vec::new();
        for (index, &arg) in args.iter().enumerate() {
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
                    Some(UseKind::ShapeReader(name.to_string()))
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
                        Span::of(node),
                    );
                }
            }
            let source = shape
                .as_ref()
                .and(self.base_of(arg))
                .filter(|b| b.kind() != "identifier")
                .map(Span::of);
            let element = self.element(arg).and_then(|(s, t, _)| match t {
                Target::Element { index, index_vars } => Some((s, index, index_vars)),
                _ => None,
            });
            let field = {
                let a = strip_parens(arg);
                if a.kind() == "field_expression" {
                    a.child_by_field_id(F.field)
                        .map(|f| self.text(f).to_string())
                        .and_then(|f| Some((self.fields_base(a)?, f)))
                } else {
                    None
                }
            };
            if shape.is_some() || element.is_some() || field.is_some() || object.is_some() {
                infos.push(ArgInfo {
                    index,
                    span: Span::of(arg),
                    shape,
                    source,
                    element,
                    field,
                    object,
                });
            }
        }
        let interesting = plain
            && !source_macro
            && !MEM_FNS.contains(&name)
            && !SAFE_ACCESSORS.contains(&name)
            && !SHAPE_READERS.contains(&name);
        if interesting && !infos.is_empty() {
            self.facts.calls.push(CallSite {
                span: Span::of(node),
                callee: name.to_string(),
                args: infos,
                place: placement(node),
            });
        }
    }

    /// An identifier naming a live alias, outside a write target, is a read
    /// of the storage it points at.
    fn alias_read(&mut self, node: Node) {
        let name = self.text(node);
        let Some(shape) = self.aliases.get(name) else {
            return;
        };
        if self.consumed.contains(&node.start_byte()) || is_declared_name(node) {
            return;
        }
        let shape = shape.clone();
        self.facts.reads.push(Read {
            shape,
            span: Span::of(node),
            context: read_context(node, self.src),
        });
    }

    /// The variables whose value an expression can evaluate to or point
    /// into (`c ? a : b`, `(x, a)`, `a + 1`, `&a[0]`), resolved: not those
    /// only passed to a call inside it, read through a field, or measured.
    fn exposed(&self, node: Node) -> Vec<String> {
        let mut out = Vec::new();
        let mut walk = Preorder::new(node);
        while let Some(n) = walk.next() {
            let operator = |n: Node, op: &str| {
                n.kind() == "pointer_expression"
                    && n.child_by_field_id(F.operator)
                        .is_some_and(|o| o.kind() == op)
            };
            let deref = n.kind() == "subscript_expression" || operator(n, "*");
            let address_taken = n.parent().is_some_and(|p| operator(p, "&"));
            match n.kind() {
                "call_expression" | "field_expression" | "sizeof_expression" => {
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

    /// Identifiers in an expression.
    fn identifiers(&self, node: Node) -> Vec<String> {
        let mut out = Vec::new();
        for n in Preorder::new(node) {
            if n.kind() == "identifier" {
                out.push(self.text(n).to_string());
            }
        }
        out
    }
}

/// Whether an expression is evaluated every time the statement holding it
/// runs: not under `&&`, `||`, `?:`, a call's arguments (order aside, a
/// macro may drop them) or a loop body; through parentheses, casts, other
/// operators, commas, and the conditions of `if`/`while`/`switch` and a
/// `for`'s initialiser.
fn runs_with_statement(node: Node) -> bool {
    let mut cur = node;
    while let Some(parent) = cur.parent() {
        let is = |field: u16| {
            parent
                .child_by_field_id(field)
                .is_some_and(|c| c.id() == cur.id())
        };
        match parent.kind() {
            "expression_statement" | "return_statement" => return true,
            "parenthesized_expression"
            | "cast_expression"
            | "comma_expression"
            | "assignment_expression" => {}
            "binary_expression" => {
                let logical = parent
                    .child_by_field_id(F.operator)
                    .is_some_and(|o| matches!(o.kind(), "&&" | "||"));
                if logical && is(F.right) {
                    return false;
                }
            }
            "if_statement" | "while_statement" | "switch_statement" | "do_statement" => {
                return is(F.condition)
            }
            "for_statement" => return is(F.initializer),
            _ => return false,
        }
        cur = parent;
    }
    false
}

/// What the code around a shape pointer expression does with it.
fn read_context(node: Node, src: &[u8]) -> ReadCx {
    let mut cur = node;
    while let Some(parent) = cur.parent() {
        let is = |field: u16| {
            parent
                .child_by_field_id(field)
                .is_some_and(|c| c.id() == cur.id())
        };
        match parent.kind() {
            "parenthesized_expression" | "cast_expression" => {}
            // `S + k` is still a pointer into the storage.
            "binary_expression"
                if parent
                    .child_by_field_id(F.operator)
                    .is_some_and(|o| matches!(o.kind(), "+" | "-")) => {}
            "argument_list" => {
                let call = parent.parent().filter(|c| c.kind() == "call_expression");
                // Positions as the call sees them (comments are not arguments).
                let index = call
                    .and_then(|c| call_args(c).iter().position(|a| a.id() == cur.id()))
                    .unwrap_or(0);
                let callee = call
                    .filter(|c| callee_is_plain(*c))
                    .and_then(|c| c.child_by_field_id(F.function))
                    .map(|f| f.utf8_text(src).unwrap_or_default().to_string());
                return ReadCx::Argument { callee, index };
            }
            // An element, unless its address is taken (`&S[i]`, `&*S`):
            // then it is a pointer into the storage again.
            "subscript_expression" | "pointer_expression"
                if (parent.kind() == "subscript_expression" && is(F.argument))
                    || parent
                        .child_by_field_id(F.operator)
                        .is_some_and(|o| o.kind() == "*") =>
            {
                let mut up = parent;
                while let Some(p) = up
                    .parent()
                    .filter(|p| p.kind() == "parenthesized_expression")
                {
                    up = p;
                }
                let address = up.parent().filter(|p| {
                    p.kind() == "pointer_expression"
                        && p.child_by_field_id(F.operator)
                            .is_some_and(|o| o.kind() == "&")
                });
                match address {
                    Some(addr) => {
                        cur = addr;
                        continue;
                    }
                    None => return ReadCx::Element,
                }
            }
            "assignment_expression" if is(F.right) => {
                let left = parent.child_by_field_id(F.left).map(strip_parens);
                return match left.map(|l| l.kind()) {
                    Some("identifier") => ReadCx::Alias,
                    _ => ReadCx::Stored,
                };
            }
            "init_declarator" if is(F.value) => return ReadCx::Alias,
            "initializer_list" | "initializer_pair" | "return_statement" => return ReadCx::Stored,
            _ => return ReadCx::Other,
        }
        cur = parent;
    }
    ReadCx::Other
}

/// Whether an identifier is the name being declared or assigned, not a use.
fn is_declared_name(node: Node) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    match parent.kind() {
        "init_declarator" | "pointer_declarator" | "array_declarator" => parent
            .child_by_field_id(F.declarator)
            .is_some_and(|d| d.id() == node.id()),
        "declaration" => true,
        "assignment_expression" => parent
            .child_by_field_id(F.left)
            .is_some_and(|l| l.id() == node.id()),
        _ => false,
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
