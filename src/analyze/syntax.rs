//! Small, allocation-free helpers over tree-sitter-c nodes.

use tree_sitter::{Node, TreeCursor};

/// Field ids of tree-sitter-c, looked up once: `child_by_field_name`
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
}

pub static F: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| {
    let language: tree_sitter::Language = tree_sitter_c::LANGUAGE.into();
    let id = |name: &str| {
        language
            .field_id_for_name(name)
            .map(|id| id.get())
            .expect("tree-sitter-c has this field")
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
    }
});

/// Node kind names by id, read once: `Node::kind()` looks the name up
/// and measures its C string on every call, and a walk asks for it at
/// every node.
static KINDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let language: tree_sitter::Language = tree_sitter_c::LANGUAGE.into();
    (0..language.node_kind_count() as u16)
        .map(|id| language.node_kind_for_id(id).unwrap_or("").to_string())
        .collect()
});

/// `Node::kind()`, from the table.
pub trait KindName<'tree> {
    fn kind_name(&self) -> &'tree str;
}

impl<'tree> KindName<'tree> for Node<'tree> {
    fn kind_name(&self) -> &'tree str {
        match KINDS.get(self.kind_id() as usize) {
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

/// `node` without surrounding parentheses and casts.
pub fn strip_casts(mut node: Node) -> Node {
    loop {
        node = strip_parens(node);
        match node.kind_name() {
            "cast_expression" => match node.child_by_field_id(F.value) {
                Some(value) => node = value,
                None => return node,
            },
            _ => return node,
        }
    }
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
        "identifier" => Some(text(function, src)),
        "field_expression" => Some(text(function.child_by_field_id(F.field)?, src)),
        _ => None,
    }
}

/// Whether the callee of `call` is a plain identifier (not a member or a
/// function pointer expression).
pub fn callee_is_plain(call: Node) -> bool {
    call.child_by_field_id(F.function)
        .map(strip_parens)
        .is_some_and(|f| f.kind_name() == "identifier")
}

/// The identifier a declarator declares (`*p`, `p[3]`, `p = ...`, `(*p)(...)`).
pub fn declarator_name(mut node: Node) -> Option<Node> {
    loop {
        match node.kind_name() {
            "identifier" | "field_identifier" | "type_identifier" => return Some(node),
            "pointer_declarator"
            | "array_declarator"
            | "init_declarator"
            | "function_declarator"
            | "attributed_declarator" => {
                node = node.child_by_field_id(F.declarator)?;
            }
            "parenthesized_declarator" => node = first_named(node)?,
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
    root_id: usize,
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
            root_id: root.id(),
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
            return Some(self.cursor.node());
        }
        let descend = !std::mem::take(&mut self.skip_children) && self.depth < MAX_DEPTH;
        let current = self.cursor.node();
        if descend && self.cursor.goto_first_child() {
            self.ancestors.push(current);
            self.depth += 1;
            return Some(self.cursor.node());
        }
        loop {
            if self.cursor.node().id() == self.root_id {
                self.done = true;
                return None;
            }
            if self.cursor.goto_next_sibling() {
                return Some(self.cursor.node());
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
