//! A reviewable series: the planned changes grouped into steps (one per
//! finding, per file, or one for all), each with its commit message and the
//! content of every file it touches before and after it; written as git
//! commits (`git`) or as numbered `git format-patch`-style files.

use std::path::PathBuf;

use serde::Serialize;

use crate::analyze::{Finding, Kind};
use crate::cli::Group;
use crate::edit::Patch;
use crate::error::Error;
use crate::plan::ChangeKind;
use crate::quote;
use crate::render::report::tool;
use crate::scan::{Scan, ScannedFile};
use crate::templates::Templates;
use crate::verify::FilePlan;

mod patch;

pub use patch::{check_patch_dir, git_date, write_patch_dir};

/// A file as one step of the series leaves it.
#[derive(Debug, Clone)]
pub struct StepFile {
    pub rel: String,
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// One commit of the series.
#[derive(Debug, Clone)]
pub struct Step {
    /// Subject line, blank line, body.
    pub message: String,
    pub files: Vec<StepFile>,
}

impl Step {
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

#[derive(Serialize)]
struct SiteCtx {
    file: String,
    line: usize,
    class: &'static str,
    role: &'static str,
    reason: String,
    code: &'static str,
}

#[derive(Serialize)]
struct ChangeCtx {
    kind: ChangeKind,
    file: String,
    function: String,
    arrays: Vec<String>,
    /// "shape", "strides": the fields the change is about.
    fields: Vec<&'static str>,
    descr_set: bool,
    sites: Vec<SiteCtx>,
}

#[derive(Serialize)]
struct MessageCtx {
    tool: String,
    /// The upstream report the series refers to.
    issue: &'static str,
    changes: Vec<ChangeCtx>,
    /// The distinct kinds of the changes, in the order `ChangeKind` lists them.
    kinds: Vec<ChangeKind>,
    files: Vec<String>,
    /// The files' base names, as a subject names them.
    names: Vec<String>,
}

/// The report the race is filed under upstream, as NumPy cites it.
pub const ISSUE: &str = "gh-28197";

/// Build the series from the checked plans, in file and position order.
pub fn build(
    scan: &Scan,
    plans: &[FilePlan],
    group: Group,
    templates: &Templates,
) -> Result<Vec<Step>, Error> {
    // (file, change) units of files whose plan passed its checks; the bug
    // fixes first (they are what gets backported), then the TODOs.
    let mut units: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.checked.is_some())
        .flat_map(|(fi, p)| (0..p.changes.len()).map(move |ci| (fi, ci)))
        .collect();
    units.sort_by_key(|&(fi, ci)| {
        !matches!(
            plans[fi].changes[ci].kind,
            ChangeKind::Rewrite | ChangeKind::ExitFix
        )
    });
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    for unit in units {
        let join = match (group, groups.last()) {
            (Group::All, Some(_)) => true,
            (Group::File, Some(last)) => last[0].0 == unit.0,
            _ => false,
        };
        match (join, groups.last_mut()) {
            (true, Some(last)) => last.push(unit),
            _ => groups.push(vec![unit]),
        }
    }
    let mut applied: Vec<Vec<usize>> = vec![Vec::new(); plans.len()];
    let mut steps = Vec::new();
    for members in groups {
        let mut files: Vec<usize> = members.iter().map(|(fi, _)| *fi).collect();
        files.dedup();
        let mut step_files = Vec::new();
        for &fi in &files {
            let file = &scan.files[fi];
            let before = text_with(file, &plans[fi], &applied[fi]);
            applied[fi].extend(members.iter().filter(|(f, _)| *f == fi).map(|(_, c)| *c));
            let after = text_with(file, &plans[fi], &applied[fi]);
            step_files.push(StepFile {
                rel: file.rel.clone(),
                path: file.path.clone(),
                before,
                after,
            });
        }
        let mut kinds: Vec<ChangeKind> = members
            .iter()
            .map(|&(fi, ci)| plans[fi].changes[ci].kind)
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let ctx = MessageCtx {
            tool: tool(),
            issue: ISSUE,
            changes: members
                .iter()
                .map(|&(fi, ci)| change_ctx(&scan.files[fi], &plans[fi], ci))
                .collect(),
            kinds,
            files: files
                .iter()
                .map(|&fi| quote::path(&scan.files[fi].rel).into_owned())
                .collect(),
            names: files
                .iter()
                .map(|&fi| {
                    let rel = &scan.files[fi].rel;
                    quote::path(rel.rsplit('/').next().unwrap_or(rel)).into_owned()
                })
                .collect(),
        };
        let message = tidy_message(&templates.render("commit.txt", &ctx)?);
        if message.trim().is_empty() {
            return Err(Error::Template {
                name: "commit.txt".to_string(),
                reason: "renders an empty commit message; it must give at least a subject line"
                    .to_string(),
            });
        }
        steps.push(Step {
            message,
            files: step_files,
        });
    }
    Ok(steps)
}

/// A file's text with the given changes of its plan applied.
fn text_with(file: &ScannedFile, plan: &FilePlan, changes: &[usize]) -> String {
    let edits = changes
        .iter()
        .flat_map(|&c| plan.changes[c].edits.iter().cloned())
        .collect();
    Patch::new(edits)
        .expect("a subset of checked, non-overlapping edits")
        .apply(&file.text)
}

fn change_ctx(file: &ScannedFile, plan: &FilePlan, ci: usize) -> ChangeCtx {
    let change = &plan.changes[ci];
    let findings: Vec<&Finding> = change.findings.iter().map(|&i| &file.findings[i]).collect();
    // Names quoted like git's: a newline in a name must not start a line
    // of the message (or, through `git am`, a patch of its own).
    let name = quote::path(&file.rel).into_owned();
    ChangeCtx {
        kind: change.kind,
        file: name.clone(),
        function: findings[0].display.clone(),
        arrays: findings.iter().map(|f| f.array.clone()).collect(),
        fields: fields(&findings),
        descr_set: findings.iter().any(|f| f.descr_set),
        sites: findings
            .iter()
            .flat_map(|f| f.sites.iter().map(move |s| (f, s)))
            .map(|(f, s)| SiteCtx {
                file: name.clone(),
                line: file.lines.line(s.span.start),
                class: s.class.as_str(),
                role: s.role.as_str(),
                reason: s.reason.text(f.cx(&file.lines)),
                code: s.reason.code().id(),
            })
            .collect(),
    }
}

/// The fields a change's sites write, as a message names them.
fn fields(findings: &[&Finding]) -> Vec<&'static str> {
    let mut kinds: Vec<Kind> = findings
        .iter()
        .flat_map(|f| f.sites.iter().map(|s| s.kind))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds.into_iter().map(Kind::noun).collect()
}

/// Lines `git am` (mailinfo) would take for the start of the patch.
fn starts_patch(line: &str) -> bool {
    line == "---"
        || line.starts_with("--- ")
        || line.starts_with("diff -")
        || line.starts_with("Index: ")
}

/// Subject, one blank line, body wrapped at 72 columns (list items with a
/// hanging indent), no trailing blanks, a final newline. A body line that
/// `git am` would read as the start of a patch is indented by a space.
fn tidy_message(raw: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let raw: Vec<String> = raw
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i > 0 && starts_patch(l) {
                format!(" {l}")
            } else {
                l.to_string()
            }
        })
        .collect();
    for (i, line) in raw.iter().map(|l| l.trim_end()).enumerate() {
        let blank = line.is_empty();
        if blank && (lines.is_empty() || lines.last().is_some_and(|l| l.is_empty())) {
            continue;
        }
        if i == 0 || line.chars().count() <= 72 {
            lines.push(line.to_string());
            continue;
        }
        let indent = if line.starts_with("- ") { "  " } else { "" };
        let options = textwrap::Options::new(72)
            .subsequent_indent(indent)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false);
        lines.extend(
            textwrap::wrap(line, options)
                .into_iter()
                .map(|l| l.into_owned()),
        );
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    format!("{}\n", lines.join("\n"))
}

/// Add a `Signed-off-by` trailer.
pub fn sign_off(message: &str, who: &str) -> String {
    let trailer = format!("Signed-off-by: {who}");
    if message.lines().any(|l| l == trailer) {
        return message.to_string();
    }
    format!("{}\n{trailer}\n", message.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_line_cannot_start_a_patch() {
        let m = tidy_message("S\n\nx\n---\ndiff --git a/R b/R\n--- a/R\n");
        assert_eq!(m, "S\n\nx\n ---\n diff --git a/R b/R\n --- a/R\n");
    }

    #[test]
    fn messages_are_tidied_and_signed_once() {
        let m = tidy_message("\n\nSubject  \n\n\n\nBody\n\n\n");
        assert_eq!(m, "Subject\n\nBody\n");
        let long = format!("S\n\n- {}\n", "word ".repeat(20));
        let wrapped = tidy_message(&long);
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 72),
            "{wrapped}"
        );
        assert!(
            wrapped.lines().nth(3).unwrap().starts_with("  word"),
            "{wrapped}"
        );
        let s = sign_off(&m, "A <a@b>");
        assert_eq!(s, "Subject\n\nBody\nSigned-off-by: A <a@b>\n");
        assert_eq!(sign_off(&s, "A <a@b>"), s);
    }
}
