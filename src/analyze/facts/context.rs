//! Where a statement sits, and what the code around a node does with it.

use tree_sitter::Node;

use crate::analyze::syntax::{call_args, callee_is_plain, is_block, is_statement, strip_parens, F};
use crate::span::Span;

use super::{BlockKind, JumpKind, Placement, ReadCx};
use crate::analyze::syntax::KindName;

/// Where the statement holding `node` sits.
pub fn placement(node: Node) -> Placement {
    let mut item = node;
    while let Some(parent) = item.parent() {
        let kind = parent.kind_name();
        if is_statement(item.kind_name()) {
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
        match parent.kind_name() {
            "compound_statement" => {
                return parent
                    .parent()
                    .is_none_or(|p| p.kind_name() != "switch_statement")
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
pub(super) fn jump_scope(node: Node, kind: JumpKind) -> Option<Span> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        match n.kind_name() {
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

/// Whether an expression is evaluated every time the statement holding it
/// runs: not under `&&`, `||`, `?:`, a call's arguments (order aside, a
/// macro may drop them) or a loop body; through parentheses, casts, other
/// operators, commas, and the conditions of `if`/`while`/`switch` and a
/// `for`'s initialiser.
pub(super) fn runs_with_statement(node: Node) -> bool {
    let mut cur = node;
    while let Some(parent) = cur.parent() {
        let is = |field: u16| {
            parent
                .child_by_field_id(field)
                .is_some_and(|c| c.id() == cur.id())
        };
        match parent.kind_name() {
            "expression_statement" | "return_statement" => return true,
            "parenthesized_expression"
            | "cast_expression"
            | "comma_expression"
            | "assignment_expression" => {}
            "binary_expression" => {
                let logical = parent
                    .child_by_field_id(F.operator)
                    .is_some_and(|o| matches!(o.kind_name(), "&&" | "||"));
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
pub(super) fn read_context(node: Node, src: &[u8]) -> ReadCx {
    let mut cur = node;
    while let Some(parent) = cur.parent() {
        let is = |field: u16| {
            parent
                .child_by_field_id(field)
                .is_some_and(|c| c.id() == cur.id())
        };
        match parent.kind_name() {
            "parenthesized_expression" | "cast_expression" => {}
            // `S + k` is still a pointer into the storage.
            "binary_expression"
                if parent
                    .child_by_field_id(F.operator)
                    .is_some_and(|o| matches!(o.kind_name(), "+" | "-")) => {}
            "argument_list" => {
                let call = parent
                    .parent()
                    .filter(|c| c.kind_name() == "call_expression");
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
                if (parent.kind_name() == "subscript_expression" && is(F.argument))
                    || parent
                        .child_by_field_id(F.operator)
                        .is_some_and(|o| o.kind_name() == "*") =>
            {
                let mut up = parent;
                while let Some(p) = up
                    .parent()
                    .filter(|p| p.kind_name() == "parenthesized_expression")
                {
                    up = p;
                }
                let address = up.parent().filter(|p| {
                    p.kind_name() == "pointer_expression"
                        && p.child_by_field_id(F.operator)
                            .is_some_and(|o| o.kind_name() == "&")
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
                return match left.map(|l| l.kind_name()) {
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
pub(super) fn is_declared_name(node: Node) -> bool {
    let Some(parent) = node.parent() else {
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
