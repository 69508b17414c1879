//! The lexical write filter: whether every mention of a shape source in a
//! function's code is plainly a read of one element (`n = PyArray_DIMS(a)[i];`,
//! `if (i < PyArray_DIMS(a)[0])`), so the function cannot write the shape
//! and need not be parsed. Conservative by construction: anything else
//! means parse — the storage itself taken (`d = PyArray_DIMS(a)`) or passed
//! (except as the source of `memcpy` or `memmove`, which only read it, and
//! whole as an argument of a plain call, `f(n, PyArray_DIMS(a))`: the
//! callee's name is handed back, and the function is parsed after all if
//! the tree's summary of that name may write through an argument), an
//! element passed to anything but a function the
//! file defines (a macro may write it; a function gets a copy), an
//! assignment, increment or address after a mention, a name the filter
//! does not know as a plain source (a macro of the tree, an accessor
//! through an out-parameter, a flag setter), a field the run analyses
//! reached through `->` (`->dimensions`, with spaces or comments between
//! or not), a preprocessor line, a line continuation, a digraph or
//! trigraph, a character literal with a prefix (`L'x'`), brackets that
//! do not balance. `PyArrayObject_fields` alone
//! is no mention: a cast or a variable of that type reaches an analysed
//! field only through `->`. Its rules are C's (in C++ an
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

/// Keywords and builtins whose parentheses hold a type, an attribute or
/// assembly as well as expressions: what is inside means parse.
const OPAQUE: &[&[u8]] = &[
    b"typeof",
    b"__typeof",
    b"__typeof__",
    b"typeof_unqual",
    b"_Alignof",
    b"alignof",
    b"__alignof",
    b"__alignof__",
    b"_Generic",
    b"_Static_assert",
    b"static_assert",
    b"__attribute",
    b"__attribute__",
    b"__declspec",
    b"asm",
    b"__asm",
    b"__asm__",
    b"defined",
    b"offsetof",
    b"__builtin_offsetof",
    b"_Pragma",
    b"__pragma",
    b"__extension__",
];

/// What the filter knows of a callee's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee {
    /// A function of the file (not also a macro): it gets copies (C).
    ByValue,
    /// The C library's `memcpy` or `memmove` (not redefined as a macro of
    /// the file or the tree): its second argument is only read.
    Copies,
    /// A name the analysis reads a call of in a way of its own (a write,
    /// a free, an accessor): shape storage passed to it means parse.
    Known,
    /// Anything else: a macro may write its arguments, a function may
    /// write through a pointer; what the tree's summary of it says decides.
    Other,
}

/// What the filter makes of a function's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading<'a> {
    /// A mention it cannot prove a read: the function is parsed.
    Parse,
    /// Every mention is a read, or shape storage passed whole to a plain
    /// call of one of these names (sorted, each once): no parse, unless a
    /// summary of one of them may write through an argument.
    Reads(Vec<&'a [u8]>),
}

/// What an open parenthesis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paren {
    /// Grouping, a condition, a cast.
    Group,
    /// The arguments of a function of the file, passed by value (C).
    ByValue,
    /// The arguments of `memcpy`/`memmove` (see [`Callee::Copies`]).
    Copies,
    /// The arguments of anything else: a macro may write them.
    Call,
    /// As `Call`, of a plain name (not a member, not a function pointer):
    /// shape storage passed to it whole is handed back (see
    /// [`Reading::Reads`]).
    Named,
}

/// Whether every mention in `code` (one function, masked as the parser
/// sees it) is a plain read: of one element, of the whole storage as the
/// source of a copy, or of the whole storage passed to a plain call (whose
/// names come back); `fields` are the ndarray fields the run analyses
/// (one reached through `->` means parse), `kind` tells mentions apart,
/// `callee` what a called name is (see [`Callee`]).
pub fn reading<'c>(
    code: &'c [u8],
    fields: &[&str],
    kind: &dyn Fn(&[u8]) -> Mention,
    callee: &dyn Fn(&[u8]) -> Callee,
) -> Reading<'c> {
    if hidden_structure(code) {
        return Reading::Parse;
    }
    let Some(toks) = tokens(code) else {
        return Reading::Parse;
    };
    if macro_statement(&toks) {
        return Reading::Parse;
    }
    // A called name the function also uses otherwise (a parameter or a
    // local pointer to a function, one named `memcpy` too) or declares
    // (`void g(npy_intp *)`, a parameter of function type) is neither the
    // library's copy nor one the tree's summaries decide: each of its uses
    // must be a call in an operand's place.
    let only_called = |w: &[u8]| {
        toks.iter().enumerate().all(|(j, t)| {
            *t != T::Word(w)
                || (toks.get(j + 1) == Some(&T::Op("("))
                    && j.checked_sub(1).is_some_and(|p| operand_place(toks[p])))
        })
    };
    // A field the run analyses, reached through `->` (comments and spaces
    // between, which a byte search for `->dimensions` would not see): an
    // ndarray's pointer, or anything else's, the parse tells which.
    let reaches_field = toks.windows(2).any(|w| match w {
        [T::Op("->"), T::Word(f)] => fields.iter().any(|x| x.as_bytes() == *f),
        // A conditional's line between: the field is in one branch.
        [T::Op("->"), T::Op("#")] => true,
        _ => false,
    });
    if reaches_field {
        return Reading::Parse;
    }
    let mut passed: Vec<&[u8]> = Vec::new();
    // Open brackets: the byte, what a `(` is, and where it is.
    let mut open: Vec<(u8, Paren, usize)> = Vec::new();
    for (i, &tok) in toks.iter().enumerate() {
        match tok {
            T::Op(o @ ("(" | "[" | "{")) => {
                // A member's function pointer (`s->memcpy(...)`) is not the
                // library's function.
                let member = i
                    .checked_sub(2)
                    .is_some_and(|p| matches!(toks[p], T::Op("." | "->" | "::")));
                let paren = match i.checked_sub(1).map(|p| toks[p]) {
                    _ if o != "(" => Paren::Group,
                    Some(T::Word(w)) if NOT_CALLEES.contains(&w) || is_number(w) => Paren::Group,
                    Some(T::Word(w)) if OPAQUE.contains(&w) => Paren::Call,
                    Some(T::Word(w)) if !member => match callee(w) {
                        Callee::ByValue => Paren::ByValue,
                        Callee::Copies if only_called(w) => Paren::Copies,
                        Callee::Other => Paren::Named,
                        Callee::Copies | Callee::Known => Paren::Call,
                    },
                    Some(T::Word(_) | T::Op(")" | "]")) => Paren::Call,
                    _ => Paren::Group,
                };
                open.push((o.as_bytes()[0], paren, i));
            }
            T::Op(c @ (")" | "]" | "}")) => {
                let want = match c {
                    ")" => b'(',
                    "]" => b'[',
                    _ => b'{',
                };
                if open.pop().map(|o| o.0) != Some(want) {
                    return Reading::Parse;
                }
            }
            T::Word(w) => match kind(w) {
                Mention::No => {}
                Mention::Other => return Reading::Parse,
                Mention::Source => {
                    // An element handed to a call or a macro may be written.
                    let in_call = open
                        .iter()
                        .any(|&(_, p, _)| matches!(p, Paren::Call | Paren::Copies | Paren::Named));
                    let read = if element_read(&toks, i) {
                        // A function of the file given the element gets a
                        // copy; its summary is still asked for, as the
                        // parse would ask for it.
                        passed.extend(element_callee(&toks, i, &open));
                        !in_call
                    } else if copy_source(&toks, i, &open) {
                        true
                    } else {
                        match passed_whole(&toks, i, &open) {
                            Some(name) if kind(name) == Mention::No && only_called(name) => {
                                passed.push(name);
                                true
                            }
                            _ => false,
                        }
                    };
                    if !read {
                        return Reading::Parse;
                    }
                }
            },
            _ => {}
        }
    }
    if !open.is_empty() {
        return Reading::Parse;
    }
    passed.sort_unstable();
    passed.dedup();
    Reading::Reads(passed)
}

/// The function of the file whose call has the element read at `i`
/// (`name(...)[...]`, parentheses around it looked through), whole, as an
/// argument: `to_long(n, PyArray_DIMS(a)[0])`.
fn element_callee<'c>(toks: &[T<'c>], i: usize, open: &[(u8, Paren, usize)]) -> Option<&'c [u8]> {
    let args_end = closing(toks, i + 1, "(", ")")?;
    let index_end = closing(toks, args_end + 1, "[", "]")?;
    // The parentheses wrapping the element: groups opened right before it
    // and closed right after it.
    let opened = open
        .iter()
        .rev()
        .zip((0..i).rev())
        .take_while(|&(&(b, p, at), j)| b == b'(' && p == Paren::Group && at == j)
        .count();
    let closed = toks[index_end + 1..]
        .iter()
        .take_while(|t| **t == T::Op(")"))
        .count();
    let m = opened.min(closed);
    let &(_, paren, at) = open.get(open.len().checked_sub(m + 1)?)?;
    let start = i.checked_sub(m + 1)?;
    let after = toks.get(index_end + m + 1);
    let whole =
        (at == start || toks[start] == T::Op(",")) && matches!(after, Some(T::Op("," | ")")));
    match (paren, whole, toks.get(at.checked_sub(1)?)) {
        (Paren::ByValue, true, Some(T::Word(name))) => Some(name),
        _ => None,
    }
}

/// The name of the call the source's mention at `i` is, whole, an argument
/// of (`f(n, PyArray_DIMS(a), m)`): a plain call of a name (see
/// [`Paren::Named`], or a function of the file), inside no other call or
/// macro.
fn passed_whole<'c>(toks: &[T<'c>], i: usize, open: &[(u8, Paren, usize)]) -> Option<&'c [u8]> {
    let (&(_, Paren::Named | Paren::ByValue, at), outer) = open.split_last()? else {
        return None;
    };
    if outer.iter().any(|&(_, p, _)| !matches!(p, Paren::Group)) {
        return None;
    }
    // Right after the call's `(` or a comma of its own level (no bracket
    // opened since), and right before a comma or its `)`.
    if !(i == at + 1 || toks[i - 1] == T::Op(",")) {
        return None;
    }
    let args_end = closing(toks, i + 1, "(", ")")?;
    if !matches!(toks.get(args_end + 1), Some(T::Op("," | ")"))) {
        return None;
    }
    match toks[at - 1] {
        T::Word(name) if clean_statement(toks, at - 1) => Some(name),
        _ => None,
    }
}

/// Tokens after which a call is an expression's operand (a statement
/// starts, or an operator comes before it).
const OPERAND_AFTER: &[&str] = &[
    "(", ",", "=", "!", "?", ":", "{", ";", "}", "&&", "||", "==", "!=", "<", ">", "<=", ">=", "+",
    "-", "/", "%", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=",
];

/// Whether a call right after `before` is an operand: after an operator,
/// `return`, `else`, or a `)` (a cast, a control statement's head).
fn operand_place(before: T) -> bool {
    match before {
        T::Op(")") => true,
        T::Op(o) => OPERAND_AFTER.contains(&o),
        T::Word(w) => matches!(w, b"return" | b"else"),
        T::Lit => false,
    }
}

/// Keywords that begin a statement.
const STATEMENT_KEYWORDS: &[&[u8]] = &[
    b"if",
    b"while",
    b"for",
    b"switch",
    b"return",
    b"do",
    b"else",
    b"goto",
    b"case",
    b"break",
    b"continue",
];

/// Words a control statement's parenthesized head follows.
const CONTROL: &[&[u8]] = &[b"if", b"while", b"for", b"switch"];

/// Words a parenthesized group may follow without being a call's
/// arguments.
const GROUP_AFTER: &[&[u8]] = &[
    b"if", b"while", b"for", b"switch", b"return", b"else", b"case", b"sizeof", b"do",
];

/// Whether the code holds what looks like a macro used as a statement
/// without a semicolon: a word right before a statement keyword
/// (`BEGIN_THREADS` then `if (...)`), or a call right before a word
/// (`GUARD(a)` then `n = ...`). The parser reads the next statement into
/// it, as a declaration or an error, and a mention there is reported as
/// not analysed (DF506): such a function is parsed. A call that is the
/// whole body of an `if (...)` or an `else` without braces is no such
/// macro (see [`if_body`]).
fn macro_statement(toks: &[T]) -> bool {
    let mut parens: Vec<usize> = Vec::new();
    // The `(` each `)` closes.
    let mut opener: Vec<Option<usize>> = vec![None; toks.len()];
    for (j, pair) in toks.windows(2).enumerate() {
        match pair {
            [T::Word(w), T::Word(k)] if STATEMENT_KEYWORDS.contains(k) && *w != b"else" => {
                return true;
            }
            [T::Op("("), _] => parens.push(j),
            [T::Op(")"), next] => {
                let Some(q) = parens.pop() else {
                    return false;
                };
                opener[j] = Some(q);
                let called = match q.checked_sub(1).map(|p| toks[p]) {
                    Some(T::Word(w)) => !GROUP_AFTER.contains(&w) && !is_number(w),
                    Some(T::Op(")" | "]")) => true,
                    _ => false,
                };
                if called && matches!(next, T::Word(_)) && !if_body(toks, &opener, q) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether the call of a name whose arguments open at `q` is the whole
/// body of an `if (...)` or an `else` without braces, as Cython writes
/// `if (unlikely(!t)) __PYX_ERR(0, 13, __pyx_L1_error)` before the next
/// statement. A declaration cannot stand there, so the parser ends the
/// body at the call, a `;` missing, and reads the next statement as it is
/// (every such form tried, with every kind of statement after it, reads so
/// with `--parse-all`; at a block's level a fifth of them did not).
fn if_body(toks: &[T], opener: &[Option<usize>], q: usize) -> bool {
    let Some(name) = q.checked_sub(1) else {
        return false;
    };
    if !matches!(toks[name], T::Word(_)) {
        return false;
    }
    match name.checked_sub(1).map(|p| (p, toks[p])) {
        Some((_, T::Word(w))) => w == b"else",
        Some((p, T::Op(")"))) => opener[p]
            .and_then(|o| o.checked_sub(1))
            .is_some_and(|h| toks[h] == T::Word(b"if")),
        _ => false,
    }
}

/// Whether the statement holding the call of the name at `callee` reads,
/// up to that name, as tree-sitter reads it without an error: the call is
/// an operand (after an operator, `return`, `else`, a control statement's
/// head or a cast), and no group before it in the statement is followed
/// by a word unless it is a control statement's head or a cast
/// (`(x + 1) g(...)`).
fn clean_statement(toks: &[T], callee: usize) -> bool {
    let Some(start) = toks[..callee]
        .iter()
        .rposition(|t| matches!(t, T::Op(";" | "{" | "}" | "#")))
    else {
        return false;
    };
    if toks[start] == T::Op("#") {
        return false;
    }
    if !operand_place(toks[callee - 1]) {
        return false;
    }
    // A word before a statement keyword, or a call before a word, has
    // made the whole function parse already (see [`macro_statement`]);
    // what is left is a group before a word: a control statement's head
    // or a cast.
    for j in start + 1..callee {
        if let (T::Op(")"), T::Word(_)) = (toks[j], toks[j + 1]) {
            let Some(q) = opening(toks, start, j) else {
                return false;
            };
            let before = toks[q - 1];
            let control = matches!(before, T::Word(w) if CONTROL.contains(&w));
            let cast = before != T::Op(")")
                && operand_place(before)
                && toks[q + 1..j]
                    .iter()
                    .all(|t| matches!(t, T::Word(_) | T::Op("*")));
            if !control && !cast {
                return false;
            }
        }
    }
    true
}

/// The index of the `(` that the `)` at `close` closes, after `floor`.
fn opening(toks: &[T], floor: usize, close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for j in (floor + 1..=close).rev() {
        match toks[j] {
            T::Op(")") => depth += 1,
            T::Op("(") => {
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

/// Whether `head`, a definition's code up to its name, ends in a type
/// (a word or `*`): a name with nothing before it (`NRA(name, TYPE) {`, a
/// macro that makes the function) is no definition the parser reads.
pub fn typed_before(head: &[u8]) -> bool {
    let mut lexer = Lexer::new(head);
    let mut last = None;
    while let Some(tok) = lexer.next_code() {
        last = Some(tok);
    }
    last.is_some_and(|t| t.kind == Tok::Word || (t.kind == Tok::Punct(b'*')))
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
/// a conditional's, a digraph, a template token, a quote right after a
/// name). A conditional's directive line is one `#` token: a
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
            // A quote right after a name: a prefixed character (`L'x'`,
            // `u8'x'`), or a number's digit separator (`1'000`) the lexer
            // did not join (it joins those that follow a digit).
            Tok::Literal
                if code[tok.start] == b'\''
                    && tok.start > 0
                    && (code[tok.start - 1].is_ascii_alphanumeric()
                        || code[tok.start - 1] == b'_') =>
            {
                return None;
            }
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

/// Whether the source's mention at `i` is, whole, the second argument of
/// the innermost open call, a copy (`memcpy(d, PyArray_DIMS(a), n)`),
/// inside no other call or macro.
fn copy_source(toks: &[T], i: usize, open: &[(u8, Paren, usize)]) -> bool {
    let Some((&(_, Paren::Copies, at), outer)) = open.split_last() else {
        return false;
    };
    if outer
        .iter()
        .any(|&(_, p, _)| matches!(p, Paren::Call | Paren::Copies | Paren::Named))
    {
        return false;
    }
    let Some(args_end) = closing(toks, i + 1, "(", ")") else {
        return false;
    };
    if toks.get(args_end + 1) != Some(&T::Op(",")) {
        return false;
    }
    // The commas of the call's own level before the mention: exactly one,
    // right before it.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    for (j, t) in toks.iter().enumerate().take(i).skip(at + 1) {
        match t {
            T::Op("(" | "[" | "{") => depth += 1,
            T::Op(")" | "]" | "}") => depth = depth.saturating_sub(1),
            T::Op(",") if depth == 0 => commas.push(j),
            _ => {}
        }
    }
    commas == [i - 1]
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
            b"SET_SHAPE" => Mention::Other,
            _ => Mention::No,
        }
    }

    fn callee(w: &[u8]) -> Callee {
        match w {
            b"to_long" => Callee::ByValue,
            b"memcpy" | b"memmove" => Callee::Copies,
            b"memset" | b"PyArray_UpdateFlags" => Callee::Known,
            _ => Callee::Other,
        }
    }

    /// The fields a default run analyses.
    const FIELDS: &[&str] = &["dimensions"];

    fn reads_only(code: &[u8]) -> bool {
        reading(code, FIELDS, &kind, &callee) == Reading::Reads(Vec::new())
    }

    fn reading_of(body: &str) -> Reading<'static> {
        let code = format!("static int f(PyArrayObject *a, npy_intp n)\n{{\n{body}\n}}\n");
        let code: &'static [u8] = Box::leak(code.into_bytes().into_boxed_slice());
        reading(code, FIELDS, &kind, &callee)
    }

    fn reads(body: &str) -> bool {
        reading_of(body) == Reading::Reads(Vec::new())
    }

    /// The names storage is passed to whole, when nothing else needs a parse.
    fn passes(body: &str) -> Option<Vec<&'static str>> {
        match reading_of(body) {
            Reading::Parse => None,
            Reading::Reads(names) => Some(
                names
                    .into_iter()
                    .map(|n| std::str::from_utf8(n).unwrap())
                    .collect(),
            ),
        }
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
        assert_eq!(
            passes("    return to_long((PyArray_DIMS(a)[0]));"),
            Some(vec!["to_long"])
        );
        assert_eq!(
            passes("    n = to_long(n, PyArray_DIMS(a)[1]) + to_long(n + PyArray_DIMS(a)[0]);"),
            Some(vec!["to_long"])
        );
        assert!(reads("    return to_long(n + PyArray_DIMS(a)[0]);"));
        assert!(reads("    return to_long((PyArray_DIMS(a)[0]) * 2);"));
        assert!(reads("    n = sizeof(PyArray_DIMS(a)[0]);"));
        assert!(reads(
            "    /* @property\n# <<< */ n = PyArray_DIMS(a)[0]; s = \"<: %>\";"
        ));
    }

    #[test]
    fn the_source_of_a_copy_needs_no_parse() {
        assert!(reads(
            "    npy_intp d[32];\n    memcpy(d, PyArray_DIMS(a), PyArray_NDIM(a) * sizeof(npy_intp));\n    d[0] = n;"
        ));
        assert!(reads(
            "    memmove(d + 1, PyArray_SHAPE(a), n * sizeof(*d));"
        ));
        assert!(reads(
            "    if (n) { memcpy(g(x, y), PyArray_DIMS(a), sizeof(npy_intp)); }"
        ));
        assert!(reads(
            "    p = memcpy(d, PyArray_DIMS(a), n) + PyArray_DIMS(a)[0];"
        ));
    }

    #[test]
    fn a_copy_into_the_storage_or_through_anything_else_is_parsed() {
        for body in [
            "    memcpy(PyArray_DIMS(a), d, n);",
            "    memcpy(d, n, PyArray_DIMS(a));",
            "    memcpy(PyArray_DIMS(b), PyArray_DIMS(a), n);",
            "    memcpy(d, PyArray_DIMS(a) + 1, n);",
            "    memcpy(d, 1 + PyArray_DIMS(a), n);",
            "    memcpy(d, (PyArray_DIMS(a)), n);",
            "    memcpy(d, &PyArray_DIMS(a)[0], n);",
            "    memcpy(d, PyArray_DIMS(a)[0], n);",
            "    memcpy(d, PyArray_DIMS(a));",
            "    M(memcpy(d, PyArray_DIMS(a), n));",
            "    s->memcpy(d, PyArray_DIMS(a), n);",
            "    s.memcpy(d, PyArray_DIMS(a), n);",
            "    (*memcpy)(d, PyArray_DIMS(a), n);",
            "    memcpy(d, f(x, y), PyArray_DIMS(a));",
            "    memcpy(d, g(PyArray_DIMS(a), n), n);",
            "    void (*memcpy)(npy_intp *, npy_intp *, size_t) = g;\n    memcpy(d, PyArray_DIMS(a), n);",
            "    copier memcpy = g;\n    memcpy(d, PyArray_DIMS(a), n);",
        ] {
            assert!(!reads(body), "{body}");
        }
        let param =
            "static void f(PyArrayObject *a, void (*memcpy)(npy_intp *, npy_intp *, size_t))\n\
                     {\n    npy_intp d[32];\n    memcpy(d, PyArray_DIMS(a), 8);\n}\n";
        assert!(!reads_only(param.as_bytes()));
    }

    #[test]
    fn storage_passed_whole_to_a_plain_call_hands_back_the_name() {
        assert_eq!(passes("    g(PyArray_DIMS(a));"), Some(vec!["g"]));
        assert_eq!(
            passes("    if (!PyArray_CompareLists(PyArray_DIMS(a), d, n)) { return 0; }"),
            Some(vec!["PyArray_CompareLists"])
        );
        assert_eq!(
            passes(
                "    r = (PyObject *)PyArray_NewFromDescr(&PyArray_Type, d, PyArray_NDIM(a),\n        \
                 PyArray_DIMS(a), NULL, NULL, 0, NULL);\n    return PyArray_DIMS(a)[0];"
            ),
            Some(vec!["PyArray_NewFromDescr"])
        );
        assert_eq!(
            passes("    copy(d, PyArray_DIMS(a), n);\n    to_long(d, PyArray_SHAPE(a));\n    copy(PyArray_DIMS(a), d, n);"),
            Some(vec!["copy", "to_long"])
        );
        assert_eq!(
            passes("    memcpy(d, PyArray_DIMS(a), n);\n    g(PyArray_SHAPE(a), n);"),
            Some(vec!["g"])
        );
        for body in [
            "    if (n) g(PyArray_DIMS(a));",
            "    while (n--) g(PyArray_DIMS(a));",
            "    if (n) { n = 1; } else g(PyArray_DIMS(a));",
            "    r = (PyObject *)g(n, PyArray_DIMS(a));",
            "    return g(PyArray_DIMS(a));",
            "    return (PyObject *)g(PyArray_DIMS(a));",
            "    if (n && !g(PyArray_DIMS(a), n)) { return 0; }",
            "    Py_BEGIN_ALLOW_THREADS\n    r = g(PyArray_DIMS(a));",
            "    exit:\n    g(PyArray_DIMS(a));",
        ] {
            assert_eq!(passes(body), Some(vec!["g"]), "{body}");
        }
    }

    #[test]
    fn a_definition_needs_a_type_before_its_name() {
        assert!(typed_before(b"static PyObject *\n"));
        assert!(typed_before(b"/* f */\nNPY_NO_EXPORT int "));
        assert!(typed_before(b"static int /* x */\n"));
        assert!(!typed_before(b""));
        assert!(!typed_before(b"/* dtype = [['float64']] */\n"));
        assert!(!typed_before(b"}\n\n"));
        assert!(!typed_before(b"MACRO(PyObject *) "));
    }

    #[test]
    fn storage_passed_in_any_other_way_is_parsed() {
        for body in [
            "    g(PyArray_DIMS(a) + 1);",
            "    g(1 + PyArray_DIMS(a));",
            "    g(PyArray_DIMS(a)[0] ? PyArray_DIMS(a) : d);",
            "    g(c ? PyArray_DIMS(a) : d);",
            "    g((PyArray_DIMS(a)));",
            "    g((npy_intp *)PyArray_DIMS(a));",
            "    g(*PyArray_DIMS(a));",
            "    h(x, g(PyArray_DIMS(a)));",
            "    to_long(g(PyArray_DIMS(a)));",
            "    M(n, memcpy(d, e, g(PyArray_DIMS(a))));",
            "    s->g(PyArray_DIMS(a));",
            "    s.g(PyArray_DIMS(a));",
            "    (*g)(PyArray_DIMS(a));",
            "    fp[0](PyArray_DIMS(a));",
            "    memset(PyArray_DIMS(a), 0, n);",
            "    PyArray_UpdateFlags(x, PyArray_DIMS(a));",
            "    PyArray_SHAPE(PyArray_DIMS(a));",
            "    SET_SHAPE(PyArray_DIMS(a));",
            "    n = sizeof(PyArray_DIMS(a));",
            "    return (PyArray_DIMS(a));",
            "    void (*g)(npy_intp *) = h;\n    g(PyArray_DIMS(a));",
            "    p = g;\n    g(PyArray_DIMS(a));",
            "    npy_intp first(npy_intp *d);\n    n = first(PyArray_DIMS(a));",
            "    npy_intp *(first)(npy_intp *d);\n    n = first(PyArray_DIMS(a));",
            "    g(x,\n#if A\n    PyArray_DIMS(a)\n#else\n    d\n#endif\n    );",
            "    g(PyArray_DIMS(a)\n#if A\n    , n\n#endif\n    );",
            // A macro used without a semicolon before the call: the parser
            // reads a declaration, or an error, around the mention.
            "    Py_BEGIN_ALLOW_THREADS\n    g(PyArray_DIMS(a));",
            "    BEGIN_THREADS\n    if (!g(PyArray_DIMS(a))) { n = 1; }",
            "    BEGIN_THREADS\n    return g(PyArray_DIMS(a));",
            "    GUARD(a)\n    r = g(PyArray_DIMS(a));",
            "    GUARD(a)\n    g(PyArray_DIMS(a));",
            "    r = M(x) g(PyArray_DIMS(a));",
            "    r = (x + 1)g(PyArray_DIMS(a));",
            "    npy_intp *g(PyArray_DIMS(a));",
            "    __typeof__(PyArray_DIMS(a)) d;",
            "    n = _Generic(PyArray_DIMS(a), npy_intp *: 1, default: 0);",
            "    r = \"s\" g(PyArray_DIMS(a));",
        ] {
            assert_eq!(passes(body), None, "{body}");
        }
        for param in [
            "void (*g)(npy_intp *)",
            "void g(npy_intp *)",
            "void (g)(npy_intp *)",
        ] {
            let code = format!(
                "static void f(PyArrayObject *a, {param})\n{{\n    g(PyArray_DIMS(a));\n}}\n"
            );
            assert_eq!(
                reading(code.as_bytes(), FIELDS, &kind, &callee),
                Reading::Parse,
                "{param}"
            );
        }
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
            "    g(PyArray_DIMS(a)[0]);",
            "    g((1 + PyArray_DIMS(a)[0]));",
            "    to_long(g(PyArray_DIMS(a)[0]));",
            "    (*fp)(PyArray_DIMS(a)[0]);",
            "    SET_SHAPE(a, 0, n);",
            "    ((PyArrayObject_fields *)a)->dimensions[0] = n;",
            "    ((PyArrayObject_fields *)a)-> /* shape */ dimensions[0] = n;",
            "    PyArrayObject_fields *fa = (PyArrayObject_fields *)a;\n    fa ->\n        dimensions[0] = n;",
            "    n = PyArray_DIMS(a)[0];\n    a->dimensions[0] = n;",
            "    int k = 1'0; ((PyArrayObject_fields *)a)->dimensions[0] = 2'0;",
            "    int k = 1'0; PyArray_DIMS(a)[0] = 2'0;",
            "    ((PyArrayObject_fields *)a)->\n#if 1\n    dimensions[0] = n;\n#endif",
            "    n = PyArray_DIMS(a)[0] + L'x';",
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
            "    __typeof__(PyArray_DIMS(a)[0]) m = n;",
            // A macro used as a statement without a semicolon: the parser
            // reads the next statement into it.
            "    BEGIN_THREADS\n    if (PyArray_DIMS(a)[0] > 1) { n = 1; }",
            "    BEGIN_THREADS\n    return PyArray_DIMS(a)[0];",
            "    GUARD(a)\n    n = PyArray_DIMS(a)[0];",
            "    GUARD(a)\n    n = 1;\n    m = PyArray_DIMS(a)[0];",
            "    { n = 1; } GUARD(a)\n    m = PyArray_DIMS(a)[0];",
            "    if (n) GUARD(a)(n)\n    m = PyArray_DIMS(a)[0];",
            "    if (n) x = GUARD(a)\n    m = PyArray_DIMS(a)[0];",
            "    if (n) BEGIN\n    if (PyArray_DIMS(a)[0] > 1) { n = 1; }",
            "    _Static_assert(sizeof(PyArray_DIMS(a)[0]) == 8, \"size\");",
        ] {
            assert!(!reads(body), "{body}");
        }
    }

    #[test]
    fn a_call_as_the_body_of_an_if_or_else_is_no_statement_macro() {
        for body in [
            "    if (n) ERR(0, 1, L)\n    m = PyArray_DIMS(a)[0];",
            "    if (unlikely(!n)) __PYX_ERR(0, 13, L1)\n    GOTREF(n);\n    m = PyArray_DIMS(a)[0];",
            "    if (n) { m = 0; } else ERR(0, 1, L)\n    if (PyArray_DIMS(a)[0] > 1) { m = 1; }",
            "    if (n) if (m) ERR(0, 1, L)\n    return PyArray_DIMS(a)[0];",
        ] {
            assert!(reads(body), "{body}");
        }
    }

    #[test]
    fn a_field_counts_only_when_the_run_analyses_it() {
        // A cast to the fields type is no mention by itself: only an
        // analysed field reached through `->` is.
        for body in [
            "    return ((PyArrayObject_fields *)a)->nd;",
            "    ((PyArrayObject_fields *)a)->flags |= n;",
            "    PyArrayObject_fields *fa = (PyArrayObject_fields *)a;\n    fa->descr = NULL;",
            "    n = PyArray_DIMS(a)[0] + ((PyArrayObject_fields *)a)->nd;",
            "    int dimensions = 2;\n    return dimensions;",
        ] {
            assert!(reads(body), "{body}");
        }
        let with = |fields: &[&str], body: &str| {
            let code = format!("static int f(PyArrayObject *a, npy_intp n)\n{{\n{body}\n}}\n");
            reading(code.as_bytes(), fields, &kind, &callee) == Reading::Reads(Vec::new())
        };
        let body = "    ((PyArrayObject_fields *)a)->flags |= n;";
        assert!(with(&["dimensions"], body));
        assert!(!with(&["dimensions", "flags"], body));
        let body = "    ((PyArrayObject_fields *)a)->strides[0] = n;";
        assert!(with(&["dimensions"], body));
        assert!(!with(&["dimensions", "strides"], body));
    }
}
