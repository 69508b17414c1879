//! Byte spans and text positions: what facts, findings and edits refer to,
//! and the line index that turns them into lines only when rendering.

use tree_sitter::Node;

/// A half-open byte range in a source file.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    pub fn of(node: Node) -> Span {
        Span::new(node.start_byte(), node.end_byte())
    }

    /// Whether `other` lies within this span.
    pub fn contains(&self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether the two spans share at least one byte.
    pub fn overlaps(&self, other: Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The 1-based line of byte offset `pos` (one count, no index).
pub fn line_of(bytes: &[u8], pos: usize) -> usize {
    line_ends(&bytes[..pos]).count() + 1
}

/// Where lines end, as a compiler reads them: after each `\n`, and after
/// each `\r` that no `\n` follows (old Mac line endings, which GCC and
/// Clang take too).
fn line_ends(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(move |&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
}

/// Whether some line of `text` ends in a `\r` alone.
pub fn has_lone_cr(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n'))
}

/// Line starts of a text, for turning byte offsets into lines and columns.
pub struct LineIndex {
    starts: Vec<usize>,
    /// Characters before each line start (so a character offset costs a
    /// line, not the whole text before it), counted when first asked for:
    /// only edits shown with character offsets (SARIF fixes) need them.
    chars_before: std::sync::OnceLock<Vec<usize>>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(line_ends(text.as_bytes()).map(|i| i + 1));
        LineIndex {
            starts,
            chars_before: std::sync::OnceLock::new(),
        }
    }

    /// 0-based offset in characters of a byte offset.
    pub fn char_offset(&self, text: &str, pos: usize) -> usize {
        let chars_before = self.chars_before.get_or_init(|| {
            let mut out = Vec::with_capacity(self.starts.len());
            let mut count = 0;
            for pair in self.starts.windows(2) {
                out.push(count);
                count += text[pair[0]..pair[1]].chars().count();
            }
            out.push(count);
            out
        });
        let (line, column) = self.line_col(text, pos);
        chars_before[line - 1] + column - 1
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, pos: usize) -> usize {
        self.starts.partition_point(|&s| s <= pos)
    }

    /// Byte offset where the 1-based `line` starts.
    pub fn start(&self, line: usize) -> usize {
        self.starts[line - 1]
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, text: &str, pos: usize) -> (usize, usize) {
        let line = self.line(pos);
        let start = self.starts[line - 1];
        (line, text[start..pos].chars().count() + 1)
    }
}

/// Start of the line holding `pos`.
pub fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// The blanks that start the line holding `pos`.
pub fn indent_at(text: &str, pos: usize) -> &str {
    let start = line_start(text, pos);
    let rest = &text[start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// The line ending of the line holding `pos` (the file's first one for a
/// last line without any).
pub fn eol_at(text: &str, pos: usize) -> &'static str {
    let crlf = |i: usize| i > 0 && text.as_bytes()[i - 1] == b'\r';
    match text[pos..]
        .find('\n')
        .map(|i| pos + i)
        .or_else(|| text.find('\n'))
    {
        Some(i) if crlf(i) => "\r\n",
        _ => "\n",
    }
}

/// Whether only blanks precede `pos` on its line.
pub fn starts_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos].trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_where_a_compiler_ends_them() {
        let text = "a\rb\r\nc\nd";
        let lines = LineIndex::new(text);
        assert_eq!(lines.line(text.find('b').unwrap()), 2);
        assert_eq!(lines.line(text.find('c').unwrap()), 3);
        assert_eq!(lines.line(text.find('d').unwrap()), 4);
        assert_eq!(line_of(text.as_bytes(), text.find('d').unwrap()), 4);
        assert!(has_lone_cr(text) && !has_lone_cr("a\r\nb\n"));
    }

    #[test]
    fn character_offsets_count_characters_before_the_byte() {
        let text = "é\r\nxü\rz\n\u{1F600}q";
        let lines = LineIndex::new(text);
        for (pos, _) in text.char_indices().chain([(text.len(), ' ')]) {
            assert_eq!(
                lines.char_offset(text, pos),
                text[..pos].chars().count(),
                "{pos}"
            );
        }
    }
}
