//! The check of a plan that only adds comment lines (TODOs), made without
//! parsing the result again.
//!
//! A compiler replaces a comment by a space after joining continued lines
//! (C11 5.1.1.2, phases 2 and 3). A line holding nothing but whole
//! comments, inserted where a line starts outside every comment, literal
//! and parenthesis of a function (read with its continued lines joined, as
//! a compiler reads it, and unjoined, as tree-sitter does, a continued
//! line being a blank, an escape or part of a `//` comment there), not
//! after a continued line, therefore adds only blanks between the same
//! tokens; preprocessing directives keep their lines. tree-sitter reads
//! comments as extras, which may stand between any two tokens: the tree
//! of the result is the original's, positions moved, with comment nodes
//! added, so it has no more errors than the original's and a second run
//! reads the same findings there. What is left to check is what a second run reads in
//! the comments: the TODOs. It is checked by the code a second run uses
//! ([`acknowledge`]), on the original findings of the changed functions
//! moved as the edits move them.
//!
//! Whatever the argument does not cover (a file with parse errors, an
//! edit that is not such an insertion, text the masking before parsing
//! could read differently, a trigraph, a C++ raw string) is checked by
//! parsing the result again, as is everything with `--parse-all`.

use std::collections::HashSet;

use super::{Refusal, Shifts};
use crate::analyze::ack::acknowledge;
use crate::analyze::reason::Evidence;
use crate::analyze::{Finding, Span};
use crate::plan::{Change, ChangeKind};
use crate::scan::{ScanOptions, ScannedFile};
use crate::source::lexical::continues;
use crate::source::tokens::{literal_closes, Lexer, Tok};
use crate::source::{is_template, names_masked_in};
use crate::span::LineIndex;

/// The check of a plan that only inserts comment lines into a file that
/// parses cleanly; `None` when the plan is not one (the result is then
/// parsed again).
pub(super) fn comment_lines_only(
    file: &ScannedFile,
    changes: &[Change],
    new_text: &str,
    opts: &ScanOptions,
) -> Option<Result<(), Refusal>> {
    if !opts.write_filter || file.parse_errors > 0 {
        return None;
    }
    let todos = |c: &Change| matches!(c.kind, ChangeKind::LockTodo | ChangeKind::ManualTodo);
    if !changes.iter().all(todos) {
        return None;
    }
    let template = is_template(&file.path);
    for change in changes {
        let bodies: Vec<Span> = change
            .findings
            .iter()
            .map(|&i| file.findings[i].function_body)
            .collect();
        for edit in &change.edits {
            let p = edit.range.start;
            let body = bodies.iter().find(|b| b.start < p && p < b.end)?;
            let inert = edit.range.is_empty()
                && whole_comment_lines(&edit.content, &opts.ignore_macros, template)
                && at_code_line_start(&file.text, p, *body);
            if !inert {
                return None;
            }
        }
    }
    Some(todos_seen(file, changes, new_text))
}

/// Whether `content` is whole lines of whole comments that nothing before
/// parsing reads as more: no continued line, no trigraph, no lone carriage
/// return, no name the masking blanks, no template token.
fn whole_comment_lines(content: &str, ignored: &[String], template: bool) -> bool {
    let read_as_more = content.split('\n').any(continues)
        || content.contains("??")
        || crate::span::has_lone_cr(content)
        || names_masked_in(content, ignored)
        || template && content.contains('@');
    content.ends_with('\n')
        && !read_as_more
        && Lexer::new(content.as_bytes()).all(|t| {
            matches!(
                t.kind,
                Tok::Space | Tok::Newline | Tok::LineComment | Tok::BlockComment { closed: true }
            )
        })
}

/// Whether `p`, in the function `body` (the whole definition), starts a
/// line outside every comment, literal and parenthesis, both as the lexer
/// reads the function (as tree-sitter does: a continued line is a blank
/// between tokens, an escape in a literal, part of a `//` comment) and as
/// a compiler does, continued lines joined first.
fn at_code_line_start(text: &str, p: usize, body: Span) -> bool {
    let before = &text[body.start..p];
    // The line before `p` ends: it does not continue into `p`'s.
    let Some(line) = before.strip_suffix('\n') else {
        return false;
    };
    if continues(line.rsplit('\n').next().unwrap_or(line)) {
        return false;
    }
    // A C++ raw string runs over lines, which the lexer does not know (its
    // prefix may be split by a continued line); a trigraph `??/` is a
    // backslash to some compilers.
    let joined = before.contains('\\').then(|| joined(before));
    let raw = |code: &[u8]| memchr::memmem::find(code, b"R\"").is_some();
    if raw(before.as_bytes()) || joined.as_deref().is_some_and(raw) || before.contains("??/") {
        return false;
    }
    // Read up to `p`, every comment, literal and parenthesis the function
    // opened is closed (an argument list, a masked attribute's among them,
    // does not hold `p`), as the lexer reads it and as a compiler does.
    closed(before.as_bytes()) && joined.as_deref().is_none_or(closed)
}

/// `text` with each continued line joined to the next, as a compiler
/// joins them before it finds comments and literals (C11 5.1.1.2, phase
/// 2); a backslash before blanks and the newline joins too, as GCC and
/// Clang read it (see [`continues`]).
fn joined(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let blanks = b[i + 1..]
                .iter()
                .take_while(|&&c| matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c | 0))
                .count();
            if b.get(i + 1 + blanks) == Some(&b'\n') {
                i += blanks + 2;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Whether every comment, literal and parenthesis of `code` closes in it.
fn closed(code: &[u8]) -> bool {
    let mut depth = 0usize;
    for t in Lexer::new(code) {
        match t.kind {
            Tok::BlockComment { closed: false } => return false,
            Tok::Literal if !literal_closes(code, t.start) => return false,
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth == 0
}

/// Whether a second run sees every TODO: the findings of the changed
/// functions, moved, acknowledged on the result.
fn todos_seen(file: &ScannedFile, changes: &[Change], new_text: &str) -> Result<(), Refusal> {
    let shifts = Shifts::new(changes.iter().flat_map(|c| &c.edits));
    let bodies: HashSet<Span> = changes
        .iter()
        .flat_map(|c| c.findings.iter().map(|&i| file.findings[i].function_body))
        .collect();
    let read: Vec<usize> = (0..file.findings.len())
        .filter(|&i| bodies.contains(&file.findings[i].function_body))
        .collect();
    let mut again: Vec<Finding> = read
        .iter()
        .map(|&i| moved(&file.findings[i], &shifts))
        .collect();
    acknowledge(&mut again, new_text, &LineIndex::new(new_text));
    for change in changes {
        for &i in &change.findings {
            let k = read.binary_search(&i).expect("a changed finding is read");
            if !again[k].acknowledged {
                return Err(Refusal::todo_unseen(&file.findings[i]));
            }
        }
    }
    Ok(())
}

/// A finding where the edits moved it: every position the acknowledgement
/// reads (the body, the sites and their statements, the evidence), with
/// what it decides (acknowledged, resolved) left for it to decide again.
fn moved(f: &Finding, shifts: &Shifts) -> Finding {
    let span = |s: Span| Span::new(shifts.moved(s.start), shifts.moved(s.end));
    let mut g = f.clone();
    g.function_span = span(f.function_span);
    g.function_body = span(f.function_body);
    for s in &mut g.sites {
        s.span = span(s.span);
        s.stmt = span(s.stmt);
        s.branch = s.branch.map(span);
    }
    for e in &mut g.evidence {
        let (Evidence::AssignsField { at, .. }
        | Evidence::FreesShape { at, .. }
        | Evidence::SetsFlags { at, .. }) = e;
        *at = shifts.moved(*at);
    }
    g.acknowledged = false;
    g.resolved = None;
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::Patch;
    use crate::plan::{plan, PlanOptions};
    use crate::scan::scan_text;
    use crate::templates::Templates;
    use crate::verify::verify;

    /// A TODO where a second run sees it passes; one a line too high does
    /// not. This check and a second parse (`--parse-all`) say the same.
    #[test]
    fn a_todo_passes_where_a_second_run_sees_it() {
        let text = "int\nset_shape(PyArrayObject *self, npy_intp n)\n{\n    int unused = 0;\n    \
                    PyArray_DIMS(self)[0] = n;\n    return unused;\n}\n";
        let opts = ScanOptions::for_text();
        let parse_all = ScanOptions {
            write_filter: false,
            ..ScanOptions::for_text()
        };
        let (file, summaries) = scan_text(&opts, std::path::Path::new("/input.c"), text).unwrap();
        let file = file.unwrap();
        let plan_opts = PlanOptions {
            todo_manual: true,
            ..PlanOptions::default()
        };
        let mut changes = plan(&file, &plan_opts, &Templates::load(None).unwrap()).unwrap();
        assert_eq!((changes.len(), changes[0].edits.len()), (1, 1));
        // The TODO at the start of the line `at` begins.
        let mut todo_at = |at: &str| {
            let p = text.find(at).unwrap();
            changes[0].edits[0].range = p..p;
            let edits = changes[0].edits.clone();
            let new = Patch::new(edits).unwrap().apply(text);
            let shortcut = comment_lines_only(&file, &changes, &new, &opts);
            let full = verify(&file, &changes, &new, &parse_all, &summaries);
            (shortcut, full)
        };
        let (shortcut, full) = todo_at("    PyArray_DIMS");
        assert_eq!((shortcut, full), (Some(Ok(())), Ok(())));
        let (shortcut, full) = todo_at("    int unused");
        assert!(matches!(shortcut, Some(Err(Refusal::Unfinished(_)))));
        assert_eq!(Err(shortcut.unwrap().unwrap_err()), full);
    }

    /// Whole comment lines pass; anything a compiler or the masking could
    /// read as more does not.
    #[test]
    fn only_whole_comment_lines_are_inert() {
        let m: &[String] = &["MY_ATTR".to_string()];
        for ok in [
            "    /* TODO(dims-fix): lock */\n",
            "\t// TODO(dims-fix): a\n\t// b\n",
            "    /*\n     * two lines\n     */\r\n",
        ] {
            assert!(whole_comment_lines(ok, m, false), "{ok:?}");
        }
        for bad in [
            "    /* not closed\n",
            "    // continued \\\n",
            "    // continued, a blank after \\ \n",
            "    /* spliced *\\\n/\n",
            "    // trigraph ??/\n",
            "    x = 1; /* code */\n",
            "    /* no newline */",
            "    /* lone \r carriage return */\n",
            "    /* NPY_UNUSED( */\n",
            "    /* MY_ATTR(1) */\n",
        ] {
            assert!(!whole_comment_lines(bad, m, false), "{bad:?}");
        }
        assert!(whole_comment_lines("  /* @TYPE@ */\n", m, false));
        assert!(!whole_comment_lines("  /* @TYPE@ */\n", m, true));
    }

    /// A line start inside a block comment or an argument list, after a
    /// continued line or after a raw string is not a place for the
    /// argument.
    #[test]
    fn only_code_line_starts_are_inert() {
        // At the start of the line holding `needle`, in a text of one
        // function.
        let inert = |text: &str, needle: &str| {
            let p = text[..text.find(needle).unwrap()].rfind('\n').unwrap() + 1;
            at_code_line_start(text, p, Span::new(0, text.len()))
        };
        let plain = "int f(void)\n{\n    int a = 1;\n    /* a\n    b */\n    a = 2;\n}\n";
        assert!(inert(plain, "int a = 1"));
        assert!(inert(plain, "/* a"));
        assert!(!inert(plain, "b */"));
        assert!(inert(plain, "a = 2"));
        let mid_line = plain.find("int a = 1").unwrap();
        assert!(!at_code_line_start(
            plain,
            mid_line,
            Span::new(0, plain.len())
        ));
        // A continued line, even one ending in a blank, is joined by the
        // compiler: no line starts after it, and `/\` then `*` opens a
        // comment the lexer does not see.
        let spliced = "int f(void)\n{\n    a = 2; // \\ \n    a = 3;\n    a = 4;\n}\n";
        assert!(inert(spliced, "a = 2"));
        assert!(!inert(spliced, "a = 3"));
        assert!(inert(spliced, "a = 4"));
        let opener = "int f(int y, int *z)\n{\n    int x = y /\\\n* z;\n    x = 1; // */\n}\n";
        assert!(!inert(opener, "x = 1"));
        assert!(inert(opener, "}"));
        // Continued lines that close before the line: a string continued
        // by a backslash between two literals, or inside one; a macro
        // defined in the function. A parenthesis opened on a continued
        // line is still open; a trigraph backslash is not judged.
        let strings = "int f(void)\n{\n    g(\"a \"   \\\n      \"b\");\n    \
                       g(\"c\\\nd\");\n    h();\n}\n";
        let define = "int f(void)\n{\n#define TWICE(x) \\\n    ((x) + \\\n     (x))\n    h();\n}\n";
        let open = "int f(void)\n{\n    g(1, \\\n      2,\n      3);\n    h();\n}\n";
        let trigraph = "int f(void)\n{\n    g(\"a??/\n\");\n    h();\n}\n";
        // A backslash before a form feed continues the line for a compiler;
        // a raw string's prefix split by a continued line is still one.
        let feed = "int f(void)\n{\n    int n = 0; // last \\\x0c\n    h();\n    n = 1;\n}\n";
        let split =
            "int f(void)\n{\n    const char *m = R\\\n\"x(\";\n    h();\n    m = \")x\";\n}\n";
        for (text, line, want) in [
            (strings, "\"b\");", false),
            (strings, "g(\"c", true),
            (strings, "d\");", false),
            (strings, "h();", true),
            (define, "(x))", false),
            (define, "h();", true),
            (open, "3);", false),
            (open, "h();", true),
            (trigraph, "h();", false),
            (feed, "h();", false),
            (feed, "n = 1;", true),
            (split, "h();", false),
        ] {
            assert_eq!(inert(text, line), want, "{line:?} in {text:?}");
        }
        let args = "int f(void)\n{\n    g(1,\n      2);\n    h();\n}\n";
        assert!(!inert(args, "2);"));
        assert!(inert(args, "h();"));
        let raw = "int f(void)\n{\n    const char *s = R\"(\n    )\";\n    h();\n}\n";
        assert!(!inert(raw, ")\";"));
        assert!(!inert(raw, "h();"));
    }
}
