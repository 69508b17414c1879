//! Resolved locks (DESIGN §3c): a lock finding whose every write lies
//! inside a critical section on its array — `Py_BEGIN_CRITICAL_SECTION(X)`
//! or `Py_BEGIN_CRITICAL_SECTION2(X, Y)` up to the matching
//! `Py_END_CRITICAL_SECTION[2]()` — or between a `PyMutex_Lock(m)` and the
//! `PyMutex_Unlock(m)` that ends it, is resolved: the lock it needs is
//! there. Found on the function's tokens (the macros are not expanded).

use super::reason::Evidence;
use super::{Class, Finding, Span};
use crate::source::tokens::{closing_paren, Lexer, Tok};

/// A region of a function held under a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    /// How the lock is taken, as the code spells it (`Py_BEGIN_CRITICAL_SECTION(self)`).
    how: String,
    /// The objects a critical section is on; empty for a mutex (any array).
    on: Vec<String>,
    /// From the end of the taking statement to the release.
    span: Span,
}

/// Mark lock findings whose every write is held under a lock on their
/// array: `resolved` says which.
pub fn resolve(findings: &mut [Finding], text: &str) {
    for f in findings.iter_mut().filter(|f| f.class == Class::Lock) {
        let held = regions(text, f.function_body);
        if held.is_empty() {
            continue;
        }
        let positions: Vec<usize> = f
            .sites
            .iter()
            .map(|s| s.span.start)
            .chain(f.evidence.iter().map(Evidence::at))
            .collect();
        let mut used: Vec<&Held> = Vec::new();
        let all = positions.iter().all(|&p| {
            let by = held.iter().find(|h| {
                h.span.start <= p && p < h.span.end && (h.on.is_empty() || h.on.contains(&f.array))
            });
            if let Some(h) = by {
                if !used.contains(&h) {
                    used.push(h);
                }
            }
            by.is_some()
        });
        if all && !positions.is_empty() {
            let mut hows: Vec<&str> = used.iter().map(|h| h.how.as_str()).collect();
            hows.dedup();
            f.resolved = Some(hows.join(", "));
        }
    }
}

/// The regions of `body` held under a critical section or a mutex.
fn regions(text: &str, body: Span) -> Vec<Held> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut sections: Vec<(String, Vec<String>, usize)> = Vec::new();
    // (how, mutex, region start, brace depth at the lock)
    let mut mutexes: Vec<(String, String, usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut lexer = Lexer::at(bytes, body.start);
    while let Some(tok) = lexer.next_code() {
        if tok.start >= body.end {
            break;
        }
        match tok.kind {
            Tok::Punct(b'{') => depth += 1,
            Tok::Punct(b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        if tok.kind != Tok::Word {
            continue;
        }
        let word = &text[tok.start..tok.end];
        let known = matches!(
            word,
            "Py_BEGIN_CRITICAL_SECTION"
                | "Py_BEGIN_CRITICAL_SECTION2"
                | "Py_END_CRITICAL_SECTION"
                | "Py_END_CRITICAL_SECTION2"
                | "PyMutex_Lock"
                | "PyMutex_Unlock"
        );
        if !known {
            continue;
        }
        let mut look = lexer.clone();
        let Some(open) = look.next_code().filter(|t| t.kind == Tok::Punct(b'(')) else {
            continue;
        };
        let Some(close) = closing_paren(bytes, open.start, body.end - open.start, |_| false) else {
            continue;
        };
        let args = split_args(&text[open.end..close]);
        let end = statement_end(text, close + 1, body.end);
        lexer.seek(close + 1);
        match word {
            "Py_BEGIN_CRITICAL_SECTION" | "Py_BEGIN_CRITICAL_SECTION2" => {
                let how = format!("{word}({})", args.join(", "));
                let on = args.iter().map(|a| object(a)).collect();
                sections.push((how, on, end));
            }
            "Py_END_CRITICAL_SECTION" | "Py_END_CRITICAL_SECTION2" => {
                if let Some((how, on, start)) = sections.pop() {
                    out.push(Held {
                        how,
                        on,
                        span: Span::new(start, tok.start),
                    });
                }
            }
            "PyMutex_Lock" => {
                let arg = args.join(", ");
                mutexes.push((format!("PyMutex_Lock({arg})"), arg, end, depth));
            }
            _ => {
                // An unlock on the way out of a nested block (`if (err)
                // { PyMutex_Unlock(m); return -1; }`) ends no region: the
                // code after the block is reached locked.
                let arg = args.join(", ");
                let Some(i) = mutexes.iter().rposition(|(_, m, _, _)| *m == arg) else {
                    continue;
                };
                if depth > mutexes[i].3 && leaves(text, end, body.end) {
                    continue;
                }
                let (how, _, start, _) = mutexes.remove(i);
                out.push(Held {
                    how,
                    on: Vec::new(),
                    span: Span::new(start, tok.start),
                });
            }
        }
    }
    out
}

/// The arguments of a call, split at top-level commas, blanks squeezed.
fn split_args(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(squeeze(&cur));
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(squeeze(&cur));
    }
    out
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The variable a critical section's argument names: casts and
/// parentheses taken off (`(PyObject *)self` is `self`).
fn object(arg: &str) -> String {
    let mut a = arg.trim();
    while a.starts_with('(') {
        let Some(close) = matching(a) else { break };
        if close == a.len() - 1 {
            // Parentheses around the whole: `(x)`.
            a = a[1..close].trim();
        } else if a[..close].contains('*') {
            // A cast: `(T *)x`.
            a = a[close + 1..].trim();
        } else {
            break;
        }
    }
    a.to_string()
}

/// The index of the `)` closing the `(` that `s` starts with.
fn matching(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Past the `;` that ends the statement at `from` (or `from` when none).
fn statement_end(text: &str, from: usize, limit: usize) -> usize {
    let mut lexer = Lexer::at(text.as_bytes(), from);
    match lexer.next_code() {
        Some(t) if t.kind == Tok::Punct(b';') && t.start < limit => t.end,
        _ => from,
    }
}

/// Whether the statement after `from` leaves the function or jumps.
fn leaves(text: &str, from: usize, limit: usize) -> bool {
    let mut lexer = Lexer::at(text.as_bytes(), from);
    lexer
        .next_code()
        .filter(|t| t.start < limit && t.kind == Tok::Word)
        .is_some_and(|t| {
            matches!(
                &text[t.start..t.end],
                "return" | "goto" | "break" | "continue"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(text: &str) -> Vec<(String, Vec<String>, String)> {
        regions(text, Span::new(0, text.len()))
            .into_iter()
            .map(|h| {
                (
                    h.how,
                    h.on,
                    text[h.span.start..h.span.end].trim().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn critical_sections_nest_and_name_their_objects() {
        let text = "{ Py_BEGIN_CRITICAL_SECTION2((PyObject *)a, b); x = 1; \
                    Py_BEGIN_CRITICAL_SECTION(c); y = 2; Py_END_CRITICAL_SECTION(); \
                    Py_END_CRITICAL_SECTION2(); z = 3; }";
        let h = held(text);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].0, "Py_BEGIN_CRITICAL_SECTION(c)");
        assert_eq!(h[0].1, ["c"]);
        assert_eq!(h[0].2, "y = 2;");
        assert_eq!(h[1].1, ["a", "b"]);
        assert!(h[1].2.starts_with("x = 1;") && !h[1].2.contains("z = 3"));
    }

    #[test]
    fn a_mutex_held_across_an_early_exit_unlock() {
        let text = "{ PyMutex_Lock(&m); if (e) { PyMutex_Unlock(&m); return -1; } \
                    x = 1; PyMutex_Unlock(&m); y = 2; }";
        let h = held(text);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].0, "PyMutex_Lock(&m)");
        assert!(h[0].2.contains("x = 1;") && !h[0].2.contains("y = 2"));
    }

    #[test]
    fn a_mutex_in_a_function() {
        let text = "static int\nf(PyArrayObject *self, char *bigger, npy_intp extra)\n{\n    PyMutex_Lock(&shape_mutex);\n    if (bigger == NULL) {\n        PyMutex_Unlock(&shape_mutex);\n        return -1;\n    }\n    x = 1;\n    PyMutex_Unlock(&shape_mutex);\n    return 0;\n}\n";
        let h = held(text);
        assert_eq!(h.len(), 1, "{h:?}");
    }

    #[test]
    fn casts_and_parentheses_come_off() {
        assert_eq!(object("(PyObject *)self"), "self");
        assert_eq!(object("((PyObject *) self)"), "self");
        assert_eq!(object("(self)"), "self");
        assert_eq!(object("self->base"), "self->base");
    }
}
