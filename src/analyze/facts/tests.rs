//! Facts of small functions, checked one by one.

use super::{collect, Facts, Sources, Via};
use crate::analyze::syntax::{KindName, Preorder};

fn facts_of(text: &str) -> Facts {
    let tree = crate::source::parse_c(text.as_bytes());
    let func = Preorder::new(tree.root_node())
        .find(|n| n.kind_name() == "function_definition")
        .expect("a function");
    collect(func, text.as_bytes(), Sources::plain(false))
}

/// The names the function's writes to an array's shape go through (`d` for `d[0] = v`
/// with `d` an alias; the source's text for a direct write).
fn written_through(body: &str) -> Vec<String> {
    let text = format!("void f(PyArrayObject *a, npy_intp *buf, npy_intp v)\n{{\n{body}\n}}\n");
    facts_of(&text)
        .writes
        .iter()
        // Not the writes through `buf`, a parameter's own storage.
        .filter(|w| !w.shape.param)
        .map(|w| match &w.shape.via {
            Via::Alias(name) => name.clone(),
            Via::Source(s) => text[s.start..s.end].to_string(),
        })
        .collect()
}

/// A build compiles one branch of an `#if`: a pointer one branch aims at
/// the shape may be what a write after the `#endif` changes, whatever the
/// other branches do with it.
#[test]
fn an_alias_set_in_any_branch_reaches_past_the_endif() {
    let cases = [
        // The other branch points the name at nothing, or at the strides.
        "npy_intp *d;\n#ifdef S\n    d = PyArray_DIMS(a);\n#else\n    d = NULL;\n#endif\n    d[0] = v;",
        "npy_intp *d;\n#ifdef S\n    d = PyArray_DIMS(a);\n#else\n    d = PyArray_STRIDES(a);\n#endif\n    d[0] = v;",
        // Three branches, the shape in the middle one.
        "npy_intp *d;\n#if defined(B)\n    d = buf;\n#elif defined(S)\n    d = PyArray_DIMS(a);\n#else\n    d = buf + 1;\n#endif\n    d[0] = v;",
        // No #else: the alias from before the #if still holds without N.
        "npy_intp *d = PyArray_DIMS(a);\n#ifdef N\n    d = buf;\n#endif\n    d[0] = v;",
        // Nested conditionals.
        "npy_intp *d = buf;\n#ifdef O\n#ifdef I\n    d = PyArray_DIMS(a);\n#else\n    d = buf + 2;\n#endif\n#else\n    d = buf + 3;\n#endif\n    d[1] = v;",
    ];
    for body in cases {
        assert_eq!(written_through(body), ["d"], "{body}");
    }
}

/// When every branch (an `#else` among them) aims the name elsewhere, the
/// write after the `#endif` is not a shape write.
#[test]
fn an_alias_every_branch_replaces_is_gone() {
    let body = "npy_intp *d = PyArray_DIMS(a);\n#ifdef B\n    d = buf;\n#else\n    d = buf + 1;\n#endif\n    d[0] = v;";
    assert!(
        written_through(body).is_empty(),
        "{:?}",
        written_through(body)
    );
}
