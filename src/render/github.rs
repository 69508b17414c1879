//! GitHub Actions workflow commands (`--format github`): one annotation per
//! finding that needs attention (`::error file=…,line=…::message`), one
//! warning per file skipped. Values are escaped as the runner reads them,
//! so a name or reason cannot end a command early or start another.

use std::fmt::Write as _;

use super::report::Report;
use crate::analyze::Class;

/// A message: `%`, CR and LF escaped.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: also `:` and `,`, which end it.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(class: Class) -> &'static str {
    match class {
        Class::Rewrite => "error",
        Class::Lock | Class::Manual => "warning",
        Class::Fresh => "notice",
    }
}

/// The annotations, one line each. Acknowledged findings are left out,
/// as are fresh ones unless `report_fresh`.
pub fn annotations(report: &Report, report_fresh: bool) -> String {
    let mut out = String::new();
    for f in &report.findings {
        if f.acknowledged || (f.class == Class::Fresh && !report_fresh) {
            continue;
        }
        let first = &f.sites[0];
        let title = format!("{} {}: {}", f.code, f.class.as_str(), f.function);
        let mut message = format!("{}: {}: {}", f.function, f.array, f.reason);
        for s in &f.sites {
            let _ = write!(
                message,
                "\n{}:{} {}: {}",
                s.line,
                s.column,
                s.role.as_str(),
                s.text
            );
        }
        let _ = write!(message, "\n(dims-fix --explain {})", f.code);
        let _ = writeln!(
            out,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            command(f.class),
            property(&f.file),
            first.line,
            first.column,
            first.end_line,
            first.end_column,
            property(&title),
            data(&message)
        );
    }
    for n in report.notices() {
        // Workflow commands say `notice` where SARIF says `note`.
        let level = if n.level == "note" { "notice" } else { n.level };
        let line =
            n.at.map(|(line, column)| format!(",line={line},col={column}"))
                .unwrap_or_default();
        let _ = writeln!(
            out,
            "::{level} file={}{line},title=dims-fix::{}",
            property(&n.file),
            data(&n.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_end_a_command() {
        assert_eq!(data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
    }
}
