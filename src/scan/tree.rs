//! The scan of a whole tree, as a sequence of steps: walk → read and
//! prefilter (and the tree's shape-writing macros) → parse the candidates
//! → summaries of what they call (parsing again what the first pass left
//! out, and a second look at the other files) → classify. Files are
//! processed in parallel; results are collected, then sorted, so output
//! never depends on thread timing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

use rayon::prelude::*;

use super::callees::merge_summaries;
use super::callers;
use super::classify::classify_file;
use super::guard::guarded;
use super::parse::{hash_of, needed_names, process, Context, Keep, Processed, Retain, UnitFacts};
use super::{
    is_source_name, tree_macros_in, FileNote, ParseFailure, Scan, ScanOptions, ScannedFile, Stats,
    TreeMacros,
};
use crate::analyze::api::reserved;
use crate::analyze::facts::Giver;
use crate::analyze::summary::{expanded_function, FnSummary, MacroSummary, Prototype, Summaries};
use crate::discover::{self, Names, Prefilter, SkipCounts, WalkOptions};
use crate::error::Error;
use crate::source::lexical::{self, Define};
use crate::source::{self, Lang, Skip};

/// Candidate bytes up to which the first parse keeps the facts of the
/// functions to classify (NumPy's candidates are about 4 MB); past it,
/// only the writers' facts, packed (see [`PACKED_BUDGET`]).
const FACTS_BUDGET: usize = 32 << 20;

/// The bytes of serialized writers' facts a tree keeps at most, past
/// [`FACTS_BUDGET`] (see `Processed::packed`). NumPy 2.2.1's take 96 kB,
/// in eight blocks: a tree of fifty copies keeps them all. Facts kept as
/// they are cost far more than their size: thousands of small allocations
/// made between those of the parse trees scatter over the allocator's
/// heaps (fifty copies' writers, 5 MB packed, grew the peak by 45 MB kept
/// as facts).
const PACKED_BUDGET: usize = 16 << 20;

/// Names of functions the callers step may ask about that the second look
/// searches for, at most (see [`Tree::second_look`]).
const LATER_NAMES: usize = 256;

/// Files one task searches at most, in the steps that search every file
/// and parse a few of them.
const FILES_PER_TASK: usize = 8;

/// What the steps learn about the tree as they go.
struct Tree<'o> {
    opts: &'o ScanOptions,
    skipped: Vec<Skip>,
    summaries: Summaries,
    /// C++ files seen: by name, and `.h` files read as C++ by content.
    cpp_seen: usize,
    /// The `.h` files read as C++ by their content (relative paths).
    cpp_headers: Vec<String>,
    /// Files that may hold a hit and could not be analysed.
    not_analysed: Vec<Skip>,
    passed_over: SkipCounts,
    /// What the first parse keeps of the functions to classify (their facts
    /// too, when the candidates fit [`FACTS_BUDGET`]).
    retain: Retain,
    /// The functions the write filter let go whose code names an allocator,
    /// by name, and the files that hold them: their summaries are made only
    /// when asked for.
    let_go: HashMap<String, Vec<PathBuf>>,
}

/// The files the prefilter let through (with their sizes), and the others
/// (by index in the walk's list).
struct Read {
    candidates: Vec<(PathBuf, usize)>,
    others: Vec<usize>,
}

/// What the second look's search says of the names the callers step may
/// ask about (see [`Tree::callers`]).
struct Searched {
    /// The names searched for.
    names: HashSet<String>,
    /// Per file walked: the second look read it whole and it names none
    /// of them.
    none_in: Vec<bool>,
}

/// What the second look makes of one file.
enum Looked {
    /// None of the names it looks for, nor of the callers' names.
    Nothing,
    /// Only a name the callers step may ask about.
    Later,
    /// A name still unresolved, not defined there.
    Mentions,
    /// Parsed: it defines a name needed, or uses a shape-writing macro.
    Parsed(Box<Processed>),
}

/// The second look's search, for one file at a time.
struct Look<'l, 'c> {
    cx: &'l Context<'c>,
    unresolved: &'l HashSet<String>,
    shape_macro_names: &'l HashSet<String>,
    /// Of `names`: the unresolved names and the shape-writing macros.
    finder: Option<Names>,
    names: &'l [String],
    /// The names the callers step may ask about.
    later: Option<Names>,
}

impl Look<'_, '_> {
    /// Read the file at `path` and look at it.
    fn at(&self, path: &Path) -> Result<Looked, Skip> {
        let opts = self.cx.opts;
        let rel = source::relative(path, &opts.root);
        let bytes = source::read(path, opts.max_file_size, &rel)?;
        let later = self.later.as_ref().is_some_and(|l| l.any(&bytes));
        let hits: HashSet<&str> = match &self.finder {
            Some(finder) => finder
                .which(&bytes)
                .map(|i| self.names[i].as_str())
                .collect(),
            None => HashSet::new(),
        };
        if hits.is_empty() {
            return Ok(if later {
                Looked::Later
            } else {
                Looked::Nothing
            });
        }
        let uses_macro = hits.iter().any(|h| self.shape_macro_names.contains(*h));
        let defines_needed = {
            let lossy = String::from_utf8_lossy(&bytes);
            hits.iter()
                .any(|h| self.unresolved.contains(*h) && lexical::defines(&lossy, h))
        };
        if !uses_macro && !defines_needed {
            return Ok(Looked::Mentions);
        }
        let text = source::decode(Path::new(&rel), bytes)?;
        let retain = if uses_macro {
            Retain::Writers
        } else {
            Retain::No
        };
        let p = guarded(&rel, || {
            Ok(process(
                self.cx,
                path.to_path_buf(),
                text,
                Keep::Unfiltered(self.unresolved),
                retain,
            ))
        })?;
        Ok(Looked::Parsed(Box::new(p)))
    }
}

/// Run the whole scan.
pub fn scan_tree(opts: &ScanOptions) -> Result<Scan, Error> {
    let started = Instant::now();
    let mut tree = Tree {
        opts,
        skipped: Vec::new(),
        summaries: Summaries::default(),
        cpp_seen: 0,
        cpp_headers: Vec::new(),
        not_analysed: Vec::new(),
        passed_over: SkipCounts::default(),
        retain: Retain::Writers,
        let_go: HashMap::new(),
    };
    // Every file walked, the callers of a function may be in too (C++ as
    // well: a use there is one the caller analysis does not follow yet).
    // Later steps name them by index, so the list is held once.
    let everywhere = tree.walk()?;
    let mut stats = Stats {
        files_seen: everywhere.len(),
        ..Stats::default()
    };
    crate::testhook::pause("after-walk");
    let read = tree.read_and_prefilter(&everywhere);
    let mut cx = Context::new(
        opts,
        tree.summaries.macros.keys().cloned().collect(),
        tree.summaries.givers.clone(),
        &tree.summaries.mem_redefined,
    );
    let packed = crate::testhook::packed_budget(PACKED_BUDGET);
    cx.packed_left = std::sync::Arc::new(AtomicUsize::new(packed));
    let mut processed = tree.first_parse(&cx, read.candidates);
    let cx = tree.learn_givers(cx, &mut processed);
    let unresolved = tree.summarise_callees(&cx, &mut processed);
    let mut files: Vec<PathBuf> = processed.iter().map(|p| p.path.clone()).collect();
    let later = callers::may_ask(&processed);
    let (defined, mentions, searched) = tree.second_look(
        &cx,
        &everywhere,
        &read.others,
        &unresolved,
        later,
        &mut processed,
    );
    let still: HashSet<String> = unresolved.difference(&defined).cloned().collect();
    files.extend(mentions.into_iter().map(|i| everywhere[i].clone()));
    tree.declarations(&still, files);
    tree.parse_deferred(&cx, &mut processed);

    stats.files_parsed = processed.len();
    stats.parse_errors = processed.iter().map(|p| p.errors).sum();
    stats.files_with_parse_errors = processed.iter().filter(|p| p.errors > 0).count();
    let notes = if opts.notes {
        file_notes(opts, &everywhere, &processed)
    } else {
        Vec::new()
    };
    for p in &processed {
        stats
            .parse_failures
            .extend(
                p.error_at
                    .iter()
                    .map(|(line, column, function)| ParseFailure {
                        file: p.rel.clone(),
                        line: *line,
                        column: *column,
                        function: function.clone(),
                    }),
            );
    }
    stats.parse_failures.sort();
    let mentions: usize = processed.iter().map(|p| p.accounts.mentions).sum();
    let (mut files, parsed) = tree.classify(&cx, processed);
    tree.callers(&cx, &mut files, &everywhere, (&searched, &parsed));
    for f in &files {
        stats.accounting += f.accounting;
    }
    stats.accounting.mentions = mentions;
    stats.accounting.read = mentions - stats.accounting.at_sites - stats.accounting.not_analysed;
    let Tree {
        mut skipped,
        summaries,
        mut not_analysed,
        passed_over,
        cpp_seen,
        mut cpp_headers,
        ..
    } = tree;
    cpp_headers.sort();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    not_analysed.sort_by(|a, b| a.path.cmp(&b.path));
    stats.passed_over = passed_over;
    stats.cpp_files = cpp_seen;
    stats.cpp_headers = cpp_headers;
    stats.elapsed_ms = started.elapsed().as_millis();
    let notes = notes
        .into_iter()
        .filter(|n| skipped.iter().all(|s| s.path != Path::new(&n.file)))
        .collect();
    Ok(Scan {
        files,
        skipped,
        notes,
        not_analysed,
        stats,
        summaries,
    })
}

/// Whether and how each file seen was parsed (`--verbose`).
fn file_notes(opts: &ScanOptions, seen: &[PathBuf], processed: &[Processed]) -> Vec<FileNote> {
    let parsed: HashMap<&Path, (usize, Lang)> = processed
        .iter()
        .map(|p| (p.path.as_path(), (p.errors, p.lang)))
        .collect();
    let mut names = opts.needles().join(", ");
    names.push_str(", or a shape-writing macro of the tree");
    seen.iter()
        .map(|path| FileNote {
            file: source::relative(path, &opts.root),
            note: match parsed.get(path.as_path()) {
                Some((0, lang)) => format!("parsed{}", as_lang(path, *lang)),
                Some((n, lang)) => format!(
                    "parsed{}; {n} parse error{} (each one matters only where it overlaps a finding)",
                    as_lang(path, *lang),
                    if *n == 1 { "" } else { "s" }
                ),
                None => format!("not parsed: names none of {names}"),
            },
        })
        .collect()
}

/// How a parsed file was read, for `--verbose`: nothing for C, and which
/// way a `.h` went when its content made it C++.
fn as_lang(path: &Path, lang: Lang) -> &'static str {
    match (lang, source::is_header(path)) {
        (Lang::C, _) => "",
        (Lang::Cpp, false) => " as C++",
        (Lang::Cpp, true) => " as C++ (a .h whose content is C++)",
    }
}

impl<'o> Tree<'o> {
    fn read(&self, path: &Path, rel: &str) -> Result<String, Skip> {
        let bytes = source::read(path, self.opts.max_file_size, rel)?;
        source::decode(Path::new(rel), bytes)
    }

    /// Step 1: the C-family files, sorted (what the walk passed over is
    /// counted); walk errors are skips.
    fn walk(&mut self) -> Result<Vec<PathBuf>, Error> {
        let opts = self.opts;
        let walked = discover::walk(
            &opts.paths,
            &WalkOptions {
                root: &opts.root,
                include: &opts.include,
                exclude: &opts.exclude,
                threads: opts.threads,
                follow: opts.follow,
                no_ignore: opts.no_ignore,
                hidden: opts.hidden,
            },
        )?;
        self.skipped
            .extend(walked.skipped.into_iter().map(|s| Skip {
                path: PathBuf::from(source::relative(&s.path, &opts.root)),
                reason: s.reason,
            }));
        self.passed_over = walked.counts;
        // C++ files are analysed as C files are, with the C++ grammar.
        self.cpp_seen = walked.cpp.len();
        let mut files = walked.files;
        files.extend(walked.cpp);
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// Step 2: read and prefilter; only files that can hit go on. Their
    /// `#define`s are looked at now (the tree's shape-writing macros make
    /// hits in other functions and files); their text is read again when
    /// parsed, so no stage holds every file at once.
    fn read_and_prefilter(&mut self, files: &[PathBuf]) -> Read {
        // Most files are `Other`: the rare kinds are boxed, to keep one
        // small entry per file walked.
        enum One {
            /// A file to parse, and its name when it is a `.h` read as C++.
            Candidate(Box<(PathBuf, usize, TreeMacros, Option<String>)>),
            Other(usize),
            Skipped(Box<Skip>),
        }
        let opts = self.opts;
        let prefilter = Prefilter::new(&opts.needles());
        let all: Vec<One> = files
            .par_iter()
            .enumerate()
            .map(|(i, path)| {
                let rel = source::relative(path, &opts.root);
                match source::read(path, opts.max_file_size, &rel) {
                    Err(skip) => One::Skipped(Box::new(skip)),
                    Ok(bytes) if prefilter.may_hit(&bytes) => {
                        let size = bytes.len();
                        match source::decode(Path::new(&rel), bytes) {
                            Ok(text) => {
                                let macros = tree_macros_in(opts, &rel, &text);
                                let lang = Lang::of(path, text.as_bytes());
                                // Which way a `.h` went is said in the summary.
                                let cpp_header = source::is_header(path) && lang == Lang::Cpp;
                                let path = path.clone();
                                let rel = cpp_header.then_some(rel);
                                One::Candidate(Box::new((path, size, macros, rel)))
                            }
                            Err(skip) => One::Skipped(Box::new(skip)),
                        }
                    }
                    Ok(bytes)
                        if source::utf16_text(&bytes)
                            .is_some_and(|t| prefilter.may_hit(t.as_bytes())) =>
                    {
                        One::Skipped(Box::new(source::utf16_skip(Path::new(&rel))))
                    }
                    Ok(_) => One::Other(i),
                }
            })
            .collect();
        let mut read = Read {
            candidates: Vec::new(),
            others: Vec::new(),
        };
        for one in all {
            match one {
                One::Candidate(c) => {
                    let (p, size, macros, cpp_header) = *c;
                    if let Some(rel) = cpp_header {
                        self.cpp_seen += 1;
                        self.cpp_headers.push(rel);
                    }
                    self.summaries.macros.extend(macros.writers);
                    self.summaries.givers.extend(macros.givers);
                    self.summaries.mem_redefined.extend(macros.redefined);
                    read.candidates.push((p, size));
                }
                One::Other(p) => read.others.push(p),
                One::Skipped(s) => self.skipped.push(*s),
            }
        }
        self.summaries.mem_redefined.sort_unstable();
        self.summaries.mem_redefined.dedup();
        read
    }

    /// Step 3: parse the candidates (the functions that can hit).
    fn first_parse(
        &mut self,
        cx: &Context,
        mut candidates: Vec<(PathBuf, usize)>,
    ) -> Vec<Processed> {
        // Largest first, so no core is left parsing one big file at the end.
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let none = HashSet::new();
        // A small tree keeps the facts of the functions to classify, which
        // saves parsing them again; a large one, to bound memory, keeps only
        // its writers' facts, packed, and parses the others again.
        let total: usize = candidates.iter().map(|c| c.1).sum();
        let retain = if total <= crate::testhook::candidates_budget(FACTS_BUDGET) {
            Retain::WritersWithFacts
        } else {
            Retain::Writers
        };
        self.retain = retain;
        // One file per task: files differ in cost by a hundred times, and a
        // task of several left one core parsing the last of them alone (a
        // fifth of NumPy's first parse).
        let first: Vec<Result<Processed, Skip>> = candidates
            .par_iter()
            .with_max_len(1)
            .map(|(path, _)| {
                let rel = source::relative(path, &self.opts.root);
                guarded(&rel, || {
                    let text = self.read(path, &rel)?;
                    Ok(process(cx, path.clone(), text, Keep::Hits(&none), retain))
                })
            })
            .collect();
        self.keep(first)
    }

    /// Step 3b: accessor functions the first parse found (Cython 3's
    /// `__pyx_f_5numpy_7ndarray_5shape_shape`, a function storing a shape
    /// through an out-parameter) make their callers' uses shape sources:
    /// the files that name a new one are parsed again knowing it. The
    /// context to go on with.
    fn learn_givers(&mut self, cx: Context<'o>, processed: &mut [Processed]) -> Context<'o> {
        let opts = self.opts;
        let mut new: Vec<(String, Giver)> = processed
            .iter()
            .flat_map(|p| &p.summaries)
            .filter_map(|(name, s)| Some((name.clone(), s.gives.clone()?)))
            .filter(|(name, _)| !cx.givers.contains_key(name) && !is_source_name(opts, name))
            .collect();
        if new.is_empty() {
            return cx;
        }
        new.sort_by(|a, b| a.0.cmp(&b.0));
        new.dedup_by(|a, b| a.0 == b.0);
        let names: Vec<String> = new.iter().map(|(n, _)| n.clone()).collect();
        self.summaries.givers.extend(new);
        let outlines = cx.outlines.clone();
        let packed_left = cx.packed_left.clone();
        let mut cx = Context::new(
            opts,
            cx.shape_macros,
            self.summaries.givers.clone(),
            &self.summaries.mem_redefined,
        );
        cx.outlines = outlines;
        cx.packed_left = packed_left;
        let finder = Names::new(&names);
        let none = HashSet::new();
        let again: Vec<(usize, Result<Processed, Skip>)> = processed
            .par_iter()
            .with_max_len(1)
            .enumerate()
            .filter_map(|(i, p)| {
                let text = match self.read(&p.path, &p.rel) {
                    Ok(t) => t,
                    Err(skip) => return Some((i, Err(skip))),
                };
                finder.any(text.as_bytes()).then(|| {
                    let retain = self.retain;
                    let keep = Keep::Hits(&none);
                    let again = guarded(&p.rel, || {
                        Ok(process(&cx, p.path.clone(), text, keep, retain))
                    });
                    (i, again)
                })
            })
            .collect();
        for (i, r) in again {
            match r {
                Ok(p) => processed[i] = p,
                Err(skip) => self.skipped.push(skip),
            }
        }
        cx
    }

    fn keep(&mut self, results: Vec<Result<Processed, Skip>>) -> Vec<Processed> {
        let mut out = Vec::new();
        for r in results {
            match r {
                Ok(p) => out.push(p),
                Err(skip) => self.skipped.push(skip),
            }
        }
        out
    }

    /// Step 4: summaries of everything the retained functions call; the
    /// functions the first parse left out are parsed now. The names still
    /// unresolved.
    fn summarise_callees(&mut self, cx: &Context, processed: &mut [Processed]) -> HashSet<String> {
        let opts = self.opts;
        let mut defined: HashSet<String> = HashSet::new();
        let mut macro_defs: HashMap<String, (Define, String)> = HashMap::new();
        // Blanked function names, to the files (by index) that left them
        // out; those the write filter let go too.
        let mut blanked_in: HashMap<String, Vec<u32>> = HashMap::new();
        let mut let_go_in: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, p) in processed.iter_mut().enumerate() {
            merge_summaries(&mut self.summaries, std::mem::take(&mut p.summaries));
            defined.extend(p.defined.drain(..));
            for name in p.blanked.drain(..) {
                blanked_in.entry(name).or_default().push(i as u32);
            }
            for (name, allocates) in p.let_go.drain(..) {
                if allocates {
                    self.let_go
                        .entry(name.clone())
                        .or_default()
                        .push(p.path.clone());
                }
                let_go_in.entry(name).or_default().push(i as u32);
            }
            for (m, loc) in p.macros.drain(..) {
                macro_defs.entry(m.name.clone()).or_insert((m, loc));
            }
        }
        let mut unresolved: HashSet<String> = HashSet::new();
        let needed = needed_names(processed);
        for name in &needed {
            if let Some((m, loc)) = macro_defs.get(name) {
                if let Some(s) = MacroSummary::of(m, loc.clone(), opts.sources()) {
                    self.summaries.macros.entry(name.clone()).or_insert(s);
                }
            } else if !defined.contains(name) && !reserved(name) {
                unresolved.insert(name.clone());
            }
        }
        // Needed functions that the first parse left out: parse them now;
        // and those the write filter let go, even where another file
        // defines the name (a name's summaries merge, and without the
        // filter they were parsed).
        // The names to parse, by file.
        let mut asked: HashMap<u32, HashSet<String>> = HashMap::new();
        let let_go = needed
            .iter()
            .filter(|n| !macro_defs.contains_key(*n))
            .filter_map(|n| Some((n, let_go_in.get(n)?)));
        let left_out = unresolved
            .iter()
            .filter_map(|n| Some((n, blanked_in.get(n)?)));
        for (name, files) in left_out.chain(let_go) {
            for &i in files {
                asked.entry(i).or_default().insert(name.clone());
            }
        }
        let mut again: Vec<(PathBuf, HashSet<String>)> = asked
            .into_iter()
            .map(|(i, names)| (processed[i as usize].path.clone(), names))
            .collect();
        again.sort_by(|a, b| a.0.cmp(&b.0));
        for name in self.summarise_only(cx, &again) {
            unresolved.remove(&name);
        }
        unresolved
    }

    /// Parse only these functions of these files, for their summaries; the
    /// names of the functions parsed.
    fn summarise_only(
        &mut self,
        cx: &Context,
        again: &[(PathBuf, HashSet<String>)],
    ) -> Vec<String> {
        let opts = self.opts;
        let revisited: Vec<Result<Processed, Skip>> = again
            .par_iter()
            .with_max_len(1)
            .map(|(path, names)| {
                let rel = source::relative(path, &opts.root);
                let text = self.read(path, &rel)?;
                let only = Keep::Only(names);
                guarded(&rel, || {
                    Ok(process(cx, path.clone(), text, only, Retain::No))
                })
            })
            .collect();
        let mut defined = Vec::new();
        for mut p in self.keep(revisited) {
            merge_summaries(&mut self.summaries, std::mem::take(&mut p.summaries));
            defined.append(&mut p.defined);
        }
        defined
    }

    /// Step 5: a second look at the files the prefilter let go, only for
    /// names learned from the first: definitions of called functions and
    /// macros, and uses of the tree's shape-writing macros and accessors.
    /// The names it found defined, the files that mention a name still
    /// unresolved, and which files name none of `later` (the names the
    /// callers step may ask about: it need not read those files again).
    fn second_look(
        &mut self,
        cx: &Context,
        files: &[PathBuf],
        others: &[usize],
        unresolved: &HashSet<String>,
        later: Vec<String>,
        processed: &mut Vec<Processed>,
    ) -> (HashSet<String>, Vec<usize>, Searched) {
        // Uses of the tree's shape-writing macros and accessors make hits.
        let shape_macro_names: HashSet<String> = cx
            .shape_macros
            .iter()
            .chain(cx.givers.keys())
            .cloned()
            .collect();
        // Past what the SIMD searchers take, a search for thousands of
        // names (8,000 functions of one generated file) costs more to
        // build than the reads it saves; nor is one needed where every
        // file is a candidate.
        let later = if later.len() <= LATER_NAMES && !others.is_empty() {
            later
        } else {
            Vec::new()
        };
        let mut defined = HashSet::new();
        let mut mentions = Vec::new();
        let mut searched = Searched {
            none_in: vec![false; files.len()],
            names: HashSet::new(),
        };
        if unresolved.is_empty() && shape_macro_names.is_empty() && later.is_empty() {
            return (defined, mentions, searched);
        }
        let mut names: Vec<String> = unresolved.iter().cloned().collect();
        names.extend(shape_macro_names.iter().cloned());
        names.sort();
        let look = Look {
            cx,
            unresolved,
            shape_macro_names: &shape_macro_names,
            finder: (!names.is_empty()).then(|| Names::new(&names)),
            names: &names,
            later: (!later.is_empty()).then(|| Names::new(&later)),
        };
        let second: Vec<(usize, Result<Looked, Skip>)> = others
            .par_iter()
            .with_max_len(FILES_PER_TASK)
            .map(|&i| (i, look.at(&files[i])))
            // Nothing for most files: collect only what there is.
            .filter(|(_, r)| !matches!(r, Ok(Looked::Nothing)))
            .collect();
        for &i in others {
            searched.none_in[i] = true;
        }
        searched.names = later.into_iter().collect();
        let opts = self.opts;
        for (i, r) in second {
            searched.none_in[i] = false;
            match r {
                Ok(Looked::Parsed(mut p)) => {
                    merge_summaries(&mut self.summaries, std::mem::take(&mut p.summaries));
                    for (m, loc) in p.macros.drain(..) {
                        if unresolved.contains(&m.name) {
                            if let Some(s) = MacroSummary::of(&m, loc, opts.sources()) {
                                self.summaries.macros.entry(m.name.clone()).or_insert(s);
                            }
                        }
                    }
                    defined.extend(p.defined.iter().cloned());
                    processed.push(*p);
                }
                Ok(Looked::Mentions) => mentions.push(i),
                Ok(Looked::Nothing | Looked::Later) => {}
                Err(skip) => self.skipped.push(skip),
            }
        }
        (defined, mentions, searched)
    }

    /// Step 5b: the called functions given shape storage that the tree
    /// still does not define. A macro of the tree may define one
    /// (`MEDIAN_FILTER_2D(d_medfilt2, ...)`: its expansion is summarised);
    /// otherwise a declaration of it in the tree with a non-`const` pointer
    /// parameter means the call may write (DF170). Without either it is
    /// code from elsewhere (a library's API), read as documented.
    fn declarations(&mut self, still: &HashSet<String>, files: Vec<PathBuf>) {
        if still.is_empty() {
            return;
        }
        enum Found {
            Defined(String, Option<FnSummary>),
            Declared(String, Prototype),
        }
        let opts = self.opts;
        let names: Vec<&String> = still.iter().collect();
        let finder = Names::new(&names);
        let mut files = files;
        files.sort();
        files.dedup();
        let found: Vec<Result<Vec<Found>, Skip>> = files
            .par_iter()
            .with_max_len(1)
            .map(|path| {
                let rel = source::relative(path, &opts.root);
                let bytes = source::read(path, opts.max_file_size, &rel)?;
                let mut hits: Vec<&String> = finder.which(&bytes).map(|i| names[i]).collect();
                hits.sort();
                let text = String::from_utf8_lossy(&bytes);
                let line = |at: usize| crate::span::line_of(text.as_bytes(), at);
                let mut out = Vec::new();
                for name in hits {
                    if let Some((at, expansion)) = lexical::macro_defining(&text, name) {
                        let loc = format!("{rel}:{}", line(at));
                        if let Some(s) = expanded_function(&expansion, name, loc, opts.sources()) {
                            out.push(Found::Defined(name.clone(), s));
                            continue;
                        }
                    }
                    if let Some((at, decl)) = lexical::prototype_of(&text, name) {
                        let proto = Prototype {
                            location: format!("{rel}:{}", line(at)),
                            text: decl.to_string(),
                        };
                        out.push(Found::Declared(name.clone(), proto));
                    }
                }
                Ok(out)
            })
            .collect();
        let mut defined = HashSet::new();
        let mut declared = Vec::new();
        for r in found {
            match r {
                Ok(all) => {
                    for f in all {
                        match f {
                            Found::Defined(name, summary) => {
                                if let Some(s) = summary {
                                    merge_summaries(&mut self.summaries, vec![(name.clone(), s)]);
                                }
                                defined.insert(name);
                            }
                            Found::Declared(name, p) => declared.push((name, p)),
                        }
                    }
                }
                Err(skip) => self.skipped.push(skip),
            }
        }
        for (name, p) in declared {
            if !defined.contains(&name) {
                self.summaries.prototypes.entry(name).or_insert(p);
            }
        }
    }

    /// Step 5c: the functions the write filter let go for now, as they
    /// pass shape storage whole to calls (`f(n, PyArray_DIMS(a))`). Every
    /// summary is known by now: the files of those passing it to a name
    /// that may write through an argument are read again, and those
    /// functions parsed, as without the filter.
    fn parse_deferred(&mut self, cx: &Context, processed: &mut [Processed]) {
        let summaries = &self.summaries;
        let retain = self.retain;
        let again: Vec<(usize, Result<Processed, Skip>)> = processed
            .par_iter()
            .with_max_len(1)
            .enumerate()
            .filter_map(|(i, p)| {
                let after_all = p.deferred_writers(summaries);
                if after_all.is_empty() {
                    return None;
                }
                let again = guarded(&p.rel, || {
                    let text = self.read(&p.path, &p.rel)?;
                    let keep = Keep::Hits(&after_all);
                    Ok(process(cx, p.path.clone(), text, keep, retain))
                });
                Some((i, again))
            })
            .collect();
        for (i, r) in again {
            match r {
                Ok(p) => processed[i] = p,
                Err(skip) => self.skipped.push(skip),
            }
        }
    }

    /// Step 6: classify the files with writers, sorted by path.
    fn classify(
        &mut self,
        cx: &Context,
        mut processed: Vec<Processed>,
    ) -> (Vec<ScannedFile>, Parsed) {
        // What the first reading parsed, for the callers step.
        let parsed: Parsed = processed
            .iter_mut()
            .filter(|p| !p.units.is_empty())
            .map(|p| (p.path.clone(), (p.hash, std::mem::take(&mut p.units))))
            .collect();
        let summaries = &self.summaries;
        let classified: Vec<Result<Option<ScannedFile>, Skip>> = processed
            .into_par_iter()
            .with_max_len(1)
            .filter(|p| {
                !p.writers.is_empty()
                    || !p.potential.is_empty()
                    || !p.unreadable.is_empty()
                    || !p.accounts.open.is_empty()
                    || !p.accounts.written.is_empty()
            })
            .map(|p| {
                let rel = p.rel.clone();
                guarded(&rel, || classify_file(cx, p, summaries))
            })
            .collect();
        let mut files = Vec::new();
        for r in classified {
            match r {
                Ok(Some(f)) => files.push(f),
                Ok(None) => {}
                Err(skip) => self.skipped.push(skip),
            }
        }
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        (files, parsed)
    }
}

/// Per file, the hash of the text read and the units its reading parsed
/// (see [`UnitFacts`]).
type Parsed = HashMap<PathBuf, (u64, Vec<UnitFacts>)>;

impl Tree<'_> {
    /// Step 7: the callers of the lock findings' functions that only the
    /// tree can call, looked for in every file (after every file is
    /// classified; the uses are sorted, so thread timing changes nothing).
    /// A file the second look read and found naming none of the names it
    /// searched for is not read again, when those include every name
    /// asked.
    fn callers(
        &mut self,
        cx: &Context,
        files: &mut [ScannedFile],
        everywhere: &[PathBuf],
        (searched, parsed): (&Searched, &Parsed),
    ) {
        let asked = callers::asked(files);
        if asked.is_empty() {
            return;
        }
        let all: Vec<usize> = (0..everywhere.len()).collect();
        let mut looked = self.uses_of(cx, everywhere, &all, (searched, parsed), &asked);
        // A function the write filter let go has a summary only when one is
        // asked for; without the filter every one has. Those the callers'
        // arrays come from are summarised now, and the files naming them
        // read again.
        let wanted: HashSet<String> = looked
            .iter()
            .flat_map(|(_, _, missing)| missing)
            .filter(|n| self.let_go.contains_key(*n))
            .cloned()
            .collect();
        if !wanted.is_empty() {
            let redo: Vec<usize> = looked
                .iter()
                .filter(|(_, _, missing)| missing.iter().any(|n| wanted.contains(n)))
                .map(|(i, _, _)| *i)
                .collect();
            let mut by_file: HashMap<PathBuf, HashSet<String>> = HashMap::new();
            for name in &wanted {
                for path in &self.let_go[name] {
                    by_file
                        .entry(path.clone())
                        .or_default()
                        .insert(name.clone());
                }
            }
            let mut again: Vec<(PathBuf, HashSet<String>)> = by_file.into_iter().collect();
            again.sort_by(|a, b| a.0.cmp(&b.0));
            self.summarise_only(cx, &again);
            looked.retain(|(i, _, _)| !redo.contains(i));
            looked.extend(self.uses_of(cx, everywhere, &redo, (searched, parsed), &asked));
        }
        let seen = looked.into_iter().flat_map(|(_, seen, _)| seen).collect();
        callers::settle(files, seen);
    }

    /// The uses of the asked names in these files (by number) that may
    /// hold one, and per file the functions named there whose summaries are
    /// missing; only the files with something to say.
    fn uses_of(
        &self,
        cx: &Context,
        everywhere: &[PathBuf],
        which: &[usize],
        (searched, parsed): (&Searched, &Parsed),
        asked: &callers::Asked,
    ) -> Vec<(usize, Vec<callers::Seen>, Vec<String>)> {
        let opts = self.opts;
        let names: Vec<&String> = asked.keys().collect();
        let finder = Names::new(&names);
        let new_arrays = callers::new_arrays(&self.summaries, self.let_go.keys());
        let known = names.iter().all(|n| searched.names.contains(*n));
        // Most files only need a search; the few that are parsed must not
        // end up one after the other in one task (see `first_parse`).
        which
            .par_iter()
            .with_max_len(FILES_PER_TASK)
            .map(|&i| {
                let path = &everywhere[i];
                if known && searched.none_in[i] {
                    return (i, Vec::new(), Vec::new());
                }
                let rel = source::relative(path, &opts.root);
                let Ok(bytes) = source::read(path, opts.max_file_size, &rel) else {
                    return (i, callers::unknown(asked, &rel), Vec::new());
                };
                if !finder.any(&bytes) {
                    return (i, Vec::new(), Vec::new());
                }
                let looked = guarded(&rel, || {
                    let text = source::decode(Path::new(&rel), bytes)?;
                    // The units parsed already, if the text is the one read then.
                    let units = parsed
                        .get(path)
                        .filter(|(hash, _)| *hash == hash_of(&text))
                        .map_or(&[][..], |(_, units)| &units[..]);
                    let known = callers::Known {
                        summaries: &self.summaries,
                        new_arrays: &new_arrays,
                        asked: &finder,
                        units,
                    };
                    let cpp = Lang::of(path, text.as_bytes()) == Lang::Cpp;
                    Ok(callers::uses_in(cx, &known, path, &text, asked, cpp))
                });
                let (seen, missing) =
                    looked.unwrap_or_else(|_| (callers::unknown(asked, &rel), Vec::new()));
                (i, seen, missing)
            })
            .filter(|(_, seen, missing)| !seen.is_empty() || !missing.is_empty())
            .collect()
    }
}
