//! What callees a function needs summaries of, which write, and merging summaries.

use std::collections::HashSet;

use crate::analyze::api::is_allocator;
use crate::analyze::summary::{FnSummary, Summaries};
use crate::analyze::{self, Facts};

/// A function that writes shape storage itself, or uses one of the tree's
/// shape-writing macros.
pub(super) fn writes_itself(f: &Facts, shape_macros: &HashSet<String>) -> bool {
    f.writes.iter().any(|w| !w.shape.param)
        || !f.meta.is_empty()
        || f.calls.iter().any(|c| shape_macros.contains(&c.callee))
}

/// A call argument a callee or macro of the tree might write through.
fn storage_arg(a: &analyze::facts::ArgInfo) -> bool {
    a.shape.as_ref().is_some_and(|s| !s.param)
        || a.element.as_ref().is_some_and(|(s, _, _)| !s.param)
        || a.field.is_some()
}

/// A function passing shape storage (or an ndarray field) to some call.
pub(super) fn passes_storage(f: &Facts) -> bool {
    f.calls.iter().any(|c| c.args.iter().any(storage_arg))
}

pub(super) fn storage_callees(f: &Facts) -> Vec<String> {
    let mut out: Vec<String> = f
        .calls
        .iter()
        .filter(|c| c.args.iter().any(storage_arg))
        .map(|c| c.callee.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a summary says `name` may write through an argument.
pub(super) fn writer(summaries: &Summaries, name: &str) -> bool {
    summaries
        .functions
        .get(name)
        .is_some_and(|s| !s.writes.is_empty())
        || summaries
            .macros
            .get(name)
            .is_some_and(|m| !m.assigns.is_empty() || !m.writes.is_empty())
        || summaries.prototypes.contains_key(name)
}

/// Names whose summaries a writing function needs: callees receiving
/// shape storage, an element of it or an ndarray field (may write it);
/// callees receiving an array that is written (may replace its metadata);
/// and calls whose results are arrays that are written, or whose metadata
/// is changed (may be new arrays).
pub(super) fn needed_by(f: &Facts) -> Vec<String> {
    let written: HashSet<&str> = f
        .writes
        .iter()
        .filter(|w| !w.shape.param)
        .map(|w| w.shape.array.as_str())
        .chain(f.meta.iter().map(|m| m.array.as_str()))
        .collect();
    let mut out: Vec<String> = f
        .calls
        .iter()
        .filter(|c| {
            c.args
                .iter()
                .any(|a| storage_arg(a) || a.object.as_deref().is_some_and(|o| written.contains(o)))
        })
        .map(|c| c.callee.clone())
        .collect();
    out.extend(
        f.var_mods
            .iter()
            .filter(|m| written.contains(m.name.as_str()))
            .filter_map(|m| m.value.as_ref()?.call.clone())
            .filter(|c| !is_allocator(c)),
    );
    out.sort();
    out.dedup();
    out
}

/// Add function summaries; a name defined twice (static functions in two
/// files) keeps the union of what either does, and is fresh only if both are.
pub(super) fn merge_summaries(into: &mut Summaries, new: Vec<(String, FnSummary)>) {
    for (name, s) in new {
        match into.functions.get_mut(&name) {
            None => {
                into.functions.insert(name, s);
            }
            Some(old) => {
                old.writes.extend(s.writes);
                old.writes.sort_unstable();
                old.writes.dedup();
                old.meta.extend(s.meta);
                old.meta.sort();
                old.meta.dedup();
                if old.fresh.is_some() && s.fresh.is_none() {
                    old.fresh = None;
                }
            }
        }
    }
}
