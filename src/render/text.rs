//! The text report: one line per finding (`file:line:col: class: function:
//! array: reason`) followed by its sites, then a summary line.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::report::{counts, Report};
use crate::analyze::Class;

fn class_style(class: Class) -> Style {
    let color = match class {
        Class::Rewrite => AnsiColor::Green,
        Class::Lock => AnsiColor::Yellow,
        Class::Manual => AnsiColor::Red,
        Class::Fresh => AnsiColor::Cyan,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// Write the report to `out` (an `anstream` stream strips styles when
/// colour is off).
pub fn write(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let dim = Style::new().dimmed();
    let bold = Style::new().bold();
    for f in &report.findings {
        let first = &f.sites[0];
        let ack = if f.acknowledged {
            " (acknowledged)"
        } else {
            ""
        };
        let style = class_style(f.class);
        writeln!(
            out,
            "{bold}{}:{}:{}{bold:#}: {style}{}{style:#}{ack}: {}: {}: {}",
            f.file,
            first.line,
            first.column,
            f.class.as_str(),
            f.function,
            f.array,
            f.reason
        )?;
        for s in &f.sites {
            writeln!(
                out,
                "    {}:{} {:<7} {:<5} {}  {dim}-- {}{dim:#}",
                s.line,
                s.column,
                role_name(s.role),
                s.class.as_str(),
                s.text,
                s.reason
            )?;
        }
    }
    for s in &report.skipped {
        writeln!(out, "dims-fix: {}: {}", s.file, s.reason)?;
    }
    let [fresh, rewrite, lock, manual] = counts(report);
    let st = &report.stats;
    writeln!(
        out,
        "dims-fix: {} findings ({rewrite} rewrite, {lock} lock, {manual} manual, {fresh} fresh); \
         {} files seen, {} parsed, {} skipped, {} ms",
        report.findings.len(),
        st.files_seen,
        st.files_parsed,
        report.skipped.len(),
        st.elapsed_ms
    )
}

fn role_name(role: crate::analyze::Role) -> &'static str {
    match role {
        crate::analyze::Role::Write => "write",
        crate::analyze::Role::Restore => "restore",
        crate::analyze::Role::Pointer => "pointer",
    }
}
