//! One pre-order walk over a function collects what the classifier needs —
//! shape writes and reads, aliases, uses of array variables, variable
//! changes, jumps, blocks and parse errors — as plain data (byte spans), so
//! the tree can be dropped as soon as the walk is done.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use tree_sitter::Node;

use super::syntax::{declarator_name, first_named, text, Preorder, F};
use super::{Kind, MetaSet, Ndim};
use crate::analyze::syntax::KindName;
use crate::span::Span;

mod calls;
mod context;
mod shapes;
pub use shapes::norm;
mod statements;
mod walk;

#[cfg(test)]
mod tests;

/// Array identity: the variable name (fields pointers resolved to the array
/// they view), or the normalised expression text for other expressions.
pub type ArrayId = String;

/// What counts as a shape source.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    /// Extra `PyArray_DIMS`-like macros (`--dims-macro`).
    pub dims_macros: &'a [String],
    /// Extra `PyArray_STRIDES`-like macros (`--strides-macro`).
    pub strides_macros: &'a [String],
    /// Analyse strides too (`--strides`).
    pub strides: bool,
    /// The metadata fields beyond the shape (`--fields`).
    pub meta: MetaSet,
    /// Functions and macros of the tree whose value (or out-parameter) is
    /// a shape source: accessors (DESIGN §2).
    pub givers: &'a Givers,
    /// Names declared `PyArrayObject *` in the file outside functions
    /// (globals, struct fields such as Cython's `self->buf`).
    pub array_names: &'a HashSet<String>,
    /// The C library's `mem*` functions the tree redefines as macros: a
    /// call of one is a call of that macro.
    pub mem_redefined: &'a [&'static str],
}

impl Sources<'static> {
    /// The built-in sources only (no flags, no tree knowledge).
    pub fn plain(strides: bool) -> Sources<'static> {
        static GIVERS: std::sync::LazyLock<Givers> = std::sync::LazyLock::new(Givers::new);
        static NAMES: std::sync::LazyLock<HashSet<String>> = std::sync::LazyLock::new(HashSet::new);
        Sources {
            dims_macros: &[],
            strides_macros: &[],
            strides,
            meta: MetaSet::default(),
            givers: &GIVERS,
            array_names: &NAMES,
            mem_redefined: &[],
        }
    }
}

/// Accessors of the tree, by name.
pub type Givers = HashMap<String, Giver>;

/// How a function or macro of the tree hands out shape storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Giver {
    /// Its value is the storage of argument `param` (a function-like macro
    /// or function), or of the array `array` (an object-like macro).
    /// `typed`: the body reads `(p)->dimensions` on the argument itself,
    /// so only an ndarray argument makes it a source.
    Returns {
        param: Option<usize>,
        array: Option<String>,
        kind: Kind,
        typed: bool,
        location: String,
    },
    /// It stores the storage of argument `param` through its pointer
    /// parameter `out` (`*out = PyArray_DIMS(self)`).
    OutParam {
        out: usize,
        param: usize,
        kind: Kind,
        location: String,
    },
}

/// How a shape reference reaches the storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    /// Directly through a source expression.
    Source(Span),
    /// Through a local alias variable.
    Alias(String),
}

/// A reference to an array's shape storage, or (`param`) to the storage a
/// pointer parameter points at — the latter feeds the summaries of §2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The live storage passed as a non-`const` pointer to code that may
    /// write through it: a function pointer (`callee` as written, no
    /// `location`), or a function the tree declares (`location`) but
    /// does not define.
    MayWrite {
        callee: String,
        location: Option<String>,
    },
}

/// Where a statement sits: the block item holding it and that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The statement that is an item of `block`.
    pub stmt: Span,
    pub block: Span,
    pub block_kind: BlockKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Read {
    pub shape: ShapeRef,
    pub span: Span,
    pub context: ReadCx,
}

/// What the code does with a shape pointer it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Its address is taken (`&fa->dimensions`): the pointer can be copied
    /// out through it (`memcpy(&s, &fa->dimensions, sizeof s)`).
    AddressOf,
    /// Anything else (`sizeof`, a comparison, a conditional, ...).
    Other,
}

/// How a function uses an array variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Use {
    pub array: ArrayId,
    pub kind: UseKind,
    pub span: Span,
}

/// A change to a variable: assignment, declaration, update, or `&v`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Variables the new value may have been read from: see `sources_of`.
    pub sources: Vec<String>,
}

/// A change of one of an ndarray's metadata fields beyond the shape
/// storage (DESIGN §3b): `X->descr = d`, `PyArray_ENABLEFLAGS(X, f)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaChange {
    pub array: ArrayId,
    pub kind: Kind,
    pub how: MetaHow,
    /// The assignment or the call.
    pub expr: Span,
    pub place: Placement,
    /// For an assignment (a restore, maybe): the statements holding it
    /// that are items of a `{ }` block, innermost first.
    pub enclosing: Vec<Placement>,
}

/// How a metadata field is changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MetaHow {
    /// `X->field = value`, `Py_SETREF(X->field, value)`.
    Assign(Value),
    /// `X->field |= f` and the other compound assignments.
    Update,
    /// A flag setter of NumPy's API (`PyArray_ENABLEFLAGS`, ...).
    Flags(String),
}

/// A value stored into memory reached from a variable: `ctx->arr = a`,
/// `ops[0] = a`, `*pa = a`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    /// The variable the memory is reached from (`ctx`, `ops`, `pa`).
    pub into: String,
    /// The variables the stored value can be (`exposed`).
    pub from: Vec<String>,
    pub span: Span,
}

/// An argument of a call, as the summaries of the tree may need it.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallSite {
    pub span: Span,
    pub callee: String,
    pub args: Vec<ArgInfo>,
    pub place: Placement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JumpKind {
    Return,
    Goto,
    Break,
    Continue,
    Label,
    Case,
    /// C++ `throw`: leaves like a `return`.
    Throw,
}

impl JumpKind {
    /// The statement as reasons name it.
    pub fn spelled(self) -> &'static str {
        match self {
            JumpKind::Return => "`return`",
            JumpKind::Goto => "`goto`",
            JumpKind::Break => "`break`",
            JumpKind::Continue => "`continue`",
            JumpKind::Label => "a label",
            JumpKind::Case => "a `case`",
            JumpKind::Throw => "`throw`",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jump {
    pub kind: JumpKind,
    pub span: Span,
    pub label: Option<String>,
    /// For `break`/`continue`: the loop or switch it leaves; for `case`:
    /// its switch.
    pub scope: Option<Span>,
    /// For a `return` or `goto` met in the walk: where it sits (a restore
    /// skipped by it is made before it, DESIGN §3b).
    pub place: Option<Placement>,
}

/// A `{ ... }` block and the `return`/`goto` statements directly in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub span: Span,
    pub exits: Vec<Jump>,
}

/// An `if` with an `else`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IfElse {
    pub place: Placement,
    pub then: Span,
    pub otherwise: Span,
}

/// A parameter of the function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub index: usize,
    /// A pointer whose pointee is not `const`.
    pub writable_ptr: bool,
    /// Declared as a pointer or an array.
    pub pointer: bool,
    /// The declaration without the name (`PyArrayObject **`).
    pub type_text: String,
}

/// A declared local variable.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AliasDef {
    pub name: String,
    pub shape: ShapeRef,
    pub span: Span,
}

/// An ERROR or MISSING node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParseError {
    pub span: Span,
    /// When the error sits in the argument list of a call to this name
    /// (a macro taking a type, like `SWAPTYPE(a, b, npy_intp *)`).
    pub in_args_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Return {
    pub span: Span,
    pub value: Option<Value>,
    /// The shape storage it returns, if its value is a shape reference.
    pub shape: Option<ShapeRef>,
}

/// A preprocessor branch a function was read with, in one configuration
/// of the file (see `source::branches`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchSeen {
    /// The directive line (`#else`).
    pub directive: Span,
    pub body: Span,
}

/// Everything one walk learns about a function.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Facts {
    /// The language of the file it is in.
    pub lang: crate::source::Lang,
    /// The function's name (masked text; see `name_span` for the original).
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub body: Span,
    /// Set when the code could not be parsed as a function (ERROR node).
    pub unparsed: bool,
    /// A K&R definition (`f(a) int a; { ... }`): its parameters' types
    /// are declared apart, which the analysis does not follow.
    pub knr: bool,
    pub params: Vec<Param>,
    pub decls: Vec<Decl>,
    pub writes: Vec<Write>,
    pub reads: Vec<Read>,
    pub uses: Vec<Use>,
    pub var_mods: Vec<VarMod>,
    /// Values stored into memory reached from a variable.
    pub stores: Vec<Store>,
    /// Changes of metadata fields beyond the shape (with `--fields`).
    pub meta: Vec<MetaChange>,
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
    /// `if` statements with an `else`: where each sits and its two bodies
    /// (to tell whether both branches allocate).
    pub if_else: Vec<IfElse>,
    /// Enumeration constants declared in the function.
    pub enumerators: Vec<String>,
    /// `X->dimensions` / `X->strides` on a variable that is not known to be
    /// an ndarray fields pointer (so not a shape source): the variable,
    /// the field and where.
    pub raw_fields: Vec<(String, String, Span)>,
    /// Read once per branch configuration (`source::branches`); this is
    /// one of the readings.
    pub per_config: bool,
    pub config: usize,
    /// The branches read per configuration that overlap the function.
    pub branches: Vec<BranchSeen>,
    /// `*p = S`: shape storage handed out through pointer `p`.
    pub out_stores: Vec<(String, ShapeRef)>,
    /// Subtrees nested deeper than [`MAX_DEPTH`], not walked.
    pub too_deep: Vec<Span>,
    /// C++: the lambda expressions in the function (a write in one runs
    /// when the lambda is called, not where it stands).
    pub lambdas: Vec<Span>,
    /// C++: calls that may throw (neither NumPy's nor CPython's C API, nor
    /// the C library): the callee as written, and where.
    pub may_throw: Vec<(String, Span)>,
    /// C++: the function is declared `noexcept`.
    pub noexcept: bool,
    /// C++: local objects of class type (their destructor runs at the end
    /// of the block and may undo a change): the name and the declaration.
    pub objects: Vec<(String, Span)>,
}

pub use crate::analyze::syntax::MAX_DEPTH;

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
    /// Parents of the function's nodes, and answers climbed once.
    anc: context::Ancestry<'a>,
    sources: Sources<'a>,
    facts: Facts,
    /// Live aliases: variable name to the storage it points at.
    aliases: FxHashMap<String, ShapeRef>,
    /// Variables declared `PyArrayObject_fields *`.
    fields_vars: FxHashSet<String>,
    /// Variables declared `PyArrayObject *`.
    array_vars: FxHashSet<String>,
    /// Variables of this function declared with any other type (they hide
    /// the file's names of `PyArrayObject *` globals).
    other_vars: FxHashSet<String>,
    /// Fields pointers viewing another array variable (`fa = (...)self`).
    fields_of: FxHashMap<String, ArrayId>,
    /// Start bytes of source expressions and alias identifiers that are part
    /// of a write target, so they are not also counted as reads.
    consumed: FxHashSet<usize>,
}

/// Collect the facts of a function definition. For an ERROR node holding
/// code that did not parse as a function, pass the node itself.
pub fn collect<'a>(func: Node<'a>, src: &'a [u8], sources: Sources<'a>) -> Facts {
    // Field ids are those of the grammar that parsed the function.
    super::syntax::in_lang(super::syntax::lang_of(func), || {
        collect_in(func, src, sources)
    })
}

fn collect_in<'a>(func: Node<'a>, src: &'a [u8], sources: Sources<'a>) -> Facts {
    let mut w = Walker {
        src,
        anc: context::Ancestry::new(),
        sources,
        facts: Facts {
            lang: super::syntax::lang_of(func),
            span: Span::of(func),
            unparsed: func.kind_name() != "function_definition",
            ..Facts::default()
        },
        aliases: FxHashMap::default(),
        fields_vars: FxHashSet::default(),
        array_vars: FxHashSet::default(),
        other_vars: FxHashSet::default(),
        fields_of: FxHashMap::default(),
        consumed: FxHashSet::default(),
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
    w.facts.noexcept = declarator.is_some_and(|d| {
        let mut cursor = d.walk();
        let found = d
            .children(&mut cursor)
            .any(|c| c.kind_name() == "noexcept" && !text(c, src).contains("false"));
        found
    });
    let body = func.child_by_field_id(F.body).unwrap_or(func);
    w.facts.body = Span::of(body);
    let mut walk = Preorder::new(body);
    let mut scopes = Scopes::default();
    while let Some(node) = walk.next() {
        // Climbs start at named nodes and go through named ones only.
        if let Some(parent) = walk.parent().filter(|_| node.is_named()) {
            w.anc.record(node, parent);
        }
        scopes.enter(node, &mut w.aliases);
        if walk.at_limit() && node.child_count() > 0 {
            // Generated code can nest without end; what lies deeper is not
            // analysed, and its mentions of a shape source say so.
            w.facts.too_deep.push(Span::of(node));
        }
        w.visit(node);
    }
    w.facts
}

/// The aliases as the walk goes through code that not every run (or every
/// build) reaches in order.
#[derive(Default)]
struct Scopes {
    /// Blocks that end in `return` or `goto`: what they point an alias at
    /// does not reach the code after them (NumPy's
    /// `_check_compatibility_with_new_dtype` hands out the shape in one
    /// such branch and copies into the caller's storage later). The end of
    /// each, and the aliases as they were on entering it.
    leaving: Vec<(usize, FxHashMap<String, ShapeRef>)>,
    /// Preprocessor conditionals tree-sitter reads whole (their branches
    /// balanced): it gives the branches one after the other, but a build
    /// compiles one of them.
    conditionals: Vec<Conditional>,
}

impl Scopes {
    /// Update `aliases` as the walk meets `node`: close the blocks and
    /// conditionals that ended before it, then open the one it starts.
    fn enter(&mut self, node: Node, aliases: &mut FxHashMap<String, ShapeRef>) {
        // Blocks and conditionals nest: the one that ended first is the
        // innermost.
        let start = node.start_byte();
        loop {
            let block = self
                .leaving
                .last()
                .map(|(end, _)| *end)
                .filter(|&e| e <= start);
            let conditional = self
                .conditionals
                .last()
                .map(|c| c.end)
                .filter(|&e| e <= start);
            match (block, conditional) {
                (Some(b), c) if c.is_none_or(|c| b <= c) => {
                    if let Some((_, before)) = self.leaving.pop() {
                        *aliases = before;
                    }
                }
                (_, Some(_)) => {
                    if let Some(c) = self.conditionals.pop() {
                        *aliases = c.after(std::mem::take(aliases));
                    }
                }
                _ => break,
            }
        }
        match node.kind_name() {
            "preproc_if" | "preproc_ifdef" => self.conditionals.push(Conditional {
                end: node.end_byte(),
                entry: aliases.clone(),
                seen: FxHashMap::default(),
                has_else: false,
            }),
            kind @ ("preproc_else" | "preproc_elif" | "preproc_elifdef") => {
                if let Some(c) = self.conditionals.last_mut() {
                    let branch = std::mem::replace(aliases, c.entry.clone());
                    c.merge(branch);
                    c.has_else |= kind == "preproc_else";
                }
            }
            _ => {}
        }
        if ends_in_jump(node) {
            self.leaving.push((node.end_byte(), aliases.clone()));
        }
    }
}

/// A preprocessor conditional being walked: each branch starts from the
/// aliases as they were at the `#if`, and after the `#endif` an alias any
/// branch left may hold (a write through it must not be missed because
/// another branch pointed the name elsewhere).
struct Conditional {
    /// The end of the conditional (its `#endif` line).
    end: usize,
    /// The aliases at the `#if`.
    entry: FxHashMap<String, ShapeRef>,
    /// The aliases the branches walked so far left.
    seen: FxHashMap<String, ShapeRef>,
    /// It has an `#else`: one of its branches is compiled.
    has_else: bool,
}

impl Conditional {
    /// Add the aliases one branch left. A name holds one alias: when the
    /// branches aim it at different storage, an array's shape wins over a
    /// pointer parameter's own storage (the write to the shape is the
    /// finding; the other feeds a summary), else the first branch's.
    fn merge(&mut self, branch: FxHashMap<String, ShapeRef>) {
        for (name, shape) in branch {
            match self.seen.entry(name) {
                Entry::Vacant(e) => {
                    e.insert(shape);
                }
                Entry::Occupied(mut e) => {
                    if e.get().param && !shape.param {
                        e.insert(shape);
                    }
                }
            }
        }
    }

    /// The aliases after the `#endif`, given those the last branch left.
    /// Without an `#else`, no branch may be compiled: the aliases at the
    /// `#if` hold too.
    fn after(mut self, last: FxHashMap<String, ShapeRef>) -> FxHashMap<String, ShapeRef> {
        self.merge(last);
        if !self.has_else {
            let entry = std::mem::take(&mut self.entry);
            self.merge(entry);
        }
        self.seen
    }
}

/// Whether `node` is a `{ }` block whose last statement is a `return` or
/// a `goto`: control never leaves it at its end.
fn ends_in_jump(node: Node) -> bool {
    if node.kind_name() != "compound_statement" {
        return false;
    }
    let mut cursor = node.walk();
    let last = node
        .named_children(&mut cursor)
        .filter(|c| c.kind_name() != "comment")
        .last();
    last.is_some_and(|c| matches!(c.kind_name(), "return_statement" | "goto_statement"))
}

/// The function declarator inside a definition's declarator (through
/// pointer declarators for functions returning pointers). For
/// `(*name(params))(void)`, a function returning a function pointer, it is
/// the innermost one: it holds the function's own name and parameters.
pub fn find_function_declarator(mut node: Node) -> Option<Node> {
    let mut found = None;
    loop {
        let next = match node.kind_name() {
            "function_declarator" => {
                found = Some(node);
                node.child_by_field_id(F.declarator)
            }
            "pointer_declarator" | "attributed_declarator" => node.child_by_field_id(F.declarator),
            "parenthesized_declarator" => first_named(node),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return found,
        }
    }
}
