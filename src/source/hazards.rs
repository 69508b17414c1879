//! Code the parser cannot read as a compiler does, found lexically: digraph
//! and trigraph brackets, braces that come from a macro, and a literal its
//! line ends before closing. A function holding one is not analysed; each
//! shape source it mentions is reported as such, with the reason — never
//! dropped in silence (issue 17).

use std::collections::HashMap;

use super::lexical::defines_in;
use super::outline::directive_end;
use super::tokens::{Lexer, Tok};

/// What keeps code from being analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hazard {
    /// `<:`, `:>`, `<%`, `%>`, `%:` or a trigraph (`??(`, `??<`, ...).
    Graph { spelled: String },
    /// A `{` or `}` of the function comes from the named macro.
    MacroBrace { name: String },
    /// A string or character literal that a line ends before closing.
    Unterminated,
    /// A K&R definition: its parameters are declared between the
    /// parameter list and the body.
    KnR,
}

/// A top-level item (a function, mostly) that is not analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The item's byte range.
    pub region: std::ops::Range<usize>,
    /// The name before its first `(`, if any.
    pub name: Option<String>,
    pub what: Hazard,
    /// Where the hazard is.
    pub at: usize,
    /// Where each shape source it mentions starts, and the name.
    pub mentions: Vec<(usize, String)>,
}

/// One top-level item as the scan goes.
#[derive(Default)]
struct Item {
    start: usize,
    name: Option<String>,
    hazard: Option<(Hazard, usize)>,
    mentions: Vec<(usize, String)>,
    /// A `(` seen at depth 0 (the name is the identifier before the first).
    opened: bool,
    last_word: Option<(usize, usize)>,
    /// Where the name before the first `(` starts.
    name_at: usize,
    /// Parentheses open at depth 0, and whether the first list closed.
    parens: isize,
    /// The first parameter list holds only identifiers and commas (a K&R
    /// identifier list, or a macro's arguments).
    ident_list: bool,
    params_closed: bool,
    /// A word right after an identifier list: K&R parameter declarations
    /// if a `;` comes before any `(` or `{`.
    knr_candidate: bool,
    /// K&R parameter declarations, whose `;` do not end the item.
    knr: bool,
}

/// The items of `text` (lone `\r` line ends already made `\n`) that hold a
/// hazard and mention one of `needles`.
pub fn scan(text: &str, needles: &[String]) -> Vec<Unreadable> {
    let t = text.as_bytes();
    if !needles.iter().any(|n| text.contains(n.as_str())) {
        return Vec::new();
    }
    let brace_macros = brace_macros(text);
    let mut out = Vec::new();
    let mut item = Item::default();
    let mut depth: isize = 0;
    let mut line_start = true;
    // After an unterminated literal nothing is read as the compiler would.
    let mut broken: Option<usize> = None;
    let mut lexer = Lexer::new(t);
    while let Some(tok) = lexer.next() {
        let i = tok.start;
        match tok.kind {
            Tok::Newline => {
                line_start = true;
                continue;
            }
            Tok::Punct(b'#') if line_start => {
                lexer.seek(directive_end(t, i));
                continue;
            }
            k if k.is_trivia() => continue,
            _ => line_start = false,
        }
        if tok.kind == Tok::Literal && broken.is_none() && !closed(t, tok.start, tok.end) {
            broken = Some(i);
        }
        if depth == 0 && item.parens > 0 {
            match tok.kind {
                Tok::Word | Tok::Punct(b',') | Tok::Punct(b')') => {}
                _ => item.ident_list = false,
            }
        }
        if depth == 0 && item.knr_candidate && !item.knr {
            match tok.kind {
                Tok::Punct(b'(') | Tok::Punct(b'{') => item.knr_candidate = false,
                Tok::Punct(b';') => {
                    item.knr = true;
                    item.hazard.get_or_insert((Hazard::KnR, item.name_at));
                }
                _ => {}
            }
        }
        let mut delta: isize = 0;
        match tok.kind {
            Tok::Word => {
                let word = &text[tok.start..tok.end];
                if depth == 0 && item.params_closed && item.ident_list && !item.knr {
                    // `f(a, n) PyArrayObject *a; ... {`: a word after an
                    // identifier list, then a `;` before any `(` or `{`.
                    item.params_closed = false;
                    item.knr_candidate =
                        !matches!(word, "__attribute__" | "__asm__" | "asm" | "const");
                }
                if needles.iter().any(|n| n == word) {
                    item.mentions.push((i, word.to_string()));
                }
                if let Some(&balance) = brace_macros.get(word) {
                    delta = balance;
                    item.hazard.get_or_insert((
                        Hazard::MacroBrace {
                            name: word.to_string(),
                        },
                        i,
                    ));
                }
                if depth == 0 && !item.opened {
                    item.last_word = Some((tok.start, tok.end));
                }
            }
            Tok::Punct(b'(') if depth == 0 && !item.opened => {
                item.opened = true;
                item.parens = 1;
                item.ident_list = true;
                item.name = item.last_word.map(|(s, e)| text[s..e].to_string());
                item.name_at = item.last_word.map_or(i, |(s, _)| s);
            }
            Tok::Punct(b'(') if depth == 0 && item.parens > 0 => item.parens += 1,
            Tok::Punct(b')') if depth == 0 && item.parens > 0 => {
                item.parens -= 1;
                item.params_closed = item.parens == 0;
            }
            Tok::Punct(b'{') => {
                delta = 1;
                item.params_closed = false;
            }
            Tok::Punct(b'}') => delta = -1,
            Tok::Punct(_) => {
                if let Some((spelled, d)) = graph(t, i) {
                    delta = d;
                    item.hazard.get_or_insert((Hazard::Graph { spelled }, i));
                    lexer.seek(i + if spelled_len(t, i) == 3 { 3 } else { 2 });
                }
            }
            _ => {}
        }
        if let (Some(at), None) = (broken, &item.hazard) {
            item.hazard = Some((Hazard::Unterminated, at));
        }
        let was = depth;
        depth = (depth + delta).max(0);
        let declaration_end = was == 0 && tok.kind == Tok::Punct(b';') && !item.knr;
        let ends = depth == 0 && ((was > 0 && delta < 0) || declaration_end);
        if ends {
            finish(&mut out, std::mem::take(&mut item), tok.end);
            item.start = tok.end;
        }
    }
    finish(&mut out, item, t.len());
    out
}

fn finish(out: &mut Vec<Unreadable>, item: Item, end: usize) {
    if let (Some((what, at)), false) = (item.hazard, item.mentions.is_empty()) {
        out.push(Unreadable {
            region: item.start..end,
            name: item.name,
            what,
            at,
            mentions: item.mentions,
        });
    }
}

/// Macros of the file whose body opens or closes more braces than it
/// closes or opens: each use changes the depth by that much.
fn brace_macros(text: &str) -> HashMap<String, isize> {
    defines_in(text)
        .into_iter()
        .filter_map(|d| {
            let b = d.body.as_bytes();
            let mut balance = 0isize;
            for tok in Lexer::new(b) {
                match tok.kind {
                    Tok::Punct(b'{') => balance += 1,
                    Tok::Punct(b'}') => balance -= 1,
                    _ => {}
                }
            }
            (balance != 0).then_some((d.name, balance))
        })
        .collect()
}

/// A digraph or trigraph at `i`: how it is spelled and its change of brace
/// depth.
fn graph(t: &[u8], i: usize) -> Option<(String, isize)> {
    let two = t.get(i..i + 2)?;
    let spelled = |n: usize| String::from_utf8_lossy(&t[i..i + n]).into_owned();
    match two {
        b"<%" => Some((spelled(2), 1)),
        b"%>" => Some((spelled(2), -1)),
        b"<:" | b":>" | b"%:" => Some((spelled(2), 0)),
        b"??" => match t.get(i + 2)? {
            b'<' => Some((spelled(3), 1)),
            b'>' => Some((spelled(3), -1)),
            b'=' | b'(' | b')' | b'/' | b'\'' | b'!' | b'-' => Some((spelled(3), 0)),
            _ => None,
        },
        _ => None,
    }
}

fn spelled_len(t: &[u8], i: usize) -> usize {
    if t.get(i..i + 2) == Some(b"??") {
        3
    } else {
        2
    }
}

/// Whether the literal `t[start..end]` ends with its closing quote.
fn closed(t: &[u8], start: usize, end: usize) -> bool {
    let quote = t[start];
    let mut i = start + 1;
    while i < end {
        match t[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1 == end,
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles() -> Vec<String> {
        vec!["PyArray_DIMS".to_string()]
    }

    #[test]
    fn digraphs_and_trigraphs_make_a_function_unreadable() {
        let text = "void f(PyArrayObject *a)\n<%\n    PyArray_DIMS(a)<:0:> = 1;\n%>\n\
                    void g(PyArrayObject *a)\n{\n    PyArray_DIMS(a)[0] = 1;\n}\n\
                    void h(PyArrayObject *a)\n??<\n    PyArray_DIMS(a)??(0??) = 1;\n??>\n";
        let found = scan(text, &needles());
        let names: Vec<_> = found.iter().map(|u| u.name.clone().unwrap()).collect();
        assert_eq!(names, ["f", "h"]);
        assert_eq!(
            found[0].what,
            Hazard::Graph {
                spelled: "<%".into()
            }
        );
        assert_eq!(
            found[1].what,
            Hazard::Graph {
                spelled: "??<".into()
            }
        );
        assert_eq!(found[0].mentions.len(), 1);
    }

    #[test]
    fn braces_from_macros_and_unterminated_literals() {
        let text = "#define BEGIN {\n#define END }\n#define SAFE(x) { x; }\n\
                    void f(PyArrayObject *a)\nBEGIN\n    PyArray_DIMS(a)[0] = 1;\nEND\n\
                    void g(PyArrayObject *a)\n{\n    SAFE(PyArray_DIMS(a)[0] = 1);\n}\n";
        let found = scan(text, &needles());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name.as_deref(), Some("f"));
        assert_eq!(
            found[0].what,
            Hazard::MacroBrace {
                name: "BEGIN".into()
            }
        );
        let text = "#error can't\nstatic const char *m = \"open;\n\
                    void g(PyArrayObject *a)\n{\n    PyArray_DIMS(a)[0] = 1;\n}\n";
        let found = scan(text, &needles());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].what, Hazard::Unterminated);
        assert_eq!(found[0].at, text.find("\"open").unwrap());
        assert!(scan("int x = 'a'; char *s = \"\\\"\";\n", &needles()).is_empty());
    }
}
