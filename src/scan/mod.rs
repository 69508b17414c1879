//! The scan pipeline: walk → read and prefilter → parse → facts → summaries
//! → classify. Files are processed in parallel; results are collected, then
//! sorted, so output never depends on thread timing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use aho_corasick::AhoCorasick;
use rayon::prelude::*;

use crate::analyze::summary::{MacroSummary, Summaries};
use crate::analyze::{Finding, MacroDef, Sources};
use crate::discover::{self, Prefilter, WalkOptions};
use crate::error::Error;
use crate::source::{self, lexical, LineIndex, Skip};

mod callees;
mod parse;
mod reports;

use callees::{merge_summaries, needed_names, reserved};
use parse::{process, Context, Keep, Processed, Retain};
use reports::classify_file;
pub use reports::{findings, reanalyze, scan_text};

/// What to scan and how.
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    /// Reported paths are relative to this directory.
    pub root: PathBuf,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub max_file_size: u64,
    pub dims_macros: Vec<String>,
    pub strides: bool,
    pub ignore_macros: Vec<String>,
    pub threads: usize,
    /// Follow symbolic links out of `paths` (`--follow`; read, never written).
    pub follow: bool,
}

impl ScanOptions {
    pub fn sources(&self) -> Sources<'_> {
        Sources {
            dims_macros: &self.dims_macros,
            strides: self.strides,
        }
    }
}

/// A file with findings, and the text they refer to.
pub struct FileReport {
    pub path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub rel: String,
    pub text: String,
    pub lines: LineIndex,
    /// ERROR/MISSING nodes in the file (a planned result may not add any).
    pub parse_errors: usize,
    /// Sorted by first site.
    pub findings: Vec<Finding>,
}

/// Counters for the report.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    /// C-family files found.
    pub files_seen: usize,
    /// Files parsed (the rest could not contain a hit).
    pub files_parsed: usize,
    /// ERROR/MISSING nodes in parsed files (judged locally, never fatal).
    pub parse_errors: usize,
    pub files_with_parse_errors: usize,
    pub elapsed_ms: u128,
}

/// The outcome of a scan.
pub struct Scan {
    pub files: Vec<FileReport>,
    pub skipped: Vec<Skip>,
    pub stats: Stats,
    /// Kept to re-analyse planned results with the same knowledge.
    pub summaries: Summaries,
}

/// Shape source names (plus extra macros) a prefilter and macro scan use.
fn needles(opts: &ScanOptions) -> Vec<String> {
    let mut n: Vec<String> = ["PyArray_DIMS", "PyArray_SHAPE", "PyArrayObject_fields"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if opts.strides {
        n.push("PyArray_STRIDES".to_string());
    }
    n.extend(opts.dims_macros.iter().cloned());
    n
}

pub fn relative(path: &Path, root: &Path) -> String {
    // `/`-separated already: a backslash is part of a Unix file name, not a separator.
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().into_owned()
}

/// Read a file, refusing oversized and non-regular ones.
fn read(path: &Path, max: u64, rel: &str) -> Result<Vec<u8>, Skip> {
    discover::read_source(path, max).map_err(|reason| Skip {
        path: PathBuf::from(rel),
        reason,
    })
}

/// Shape-writing macros among lexically found `#define`s of one text.
fn shape_macros_in(opts: &ScanOptions, rel: &str, text: &str) -> Vec<(String, MacroSummary)> {
    let needles = needles(opts);
    let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
    lexical::writing_macros(text, &refs)
        .into_iter()
        .filter_map(|m| {
            let s = MacroSummary::of(&m, format!("{rel}:{}", m.line), opts.sources())?;
            s.writes_shape.is_some().then_some((m.name, s))
        })
        .collect()
}

/// Run the whole scan.
pub fn scan(opts: &ScanOptions) -> Result<Scan, Error> {
    let started = Instant::now();
    let walked = discover::walk(
        &opts.paths,
        &WalkOptions {
            root: &opts.root,
            include: &opts.include,
            exclude: &opts.exclude,
            threads: opts.threads,
            follow: opts.follow,
        },
    )?;
    let mut skipped: Vec<Skip> = walked
        .skipped
        .into_iter()
        .map(|s| Skip {
            path: PathBuf::from(relative(&s.path, &opts.root)),
            reason: s.reason,
        })
        .collect();
    let mut stats = Stats {
        files_seen: walked.files.len(),
        ..Stats::default()
    };
    crate::testhook::pause("after-walk");

    // Read and prefilter: only files that can hit go on. Their `#define`s
    // are looked at now (the tree's shape-writing macros make hits in other
    // functions and files); their text is read again when parsed, so no
    // stage holds every file at once.
    let prefilter = Prefilter::new(&opts.dims_macros, opts.strides);
    enum Read {
        Candidate(PathBuf, usize, Vec<(String, MacroSummary)>),
        Other(PathBuf),
        Skipped(Skip),
    }
    let read_all: Vec<Read> = walked
        .files
        .into_par_iter()
        .map(|path| {
            let path = path.into_boxed_path().into_path_buf();
            let path = &path;
            let rel = relative(path, &opts.root);
            match read(path, opts.max_file_size, &rel) {
                Err(skip) => Read::Skipped(skip),
                Ok(bytes) if prefilter.may_hit(&bytes) => {
                    let size = bytes.len();
                    match source::decode(Path::new(&rel), bytes) {
                        Ok(text) => {
                            Read::Candidate(path.clone(), size, shape_macros_in(opts, &rel, &text))
                        }
                        Err(skip) => Read::Skipped(skip),
                    }
                }
                Ok(_) => Read::Other(path.clone()),
            }
        })
        .collect();
    let mut candidates = Vec::new();
    let mut others = Vec::new();
    let mut summaries = Summaries::default();
    for r in read_all {
        match r {
            Read::Candidate(p, size, macros) => {
                summaries.macros.extend(macros);
                candidates.push((p, size));
            }
            Read::Other(p) => others.push(p),
            Read::Skipped(s) => skipped.push(s),
        }
    }
    let cx = Context::new(opts, summaries.macros.keys().cloned().collect());

    // Largest first, so no core is left parsing one big file at the end.
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let none = HashSet::new();
    let first: Vec<Result<Processed, Skip>> = candidates
        .par_iter()
        .map(|(path, _)| {
            let rel = relative(path, &opts.root);
            let text = source::decode(Path::new(&rel), read(path, opts.max_file_size, &rel)?)?;
            Ok(process(
                &cx,
                path.clone(),
                text,
                Keep::Hits(&none),
                Retain::Writers,
            ))
        })
        .collect();
    let mut processed = Vec::new();
    for r in first {
        match r {
            Ok(p) => processed.push(p),
            Err(skip) => skipped.push(skip),
        }
    }

    // Summaries of everything the retained functions call.
    let mut defined: HashSet<String> = HashSet::new();
    let mut macro_defs: HashMap<String, (MacroDef, String)> = HashMap::new();
    // Blanked function names, to the files (by index) that left them out.
    let mut blanked_in: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, p) in processed.iter_mut().enumerate() {
        merge_summaries(&mut summaries, std::mem::take(&mut p.summaries));
        defined.extend(p.defined.drain(..));
        for name in p.blanked.drain(..) {
            blanked_in.entry(name).or_default().push(i as u32);
        }
        for (m, loc) in p.macros.drain(..) {
            macro_defs.entry(m.name.clone()).or_insert((m, loc));
        }
    }
    let needed = needed_names(&processed);
    let mut unresolved: HashSet<String> = HashSet::new();
    for name in &needed {
        if let Some((m, loc)) = macro_defs.get(name) {
            if let Some(s) = MacroSummary::of(m, loc.clone(), opts.sources()) {
                summaries.macros.entry(name.clone()).or_insert(s);
            }
        } else if !defined.contains(name) && !reserved(name) {
            unresolved.insert(name.clone());
        }
    }

    // Needed functions that the first parse left out: parse them now.
    let mut again: Vec<&PathBuf> = unresolved
        .iter()
        .filter_map(|n| blanked_in.get(n))
        .flatten()
        .map(|&i| &processed[i as usize].path)
        .collect();
    drop(blanked_in);
    again.sort();
    again.dedup();
    let revisited: Vec<Result<Processed, Skip>> = again
        .par_iter()
        .map(|path| {
            let rel = relative(path, &opts.root);
            let text = source::decode(Path::new(&rel), read(path, opts.max_file_size, &rel)?)?;
            Ok(process(
                &cx,
                (*path).clone(),
                text,
                Keep::Only(&unresolved),
                Retain::No,
            ))
        })
        .collect();
    for r in revisited {
        match r {
            Ok(mut p) => {
                merge_summaries(&mut summaries, std::mem::take(&mut p.summaries));
                for name in &p.defined {
                    unresolved.remove(name);
                }
            }
            Err(skip) => skipped.push(skip),
        }
    }

    // A second look at the files the prefilter let go, only for names
    // learned from the first: definitions of called functions and macros,
    // and uses of the tree's shape-writing macros.
    let shape_macro_names = &cx.shape_macros;
    if !unresolved.is_empty() || !shape_macro_names.is_empty() {
        let mut names: Vec<String> = unresolved.iter().cloned().collect();
        names.extend(shape_macro_names.iter().cloned());
        names.sort();
        let finder = AhoCorasick::new(&names).expect("names form a valid automaton");
        let second: Vec<Result<Option<Processed>, Skip>> = others
            .into_par_iter()
            .map(|path| -> Result<Option<Processed>, Skip> {
                let rel = relative(&path, &opts.root);
                let bytes = read(&path, opts.max_file_size, &rel)?;
                let mut hits: HashSet<&str> = HashSet::new();
                for m in finder.find_iter(&bytes) {
                    hits.insert(&names[m.pattern().as_usize()]);
                }
                if hits.is_empty() {
                    return Ok(None);
                }
                let uses_macro = hits.iter().any(|h| shape_macro_names.contains(*h));
                let defines_needed = {
                    let lossy = String::from_utf8_lossy(&bytes);
                    hits.iter()
                        .any(|h| unresolved.contains(*h) && lexical::defines(&lossy, h))
                };
                if !uses_macro && !defines_needed {
                    return Ok(None);
                }
                let text = source::decode(Path::new(&rel), bytes)?;
                Ok(Some(process(
                    &cx,
                    path,
                    text,
                    Keep::Hits(&unresolved),
                    if uses_macro {
                        Retain::Writers
                    } else {
                        Retain::No
                    },
                )))
            })
            // Nothing for most files: collect only what there is.
            .filter(|r| !matches!(r, Ok(None)))
            .collect();
        for r in second {
            match r {
                Ok(Some(mut p)) => {
                    merge_summaries(&mut summaries, std::mem::take(&mut p.summaries));
                    for (m, loc) in p.macros.drain(..) {
                        if unresolved.contains(&m.name) {
                            if let Some(s) = MacroSummary::of(&m, loc, opts.sources()) {
                                summaries.macros.entry(m.name.clone()).or_insert(s);
                            }
                        }
                    }
                    processed.push(p);
                }
                Ok(None) => {}
                Err(skip) => skipped.push(skip),
            }
        }
    }

    stats.files_parsed = processed.len();
    stats.parse_errors = processed.iter().map(|p| p.errors).sum();
    stats.files_with_parse_errors = processed.iter().filter(|p| p.errors > 0).count();

    let classified: Vec<Result<Option<FileReport>, Skip>> = processed
        .into_par_iter()
        .filter(|p| !p.writers.is_empty() || !p.potential.is_empty())
        .map(|p| classify_file(&cx, p, &summaries))
        .collect();
    let mut files = Vec::new();
    for r in classified {
        match r {
            Ok(Some(f)) => files.push(f),
            Ok(None) => {}
            Err(skip) => skipped.push(skip),
        }
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    stats.elapsed_ms = started.elapsed().as_millis();
    Ok(Scan {
        files,
        skipped,
        stats,
        summaries,
    })
}
