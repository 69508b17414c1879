//! What the preprocessor can hide in the window (issue 17): an `#include`,
//! a `.c.src` template token that may expand to a name of the array or to
//! code, and names of any case that nothing in the file declares (a
//! header's macro may name the array or jump out) unless they belong to the
//! C, CPython or NumPy API.

use crate::analyze::api::{c_constant, reserved};
use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::{Declared, JumpKind};
use crate::analyze::reason::{Blocker, Place};
use crate::analyze::Span;
use crate::source::lexical;
use crate::source::tokens::is_ident;

/// The preprocessor lines of a span: where they are and their directive.
pub(super) struct Directives {
    lines: Vec<(Span, String)>,
}

impl Directives {
    /// The directive lines (continuations included) that start in `span`.
    pub(super) fn in_span(text: &str, span: Span) -> Directives {
        let mut lines = Vec::new();
        let mut at = span.start;
        while at < span.end {
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line = &text[at..end];
            if let Some(rest) = line.trim_start().strip_prefix('#') {
                let mut stop = end;
                // A directive goes on over lines ending in a backslash.
                while text[..stop].trim_end_matches('\r').ends_with('\\') && stop < text.len() {
                    stop = text[stop + 1..]
                        .find('\n')
                        .map_or(text.len(), |i| stop + 1 + i);
                }
                let word: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                lines.push((Span::new(at, stop), word));
                at = stop + 1;
                continue;
            }
            at = end + 1;
        }
        Directives { lines }
    }

    pub(super) fn contains(&self, pos: usize) -> bool {
        self.lines
            .iter()
            .any(|(s, _)| s.start <= pos && pos < s.end)
    }

    fn include(&self) -> Option<usize> {
        self.lines
            .iter()
            .find(|(_, w)| w == "include" || w == "import")
            .map(|(s, _)| s.start)
    }
}

/// Whether the identifier at `at` names a field (`p->name`, `s.name`).
pub(super) fn is_field_name(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end();
    before.ends_with("->") || (before.ends_with('.') && !before.ends_with(".."))
}

/// Names of the C language and library, CPython and NumPy: what they
/// expand to never names a variable of the file.
pub(super) fn api_name(name: &str) -> bool {
    const C: &[&str] = &[
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "bool",
        "true",
        "false",
        "alignof",
        "alignas",
        "typeof",
        "static_assert",
        "thread_local",
        "size_t",
        "ssize_t",
        "ptrdiff_t",
        "intptr_t",
        "uintptr_t",
        "intmax_t",
        "uintmax_t",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
        "wchar_t",
        "FILE",
        "offsetof",
        "assert",
        "errno",
        "stdin",
        "stdout",
        "stderr",
        "va_list",
        "va_start",
        "va_end",
        "va_arg",
    ];
    const PREFIXES: &[&str] = &[
        "Py", "_Py", "PY", "NPY", "npy", "_NPY", "_npy", "__", "_Bool",
    ];
    C.contains(&name) || reserved(name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

impl<'a> ArrayCx<'a> {
    /// Step: nothing in the window comes from elsewhere by the
    /// preprocessor: no `#include`, no template token that may expand to
    /// a name of the array or to code (names nothing declares: later,
    /// `check_unknown_names`).
    pub(super) fn check_hidden(&self, win: Span) -> Result<(), Blocker> {
        let directives = Directives::in_span(self.text, win);
        if let Some(at) = directives.include() {
            return Err(Blocker::IncludeInWindow { at });
        }
        self.check_template_tokens(win)
    }

    /// Template tokens as written: one that is a whole word may expand to
    /// anything; one inside a longer name only to a name with its literal
    /// parts, which must not spell a name of the array.
    fn check_template_tokens(&self, win: Span) -> Result<(), Blocker> {
        if !self.file.is_template() {
            return Ok(());
        }
        let mut names: Vec<String> = self.other_names().into_keys().collect();
        names.push(self.array.to_string());
        let t = self.text.as_bytes();
        let code = self.file.code();
        let mut i = win.start;
        while i < win.end {
            let Some((start, end)) = template_word(t, i, win.end) else {
                break;
            };
            i = end;
            if !code.in_code(start) {
                continue;
            }
            let word = &self.text[start..end];
            let literal = !strip_tokens(word).is_empty();
            if !literal || names.iter().any(|n| spells(word, n)) {
                let token = first_token(word);
                return Err(Blocker::TemplateToken {
                    token,
                    at: start + word.find('@').unwrap_or(0),
                });
            }
        }
        Ok(())
    }

    /// Names in the window that nothing declares — not the function, not
    /// the file, not the C, CPython or NumPy API — may be a header's macro
    /// of any case, which can name the array or jump out; CPython's
    /// `Py_RETURN_...` returns.
    ///
    /// With `caps_only`, only names that look like macros (all capitals):
    /// the early pass, so the reason names them before anything they may
    /// hide; the later pass takes names of any case.
    pub(super) fn check_unknown_names(&self, win: Span, caps_only: bool) -> Result<(), Blocker> {
        let directives = Directives::in_span(self.text, win);
        let scope = self.file.scope();
        let macros = self.file.macros();
        for (at, id) in lexical::identifiers_at(&self.text[win.range()]) {
            let at = win.start + at;
            if directives.contains(at) || is_field_name(self.text, at) {
                continue;
            }
            let returns = id.starts_with("Py_RETURN");
            let caps = id.bytes().all(|b| !b.is_ascii_lowercase());
            let known = (caps_only && !caps && !returns)
                || !returns
                    && (api_name(id)
                        || c_constant(id)
                        || !matches!(self.f.declared(id), Declared::Nowhere)
                        || scope.names.contains(id)
                        || macros.get(id).is_some()
                        || self.is_label(id));
            if !known {
                return Err(Blocker::HeaderMacro {
                    id: id.to_string(),
                    at,
                    place: Place::Window,
                    returns,
                });
            }
        }
        Ok(())
    }

    fn is_label(&self, id: &str) -> bool {
        self.f
            .jumps
            .iter()
            .any(|j| j.kind == JumpKind::Label && j.label.as_deref() == Some(id))
    }
}

/// The next word holding a template token (`@arr@`, `NPY_@TYPE@`,
/// `@a@@b@_x`) at or after `from`, before `end`: its byte range.
fn template_word(t: &[u8], mut from: usize, end: usize) -> Option<(usize, usize)> {
    let token_end = |s: usize| -> Option<usize> {
        let n = t[s + 1..].iter().take_while(|&&b| is_ident(b)).count();
        (n > 0 && t.get(s + 1 + n) == Some(&b'@')).then_some(s + n + 2)
    };
    let (at, mut e) = loop {
        let at = from + memchr::memchr(b'@', &t[from..end])?;
        match token_end(at) {
            Some(e) => break (at, e),
            None => from = at + 1,
        }
    };
    // Grow over identifier bytes and further tokens on both sides.
    let mut s = at;
    while s > 0 && is_ident(t[s - 1]) {
        s -= 1;
    }
    loop {
        if e < t.len() && is_ident(t[e]) {
            e += 1;
        } else if t.get(e) == Some(&b'@') {
            match token_end(e) {
                Some(next) => e = next,
                None => break,
            }
        } else {
            break;
        }
    }
    Some((s, e))
}

/// A word without its template tokens: its literal characters.
fn strip_tokens(word: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in word.chars() {
        match c {
            '@' => inside = !inside,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

fn first_token(word: &str) -> String {
    let s = word.find('@').unwrap_or(0);
    let e = word[s + 1..].find('@').map_or(word.len(), |i| s + i + 2);
    word[s..e].to_string()
}

/// Whether a word with template tokens can expand to `name` (each token
/// standing for one or more characters).
fn spells(word: &str, name: &str) -> bool {
    // Segments: literal text and tokens (`None`), matched left to right.
    let mut segments: Vec<Option<&str>> = Vec::new();
    let mut rest = word;
    while let Some(s) = rest.find('@') {
        if s > 0 {
            segments.push(Some(&rest[..s]));
        }
        let e = rest[s + 1..].find('@').map_or(rest.len(), |i| s + i + 2);
        segments.push(None);
        rest = &rest[e..];
    }
    if !rest.is_empty() {
        segments.push(Some(rest));
    }
    matches(&segments, name)
}

fn matches(segments: &[Option<&str>], name: &str) -> bool {
    match segments.split_first() {
        None => name.is_empty(),
        Some((Some(lit), rest)) => name.strip_prefix(lit).is_some_and(|n| matches(rest, n)),
        Some((None, rest)) => (1..=name.len())
            .filter(|&k| name.is_char_boundary(k))
            .any(|k| matches(rest, &name[k..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_words_and_what_they_can_spell() {
        let t = b"x = PyArray_DIM(@arr@, 0) + NPY_@TYPE@ + @a@@b@_x;";
        let (s, e) = template_word(t, 0, t.len()).unwrap();
        assert_eq!(&t[s..e], b"@arr@");
        let (s2, e2) = template_word(t, e, t.len()).unwrap();
        assert_eq!(&t[s2..e2], b"NPY_@TYPE@");
        let (s3, e3) = template_word(t, e2, t.len()).unwrap();
        assert_eq!(&t[s3..e3], b"@a@@b@_x");
        assert!(strip_tokens("@arr@").is_empty());
        assert_eq!(strip_tokens("NPY_@TYPE@"), "NPY_");
        assert!(spells("@arr@_x", "a_x") && !spells("@arr@_x", "_x"));
        assert!(!spells("NPY_@TYPE@", "self") && spells("NPY_@TYPE@", "NPY_INT"));
        assert_eq!(first_token("NPY_@TYPE@"), "@TYPE@");
        assert_eq!(template_word(b"a @ b @x", 0, 8), None);
    }

    #[test]
    fn directives_and_field_names() {
        let text = "a;\n#pragma GCC x\nb;\n#define M \\\n  c\nd;\n";
        let d = Directives::in_span(text, Span::new(0, text.len()));
        assert!(d.contains(text.find("GCC").unwrap()));
        assert!(d.contains(text.find("  c").unwrap()));
        assert!(!d.contains(text.find("d;").unwrap()));
        assert!(d.include().is_none());
        assert!(is_field_name("p->arr", 3) && is_field_name("s . arr", 4));
        assert!(!is_field_name("f(arr", 2));
    }
}
