//! Edits as plain values on byte ranges of the original text, checked for
//! overlap and applied in one forward pass.

use std::ops::Range;

use crate::analyze::summary::Summaries;
use crate::analyze::Finding;
use crate::plan::{Change, ChangeKind};
use crate::scan::{reanalyze, FileReport, ScanOptions};

/// Replace `range` of the original text with `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: String,
}

impl Edit {
    pub fn insert(at: usize, content: impl Into<String>) -> Edit {
        Edit {
            range: at..at,
            content: content.into(),
        }
    }

    pub fn delete(range: Range<usize>) -> Edit {
        Edit {
            range,
            content: String::new(),
        }
    }

    pub fn replace(range: Range<usize>, content: impl Into<String>) -> Edit {
        Edit {
            range,
            content: content.into(),
        }
    }

    fn is_insert(&self) -> bool {
        self.range.is_empty()
    }
}

/// Two edits touch the same bytes: a planner bug, never skipped silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edits overlap at bytes {first:?} and {second:?}")]
pub struct Overlap {
    pub first: Range<usize>,
    pub second: Range<usize>,
}

/// A set of non-overlapping edits, sorted by position. Insertions at the
/// same point keep the order they were planned in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    edits: Vec<Edit>,
}

impl Patch {
    pub fn new(mut edits: Vec<Edit>) -> Result<Patch, Overlap> {
        edits.sort_by_key(|e| (e.range.start, !e.is_insert(), e.range.end));
        for pair in edits.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let clash = if a.is_insert() || b.is_insert() {
                // An insertion strictly inside a replaced range.
                (b.is_insert() && a.range.start < b.range.start && b.range.start < a.range.end)
                    || (a.is_insert()
                        && b.range.start < a.range.start
                        && a.range.start < b.range.end)
            } else {
                b.range.start < a.range.end
            };
            if clash {
                return Err(Overlap {
                    first: a.range.clone(),
                    second: b.range.clone(),
                });
            }
        }
        Ok(Patch { edits })
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The text with every edit applied; bytes outside edits are copied.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 256);
        let mut pos = 0;
        for e in &self.edits {
            out.push_str(&text[pos..e.range.start]);
            out.push_str(&e.content);
            pos = e.range.end;
        }
        out.push_str(&text[pos..]);
        out
    }
}

/// Why a planned result was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The result has more ERROR/MISSING nodes than the original.
    Reparse { before: usize, after: usize },
    /// The original has parse errors, and after the change tree-sitter
    /// sees its functions differently (a finding is gone or moved).
    Unstable { errors: usize },
    /// A second run still finds work the change should have done.
    Unfinished(String),
}

/// "1 parse error", "3 parse errors".
fn parse_errors(n: usize) -> String {
    format!("{n} parse error{}", if n == 1 { "" } else { "s" })
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A file that already fails to parse can parse worse after an
            // edit: tree-sitter's recovery is not local. Not a bug of ours.
            Refusal::Reparse { before, after } if *before > 0 => write!(
                f,
                "the file already has {} and tree-sitter reads it with \
                 {after} after the planned change, so the change cannot be checked; file left \
                 untouched (fix the errors, or blank unknown macros with --ignore-macro, and \
                 run again)",
                parse_errors(*before)
            ),
            Refusal::Reparse { before, after } => write!(
                f,
                "internal error: the planned change failed its check (the result has {} where \
                 the original has {before}); file left untouched",
                parse_errors(*after)
            ),
            Refusal::Unstable { errors } => write!(
                f,
                "the file has {} and tree-sitter reads its functions \
                 differently after the planned change, so the change cannot be checked; file \
                 left untouched (fix the errors, or blank unknown macros with --ignore-macro, \
                 and run again)",
                parse_errors(*errors)
            ),
            Refusal::Unfinished(why) => write!(
                f,
                "internal error: the planned change failed its check ({why}); file left \
                 untouched"
            ),
        }
    }
}

/// Check a planned result before it is shown or written: it parses as
/// cleanly as the original, and a second run finds nothing left to do for
/// the changed findings (no rewrite site, no missing TODO).
pub fn verify(
    file: &FileReport,
    changes: &[Change],
    new_text: &str,
    opts: &ScanOptions,
    summaries: &Summaries,
) -> Result<(), Refusal> {
    let (after, errors) = reanalyze(opts, summaries, &file.path, new_text);
    if errors > file.parse_errors {
        return Err(Refusal::Reparse {
            before: file.parse_errors,
            after: errors,
        });
    }
    // Where the edits moved a position of the original.
    let edits: Vec<&Edit> = changes.iter().flat_map(|c| &c.edits).collect();
    let moved = |pos: usize| -> usize {
        let delta: isize = edits
            .iter()
            .filter(|e| e.range.end <= pos)
            .map(|e| e.content.len() as isize - e.range.len() as isize)
            .sum();
        pos.saturating_add_signed(delta)
    };
    // Compared with a second reading of the original, made the same way as
    // the reading of the result.
    if file.parse_errors > 0
        && !reads_the_same(
            &reanalyze(opts, summaries, &file.path, &file.text).0,
            &rewritten(file, changes),
            &after,
            &moved,
        )
    {
        return Err(Refusal::Unstable {
            errors: file.parse_errors,
        });
    }
    for change in changes {
        for &i in &change.findings {
            let before = &file.findings[i];
            let left = after.iter().filter(|f| same_place(before, f, &moved));
            match change.kind {
                ChangeKind::Rewrite => {
                    let kinds: Vec<_> = before.rewrite.iter().map(|r| r.kind).collect();
                    if left.flat_map(|f| &f.sites).any(|s| kinds.contains(&s.kind)) {
                        return Err(Refusal::Unfinished(format!(
                            "a second run still finds writes to {}'s shape in {}",
                            before.array, before.function
                        )));
                    }
                }
                ChangeKind::LockTodo | ChangeKind::ManualTodo => {
                    if left.clone().count() == 0 || left.clone().any(|f| !f.acknowledged) {
                        return Err(Refusal::Unfinished(format!(
                            "a second run does not see the TODO for {} in {}",
                            before.array, before.function
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// In a file that already has parse errors, tree-sitter's recovery is not
/// local: a comment inserted in one place can change how code elsewhere
/// reads, and a second run then says nothing about the change. It is
/// checked only when every finding it did not rewrite reads the same
/// afterwards: same class, same sites and statements where the edits moved
/// them, parsed or unparsed as before, and no finding gone or new.
fn reads_the_same(
    before: &[Finding],
    rewritten: &[&Finding],
    after: &[Finding],
    moved: &dyn Fn(usize) -> usize,
) -> bool {
    let same_reading = |b: &Finding, a: &Finding| {
        same_place(b, a, moved)
            && a.class == b.class
            && a.parse_error == b.parse_error
            && a.sites.len() == b.sites.len()
            && a.sites.iter().zip(&b.sites).all(|(x, y)| {
                x.kind == y.kind
                    && x.role == y.role
                    && x.class == y.class
                    && x.span.start == moved(y.span.start)
                    && x.stmt.start == moved(y.stmt.start)
            })
    };
    let was_rewritten = |b: &Finding| rewritten.iter().any(|r| same_place(r, b, &|p| p));
    let is_rewritten = |a: &Finding| rewritten.iter().any(|r| same_place(r, a, moved));
    let kept: Vec<&Finding> = before.iter().filter(|b| !was_rewritten(b)).collect();
    let mut unmatched: Vec<&Finding> = after.iter().filter(|a| !is_rewritten(a)).collect();
    for b in kept {
        match unmatched.iter().position(|a| same_reading(b, a)) {
            Some(i) => unmatched.swap_remove(i),
            None => return false,
        };
    }
    unmatched.is_empty()
}

/// Whether `after` is the finding `before` for the same array in the same
/// function, which starts where the edits moved it (two functions may share
/// a name, or have none the parser could find, in one file).
fn same_place(before: &Finding, after: &Finding, moved: &dyn Fn(usize) -> usize) -> bool {
    after.function == before.function
        && after.array == before.array
        && after.function_body.start == moved(before.function_body.start)
}

/// The findings a change rewrites (they are meant to read differently).
fn rewritten<'f>(file: &'f FileReport, changes: &[Change]) -> Vec<&'f Finding> {
    changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Rewrite)
        .flat_map(|c| c.findings.iter().map(|&i| &file.findings[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_one_forward_pass() {
        let text = "abcdef";
        let p = Patch::new(vec![
            Edit::replace(4..5, "E"),
            Edit::insert(0, ">"),
            Edit::delete(1..3),
        ])
        .unwrap();
        assert_eq!(p.apply(text), ">adEf");
    }

    #[test]
    fn rejects_overlaps() {
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::delete(2..4)]).is_err());
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::insert(1, "y")]).is_err());
        // Touching ranges and insertions at an edge are fine.
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::delete(3..4)]).is_ok());
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::insert(3, "y")]).is_ok());
    }

    #[test]
    fn insertions_at_one_point_keep_their_order() {
        let p = Patch::new(vec![Edit::insert(1, "1"), Edit::insert(1, "2")]).unwrap();
        assert_eq!(p.apply("ab"), "a12b");
    }
}
