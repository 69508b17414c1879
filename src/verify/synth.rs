//! C functions built from the patterns dims-fix knows — temporary writes
//! and restores, aliases, fresh arrays, setters, blockers — chosen by a
//! stream of bytes. The fuzz target and the property tests drive it, so
//! every combination of the building blocks meets the invariants.

/// Statements a generated function is made of.
const BLOCKS: &[&str] = &[
    "PyArray_DIMS(a)[axis] = k;",
    "PyArray_DIMS(a)[axis] = n;",
    "out = PyArray_NewFromDescr(&PyArray_Type, PyArray_DESCR(a), PyArray_NDIM(a), PyArray_DIMS(a), NULL, NULL, 0, (PyObject *)a);",
    "d[0] = k;",
    "d[0] = m;",
    "PyArray_DIMS(a)[0] *= 2;",
    "PyArray_DIMS(a)[0] = m;",
    "k = PyArray_SIZE(a);",
    "if (k < 0) {\n@    return NULL;\n@}",
    "PyArray_DIMS(r)[0] = k;",
    "((PyArrayObject_fields *)a)->descr = PyArray_DESCR(b);",
    "memcpy(PyArray_DIMS(a), PyArray_DIMS(b), PyArray_NDIM(b) * sizeof(npy_intp));",
    "PyArray_DIMS(a)[axis]++;",
    "{\n@    PyArray_DIMS(a)[axis] = k;\n@    out = PyArray_Zeros(1, PyArray_DIMS(a), NULL, 0);\n@    PyArray_DIMS(a)[axis] = n;\n@}",
    "npy_intp dims = 3;",
    "use_array(a);",
    "/* a comment */",
    "#if WIDE\n@PyArray_DIMS(a)[1] = k;\n#endif",
    "if (k) {\n@    goto done;\n@}",
    "npy_intp *e = PyArray_SHAPE(a) + 1;",
    "e[0] = k;",
    "PyArray_SHAPE(a)[1] = k;",
    "npy_intp s1 = PyArray_SHAPE(a)[1];",
    "PyArray_SHAPE(a)[1] = s1;",
    "((PyArrayObject_fields *)a)->dimensions = PyArray_DIMS(b);",
    "SET_FIRST(a, k);",
    "PyArray_STRIDES(a)[0] = k;",
    "r = (PyArrayObject *)PyArray_View(a, NULL, NULL);",
];

/// A translation unit of one to three functions chosen by `bytes`.
pub fn source_from_bytes(bytes: &[u8]) -> String {
    let mut it = bytes.iter().copied();
    let flags = it.next().unwrap_or(0);
    let eol = if flags & 1 != 0 { "\r\n" } else { "\n" };
    let indent = if flags & 2 != 0 { "\t" } else { "    " };
    let functions = 1 + usize::from(flags >> 2) % 3;
    let mut out = String::from("#include \"numpy/arrayobject.h\"\n");
    out.push_str("#define SET_FIRST(x, v) (PyArray_DIMS(x)[0] = (v))\n\n");
    for f in 0..functions {
        let len = usize::from(it.next().unwrap_or(0)) % 12;
        out.push_str(&format!(
            "PyObject *\nf{f}(PyArrayObject *a, PyArrayObject *b, npy_intp k, int axis)\n{{\n\
             @npy_intp n = PyArray_DIM(a, axis);\n\
             @npy_intp m = PyArray_DIMS(a)[0];\n\
             @npy_intp *d = PyArray_DIMS(a);\n\
             @PyArrayObject *r = (PyArrayObject *)PyArray_SimpleNew(1, &k, NPY_INTP);\n\
             @PyObject *out = NULL;\n"
        ));
        for _ in 0..len {
            let Some(b) = it.next() else { break };
            out.push('@');
            out.push_str(BLOCKS[usize::from(b) % BLOCKS.len()]);
            out.push('\n');
        }
        out.push_str("  done:\n@Py_XDECREF(r);\n@return out;\n}\n\n");
    }
    // Indentation and line endings last, so every block gets them.
    out.replace('@', indent).replace('\n', eol)
}

/// How a generated function gets its array `a`, and the other names by
/// which the same object can be reached: expressions of type
/// `PyArrayObject *` that may denote it, and statements that hand it on
/// whole (a container, the object holding it).
struct Origin {
    what: &'static str,
    params: &'static str,
    decl: &'static str,
    names: &'static [&'static str],
    hand_on: &'static [&'static str],
    /// Whether the function is rewritten when the window leaves the other
    /// names alone (not when `a` itself is stored, copied to a variable of
    /// another type or its address taken, which blocks the rewrite on its
    /// own).
    control_rewrites: bool,
}

const ORIGINS: &[Origin] = &[
    Origin {
        what: "an element of a container",
        params: "PyArrayObject **ops",
        decl: "PyArrayObject *a = ops[0];",
        names: &["ops[0]"],
        hand_on: &["seen = use_ops(ops);"],
        control_rewrites: true,
    },
    Origin {
        what: "an element at an unknown index",
        params: "PyArrayObject **ops, int i",
        decl: "PyArrayObject *a = ops[i];",
        names: &["ops[0]", "ops[1]"],
        hand_on: &["seen = use_ops(ops);"],
        control_rewrites: true,
    },
    Origin {
        what: "what a pointer points to",
        params: "PyArrayObject **pa",
        decl: "PyArrayObject *a = *pa;",
        names: &["*pa", "pa[0]"],
        hand_on: &["seen = use_ops(pa);"],
        control_rewrites: true,
    },
    Origin {
        what: "a struct field read",
        params: "holder *ctx",
        decl: "PyArrayObject *a = ctx->arr;",
        names: &["ctx->arr", "(*ctx).arr"],
        hand_on: &[
            "seen = use_holder(ctx);",
            "r = PyObject_Repr((PyObject *)ctx);",
        ],
        control_rewrites: true,
    },
    Origin {
        what: "a struct field stored to",
        params: "PyArrayObject *a, holder *ctx",
        decl: "ctx->arr = a;",
        names: &["ctx->arr"],
        hand_on: &["seen = use_holder(ctx);"],
        control_rewrites: false,
    },
    Origin {
        what: "a cast of an object parameter",
        params: "PyObject *self",
        decl: "PyArrayObject *a = (PyArrayObject *)self;",
        names: &["(PyArrayObject *)self"],
        hand_on: &[
            "r = PyObject_Repr(self);",
            "r = PyObject_GetAttrString(self, \"shape\");",
        ],
        control_rewrites: true,
    },
    Origin {
        what: "a cast kept in another variable",
        params: "PyArrayObject *a",
        decl: "PyObject *o = (PyObject *)a;",
        names: &["(PyArrayObject *)o"],
        hand_on: &["r = PyObject_Repr(o);"],
        control_rewrites: false,
    },
    Origin {
        what: "a pointer to the variable",
        params: "PyArrayObject *a",
        decl: "PyArrayObject **pa = &a;",
        names: &["*pa"],
        hand_on: &["seen = use_ops(pa);"],
        control_rewrites: false,
    },
    Origin {
        what: "a second array parameter",
        params: "PyArrayObject *a, PyArrayObject *b",
        decl: "",
        names: &["b"],
        hand_on: &[],
        control_rewrites: true,
    },
    Origin {
        what: "a global",
        params: "void",
        decl: "PyArrayObject *a = current;",
        names: &["current"],
        hand_on: &["seen = current_rows();"],
        control_rewrites: true,
    },
    Origin {
        what: "a call that may return its input",
        params: "PyArrayObject *in, int axis",
        decl: "PyArrayObject *a = (PyArrayObject *)PyArray_CheckAxis(in, &axis, 0);",
        names: &["in"],
        hand_on: &[],
        control_rewrites: true,
    },
];

/// What the window does with another name `$` of the array (`@` is a
/// level of indentation).
const USES: &[&str] = &[
    "seen = PyArray_DIM($, 0);",
    "seen = PyArray_SIZE($);",
    "seen = PyArray_DIMS($)[0];",
    "seen = use_array($);",
    "r = PyObject_Repr((PyObject *)$);",
    "Py_INCREF($);\n@r = PyArray_Return($);",
    "if (seen < 0) {\n@    return (PyObject *)$;\n@}",
];

/// Statements that leave the array alone (they keep a rewrite possible).
const NEUTRAL: &[&str] = &[
    "seen += k;",
    "/* a comment */",
    "seen *= 2;",
    "if (k < 0) {\n@    seen = -1;\n@}",
];

/// A function `g` whose array `a` is also reachable by another name,
/// chosen by `bytes`: in `source` the window between its temporary write
/// and the restore uses that name; in `control` it does not (only neutral
/// statements), so `control` may be rewritten and `source` must not be.
pub struct OtherName {
    pub source: String,
    pub control: String,
    /// Whether `control` is rewritten (see `Origin::control_rewrites`).
    pub control_rewrites: bool,
    /// How `a` is reached by the other name, and the statement using it.
    pub what: String,
}

/// A generated case of another name of the array (see `OtherName`).
pub fn other_name_from_bytes(bytes: &[u8]) -> OtherName {
    let mut it = bytes.iter().copied();
    let mut next = || usize::from(it.next().unwrap_or(0));
    let origin = &ORIGINS[next() % ORIGINS.len()];
    let pick = next();
    let choices = origin.names.len() * USES.len() + origin.hand_on.len();
    let use_stmt = match pick % choices {
        i if i < origin.names.len() * USES.len() => {
            USES[i / origin.names.len()].replace('$', origin.names[i % origin.names.len()])
        }
        i => origin.hand_on[i - origin.names.len() * USES.len()].to_string(),
    };
    let before: Vec<&str> = (0..next() % 3)
        .map(|_| NEUTRAL[next() % NEUTRAL.len()])
        .collect();
    let after: Vec<&str> = (0..next() % 3)
        .map(|_| NEUTRAL[next() % NEUTRAL.len()])
        .collect();
    let make = |window_use: Option<&str>| {
        let mut window: Vec<&str> = before.clone();
        window.extend(window_use);
        window.extend(&after);
        let params = match origin.params {
            "void" => "npy_intp k".to_string(),
            p => format!("{p}, npy_intp k"),
        };
        let mut out = String::from(OTHER_NAME_HEAD);
        out.push_str(&format!(
            "PyObject *\ng({params})\n{{\n@{}\n@npy_intp seen = 0;\n@PyObject *r = NULL;\n\
             @npy_intp n = PyArray_DIM(a, 0);\n@PyArray_DIMS(a)[0] = k;\n",
            origin.decl
        ));
        for stmt in window {
            out.push('@');
            out.push_str(stmt);
            out.push('\n');
        }
        out.push_str(
            "@PyArray_DIMS(a)[0] = n;\n@return r != NULL ? r : PyLong_FromSsize_t(seen);\n}\n",
        );
        out.replace('@', "    ")
    };
    OtherName {
        source: make(Some(&use_stmt)),
        control: make(None),
        control_rewrites: origin.control_rewrites,
        what: format!("{}: {}", origin.what, use_stmt.replace("\n@", " ")),
    }
}

/// What the generated functions of `other_name_from_bytes` may call.
const OTHER_NAME_HEAD: &str = "#include <Python.h>\n\
    #include \"numpy/arrayobject.h\"\n\n\
    typedef struct {\n    PyObject_HEAD\n    PyArrayObject *arr;\n} holder;\n\n\
    npy_intp use_array(PyArrayObject *x);\n\
    npy_intp use_ops(PyArrayObject **ops);\n\
    npy_intp use_holder(holder *h);\n\n\
    static PyArrayObject *current;\n\n\
    static npy_intp\ncurrent_rows(void)\n{\n    return PyArray_DIM(current, 0);\n}\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_choose_the_blocks() {
        let src = source_from_bytes(&[0, 2, 0, 1]);
        assert!(
            src.contains("    PyArray_DIMS(a)[axis] = k;\n    PyArray_DIMS(a)[axis] = n;\n"),
            "{src}"
        );
        assert!(source_from_bytes(&[3]).contains("\r\n\t"));
        assert_eq!(source_from_bytes(&[4]).matches("PyObject *\nf").count(), 2);
    }

    #[test]
    fn bytes_choose_the_other_name_and_its_use() {
        let case = other_name_from_bytes(&[0, 0, 1, 0]);
        assert!(
            case.source.contains("PyArrayObject *a = ops[0];"),
            "{}",
            case.source
        );
        let window = "PyArray_DIMS(a)[0] = k;\n    seen += k;\n    \
                      seen = PyArray_DIM(ops[0], 0);\n    PyArray_DIMS(a)[0] = n;";
        assert!(case.source.contains(window), "{}", case.source);
        assert!(!case.control.contains("PyArray_DIM(ops[0], 0)"));
        assert!(case
            .control
            .contains("seen += k;\n    PyArray_DIMS(a)[0] = n;"));
        // Every origin and every use of each is reachable.
        let mut seen = std::collections::HashSet::new();
        for o in 0..=255u8 {
            for u in 0..=255u8 {
                seen.insert(other_name_from_bytes(&[o, u]).what);
            }
        }
        let all: usize = ORIGINS
            .iter()
            .map(|o| o.names.len() * USES.len() + o.hand_on.len())
            .sum();
        assert_eq!(seen.len(), all);
    }
}
