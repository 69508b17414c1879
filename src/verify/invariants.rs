//! The invariants every planned change keeps, checked on one in-memory
//! source (used by the fuzz targets and the property tests): edits never
//! overlap, bytes outside them are unchanged, the result re-parses with no
//! new errors (the check that does without a second parse, for comment
//! lines, says what one says), and a second pass plans nothing.

use std::path::Path;

use super::{verify, Refusal};
use crate::analyze::Class;
use crate::edit::{Edit, Patch};
use crate::plan::{plan, PlanOptions};
use crate::scan::{scan_text, ScanOptions};
use crate::templates::Templates;

/// What a successful check saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Checked {
    pub findings: usize,
    pub changes: usize,
    /// The planned result, when there were changes.
    pub result: Option<String>,
}

/// The findings of `text` the tool would rewrite, as `function: array`.
pub fn rewrites(text: &str) -> Result<Vec<String>, String> {
    let (report, _) = scan_text(&ScanOptions::for_text(), Path::new("/input.c"), text)?;
    Ok(report
        .map(|file| {
            file.findings
                .iter()
                .filter(|f| f.class == Class::Rewrite)
                .map(|f| format!("{}: {}", f.function, f.array))
                .collect()
        })
        .unwrap_or_default())
}

/// Analyse, plan (TODOs at manual findings too), apply and re-check `text`.
pub fn check_source(text: &str) -> Result<Checked, String> {
    let opts = ScanOptions::for_text();
    let path = Path::new("/input.c");
    let (report, summaries) = scan_text(&opts, path, text)?;
    let Some(file) = report else {
        return Ok(Checked::default());
    };
    let templates = Templates::load(None).map_err(|e| e.to_string())?;
    let plan_opts = PlanOptions {
        todo_manual: true,
        ..PlanOptions::default()
    };
    let changes = plan(&file, &plan_opts, &templates).map_err(|e| e.to_string())?;
    let mut checked = Checked {
        findings: file.findings.len(),
        changes: changes.len(),
        result: None,
    };
    if changes.is_empty() {
        return Ok(checked);
    }
    let edits: Vec<Edit> = changes
        .iter()
        .flat_map(|c| c.edits.iter().cloned())
        .collect();
    let patch = Patch::new(edits).map_err(|e| format!("planner bug: {e}"))?;
    let new = patch.apply(text);
    unchanged_outside(text, &new, patch.edits())?;
    let verdict = verify(&file, &changes, &new, &opts, &summaries);
    // A plan of comment lines only is checked without parsing its result:
    // a second parse must say the same.
    let parse_all = ScanOptions {
        write_filter: false,
        ..ScanOptions::for_text()
    };
    let parsed = verify(&file, &changes, &new, &parse_all, &summaries);
    if verdict != parsed {
        return Err(format!(
            "the check without a second parse says {verdict:?}, a second parse {parsed:?}"
        ));
    }
    match verdict {
        Ok(()) => {}
        // The tool refuses such a file, saying why: nothing is written.
        Err(Refusal::Reparse { before, .. }) if before > 0 => return Ok(checked),
        Err(Refusal::Unstable { .. }) => return Ok(checked),
        Err(e) => return Err(format!("planned result fails its check: {e}")),
    }
    if let (Some(again), _) = scan_text(&opts, path, &new)? {
        let more = plan(&again, &plan_opts, &templates).map_err(|e| e.to_string())?;
        if !more.is_empty() {
            return Err(format!("a second pass plans {} more change(s)", more.len()));
        }
    }
    checked.result = Some(new);
    Ok(checked)
}

/// Every byte outside the edited ranges is where it was, in order.
fn unchanged_outside(old: &str, new: &str, edits: &[Edit]) -> Result<(), String> {
    let (mut at_old, mut at_new) = (0usize, 0usize);
    for e in edits {
        let keep = &old.as_bytes()[at_old..e.range.start];
        if new.as_bytes().get(at_new..at_new + keep.len()) != Some(keep) {
            return Err(format!(
                "bytes {at_old}..{} changed outside any edit",
                e.range.start
            ));
        }
        at_new += keep.len() + e.content.len();
        at_old = e.range.end;
    }
    if old.as_bytes()[at_old..] != new.as_bytes()[at_new.min(new.len())..] {
        return Err(format!("bytes from {at_old} changed outside any edit"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_case_holds() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/repeat-temporary-axis/input.c"
        ))
        .unwrap();
        let checked = check_source(&text).unwrap();
        assert_eq!((checked.findings, checked.changes), (1, 1));
        assert!(checked
            .result
            .unwrap()
            .contains("dims[axis] = old * times;"));
    }

    #[test]
    fn outside_bytes_are_checked() {
        let edits = [Edit::replace(2..3, "X")];
        assert!(unchanged_outside("abcd", "abXd", &edits).is_ok());
        assert!(unchanged_outside("abcd", "zbXd", &edits).is_err());
        assert!(unchanged_outside("abcd", "abXe", &edits).is_err());
    }
}
