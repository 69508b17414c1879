//! The one C tokenizer behind every scan of raw text before (or instead of)
//! parsing: the lexical outline, the search for definitions, identifiers,
//! where comments and strings are, attribute-macro argument lists. It does
//! not expand macros or join continued lines; it knows just enough C to
//! tell code from comments and literals: `/* */` (unterminated: to the
//! end), `//` (to the end of the line), `"..."` and `'...'` (backslash
//! escapes; unterminated: to the end of the line), runs of identifier
//! bytes, blanks, newlines, and every other byte on its own.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// Spaces, tabs, carriage returns, form feeds.
    Space,
    Newline,
    LineComment,
    BlockComment {
        closed: bool,
    },
    /// A string or character literal.
    Literal,
    /// A run of `[A-Za-z0-9_]`: an identifier, a keyword, or a number.
    Word,
    /// Any other byte (punctuation, `#`, a byte of a multi-byte character,
    /// a vertical tab).
    Punct(u8),
}

impl Tok {
    /// Comments and blanks: what separates code.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            Tok::Space | Tok::Newline | Tok::LineComment | Tok::BlockComment { .. }
        )
    }
}

/// A token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// Byte classes, looked up once per byte: identifier bytes and blanks.
const IDENT: u8 = 1;
const BLANK: u8 = 2;
static CLASS: [u8; 256] = {
    let mut c = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let x = b as u8;
        if x.is_ascii_alphanumeric() || x == b'_' {
            c[b] = IDENT;
        } else if matches!(x, b' ' | b'\t' | b'\r' | b'\x0c') {
            c[b] = BLANK;
        }
        b += 1;
    }
    c
};

/// Whether `b` can be part of an identifier (or a number).
#[inline]
pub fn is_ident(b: u8) -> bool {
    CLASS[b as usize] == IDENT
}

/// The end of the run of bytes of `class` from `start`.
#[inline(always)]
fn run_end(t: &[u8], start: usize, class: u8) -> usize {
    let mut i = start;
    while i < t.len() && CLASS[t[i] as usize] == class {
        i += 1;
    }
    i
}

/// The end of the word (identifier or number) at `start`. A number goes
/// on through C23's (and C++14's) digit separators: `1'000` is one number,
/// not `1` and a character literal running to the next quote.
#[inline(always)]
fn word_end(t: &[u8], start: usize) -> usize {
    let mut end = run_end(t, start, IDENT);
    if t[start].is_ascii_digit() {
        while t.get(end) == Some(&b'\'') && t.get(end + 1).is_some_and(|&b| is_ident(b)) {
            end = run_end(t, end + 1, IDENT);
        }
    }
    end
}

/// Whether the quote at `at` separates digits of a number (`1'000`), as
/// met when a search lands on it rather than on the number's start.
fn digit_separator(t: &[u8], at: usize) -> bool {
    if !t.get(at + 1).is_some_and(|&b| is_ident(b)) {
        return false;
    }
    let mut s = at;
    while s > 0 && (is_ident(t[s - 1]) || t[s - 1] == b'\'') {
        s -= 1;
    }
    s < at && t[s].is_ascii_digit() && word_end(t, s) > at
}

/// Tokens of a text, from a position on.
#[derive(Debug, Clone)]
pub struct Lexer<'t> {
    text: &'t [u8],
    pos: usize,
}

impl<'t> Lexer<'t> {
    pub fn new(text: &'t [u8]) -> Self {
        Lexer { text, pos: 0 }
    }

    /// Tokens from `pos` on.
    pub fn at(text: &'t [u8], pos: usize) -> Self {
        Lexer { text, pos }
    }

    /// Go on from `pos` (past a preprocessor line, say).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The next token that is not trivia.
    pub fn next_code(&mut self) -> Option<Token> {
        self.find(|t| !t.kind.is_trivia())
    }

    /// The next comment or literal, jumping over the code before it: the
    /// same tokens `next` gives, found without a token per word.
    pub fn next_non_code(&mut self) -> Option<Token> {
        loop {
            let rest = self.text.get(self.pos..)?;
            let at = self.pos + memchr::memchr3(b'/', b'"', b'\'', rest)?;
            self.pos = at;
            let tok = self.next()?;
            if matches!(
                tok.kind,
                Tok::LineComment | Tok::BlockComment { .. } | Tok::Literal
            ) {
                return Some(tok);
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    #[inline(always)]
    fn next(&mut self) -> Option<Token> {
        let t = self.text;
        let start = self.pos;
        let b = *t.get(start)?;
        let (kind, end) = match CLASS[b as usize] {
            IDENT => (Tok::Word, word_end(t, start)),
            BLANK => (Tok::Space, run_end(t, start, BLANK)),
            _ => match b {
                b'\n' => (Tok::Newline, start + 1),
                b'/' | b'"' | b'\'' => comment_or_literal(t, start),
                b => (Tok::Punct(b), start + 1),
            },
        };
        self.pos = end;
        Some(Token { kind, start, end })
    }
}

/// A comment or a literal at `start` (a `/` that starts neither is
/// punctuation); out of line, so the common tokens stay cheap.
#[inline(never)]
fn comment_or_literal(t: &[u8], start: usize) -> (Tok, usize) {
    match (t[start], t.get(start + 1)) {
        (b'/', Some(b'*')) => match memchr::memmem::find(&t[start + 2..], b"*/") {
            Some(e) => (Tok::BlockComment { closed: true }, start + 2 + e + 2),
            None => (Tok::BlockComment { closed: false }, t.len()),
        },
        (b'/', Some(b'/')) => (Tok::LineComment, line_comment_end(t, start)),
        (b'/', _) => (Tok::Punct(b'/'), start + 1),
        (b'\'', _) if digit_separator(t, start) => (Tok::Word, word_end(t, start + 1)),
        _ => (Tok::Literal, literal_end(t, start)),
    }
}

/// The end of a `//` comment starting at `start`: its line's newline, or
/// a later one when a backslash right before the newline continues the
/// line (lines are joined before comments are found).
fn line_comment_end(t: &[u8], start: usize) -> usize {
    let mut from = start;
    while let Some(e) = memchr::memchr(b'\n', &t[from..]) {
        let nl = from + e;
        let line = &t[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.ends_with(b"\\") {
            return nl;
        }
        from = nl + 1;
    }
    t.len()
}

/// The end of a string or character literal starting at `start`: after
/// its closing quote, or at the end of its line when it has none (a
/// backslash escapes the next byte, a newline too).
fn literal_end(t: &[u8], start: usize) -> usize {
    literal_scan(t, start).0
}

/// Whether the string or character literal starting at `start` has its
/// closing quote (see [`literal_end`]).
pub fn literal_closes(t: &[u8], start: usize) -> bool {
    literal_scan(t, start).1
}

fn literal_scan(t: &[u8], start: usize) -> (usize, bool) {
    let quote = t[start];
    let mut i = start + 1;
    while i < t.len() {
        match t[i] {
            b'\\' => i += 2,
            b'\n' => return (i, false),
            c if c == quote => return (i + 1, true),
            _ => i += 1,
        }
    }
    (t.len(), false)
}

/// The `)` matching the `(` at `open` (comments and literals skipped), or
/// `None` when there is none before `limit` bytes or a byte `stop` accepts.
pub fn closing_paren(
    text: &[u8],
    open: usize,
    limit: usize,
    stop: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut depth = 0usize;
    for tok in Lexer::at(text, open) {
        if tok.start >= open.saturating_add(limit) {
            return None;
        }
        match tok.kind {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(tok.start);
                }
            }
            Tok::Punct(b) if stop(b) => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Tok, &str)> {
        Lexer::new(text.as_bytes())
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    #[test]
    fn comments_literals_words_and_punctuation() {
        assert_eq!(
            kinds("a_1 /* x */ \"s\\\"\" 'c'// end\n#"),
            [
                (Tok::Word, "a_1"),
                (Tok::Space, " "),
                (Tok::BlockComment { closed: true }, "/* x */"),
                (Tok::Space, " "),
                (Tok::Literal, "\"s\\\"\""),
                (Tok::Space, " "),
                (Tok::Literal, "'c'"),
                (Tok::LineComment, "// end"),
                (Tok::Newline, "\n"),
                (Tok::Punct(b'#'), "#"),
            ]
        );
    }

    #[test]
    fn digit_separators_are_part_of_the_number() {
        assert_eq!(
            kinds("1'000 x'a' 0x1'F L'q'"),
            [
                (Tok::Word, "1'000"),
                (Tok::Space, " "),
                (Tok::Word, "x"),
                (Tok::Literal, "'a'"),
                (Tok::Space, " "),
                (Tok::Word, "0x1'F"),
                (Tok::Space, " "),
                (Tok::Word, "L"),
                (Tok::Literal, "'q'"),
            ]
        );
        // A search that lands on the separator reads on as the number does.
        let text = b"n = 1'000'000; c = 'x';";
        let mut lexer = Lexer::new(text);
        let literals: Vec<&[u8]> = std::iter::from_fn(|| lexer.next_non_code())
            .map(|t| &text[t.start..t.end])
            .collect();
        assert_eq!(literals, [&b"'x'"[..]]);
    }

    #[test]
    fn unterminated_things_end_where_a_compiler_would_stop() {
        assert_eq!(
            kinds("/* open"),
            [(Tok::BlockComment { closed: false }, "/* open")]
        );
        assert_eq!(
            kinds("\"open\nx"),
            [
                (Tok::Literal, "\"open"),
                (Tok::Newline, "\n"),
                (Tok::Word, "x")
            ]
        );
        // A backslash before the newline continues the literal.
        assert_eq!(kinds("'a\\\nb'")[0], (Tok::Literal, "'a\\\nb'"));
        // And a `//` comment, not after a space between them.
        assert_eq!(
            kinds("// a \\\r\n b\nc // d \\ \ne"),
            [
                (Tok::LineComment, "// a \\\r\n b"),
                (Tok::Newline, "\n"),
                (Tok::Word, "c"),
                (Tok::Space, " "),
                (Tok::LineComment, "// d \\ "),
                (Tok::Newline, "\n"),
                (Tok::Word, "e"),
            ]
        );
    }

    #[test]
    fn non_code_tokens_are_the_comments_and_literals_of_the_whole_walk() {
        let text = b"a / b; /* c */ x = '/'; // d \"\n s = \"e/f\"; /* open";
        let all: Vec<Token> = Lexer::new(text)
            .filter(|t| {
                matches!(
                    t.kind,
                    Tok::LineComment | Tok::BlockComment { .. } | Tok::Literal
                )
            })
            .collect();
        let mut lexer = Lexer::new(text);
        let fast: Vec<Token> = std::iter::from_fn(|| lexer.next_non_code()).collect();
        assert_eq!(fast, all);
        assert_eq!(fast.len(), 5);
    }

    #[test]
    fn parentheses_match_past_comments_and_literals() {
        let t = b"f(a /* ) */, \")\", (b)) x";
        assert_eq!(closing_paren(t, 1, usize::MAX, |_| false), Some(21));
        assert_eq!(closing_paren(b"(a; b)", 0, usize::MAX, |b| b == b';'), None);
        assert_eq!(closing_paren(b"(aaaa)", 0, 3, |_| false), None);
    }
}
