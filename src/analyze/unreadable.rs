//! Findings for code that is not analysed (issue 17): each shape source a
//! function holding digraph or trigraph brackets, braces from a macro, or
//! code after an unterminated literal mentions is reported, with why, and
//! stands in for whatever the parse made of that function.

use super::reason::{Limit, Reason};
use super::{Class, Finding, Kind, Role, Site, Span};
use crate::source::hazards::Unreadable;
use crate::span::line_start;

/// The findings of unreadable items, one per (item, array named), and
/// the others without those the items cover.
pub fn merge(mut findings: Vec<Finding>, items: &[Unreadable], text: &str) -> Vec<Finding> {
    if items.is_empty() {
        return findings;
    }
    let item_of = |s: &Site| items.iter().find(|u| u.region.contains(&s.span.start));
    let (replaced, mut findings): (Vec<Finding>, Vec<Finding>) = findings
        .drain(..)
        .partition(|f| f.sites.iter().any(|s| item_of(s).is_some()));
    // A replaced finding's sites outside every item stay reported, and,
    // like the items' own findings, are never edited: the function they
    // were found in reaches into code that is not analysed.
    for f in &replaced {
        let (rest, covered): (Vec<&Site>, Vec<&Site>) =
            f.sites.iter().partition(|s| item_of(s).is_none());
        let Some(u) = covered.first().and_then(|s| item_of(s)) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let mut kept = f.clone();
        kept.sites = rest.into_iter().cloned().collect();
        kept.parse_error = true;
        kept.rewrite.clear();
        kept.exit_fixes.clear();
        if kept.class == Class::Rewrite {
            let reason = Reason::Limit(Limit::NotAnalysed {
                what: u.what.clone(),
                at: u.at,
            });
            for s in &mut kept.sites {
                s.class = Class::Manual;
                s.reason = reason.clone();
            }
            kept.class = Class::Manual;
            kept.reason = reason;
        }
        findings.push(kept);
    }
    for u in items {
        let mut by_array: Vec<(String, Vec<Site>)> = Vec::new();
        let mut add =
            |array: String, site: Site| match by_array.iter_mut().find(|(a, _)| *a == array) {
                Some((_, sites)) => sites.push(site),
                None => by_array.push((array, vec![site])),
            };
        // The sites the parse made of the item (they may name what no
        // mention below does: `->dimensions`, a macro of the tree), then
        // the mentions outside them, all reported the same way.
        let mut parsed: Vec<(String, Site)> = Vec::new();
        for f in &replaced {
            for s in f.sites.iter().filter(|s| u.region.contains(&s.span.start)) {
                let mut site = s.clone();
                site.class = Class::Manual;
                site.reason = Reason::Limit(Limit::NotAnalysed {
                    what: u.what.clone(),
                    at: u.at,
                });
                site.shown = Default::default();
                parsed.push((f.array.clone(), site));
            }
        }
        for (at, needle) in &u.mentions {
            let inside = parsed
                .iter()
                .any(|(_, s)| s.span.start <= *at && *at < s.span.end);
            if !inside {
                let (array, site) = mention(text, *at, needle, u);
                add(array, site);
            }
        }
        for (array, site) in parsed {
            add(array, site);
        }
        for (_, sites) in &mut by_array {
            sites.sort_by_key(|s| s.span.start);
        }
        let name = u
            .name
            .clone()
            .unwrap_or_else(|| "(not analysed)".to_string());
        for (array, sites) in by_array {
            findings.push(Finding {
                function: name.clone(),
                display: name.clone(),
                function_span: Span::default(),
                array,
                field: None,
                class: Class::Manual,
                descr_set: false,
                reason: sites[0].reason.clone(),
                evidence: Vec::new(),
                sites,
                acknowledged: false,
                resolved: None,
                // Reported, never edited: not even a TODO goes there.
                parse_error: true,
                rewrite: Vec::new(),
                exit_fixes: Vec::new(),
                function_body: Span::new(u.region.start, u.region.end),
                spelled: Vec::new(),
                per_config: false,
                internal: None,
            });
        }
    }
    findings
}

/// One mention of a shape source as a site: the source and its argument
/// (`PyArray_DIMS(a)`), and the array it names, when it is that simple.
fn mention(text: &str, at: usize, needle: &str, u: &Unreadable) -> (String, Site) {
    let after = &text[at + needle.len()..];
    let arg = after
        .strip_prefix('(')
        .and_then(|a| a.split_once(')'))
        .map(|(inner, _)| inner.trim());
    let simple =
        arg.filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let end = match (simple, after.find(')')) {
        (Some(_), Some(close)) => at + needle.len() + close + 1,
        _ => at + needle.len(),
    };
    let stmt_start = line_start(text, at);
    let stmt_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let kind = if needle.contains("STRIDES") {
        Kind::Strides
    } else {
        Kind::Dims
    };
    let site = Site {
        span: Span::new(at, end.min(text.len())),
        stmt: Span::new(stmt_start, stmt_end),
        kind,
        role: Role::Write,
        class: Class::Manual,
        reason: Reason::Limit(Limit::NotAnalysed {
            what: u.what.clone(),
            at: u.at,
        }),
        branch: None,
        shown: Default::default(),
    };
    (simple.unwrap_or("?").to_string(), site)
}
