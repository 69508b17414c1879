//! Cheap lexical scans over raw text, used before (or instead of) parsing,
//! on the one tokenizer (`tokens`): does a file define a function or macro,
//! which macros write shapes, its identifiers, where its code is.

use super::tokens::{closing_paren, is_ident, Lexer, Tok};

/// Whether `text` defines a function or function-like macro called `name`:
/// `name (...) {` or `#define name(`.
pub fn defines(text: &str, name: &str) -> bool {
    let t = text.as_bytes();
    for pos in memchr::memmem::find_iter(t, name.as_bytes()) {
        let end = pos + name.len();
        if (pos > 0 && is_ident(t[pos - 1])) || (end < t.len() && is_ident(t[end])) {
            continue;
        }
        let line_start = memchr::memrchr(b'\n', &t[..pos]).map_or(0, |i| i + 1);
        let head: String = text[line_start..pos].split_whitespace().collect();
        if head == "#define" {
            if t.get(end) == Some(&b'(') {
                return true;
            }
            continue;
        }
        let next = Lexer::at(t, end).next_code();
        let Some(open) = next.filter(|tok| tok.kind == Tok::Punct(b'(')) else {
            continue;
        };
        let stop = |b: u8| matches!(b, b';' | b'{' | b'}');
        if let Some(close) = closing_paren(t, open.start, usize::MAX, stop) {
            let body = Lexer::at(t, close + 1).next_code();
            if body.is_some_and(|tok| tok.kind == Tok::Punct(b'{')) {
                return true;
            }
        }
    }
    false
}

/// Which of `names` `text` defines as macros (`#define name`, function-like
/// or not), on a generous reading: a name right after the word `define`
/// (blanks and line continuations between) counts. One pass over the text.
pub fn macros_named(text: &str, names: &[&'static str]) -> Vec<&'static str> {
    let t = text.as_bytes();
    let mut found = Vec::new();
    for pos in memchr::memmem::find_iter(t, b"define") {
        if pos > 0 && is_ident(t[pos - 1]) {
            continue;
        }
        let mut at = pos + b"define".len();
        while at < t.len() && (t[at].is_ascii_whitespace() || t[at] == b'\\') {
            at += 1;
        }
        let end = at + t[at..].iter().take_while(|&&b| is_ident(b)).count();
        let word = &t[at..end];
        if let Some(name) = names.iter().find(|n| n.as_bytes() == word) {
            if !found.contains(name) {
                found.push(*name);
            }
        }
    }
    names
        .iter()
        .copied()
        .filter(|n| found.contains(n))
        .collect()
}

/// A `#define` of the scanned tree (found lexically, or by the parser):
/// `params` is `None` for an object-like macro.
#[derive(Debug, Clone)]
pub struct Define {
    pub name: String,
    pub params: Option<Vec<String>>,
    /// The body with line continuations joined.
    pub body: String,
    /// Where the definition starts (on the line of its `#define`).
    pub at: usize,
}

impl Define {
    /// Whether the body may write something (`=`, `++`, `--`, `mem*`): the
    /// cheap test for a macro worth summarising (DESIGN §2).
    pub fn may_write(&self) -> bool {
        let b = &self.body;
        b.contains('=') || b.contains("++") || b.contains("--") || b.contains("mem")
    }
}

/// Every `#define` in `text`, in order. A directive's logical line (its
/// physical lines continued with `\`) holds a `#`: only the logical lines
/// around each `#` are read, not every line of the text.
pub fn defines_in(text: &str) -> Vec<Define> {
    let t = text.as_bytes();
    let mut out = Vec::new();
    // The start of the first logical line not read yet.
    let mut from = 0;
    while let Some(hash) = memchr::memchr(b'#', &t[from..]).map(|i| from + i) {
        // The logical line holding the `#`: back over the physical lines
        // that continue into it (none before `from`, which starts one).
        let mut start = line_start(t, hash);
        while start > from {
            let above = line_start(t, start - 1);
            if !physical(text, above, start - 1).trim_end().ends_with('\\') {
                break;
            }
            start = above;
        }
        let mut group: Vec<&str> = Vec::new();
        let mut at = start;
        loop {
            let end = memchr::memchr(b'\n', &t[at..]).map_or(t.len(), |i| at + i);
            let line = physical(text, at, end);
            group.push(line);
            at = (end + 1).min(t.len());
            if end == t.len() || !line.trim_end().ends_with('\\') || at == t.len() {
                break;
            }
        }
        from = at.max(hash + 1);
        out.extend(define_of(text, &group));
    }
    out
}

/// Where the physical line holding byte `at` starts.
fn line_start(t: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &t[..at]).map_or(0, |i| i + 1)
}

/// The physical line from `start` to `end` (its `\n`, or the end of the
/// text), without the `\r` of a `\r\n`: what `str::lines` gives.
fn physical(text: &str, start: usize, end: usize) -> &str {
    let line = &text[start..end];
    if end < text.len() {
        line.strip_suffix('\r').unwrap_or(line)
    } else {
        line
    }
}

/// The `#define` one logical line (its physical lines) holds, if any.
fn define_of(text: &str, group: &[&str]) -> Option<Define> {
    // Only a directive is worth joining: its first non-blank byte, across
    // continuations, is `#`.
    let last = group.len() - 1;
    let directive = group
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let l = l.trim_end();
            let l = if k < last {
                l.strip_suffix('\\').unwrap_or(l)
            } else {
                l
            };
            l.trim_start()
        })
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with('#'));
    if !directive {
        return None;
    }
    let mut def = group[0].trim_end().to_string();
    for line in &group[1..] {
        def.pop();
        def.push(' ');
        def.push_str(line.trim_end());
    }
    let rest = def.trim_start().strip_prefix('#')?;
    let rest = rest.trim_start().strip_prefix("define")?;
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let rest = rest.trim_start();
    let name_len = rest.bytes().take_while(|&b| is_ident(b)).count();
    let (name, after) = rest.split_at(name_len);
    if name.is_empty() {
        return None;
    }
    let (params, body) = match after.strip_prefix('(') {
        Some(after) => {
            let close = after.find(')')?;
            let params = after[..close]
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            (Some(params), &after[close + 1..])
        }
        None => (None, after),
    };
    Some(Define {
        name: name.to_string(),
        params,
        body: body.trim().to_string(),
        at: group[0].as_ptr() as usize - text.as_ptr() as usize,
    })
}

/// Macros (function-like or not) whose body mentions one of `needles`:
/// candidates for shape-writing macros and accessors.
pub fn macros_mentioning(text: &str, needles: &[&str]) -> Vec<Define> {
    if !needles.iter().any(|n| text.contains(n)) {
        return Vec::new();
    }
    defines_in(text)
        .into_iter()
        .filter(|d| needles.iter().any(|n| d.body.contains(n)))
        .collect()
}

/// Whether parameter `index` of the last parameter list in `decl` (a
/// prototype or a function pointer declarator) may be written through:
/// a pointer or array whose pointee is not `const` (`npy_intp *`, `void *`,
/// `npy_intp d[]`; not `const npy_intp *` or `npy_intp const *`). Unknown
/// (no such parameter, `...`) counts as writable.
pub fn writable_param(decl: &[u8], index: usize) -> bool {
    // Not the initialiser of `void (*f)(int *) = lookup(x)`.
    let mut depth = 0i32;
    let end = decl
        .iter()
        .position(|&b| {
            match b {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            b == b'=' && depth == 0
        })
        .unwrap_or(decl.len());
    let decl = &decl[..end];
    let Some(close) = decl.iter().rposition(|&b| b == b')') else {
        return true;
    };
    let mut depth = 0i32;
    let mut open = None;
    for i in (0..=close).rev() {
        match decl[i] {
            b')' => depth += 1,
            b'(' => {
                depth -= 1;
                if depth == 0 {
                    open = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(open) = open else { return true };
    let params = split_top_level(&decl[open + 1..close]);
    let Some(p) = params.get(index) else {
        return true;
    };
    let text = String::from_utf8_lossy(p);
    if text.trim() == "..." {
        return true;
    }
    let pointee = match text.rfind('*') {
        Some(star) => &text[..star],
        None if text.contains('[') => &text[..text.find('[').unwrap_or(0)],
        None => return false,
    };
    !pointee
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == "const")
}

/// The comma-separated parts of a parameter list, commas inside
/// parentheses or brackets not counted.
fn split_top_level(list: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, &b) in list.iter().enumerate() {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

/// The mentions of shape sources in the code of `text` (not in comments,
/// strings or preprocessor lines, whose `#define`s the macro summaries
/// account for): words `is_name` accepts, and `->` followed by one of
/// `fields` (`->dimensions`). Their spans, in order.
pub fn mentions(
    text: &[u8],
    is_name: impl Fn(&str) -> bool,
    fields: &[&str],
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut lexer = Lexer::new(text);
    let mut at_line_start = true;
    let mut arrow: Option<usize> = None;
    while let Some(tok) = lexer.next() {
        match tok.kind {
            Tok::Newline => {
                at_line_start = true;
                continue;
            }
            Tok::Space | Tok::LineComment | Tok::BlockComment { .. } => continue,
            Tok::Punct(b'#') if at_line_start => {
                lexer.seek(super::outline::directive_end(text, tok.start));
                continue;
            }
            _ => {}
        }
        at_line_start = false;
        let was_arrow = arrow.take();
        match tok.kind {
            Tok::Punct(b'-') if text.get(tok.end) == Some(&b'>') => {
                lexer.seek(tok.end + 1);
                arrow = Some(tok.start);
            }
            Tok::Word => {
                let word = std::str::from_utf8(&text[tok.start..tok.end]).unwrap_or("");
                match was_arrow {
                    Some(a) if fields.contains(&word) => out.push(a..tok.end),
                    Some(_) => {}
                    None if is_name(word) => out.push(tok.start..tok.end),
                    None => {}
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether the word at `end` is followed by a parenthesised list and a
/// `;`: a declaration (prototype) of that name, at top level.
pub fn declares(text: &[u8], end: usize) -> bool {
    let Some(open) = Lexer::at(text, end)
        .next_code()
        .filter(|k| k.kind == Tok::Punct(b'('))
    else {
        return false;
    };
    let stop = |b: u8| matches!(b, b';' | b'{' | b'}');
    closing_paren(text, open.start, usize::MAX, stop).is_some_and(|close| {
        Lexer::at(text, close + 1)
            .next_code()
            .is_some_and(|k| k.kind == Tok::Punct(b';'))
    })
}

/// Whether a header's code is C++ (a `.h` holding classes, templates or
/// namespaces): C++ keywords that C does not have, or `::`, outside
/// comments, strings, preprocessor lines and `#ifdef __cplusplus` blocks
/// (C headers wrap `extern "C" {` in those).
pub fn is_cpp_text(text: &[u8]) -> bool {
    const CPP_ONLY: &[&str] = &[
        "namespace",
        "template",
        "class",
        "public",
        "private",
        "typename",
    ];
    let mut lexer = Lexer::new(text);
    let mut at_line_start = true;
    // Depth of `#if`s, and the depth at which a `__cplusplus` one opened.
    let mut depth = 0usize;
    let mut cplusplus: Option<usize> = None;
    let mut colon = false;
    while let Some(tok) = lexer.next() {
        match tok.kind {
            Tok::Newline => {
                at_line_start = true;
                continue;
            }
            Tok::Space | Tok::LineComment | Tok::BlockComment { .. } => continue,
            Tok::Punct(b'#') if at_line_start => {
                let end = super::outline::directive_end(text, tok.start);
                let line = &text[tok.start + 1..end];
                match super::outline::directive(line) {
                    "if" | "ifdef" | "ifndef" => {
                        depth += 1;
                        let says = memchr::memmem::find(line, b"__cplusplus").is_some();
                        if says && cplusplus.is_none() {
                            cplusplus = Some(depth);
                        }
                    }
                    "endif" => {
                        if cplusplus == Some(depth) {
                            cplusplus = None;
                        }
                        depth = depth.saturating_sub(1);
                    }
                    _ => {}
                }
                lexer.seek(end);
                continue;
            }
            _ => {}
        }
        at_line_start = false;
        if cplusplus.is_some() {
            continue;
        }
        match tok.kind {
            Tok::Punct(b':') if colon => return true,
            Tok::Punct(b':') => {
                colon = true;
                continue;
            }
            Tok::Word => {
                let word = std::str::from_utf8(&text[tok.start..tok.end]).unwrap_or("");
                if CPP_ONLY.contains(&word) {
                    // `class` and `public` are ordinary identifiers in C:
                    // only as C++ uses them (`class X {`, `public:`).
                    let next = Lexer::at(text, tok.end).next_code().map(|t| t.kind);
                    let cpp = match word {
                        "class" => next == Some(Tok::Word),
                        "public" | "private" => next == Some(Tok::Punct(b':')),
                        "template" => next == Some(Tok::Punct(b'<')),
                        _ => next == Some(Tok::Word) || next == Some(Tok::Punct(b'{')),
                    };
                    if cpp {
                        return true;
                    }
                }
            }
            _ => {}
        }
        colon = false;
    }
    false
}

/// Words a prototype cannot follow (a call can).
const NOT_A_TYPE: &[&str] = &["return", "else", "do", "case", "goto", "sizeof"];

/// A declaration of function `name` without a body (`extern void
/// d_medfilt2(double *, npy_intp *);`): where it starts, and its text up to
/// the closing parenthesis.
pub fn prototype_of<'t>(text: &'t str, name: &str) -> Option<(usize, &'t str)> {
    let t = text.as_bytes();
    for pos in memchr::memmem::find_iter(t, name.as_bytes()) {
        let end = pos + name.len();
        if (pos > 0 && is_ident(t[pos - 1])) || t.get(end).is_some_and(|&b| is_ident(b)) {
            continue;
        }
        let Some(open) = Lexer::at(t, end)
            .next_code()
            .filter(|k| k.kind == Tok::Punct(b'('))
        else {
            continue;
        };
        let stop = |b: u8| matches!(b, b';' | b'{' | b'}');
        let Some(close) = closing_paren(t, open.start, usize::MAX, stop) else {
            continue;
        };
        if !Lexer::at(t, close + 1)
            .next_code()
            .is_some_and(|k| k.kind == Tok::Punct(b';'))
        {
            continue;
        }
        // What precedes the name must be a type: a word or a `*`.
        let line_start = memchr::memrchr(b'\n', &t[..pos]).map_or(0, |i| i + 1);
        let before = text[line_start..pos].trim_end();
        let prev_word: &str = before
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        let typed = before.ends_with('*')
            || (!prev_word.is_empty()
                && before.ends_with(prev_word)
                && !NOT_A_TYPE.contains(&prev_word));
        if typed {
            return Some((line_start, &text[line_start..=close]));
        }
    }
    None
}

/// A top-level use of a function-like macro of `text` whose body defines a
/// function (`MEDIAN_FILTER_2D(d_medfilt2, double, d_quick_select)`, the
/// macro's body `void NAME(TYPE *in, ...) { ... }`), with `name` among its
/// arguments: the macro's expansion there (parameters replaced, `##`
/// pasted) and where the use is.
pub fn macro_defining(text: &str, name: &str) -> Option<(usize, String)> {
    let t = text.as_bytes();
    let defines: Vec<Define> = defines_in(text)
        .into_iter()
        .filter(|d| d.params.is_some() && d.body.contains('{'))
        .collect();
    if defines.is_empty() {
        return None;
    }
    for pos in memchr::memmem::find_iter(t, name.as_bytes()) {
        let line_start = memchr::memrchr(b'\n', &t[..pos]).map_or(0, |i| i + 1);
        let Some(first) = Lexer::at(t, line_start).next_code() else {
            continue;
        };
        if first.kind != Tok::Word || first.start == pos {
            continue;
        }
        let macro_name = &text[first.start..first.end];
        let Some(def) = defines.iter().find(|d| d.name == macro_name) else {
            continue;
        };
        let Some(open) = Lexer::at(t, first.end)
            .next_code()
            .filter(|k| k.kind == Tok::Punct(b'('))
        else {
            continue;
        };
        let Some(close) = closing_paren(t, open.start, usize::MAX, |b| b == b'{' || b == b';')
        else {
            continue;
        };
        let args: Vec<String> = split_top_level(&t[open.start + 1..close])
            .into_iter()
            .map(|a| String::from_utf8_lossy(a).trim().to_string())
            .collect();
        if !args.iter().any(|a| a == name) {
            continue;
        }
        return Some((line_start, expand(def, &args)));
    }
    None
}

/// A function-like macro's body with its parameters replaced by `args`
/// and `##` pasted.
fn expand(def: &Define, args: &[String]) -> String {
    let params = def.params.as_deref().unwrap_or_default();
    let body = def.body.as_bytes();
    let mut out = String::with_capacity(body.len());
    for tok in Lexer::new(body) {
        let word = &def.body[tok.start..tok.end];
        match params.iter().position(|p| p == word) {
            Some(i) if tok.kind == Tok::Word => {
                out.push_str(args.get(i).map_or("", String::as_str))
            }
            _ => out.push_str(word),
        }
    }
    let mut pasted = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("##") {
        pasted.push_str(rest[..at].trim_end());
        rest = rest[at + 2..].trim_start();
    }
    pasted.push_str(rest);
    pasted
}

/// Names declared with type `ty *` anywhere in `text` (globals, struct
/// fields, parameters, locals): `PyArrayObject *buf;`.
pub fn pointer_names(text: &[u8], ty: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for pos in memchr::memmem::find_iter(text, ty.as_bytes()) {
        let end = pos + ty.len();
        if (pos > 0 && is_ident(text[pos - 1])) || text.get(end).is_some_and(|&b| is_ident(b)) {
            continue;
        }
        let mut lexer = Lexer::at(text, end);
        let mut stars = 0;
        let name = loop {
            match lexer.next_code() {
                Some(t) if t.kind == Tok::Punct(b'*') => stars += 1,
                Some(t) if t.kind == Tok::Word && stars > 0 => break Some(t),
                _ => break None,
            }
        };
        let Some(name) = name else { continue };
        let after = lexer.next_code().map(|t| t.kind);
        if matches!(after, Some(Tok::Punct(b';' | b',' | b'=' | b')' | b'[')))
            && !text[name.start].is_ascii_digit()
        {
            out.insert(String::from_utf8_lossy(&text[name.start..name.end]).into_owned());
        }
    }
    out
}

/// Function-like macros whose body mentions one of `needles` and may write
/// (`=`, `++`, `--`, `mem*`): candidates for shape-writing macros.
pub fn writing_macros(text: &str, needles: &[&str]) -> Vec<Define> {
    defines_in(text)
        .into_iter()
        .filter(|d| {
            d.params.is_some() && d.may_write() && needles.iter().any(|n| d.body.contains(n))
        })
        .collect()
}

/// The identifiers of a piece of code, skipping comments, strings and
/// character literals.
pub fn identifiers(code: &str) -> Vec<&str> {
    identifiers_at(code).into_iter().map(|(_, id)| id).collect()
}

/// The identifiers of a piece of code with their byte offsets.
pub fn identifiers_at(code: &str) -> Vec<(usize, &str)> {
    let t = code.as_bytes();
    Lexer::new(t)
        .filter(|tok| tok.kind == Tok::Word && !t[tok.start].is_ascii_digit())
        // `@TYPE@` is a template token of a `.c.src` file, not a name.
        .filter(|tok| !(tok.start > 0 && t[tok.start - 1] == b'@' && t.get(tok.end) == Some(&b'@')))
        .map(|tok| (tok.start, &code[tok.start..tok.end]))
        .collect()
}

/// Where a text's comments, strings and character literals are, to tell
/// whether positions are in code ([`CodeMap::in_code`]) in one pass.
#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// Sorted, disjoint `[start, end)` ranges that are not code; an
    /// unterminated comment ends at `usize::MAX`.
    ranges: Vec<(usize, usize)>,
}

impl CodeMap {
    pub fn new(text: &str) -> CodeMap {
        let mut lexer = Lexer::new(text.as_bytes());
        let ranges = std::iter::from_fn(|| lexer.next_non_code())
            .map(|tok| match tok.kind {
                Tok::BlockComment { closed: false } => (tok.start, usize::MAX),
                _ => (tok.start, tok.end),
            })
            .collect();
        CodeMap { ranges }
    }

    /// Whether `pos` is in code as the text is written: not inside a
    /// comment, a string or a character literal (an unterminated `/*`
    /// before it counts as a comment running on). Inserted text must only
    /// go there: a `*/` in an inserted comment would otherwise end a
    /// comment the file opened earlier.
    pub fn in_code(&self, pos: usize) -> bool {
        let before = self.ranges.partition_point(|&(start, _)| start < pos);
        before == 0 || self.ranges[before - 1].1 <= pos
    }
}

/// Whether a line (without its newline) ends in a line continuation: a
/// backslash, or `??/`, which is one under the trigraphs of -std=c99 and
/// c11 (even at the end of a `//` comment). A line inserted after it, or
/// removed from after it, would change what the compiler reads.
pub fn continues(line: &str) -> bool {
    // GCC and Clang join a line whose backslash only blanks follow (a
    // form feed, a vertical tab, a NUL among them).
    let l = line.trim_end_matches(['\r', ' ', '\t', '\x0b', '\x0c', '\0']);
    l.ends_with('\\') || l.ends_with("??/")
}

#[cfg(test)]
mod tests {

    /// Every `#define`, read line by line as a whole: the reference the
    /// reading around each `#` must agree with.
    fn defines_line_by_line(text: &str) -> Vec<Define> {
        let mut out = Vec::new();
        let mut lines = text.lines();
        let mut group: Vec<&str> = Vec::new();
        while let Some(line) = lines.next() {
            group.clear();
            group.push(line);
            while group[group.len() - 1].trim_end().ends_with('\\') {
                match lines.next() {
                    Some(next) => group.push(next),
                    None => break,
                }
            }
            out.extend(define_of(text, &group));
        }
        out
    }

    #[test]
    fn defines_read_around_each_hash_as_line_by_line() {
        let mut texts: Vec<String> = [
            "#define A 1\n",
            "#define A 1",
            "  \\\n#define B(x) (x)\nint y;\n",
            "int a = 1 + \\\n#define NOT 2\n;\n#define C 3 \\\n  + 4\n",
            "x # y\n#define D 4\r\n#  define E(a, b) \\\r\n  a ## b\r\n",
            "#define F \\",
            "#define G \\\n",
            "#define H 1\r",
            "\\\n\\\n#define I 9\n#\n##\n#define\n#define J\n# define K(\n",
            "s = \"#define L 1\";\n#define M \\ \n  5\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut dirs = vec![fixtures];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
        assert!(texts.len() > 100);
        let mut found = 0;
        for text in &texts {
            let fast = format!("{:?}", defines_in(text));
            assert_eq!(fast, format!("{:?}", defines_line_by_line(text)), "{text}");
            found += defines_in(text).len();
        }
        assert!(found > 30, "{found}");
    }

    use super::*;

    #[test]
    fn library_names_redefined_as_macros() {
        let names = &["memcpy", "memmove", "memset"];
        let text = "#define memcpy my_memcpy\n#  define   memmove(d, s, n) g(s)\n\
                    memset(p, 0, n);\n#define memset_s 1\n#undef memset\n";
        assert_eq!(macros_named(text, names), ["memcpy", "memmove"]);
        let continued = "#define \\\n  memset(p, v, n) q\n";
        assert_eq!(macros_named(continued, names), ["memset"]);
        assert!(macros_named("x = memcpy(d, s, n); /* redefine */", names).is_empty());
    }

    #[test]
    fn continuations_as_a_compiler_reads_them() {
        assert!(continues("#define X \\"));
        assert!(continues("    // a comment ??/"));
        assert!(continues("x = 1; \\ \r"));
        assert!(!continues("    // plain"));
        assert!(!continues("a = b / c;"));
    }

    #[test]
    fn code_positions() {
        let text = "int a; /* c */ int b = '\\''; \"s/*\"; // x\nint c;\n";
        let map = CodeMap::new(text);
        assert!(map.in_code(text.find("int b").unwrap()));
        assert!(!map.in_code(text.find(" c ").unwrap()));
        assert!(!map.in_code(text.find("s/*").unwrap()));
        assert!(map.in_code(text.find("int c").unwrap()));
        let open = "/* never closed\nint f(void) { return 0; }\n";
        assert!(!CodeMap::new(open).in_code(open.find("int f").unwrap()));
    }

    #[test]
    fn finds_definitions_not_calls() {
        let text =
            "int f(int);\nint g(void) { return f(1); }\nstatic int\nf(int x) /* c */\n{\n}\n";
        assert!(defines(text, "f"));
        assert!(defines(text, "g"));
        assert!(!defines("x = f(1);\nint f(int a);\n", "f"));
        assert!(defines("#define SWAP(a, b) x\n", "SWAP"));
        assert!(!defines("#define SWAPX(a) x\n", "SWAP"));
    }

    #[test]
    fn finds_shape_writing_macros() {
        let text = "#define SET_DIM(a, i, v) \\\n    (PyArray_DIMS(a)[i] = (v))\n#define GET(a) PyArray_DIMS(a)[0]\n";
        let found = writing_macros(text, &["PyArray_DIMS"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "SET_DIM");
        assert_eq!(
            found[0].params.as_deref(),
            Some(&["a", "i", "v"].map(String::from)[..])
        );
        assert_eq!(found[0].at, 0);
    }

    #[test]
    fn lists_every_define() {
        let text = "#define N 3\n  #  define F(x, y) \\\n  ((x) + N)\n#defineX 1\nint a;\n";
        let found = defines_in(text);
        let names: Vec<&str> = found.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["N", "F"]);
        assert_eq!(found[0].params, None);
        assert_eq!(found[0].body, "3");
        assert_eq!(
            found[1].params.as_deref(),
            Some(&["x".to_string(), "y".to_string()][..])
        );
        assert_eq!(found[1].body, "((x) + N)");
        assert_eq!(found[1].at, text.find("  #  define").unwrap());
    }

    #[test]
    fn identifiers_skip_comments_strings_and_numbers() {
        let code = "a = b_1 /* c */ + 0x1f + f('d', \"e f\", NPY_@TYPE@); // g\nh";
        assert_eq!(identifiers(code), ["a", "b_1", "f", "NPY_", "h"]);
    }
}
