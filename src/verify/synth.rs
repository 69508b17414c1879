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
}
