//! Verification: every planned result is analysed again before it is
//! shown or written (DESIGN §4.5): it must parse as cleanly as the
//! original, and a second run must find nothing left to do for the
//! changed findings. A plan that fails is refused, with the reason, and
//! its file left untouched.

pub mod invariants;
pub mod synth;

use rayon::prelude::*;

use crate::analyze::reason::Code;
use crate::analyze::summary::Summaries;
use crate::analyze::Finding;
use crate::edit::{Edit, Patch};
use crate::error::Error;
use crate::plan::{self, Change, ChangeKind, PlanOptions};
use crate::scan::{guarded, reanalyze, Scan, ScanOptions, ScannedFile};
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
    scan.files
        .par_iter()
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
        && after.field == before.field
        && after.function_body.start == moved(before.function_body.start)
}

/// The findings a change rewrites (they are meant to read differently).
fn rewritten<'f>(file: &'f ScannedFile, changes: &[Change]) -> Vec<&'f Finding> {
    changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::Rewrite | ChangeKind::ExitFix))
        .flat_map(|c| c.findings.iter().map(|&i| &file.findings[i]))
        .collect()
}
