//! Source files: reading and decoding them safely, masking, the one C
//! tokenizer and the lexical scans on it, the outline of top-level
//! functions, and parsing (only the functions wanted) with tree-sitter-c.

pub mod hazards;
pub mod lexical;
mod mask;
pub mod outline;
pub mod scope;
pub mod tokens;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Parser, Tree};

use crate::span::line_of;

pub use mask::{lone_cr_to_lf, Masker};

/// A C-family file read from disk, with its masked twin for parsing.
pub struct SourceFile {
    /// Path as found on disk.
    pub path: PathBuf,
    /// Path relative to the report root, `/`-separated.
    pub rel: String,
    /// The original text; all edits and reports refer to it.
    pub text: String,
    /// Same length as `text`; what tree-sitter sees.
    pub masked: Vec<u8>,
}

/// A parsed source file.
pub struct Parsed {
    pub file: SourceFile,
    pub tree: Tree,
    /// ERROR and MISSING nodes in the file (reported in the stats).
    pub error_count: usize,
}

pub use crate::error::Skip;

/// A path as reports show it: relative to `root`, `/`-separated.
pub fn relative(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// Read a file, refusing oversized ones (DESIGN §1: a warning naming the
/// file; the run goes on).
pub fn read(path: &Path, max: u64, rel: &str) -> Result<Vec<u8>, Skip> {
    let skip = |reason: String| Skip {
        path: PathBuf::from(rel),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| skip(format!("cannot read: {e}, skipped")))?;
    if meta.len() > max {
        return Err(skip(format!(
            "{} bytes, larger than --max-file-size ({max}), skipped",
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| skip(format!("cannot read: {e}, skipped")))
}

/// Whether a file name is NumPy's template format (`.c.src`, `.h.src`).
pub fn is_template(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.ends_with(".src"))
}

/// The text of a UTF-16 file (a byte order mark, or the NUL byte of every
/// ASCII character on one side), decoded; `None` for anything else.
pub fn utf16_text(bytes: &[u8]) -> Option<String> {
    let (little, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => {
            let head = &bytes[..bytes.len().min(256) & !1];
            let nul = |odd: bool| {
                head.chunks(2)
                    .all(|c| (c[usize::from(odd)] == 0) && c[usize::from(!odd)] != 0)
            };
            match (head.len() >= 4, nul(true), nul(false)) {
                (true, true, _) => (true, bytes),
                (true, _, true) => (false, bytes),
                _ => return None,
            }
        }
    };
    let units = body.chunks_exact(2).map(|c| match little {
        true => u16::from_le_bytes([c[0], c[1]]),
        false => u16::from_be_bytes([c[0], c[1]]),
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect(),
    )
}

/// The skip of a UTF-16 file that may hold a hit: it is not analysed (the
/// edits, the diff and git all work on its bytes), and the run says so.
pub fn utf16_skip(path: &Path) -> Skip {
    Skip {
        path: path.to_path_buf(),
        reason: "UTF-16 text that mentions a shape source, not analysed (convert it to UTF-8 \
                 to scan it), skipped"
            .to_string(),
    }
}

/// Decode bytes that passed the prefilter. Binary (NUL bytes) and non-UTF-8
/// files are refused with a reason naming the line.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, Skip> {
    let skip = |reason: String| Skip {
        path: path.to_path_buf(),
        reason,
    };
    if utf16_text(&bytes).is_some() {
        return Err(utf16_skip(path));
    }
    if let Some(pos) = memchr::memchr(0, &bytes) {
        let line = line_of(&bytes, pos);
        return Err(skip(format!(
            "binary file (NUL byte on line {line}), skipped"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let pos = e.utf8_error().valid_up_to();
        let line = line_of(e.as_bytes(), pos);
        skip(format!("not valid UTF-8 (line {line}), skipped"))
    })
}

thread_local! {
    /// One parser per thread: the grammar is loaded once per worker.
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_c::LANGUAGE.into())
        .expect("tree-sitter-c matches the tree-sitter ABI");
    parser
}

/// Parse masked C text with this thread's parser.
pub fn parse_c(masked: &[u8]) -> Tree {
    PARSER.with(|p| {
        p.borrow_mut()
            .parse(masked, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

/// Parse only the given byte ranges of `masked` (sorted, disjoint): the
/// rest is never even lexed. Offsets in the tree stay those of `masked`.
pub fn parse_ranges(masked: &[u8], ranges: &[std::ops::Range<usize>]) -> Tree {
    let mut included = Vec::with_capacity(ranges.len());
    let (mut row, mut col, mut at) = (0usize, 0usize, 0usize);
    let mut point = |pos: usize| {
        for &b in &masked[at..pos] {
            if b == b'\n' {
                row += 1;
                col = 0;
            } else {
                col += 1;
            }
        }
        at = pos;
        tree_sitter::Point::new(row, col)
    };
    for r in ranges.iter().filter(|r| !r.is_empty()) {
        let start_point = point(r.start);
        let end_point = point(r.end);
        included.push(tree_sitter::Range {
            start_byte: r.start,
            end_byte: r.end,
            start_point,
            end_point,
        });
    }
    PARSER.with(|p| {
        let mut parser = p.borrow_mut();
        if included.is_empty() || parser.set_included_ranges(&included).is_err() {
            // Nothing to skip (or ranges refused): the whole text.
            let _ = parser.set_included_ranges(&[]);
        }
        let tree = parser.parse(masked, None);
        let _ = parser.set_included_ranges(&[]);
        tree.expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

impl SourceFile {
    /// Parse this file, skipping `skip` (sorted, disjoint byte ranges).
    pub fn parse_skipping(self, skip: &[std::ops::Range<usize>]) -> Parsed {
        let tree = if skip.is_empty() {
            parse_c(&self.masked)
        } else {
            let mut keep = Vec::with_capacity(skip.len() + 1);
            let mut at = 0;
            for r in skip {
                keep.push(at..r.start);
                at = r.end;
            }
            keep.push(at..self.masked.len());
            parse_ranges(&self.masked, &keep)
        };
        let error_count = count_errors(tree.root_node());
        Parsed {
            file: self,
            tree,
            error_count,
        }
    }
}

/// Read a file as the analysis needs it: mask it, and parse only the
/// top-level functions `wanted` accepts (by name and masked code) — all of
/// them when the outline is unsure. The others are blanked as well as
/// skipped, so no text lookup can see them; their names come back too.
pub fn parse_functions(
    masker: &Masker,
    path: PathBuf,
    rel: String,
    text: String,
    wanted: impl Fn(&str, &[u8]) -> bool,
) -> (Parsed, Vec<String>) {
    let mut masked = masker.mask(&text, is_template(&path));
    let mut blanked = Vec::new();
    let mut skip = Vec::new();
    if let Some(functions) = outline::functions(&masked) {
        for f in functions {
            if !wanted(&f.name, &masked[f.start..f.end]) {
                outline::blank(&mut masked, f.start, f.end);
                skip.push(f.start..f.end);
                blanked.push(f.name);
            }
        }
    }
    let file = SourceFile {
        path,
        rel,
        text,
        masked,
    };
    (file.parse_skipping(&skip), blanked)
}

/// Count ERROR and MISSING nodes under `root`, descending only into subtrees
/// that contain one.
pub fn count_errors(root: Node) -> usize {
    let mut count = 0;
    let mut cursor = root.walk();
    'walk: loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if node.has_error() && !node.is_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    count
}
