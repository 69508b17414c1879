//! Edits as plain values on byte ranges of the original text, checked for
//! overlap and applied in one forward pass (ruff's `Edit`/`Fix` shape).

use std::ops::Range;

/// Replace `range` of the original text with `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: String,
}

impl Edit {
    pub fn insert(at: usize, content: impl Into<String>) -> Edit {
        Edit {
            range: at..at,
            content: content.into(),
        }
    }

    pub fn delete(range: Range<usize>) -> Edit {
        Edit {
            range,
            content: String::new(),
        }
    }

    pub fn replace(range: Range<usize>, content: impl Into<String>) -> Edit {
        Edit {
            range,
            content: content.into(),
        }
    }

    fn is_insert(&self) -> bool {
        self.range.is_empty()
    }

    /// The order a [`Patch`] applies edits in: by place, an insertion
    /// before a replacement at the same place.
    pub fn apply_order(&self) -> (usize, bool, usize) {
        (self.range.start, !self.is_insert(), self.range.end)
    }
}

/// Two edits touch the same bytes: a planner bug, never skipped silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edits overlap at bytes {first:?} and {second:?}")]
pub struct Overlap {
    pub first: Range<usize>,
    pub second: Range<usize>,
}

/// A set of non-overlapping edits, sorted by position. Insertions at the
/// same point keep the order they were planned in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    edits: Vec<Edit>,
}

impl Patch {
    pub fn new(mut edits: Vec<Edit>) -> Result<Patch, Overlap> {
        edits.sort_by_key(Edit::apply_order);
        for pair in edits.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let clash = if a.is_insert() || b.is_insert() {
                // An insertion strictly inside a replaced range.
                (b.is_insert() && a.range.start < b.range.start && b.range.start < a.range.end)
                    || (a.is_insert()
                        && b.range.start < a.range.start
                        && a.range.start < b.range.end)
            } else {
                b.range.start < a.range.end
            };
            if clash {
                return Err(Overlap {
                    first: a.range.clone(),
                    second: b.range.clone(),
                });
            }
        }
        Ok(Patch { edits })
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The text with every edit applied; bytes outside edits are copied.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 256);
        let mut pos = 0;
        for e in &self.edits {
            out.push_str(&text[pos..e.range.start]);
            out.push_str(&e.content);
            pos = e.range.end;
        }
        out.push_str(&text[pos..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_one_forward_pass() {
        let text = "abcdef";
        let p = Patch::new(vec![
            Edit::replace(4..5, "E"),
            Edit::insert(0, ">"),
            Edit::delete(1..3),
        ])
        .unwrap();
        assert_eq!(p.apply(text), ">adEf");
    }

    #[test]
    fn rejects_overlaps() {
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::delete(2..4)]).is_err());
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::insert(1, "y")]).is_err());
        // Touching ranges and insertions at an edge are fine.
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::delete(3..4)]).is_ok());
        assert!(Patch::new(vec![Edit::replace(0..3, "x"), Edit::insert(3, "y")]).is_ok());
    }

    #[test]
    fn insertions_at_one_point_keep_their_order() {
        let p = Patch::new(vec![Edit::insert(1, "1"), Edit::insert(1, "2")]).unwrap();
        assert_eq!(p.apply("ab"), "a12b");
    }
}
