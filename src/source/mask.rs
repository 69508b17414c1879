//! Offset-preserving masking: template tokens and attribute-like macros become
//! same-length text that tree-sitter-c can parse.
//!
//! tree-sitter does not expand macros, and NumPy's attribute macros
//! (`NPY_NO_EXPORT`, `NPY_UNUSED(x)`, ...) put ERROR nodes at nearly every
//! function header. Blanking them with spaces keeps every byte offset true,
//! so findings and edits refer to the original text.

use aho_corasick::{AhoCorasick, MatchKind};

use super::tokens::{closing_paren, is_ident};

/// Macros that expand to nothing useful for parsing: blanked.
const BLANK: &[&str] = &[
    "NPY_NO_EXPORT",
    "NPY_INLINE",
    "NPY_FINLINE",
    "NPY_NOINLINE",
    "NPY_VISIBILITY_HIDDEN",
    "NPY_TLS",
    "NPY_GCC_OPT_3",
    "NPY_GCC_UNROLL_LOOPS",
    "NPY_INPLACE",
];

/// Attribute macros with an argument list: blanked with their arguments.
const BLANK_WITH_ARGS: &[&str] = &[
    "NPY_GCC_NONNULL",
    "NPY_STEALS_REF_TO_ARG",
    "NPY_DECL_ALIGNED",
];

/// Macros that wrap a name: `NPY_UNUSED(x)` becomes `x`.
const UNWRAP: &[&str] = &["NPY_UNUSED"];

#[derive(Clone, Copy, PartialEq)]
enum How {
    Blank,
    BlankWithArgs,
    Unwrap,
}

/// Whether `text` holds a name the masking with `extra` blanks or unwraps
/// (for a short text: no automaton is built).
pub fn names_masked_in(text: &str, extra: &[String]) -> bool {
    let builtin = BLANK.iter().chain(BLANK_WITH_ARGS).chain(UNWRAP);
    builtin
        .copied()
        .chain(extra.iter().map(String::as_str))
        .any(|name| text.contains(name))
}

/// Blanks attribute-like macros; built once per run and shared by threads.
pub struct Masker {
    finder: AhoCorasick,
    how: Vec<How>,
}

impl Masker {
    /// The built-in macro list plus `extra` names (`--ignore-macro`), which are
    /// blanked together with an argument list if one follows.
    pub fn new(extra: &[String]) -> Masker {
        let mut names: Vec<&str> = Vec::new();
        let mut how = Vec::new();
        for (list, h) in [
            (BLANK, How::Blank),
            (BLANK_WITH_ARGS, How::BlankWithArgs),
            (UNWRAP, How::Unwrap),
        ] {
            for name in list {
                names.push(name);
                how.push(h);
            }
        }
        for name in extra {
            names.push(name);
            how.push(How::BlankWithArgs);
        }
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&names)
            .expect("macro names form a valid automaton");
        Masker { finder, how }
    }

    /// The masked copy of `text`: same length, same line structure; a
    /// line ending in `\r` alone ends in `\n` (a compiler reads both as a
    /// line's end, tree-sitter only the second).
    pub fn mask(&self, text: &str, template: bool) -> Vec<u8> {
        let mut out = text.as_bytes().to_vec();
        lone_cr_to_lf(&mut out);
        if template {
            mask_template_tokens(&mut out);
        }
        for m in self.finder.find_iter(text.as_bytes()) {
            let (start, end) = (m.start(), m.end());
            if !is_word_boundary(&out, start, end) || on_directive_line(&out, start) {
                continue;
            }
            match self.how[m.pattern().as_usize()] {
                How::Blank => blank(&mut out, start, end),
                How::BlankWithArgs => {
                    let stop = arg_list_end(&out, end).unwrap_or(end);
                    blank(&mut out, start, stop);
                }
                How::Unwrap => {
                    if let Some(stop) = arg_list_end(&out, end) {
                        blank(&mut out, start, end + 1);
                        blank(&mut out, stop - 1, stop);
                    }
                }
            }
        }
        out
    }
}

/// Every `\r` that no `\n` follows becomes `\n` (same length).
pub fn lone_cr_to_lf(out: &mut [u8]) {
    for i in memchr::memchr_iter(b'\r', out).collect::<Vec<_>>() {
        if out.get(i + 1) != Some(&b'\n') {
            out[i] = b'\n';
        }
    }
}

/// NumPy `.c.src` templates use `@name@` tokens; `@` is never valid C, so each
/// becomes `_`, which turns `@TYPE@_fill` into the identifier `_TYPE__fill`.
fn mask_template_tokens(out: &mut [u8]) {
    for b in out.iter_mut().filter(|b| **b == b'@') {
        *b = b'_';
    }
}

fn is_word_boundary(text: &[u8], start: usize, end: usize) -> bool {
    (start == 0 || !is_ident(text[start - 1])) && (end == text.len() || !is_ident(text[end]))
}

/// Whether `pos` is on a preprocessor line (`#define NPY_INLINE inline` must
/// keep its name, or the directive itself would stop parsing).
fn on_directive_line(text: &[u8], pos: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &text[..pos]).map_or(0, |i| i + 1);
    text[line_start..pos]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'#')
}

/// The end (exclusive, after `)`) of a parenthesised argument list starting at
/// `pos` (after optional blanks), or `None` when there is none nearby.
fn arg_list_end(text: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos;
    while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
        i += 1;
    }
    if text.get(i) != Some(&b'(') {
        return None;
    }
    // Attribute arguments are short; a missing `)` must not blank a whole file.
    closing_paren(text, i, 512, |_| false).map(|close| close + 1)
}

/// Spaces over `start..end`, keeping newlines so line numbers stay true.
fn blank(out: &mut [u8], start: usize, end: usize) {
    for b in &mut out[start..end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &str, template: bool) -> String {
        String::from_utf8(Masker::new(&["MY_ATTR".into()]).mask(text, template)).unwrap()
    }

    #[test]
    fn blanks_attribute_macros_keeping_offsets() {
        let src = "NPY_NO_EXPORT int\nf(int NPY_UNUSED(x), void *NPY_UNUSED(y))\n";
        let out = mask(src, false);
        assert_eq!(out.len(), src.len());
        assert_eq!(
            out,
            "              int\nf(int            x , void *           y )\n"
        );
    }

    #[test]
    fn leaves_longer_names_and_directives_alone() {
        let src = "#define NPY_INLINE inline\nint NPY_INLINE_MATH;\n";
        assert_eq!(mask(src, false), src);
    }

    #[test]
    fn blanks_extra_macros_with_their_arguments() {
        assert_eq!(mask("MY_ATTR(1, 2) int f;", false), "              int f;");
    }

    #[test]
    fn template_tokens_become_identifiers() {
        assert_eq!(
            mask("@TYPE@_fill(@type@ *x)", true),
            "_TYPE__fill(_type_ *x)"
        );
        assert_eq!(mask("a@b", false), "a@b");
    }
}
