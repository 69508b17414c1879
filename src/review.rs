//! `--interactive`: each planned change shown — its finding, reason and
//! diff — then accepted, skipped, or the rest skipped, like `git add -p`.
//! The answers become `--only` selectors, so what is then written (by
//! `--apply`, `--commit`, `--patch-dir` or printed by `--dry-run`) is
//! exactly what `--only` of the accepted findings gives.

use std::io::{BufRead, Write};

use crate::edit::Patch;
use crate::plan::Only;
use crate::render::diff;
use crate::scan::Scan;
use crate::verify::FilePlan;

const HELP: &str = "y - accept this change\n\
                    n - skip this change\n\
                    q - quit; skip this change and every one after it\n\
                    ? - show the finding's sites, then this help\n";

/// Ask about every planned change; the selectors of the accepted ones.
/// End of input counts as `q`.
pub fn review(
    scan: &Scan,
    plans: &[FilePlan],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    color: bool,
) -> std::io::Result<Vec<Only>> {
    let total: usize = plans
        .iter()
        .filter(|p| p.checked.is_some())
        .map(|p| p.changes.len())
        .sum();
    let mut accepted = Vec::new();
    let mut n = 0;
    for (file, plan) in scan.files.iter().zip(plans) {
        if plan.checked.is_none() {
            continue;
        }
        for change in &plan.changes {
            n += 1;
            let f = &file.findings[change.findings[0]];
            let line = f.sites.first().map_or(1, |s| s.shown.line);
            let name = crate::quote::visible(&crate::quote::path(&file.rel)).into_owned();
            writeln!(
                out,
                "{name}:{line}: {} {}: {}: {}",
                f.class.as_str(),
                f.display,
                f.array,
                f.reason.text(f.cx(&file.lines))
            )?;
            let after = Patch::new(change.edits.clone())
                .map(|p| p.apply(&file.text))
                .unwrap_or_else(|_| file.text.clone());
            let d = diff::unified(&file.rel, &file.text, &after);
            write!(out, "{}", diff::display(&d, color, true))?;
            loop {
                write!(out, "({n}/{total}) Apply this change [y,n,q,?]? ")?;
                out.flush()?;
                let mut answer = String::new();
                if input.read_line(&mut answer)? == 0 {
                    writeln!(out)?;
                    return Ok(accepted);
                }
                match answer.trim() {
                    "y" | "Y" => {
                        accepted.push(Only::Line {
                            file: file.rel.clone(),
                            line,
                        });
                        break;
                    }
                    "n" | "N" => break,
                    "q" | "Q" => return Ok(accepted),
                    "?" => {
                        for s in f.sites.iter() {
                            writeln!(
                                out,
                                "    {}:{} {} {}  -- {}",
                                s.shown.line,
                                s.shown.column,
                                s.role.as_str(),
                                crate::quote::visible(&s.shown.text),
                                s.reason.text(f.cx(&file.lines))
                            )?;
                        }
                        write!(out, "{HELP}")?;
                    }
                    _ => write!(out, "{HELP}")?,
                }
            }
        }
    }
    Ok(accepted)
}
