//! The lexical write filter: whether every mention of a shape source in a
//! function's code is plainly a read of one element (`n = PyArray_DIMS(a)[i];`,
//! `if (i < PyArray_DIMS(a)[0])`), so the function cannot write the shape
//! and need not be parsed. Conservative by construction: anything else
//! means parse — the storage itself taken or passed (`d = PyArray_DIMS(a)`,
//! `f(PyArray_DIMS(a))`), an element passed to anything but a function the
//! file defines (a macro may write it; a function gets a copy), an
//! assignment, increment or address after a mention, a name the filter
//! does not know as a plain source (a macro of the tree, an accessor
//! through an out-parameter, `PyArrayObject_fields`, `->dimensions`, a flag
//! setter), a preprocessor line, a line continuation, a digraph or
//! trigraph, brackets that do not balance. Its rules are C's (in C++ an
//! element can bind to a reference, or go to an overloaded operator): the
//! caller applies it to C only.

use super::outline::{directive, directive_end};
use super::tokens::{Lexer, Tok};

/// What a word of the code is to the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mention {
    /// Not a name the scan looks for.
    No,
    /// A source whose value is the storage (`PyArray_DIMS`, an accessor
    /// returning it): a subscript of its call reads one element.
    Source,
    /// Any other name the scan looks for: the function is parsed.
    Other,
}

/// A significant token: an identifier, a literal, or an operator (longest
/// match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T<'a> {
    Word(&'a [u8]),
    Lit,
    Op(&'static str),
}

/// Multi-byte operators, longest first.
const OPS: &[&str] = &[
    "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "::",
];

/// One-byte operators, as `&'static str`.
const ONE: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~";

/// Tokens that may not come right after `source(...)[...]`: they write
/// the element, take more of it, or call through it.
const BAD_AFTER: &[&str] = &[
    "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "++", "--", "[", ".", "->",
    "(", "#",
];

/// Tokens that may not come right before a source's name: address,
/// increment, member of something else.
const BAD_BEFORE: &[&str] = &["&", "++", "--", ".", "->", "::", "#"];

/// The directives a function's code may hold for the filter to read it.
const CONDITIONALS: &[&str] = &[
    "if", "ifdef", "ifndef", "elif", "else", "endif", "elifdef", "elifndef",
];

/// Words after which `(` is not a call.
const NOT_CALLEES: &[&[u8]] = &[
    b"if", b"while", b"for", b"switch", b"return", b"case", b"else", b"do", b"sizeof",
];

/// What an open parenthesis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paren {
    /// Grouping, a condition, a cast.
    Group,
    /// The arguments of a function of the file, passed by value (C).
    ByValue,
    /// The arguments of anything else: a macro may write them.
    Call,
}

/// Whether every mention in `code` (one function, masked as the parser
/// sees it) is a plain read of one element; `kind` tells mentions apart,
/// `by_value` the callees that are functions (not macros) of the file,
/// to which an element goes as a copy.
pub fn reads_only(
    code: &[u8],
    kind: &dyn Fn(&[u8]) -> Mention,
    by_value: &dyn Fn(&[u8]) -> bool,
) -> bool {
    if hidden_structure(code) {
        return false;
    }
    let Some(toks) = tokens(code) else {
        return false;
    };
    // Open brackets: the byte and what a `(` is.
    let mut open: Vec<(u8, Paren)> = Vec::new();
    for (i, &tok) in toks.iter().enumerate() {
        match tok {
            T::Op(o @ ("(" | "[" | "{")) => {
                let paren = match i.checked_sub(1).map(|p| toks[p]) {
                    _ if o != "(" => Paren::Group,
                    Some(T::Word(w)) if NOT_CALLEES.contains(&w) || is_number(w) => Paren::Group,
                    Some(T::Word(w)) if by_value(w) => Paren::ByValue,
                    Some(T::Word(_) | T::Op(")" | "]")) => Paren::Call,
                    _ => Paren::Group,
                };
                open.push((o.as_bytes()[0], paren));
            }
            T::Op(c @ (")" | "]" | "}")) => {
                let want = match c {
                    ")" => b'(',
                    "]" => b'[',
                    _ => b'{',
                };
                if open.pop().map(|o| o.0) != Some(want) {
                    return false;
                }
            }
            T::Word(w) => match kind(w) {
                Mention::No => {}
                Mention::Other => return false,
                Mention::Source => {
                    // An element handed to a call or a macro may be written.
                    let in_call = open.iter().any(|&(_, p)| p == Paren::Call);
                    if in_call || !element_read(&toks, i) {
                        return false;
                    }
                }
            },
            _ => {}
        }
    }
    open.is_empty()
}

/// Structure the tokens do not show: a trigraph or a continued line,
/// anywhere (comments included: they are replaced before comments are
/// found). Digraphs and template tokens are refused by [`tokens`].
fn hidden_structure(code: &[u8]) -> bool {
    code.windows(3).any(|w| {
        (w[0] == b'?' && w[1] == b'?' && b"=/'()!<>-".contains(&w[2]))
            || (w[0] == b'\\' && (w[1] == b'\n' || (w[1] == b'\r' && w[2] == b'\n')))
    }) || code.ends_with(b"\\\n")
}

fn is_number(w: &[u8]) -> bool {
    w.first().is_some_and(u8::is_ascii_digit)
}

/// The significant tokens of `code`; `None` when it holds something the
/// filter does not read (an unterminated comment, a directive other than
/// a conditional's, a digraph, a template token). A conditional's directive line is one `#` token: a
/// mention may not touch it (`#if A` / `X(a)[0]` / `#else` / `x` /
/// `#endif` / `= 5;` writes when A holds). Its branches are read one
/// after the other; they balance their brackets, or the function reads
/// differently per configuration and is parsed.
fn tokens(code: &[u8]) -> Option<Vec<T<'_>>> {
    let mut out = Vec::new();
    let mut lexer = Lexer::new(code);
    let mut pending: Option<usize> = None;
    let mut line_start = true;
    while let Some(tok) = lexer.next() {
        match tok.kind {
            Tok::Newline => {
                line_start = true;
                continue;
            }
            Tok::Space | Tok::LineComment | Tok::BlockComment { closed: true } => continue,
            Tok::Punct(b'#') if line_start => {
                let end = directive_end(code, tok.start);
                if !CONDITIONALS.contains(&directive(&code[tok.start + 1..end])) {
                    return None;
                }
                out.push(T::Op("#"));
                lexer.seek(end);
                continue;
            }
            _ => {}
        }
        line_start = false;
        match tok.kind {
            Tok::Word => out.push(T::Word(&code[tok.start..tok.end])),
            Tok::Literal => out.push(T::Lit),
            Tok::BlockComment { closed: false } => return None,
            Tok::Punct(_) => {
                // A template token, or a digraph at any byte, even one an
                // operator took (`::>` is `:` and `:>` in C17).
                let rest = &code[tok.start..];
                if rest.starts_with(b"@")
                    || rest.starts_with(b"`")
                    || [&b"<:"[..], b"<%", b"%:", b"%>", b":>"]
                        .iter()
                        .any(|d| rest.starts_with(d))
                {
                    return None;
                }
                // Skip bytes an operator already took.
                if pending.is_some_and(|end| tok.start < end) {
                    continue;
                }
                if let Some(op) = OPS.iter().find(|o| rest.starts_with(o.as_bytes())) {
                    pending = Some(tok.start + op.len());
                    out.push(T::Op(op));
                } else {
                    let b = code[tok.start];
                    let at = ONE.bytes().position(|c| c == b)?;
                    out.push(T::Op(&ONE[at..at + 1]));
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// Whether the source's mention at `i` is `name(...)[...]` read as a value.
/// Parentheses around it are looked through: `(X(a)[0]) = n` writes.
fn element_read(toks: &[T], i: usize) -> bool {
    let Some(args_end) = closing(toks, i + 1, "(", ")") else {
        return false;
    };
    let Some(index_end) = closing(toks, args_end + 1, "[", "]") else {
        return false;
    };
    let mut before = i;
    while before > 0 && toks[before - 1] == T::Op("(") {
        before -= 1;
    }
    let mut after = index_end + 1;
    while toks.get(after) == Some(&T::Op(")")) {
        after += 1;
    }
    let prev = before.checked_sub(1).map(|p| toks[p]);
    let next = toks.get(after).copied();
    if matches!(prev, Some(T::Op(o)) if BAD_BEFORE.contains(&o)) {
        return false;
    }
    !matches!(next, Some(T::Op(o)) if BAD_AFTER.contains(&o))
}

/// The index of the token closing the bracket that opens at `at`.
fn closing(toks: &[T], at: usize, open: &'static str, close: &'static str) -> Option<usize> {
    if toks.get(at) != Some(&T::Op(open)) {
        return None;
    }
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(at) {
        match t {
            T::Op(o) if *o == open => depth += 1,
            T::Op(o) if *o == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(w: &[u8]) -> Mention {
        match w {
            b"PyArray_DIMS" | b"PyArray_SHAPE" => Mention::Source,
            b"PyArrayObject_fields" | b"SET_SHAPE" => Mention::Other,
            _ => Mention::No,
        }
    }

    fn by_value(w: &[u8]) -> bool {
        w == b"to_long"
    }

    fn reads(body: &str) -> bool {
        let code = format!("static int f(PyArrayObject *a, npy_intp n)\n{{\n{body}\n}}\n");
        reads_only(code.as_bytes(), &kind, &by_value)
    }

    #[test]
    fn element_reads_need_no_parse() {
        assert!(reads("    npy_intp m = PyArray_DIMS(a)[0];\n    return m;"));
        assert!(reads(
            "    if (n < PyArray_DIMS(a)[1] && n >= 0) { return 1; }"
        ));
        assert!(reads("    for (i = 0; i < PyArray_DIMS(a)[0]; i++) {}"));
        assert!(reads(
            "    n = PyArray_DIMS(a)[0];\n#if X\n    n = 1;\n#endif"
        ));
        assert!(reads(
            "    n = (PyArray_SHAPE(a)[0]) * 2; /* PyArray_DIMS(a)[0] = n */"
        ));
        assert!(reads("    return PyArray_DIMS(a)[0] + PyArray_DIMS(a)[1];"));
        assert!(reads("    return to_long((PyArray_DIMS(a)[0]));"));
        assert!(reads("    n = sizeof(PyArray_DIMS(a)[0]);"));
        assert!(reads(
            "    /* @property\n# <<< */ n = PyArray_DIMS(a)[0]; s = \"<: %>\";"
        ));
    }

    #[test]
    fn anything_else_is_parsed() {
        for body in [
            "    PyArray_DIMS(a)[0] = n;",
            "    PyArray_DIMS(a)[0] += n;",
            "    PyArray_DIMS(a)[0]++;",
            "    ++PyArray_DIMS(a)[0];",
            "    npy_intp *d = PyArray_DIMS(a);",
            "    npy_intp *p = &PyArray_DIMS(a)[1];",
            "    g(PyArray_DIMS(a));",
            "    g(PyArray_DIMS(a)[0]);",
            "    g((1 + PyArray_DIMS(a)[0]));",
            "    to_long(g(PyArray_DIMS(a)[0]));",
            "    (*fp)(PyArray_DIMS(a)[0]);",
            "    SET_SHAPE(a, 0, n);",
            "    ((PyArrayObject_fields *)a)->nd = 1;",
            "    n = 1;\n#if X\n    PyArray_DIMS(a)[0]\n#else\n    n\n#endif\n    = 5;",
            "    n = PyArray_DIMS(a)[0];\n#define X PyArray_DIMS(a)[0]\n    X = 1;",
            "    n = PyArray_DIMS(a)[0]; \\\n",
            "    n = PyArray_DIMS(a)[0]; if (n) {",
            "    n = PyArray_DIMS(a)??(0??);",
            "    n = PyArray_DIMS(a)<:0:>;",
            "    n = PyArray_DIMS(a)[0] ? 1 ::> 0;",
            "    n = PyArray_DIMS[0];",
            "    n = (PyArray_DIMS)(a)[0];",
            "    n = PyArray_DIMS(a)[0][1];",
            "    n = PyArray_DIMS(@arr@)[0];",
            "    // a comment ending in a trigraph ??/\n    PyArray_DIMS(a)[0] = n;",
            "    (PyArray_DIMS(a)[0]) = n;",
            "    ((PyArray_DIMS(a)[0])) += n;",
            "    ++(PyArray_DIMS(a)[0]);",
            "    p = &(PyArray_DIMS(a)[0]);",
        ] {
            assert!(!reads(body), "{body}");
        }
    }
}
