//! Each step of the rewrite proof on a small function: the blocker it
//! returns (by code) or that it passes.

use std::collections::HashSet;

use crate::analyze::classify::{ArrayCx, FileCx};
use crate::analyze::facts::{self, Facts, Sources, Write};
use crate::analyze::reason::{Blocker, Code};
use crate::analyze::summary::Summaries;
use crate::analyze::syntax::{KindName, Preorder};
use crate::analyze::Kind;

fn facts_of(text: &str) -> Facts {
    let tree = crate::source::parse_c(text.as_bytes());
    let func = Preorder::new(tree.root_node())
        .find(|n| n.kind_name() == "function_definition")
        .expect("a function");
    let sources = Sources::plain(false);
    facts::collect(func, text.as_bytes(), sources)
}

/// Run `check` on the array `a` of the first function of `body` (wrapped
/// in a function with parameters `a`, `b`, `k`, `axis`).
fn with_cx<T>(body: &str, check: impl FnOnce(&ArrayCx, &[&Write]) -> T) -> T {
    let text = format!(
        "PyObject *\nf(PyArrayObject *a, PyArrayObject *b, npy_intp k, int axis)\n{{\n{body}\n}}\n"
    );
    let f = facts_of(&text);
    let file = FileCx::new(&text);
    let summaries = Summaries::default();
    let cx = ArrayCx {
        f: &f,
        summaries: &summaries,
        text: &text,
        array: "a",
        file: &file,
    };
    let ws: Vec<&Write> = f
        .writes
        .iter()
        .filter(|w| w.shape.array == "a" && !w.shape.param)
        .collect();
    check(&cx, &ws)
}

fn code(r: Result<impl Sized, Blocker>) -> Option<Code> {
    r.err().map(|b| b.code())
}

const TEMPORARY: &str = "    npy_intp n = PyArray_DIM(a, axis);\n    \
                         PyArray_DIMS(a)[axis] = k;\n    \
                         Py_XDECREF(PyArray_Zeros(1, PyArray_DIMS(a), NULL, 0));\n    \
                         PyArray_DIMS(a)[axis] = n;\n    return NULL;";

fn window_of(body: &str) -> Option<Code> {
    with_cx(body, |cx, ws| {
        code(
            cx.window(Kind::Dims, ws, &mut HashSet::new())
                .result
                .unwrap(),
        )
    })
}

#[test]
fn the_canonical_temporary_change_is_proven() {
    assert_eq!(window_of(TEMPORARY), None);
}

#[test]
fn slots_need_a_known_element() {
    let memcpy = "    memcpy(PyArray_DIMS(a), PyArray_DIMS(b), 8);";
    assert_eq!(
        with_cx(memcpy, |cx, ws| code(cx.slots(ws))),
        Some(Code::ChangePersists)
    );
    let pointer = "    ((PyArrayObject_fields *)a)->dimensions = NULL;";
    assert_eq!(
        with_cx(pointer, |cx, ws| code(cx.slots(ws))),
        Some(Code::ReplacesShapePointer)
    );
}

#[test]
fn a_restore_must_put_back_the_saved_original() {
    assert_eq!(
        window_of("    PyArray_DIMS(a)[0] = k;"),
        Some(Code::ChangePersists)
    );
    let other_slot = TEMPORARY.replace("PyArray_DIM(a, axis)", "PyArray_DIM(a, 0)");
    assert_eq!(window_of(&other_slot), Some(Code::RestoreNotOriginal));
    let moved = TEMPORARY.replace("    Py_XDECREF", "    axis = 0;\n    Py_XDECREF");
    assert_eq!(window_of(&moved), Some(Code::ChangedBeforeRestore));
    let impure = TEMPORARY.replace("[axis]", "[axis++]");
    assert_eq!(window_of(&impure), Some(Code::ImpureIndex));
}

#[test]
fn the_window_is_one_block() {
    let split = TEMPORARY.replace(
        "    PyArray_DIMS(a)[axis] = n;",
        "    if (k) {\n        PyArray_DIMS(a)[axis] = n;\n    }",
    );
    assert_eq!(window_of(&split), Some(Code::WindowLayout));
}

#[test]
fn nothing_leaves_or_enters_the_window() {
    let leaves = TEMPORARY.replace(
        "    Py_XDECREF",
        "    if (k < 0) {\n        return NULL;\n    }\n    Py_XDECREF",
    );
    assert_eq!(window_of(&leaves), Some(Code::JumpLeavesWindow));
    let enters = TEMPORARY.replace("    Py_XDECREF", "  again:\n    Py_XDECREF");
    assert_eq!(window_of(&enters), Some(Code::LabelEntersWindow));
}

#[test]
fn uses_of_the_array_in_the_window_block() {
    let size = TEMPORARY.replace("    Py_XDECREF", "    k = PyArray_SIZE(a);\n    Py_XDECREF");
    assert_eq!(window_of(&size), Some(Code::ShapeReaderInWindow));
    let passed = TEMPORARY.replace("    Py_XDECREF", "    use_array(a);\n    Py_XDECREF");
    assert_eq!(window_of(&passed), Some(Code::PassedInWindow));
}

#[test]
fn the_saved_value_and_the_array_are_checked() {
    let narrow = TEMPORARY.replace("npy_intp n =", "int n =");
    assert_eq!(window_of(&narrow), Some(Code::SavedValue));
    let second = format!("    PyArrayObject *c = a;\n{TEMPORARY}");
    assert_eq!(window_of(&second), Some(Code::SecondName));
}

#[test]
fn macros_in_the_window_are_checked() {
    let header = TEMPORARY.replace("    Py_XDECREF", "    CHECK_OR_FAIL(k);\n    Py_XDECREF");
    assert_eq!(window_of(&header), Some(Code::HeaderMacro));
}

#[test]
fn reads_of_the_shape_go_to_the_copy_or_block() {
    let kept = TEMPORARY.replace(
        "    Py_XDECREF",
        "    npy_intp *p = PyArray_DIMS(a);\n    Py_XDECREF",
    );
    assert_eq!(window_of(&kept), Some(Code::ShapePointerInWindow));
    let passed = TEMPORARY.replace(
        "    Py_XDECREF",
        "    fill(PyArray_DIMS(a));\n    Py_XDECREF",
    );
    assert_eq!(window_of(&passed), Some(Code::ShapePassedInWindow));
}

#[test]
fn an_alias_becomes_the_copy_only_when_declared_alone() {
    let alias = "    npy_intp n = PyArray_DIM(a, 0);\n    npy_intp *d = PyArray_DIMS(a);\n    \
                 d[0] = k;\n    Py_XDECREF(PyArray_Zeros(1, d, NULL, 0));\n    d[0] = n;\n    \
                 return NULL;";
    assert_eq!(window_of(alias), None);
    let two = alias.replace(
        "npy_intp *d = PyArray_DIMS(a);",
        "npy_intp *d = PyArray_DIMS(a), *e = d;",
    );
    assert_eq!(window_of(&two), Some(Code::AliasCopy));
}

#[test]
fn other_names_of_the_array_block_the_window() {
    let other = |name: &str| -> Option<Code> {
        let body = TEMPORARY.replace("    Py_XDECREF", &format!("    {name};\n    Py_XDECREF"));
        window_of(&body)
    };
    // `b` is another parameter that may hold an object.
    assert_eq!(other("Py_INCREF(b)"), Some(Code::OtherNameInWindow));
    // The canonical change uses no other name.
    assert_eq!(window_of(TEMPORARY), None);
    // A container the array was read from, and what a call of it returns.
    let ops = "    PyArrayObject **ops = (PyArrayObject **)b;\n    a = ops[0];\n";
    let via_ops = format!(
        "{ops}{}",
        TEMPORARY.replace("    Py_XDECREF", "    k = ops[1] != NULL;\n    Py_XDECREF")
    );
    assert_eq!(window_of(&via_ops), Some(Code::OtherNameInWindow));
    let checked = format!(
        "    PyObject *c = PyArray_CheckAxis(a, &axis, 0);\n{}",
        TEMPORARY.replace("    Py_XDECREF", "    k = c == NULL;\n    Py_XDECREF")
    );
    assert_eq!(window_of(&checked), Some(Code::OtherNameInWindow));
    // An integer is no name of an object.
    assert_eq!(other("k = axis + 1"), None);
}

#[test]
fn what_the_preprocessor_hides_blocks_the_window() {
    let include = TEMPORARY.replace("    Py_XDECREF", "#include \"step.inc\"\n    Py_XDECREF");
    assert_eq!(window_of(&include), Some(Code::IncludeInWindow));
    let lower = TEMPORARY.replace("    Py_XDECREF", "    k = rows_of_a;\n    Py_XDECREF");
    assert_eq!(window_of(&lower), Some(Code::HeaderMacro));
    // A pragma is no macro, and the C and Python APIs are known.
    let pragma = TEMPORARY.replace(
        "    Py_XDECREF",
        "#pragma GCC diagnostic push\n    Py_XDECREF",
    );
    assert_eq!(window_of(&pragma), None);
    let api = TEMPORARY.replace(
        "    Py_XDECREF",
        "    k = (npy_intp)sizeof(size_t);\n    Py_XDECREF",
    );
    assert_eq!(window_of(&api), None);
}

#[test]
fn a_function_of_the_file_reaching_a_global_blocks_the_window() {
    let body = TEMPORARY.replace("    Py_XDECREF", "    k = rows();\n    Py_XDECREF");
    let text = format!(
        "static PyArrayObject *current;\nstatic npy_intp rows(void)\n{{\n    return PyArray_DIM(current, 0);\n}}\n\
         PyObject *\nf(PyArrayObject *a, PyArrayObject *b, npy_intp k, int axis)\n{{\n{body}\n}}\n"
    );
    let tree = crate::source::parse_c(text.as_bytes());
    let func = Preorder::new(tree.root_node())
        .filter(|n| n.kind_name() == "function_definition")
        .last()
        .unwrap();
    let sources = Sources::plain(false);
    let f = facts::collect(func, text.as_bytes(), sources);
    let file = FileCx::new(&text);
    let summaries = Summaries::default();
    let cx = ArrayCx {
        f: &f,
        summaries: &summaries,
        text: &text,
        array: "a",
        file: &file,
    };
    let ws: Vec<&Write> = f.writes.iter().filter(|w| !w.shape.param).collect();
    let got = cx
        .window(Kind::Dims, &ws, &mut HashSet::new())
        .result
        .unwrap();
    assert_eq!(code(got), Some(Code::FileFunctionReachesGlobal));
}
