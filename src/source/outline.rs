//! A fast lexical outline of a C file's top-level function definitions, so
//! that only the functions that can hit are parsed: the others are blanked
//! (spaces, newlines kept), which keeps every byte offset true. When the
//! outline is unsure — unbalanced braces, a preprocessor branch that opens
//! or closes a block — there is no outline, and the whole file is parsed.

use super::tokens::{is_ident, Lexer, Tok};

/// A top-level function definition: its name and byte range (from the end
/// of the previous top-level item to its closing brace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// The top-level function definitions of `text` (masked: attribute macros
/// and template tokens already blanked), or `None` when unsure.
pub fn functions(text: &[u8], lang: super::Lang) -> Option<Vec<Function>> {
    match lang {
        super::Lang::C => c_functions(text),
        super::Lang::Cpp => None,
    }
}

/// [`functions`] of a C text.
fn c_functions(text: &[u8]) -> Option<Vec<Function>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    // Where the current top-level item began, and the last significant
    // byte seen at depth 0 before a `{`.
    let mut item_start = 0usize;
    let mut last_sig: Option<usize> = None;
    let mut body_start: Option<usize> = None;
    // Brace depth at each open `#if`, and the depth change of its branches.
    let mut conditions: Vec<(usize, Option<isize>)> = Vec::new();
    let mut at_line_start = true;
    let mut extern_c = 0usize;
    let mut lexer = Lexer::new(text);
    while let Some(tok) = lexer.next() {
        let i = tok.start;
        match tok.kind {
            // The common case first: a word is significant, nothing more.
            Tok::Word => {
                at_line_start = false;
                if depth == 0 {
                    last_sig = Some(tok.end - 1);
                }
                continue;
            }
            Tok::Newline => {
                at_line_start = true;
                continue;
            }
            Tok::Space | Tok::Punct(b'\x0b') | Tok::LineComment | Tok::BlockComment { .. } => {
                continue
            }
            Tok::Punct(b'#') if at_line_start => {
                let end = directive_end(text, i);
                let word = directive(&text[i + 1..end]);
                depth = conditional(word, depth, &mut conditions)?;
                if depth == 0 {
                    item_start = end;
                    last_sig = None;
                }
                lexer.seek(end);
                continue;
            }
            Tok::Literal => {
                at_line_start = false;
                continue;
            }
            _ => {}
        }
        at_line_start = false;
        match tok.kind {
            Tok::Punct(b'{') if depth == 0 && is_extern_c(&text[item_start..i]) => {
                // `extern "C" {` only wraps declarations: see through it.
                extern_c += 1;
                item_start = i + 1;
                last_sig = None;
                continue;
            }
            Tok::Punct(b'{') => {
                if depth == 0 {
                    body_start = (last_sig.map(|p| text[p]) == Some(b')')).then_some(i);
                }
                depth += 1;
            }
            Tok::Punct(b'}') if depth == 0 && extern_c > 0 => {
                extern_c -= 1;
                item_start = i + 1;
                last_sig = None;
                continue;
            }
            Tok::Punct(b'}') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    if let Some(body) = body_start.take() {
                        if let Some(name) = function_name(&text[item_start..body]) {
                            out.push(Function {
                                name,
                                start: item_start,
                                end: i + 1,
                            });
                        }
                        item_start = i + 1;
                        last_sig = None;
                        continue;
                    }
                    // A block that no header came before as the outline
                    // reads it (a K&R definition, whose header ends in
                    // `;`): the next item starts after it, not with it.
                    if last_sig.is_none() {
                        item_start = i + 1;
                        last_sig = None;
                        continue;
                    }
                }
            }
            Tok::Punct(b';') if depth == 0 => {
                item_start = i + 1;
                last_sig = None;
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            last_sig = Some(tok.end - 1);
        }
    }
    (depth == 0 && extern_c == 0 && conditions.is_empty()).then_some(out)
}

/// The brace depth after a preprocessor directive `word`, or `None` when
/// the branches are not understood. Every branch of a conditional must
/// leave the brace depth where the first one did (`#if A` / `if (a) {` /
/// `#else` / `if (b) {` / `#endif` is fine inside a body); a function
/// header split across branches is not understood.
fn conditional(
    word: &str,
    depth: usize,
    conditions: &mut Vec<(usize, Option<isize>)>,
) -> Option<usize> {
    match word {
        "if" | "ifdef" | "ifndef" => conditions.push((depth, None)),
        "elif" | "else" => {
            let (start, first) = conditions.last_mut()?;
            let delta = depth as isize - *start as isize;
            if delta != 0 && *start == 0 {
                return None;
            }
            match first {
                None => *first = Some(delta),
                Some(d) if *d != delta => return None,
                Some(_) => {}
            }
            return Some(*start);
        }
        "endif" => {
            let (start, first) = conditions.pop()?;
            let delta = depth as isize - start as isize;
            if first.is_some_and(|d| d != delta) {
                return None;
            }
        }
        _ => {}
    }
    Some(depth)
}

fn is_extern_c(item: &[u8]) -> bool {
    let words: Vec<&[u8]> = item
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words == [b"extern".as_slice(), b"\"C\"".as_slice()]
}

/// End of a preprocessor line, continuation lines included.
pub(super) fn directive_end(text: &[u8], start: usize) -> usize {
    let mut i = start;
    loop {
        match memchr::memchr(b'\n', &text[i..]) {
            None => return text.len(),
            Some(e) => {
                let nl = i + e;
                let before = text[..nl].iter().rev().find(|&&c| c != b'\r');
                if before == Some(&b'\\') {
                    i = nl + 1;
                } else {
                    return nl;
                }
            }
        }
    }
}

pub(super) fn directive(line: &[u8]) -> &str {
    let s = std::str::from_utf8(line).unwrap_or("");
    let s = s.trim_start();
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    &s[..end]
}

/// The declared name in a function header: the identifier before the
/// first top-level `(`, looking inside a parenthesised declarator
/// (`(*name(int))(void)`, a function returning a function pointer).
fn function_name(header: &[u8]) -> Option<String> {
    // A bounded loop, not recursion: the nesting is the input's to choose,
    // and real declarators nest a level or two.
    let mut h = header;
    let mut inside = false;
    for _ in 0..16 {
        match name_step(h) {
            Step::Name(name) => return Some(name),
            Step::Inside(inner) => {
                h = inner;
                inside = true;
            }
            Step::Nothing => return if inside { last_identifier(h) } else { None },
        }
    }
    None
}

/// What one look at a declarator finds.
enum Step<'a> {
    Name(String),
    /// A parenthesised declarator: look inside.
    Inside(&'a [u8]),
    Nothing,
}

/// The declarator's name: the identifier before the last top-level
/// parenthesised group (the parameters), so that a macro call on a line
/// of its own before the function (`EXPORT(int)` as the return type, or a
/// macro defining something else with no `;` after it) is not taken for
/// the function; or, when that group follows another one
/// (`(*name(int))(void)`), what is inside the other.
fn name_step(header: &[u8]) -> Step<'_> {
    let mut depth = 0i32;
    // The last two top-level groups, and the last code token before the
    // last one opened.
    let mut groups: [Option<(usize, usize)>; 2] = [None, None];
    let mut open_at = 0usize;
    let mut before_open: Option<(Tok, usize, usize)> = None;
    let mut prev: Option<(Tok, usize, usize)> = None;
    for tok in Lexer::new(header) {
        if tok.kind.is_trivia() {
            continue;
        }
        match tok.kind {
            Tok::Punct(b'(') => {
                if depth == 0 {
                    open_at = tok.start;
                    before_open = prev;
                }
                depth += 1;
            }
            Tok::Punct(b')') => {
                depth -= 1;
                if depth == 0 {
                    groups = [groups[1], Some((open_at, tok.start))];
                }
            }
            _ => {}
        }
        prev = Some((tok.kind, tok.start, tok.end));
    }
    let Some((open, _)) = groups[1] else {
        return Step::Nothing;
    };
    match before_open {
        Some((Tok::Punct(b')'), at, _)) => match groups[0] {
            Some((o, c)) if c == at => Step::Inside(&header[o + 1..c]),
            _ => Step::Nothing,
        },
        Some((Tok::Word, s, e)) if !header[s].is_ascii_digit() && e <= open => {
            Step::Name(String::from_utf8_lossy(&header[s..e]).into_owned())
        }
        _ => Step::Nothing,
    }
}

/// The last identifier in `t`.
fn last_identifier(t: &[u8]) -> Option<String> {
    let end = t.iter().rposition(|&b| is_ident(b))? + 1;
    let start = t[..end]
        .iter()
        .rposition(|&b| !is_ident(b))
        .map_or(0, |p| p + 1);
    let name = &t[start..end];
    (!name[0].is_ascii_digit()).then(|| String::from_utf8_lossy(name).into_owned())
}

/// Blank `[start, end)` of `masked`, keeping newlines (and carriage
/// returns) so lines and offsets stay true.
pub fn blank(masked: &mut [u8], start: usize, end: usize) {
    for b in &mut masked[start..end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Option<Vec<String>> {
        c_functions(src.as_bytes()).map(|f| f.into_iter().map(|f| f.name).collect())
    }

    #[test]
    fn finds_top_level_functions() {
        let src = "#include <x.h>\nstatic int a = 1;\nstruct s { int x; };\n\
                   static PyObject *\nf(int x)\n{\n    if (x) { return g(\"}\", '{'); }\n}\n\
                   void (*fp)(void);\nint\ng2(void) /* c */ { return 0; }\n";
        assert_eq!(names(src).unwrap(), ["f", "g2"]);
        let f = &c_functions(src.as_bytes()).unwrap()[0];
        assert!(src[f.start..f.end]
            .trim_start()
            .starts_with("static PyObject *\nf(int x)"));
        assert!(src[f.start..f.end].ends_with("}\n}"));
    }

    #[test]
    fn a_function_returning_a_function_pointer_is_named_inside() {
        let src = "static void (*get_fn(int k))(void)\n{\n    return 0;\n}\n\
                   int (plain)(int x) { return x; }\n";
        assert_eq!(names(src).unwrap(), ["get_fn", "plain"]);
        // A parenthesis in a comment of the parameters changes nothing.
        let src = "int g(int x /* ) (y */, int z)\n{\n    return 0;\n}\n";
        assert_eq!(names(src).unwrap(), ["g"]);
    }

    #[test]
    fn balanced_preprocessor_branches_are_fine() {
        let src = "int f(void)\n{\n#ifdef A\n    a();\n#else\n    b();\n#endif\n}\n";
        assert_eq!(names(src).unwrap(), ["f"]);
    }

    #[test]
    fn branches_opening_the_same_block_are_fine() {
        let src = "int f(void)\n{\n#ifdef A\n    if (a) {\n#else\n    if (b) {\n#endif\n    }\n}\nint g(void) { }\n";
        assert_eq!(names(src).unwrap(), ["f", "g"]);
    }

    #[test]
    fn unsure_means_no_outline() {
        // The branches leave different depths.
        let src = "int f(void)\n{\n#ifdef A\n    if (a) {\n#else\n    b();\n#endif\n    }\n}\n";
        assert_eq!(names(src), None);
        // A function header split across branches.
        let src = "#ifdef A\nint f(int a) {\n#else\nint f(long a) {\n#endif\n    return 0;\n}\n";
        assert_eq!(names(src), None);
        assert_eq!(names("int f(void) { {"), None);
        assert_eq!(names("int f(void) } }"), None);
    }

    #[test]
    fn a_kr_definition_does_not_swallow_the_next_function() {
        let src = "void\nf(a)\n    int a;\n{\n    g(a);\n}\n\nvoid h(int b)\n{\n}\n";
        assert_eq!(names(src).unwrap(), ["h"]);
        let h = &c_functions(src.as_bytes()).unwrap()[0];
        assert!(!src[h.start..h.end].contains("g(a)"));
    }

    #[test]
    fn extern_c_guards_are_transparent() {
        let src = "#ifdef __cplusplus\nextern \"C\" {\n#endif\nint f(void) { return 0; }\n\
                   #ifdef __cplusplus\n}\n#endif\n";
        assert_eq!(names(src).unwrap(), ["f"]);
    }

    #[test]
    fn directives_end_items_and_continue_over_lines() {
        let src = "#define M(a) \\\n  { a; }\nint\nh(int a)\n{\n    M(a);\n}\n";
        let f = &c_functions(src.as_bytes()).unwrap()[0];
        assert_eq!(f.name, "h");
        assert!(!src[f.start..f.end].contains("#define"));
    }
}
