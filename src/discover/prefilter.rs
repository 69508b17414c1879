//! The byte prefilter that keeps files which cannot contain a hit from
//! being parsed, and the names it looks for.

use aho_corasick::AhoCorasick;

/// The byte patterns a file must contain to be worth parsing.
pub struct Prefilter {
    finder: AhoCorasick,
}

impl Prefilter {
    /// A prefilter for these [`needles`].
    pub fn new(needles: &[String]) -> Prefilter {
        Prefilter {
            finder: AhoCorasick::new(needles).expect("needles form a valid automaton"),
        }
    }

    /// Whether `bytes` may contain a hit.
    pub fn may_hit(&self, bytes: &[u8]) -> bool {
        self.finder.is_match(bytes)
    }
}

/// The macros that give an array's shape storage (DESIGN §2); the analysis
/// reads them from `analyze::api`, which re-exports these.
pub const DIMS_SOURCES: &[&str] = &["PyArray_DIMS", "PyArray_SHAPE"];
/// The macro that gives an array's strides storage (`--strides`).
pub const STRIDES_SOURCE: &str = "PyArray_STRIDES";
/// The type of an ndarray's fields: `->dimensions` through a cast or a
/// variable of this type reaches its shape.
pub const FIELDS_TYPE: &str = "PyArrayObject_fields";
/// The ndarray type; with NumPy's pre-1.7 API (and in Cython 0.29's
/// output) `X->dimensions` on a `PyArrayObject *` is the shape too.
pub const ARRAY_TYPE: &str = "PyArrayObject";

/// The names a file (or a function) must mention to hold a hit: the shape
/// sources, `PyArray_STRIDES` with `--strides`, the `--dims-macro` and
/// `--strides-macro` names, `PyArrayObject_fields` (a cast or a variable of
/// that type reaches `->dimensions`) and `->dimensions` itself (on a
/// `PyArrayObject *`, NumPy's pre-1.7 API and Cython 0.29's output); with
/// the flags field, the flag-setting API ([`FLAG_SETTERS`]). The other
/// metadata fields are reached through `PyArrayObject_fields`. The one
/// list the prefilter, the outline and the macro scan share.
pub fn needles(
    dims: &[String],
    strides_macros: &[String],
    strides: bool,
    flags: bool,
) -> Vec<String> {
    let mut needles: Vec<String> = DIMS_SOURCES.iter().map(|s| s.to_string()).collect();
    needles.push(FIELDS_TYPE.to_string());
    needles.push("->dimensions".to_string());
    if strides {
        needles.push(STRIDES_SOURCE.to_string());
        needles.push("->strides".to_string());
        needles.extend(strides_macros.iter().cloned());
    }
    if flags {
        needles.extend(FLAG_SETTERS.iter().map(|s| s.to_string()));
    }
    needles.extend(dims.iter().cloned());
    needles
}

/// NumPy's API that changes an array's flags in place.
pub const FLAG_SETTERS: &[&str] = &[
    "PyArray_ENABLEFLAGS",
    "PyArray_CLEARFLAGS",
    "PyArray_UpdateFlags",
];
