//! Acknowledged findings (DESIGN §5): the tool's own TODO comment above a
//! lock/manual site, or a `/* dims-fix: allow(lock|manual) reason */` comment.

use std::collections::HashSet;

use super::{Class, Finding, Span};
use crate::span::LineIndex;

/// The marker every TODO comment the tool writes starts with.
pub const TODO_MARKER: &str = "TODO(dims-fix)";

/// Mark findings acknowledged (a resolved lock is). Lock TODOs are one per function, above the
/// function's first lock site, and acknowledge all its lock findings.
pub fn acknowledge(findings: &mut [Finding], text: &str, lines: &LineIndex) {
    super::held::resolve(findings, text);
    let mut lock_acked: HashSet<Span> = HashSet::new();
    for (body, group) in super::change::lock_groups(findings) {
        if let Some(anchor) = super::change::first_anchor(text, findings, &group) {
            if comment_above(text, lines, anchor).contains(TODO_MARKER) {
                lock_acked.insert(body);
            }
        }
    }
    for f in findings.iter_mut() {
        let allow = format!("dims-fix: allow({})", f.class.as_str());
        f.acknowledged = match f.class {
            Class::Lock => {
                f.resolved.is_some()
                    || lock_acked.contains(&f.function_body)
                    || allowed(f, text, lines, &allow)
            }
            Class::Manual => {
                let anchor = f.sites.first().map(|s| s.stmt.start).unwrap_or(0);
                comment_above(text, lines, anchor).contains(TODO_MARKER)
                    || allowed(f, text, lines, &allow)
            }
            Class::Rewrite | Class::Fresh => false,
        };
    }
}

/// An allow comment on a site's line, or just above the first site.
fn allowed(f: &Finding, text: &str, lines: &LineIndex, allow: &str) -> bool {
    f.sites
        .iter()
        .any(|s| has_allow(line_text(text, lines, s.span.start), allow))
        || f.sites
            .first()
            .is_some_and(|s| has_allow(&comment_above(text, lines, s.stmt.start), allow))
}

/// An allow comment that gives a reason: `dims-fix: allow(manual) why`.
fn has_allow(text: &str, allow: &str) -> bool {
    text.match_indices(allow).any(|(i, _)| {
        let rest = &text[i + allow.len()..];
        let reason = rest.split("*/").next().unwrap_or_default();
        reason.chars().any(|c| c.is_alphanumeric())
    })
}

fn line_text<'t>(text: &'t str, lines: &LineIndex, pos: usize) -> &'t str {
    let start = lines.start(lines.line(pos));
    let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
    &text[start..end]
}

/// The block of comment lines directly above the line holding `pos`.
pub fn comment_above(text: &str, lines: &LineIndex, pos: usize) -> String {
    let mut out = Vec::new();
    let mut line = lines.line(pos);
    while line > 1 {
        line -= 1;
        let t = line_text(text, lines, lines.start(line)).trim();
        let is_comment =
            t.starts_with("/*") || t.starts_with('*') || t.starts_with("//") || t.ends_with("*/");
        if !is_comment || t.is_empty() {
            break;
        }
        out.push(t);
    }
    out.reverse();
    out.join("\n")
}
