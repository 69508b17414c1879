//! Source files: reading and decoding them safely, masking, the one C
//! tokenizer and the lexical scans on it, the outline of top-level
//! functions, and parsing (only the functions wanted) with tree-sitter-c,
//! or tree-sitter-cpp for C++ files.

pub mod branches;
pub mod hazards;
pub mod lexical;
mod mask;
pub mod names;
pub mod outline;
pub mod reads;
pub mod scope;
pub mod tokens;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tree_sitter::{Node, Parser, Tree};

use crate::span::line_of;

pub use mask::{lone_cr_to_lf, names_masked_in, Masker};

/// The language a file is written in, decided from its name and (for a
/// `.h`) its content: which grammar parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[default]
    C,
    Cpp,
}

impl Lang {
    /// The language of a file: C++ by its name (`.cpp`, `.hh`, ...), or a
    /// `.h` whose content is C++ (`template`, `namespace`, `class X {`).
    pub fn of(path: &Path, text: &[u8]) -> Lang {
        if crate::discover::is_cpp(path) || (is_header(path) && lexical::is_cpp_text(text)) {
            Lang::Cpp
        } else {
            Lang::C
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::C => "C",
            Lang::Cpp => "C++",
        }
    }

    /// The tree-sitter grammar.
    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::C => tree_sitter_c::LANGUAGE.into(),
            Lang::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        }
    }
}

/// Whether a file is a header (`.h`), whose content may be C or C++.
pub fn is_header(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "h")
}

/// A C-family file read from disk, with its masked twin for parsing.
pub struct SourceFile {
    /// Path as found on disk.
    pub path: PathBuf,
    /// Which grammar parsed it.
    pub lang: Lang,
    /// Path relative to the report root, `/`-separated.
    pub rel: String,
    /// The original text; all edits and reports refer to it.
    pub text: String,
    /// Same length as `text`; what tree-sitter sees.
    pub masked: Vec<u8>,
}

/// A piece of a file parsed on its own: one top-level function (or the
/// whole file, when its outline is unsure), in one branch configuration.
/// A broken neighbour cannot swallow it: nothing outside `range` is read.
pub struct Unit {
    pub tree: Tree,
    /// Which masked text it was parsed from (see [`Parsed::masked`]).
    pub config: usize,
    pub range: std::ops::Range<usize>,
    /// The function reads differently from one configuration to the next.
    pub per_config: bool,
}

/// A parsed source file: its functions, each parsed alone.
pub struct Parsed {
    /// `file.masked` is the text of configuration 0.
    pub file: SourceFile,
    /// Masked texts of configurations 1, 2, ... (see `branches`).
    pub configs: Vec<Vec<u8>>,
    /// The conditionals read per configuration, if any.
    pub layout: Option<branches::Layout>,
    /// Ranges of every top-level function the outline found (wanted or
    /// not), in every configuration read; code outside them (and outside a
    /// configuration parsed whole) is not in a function.
    pub functions: Vec<std::ops::Range<usize>>,
    /// Where each configuration's ranges start in `functions` (those of
    /// configurations after the first are the ones that read differently
    /// per configuration).
    pub config_starts: Vec<usize>,
    /// Where the ERROR and MISSING nodes of the units start, sorted
    /// (reported with their lines, judged locally).
    pub errors: Vec<usize>,
}

impl Parsed {
    /// The masked text configuration `config` was parsed from.
    pub fn masked(&self, config: usize) -> &[u8] {
        match config {
            0 => &self.file.masked,
            k => &self.configs[k - 1],
        }
    }
}

pub use crate::error::Skip;

/// A path as reports show it: relative to `root`. It is `/`-separated
/// already: a backslash is part of a Unix file name, not a separator.
pub fn relative(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().into_owned()
}

/// Read a file, refusing oversized and non-regular ones (DESIGN §1: a
/// warning naming the file; the run goes on).
pub fn read(path: &Path, max: u64, rel: &str) -> Result<Vec<u8>, Skip> {
    read_source(path, max).map_err(|reason| Skip {
        path: PathBuf::from(rel),
        reason,
    })
}

/// Open a file for reading without following a symbolic link and without
/// blocking: a FIFO or device put in a file's place is refused, not read.
pub fn open_regular(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other("is a symbolic link, not followed")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let kind = crate::discover::not_regular(path, &meta.file_type()).reason;
        return Err(std::io::Error::other(kind.trim_end_matches(", skipped")));
    }
    Ok((file, meta))
}

/// Read a source file: never through a symbolic link, never blocking on a
/// FIFO or device, never more than `max` bytes (a device reports length 0).
/// The error is the reason to give for skipping it.
fn read_source(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let (file, meta) = open_regular(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::Other {
            format!("{e}, skipped")
        } else {
            format!("cannot read: {e}, skipped")
        }
    })?;
    let too_big = |len: u64| format!("{len} bytes, larger than --max-file-size ({max}), skipped");
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}, skipped"))?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
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
    /// One parser per thread and grammar: each grammar is loaded once per
    /// worker.
    static PARSER: RefCell<Parser> = RefCell::new(new_parser(Lang::C));
    static CPP_PARSER: RefCell<Parser> = RefCell::new(new_parser(Lang::Cpp));
}

fn new_parser(lang: Lang) -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&lang.grammar())
        .expect("the grammars match the tree-sitter ABI");
    parser
}

/// Run `f` with this thread's parser for `lang`.
fn with_parser<R>(lang: Lang, f: impl FnOnce(&mut Parser) -> R) -> R {
    let key = match lang {
        Lang::C => &PARSER,
        Lang::Cpp => &CPP_PARSER,
    };
    key.with(|p| f(&mut p.borrow_mut()))
}

/// Parse masked C text with this thread's parser.
pub fn parse_c(masked: &[u8]) -> Tree {
    parse(Lang::C, masked)
}

/// Parse masked text of `lang` with this thread's parser.
pub fn parse(lang: Lang, masked: &[u8]) -> Tree {
    with_parser(lang, |p| {
        p.parse(masked, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

/// Parse only the given byte ranges of `masked` (sorted, disjoint): the
/// rest is never even lexed. Offsets in the tree stay those of `masked`.
pub fn parse_ranges(lang: Lang, masked: &[u8], ranges: &[std::ops::Range<usize>]) -> Tree {
    let newlines: Vec<usize> = memchr::memchr_iter(b'\n', masked).collect();
    parse_ranges_in(lang, masked, ranges, &newlines)
}

/// `parse_ranges`, with where the newlines of `masked` are (found once for
/// the many functions of one text: counting them again for each would be
/// quadratic in the number of functions).
fn parse_ranges_in(
    lang: Lang,
    masked: &[u8],
    ranges: &[std::ops::Range<usize>],
    newlines: &[usize],
) -> Tree {
    let mut included = Vec::with_capacity(ranges.len());
    let point = |pos: usize| {
        let row = newlines.partition_point(|&n| n < pos);
        let line_start = if row == 0 { 0 } else { newlines[row - 1] + 1 };
        tree_sitter::Point::new(row, pos - line_start)
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
    with_parser(lang, |parser| {
        if included.is_empty() || parser.set_included_ranges(&included).is_err() {
            // Nothing to skip (or ranges refused): the whole text.
            let _ = parser.set_included_ranges(&[]);
        }
        let tree = parser.parse(masked, None);
        let _ = parser.set_included_ranges(&[]);
        tree.expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

/// Read a file as the analysis needs it: mask it, find its top-level
/// functions, and parse each one `wanted` accepts (see [`Candidate`]) on its own, once
/// per branch configuration where preprocessor branches make it read
/// differently. A configuration whose outline is unsure (unbalanced
/// braces) is parsed whole. The functions left out of the first
/// configuration come back too (name and range). Each unit parsed is
/// handed to `each` with the file (its trees are not kept); what it
/// returns comes back in the order of the units.
pub fn parse_functions<T: Send>(
    (masker, outlines): (&Masker, Option<&Outlines>),
    path: PathBuf,
    rel: String,
    text: String,
    wanted: impl Fn(&Candidate) -> bool,
    each: impl Fn(&Parsed, &Unit) -> T + Sync,
) -> (Parsed, Vec<T>, Vec<LeftOut>) {
    let lang = Lang::of(&path, text.as_bytes());
    let base = masker.mask(&text, is_template(&path));
    let (layout, texts, outlined) = configurations(outlines, &path, base, lang);
    let touches = |r: &std::ops::Range<usize>| layout.as_ref().is_some_and(|l| l.touches(r));
    let newlines: Vec<Vec<usize>> = texts
        .iter()
        .map(|masked| memchr::memchr_iter(b'\n', masked).collect())
        .collect();
    // What to parse: (configuration, range, whether it reads differently
    // per configuration). Found in order, parsed in parallel below.
    let mut jobs = Vec::new();
    let mut blanked = Vec::new();
    let mut functions = Vec::new();
    let mut config_starts = Vec::with_capacity(texts.len());
    for (k, (masked, found)) in texts.iter().zip(&outlined).enumerate() {
        config_starts.push(functions.len());
        let Some(found) = found else {
            jobs.push((k, 0..masked.len(), layout.is_some()));
            functions.push(0..masked.len());
            continue;
        };
        for f in found {
            let range = f.start..f.end;
            // Beyond configuration 0, only what reads differently.
            if k > 0 && !touches(&range) {
                continue;
            }
            let per_config = touches(&range);
            let candidate = Candidate {
                name: &f.name,
                lang,
                range: range.clone(),
                code: &masked[range.clone()],
                per_config,
                text: masked,
                all: found,
            };
            if wanted(&candidate) {
                jobs.push((k, range.clone(), per_config));
            } else if k == 0 {
                blanked.push((f.name.clone(), range.clone()));
            }
            functions.push(range);
        }
    }
    let mut texts = texts.into_iter();
    let file = SourceFile {
        path,
        lang,
        rel,
        text,
        masked: texts.next().unwrap_or_default(),
    };
    let mut parsed = Parsed {
        file,
        configs: texts.collect(),
        layout,
        functions,
        config_starts,
        errors: Vec::new(),
    };
    // A file of many functions is parsed on every core; the results keep
    // the order of the jobs. Each tree is dropped as soon as `each` has
    // taken what it needs: memory follows the code analysed, not the file.
    let done: Vec<(T, Vec<usize>, usize)> = jobs
        .into_par_iter()
        .with_min_len(PARSE_GRAIN)
        .with_max_len(PARSE_CHUNK)
        .map(|(k, range, per_config)| {
            let unit = parse_unit(lang, parsed.masked(k), &newlines[k], k, range, per_config);
            let errors = error_positions(unit.tree.root_node());
            (each(&parsed, &unit), errors, k)
        })
        .collect();
    let mut results = Vec::with_capacity(done.len());
    // Where each unit's errors are, and in which configuration.
    let mut errors: Vec<(usize, usize)> = Vec::new();
    for (t, mut at, k) in done {
        results.push(t);
        at.sort_unstable();
        at.dedup();
        errors.extend(at.into_iter().map(|p| (p, k)));
    }
    parsed.errors = counted(errors);
    (parsed, results, blanked)
}

/// The errors of a file's units, (position, configuration) with each
/// unit's positions distinct, as a sorted list of positions: one error
/// seen in several configurations is one error; two functions of one
/// configuration that meet with no blank between may each have one where
/// they meet.
fn counted(mut errors: Vec<(usize, usize)>) -> Vec<usize> {
    errors.sort_unstable();
    let mut out = Vec::with_capacity(errors.len());
    for here in errors.chunk_by(|a, b| a.0 == b.0) {
        let most = here.chunk_by(|a, b| a.1 == b.1).map(<[_]>::len).max();
        out.extend(std::iter::repeat_n(here[0].0, most.unwrap_or(0)));
    }
    out
}

/// A function [`parse_functions`] left out of the first configuration:
/// its name and range.
pub type LeftOut = (String, std::ops::Range<usize>);

/// A function the outline found, as [`parse_functions`] asks whether to
/// parse it.
pub struct Candidate<'a> {
    pub name: &'a str,
    pub lang: Lang,
    /// Its range, and its masked code.
    pub range: std::ops::Range<usize>,
    pub code: &'a [u8],
    /// It reads differently from one configuration to the next.
    pub per_config: bool,
    /// The masked text of its configuration, and every function the
    /// outline found there.
    pub text: &'a [u8],
    pub all: &'a [outline::Function],
}

/// The outlines of the files read so far, for a later step that parses
/// other functions of the same file: a text's outline (its conditionals
/// and the functions each configuration holds) follows from its masked
/// bytes and its language alone, so one kept for the same file with the
/// same masked text (by hash and length) and language is the one the text
/// would give. What is kept is bounded by the size of the texts (see
/// [`OUTLINED_BYTES`]); past it a file is outlined again when read.
#[derive(Default)]
pub struct Outlines {
    kept: std::sync::Mutex<(
        usize,
        rustc_hash::FxHashMap<PathBuf, std::sync::Arc<Outline>>,
    )>,
}

/// The most text, in bytes, whose outlines are kept: several trees the
/// size of NumPy's candidate files (about 2.4 MB). An outline is a list
/// of functions per configuration, a few kilobytes per megabyte of text
/// and configuration.
const OUTLINED_BYTES: usize = 16 << 20;

/// The functions the outline finds in one configuration of a file
/// (`None`: it is unsure).
type Found = Option<Vec<outline::Function>>;

/// One file's outline (see [`Outlines`]).
pub struct Outline {
    /// The masked text's hash and length, and the language.
    key: (u64, usize, Lang),
    layout: Option<branches::Layout>,
    /// Per configuration, the functions the outline found.
    functions: Vec<Found>,
}

impl Outlines {
    fn get(&self, path: &Path, key: (u64, usize, Lang)) -> Option<std::sync::Arc<Outline>> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.1.get(path).filter(|o| o.key == key).cloned()
    }

    fn keep(&self, path: &Path, bytes: usize, outline: Outline) {
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.0 + bytes <= OUTLINED_BYTES && !kept.1.contains_key(path) {
            kept.0 += bytes;
            kept.1
                .insert(path.to_path_buf(), std::sync::Arc::new(outline));
        }
    }
}

/// A file's conditionals read per configuration (see [`branches`]), its
/// masked text in each configuration (the base last), and the functions
/// the outline finds in each (`None`: unsure); the outline kept in
/// `outlines` when there is one for this text, else made and kept.
fn configurations(
    outlines: Option<&Outlines>,
    path: &Path,
    base: Vec<u8>,
    lang: Lang,
) -> (Option<branches::Layout>, Vec<Vec<u8>>, Vec<Found>) {
    // The outline follows from the masked text and the language alone.
    let key = outlines.map(|_| (xxhash_rust::xxh3::xxh3_64(&base), base.len(), lang));
    let known = outlines.zip(key).and_then(|(o, k)| o.get(path, k));
    let layout = match &known {
        Some(k) => k.layout.clone(),
        None => branches::Layout::of(&base),
    };
    let texts: Vec<Vec<u8>> = match &layout {
        None => vec![base],
        // One copy per configuration; the last one is the base itself.
        Some(l) if l.is_empty() => Vec::new(),
        Some(l) => {
            let mut texts: Vec<Vec<u8>> = (1..l.len()).map(|_| base.clone()).collect();
            texts.push(base);
            for (k, masked) in texts.iter_mut().enumerate() {
                l.blank(masked, k);
            }
            texts
        }
    };
    let functions = match &known {
        Some(k) => k.functions.clone(),
        None => texts.iter().map(|t| outline::functions(t, lang)).collect(),
    };
    if let (Some(outlines), Some(key), None) = (outlines, key, &known) {
        let outline = Outline {
            key,
            layout: layout.clone(),
            functions: functions.clone(),
        };
        outlines.keep(path, key.1, outline);
    }
    (layout, texts, functions)
}

/// Functions parsed by one task at least: small files stay on one thread.
const PARSE_GRAIN: usize = 32;

/// Functions parsed by one task at most: rayon otherwise stops splitting
/// after a few halvings, and on a file of thousands of functions one core
/// was left parsing a last large share alone (a seventh of the time on
/// 8,000 functions).
const PARSE_CHUNK: usize = 4 * PARSE_GRAIN;

fn parse_unit(
    lang: Lang,
    masked: &[u8],
    newlines: &[usize],
    config: usize,
    range: std::ops::Range<usize>,
    per_config: bool,
) -> Unit {
    let tree = if range.start == 0 && range.end == masked.len() {
        parse(lang, masked)
    } else {
        parse_ranges_in(lang, masked, std::slice::from_ref(&range), newlines)
    };
    Unit {
        tree,
        config,
        range,
        per_config,
    }
}

/// Where the ERROR and MISSING nodes under `root` start, descending only
/// into subtrees that contain one.
pub fn error_positions(root: Node) -> Vec<usize> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    'walk: loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            out.push(node.start_byte());
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reading of `text` as `t.c` gives: the functions the outline
    /// found, the units parsed (configuration, range, read per
    /// configuration) and the functions left out.
    type Reading = (
        Vec<std::ops::Range<usize>>,
        Vec<(usize, std::ops::Range<usize>, bool)>,
        Vec<String>,
    );

    fn reading(outlines: Option<&Outlines>, text: &str) -> Reading {
        let masker = Masker::new(&[]);
        let (parsed, units, left_out) = parse_functions(
            (&masker, outlines),
            PathBuf::from("t.c"),
            "t.c".to_string(),
            text.to_string(),
            |c| c.name != "skipped",
            |_, u| (u.config, u.range.clone(), u.per_config),
        );
        let left_out = left_out.into_iter().map(|(name, _)| name).collect();
        (parsed.functions, units, left_out)
    }

    #[test]
    fn an_error_of_several_configurations_counts_once() {
        let errors = vec![(9, 2), (5, 1), (5, 0), (9, 1), (5, 0), (2, 0)];
        assert_eq!(counted(errors), [2, 5, 5, 9]);
    }

    #[test]
    fn a_file_outlined_again_reads_as_it_did() {
        let text = "#if A\nint f(void) {\n#else\nint f(int x) {\n#endif\n    return 1;\n}\n\
                    int skipped(void) { return 0; }\nint g(void) { return 2; }\n";
        // Nothing to mask in these texts: the key is the text's.
        let key = |t: &str| (xxhash_rust::xxh3::xxh3_64(t.as_bytes()), t.len(), Lang::C);
        let outlines = Outlines::default();
        let alone = reading(None, text);
        assert_eq!(alone.1.len(), 3, "f in two configurations, and g");
        assert_eq!(reading(Some(&outlines), text), alone);
        assert!(outlines.get(Path::new("t.c"), key(text)).is_some());
        assert_eq!(reading(Some(&outlines), text), alone);
        // Another text under the same name is outlined anew.
        let changed = text.replace("int g(void) { return 2; }\n", "");
        assert!(outlines.get(Path::new("t.c"), key(&changed)).is_none());
        assert_eq!(reading(Some(&outlines), &changed), reading(None, &changed));
        assert_ne!(reading(None, &changed), alone);
    }
}
