//! The scan pipeline: walk → read and prefilter → parse → facts → summaries
//! → classify. Files are processed in parallel; results are collected, then
//! sorted, so output never depends on thread timing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use aho_corasick::AhoCorasick;
use rayon::prelude::*;

use crate::analyze::api::is_allocator;
use crate::analyze::summary::{FnSummary, MacroSummary, Summaries};
use crate::analyze::{self, ack, classify, Class, Facts, Finding, MacroDef, Sources};
use crate::discover::{self, Prefilter, WalkOptions};
use crate::error::Error;
use crate::source::{self, lexical, outline, LineIndex, Masker, Skip, SourceFile};

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

/// One parsed file: the functions worth classifying and what it tells
/// about the tree (summaries, macros). The text itself is not kept: files
/// are read again when classified, and must still hash the same.
struct Processed {
    path: PathBuf,
    rel: String,
    hash: u64,
    /// Every function parsed, with its facts: only when asked for
    /// (`Retain::All`), to classify; otherwise facts are not kept.
    functions: Vec<Facts>,
    /// Functions with a write of their own (or a use of a shape-writing
    /// macro): parsed again when the file is classified.
    writers: Vec<Potential>,
    /// Functions that only pass shape storage to calls: classified only if
    /// one of those callees turns out to write through it.
    potential: Vec<Potential>,
    /// Names whose summaries the writers need.
    needed: Vec<String>,
    summaries: Vec<(String, FnSummary)>,
    /// Functions parsed, and function-like macros defined.
    defined: Vec<String>,
    /// Functions left out of the parse (they cannot hit).
    blanked: Vec<String>,
    macros: Vec<(MacroDef, String)>,
    errors: usize,
}

/// A function to classify later (see `Processed::writers`, `potential`).
struct Potential {
    name: String,
    /// Where its name starts (to tell same-named functions apart);
    /// `UNPARSED` for code that did not parse as a function.
    at: usize,
    /// For a potential writer: the callees receiving shape storage.
    callees: Vec<String>,
}

const UNPARSED: usize = usize::MAX;

fn hash_of(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
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
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// Read a file, refusing oversized ones.
fn read(path: &Path, max: u64, rel: &str) -> Result<Vec<u8>, Skip> {
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

/// What processing a file needs to know about the tree.
struct Context<'a> {
    opts: &'a ScanOptions,
    masker: Masker,
    /// Shape sources and the tree's shape-writing macros: a function that
    /// mentions none of them cannot hit, and is not parsed.
    hits: AhoCorasick,
    shape_macros: HashSet<String>,
}

impl<'a> Context<'a> {
    fn new(opts: &'a ScanOptions, shape_macros: HashSet<String>) -> Context<'a> {
        let mut names = needles(opts);
        names.extend(shape_macros.iter().cloned());
        Context {
            opts,
            masker: Masker::new(&opts.ignore_macros),
            hits: AhoCorasick::new(&names).expect("names form a valid automaton"),
            shape_macros,
        }
    }
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

/// Read a file again for classification: it must be what was parsed.
fn reread(p: &Processed, opts: &ScanOptions) -> Result<String, Skip> {
    let text = source::decode(
        Path::new(&p.rel),
        read(&p.path, opts.max_file_size, &p.rel)?,
    )?;
    if hash_of(&text) != p.hash {
        return Err(Skip {
            path: PathBuf::from(&p.rel),
            reason: "changed while being scanned, skipped".to_string(),
        });
    }
    Ok(text)
}

/// Classify one processed file, reading its text again.
fn classify_file(
    cx: &Context,
    p: Processed,
    summaries: &Summaries,
) -> Result<Option<FileReport>, Skip> {
    let text = reread(&p, cx.opts)?;
    let errors = p.errors;
    let (path, rel) = (p.path.clone(), p.rel.clone());
    let found = classify_text(cx, p, &text, summaries);
    if found.is_empty() {
        return Ok(None);
    }
    // Only files that can get an edit keep their text; the rest has what
    // reports show rendered already.
    let editable = found.iter().any(|f| match f.class {
        Class::Rewrite => true,
        Class::Lock | Class::Manual => !f.acknowledged && !f.parse_error,
        Class::Fresh => false,
    });
    let lines = LineIndex::new(&text);
    Ok(Some(FileReport {
        path,
        rel,
        text: if editable { text } else { String::new() },
        lines,
        parse_errors: errors,
        findings: found,
    }))
}

/// The findings of a processed file whose text is `text`: its writing
/// functions, and those that pass shape storage to a callee that turns out
/// to write through it, parsed again (only they) with all their facts.
fn classify_text(cx: &Context, p: Processed, text: &str, summaries: &Summaries) -> Vec<Finding> {
    let targets: Vec<&Potential> = p
        .writers
        .iter()
        .chain(
            p.potential
                .iter()
                .filter(|q| q.callees.iter().any(|c| writer(summaries, c))),
        )
        .collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let names: HashSet<String> = targets.iter().map(|q| q.name.clone()).collect();
    let at: HashSet<usize> = targets.iter().map(|q| q.at).collect();
    // Code that did not parse as a function has no name the outline knows:
    // parse what the first pass parsed, so the same ERROR nodes come back.
    let keep = if at.contains(&UNPARSED) {
        Keep::Hits(&names)
    } else {
        Keep::Only(&names)
    };
    let again = process(cx, p.path, text.to_string(), keep, Retain::All);
    let functions: Vec<Facts> = again
        .functions
        .into_iter()
        .filter(|f| {
            if f.unparsed {
                at.contains(&UNPARSED) && passes_storage_or_writes(f, &cx.shape_macros)
            } else {
                at.contains(&f.name_span.start)
            }
        })
        .collect();
    let lines = LineIndex::new(text);
    findings(functions, summaries, cx.opts.sources(), text, &lines)
}

fn passes_storage_or_writes(f: &Facts, shape_macros: &HashSet<String>) -> bool {
    writes_itself(f, shape_macros) || passes_storage(f)
}

/// Classify the retained functions of one file, sorted, acknowledged.
pub fn findings(
    functions: Vec<Facts>,
    summaries: &Summaries,
    sources: Sources,
    text: &str,
    lines: &LineIndex,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let file = classify::FileCx::new(text, lines);
    for mut f in functions {
        analyze::summary::apply(&mut f, summaries, sources);
        out.extend(classify::classify(&f, summaries, &file));
    }
    out.sort_by_key(|f| f.sites.first().map_or(0, |s| s.span.start));
    ack::acknowledge(&mut out, text, lines);
    for f in &mut out {
        f.render(text, lines);
    }
    out
}

/// Scan one in-memory text as a tree of its own (its functions and macros
/// make the summaries): its report, when it has findings, and the summaries.
pub fn scan_text(opts: &ScanOptions, path: &Path, text: &str) -> (Option<FileReport>, Summaries) {
    let rel = relative(path, &opts.root);
    let mut summaries = Summaries::default();
    summaries.macros.extend(shape_macros_in(opts, &rel, text));
    let cx = Context::new(opts, summaries.macros.keys().cloned().collect());
    let mut p = process(
        &cx,
        path.to_path_buf(),
        text.to_string(),
        Keep::Hits(&HashSet::new()),
        Retain::Writers,
    );
    merge_summaries(&mut summaries, std::mem::take(&mut p.summaries));
    for (m, loc) in p.macros.drain(..) {
        if let Some(s) = MacroSummary::of(&m, loc, opts.sources()) {
            summaries.macros.entry(m.name.clone()).or_insert(s);
        }
    }
    let errors = p.errors;
    let (path, rel) = (p.path.clone(), p.rel.clone());
    let found = classify_text(&cx, p, text, &summaries);
    let report = (!found.is_empty()).then(|| FileReport {
        path,
        rel,
        text: text.to_string(),
        lines: LineIndex::new(text),
        parse_errors: errors,
        findings: found,
    });
    (report, summaries)
}

/// Analyse one text with what a finished scan learned about the tree (to
/// check a planned result): its findings and its parse error count.
pub fn reanalyze(
    opts: &ScanOptions,
    summaries: &Summaries,
    path: &Path,
    text: &str,
) -> (Vec<Finding>, usize) {
    let shape_macros = summaries
        .macros
        .iter()
        .filter(|(_, m)| m.writes_shape.is_some())
        .map(|(name, _)| name.clone())
        .collect();
    let cx = Context::new(opts, shape_macros);
    let p = process(
        &cx,
        path.to_path_buf(),
        text.to_string(),
        Keep::Hits(&HashSet::new()),
        Retain::Writers,
    );
    let errors = p.errors;
    (classify_text(&cx, p, text, summaries), errors)
}

/// Which functions' facts to keep for classification.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retain {
    /// None: the parse is for summaries only.
    No,
    /// Functions that write themselves; those that may write through a
    /// callee as light records.
    Writers,
    /// Every function parsed.
    All,
}

/// Which functions of a file to parse (when its outline is sure).
#[derive(Clone, Copy)]
enum Keep<'k> {
    /// Those that can hit, and these.
    Hits(&'k HashSet<String>),
    /// Only these: a second look for summaries.
    Only(&'k HashSet<String>),
}

/// Parse a file — only the functions `keep` asks for, when its outline is
/// sure — and keep what later stages need.
fn process(cx: &Context, path: PathBuf, text: String, keep: Keep, retain: Retain) -> Processed {
    let opts = cx.opts;
    let rel = relative(&path, &opts.root);
    let mut masked = cx.masker.mask(&text, source::is_template(&path));
    let mut blanked = Vec::new();
    let mut skip = Vec::new();
    if let Some(functions) = outline::functions(&masked) {
        for f in functions {
            let wanted = match keep {
                Keep::Hits(names) => {
                    names.contains(&f.name) || cx.hits.is_match(&masked[f.start..f.end])
                }
                Keep::Only(names) => names.contains(&f.name),
            };
            if !wanted {
                // Blanked as well as skipped: no text lookup can see it.
                outline::blank(&mut masked, f.start, f.end);
                skip.push(f.start..f.end);
                blanked.push(f.name);
            }
        }
    }
    let file = SourceFile {
        path: path.clone(),
        rel: rel.clone(),
        text,
        masked,
    };
    let parsed = file.parse_skipping(&skip);
    let facts = analyze::scan(&parsed, opts.sources());
    let lines = LineIndex::new(&parsed.file.text);
    let mut summaries = Vec::new();
    let mut defined = Vec::new();
    let mut functions = Vec::new();
    let mut writers = Vec::new();
    let mut potential = Vec::new();
    let mut needed = Vec::new();
    for f in facts.functions {
        if !f.unparsed {
            defined.push(f.name.clone());
            let location = format!("{rel}:{}", lines.line(f.name_span.start));
            if let Some(s) = FnSummary::of(&f, location) {
                summaries.push((f.name.clone(), s));
            }
        }
        match retain {
            Retain::No => continue,
            Retain::All => {
                functions.push(f);
                continue;
            }
            Retain::Writers => {}
        }
        if writes_itself(&f, &cx.shape_macros) || (f.unparsed && passes_storage(&f)) {
            needed.extend(needed_by(&f));
            writers.push(Potential {
                name: f.name.clone(),
                at: if f.unparsed {
                    UNPARSED
                } else {
                    f.name_span.start
                },
                callees: Vec::new(),
            });
        } else if passes_storage(&f) {
            potential.push(Potential {
                name: f.name.clone(),
                at: f.name_span.start,
                callees: storage_callees(&f),
            });
        }
    }
    defined.extend(facts.macros.iter().map(|m| m.name.clone()));
    let macros = facts
        .macros
        .into_iter()
        .filter(|m| {
            let b = &m.body;
            b.contains('=') || b.contains("++") || b.contains("--") || b.contains("mem")
        })
        .map(|m| {
            let loc = format!("{rel}:{}", m.line);
            (m, loc)
        })
        .collect();
    let errors = parsed.error_count;
    let hash = hash_of(&parsed.file.text);
    Processed {
        path,
        rel,
        hash,
        functions,
        writers,
        potential,
        needed,
        summaries,
        defined,
        blanked,
        macros,
        errors,
    }
}

/// A function that writes shape storage itself, or uses one of the tree's
/// shape-writing macros.
fn writes_itself(f: &Facts, shape_macros: &HashSet<String>) -> bool {
    f.writes.iter().any(|w| !w.shape.param)
        || f.calls.iter().any(|c| shape_macros.contains(&c.callee))
}

/// A call argument a callee or macro of the tree might write through.
fn storage_arg(a: &analyze::facts::ArgInfo) -> bool {
    a.shape.as_ref().is_some_and(|s| !s.param)
        || a.element.as_ref().is_some_and(|(s, _, _)| !s.param)
        || a.field.is_some()
}

/// A function passing shape storage (or an ndarray field) to some call.
fn passes_storage(f: &Facts) -> bool {
    f.calls.iter().any(|c| c.args.iter().any(storage_arg))
}

fn storage_callees(f: &Facts) -> Vec<String> {
    let mut out: Vec<String> = f
        .calls
        .iter()
        .filter(|c| c.args.iter().any(storage_arg))
        .map(|c| c.callee.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a summary says `name` may write through an argument.
fn writer(summaries: &Summaries, name: &str) -> bool {
    summaries
        .functions
        .get(name)
        .is_some_and(|s| !s.writes.is_empty())
        || summaries
            .macros
            .get(name)
            .is_some_and(|m| !m.assigns.is_empty() || !m.writes.is_empty())
}

/// Names whose summaries a writing function needs: callees receiving
/// shape storage, an element of it or an ndarray field (may write it);
/// callees receiving an array that is written (may replace its metadata);
/// and calls whose results are arrays that are written (may be new arrays).
fn needed_by(f: &Facts) -> Vec<String> {
    let written: HashSet<&str> = f
        .writes
        .iter()
        .filter(|w| !w.shape.param)
        .map(|w| w.shape.array.as_str())
        .collect();
    let mut out: Vec<String> = f
        .calls
        .iter()
        .filter(|c| {
            c.args
                .iter()
                .any(|a| storage_arg(a) || a.object.as_deref().is_some_and(|o| written.contains(o)))
        })
        .map(|c| c.callee.clone())
        .collect();
    out.extend(
        f.var_mods
            .iter()
            .filter(|m| written.contains(m.name.as_str()))
            .filter_map(|m| m.value.as_ref()?.call.clone())
            .filter(|c| !is_allocator(c)),
    );
    out.sort();
    out.dedup();
    out
}

/// Everything the first pass needs summaries of.
fn needed_names(processed: &[Processed]) -> HashSet<String> {
    processed
        .iter()
        .flat_map(|p| {
            p.needed
                .iter()
                .chain(p.potential.iter().flat_map(|q| &q.callees))
        })
        .cloned()
        .collect()
}

/// Names the C library or the CPython C API define: a C extension cannot
/// define them too, so they are never looked for in the tree.
fn reserved(name: &str) -> bool {
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

/// Add function summaries; a name defined twice (static functions in two
/// files) keeps the union of what either does, and is fresh only if both are.
fn merge_summaries(into: &mut Summaries, new: Vec<(String, FnSummary)>) {
    for (name, s) in new {
        match into.functions.get_mut(&name) {
            None => {
                into.functions.insert(name, s);
            }
            Some(old) => {
                old.writes.extend(s.writes);
                old.writes.sort_unstable();
                old.writes.dedup();
                old.meta.extend(s.meta);
                old.meta.sort();
                old.meta.dedup();
                if old.fresh.is_some() && s.fresh.is_none() {
                    old.fresh = None;
                }
            }
        }
    }
}
