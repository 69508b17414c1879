//! Unified diffs through `similar`, in the shape `git apply` and `patch -p1`
//! take: `a/`/`b/` paths (quoted like git's when a name needs it), 3 lines
//! of context, hunk headers carrying the enclosing function like git's,
//! "\ No newline at end of file". The diff holds the file's bytes exactly:
//! only on a terminal are control characters shown escaped.

use std::borrow::Cow;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

use crate::edit::{Edit, Patch};
use crate::quote;
use crate::span::LineIndex;

/// The diff of one file, or an empty string when nothing changed.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .diff_lines(old, new);
    let mut out = header(path);
    let whole = Region {
        start: 0,
        end: old.len(),
        line: 0,
    };
    hunks(&mut out, &diff, old, whole);
    out
}

/// The `diff --git` and `---`/`+++` lines: paths quoted like git's when a
/// name needs it, and (like git) a tab after a name with a space, for GNU
/// patch.
fn header(path: &str) -> String {
    let (a, b) = (quote::prefixed("a/", path), quote::prefixed("b/", path));
    let tab = if path.contains(' ') { "\t" } else { "" };
    format!("diff --git {a} {b}\n--- {a}{tab}\n+++ {b}{tab}\n")
}

/// Unchanged lines kept on each side of a patch's edits when only the
/// lines around them are diffed: three of context and one to spare.
const SPARE: usize = 4;

/// The diff of `patch` applied to `old`, computed on the lines around its
/// edits only: a file with thousands of findings gets a diff per finding,
/// and a whole-file diff for each would be quadratic. The result is always
/// the whole file's diff: when the diff of the region reaches into the
/// lines kept to spare (it placed a change elsewhere than the edit, as it
/// may among repeated lines), the whole file is diffed instead.
pub fn unified_patch(path: &str, old: &str, patch: &Patch, lines: &LineIndex) -> String {
    let edits = patch.edits();
    let (Some(first), Some(last)) = (edits.first(), edits.last()) else {
        return String::new();
    };
    let lo = lines_back(old, first.range.start, SPARE);
    let hi = lines_forward(old, last.range.end, SPARE);
    let shifted: Vec<Edit> = edits
        .iter()
        .map(|e| Edit::replace(e.range.start - lo..e.range.end - lo, e.content.clone()))
        .collect();
    let region_old = &old[lo..hi];
    let region_new = match Patch::new(shifted) {
        Ok(p) => p.apply(region_old),
        Err(_) => return unified(path, old, &patch.apply(old)),
    };
    if region_old == region_new {
        return String::new();
    }
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .diff_lines(region_old, &region_new);
    let ops = diff.ops();
    let spare = |op: Option<&similar::DiffOp>, at_edge: bool| {
        at_edge
            || op.is_some_and(|op| {
                op.tag() == similar::DiffTag::Equal && op.old_range().len() >= SPARE
            })
    };
    if !spare(ops.first(), lo == 0) || !spare(ops.last(), hi == old.len()) {
        return unified(path, old, &patch.apply(old));
    }
    let mut out = header(path);
    let line = lines.line(lo) - 1;
    hunks(
        &mut out,
        &diff,
        old,
        Region {
            start: lo,
            end: hi,
            line,
        },
    );
    out
}

/// The part of the file diffed: its bytes and its first line (0-based).
#[derive(Clone, Copy)]
struct Region {
    start: usize,
    end: usize,
    line: usize,
}

/// The start of the line `n` lines above the one holding `pos`.
fn lines_back(text: &str, pos: usize, n: usize) -> usize {
    let mut at = crate::span::line_start(text, pos);
    for _ in 0..n {
        if at == 0 {
            break;
        }
        at = crate::span::line_start(text, at - 1);
    }
    at
}

/// The end (after its newline) of the line `n` lines below the one holding
/// the byte before `pos` (the last byte an edit touches).
fn lines_forward(text: &str, pos: usize, n: usize) -> usize {
    let b = text.as_bytes();
    let mut at = pos;
    if at > 0 && b[at - 1] == b'\n' {
        // The edit ends with its line.
    } else {
        at = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i + 1);
    }
    for _ in 0..n {
        at = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i + 1);
    }
    at
}

/// The hunks of a diff of the text of `file` from `region` on.
fn hunks(out: &mut String, diff: &TextDiff<'_, '_, str>, file: &str, region: Region) {
    let old_text = &file[region.start..region.end];
    let mut starts = vec![region.start];
    starts.extend(memchr::memchr_iter(b'\n', old_text.as_bytes()).map(|i| region.start + i + 1));
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let at = starts.get(old_range.start).copied().unwrap_or(region.end);
        let context = funcname(file, at);
        let _ = writeln!(
            out,
            "@@ -{} +{} @@{}",
            range(region.line + old_range.start, old_range.len()),
            range(region.line + new_range.start, new_range.len()),
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
}

/// `start,len` of a hunk side, 1-based; an empty side names the line before.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{}", start + 1, len),
    }
}

/// git's default function context: the nearest line above the hunk (which
/// starts at byte `hunk`) that starts with a letter, `_` or `$`, cut to 80
/// bytes, trailing blanks dropped (after the cut, as git does).
fn funcname(text: &str, hunk: usize) -> Option<String> {
    text[..hunk]
        .split_inclusive('\n')
        .rev()
        .find(|l| l.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$'))
        .map(|l| {
            let l = l.trim_end();
            let mut end = l.len().min(80);
            while !l.is_char_boundary(end) {
                end -= 1;
            }
            l[..end].trim_end().to_string()
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
    fn a_patch_is_diffed_around_its_edits_as_in_the_whole_file() {
        let mut old = String::from("int\nf(void)\n{\n");
        for i in 0..40 {
            old.push_str(&format!("    a{i};\n"));
        }
        old.push_str("    x;\n    x;\n    x;\n    x;\n    x;\n    x;\n}\n");
        let at = |s: &str| old.find(s).unwrap();
        let cases = [
            vec![Edit::replace(at("a20") + 4..at("a20") + 7, "B;")],
            vec![
                Edit::insert(at("    a30"), "    new;\n"),
                Edit::delete(at("    a33")..at("    a34")),
            ],
            // A repeated line: the diff may place the deletion elsewhere.
            vec![Edit::delete(at("    x;")..at("    x;") + 7)],
            vec![Edit::insert(0, "/* top */\n")],
            vec![Edit::insert(old.len(), "tail\n")],
        ];
        for edits in cases {
            let patch = Patch::new(edits).unwrap();
            let whole = unified("x.c", &old, &patch.apply(&old));
            let lines = LineIndex::new(&old);
            assert_eq!(unified_patch("x.c", &old, &patch, &lines), whole);
        }
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
