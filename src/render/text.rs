//! The text report: one line per finding (`file:line:col: class CODE:
//! function: array: reason`) followed by its sites, then a summary line.
//! Names are quoted like git's and control characters from names and
//! source shown escaped: the report is for people, and a file must not be
//! able to rewrite their screen or forge report lines.

use std::borrow::Cow;
use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::report::{counts, Report};
use crate::analyze::Class;
use crate::plan::ChangeKind;
use crate::quote;

/// A file name as the report shows it.
fn name(file: &str) -> String {
    quote::visible(&quote::path(file)).into_owned()
}

/// Source text or a reason, with control characters escaped.
fn text(s: &str) -> Cow<'_, str> {
    quote::visible(s)
}

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
        let ack = match (&f.resolved, f.acknowledged) {
            (Some(how), _) => format!(" (resolved: held under {})", text(how)),
            (None, true) => " (acknowledged)".to_string(),
            (None, false) => String::new(),
        };
        let style = class_style(f.class);
        writeln!(
            out,
            "{bold}{}:{}:{}{bold:#}: {style}{}{style:#} {}{ack}: {}: {}: {}",
            name(&f.file),
            first.line,
            first.column,
            f.class.as_str(),
            f.code,
            text(&f.function),
            text(&f.array),
            text(&f.reason)
        )?;
        for s in &f.sites {
            // A site's reason is shown when it adds to the finding's.
            let mut reason = if s.reason == f.reason {
                String::new()
            } else {
                format!("  {dim}-- {}{dim:#}", text(&s.reason))
            };
            if let Some(b) = &s.seen_with {
                reason.push_str(&format!("  {dim}(seen with {}){dim:#}", text(b)));
            }
            // A field beyond the shape storage is named on the line.
            let field = if s.kind.is_storage() {
                String::new()
            } else {
                format!("[{}] ", s.kind.as_str())
            };
            writeln!(
                out,
                "    {}:{} {:<7} {:<7} {field}{}{reason}",
                s.line,
                s.column,
                s.role.as_str(),
                s.class.as_str(),
                text(&s.text),
            )?;
        }
    }
    for s in &report.skipped {
        writeln!(out, "dims-fix: {}: {}", name(&s.file), text(&s.reason))?;
    }
    for s in &report.not_analysed {
        writeln!(out, "dims-fix: {}: {}", name(&s.file), text(&s.reason))?;
    }
    let st = &report.stats;
    for h in &st.cpp_headers {
        writeln!(
            out,
            "dims-fix: {}: a .h read as C++ (its content is C++: `template`, `namespace`, \
             `class`, `::` ...); the other .h files were read as C",
            name(h)
        )?;
    }
    for p in &st.parse_failures {
        let within = if p.function.is_empty() {
            String::new()
        } else {
            format!(" in {}", text(&p.function))
        };
        writeln!(
            out,
            "dims-fix: {}:{}:{}: parse error{within} (judged locally: it changes only a finding it overlaps)",
            name(&p.file),
            p.line,
            p.column
        )?;
    }
    let [fresh, rewrite, lock, manual] = counts(report);
    let n = report.findings.len();
    let a = &st.accounting;
    writeln!(
        out,
        "dims-fix: {n} finding{} ({rewrite} rewrite, {lock} lock, {manual} manual, {fresh} fresh); \
         {} mention{} of a shape source ({} read, {} at sites, {} not analysed); \
         {} file{} seen{}, {} parsed, {} skipped{}, {} ms",
        if n == 1 { "" } else { "s" },
        a.mentions,
        if a.mentions == 1 { "" } else { "s" },
        a.read,
        a.at_sites,
        a.not_analysed,
        st.files_seen,
        if st.files_seen == 1 { "" } else { "s" },
        if st.cpp_files > 0 {
            format!(" ({} C++)", st.cpp_files)
        } else {
            String::new()
        },
        st.files_parsed,
        report.skipped.len(),
        passed_over(report),
        st.elapsed_ms
    )
}

/// What to do next, as the report's closing lines: the planned changes
/// and the command that writes them (dry run), and the manual findings
/// left to review.
pub fn next_steps(dry_run: bool, changes: &[ChangeKind], report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let count = |kind: ChangeKind| changes.iter().filter(|&&k| k == kind).count();
    let parts: Vec<String> = [
        (ChangeKind::Rewrite, "rewrite"),
        (ChangeKind::ExitFix, "exit fix"),
        (ChangeKind::LockTodo, "lock TODO"),
        (ChangeKind::ManualTodo, "manual TODO"),
    ]
    .iter()
    .filter_map(|&(kind, name)| {
        let n = count(kind);
        let plural = if name.ends_with('x') { "es" } else { "s" };
        (n > 0).then(|| format!("{n} {name}{}", if n == 1 { "" } else { plural }))
    })
    .collect();
    if dry_run && !parts.is_empty() {
        lines.push(format!(
            "dims-fix: {} planned: run with --apply to write them, or --commit to commit them",
            parts.join(", ")
        ));
    }
    let manual: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.class == Class::Manual && !f.acknowledged)
        .map(|f| f.code)
        .collect();
    if let Some(code) = manual.first() {
        let n = manual.len();
        lines.push(format!(
            "dims-fix: {n} manual finding{} to review by hand (`dims-fix --explain {code}` says why); \
             mark a reviewed site with /* dims-fix: allow(manual) why */",
            if n == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// What the walk passed over, for the summary: "; not read: 120 by name, 2 by ignore rules, 4 hidden (--hidden)" (empty when
/// nothing).
fn passed_over(report: &Report) -> String {
    let st = &report.stats;
    let p = &st.passed_over;
    let mut parts = Vec::new();
    if p.extension > 0 {
        parts.push(format!("{} by name", p.extension));
    }
    if p.ignore_rule > 0 {
        parts.push(format!("{} by ignore rules", p.ignore_rule));
    }
    if p.hidden > 0 {
        parts.push(format!("{} hidden (--hidden)", p.hidden));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; not read: {}", parts.join(", "))
    }
}
