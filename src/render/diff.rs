//! Unified diffs through `similar`, in the shape `git apply` and `patch -p1`
//! take: `a/`/`b/` paths (quoted like git's when a name needs it), 3 lines
//! of context, hunk headers carrying the enclosing function like git's,
//! "\ No newline at end of file". The diff holds the file's bytes exactly:
//! only on a terminal are control characters shown escaped.

use std::borrow::Cow;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

use crate::quote;

/// The diff of one file, or an empty string when nothing changed.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .diff_lines(old, new);
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let (a, b) = (quote::prefixed("a/", path), quote::prefixed("b/", path));
    // Like git: a name with a space ends in a tab on the ---/+++ lines, for GNU patch.
    let tab = if path.contains(' ') { "\t" } else { "" };
    let mut out = format!("diff --git {a} {b}\n--- {a}{tab}\n+++ {b}{tab}\n");
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let context = funcname(&old_lines, old_range.start);
        let _ = writeln!(
            out,
            "@@ -{} +{} @@{}",
            range(old_range.start, old_range.len()),
            range(new_range.start, new_range.len()),
            context.map_or(String::new(), |c| format!(" {c}"))
        );
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                let value = change.value();
                out.push(sign);
                out.push_str(value);
                if !value.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// `start,len` of a hunk side, 1-based; an empty side names the line before.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{}", start + 1, len),
    }
}

/// git's default function context: the nearest line above the hunk that
/// starts with a letter, `_` or `$`, cut to 80 bytes.
fn funcname(lines: &[&str], hunk_start: usize) -> Option<String> {
    lines[..hunk_start]
        .iter()
        .rev()
        .find(|l| l.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$'))
        .map(|l| {
            let l = l.trim_end();
            let mut end = l.len().min(80);
            while !l.is_char_boundary(end) {
                end -= 1;
            }
            l[..end].to_string()
        })
}

/// A diff as printed. Into a file or pipe it is exactly its bytes (a
/// patch must apply); on a terminal, control characters in names and
/// source are shown escaped. Colour is added only when `color` is on.
pub fn display(diff: &str, color: bool, terminal: bool) -> Cow<'_, str> {
    if !color && !terminal {
        return Cow::Borrowed(diff);
    }
    let header = Style::new().bold();
    let hunk = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let del = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let add = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let mut out = String::with_capacity(diff.len() + 256);
    for line in diff.split_inclusive('\n') {
        let style = if !color {
            Style::new()
        } else if line.starts_with("diff ") || line.starts_with("--- ") || line.starts_with("+++ ")
        {
            header
        } else if line.starts_with("@@") {
            hunk
        } else if line.starts_with('-') {
            del
        } else if line.starts_with('+') {
            add
        } else {
            Style::new()
        };
        let body = line.trim_end_matches('\n');
        let body = if terminal {
            quote::visible(body)
        } else {
            Cow::Borrowed(body)
        };
        let _ = write!(out, "{style}{body}{style:#}");
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_headers_carry_the_function() {
        let old = "int\nf(void)\n{\n    a;\n    b;\n    c;\n    d;\n    e;\n}\n";
        let new = old.replace("    d;\n", "    D;\n");
        let d = unified("x.c", old, &new);
        assert!(d.starts_with("diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n"));
        assert!(d.contains("@@ -4,6 +4,6 @@ f(void)\n"), "{d}");
        assert!(d.contains("-    d;\n+    D;\n"));
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let d = unified("x.c", "a\nb", "a\nc");
        assert!(
            d.contains("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"),
            "{d}"
        );
    }

    #[test]
    fn names_are_quoted_and_bytes_kept() {
        let d = unified("a b/n\nl.c", "x\x1b[1m\n", "y\x1b[1m\x7f\n");
        assert!(
            d.starts_with(
                "diff --git \"a/a b/n\\nl.c\" \"b/a b/n\\nl.c\"\n--- \"a/a b/n\\nl.c\"\t\n"
            ),
            "{d}"
        );
        assert!(d.contains("+y\x1b[1m\x7f\n"), "{d}");
        assert_eq!(display(&d, false, false), d);
        let shown = display(&d, false, true);
        assert!(shown.contains("+y\\x1b[1m\\x7f\n"), "{shown}");
        assert!(!shown.contains('\x1b'), "{shown}");
    }

    #[test]
    fn no_change_no_diff() {
        assert_eq!(unified("x.c", "a\n", "a\n"), "");
    }
}
