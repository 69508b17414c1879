//! Verification: every planned result is analysed again before it is
//! shown or written (DESIGN §4.5): it must parse as cleanly as the
//! original, and a second run must find nothing left to do for the
//! changed findings. A plan that fails is refused, with the reason, and
//! its file left untouched.

mod broken;
mod comments;
pub mod invariants;
pub mod synth;

use std::collections::HashMap;

use rayon::prelude::*;

use crate::analyze::reason::Code;
use crate::analyze::summary::Summaries;
use crate::analyze::{Finding, Kind};
use crate::edit::{Edit, Patch};
use crate::error::Error;
use crate::plan::{self, Change, ChangeKind, PlanOptions};
use crate::scan::{guarded, reanalyze, Reread, Scan, ScanOptions, ScannedFile};
use crate::templates::Templates;

/// What was planned for one file of the scan.
pub struct FilePlan {
    pub changes: Vec<Change>,
    /// The edits of every change, when there are changes and their result
    /// passed the checks. The result itself is made again where it is
    /// needed ([`FilePlan::new_text`]): a scan of many files with TODOs to
    /// add would otherwise hold each file twice.
    pub checked: Option<Patch>,
    /// Why the file is left untouched, when its plan failed a check.
    pub refused: Option<String>,
}

impl FilePlan {
    /// The checked result of the plan for a file whose text is `text`.
    pub fn new_text(&self, text: &str) -> Option<String> {
        self.checked.as_ref().map(|p| p.apply(text))
    }
}

/// Plan and check every file, in parallel.
pub(crate) fn plan_and_check(
    scan: &Scan,
    opts: &ScanOptions,
    plan_opts: &PlanOptions,
    templates: &Templates,
) -> Result<Vec<FilePlan>, Error> {
    // One file per task, as in the scan's parses.
    scan.files
        .par_iter()
        .with_max_len(1)
        .map(|file| {
            // A panic while planning one file refuses that file only.
            let planned = guarded(&file.rel, || {
                Ok(plan_file(scan, file, opts, plan_opts, templates))
            });
            match planned {
                Ok(r) => r,
                Err(skip) => Ok(FilePlan {
                    changes: Vec::new(),
                    checked: None,
                    refused: Some(skip.reason),
                }),
            }
        })
        .collect()
}

/// Plan one file's changes and check the result.
fn plan_file(
    scan: &Scan,
    file: &ScannedFile,
    opts: &ScanOptions,
    plan_opts: &PlanOptions,
    templates: &Templates,
) -> Result<FilePlan, Error> {
    let changes = plan::plan(file, plan_opts, templates)?;
    if changes.is_empty() {
        return Ok(FilePlan {
            changes,
            checked: None,
            refused: None,
        });
    }
    let edits = changes
        .iter()
        .flat_map(|c| c.edits.iter().cloned())
        .collect();
    let checked = Patch::new(edits)
        .map_err(|e| format!("internal error: {e}; file left untouched"))
        .and_then(|patch| {
            let new = patch.apply(&file.text);
            verify(file, &changes, &new, opts, &scan.summaries)
                .map(|()| patch)
                .map_err(|refusal| refusal.to_string())
        });
    Ok(match checked {
        Ok(patch) => FilePlan {
            changes,
            checked: Some(patch),
            refused: None,
        },
        Err(why) => FilePlan {
            changes,
            checked: None,
            refused: Some(why),
        },
    })
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

impl Refusal {
    /// A second run does not see the TODO planned for `f`.
    fn todo_unseen(f: &Finding) -> Refusal {
        Refusal::Unfinished(format!(
            "a second run does not see the TODO for {} in {}",
            f.array, f.function
        ))
    }
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
    file: &ScannedFile,
    changes: &[Change],
    new_text: &str,
    opts: &ScanOptions,
    summaries: &Summaries,
) -> Result<(), Refusal> {
    if let Some(checked) = comments::comment_lines_only(file, changes, new_text, opts) {
        return checked;
    }
    let edits: Vec<&Edit> = changes.iter().flat_map(|c| &c.edits).collect();
    // Where the edits moved a position of the original.
    let shifts = Shifts::new(edits.iter().copied());
    let moved = |pos: usize| shifts.moved(pos);
    let after = if file.parse_errors > 0 {
        broken::compare(file, changes, &edits, new_text, (opts, summaries), &shifts)?
    } else {
        // Only the functions a change is in are read again: every function
        // is parsed alone, so one no change is in is the original's text
        // and reads as it did.
        let ranges = ranges_after(&edits);
        let after = reanalyze(
            opts,
            summaries,
            &file.path,
            new_text,
            &ranges,
            Reread::Changed,
        );
        if after.errors > 0 {
            return Err(Refusal::Reparse {
                before: 0,
                after: after.errors,
            });
        }
        after.findings
    };
    // The findings of the result by place, so each change looks at its own.
    let mut by_place: HashMap<Place, Vec<&Finding>> = HashMap::new();
    for f in &after {
        by_place
            .entry(Place::of(f, f.function_body.start))
            .or_default()
            .push(f);
    }
    for change in changes {
        for &i in &change.findings {
            let before = &file.findings[i];
            let here = Place::of(before, moved(before.function_body.start));
            let left = by_place.get(&here).into_iter().flatten().copied();
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
                ChangeKind::ExitFix => {
                    let skipped = |f: &Finding| {
                        f.reason.code() == Code::RestoreSkipped
                            || f.sites
                                .iter()
                                .any(|s| s.reason.code() == Code::RestoreSkipped)
                    };
                    if left.clone().count() == 0 || left.clone().any(skipped) {
                        return Err(Refusal::Unfinished(format!(
                            "a second run still finds an exit that skips the restore of {}'s \
                             {} in {}",
                            before.array,
                            before.field.map_or("shape", |k| k.noun()),
                            before.function
                        )));
                    }
                }
                ChangeKind::LockTodo | ChangeKind::ManualTodo => {
                    if left.clone().count() == 0 || left.clone().any(|f| !f.acknowledged) {
                        return Err(Refusal::todo_unseen(before));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The edits in the order [`Patch::new`] applies them (an insertion
/// before a replacement at the same place).
fn in_order<'e>(edits: &[&'e Edit]) -> Vec<&'e Edit> {
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| e.apply_order());
    sorted
}

/// Where the edits are in the original text, in order (starts and ends
/// both ascending).
fn ranges_before(edits: &[&Edit]) -> Vec<std::ops::Range<usize>> {
    in_order(edits).iter().map(|e| e.range.clone()).collect()
}

/// Where the edits' contents are in the edited text, in order.
fn ranges_after(edits: &[&Edit]) -> Vec<std::ops::Range<usize>> {
    let sorted = in_order(edits);
    let mut delta = 0isize;
    sorted
        .iter()
        .map(|e| {
            let start = e.range.start.saturating_add_signed(delta);
            delta += e.content.len() as isize - e.range.len() as isize;
            start..start + e.content.len()
        })
        .collect()
}

/// Where the edits of a plan move positions of the original: the net
/// length change of the edits ending at or before each position, found by
/// binary search.
struct Shifts {
    /// Edit ends, sorted, with the net change of every edit up to each.
    ends: Vec<(usize, isize)>,
}

impl Shifts {
    fn new<'e>(edits: impl Iterator<Item = &'e Edit>) -> Shifts {
        let mut deltas: Vec<(usize, isize)> = edits
            .map(|e| {
                (
                    e.range.end,
                    e.content.len() as isize - e.range.len() as isize,
                )
            })
            .collect();
        deltas.sort_by_key(|d| d.0);
        let mut total = 0;
        let ends = deltas
            .into_iter()
            .map(|(end, delta)| {
                total += delta;
                (end, total)
            })
            .collect();
        Shifts { ends }
    }

    fn moved(&self, pos: usize) -> usize {
        let n = self.ends.partition_point(|&(end, _)| end <= pos);
        let delta = n.checked_sub(1).map_or(0, |i| self.ends[i].1);
        pos.saturating_add_signed(delta)
    }
}

/// A finding's place: function, array, field and where the body starts.
/// A finding of the result is the same as one of the original when its
/// place is the original's with the body start moved by the edits (two
/// functions may share a name, or have none the parser could find, in one
/// file).
#[derive(PartialEq, Eq, Hash)]
struct Place<'f> {
    function: &'f str,
    array: &'f str,
    field: Option<Kind>,
    body: usize,
}

impl<'f> Place<'f> {
    fn of(f: &'f Finding, body: usize) -> Place<'f> {
        Place {
            function: &f.function,
            array: &f.array,
            field: f.field,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each edit's content, found in the edited text.
    #[test]
    fn ranges_after_find_each_content_in_the_result() {
        let text = "abcdefghij";
        let edits = [
            Edit {
                range: 6..8,
                content: "XYZ".to_string(),
            },
            Edit::insert(1, "12"),
            Edit {
                range: 3..5,
                content: String::new(),
            },
        ];
        let refs: Vec<&Edit> = edits.iter().collect();
        let new = Patch::new(edits.to_vec()).unwrap().apply(text);
        assert_eq!(new, "a12bcfXYZij");
        let after = ranges_after(&refs);
        assert_eq!(after, [1..3, 5..5, 6..9]);
        assert_eq!(&new[after[0].clone()], "12");
        assert_eq!(&new[after[2].clone()], "XYZ");
        assert_eq!(ranges_before(&refs), [1..1, 3..5, 6..8]);
        // A replacement listed before an insertion at its start: the
        // insertion comes first, as the patch applies them.
        let same = [
            Edit {
                range: 2..4,
                content: "Q".to_string(),
            },
            Edit::insert(2, "ins"),
        ];
        let refs: Vec<&Edit> = same.iter().collect();
        let new = Patch::new(same.to_vec()).unwrap().apply(text);
        assert_eq!(new, "abinsQefghij");
        assert_eq!(ranges_before(&refs), [2..2, 2..4]);
        assert_eq!(ranges_after(&refs), [2..5, 5..6]);
    }
}
