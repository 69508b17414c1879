//! Where a text names some functions, and how, found lexically: called,
//! declared (a prototype or the definition), or used some other way (its
//! address taken, stored in a table, passed as a callback, named in a
//! macro). The callers of a function are asked only when every use of
//! its name is one the analysis can follow.

use std::collections::HashSet;

use super::outline::directive_end;
use super::tokens::{Lexer, Tok};

/// How a name is used at one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameUse {
    /// `name(` inside a block: a call.
    Call,
    /// `type name(` outside any block: a declaration or the definition.
    Declaration,
    /// Anything else: not followed by `(`, or in a preprocessor line.
    Other,
}

/// Words that may come before a call at the top of a statement.
const NOT_TYPES: &[&str] = &["return", "else", "case", "do", "sizeof", "goto"];

/// Every use of one of `names` in the code of `text` (not in comments or
/// literals), in text order: its offset, the name, and how it is used.
pub fn name_uses<'n>(text: &str, names: &'n HashSet<String>) -> Vec<(usize, &'n str, NameUse)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut lexer = Lexer::new(bytes);
    let mut depth = 0usize;
    // Per open brace, whether it opens a block (not `extern "C" {`).
    let mut braces: Vec<bool> = Vec::new();
    let mut at_line_start = true;
    // The last code token before the current one.
    let mut prev: Option<(Tok, usize, usize)> = None;
    while let Some(tok) = lexer.next() {
        match tok.kind {
            Tok::Newline => {
                at_line_start = true;
                continue;
            }
            kind if kind.is_trivia() => continue,
            Tok::Punct(b'#') if at_line_start => {
                let end = directive_end(bytes, tok.start);
                for (at, name) in words_in(text, tok.start, end, names) {
                    out.push((at, name, NameUse::Other));
                }
                lexer.seek(end);
                prev = None;
                continue;
            }
            Tok::Punct(b'{') => {
                // `extern "C" {` opens no block.
                let linkage = prev.is_some_and(|(k, s, e)| {
                    k == Tok::Literal && matches!(&text[s..e], "\"C\"" | "\"C++\"")
                });
                braces.push(!linkage);
                depth += usize::from(!linkage);
            }
            Tok::Punct(b'}') if braces.pop().unwrap_or(false) => depth -= 1,
            Tok::Word => {
                if let Some(name) = names.get(&text[tok.start..tok.end]) {
                    let how = how_used(text, &mut Lexer::at(bytes, tok.end), depth, prev);
                    out.push((tok.start, name.as_str(), how));
                }
            }
            _ => {}
        }
        at_line_start = false;
        prev = Some((tok.kind, tok.start, tok.end));
    }
    out
}

/// How a name is used, from the code token after it (`after` stands just
/// past the name) and the one before.
fn how_used(
    text: &str,
    after: &mut Lexer,
    depth: usize,
    prev: Option<(Tok, usize, usize)>,
) -> NameUse {
    let called = after
        .next_code()
        .is_some_and(|t| t.kind == Tok::Punct(b'('));
    if !called {
        return NameUse::Other;
    }
    let typed = match prev {
        Some((Tok::Word, start, end)) => !NOT_TYPES.contains(&&text[start..end]),
        Some((Tok::Punct(b'*'), _, _)) => true,
        _ => false,
    };
    if depth == 0 && typed {
        NameUse::Declaration
    } else {
        NameUse::Call
    }
}

/// The words of `text[start..end]` that are one of `names`.
fn words_in<'n>(
    text: &str,
    start: usize,
    end: usize,
    names: &'n HashSet<String>,
) -> Vec<(usize, &'n str)> {
    Lexer::at(&text.as_bytes()[..end], start)
        .filter(|t| t.kind == Tok::Word)
        .filter_map(|t| Some((t.start, names.get(&text[t.start..t.end])?.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(text: &str) -> Vec<(usize, NameUse)> {
        let names: HashSet<String> = ["drop".to_string()].into();
        name_uses(text, &names)
            .into_iter()
            .map(|(at, _, how)| (crate::span::line_of(text.as_bytes(), at), how))
            .collect()
    }

    #[test]
    fn calls_declarations_and_other_uses_are_told_apart() {
        let text = "extern \"C\" {\nstatic void drop(PyArrayObject *a);\n\
                    static void\ndrop(PyArrayObject *a)\n{\n}\n\
                    void f(void)\n{\n    drop(r);\n    return drop (r);\n\
                    /* drop(x) */ fp = drop;\n    g(\"drop(\", drop);\n}\n\
                    #define D(a) drop(a)\n\
                    static void (*table[])(PyArrayObject *) = { drop };\n}\n";
        assert_eq!(
            uses(text),
            [
                (2, NameUse::Declaration),
                (4, NameUse::Declaration),
                (9, NameUse::Call),
                (10, NameUse::Call),
                (11, NameUse::Other),
                (12, NameUse::Other),
                (14, NameUse::Other),
                (15, NameUse::Other),
            ]
        );
    }
}
