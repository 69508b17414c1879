//! What a file declares outside its functions, read lexically from the
//! whole text (the parse sees only the functions that can hit): every name
//! in scope there, the types and variables that may hold a Python object,
//! and which of the file's functions reach such a variable.
//!
//! A rewrite must know the array's other names (issue 17): a global that
//! may hold the array is one, and so is a function of the file that reads
//! such a global — calling it in the window reaches the array as surely as
//! naming it.

use std::collections::{HashMap, HashSet};

use super::outline;
use super::tokens::{Lexer, Tok};

/// A file's scope, outside its function bodies.
#[derive(Debug, Default)]
pub struct FileScope {
    /// Every identifier outside function bodies: declarations, types,
    /// prototypes, macros (`#define` lines included).
    pub names: HashSet<String>,
    /// Types the file defines whose values may hold an object: structs
    /// with an object field (or `PyObject_HEAD`), typedefs of those and of
    /// object pointers.
    pub object_types: HashSet<String>,
    /// Variables declared at file scope that may hold an object (or a
    /// container of one), with where they are declared.
    pub object_globals: HashMap<String, usize>,
    /// Functions of the file that reach such a variable, directly or by
    /// calling one another: the function, the variable, and the function
    /// that names it.
    pub reaching: HashMap<String, Reach>,
    /// Whether the file's functions could be told apart (else `names` holds
    /// every identifier of the file, and every function of the file may
    /// reach every global).
    pub outlined: bool,
}

/// How a function of the file reaches a global that may hold an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub global: String,
    /// The function that names the global (itself, or one it calls).
    pub through: String,
}

/// Whether a type, spelled as the words of its declaration, may hold a
/// Python object: CPython's and NumPy's object types (`PyObject`,
/// `PyArrayObject`, `PyArrayObject_fields`, iterators...), a type of the
/// file that holds one, or a `void` pointer.
pub fn object_type(words: &[&str], pointer: bool, file_types: &HashSet<String>) -> bool {
    words.iter().any(|w| {
        (w.starts_with("Py") && w.contains("Object"))
            || file_types.contains(*w)
            || (pointer && *w == "void")
    })
}

/// The C words that are never a type's name or a declared name.
fn keyword(w: &str) -> bool {
    matches!(
        w,
        "static"
            | "extern"
            | "const"
            | "volatile"
            | "register"
            | "inline"
            | "_Thread_local"
            | "thread_local"
            | "restrict"
            | "__restrict"
            | "signed"
            | "unsigned"
    )
}

impl FileScope {
    /// Read the scope of `masked` (a file masked for parsing: attribute
    /// macros blanked, template tokens made identifiers).
    pub fn of(masked: &str, lang: super::Lang) -> FileScope {
        let functions = outline::functions(masked.as_bytes(), lang);
        let mut scope = FileScope {
            outlined: functions.is_some(),
            ..FileScope::default()
        };
        let mut starts = Vec::new();
        let bodies: Vec<(String, usize, usize)> = functions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| {
                let body = body_start(masked, f.start, f.end)?;
                starts.push(f.start);
                Some((f.name, body, f.end))
            })
            .collect();
        // The text outside the bodies: items, and function headers (whose
        // parameters are the function's own names).
        let mut at = 0;
        let mut outside = Vec::new();
        for ((name, body, end), f) in bodies.iter().zip(&starts) {
            outside.push((at..*f, false));
            outside.push((*f..*body, true));
            scope.names.insert(name.clone());
            at = *end;
        }
        outside.push((at..masked.len(), false));
        if !scope.outlined {
            outside = vec![(0..masked.len(), false)];
        }
        for (range, header) in outside {
            scope.read_items(masked, range, header);
        }
        scope.find_reach(masked, &bodies);
        scope
    }

    /// Names and declarations in `range` (text outside function bodies);
    /// of a function's `header`, only the names outside parentheses.
    fn read_items(&mut self, text: &str, range: std::ops::Range<usize>, header: bool) {
        let t = text.as_bytes();
        let mut item: Vec<(Tok, usize, usize)> = Vec::new();
        let mut depth = 0usize;
        let mut lexer = Lexer::at(&t[..range.end], range.start);
        let mut line_start = true;
        while let Some(tok) = lexer.next() {
            match tok.kind {
                Tok::Newline => {
                    line_start = true;
                    continue;
                }
                Tok::Punct(b'#') if line_start => {
                    // A directive: its names count, it is no declaration.
                    let end = outline::directive_end(t, tok.start).min(range.end);
                    for (_, id) in super::lexical::identifiers_at(&text[tok.start..end]) {
                        self.names.insert(id.to_string());
                    }
                    lexer.seek(end);
                    continue;
                }
                k if k.is_trivia() || k == Tok::Literal => {
                    line_start &= k.is_trivia();
                    continue;
                }
                _ => line_start = false,
            }
            if tok.kind == Tok::Word && !t[tok.start].is_ascii_digit() && !(header && depth > 0) {
                self.names.insert(text[tok.start..tok.end].to_string());
            }
            match tok.kind {
                Tok::Punct(b'{' | b'(' | b'[') => depth += 1,
                Tok::Punct(b'}' | b')' | b']') => depth = depth.saturating_sub(1),
                _ => {}
            }
            item.push((tok.kind, tok.start, tok.end));
            if depth == 0 && tok.kind == Tok::Punct(b';') && !header {
                self.declaration(text, &item);
                item.clear();
            }
        }
    }

    /// One file-scope item ending in `;`: a type or a variable that may
    /// hold an object is recorded.
    fn declaration(&mut self, text: &str, item: &[(Tok, usize, usize)]) {
        let word = |i: usize| match item.get(i) {
            Some(&(Tok::Word, s, e)) => Some(&text[s..e]),
            _ => None,
        };
        let is_typedef = word(0) == Some("typedef");
        // A struct or union with a body: is it a holder of objects?
        let mut holds = false;
        let mut tag = None;
        let mut i = 0;
        let mut rest: Vec<usize> = Vec::new();
        while i < item.len() {
            if matches!(word(i), Some("struct" | "union")) {
                let named = word(i + 1).map(str::to_string);
                let open = i + 1 + usize::from(named.is_some());
                if item.get(open).map(|x| x.0) == Some(Tok::Punct(b'{')) {
                    let close = matching(item, open);
                    let inner: Vec<&str> = (open + 1..close).filter_map(word).collect();
                    holds = inner.contains(&"PyObject_HEAD")
                        || object_type(&inner, true, &self.object_types);
                    if let (true, Some(name)) = (holds, &named) {
                        self.object_types.insert(name.clone());
                    }
                    tag = named;
                    i = close + 1;
                    continue;
                }
            }
            rest.push(i);
            i += 1;
        }
        // What follows the type: declarators separated by top-level commas.
        let words: Vec<&str> = rest.iter().filter_map(|&i| word(i)).collect();
        let object = holds
            || tag.as_ref().is_some_and(|t| self.object_types.contains(t))
            || object_type(&words, true, &self.object_types);
        if !object {
            return;
        }
        for (name, pos) in declared_names(text, item, &rest) {
            if is_typedef {
                self.object_types.insert(name);
            } else {
                self.object_globals.entry(name).or_insert(pos);
            }
        }
    }

    /// The functions that reach an object global: those naming one, then
    /// those calling them (backwards over the call graph, each function
    /// once).
    fn find_reach(&mut self, text: &str, bodies: &[(String, usize, usize)]) {
        if self.object_globals.is_empty() {
            return;
        }
        let defined: HashSet<&str> = bodies.iter().map(|(n, _, _)| n.as_str()).collect();
        let mut callers: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut todo: Vec<&str> = Vec::new();
        for (name, start, end) in bodies {
            let code = &text[*start..*end];
            let ids = super::lexical::identifiers_at(code);
            for (at, id) in &ids {
                if self.object_globals.contains_key(*id) && !self.reaching.contains_key(name) {
                    self.reaching.insert(
                        name.clone(),
                        Reach {
                            global: id.to_string(),
                            through: name.clone(),
                        },
                    );
                    todo.push(name);
                }
                let after = code[at + id.len()..].trim_start();
                if defined.contains(id) && after.starts_with('(') {
                    callers.entry(id).or_default().push(name);
                }
            }
        }
        while let Some(callee) = todo.pop() {
            let reach = self.reaching[callee].clone();
            for &caller in callers.get(callee).into_iter().flatten() {
                if !self.reaching.contains_key(caller) {
                    self.reaching.insert(caller.to_string(), reach.clone());
                    todo.push(caller);
                }
            }
        }
    }
}

/// Where a function's body starts: its first `{` at parenthesis depth 0.
fn body_start(text: &str, start: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for tok in Lexer::at(&text.as_bytes()[..end], start) {
        match tok.kind {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => depth = depth.saturating_sub(1),
            Tok::Punct(b'{') if depth == 0 => return Some(tok.start),
            _ => {}
        }
    }
    None
}

/// The index of the bracket closing the one at `open` (or the last token).
fn matching(item: &[(Tok, usize, usize)], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, (kind, _, _)) in item.iter().enumerate().skip(open) {
        match kind {
            Tok::Punct(b'{' | b'(' | b'[') => depth += 1,
            Tok::Punct(b'}' | b')' | b']') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    item.len().saturating_sub(1)
}

/// The names an item declares, given the indexes of its tokens after any
/// struct body: in each top-level comma-separated part (initialisers
/// cut), the last word before a `(` or `[` or the end — or, for a
/// parenthesised declarator (`(*hook)(void)`), the word inside. A
/// function prototype (`name(...)`) declares no variable.
fn declared_names(
    text: &str,
    item: &[(Tok, usize, usize)],
    rest: &[usize],
) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut part: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut parts = Vec::new();
    for &i in rest {
        let kind = item[i].0;
        match kind {
            Tok::Punct(b'(' | b'[' | b'{') => depth += 1,
            Tok::Punct(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            Tok::Punct(b',' | b';') if depth == 0 => {
                parts.push(std::mem::take(&mut part));
                continue;
            }
            _ => {}
        }
        part.push(i);
    }
    parts.push(part);
    for part in parts {
        // Cut the initialiser.
        let cut = part
            .iter()
            .position(|&i| item[i].0 == Tok::Punct(b'='))
            .unwrap_or(part.len());
        let decl = &part[..cut];
        let word_at = |i: usize| {
            let (k, s, e) = item[i];
            (k == Tok::Word && !text.as_bytes()[s].is_ascii_digit()).then(|| (&text[s..e], s))
        };
        let open = decl.iter().position(|&i| item[i].0 == Tok::Punct(b'('));
        let name = match open {
            // `(*hook)(void)`: the name is inside the first parentheses.
            Some(p) if p == 0 || word_at(decl[p - 1]).is_none() => {
                decl[p..].iter().find_map(|&i| word_at(i))
            }
            // `name(...)`: a prototype.
            Some(_) => None,
            None => {
                let end = decl
                    .iter()
                    .position(|&i| item[i].0 == Tok::Punct(b'['))
                    .unwrap_or(decl.len());
                decl[..end].iter().rev().find_map(|&i| word_at(i))
            }
        };
        if let Some((name, pos)) = name.filter(|(n, _)| !keyword(n)) {
            out.push((name.to_string(), pos));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "#include <Python.h>\n#define rows 3\n\
        typedef struct {\n    PyObject_HEAD\n    PyArrayObject *arr;\n} holder;\n\
        struct ctx { PyArrayObject *arr; int calls; };\nstruct plain { int x; };\n\
        static PyArrayObject *current = NULL, *spare;\nstatic int count;\n\
        static struct ctx state;\nstatic holder *held[4];\nstatic struct plain p;\n\
        PyObject *(*hook)(void);\nnpy_intp use_ops(PyArrayObject **ops);\n\
        void set_current(PyArrayObject *a)\n{\n    current = a;\n}\n\
        static npy_intp rows_of(void)\n{\n    return PyArray_DIM(current, 0);\n}\n\
        static npy_intp twice(void)\n{\n    return 2 * rows_of();\n}\n\
        static int alone(int dims)\n{\n    return dims;\n}\n";

    #[test]
    fn globals_and_types_that_may_hold_objects() {
        let s = FileScope::of(FILE, crate::source::Lang::C);
        assert!(s.outlined);
        let mut globals: Vec<&str> = s.object_globals.keys().map(String::as_str).collect();
        globals.sort();
        assert_eq!(globals, ["current", "held", "hook", "spare", "state"]);
        assert!(s.object_types.contains("holder") && s.object_types.contains("ctx"));
        assert!(!s.object_types.contains("plain"));
    }

    #[test]
    fn names_outside_bodies_and_functions_reaching_globals() {
        let s = FileScope::of(FILE, crate::source::Lang::C);
        for n in ["rows", "holder", "use_ops", "set_current", "alone", "count"] {
            assert!(s.names.contains(n), "{n}");
        }
        // A body's own names are not the file's.
        assert!(!s.names.contains("dims"));
        let reach = |f: &str| {
            s.reaching
                .get(f)
                .map(|r| (r.global.as_str(), r.through.as_str()))
        };
        assert_eq!(reach("rows_of"), Some(("current", "rows_of")));
        assert_eq!(reach("twice"), Some(("current", "rows_of")));
        assert_eq!(reach("set_current"), Some(("current", "set_current")));
        assert_eq!(reach("alone"), None);
    }

    #[test]
    fn without_an_outline_every_name_counts() {
        let s = FileScope::of(
            "int f(void)\n{\n#if A\n{\n#endif\n    int dims;\n}\n",
            crate::source::Lang::C,
        );
        assert!(!s.outlined);
        assert!(s.names.contains("dims"));
    }
}
