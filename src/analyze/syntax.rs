//! Small, allocation-free helpers over tree-sitter-c and tree-sitter-cpp
//! nodes.

use std::cell::Cell;

use tree_sitter::{Node, TreeCursor};

use crate::source::Lang;

/// Field ids of a grammar, looked up once: `child_by_field_name`
/// searches the grammar's field names by string on every call.
pub struct Fields {
    pub argument: u16,
    pub declarator: u16,
    pub operator: u16,
    pub value: u16,
    pub field: u16,
    pub r#type: u16,
    pub left: u16,
    pub label: u16,
    pub right: u16,
    pub parameters: u16,
    pub index: u16,
    pub function: u16,
    pub name: u16,
    pub body: u16,
    pub arguments: u16,
    pub condition: u16,
    pub initializer: u16,
    pub consequence: u16,
    pub alternative: u16,
    /// C++ only: the bracketed list of a subscript (`a[i]`).
    pub indices: u16,
}

impl Fields {
    fn of(lang: Lang) -> Fields {
        let language = lang.grammar();
        let id = |name: &str| {
            language
                .field_id_for_name(name)
                .map(|id| id.get())
                // A field one grammar lacks (C++ subscripts hold an
                // argument list, no `index`): 0 is no field, never found.
                .unwrap_or(0)
        };
        Fields {
            argument: id("argument"),
            declarator: id("declarator"),
            operator: id("operator"),
            value: id("value"),
            field: id("field"),
            r#type: id("type"),
            left: id("left"),
            label: id("label"),
            right: id("right"),
            parameters: id("parameters"),
            index: id("index"),
            function: id("function"),
            name: id("name"),
            body: id("body"),
            arguments: id("arguments"),
            condition: id("condition"),
            initializer: id("initializer"),
            consequence: id("consequence"),
            alternative: id("alternative"),
            indices: id("indices"),
        }
    }
}

static C_FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| Fields::of(Lang::C));
static CPP_FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| Fields::of(Lang::Cpp));

thread_local! {
    /// The language of the tree this thread is walking (see [`in_lang`]).
    static LANG: Cell<Lang> = const { Cell::new(Lang::C) };
}

/// Run `f` walking trees of `lang`: field ids ([`F`]) are those of its
/// grammar meanwhile. A file's parse and analysis run inside one call on
/// one thread, so the ids always match the tree at hand.
pub fn in_lang<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    struct Restore(Lang);
    impl Drop for Restore {
        fn drop(&mut self) {
            LANG.set(self.0);
        }
    }
    let _restore = Restore(LANG.replace(lang));
    f()
}

/// The language of the grammar that parsed `node`.
pub fn lang_of(node: Node) -> Lang {
    if *node.language() == *C_GRAMMAR {
        Lang::C
    } else {
        Lang::Cpp
    }
}

/// The field ids of the grammar being walked (see [`in_lang`]).
pub struct CurrentFields;

impl std::ops::Deref for CurrentFields {
    type Target = Fields;

    fn deref(&self) -> &Fields {
        match LANG.get() {
            Lang::C => &C_FIELDS,
            Lang::Cpp => &CPP_FIELDS,
        }
    }
}

pub static F: CurrentFields = CurrentFields;

/// Node kind names by id, read once per grammar: `Node::kind()` looks the
/// name up and measures its C string on every call, and a walk asks for it
/// at every node.
fn kind_table(lang: Lang) -> Vec<String> {
    let language = lang.grammar();
    (0..language.node_kind_count() as u16)
        .map(|id| language.node_kind_for_id(id).unwrap_or("").to_string())
        .collect()
}

static KINDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| kind_table(Lang::C));
static CPP_KINDS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| kind_table(Lang::Cpp));
static C_GRAMMAR: std::sync::LazyLock<tree_sitter::Language> =
    std::sync::LazyLock::new(|| Lang::C.grammar());

/// `Node::kind()`, from the table.
pub trait KindName<'tree> {
    fn kind_name(&self) -> &'tree str;
}

impl<'tree> KindName<'tree> for Node<'tree> {
    fn kind_name(&self) -> &'tree str {
        // The node's own grammar (one pointer comparison) picks the table.
        let table = if *self.language() == *C_GRAMMAR {
            &KINDS
        } else {
            &CPP_KINDS
        };
        match table.get(self.kind_id() as usize) {
            Some(name) if !name.is_empty() => name,
            // ERROR and other built-in symbols sit outside the table.
            _ => self.kind(),
        }
    }
}

/// The text of `node` in `src` (the masked bytes, which are valid UTF-8
/// wherever the original was: masking writes ASCII over ASCII).
pub fn text<'a>(node: Node, src: &'a [u8]) -> &'a str {
    std::str::from_utf8(&src[node.byte_range()]).unwrap_or("")
}

/// `node` without surrounding parentheses.
pub fn strip_parens(mut node: Node) -> Node {
    while node.kind_name() == "parenthesized_expression" {
        match first_named(node) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// `node` without surrounding parentheses and casts (C casts, and C++'s
/// `static_cast<T>(x)`-style casts).
pub fn strip_casts(mut node: Node) -> Node {
    loop {
        node = strip_parens(node);
        match node.kind_name() {
            "cast_expression" => match node.child_by_field_id(F.value) {
                Some(value) => node = value,
                None => return node,
            },
            "call_expression" => match cpp_cast(node) {
                Some((_, value)) => node = value,
                None => return node,
            },
            _ => return node,
        }
    }
}

/// The C++ casts: calls of these templates convert their one argument.
const CPP_CASTS: &[&str] = &[
    "static_cast",
    "reinterpret_cast",
    "const_cast",
    "dynamic_cast",
];

/// A C++ cast `static_cast<T>(x)` (or `reinterpret_cast`, `const_cast`,
/// `dynamic_cast`): the type `T` and the value `x`. The name's text is not
/// at hand here: a call of a one-type template with one argument whose
/// name is as long as one of the casts' counts ([`is_cpp_cast`] checks the
/// name where the text is known).
pub fn cpp_cast(call: Node) -> Option<(Node, Node)> {
    let function = call.child_by_field_id(F.function)?;
    if function.kind_name() != "template_function" {
        return None;
    }
    let name = function.child_by_field_id(F.name)?;
    let long = name.end_byte() - name.start_byte();
    if name.kind_name() != "identifier" || !CPP_CASTS.iter().any(|c| c.len() == long) {
        return None;
    }
    let args = function.child_by_field_id(F.arguments)?;
    let ty = first_named(args).filter(|t| t.kind_name() == "type_descriptor")?;
    let [value] = call_args(call)[..] else {
        return None;
    };
    Some((ty, value))
}

/// Whether `call` is a C++ cast, its name read from `src`.
pub fn is_cpp_cast(call: Node, src: &[u8]) -> bool {
    cpp_cast(call).is_some()
        && call
            .child_by_field_id(F.function)
            .and_then(|f| f.child_by_field_id(F.name))
            .is_some_and(|n| CPP_CASTS.contains(&text(n, src)))
}

/// The index of a subscript `a[i]` (C's `index` field; C++'s bracketed
/// argument list).
pub fn subscript_index(node: Node) -> Option<Node> {
    node.child_by_field_id(F.index)
        .or_else(|| first_named(node.child_by_field_id(F.indices)?))
}

/// The first named child that is not a comment.
pub fn first_named(node: Node) -> Option<Node> {
    let mut cursor = node.walk();
    let found = node
        .named_children(&mut cursor)
        .find(|c| c.kind_name() != "comment");
    found
}

/// Arguments of a call expression, comments skipped.
pub fn call_args(call: Node) -> Vec<Node> {
    let Some(list) = call.child_by_field_id(F.arguments) else {
        return Vec::new();
    };
    let mut cursor = list.walk();
    list.named_children(&mut cursor)
        .filter(|c| c.kind_name() != "comment")
        .collect()
}

/// The called name of a call expression: `f(...)` gives `f`, and a member
/// call `type->tp_alloc(...)` gives `tp_alloc`.
pub fn callee<'a>(call: Node, src: &'a [u8]) -> Option<&'a str> {
    let function = strip_parens(call.child_by_field_id(F.function)?);
    match function.kind_name() {
        "identifier" | "qualified_identifier" => Some(text(function, src)),
        "field_expression" => Some(text(function.child_by_field_id(F.field)?, src)),
        _ => None,
    }
}

/// Whether the callee of `call` is a plain identifier (not a member or a
/// function pointer expression).
pub fn callee_is_plain(call: Node) -> bool {
    call.child_by_field_id(F.function)
        .map(strip_parens)
        .is_some_and(|f| matches!(f.kind_name(), "identifier" | "qualified_identifier"))
}

/// The identifier a declarator declares (`*p`, `p[3]`, `p = ...`, `(*p)(...)`).
pub fn declarator_name(mut node: Node) -> Option<Node> {
    loop {
        match node.kind_name() {
            // C++: `A::f`, `~A`, `operator=` are whole names.
            "identifier"
            | "field_identifier"
            | "type_identifier"
            | "qualified_identifier"
            | "destructor_name"
            | "operator_name" => return Some(node),
            "pointer_declarator"
            | "array_declarator"
            | "init_declarator"
            | "function_declarator"
            | "attributed_declarator" => {
                node = node.child_by_field_id(F.declarator)?;
            }
            "parenthesized_declarator" | "reference_declarator" => node = first_named(node)?,
            _ => return None,
        }
    }
}

/// Statement kinds that can appear as items of a block.
pub fn is_statement(kind: &str) -> bool {
    kind.ends_with("_statement") || kind == "declaration" || kind == "type_definition"
}

/// Kinds whose named children are a sequence of statements.
pub fn is_block(kind: &str) -> bool {
    matches!(
        kind,
        "compound_statement"
            | "preproc_if"
            | "preproc_ifdef"
            | "preproc_else"
            | "preproc_elif"
            | "preproc_elifdef"
            | "case_statement"
    )
}

/// How deep below its root a walk goes. Real code stays far above it;
/// generated expressions (a 3,000-term sum, 100,000 nested parentheses) go
/// below, and are not walked there: no walk costs more than the text.
pub const MAX_DEPTH: usize = 1000;

/// Depth-first, pre-order walk of a subtree with a cursor (no recursion, so
/// deeply nested input cannot overflow the stack), at most [`MAX_DEPTH`]
/// levels down.
pub struct Preorder<'t> {
    cursor: TreeCursor<'t>,
    /// The ancestors of the current node below the root's parent.
    ancestors: Vec<Node<'t>>,
    /// The node returned last (the cursor's), kept so as not to ask the
    /// cursor again.
    current: Node<'t>,
    started: bool,
    done: bool,
    skip_children: bool,
    depth: usize,
}

impl<'t> Preorder<'t> {
    pub fn new(root: Node<'t>) -> Self {
        Preorder {
            cursor: root.walk(),
            ancestors: Vec::new(),
            current: root,
            started: false,
            done: false,
            skip_children: false,
            depth: 0,
        }
    }

    /// Do not descend into the node returned last.
    pub fn skip_children(&mut self) {
        self.skip_children = true;
    }

    /// The parent of the node returned last, when it is under the root
    /// (tree-sitter's `Node::parent` costs the node's depth; this, nothing).
    pub fn parent(&self) -> Option<Node<'t>> {
        self.ancestors.last().copied()
    }

    /// Whether the node returned last is as deep as the walk goes: its
    /// children, if any, are not walked.
    pub fn at_limit(&self) -> bool {
        self.depth >= MAX_DEPTH
    }
}

impl<'t> Iterator for Preorder<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            return Some(self.current);
        }
        let descend = !std::mem::take(&mut self.skip_children) && self.depth < MAX_DEPTH;
        if descend && self.cursor.goto_first_child() {
            self.ancestors.push(self.current);
            self.depth += 1;
            self.current = self.cursor.node();
            return Some(self.current);
        }
        loop {
            // Back at the root (the cursor never leaves its subtree).
            if self.depth == 0 {
                self.done = true;
                return None;
            }
            if self.cursor.goto_next_sibling() {
                self.current = self.cursor.node();
                return Some(self.current);
            }
            if !self.cursor.goto_parent() {
                self.done = true;
                return None;
            }
            self.ancestors.pop();
            self.depth -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table names every node as tree-sitter does, errors included.
    #[test]
    fn kind_names_match_tree_sitter() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut files = vec![dir];
        let mut seen = 0;
        while let Some(p) = files.pop() {
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let tree = crate::source::parse_c(&bytes);
            for n in Preorder::new(tree.root_node()) {
                assert_eq!(n.kind_name(), n.kind(), "{}", p.display());
                seen += 1;
            }
        }
        assert!(seen > 10_000, "{seen}");
    }
}
