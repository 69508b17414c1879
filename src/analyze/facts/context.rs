//! Where a statement sits, and what the code around a node does with it.
//!
//! tree-sitter's `Node::parent` searches down from the root, so it costs
//! the node's depth; asked for every node of a deep tree (a chain of 800
//! assignments, 10,000 nested `#if`s, 4,000 `else if`s) that is cubic.
//! `Ancestry` records each parent as the walk meets it, and each question that
//! climbs the tree is answered once per node: a climb stops at a node
//! already answered and hands its answer down the path, so the walk over a
//! function stays linear.

use std::cell::RefCell;
// Keyed by node id: a fast hash, not SipHash (no untrusted keys here).
use rustc_hash::FxHashMap as HashMap;

use tree_sitter::Node;

use crate::analyze::syntax::{call_args, callee_is_plain, is_block, is_statement, strip_parens, F};
use crate::span::Span;

use super::{BlockKind, JumpKind, Placement, ReadCx};
use crate::analyze::syntax::KindName;

/// One step of a climb: an answer here, or go on from another node.
enum Step<'t, R> {
    Answer(R),
    Up(Node<'t>),
}

/// The parents of the nodes walked so far, and the answers found so far.
pub(super) struct Ancestry<'t> {
    parents: HashMap<usize, Node<'t>>,
    placement: RefCell<HashMap<usize, Placement>>,
    runs: RefCell<HashMap<usize, bool>>,
    read: RefCell<HashMap<usize, ReadCx>>,
    in_compound: RefCell<HashMap<usize, bool>>,
}

impl<'t> Ancestry<'t> {
    pub(super) fn new() -> Self {
        Ancestry {
            parents: HashMap::default(),
            placement: RefCell::default(),
            runs: RefCell::default(),
            read: RefCell::default(),
            in_compound: RefCell::default(),
        }
    }

    /// Record a node's parent, as a pre-order walk meets it: every
    /// ancestor of the node being visited is known.
    pub(super) fn record(&mut self, node: Node<'t>, parent: Node<'t>) {
        self.parents.insert(node.id(), parent);
    }

    /// The parent of `node` (above the subtree, tree-sitter's own answer).
    pub(super) fn parent(&self, node: Node<'t>) -> Option<Node<'t>> {
        match self.parents.get(&node.id()) {
            Some(&p) => Some(p),
            None => node.parent(),
        }
    }

    /// Climb from `node` with `step` until an answer, reusing and recording
    /// answers in `memo` for every node on the way.
    fn climb<R: Clone>(
        &self,
        memo: &RefCell<HashMap<usize, R>>,
        node: Node<'t>,
        step: impl Fn(Node<'t>) -> Step<'t, R>,
    ) -> R {
        let mut path = Vec::new();
        let mut cur = node;
        let answer = loop {
            if let Some(r) = memo.borrow().get(&cur.id()) {
                break r.clone();
            }
            path.push(cur.id());
            match step(cur) {
                Step::Answer(r) => break r,
                Step::Up(next) => cur = next,
            }
        };
        let mut memo = memo.borrow_mut();
        for id in path {
            memo.insert(id, answer.clone());
        }
        answer
    }

    /// Where the statement holding `node` sits.
    pub(super) fn placement(&self, node: Node<'t>) -> Placement {
        let alone = |item: Node| Placement {
            stmt: Span::of(item),
            block: Span::of(item),
            block_kind: BlockKind::Other,
        };
        self.climb(&self.placement, node, |item| {
            let Some(parent) = self.parent(item) else {
                return Step::Answer(alone(item));
            };
            let kind = parent.kind_name();
            if is_statement(item.kind_name()) {
                let block_kind = match kind {
                    "compound_statement" => Some(BlockKind::Compound),
                    "case_statement" => Some(BlockKind::Case),
                    // A `#if` branch is only as good as the block around it: in
                    // a `case` without braces a declaration cannot go there.
                    _ if is_block(kind) => Some(if self.preproc_in_compound(parent) {
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
                    return Step::Answer(Placement {
                        stmt: Span::of(item),
                        block: Span::of(parent),
                        block_kind,
                    });
                }
            }
            if matches!(kind, "function_definition" | "translation_unit") {
                return Step::Answer(alone(item));
            }
            Step::Up(parent)
        })
    }

    /// Whether a `#if` branch (through any nesting of `#if`s) is a block
    /// item of a `{ }` block other than a `switch` body (where it belongs
    /// to a `case`).
    fn preproc_in_compound(&self, node: Node<'t>) -> bool {
        self.climb(&self.in_compound, node, |n| match self.parent(n) {
            Some(p) if p.kind_name() == "compound_statement" => Step::Answer(
                self.parent(p)
                    .is_none_or(|s| s.kind_name() != "switch_statement"),
            ),
            Some(p)
                if matches!(
                    p.kind_name(),
                    "preproc_if"
                        | "preproc_ifdef"
                        | "preproc_else"
                        | "preproc_elif"
                        | "preproc_elifdef"
                ) =>
            {
                Step::Up(p)
            }
            _ => Step::Answer(false),
        })
    }

    /// The nearest loop or switch around a `break`/`continue`, the switch of
    /// a `case`.
    pub(super) fn jump_scope(&self, node: Node<'t>, kind: JumpKind) -> Option<Span> {
        let mut cur = self.parent(node);
        while let Some(n) = cur {
            match n.kind_name() {
                "for_statement" | "while_statement" | "do_statement" => return Some(Span::of(n)),
                "switch_statement" if matches!(kind, JumpKind::Break | JumpKind::Case) => {
                    return Some(Span::of(n))
                }
                "function_definition" => return None,
                _ => cur = self.parent(n),
            }
        }
        None
    }

    /// Whether an expression is evaluated every time the statement holding
    /// it runs: not under `&&`, `||`, `?:`, a call's arguments (order
    /// aside, a macro may drop them) or a loop body; through parentheses,
    /// casts, other operators, commas, and the conditions of
    /// `if`/`while`/`switch` and a `for`'s initialiser.
    pub(super) fn runs_with_statement(&self, node: Node<'t>) -> bool {
        self.climb(&self.runs, node, |cur| {
            let Some(parent) = self.parent(cur) else {
                return Step::Answer(false);
            };
            let is = |field: u16| {
                parent
                    .child_by_field_id(field)
                    .is_some_and(|c| c.id() == cur.id())
            };
            match parent.kind_name() {
                "expression_statement" | "return_statement" => Step::Answer(true),
                "parenthesized_expression"
                | "cast_expression"
                | "comma_expression"
                | "assignment_expression" => Step::Up(parent),
                "binary_expression" => {
                    let logical = parent
                        .child_by_field_id(F.operator)
                        .is_some_and(|o| matches!(o.kind_name(), "&&" | "||"));
                    if logical && is(F.right) {
                        Step::Answer(false)
                    } else {
                        Step::Up(parent)
                    }
                }
                "if_statement" | "while_statement" | "switch_statement" | "do_statement" => {
                    Step::Answer(is(F.condition))
                }
                "for_statement" => Step::Answer(is(F.initializer)),
                _ => Step::Answer(false),
            }
        })
    }

    /// What the code around a shape pointer expression does with it.
    pub(super) fn read_context(&self, node: Node<'t>, src: &[u8]) -> ReadCx {
        self.climb(&self.read, node, |cur| {
            let Some(parent) = self.parent(cur) else {
                return Step::Answer(ReadCx::Other);
            };
            let is = |field: u16| {
                parent
                    .child_by_field_id(field)
                    .is_some_and(|c| c.id() == cur.id())
            };
            match parent.kind_name() {
                "parenthesized_expression" | "cast_expression" => Step::Up(parent),
                // `S + k` is still a pointer into the storage.
                "binary_expression"
                    if parent
                        .child_by_field_id(F.operator)
                        .is_some_and(|o| matches!(o.kind_name(), "+" | "-")) =>
                {
                    Step::Up(parent)
                }
                "argument_list" => Step::Answer(argument(parent, cur, src, self)),
                // An element, unless its address is taken (`&S[i]`, `&*S`):
                // then it is a pointer into the storage again.
                "subscript_expression" | "pointer_expression"
                    if (parent.kind_name() == "subscript_expression" && is(F.argument))
                        || parent
                            .child_by_field_id(F.operator)
                            .is_some_and(|o| o.kind_name() == "*") =>
                {
                    match self.address_of_element(parent) {
                        Some(addr) => Step::Up(addr),
                        None => Step::Answer(ReadCx::Element),
                    }
                }
                "assignment_expression" if is(F.right) => {
                    let left = parent.child_by_field_id(F.left).map(strip_parens);
                    Step::Answer(match left.map(|l| l.kind_name()) {
                        Some("identifier") => ReadCx::Alias,
                        _ => ReadCx::Stored,
                    })
                }
                "init_declarator" if is(F.value) => Step::Answer(ReadCx::Alias),
                "pointer_expression"
                    if parent
                        .child_by_field_id(F.operator)
                        .is_some_and(|o| o.kind_name() == "&") =>
                {
                    Step::Answer(ReadCx::AddressOf)
                }
                "initializer_list" | "initializer_pair" | "return_statement" => {
                    Step::Answer(ReadCx::Stored)
                }
                _ => Step::Answer(ReadCx::Other),
            }
        })
    }

    /// `&S[i]` or `&*S` around the element `elem` (through parentheses).
    fn address_of_element(&self, elem: Node<'t>) -> Option<Node<'t>> {
        let mut up = elem;
        while let Some(p) = self
            .parent(up)
            .filter(|p| p.kind_name() == "parenthesized_expression")
        {
            up = p;
        }
        self.parent(up).filter(|p| {
            p.kind_name() == "pointer_expression"
                && p.child_by_field_id(F.operator)
                    .is_some_and(|o| o.kind_name() == "&")
        })
    }

    /// Whether an identifier is the name being declared or assigned, not a use.
    pub(super) fn is_declared_name(&self, node: Node<'t>) -> bool {
        let Some(parent) = self.parent(node) else {
            return false;
        };
        match parent.kind_name() {
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
}

/// A shape pointer passed as an argument: the function called (when it is
/// a plain name) and the argument's position as the call sees it
/// (comments are not arguments).
fn argument<'t>(list: Node<'t>, arg: Node<'t>, src: &[u8], anc: &Ancestry<'t>) -> ReadCx {
    let call = anc
        .parent(list)
        .filter(|c| c.kind_name() == "call_expression");
    let index = call
        .and_then(|c| call_args(c).iter().position(|a| a.id() == arg.id()))
        .unwrap_or(0);
    let callee = call
        .filter(|c| callee_is_plain(*c))
        .and_then(|c| c.child_by_field_id(F.function))
        .map(|f| f.utf8_text(src).unwrap_or_default().to_string());
    ReadCx::Argument { callee, index }
}
