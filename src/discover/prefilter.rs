//! The byte prefilter that keeps files which cannot contain a hit from
//! being parsed, and the names it looks for.

use aho_corasick::{packed, AhoCorasick, MatchKind};

/// The byte patterns a file must contain to be worth parsing.
pub struct Prefilter {
    finder: Names,
}

impl Prefilter {
    /// A prefilter for these [`needles`].
    pub fn new(needles: &[String]) -> Prefilter {
        Prefilter {
            finder: Names::new(needles),
        }
    }

    /// Whether `bytes` may contain a hit.
    pub fn may_hit(&self, bytes: &[u8]) -> bool {
        self.finder.any(bytes)
    }
}

/// A few names looked for in many texts: whether a text holds any, and
/// which. aho-corasick's SIMD searcher (Teddy) answers the first where the
/// CPU has it, one searcher per [`PACKED`] names up to [`SEARCHERS`] of
/// them (and an automaton elsewhere, or for more names): the
/// rare-byte prefilter an automaton picks for names like `PyArray_...`
/// stops at nearly every byte of C (the second look for nine function
/// names spent most of a scan of scipy there). Which names a text holds is
/// then found exactly, one SIMD search per name (one search for all of
/// them at once reports `foo` and never `foo_bar` in `foo_bar`).
pub struct Names {
    any: Any,
    each: Vec<memchr::memmem::Finder<'static>>,
}

/// How [`Names`] tells whether a text holds any name.
enum Any {
    /// One SIMD searcher per group of names: past 64 names aho-corasick
    /// leaves Teddy for its automaton, several times slower on C.
    Packed(Vec<packed::Searcher>),
    Automaton(AhoCorasick),
}

/// Names per SIMD searcher (Teddy's own limit).
const PACKED: usize = 64;
/// SIMD searchers at most, each a pass over the text.
const SEARCHERS: usize = 4;

impl Names {
    pub fn new<N: AsRef<[u8]>>(names: &[N]) -> Names {
        let packed: Option<Vec<packed::Searcher>> = if names.len() <= PACKED * SEARCHERS {
            names
                .chunks(PACKED)
                .map(|group| {
                    packed::Config::new()
                        .match_kind(packed::MatchKind::LeftmostLongest)
                        .builder()
                        .extend(group)
                        .build()
                })
                .collect()
        } else {
            None
        };
        let any = match packed {
            Some(searchers) => Any::Packed(searchers),
            None => Any::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(names)
                    .expect("names form a valid automaton"),
            ),
        };
        Names {
            any,
            each: names
                .iter()
                .map(|n| memchr::memmem::Finder::new(n.as_ref()).into_owned())
                .collect(),
        }
    }

    /// Whether `text` holds any of the names.
    pub fn any(&self, text: &[u8]) -> bool {
        match &self.any {
            Any::Packed(searchers) => searchers.iter().any(|s| s.find(text).is_some()),
            Any::Automaton(automaton) => automaton.is_match(text),
        }
    }

    /// The indices of the names `text` holds, in order.
    pub fn which<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = usize> + 't {
        let any = self.any(text);
        self.each
            .iter()
            .enumerate()
            .filter(move |(_, f)| any && f.find(text).is_some())
            .map(|(i, _)| i)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_finds_each_name_a_text_holds() {
        let names = Names::new(&["foo", "foo_bar", "bar", "baz"]);
        let text = b"x = foo_bar(1); y = bar;";
        assert!(names.any(text));
        assert_eq!(names.which(text).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(!names.any(b"fo ba ba_z"));
        assert_eq!(names.which(b"fo ba").count(), 0);
        // Several SIMD searchers, then past what they take the automaton:
        // the same answers.
        for (count, automaton) in [(100, false), (300, true)] {
            let many: Vec<String> = (0..count).map(|i| format!("name_{i}_")).collect();
            let names = Names::new(&many);
            let last = format!("x name_{}_ y", count - 1);
            assert!(names.any(last.as_bytes()));
            assert!(names.any(b"x name_3_ y"));
            assert!(!names.any(format!("x name_{count}_ y").as_bytes()));
            assert_eq!(
                names
                    .which(b"name_7_ name_12_ name_70_")
                    .collect::<Vec<_>>(),
                [7, 12, 70]
            );
            assert_eq!(matches!(names.any, Any::Automaton(_)), automaton);
        }
    }
}
