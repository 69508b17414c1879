//! Where a lock finding's in-place change starts (DESIGN §3c): its
//! statements — the shape writes and the evidence (frees, metadata
//! assignments) — grouped by branch. A TODO stands above the first
//! statement of the change, and above the first statement of every branch
//! that the statements before it do not cover (an `else`, another path).

use std::collections::HashMap;

use super::reason::Evidence;
use super::{Class, Finding, Span};
use crate::source::tokens::{Lexer, Tok};
use crate::span::line_start;

/// One statement of an in-place change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The statement's first code byte on its line.
    pub at: usize,
    /// The statement's text, on one line.
    pub text: String,
    /// The metadata field it changes (`dimensions`, `nd`, `descr`, ...).
    pub field: String,
}

/// The statements of a change that one TODO covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where the TODO goes: the first statement's position.
    pub anchor: usize,
    pub steps: Vec<Step>,
}

/// The in-place change of `members` (lock findings of one function), in
/// parts: one per branch that changes the arrays.
pub fn parts(text: &str, members: &[&Finding]) -> Vec<Part> {
    let mut steps: Vec<Step> = Vec::new();
    for f in members {
        for s in &f.sites {
            let field = s.kind.field();
            steps.push(step(text, s.stmt.start, field));
        }
        for e in &f.evidence {
            match e {
                Evidence::AssignsField { field, at } => steps.push(step(text, *at, field)),
                Evidence::FreesShape { at, .. } => steps.push(step(text, *at, "dimensions")),
                Evidence::SetsFlags { at, .. } => steps.push(step(text, *at, "flags")),
            }
        }
    }
    let Some(body) = members.first().map(|f| f.function_body) else {
        return Vec::new();
    };
    let arrays: Vec<&str> = members.iter().map(|f| f.array.as_str()).collect();
    steps.extend(more_steps(text, body, &arrays, &steps));
    steps.sort_by_key(|s| s.at);
    steps.dedup_by(|a, b| a.at == b.at && a.text == b.text && a.field == b.field);
    let blocks = blocks(text, body);
    let mut parts: Vec<(Span, Part)> = Vec::new();
    for s in steps {
        let block = innermost(&blocks, s.at).unwrap_or(body);
        // After the branches, in a block around them: the change goes on
        // the same way on every branch; each TODO names it.
        let after = parts
            .iter()
            .any(|(b, _)| block.start < b.start && b.end < s.at && b.end <= block.end);
        let covering = parts
            .iter_mut()
            .rev()
            .find(|(b, _)| b.start < s.at && s.at < b.end);
        match covering {
            Some((_, part)) => part.steps.push(s),
            None if after => {
                for (b, part) in parts.iter_mut() {
                    if block.start < b.start && b.end <= block.end {
                        part.steps.push(s.clone());
                    }
                }
            }
            None => {
                // A change that starts in a loop starts at the loop.
                let (anchor, block) = out_of_loops(text, &blocks, s.at, body);
                parts.push((
                    block,
                    Part {
                        anchor,
                        steps: vec![s],
                    },
                ));
            }
        }
    }
    parts.into_iter().map(|(_, p)| p).collect()
}

/// The lock findings of each function, by the function's body: indices
/// into `findings`, in their order. Made once for a file: looked for again
/// for each function, they made planning quadratic in the lock findings of
/// one file.
pub fn lock_groups(findings: &[Finding]) -> HashMap<Span, Vec<usize>> {
    let mut groups: HashMap<Span, Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.class == Class::Lock {
            groups.entry(f.function_body).or_default().push(i);
        }
    }
    groups
}

/// Where a function's (first) lock TODO goes: the first statement of the
/// change of its lock findings (`group`, from [`lock_groups`]) that are not
/// resolved.
pub fn first_anchor(text: &str, findings: &[Finding], group: &[usize]) -> Option<usize> {
    let members: Vec<&Finding> = group
        .iter()
        .map(|&i| &findings[i])
        .filter(|f| f.resolved.is_none())
        .collect();
    parts(text, &members).first().map(|p| p.anchor)
}

/// Statements the analysis did not list (it keeps the first piece of
/// evidence of each kind) that change the same arrays' metadata through the
/// same spellings: `P->nd = ...` for every `P->field` seen, and frees of
/// the shape buffer.
fn more_steps(text: &str, body: Span, arrays: &[&str], known: &[Step]) -> Vec<Step> {
    const FIELDS: [&str; 6] = ["nd", "dimensions", "strides", "descr", "data", "base"];
    let mut prefixes: Vec<String> = Vec::new();
    for s in known {
        for f in FIELDS {
            let arrow = format!("->{f}");
            if let Some(i) = s.text.find(&arrow) {
                let p = s.text[..i].trim().to_string();
                if !p.is_empty() && !prefixes.contains(&p) {
                    prefixes.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut pos = body.start;
    for line in text[body.start..body.end].split_inclusive('\n') {
        let t = line.trim();
        let mut field = None;
        // Matched piece by piece: no string made per line.
        for p in &prefixes {
            let Some(member) = t
                .strip_prefix(p.as_str())
                .and_then(|r| r.strip_prefix("->"))
            else {
                continue;
            };
            for f in FIELDS {
                if let Some(rest) = member.strip_prefix(f) {
                    let rest = rest.trim_start();
                    if rest.starts_with('=') && !rest.starts_with("==") {
                        field = Some(f);
                    }
                }
            }
        }
        if let Some(arg) = t.strip_prefix("npy_free_cache_dim_array(") {
            if arrays
                .iter()
                .any(|a| arg.strip_prefix(a).is_some_and(|r| r.starts_with(')')))
            {
                field = Some("dimensions");
            }
        }
        if let Some(f) = field {
            out.push(step(text, pos, f));
        }
        pos += line.len();
    }
    out
}

fn step(text: &str, pos: usize, field: &str) -> Step {
    let start = line_start(text, pos);
    let line_end = text[start..].find('\n').map_or(text.len(), |e| start + e);
    let line = &text[start..line_end];
    let at = start + (line.len() - line.trim_start().len());
    Step {
        at,
        text: line.trim().to_string(),
        field: field.to_string(),
    }
}

/// Every `{ ... }` block of the body, as spans from `{` to `}`.
fn blocks(text: &str, body: Span) -> Vec<Span> {
    let mut open = Vec::new();
    let mut out = Vec::new();
    let mut lexer = Lexer::at(text.as_bytes(), body.start);
    while let Some(tok) = lexer.next_code() {
        if tok.start >= body.end {
            break;
        }
        match tok.kind {
            Tok::Punct(b'{') => open.push(tok.start),
            Tok::Punct(b'}') => {
                if let Some(start) = open.pop() {
                    out.push(Span::new(start, tok.end));
                }
            }
            _ => {}
        }
    }
    out
}

/// The statement to stand above for a step at `at`: the outermost loop
/// whose body holds it (`for`, `while`, `do`), with the block around that
/// loop; else the step itself and its block.
fn out_of_loops(text: &str, blocks: &[Span], at: usize, body: Span) -> (usize, Span) {
    let mut out = (at, innermost(blocks, at).unwrap_or(body));
    let mut block = out.1;
    while block != body {
        // The block's header: the code line holding its `{`, or the one
        // before when the `{` stands alone.
        let mut start = line_start(text, block.start);
        if text[start..block.start].trim().is_empty() && start > 0 {
            start = line_start(text, start - 1);
        }
        let header = text[start..block.start].trim_start();
        let word: String = header
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if matches!(word.as_str(), "for" | "while" | "do") {
            let loop_at = start + (text[start..].len() - text[start..].trim_start().len());
            out = (loop_at, innermost(blocks, loop_at).unwrap_or(body));
        }
        block = innermost(blocks, block.start).unwrap_or(body);
    }
    out
}

/// The smallest block holding `pos`.
fn innermost(blocks: &[Span], pos: usize) -> Option<Span> {
    blocks
        .iter()
        .filter(|b| b.start < pos && pos < b.end)
        .min_by_key(|b| b.end - b.start)
        .copied()
}
