//! What the tool knows about the NumPy and CPython C APIs and the C
//! library: which calls allocate, read, copy, free or publish an array or
//! its shape. Every list is semantics of a documented API, never the names
//! of the functions being classified.

/// Shape sources and the ndarray fields type: defined with the prefilter
/// that searches for them (the earlier stage), known here like the rest.
pub use crate::discover::{ARRAY_TYPE, DIMS_SOURCES, FIELDS_TYPE, FLAG_SETTERS, STRIDES_SOURCE};

use crate::analyze::Kind;

/// Accessors that read one slot of the shape (`PyArray_DIM(X, i)`) and of
/// the strides.
pub const DIM_READER: &str = "PyArray_DIM";
pub const STRIDE_READER: &str = "PyArray_STRIDE";

/// NumPy's readers of one metadata field (`--fields`).
pub const META_READERS: &[(&str, Kind)] = &[
    ("PyArray_DESCR", Kind::Descr),
    ("PyArray_DTYPE", Kind::Descr),
    ("PyArray_FLAGS", Kind::Flags),
    ("PyArray_NDIM", Kind::Nd),
    ("PyArray_DATA", Kind::Data),
    ("PyArray_BYTES", Kind::Data),
    ("PyArray_BASE", Kind::Base),
];

/// Fields of an ndarray whose replacement is an in-place metadata change.
pub const META_FIELDS: &[&str] = &["nd", "dimensions", "strides", "descr", "data"];

/// Functions that take an array and neither read its shape nor keep it.
pub const SAFE_ACCESSORS: &[&str] = &[
    "Py_INCREF",
    "Py_DECREF",
    "Py_XINCREF",
    "Py_XDECREF",
    "Py_CLEAR",
    "Py_TYPE",
    "Py_REFCNT",
    "PyArray_DESCR",
    "PyArray_DTYPE",
    "PyArray_STRIDES",
    "PyArray_NDIM",
    "PyArray_DATA",
    "PyArray_BYTES",
    "PyArray_FLAGS",
    "PyArray_ITEMSIZE",
    "PyArray_BASE",
    "PyArray_HANDLER",
    "PyArray_TYPE",
    "PyArray_CHKFLAGS",
    "PyArray_ENABLEFLAGS",
    "PyArray_CLEARFLAGS",
    "PyArray_Check",
    "PyArray_CheckExact",
    "PyArray_ISONESEGMENT",
    "PyArray_ISWRITEABLE",
    "PyArray_ISALIGNED",
    "PyArray_ISCONTIGUOUS",
    "PyArray_IS_C_CONTIGUOUS",
    "PyArray_IS_F_CONTIGUOUS",
    "PyArray_ISFORTRAN",
    "PyArray_ISCARRAY",
    "PyArray_ISFARRAY",
    "PyArray_ISBEHAVED",
    "PyArray_ISBYTESWAPPED",
    "PyArray_ISNOTSWAPPED",
    "PyArray_ISEXTENDED",
    "PyArray_ISOBJECT",
];

/// Functions and macros that read an array's shape through the array itself
/// (a local copy cannot redirect them), but do not keep the array.
pub const SHAPE_READERS: &[&str] = &[
    "PyArray_DIM",
    "PyArray_STRIDE",
    "PyArray_SIZE",
    "PyArray_NBYTES",
    "PyArray_UpdateFlags",
    "PyArray_GETPTR1",
    "PyArray_GETPTR2",
    "PyArray_GETPTR3",
    "PyArray_GETPTR4",
];

/// Functions that free an array's shape storage.
pub const FREE_FNS: &[&str] = &["npy_free_cache_dim_array"];
/// Functions that free a shape pointer passed to them.
pub const FREE_PTR_FNS: &[&str] = &["npy_free_cache_dim", "PyDimMem_FREE"];

/// Library functions whose first argument is written: the `mem*` family,
/// and reallocation (the storage may move, the old block is freed: every
/// reader of the shape sees it change).
pub const MEM_FNS: &[&str] = &[
    "memcpy",
    "memmove",
    "memset",
    "__builtin_memcpy",
    "__builtin_memmove",
    "__builtin_memset",
    "realloc",
    "PyMem_Realloc",
    "PyMem_RawRealloc",
    "PyDimMem_RENEW",
];

/// The C++ standard algorithms (and `std::`-qualified `mem*`) that write a
/// range: the position of the argument they write through, like `memcpy`'s
/// first. `std::copy(first, last, dest)` and `std::copy_n(first, n, dest)`
/// write `dest`; `std::fill(first, last, v)` and `std::fill_n(first, n, v)`
/// write `first`.
pub fn std_writes(name: &str) -> Option<usize> {
    match name {
        "std::copy" | "std::copy_n" | "std::copy_backward" | "std::move" => Some(2),
        "std::fill" | "std::fill_n" | "std::memcpy" | "std::memmove" | "std::memset" => Some(0),
        _ => None,
    }
}

/// Whether the analysis reads a call of `name` in a way of its own — a
/// write (`memset`), a free, an accessor or shape reader, a metadata
/// change — rather than only by the tree's summary of `name`: the write
/// filter parses a function that passes shape storage to it.
pub fn read_specially(name: &str) -> bool {
    MEM_FNS.contains(&name)
        || FREE_FNS.contains(&name)
        || FREE_PTR_FNS.contains(&name)
        || SAFE_ACCESSORS.contains(&name)
        || SHAPE_READERS.contains(&name)
        || PURE_ACCESSORS.contains(&name)
        || FLAG_SETTERS.contains(&name)
        || META_READERS.iter().any(|(n, _)| *n == name)
        || matches!(
            name,
            DIM_READER | STRIDE_READER | "Py_SETREF" | "Py_XSETREF"
        )
        || std_writes(name).is_some()
}

/// Whether a call of `name` is C API that cannot throw a C++ exception:
/// NumPy's and CPython's (`PyArray_...`, `Py...`, `npy_...`), the C
/// library's names, and `std::`'s `mem*` functions.
pub fn is_c_api(name: &str) -> bool {
    let name = name.strip_prefix("::").unwrap_or(name);
    let name = name.strip_prefix("std::").unwrap_or(name);
    [
        "Py",
        "_Py",
        "NPY_",
        "npy_",
        "PyArray_",
        "PyDimMem_",
        "NpyIter_",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || reserved(name)
        || MEM_FNS.contains(&name)
}

/// NumPy's array constructors and the argument positions of `obj`/`base`.
/// Passing an array there only links it to the new array: a subclass's
/// `__array_finalize__` then sees the true shape, exactly as after NumPy's
/// own fix for numpy#28197.
pub fn ctor_link_args(name: &str) -> &'static [usize] {
    match name {
        "PyArray_NewFromDescr" => &[7],
        "PyArray_NewFromDescrAndBase" | "PyArray_NewFromDescr_int" => &[7, 8],
        "PyArray_New" => &[8],
        _ => &[],
    }
}

/// The beginnings of the names of calls that return a new array.
const ALLOCATOR_PREFIXES: &[&str] = &[
    "PyArray_New",
    "PyArray_Empty",
    "PyArray_EMPTY",
    "PyArray_Zeros",
    "PyArray_ZEROS",
    "PyArray_SimpleNew",
    "PyObject_New",
    "PyObject_GC_New",
];
/// The other calls that return a new array.
const ALLOCATORS: &[&str] = &["PyArray_View", "tp_alloc", "PyType_GenericAlloc"];

/// Calls that return a new array (DESIGN §3).
pub fn is_allocator(name: &str) -> bool {
    ALLOCATOR_PREFIXES.iter().any(|p| name.starts_with(p)) || ALLOCATORS.contains(&name)
}

/// What every allocator's name ([`is_allocator`]) holds: a function whose
/// code holds none of these cannot return a new array.
pub fn allocator_spellings() -> impl Iterator<Item = &'static str> {
    ALLOCATOR_PREFIXES.iter().chain(ALLOCATORS).copied()
}

/// Calls documented to return their input in some cases: their result may be
/// an array other threads see.
pub fn may_return_input(name: &str) -> bool {
    name.starts_with("PyArray_From")
        || name.starts_with("PyArray_FROM")
        || matches!(
            name,
            "PyArray_CheckAxis"
                | "PyArray_CheckFromAny"
                | "PyArray_ContiguousFromAny"
                | "PyArray_ContiguousFromObject"
                | "PyArray_GETCONTIGUOUS"
                | "PyArray_EnsureArray"
                | "PyArray_EnsureAnyArray"
                | "PyArray_Return"
        )
}

/// NumPy functions that copy data into the array they are given and keep
/// no reference to it: passing a new array there does not publish it.
pub const BORROWING_CALLEES: &[&str] = &[
    "PyArray_AssignArray",
    "PyArray_AssignRawScalar",
    "PyArray_CopyAsFlat",
    "PyArray_CopyInto",
    "PyArray_CopyAnyInto",
    "PyArray_MoveInto",
    "PyArray_FillWithScalar",
    "PyArray_AssignZero",
];

/// Functions that copy the shape they are given (NumPy's constructors and
/// shape arithmetic take `npy_intp const *dims`), and `memcpy`'s source.
pub const COPYING_CALLEES: &[&str] = &[
    "PyArray_NewFromDescr",
    "PyArray_NewFromDescrAndBase",
    "PyArray_NewFromDescr_int",
    "PyArray_NewFromDescrWithBase",
    "PyArray_NewLikeArrayWithShape",
    "PyArray_New",
    "PyArray_SimpleNew",
    "PyArray_SimpleNewFromData",
    "PyArray_SimpleNewFromDescr",
    "PyArray_Zeros",
    "PyArray_Empty",
    "PyArray_ZEROS",
    "PyArray_EMPTY",
    "PyArray_MultiplyList",
    "PyArray_OverflowMultiplyList",
    "PyArray_IntTupleFromIntp",
    "PyArray_CheckStrides",
];

/// The C library's copies: they only read their second argument (see
/// [`copies_shape`]).
pub const COPY_FNS: &[&str] = &["memcpy", "memmove", "__builtin_memcpy", "__builtin_memmove"];

/// Whether passing a shape pointer as argument `index` of `callee` only
/// reads it, there and then.
pub fn copies_shape(callee: Option<&str>, index: usize) -> bool {
    match callee {
        Some(name) if COPY_FNS.contains(&name) => index == 1,
        Some("std::memcpy" | "std::memmove") => index == 1,
        // `std::copy(first, last, dest)` and `std::copy_n(first, n, dest)`
        // read their source range.
        Some("std::copy" | "std::copy_n") => index < 2,
        Some(name) => COPYING_CALLEES.contains(&name),
        None => false,
    }
}

/// Types that hold any dimension (`npy_intp` and its equals).
pub const WIDE_TYPES: &[&str] = &[
    "npy_intp",
    "Py_ssize_t",
    "intptr_t",
    "ptrdiff_t",
    "npy_int64",
    "int64_t",
    "long long",
    "long long int",
    "signed long long",
];

/// Accessor macros that may appear in an index (they read, never change).
pub const PURE_ACCESSORS: &[&str] = &["PyArray_NDIM", "PyArray_DIM", "PyArray_STRIDE", "sizeof"];

/// Constant-like all-capitals names of C, its library, CPython and NumPy,
/// which are not macros with effects: `NULL`, `INT_MAX`, `SIZE_MAX`,
/// `NPY_MAXDIMS`, `PY_SSIZE_T_MAX`...
pub fn c_constant(id: &str) -> bool {
    const NAMES: &[&str] = &["NULL", "EOF", "TRUE", "FALSE", "BUFSIZ", "CHAR_BIT"];
    const LIMIT_TYPES: &[&str] = &[
        "CHAR", "SCHAR", "UCHAR", "SHRT", "USHRT", "INT", "UINT", "LONG", "ULONG", "LLONG",
        "ULLONG", "SIZE", "SSIZE", "PTRDIFF", "INTMAX", "UINTMAX", "INTPTR", "UINTPTR", "WCHAR",
        "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FLT", "DBL",
        "LDBL",
    ];
    const LIMITS: &[&str] = &["_MAX", "_MIN", "_EPSILON", "_DIG", "_WIDTH"];
    if NAMES.contains(&id) || id.starts_with("NPY_") || id.starts_with("PY_") {
        return true;
    }
    LIMITS.iter().any(|suffix| {
        id.strip_suffix(suffix)
            .is_some_and(|base| LIMIT_TYPES.contains(&base))
    })
}

/// Names the C library or the CPython C API define: a C extension cannot
/// define them too, so they are never looked for in the tree.
pub fn reserved(name: &str) -> bool {
    const LIBC: &[&str] = &[
        "malloc",
        "calloc",
        "realloc",
        "free",
        "memcpy",
        "memmove",
        "memset",
        "memcmp",
        "strlen",
        "strcmp",
        "strncmp",
        "strcpy",
        "strncpy",
        "strcat",
        "strchr",
        "strstr",
        "printf",
        "fprintf",
        "sprintf",
        "snprintf",
        "vsnprintf",
        "puts",
        "fputs",
        "fwrite",
        "fread",
        "fopen",
        "fclose",
        "abort",
        "exit",
        "qsort",
        "bsearch",
        "abs",
        "labs",
    ];
    const CPYTHON: &[&str] = &[
        "Py_",
        "PyErr_",
        "PyObject_",
        "PyLong_",
        "PyFloat_",
        "PyComplex_",
        "PyBool_",
        "PyTuple_",
        "PyList_",
        "PyDict_",
        "PySet_",
        "PyFrozenSet_",
        "PyUnicode_",
        "PyBytes_",
        "PyByteArray_",
        "PySlice_",
        "PyMem_",
        "PyType_",
        "PyCapsule_",
        "PyNumber_",
        "PySequence_",
        "PyMapping_",
        "PyIter_",
        "PyArg_",
        "PyBuffer_",
        "PyOS_",
        "PyEval_",
        "PyThread_",
        "PyGILState_",
        "PyImport_",
        "PyModule_",
        "PyCFunction_",
        "PyMethod_",
        "PyThreadState_",
        "PyInterpreterState_",
        "PyWeakref_",
        "PySys_",
        "PyMemoryView_",
        "PyCell_",
        "PyCode_",
        "PyFrame_",
        "PyContext_",
        "PyVectorcall_",
        "PyStructSequence_",
    ];
    LIBC.contains(&name) || CPYTHON.iter().any(|p| name.starts_with(p))
}
