//! Parse one file: the functions worth classifying and what it tells about the tree.

use std::cell::{OnceCell, RefCell};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::analyze::api::{
    allocator_spellings, read_specially, ARRAY_TYPE, COPY_FNS, DIMS_SOURCES, FIELDS_TYPE,
    FLAG_SETTERS, STRIDES_SOURCE,
};
use crate::analyze::facts::{Giver, Givers, Sources};
use crate::analyze::summary::{FnSummary, Summaries};
use crate::analyze::Kind;
use crate::analyze::{self, Facts};
use crate::discover::Names;
use crate::source::hazards::{self, Hazard, Unreadable};
use crate::source::lexical::{self, Define};
use crate::source::reads::{self, Callee, Mention, Reading};
use crate::source::{self, outline, Candidate, Lang, Masker};
use crate::span::LineIndex;

use super::account::{account, Accounts};
use super::callees::{needed_by, passes_storage, storage_callees, writer, writes_itself};
use super::ScanOptions;

/// One parsed file: the functions worth classifying and what it tells
/// about the tree (summaries, macros). The text itself is not kept: files
/// are read again when classified, and must still hash the same.
pub(super) struct Processed {
    pub(super) path: PathBuf,
    pub(super) rel: String,
    pub(super) hash: u64,
    /// The language it was parsed as.
    pub(super) lang: Lang,
    /// Facts of the functions parsed, only when asked for: every one
    /// (`Retain::All`), or the writers and potential writers
    /// (`Retain::WritersWithFacts`); otherwise facts are not kept.
    pub(super) functions: Vec<Facts>,
    /// With `Retain::WritersWithFacts`, the units whose facts are all in
    /// `functions` (see [`UnitFacts`]), for the callers step.
    pub(super) units: Vec<UnitFacts>,
    /// With `Retain::Writers`, the facts of every one of `writers` (and of
    /// nothing else) serialized in one block, while the tree's blocks fit
    /// its budget (see [`Context::packed_left`]): classifying the file
    /// takes them instead of parsing those functions again.
    pub(super) packed: Option<Box<[u8]>>,
    /// Functions with a write of their own (or a use of a shape-writing
    /// macro): parsed again when the file is classified, unless `functions`
    /// or `packed` holds their facts.
    pub(super) writers: Vec<Potential>,
    /// Functions that only pass shape storage to calls: classified only if
    /// one of those callees turns out to write through it.
    pub(super) potential: Vec<Potential>,
    /// Names whose summaries the writers need.
    pub(super) needed: Vec<String>,
    pub(super) summaries: Vec<(String, FnSummary)>,
    /// Functions parsed, and function-like macros defined.
    pub(super) defined: Vec<String>,
    /// Functions left out of the parse (they cannot hit).
    pub(super) blanked: Vec<String>,
    /// Functions the write filter let go although they pass shape storage
    /// whole to calls: their names, and the names called. One is parsed
    /// after all when a summary says a callee may write through it.
    pub(super) deferred: Vec<(String, Vec<String>)>,
    /// The names of every function the write filter let go (deferred or
    /// not): without the filter they are parsed, so their summaries are
    /// asked for whenever needed, even where another file defines the name.
    /// With each, whether its code names an allocator (its summary may say
    /// it returns a new array).
    pub(super) let_go: Vec<(String, bool)>,
    pub(super) macros: Vec<(Define, String)>,
    pub(super) errors: usize,
    /// Items the parser cannot read as a compiler does, which mention a
    /// shape source: reported as not analysed.
    pub(super) unreadable: Vec<Unreadable>,
    /// Where the parse errors are: (line, column, function), for reports.
    pub(super) error_at: Vec<(usize, usize, String)>,
    /// How its mentions of shape sources ended (first reading only).
    pub(super) accounts: Accounts,
    /// With `Reread::Compared`.
    pub(super) outline: Option<Outline>,
}

impl Processed {
    /// The functions the write filter let go for now (see
    /// [`Processed::deferred`]) that pass shape storage to a name whose
    /// summary may write through an argument: to parse after all.
    pub(super) fn deferred_writers(&self, summaries: &Summaries) -> HashSet<String> {
        self.deferred
            .iter()
            .filter(|(_, callees)| callees.iter().any(|c| writer(summaries, c)))
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// A function to classify later (see `Processed::writers`, `potential`).
pub(super) struct Potential {
    pub(super) name: String,
    /// Where its name starts (to tell same-named functions apart);
    /// `UNPARSED` for code that did not parse as a function.
    pub(super) at: usize,
    /// For a potential writer: the callees receiving shape storage.
    pub(super) callees: Vec<String>,
}

pub(super) const UNPARSED: usize = usize::MAX;

/// A file's fingerprint, to tell that a text read again is the one parsed.
pub(super) fn hash_of(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// What processing a file needs to know about the tree.
pub(super) struct Context<'a> {
    pub(super) opts: &'a ScanOptions,
    masker: Masker,
    /// Shape sources, the tree's shape-writing macros and its accessors: a
    /// function that mentions none of them cannot hit, and is not parsed.
    hits: Names,
    /// The names `hits` finds.
    needles: Vec<String>,
    pub(super) shape_macros: HashSet<String>,
    /// The tree's accessors (functions and macros).
    pub(super) givers: Givers,
    /// The fields a function's code may change through `->` (a cast to
    /// `PyArrayObject_fields *`, old API): such a function is parsed.
    fields: Vec<&'static str>,
    /// The C library's `mem*` functions the tree redefines as macros.
    mem_redefined: Vec<&'static str>,
    /// The spellings of the allocators' names (see `Processed::let_go`).
    allocators: Names,
    /// The outlines of the tree's files read so far (none when checking a
    /// planned result: its text is no file's).
    pub(super) outlines: Option<std::sync::Arc<source::Outlines>>,
    /// Bytes of [`Processed::packed`] blocks the tree may still keep: none
    /// but in a tree's scan (see `tree::PACKED_BUDGET`); a text read alone
    /// parses its writers again.
    pub(super) packed_left: std::sync::Arc<AtomicUsize>,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        opts: &'a ScanOptions,
        shape_macros: HashSet<String>,
        givers: Givers,
        mem_redefined: &[&'static str],
    ) -> Context<'a> {
        let mut names = opts.needles();
        names.extend(shape_macros.iter().cloned());
        names.extend(givers.keys().cloned());
        let mut fields = vec![Kind::Dims.field()];
        if opts.strides {
            fields.push(Kind::Strides.field());
        }
        fields.extend(opts.meta.iter().map(|k| k.field()));
        Context {
            fields,
            mem_redefined: mem_redefined.to_vec(),
            allocators: Names::new(&allocator_spellings().collect::<Vec<_>>()),
            opts,
            masker: Masker::new(&opts.ignore_macros),
            hits: Names::new(&names),
            needles: names,
            shape_macros,
            givers,
            outlines: Some(std::sync::Arc::default()),
            packed_left: std::sync::Arc::default(),
        }
    }

    /// The kind of storage a mention of `word` names, if it is a shape
    /// source's name: built in, by flag, an accessor or a shape-writing
    /// macro of the tree.
    pub(super) fn mention_kind(&self, word: &str) -> Option<Kind> {
        let opts = self.opts;
        if DIMS_SOURCES.contains(&word) || opts.dims_macros.iter().any(|m| m == word) {
            return Some(Kind::Dims);
        }
        if opts.strides && (word == STRIDES_SOURCE || opts.strides_macros.iter().any(|m| m == word))
        {
            return Some(Kind::Strides);
        }
        if let Some(g) = self.givers.get(word) {
            let kind = match g {
                Giver::Returns { kind, .. } | Giver::OutParam { kind, .. } => *kind,
            };
            return (kind == Kind::Dims || opts.strides).then_some(kind);
        }
        if opts.meta.contains(Kind::Flags) && FLAG_SETTERS.contains(&word) {
            return Some(Kind::Flags);
        }
        self.shape_macros.contains(word).then_some(Kind::Dims)
    }

    /// Whether the lexical write filter lets a function's code go unparsed:
    /// every mention in it is plainly a read (see [`reads`]), or shape
    /// storage passed whole to calls that `summaries` (when known) say do
    /// not write through an argument. `callees` tells the file's functions
    /// and macros apart. Off with `--parse-all`.
    fn verdict(
        &self,
        code: &[u8],
        callees: &FileCallees,
        summaries: Option<&Summaries>,
    ) -> Verdict {
        if !self.opts.write_filter {
            return Verdict::Parse;
        }
        let kind = |w: &[u8]| {
            let Ok(w) = std::str::from_utf8(w) else {
                return Mention::No;
            };
            let opts = self.opts;
            let plain = DIMS_SOURCES.contains(&w)
                || opts.dims_macros.iter().any(|m| m == w)
                || (opts.strides
                    && (w == STRIDES_SOURCE || opts.strides_macros.iter().any(|m| m == w)))
                || matches!(self.givers.get(w), Some(Giver::Returns { .. }));
            // A cast or variable of `PyArrayObject_fields *` reaches a field
            // only through `->`, which `reading` looks for.
            if plain {
                Mention::Source
            } else if w != FIELDS_TYPE && self.needles.iter().any(|n| n == w) {
                Mention::Other
            } else {
                Mention::No
            }
        };
        let callee = |w: &[u8]| {
            let Ok(w) = std::str::from_utf8(w) else {
                return Callee::Other;
            };
            let known = read_specially(w);
            if callees.by_value.contains(w) && !known {
                Callee::ByValue
            } else if COPY_FNS.contains(&w)
                && !self.mem_redefined.contains(&w)
                && !callees.macros.contains(w)
                && !callees.by_value.contains(w)
            {
                Callee::Copies
            } else if known {
                Callee::Known
            } else {
                Callee::Other
            }
        };
        let names = match reads::reading(code, &self.fields, &kind, &callee) {
            Reading::Parse => return Verdict::Parse,
            Reading::Reads(names) if names.is_empty() => return Verdict::LetGo,
            Reading::Reads(names) => names,
        };
        let names: Vec<String> = names
            .into_iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        match summaries {
            None => Verdict::Defer(names),
            Some(s) if names.iter().any(|n| writer(s, n)) => Verdict::Parse,
            Some(_) => Verdict::LetGo,
        }
    }

    /// The sources for one file: the flags', the tree's accessors, and the
    /// file's names of `PyArrayObject *`.
    pub(super) fn sources<'s>(&'s self, array_names: &'s HashSet<String>) -> Sources<'s> {
        Sources {
            givers: &self.givers,
            array_names,
            mem_redefined: &self.mem_redefined,
            ..self.opts.sources()
        }
    }
}

/// What the write filter decides for a function.
enum Verdict {
    Parse,
    /// Every mention is a read (or the callees it is passed to do not write).
    LetGo,
    /// Shape storage is passed whole to these names, whose summaries are
    /// not known yet: let go for now (see [`Processed::deferred`]).
    Defer(Vec<String>),
}

/// Which functions' facts to keep for classification.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Retain {
    /// None: the parse is for summaries only.
    No,
    /// Functions that write themselves (their facts packed, within the
    /// tree's budget); those that may write through a callee as light
    /// records.
    Writers,
    /// Every function parsed.
    All,
    /// As `Writers`, and the facts of those functions too: a file read
    /// alone, when nothing waits on other files, is classified from this
    /// one parse.
    WritersWithFacts,
    /// As `WritersWithFacts`, without the mention accounting: a planned
    /// result is read to be checked, not reported.
    Check,
}

/// What the callers step looks for in a file (see [`callers_in`]).
pub(super) struct Callers<'k> {
    /// The functions whose calls it looks at, searched as one.
    pub(super) names: &'k Names,
    /// The names besides the allocators' a call may take a new array from:
    /// the functions whose summaries say they return one, and those the
    /// write filter let go whose code names an allocator (the tree's
    /// callers step summarises those its callers need). Searched as bytes,
    /// as the allocators are: a name the parser reads as one identifier
    /// (`$`, letters beyond ASCII) is found all the same.
    pub(super) new_arrays: &'k Names,
    /// The functions of this very text parsed already, by unit (sorted by
    /// start): one the step would parse is taken from here instead.
    pub(super) units: &'k [UnitFacts],
}

/// The facts of one unit of a file's first reading: a function read alike
/// in every configuration, parsed alone in the first (see
/// [`Processed::units`]). The same text gives the same unit and the same
/// parse, so a later step reading that text again takes them from here.
#[derive(Debug, Clone)]
pub(super) struct UnitFacts {
    pub(super) range: std::ops::Range<usize>,
    pub(super) facts: Vec<Facts>,
}

impl Callers<'_> {
    /// The unit of `c` parsed already, if any: a function read alike in
    /// every configuration, as the first reading parsed it.
    fn known_unit(&self, c: &Candidate) -> Option<&UnitFacts> {
        if c.per_config {
            return None;
        }
        let i = self
            .units
            .partition_point(|u| u.range.start < c.range.start);
        self.units.get(i).filter(|u| u.range == c.range)
    }
}

/// Where the facts of a reading came from, in order: each unit's range,
/// whether it is a function read alike in every configuration, read in
/// the first, and how many facts it gave.
struct UnitOf {
    range: std::ops::Range<usize>,
    plain: bool,
    facts: usize,
}

/// A function of the callers step that the outline reads plainly: a C
/// definition (a type before its name), read the same in every
/// configuration, whose body is the `{ }` after its name and ends its
/// code, with no callee named before the body (so it defines none). Both
/// runs, with the write filter and without it, name a call's caller from
/// here, not from the parse, so they agree whether it is parsed or not.
#[derive(Debug)]
pub(super) struct Outlined {
    pub(super) name: String,
    pub(super) range: std::ops::Range<usize>,
    pub(super) body: std::ops::Range<usize>,
    /// Not parsed: its code names no allocator and nothing in
    /// [`Callers::new_arrays`], so no call in it passes an array it just
    /// made (a new array comes from a call of one of those, named in the
    /// code that makes it).
    pub(super) let_go: bool,
}

/// Which functions of a file to parse (when its outline is sure).
#[derive(Clone, Copy)]
pub(super) enum Keep<'k> {
    /// Those that can hit, and these.
    Hits(&'k HashSet<String>),
    /// As `Hits`, where the summaries are not gathered again afterwards (a
    /// text scanned alone): a function the write filter would leave
    /// waiting on summaries (see [`Processed::deferred`]) is parsed.
    Settled(&'k HashSet<String>),
    /// Those that can hit, and these, the write filter off: the second
    /// look, after which nothing asks for the summaries of a function it
    /// would let go.
    Unfiltered(&'k HashSet<String>),
    /// Only these: a second look for summaries.
    Only(&'k HashSet<String>),
    /// Those whose code names one of the callees (the callers step), but
    /// not one the outline reads plainly that cannot pass a new array (see
    /// [`Outlined`]).
    Callers(&'k Callers<'k>),
    /// Those that can hit, in a planned result (or its original) whose
    /// changes are `at` (sorted, not overlapping), with the tree's
    /// summaries: one the write filter lets go is parsed only if a change
    /// is in it, and for its parse errors alone. Which functions, `reread`
    /// says.
    Changed {
        at: &'k [std::ops::Range<usize>],
        summaries: &'k Summaries,
        reread: Reread,
    },
}

impl Keep<'_> {
    /// The outline a check compares (see [`Reread::Compared`]).
    fn outline(self, parsed: &source::Parsed) -> Option<Outline> {
        let compared = matches!(
            self,
            Keep::Changed {
                reread: Reread::Compared,
                ..
            }
        );
        compared.then(|| Outline::of(parsed))
    }
}

/// Which functions the check of a planned result reads (see
/// [`Keep::Changed`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reread {
    /// Only those a change is in (and those read per configuration): each
    /// other one is the original's text, parsed alone, and reads as it
    /// did.
    Changed,
    /// The same, keeping what the rest of the file gives each function
    /// (see [`Outline`]), to compare with another reading.
    Compared,
    /// Every one.
    Every,
}

/// A text's outline, and what the reading of one function takes from the
/// rest of the text: two texts that agree on these, outside the functions
/// a change is in, give every other function the same reading (see
/// `verify::broken`).
#[derive(Debug, PartialEq, Eq)]
pub struct Outline {
    /// Every function the outline found, each parsed alone: its
    /// configuration, its range (see [`source::Parsed::functions`]), and
    /// whether it reads differently per configuration (then it is read in
    /// every check).
    pub functions: Vec<(usize, std::ops::Range<usize>, bool)>,
    /// Functions of the first configuration read alike in every
    /// configuration that overlap or meet one of another configuration
    /// (braces open differently there), by index: a parse error of one
    /// may be counted once for both.
    pub entangled: Vec<usize>,
    /// What the rest of the text names, as the reading sees it: each
    /// function's code before its body (its name), each configuration's
    /// `#define`s (the write filter asks whether a call names one), the
    /// text's names of `PyArrayObject *` (sources of the facts), and the
    /// language it is read as.
    pub names: Vec<String>,
}

impl Outline {
    fn of(parsed: &source::Parsed) -> Outline {
        let starts = &parsed.config_starts;
        let mut functions = Vec::with_capacity(parsed.functions.len());
        let mut names = Vec::new();
        for (k, &start) in starts.iter().enumerate() {
            let masked = parsed.masked(k);
            let end = starts.get(k + 1).copied().unwrap_or(parsed.functions.len());
            for r in &parsed.functions[start..end] {
                let code = &masked[r.clone()];
                let head = &code[..memchr::memchr(b'{', code).unwrap_or(code.len())];
                names.push(String::from_utf8_lossy(head).into_owned());
                let per_config = k > 0 || parsed.layout.as_ref().is_some_and(|l| l.touches(r));
                functions.push((k, r.clone(), per_config));
            }
            let text = std::str::from_utf8(masked).unwrap_or("");
            names.extend(
                lexical::defines_in(text)
                    .into_iter()
                    .map(|d| format!("#define {}{:?} {}", d.name, d.params, d.body)),
            );
        }
        let mut arrays: Vec<String> = lexical::pointer_names(&parsed.file.masked, ARRAY_TYPE)
            .into_iter()
            .collect();
        arrays.sort_unstable();
        names.extend(arrays);
        // A header is read as C++ when its text looks like C++.
        names.push(format!("{:?}", parsed.file.lang));
        let overlaps = |r: &std::ops::Range<usize>| {
            functions
                .iter()
                .any(|(k, o, _)| *k > 0 && o.start <= r.end && r.start <= o.end)
        };
        let entangled = functions
            .iter()
            .enumerate()
            .filter(|(_, (k, r, per_config))| *k == 0 && !per_config && overlaps(r))
            .map(|(i, _)| i)
            .collect();
        Outline {
            functions,
            entangled,
            names,
        }
    }
}

/// Whether one of `changed` (sorted, not overlapping) is in or next to
/// the function at `range`: the functions a check of a planned result
/// reads again (see [`Keep::Changed`]).
pub fn change_in(changed: &[std::ops::Range<usize>], range: &std::ops::Range<usize>) -> bool {
    // The first change ending at or after the function's start (one
    // search: a file may hold thousands of each).
    let first = changed.partition_point(|e| e.end < range.start);
    changed.get(first).is_some_and(|e| e.start <= range.end)
}

/// A file parsed, with the facts of its functions.
struct Read {
    parsed: source::Parsed,
    facts: analyze::FileFacts,
    /// Functions left out although they mention a source: the write
    /// filter found every mention a read.
    read_only: Vec<std::ops::Range<usize>>,
    /// The names of the functions left out.
    blanked: Vec<String>,
    deferred: Vec<(String, Vec<String>)>,
    let_go: Vec<(String, bool)>,
    /// For the callers step (see [`Outlined`]).
    outlined: Vec<Outlined>,
    /// The unit each run of `facts.functions` came from.
    units: Vec<UnitOf>,
}

/// Parse the functions of a file that `keep` asks for (those the write
/// filter lets go excepted, unless a change of a checked result is in
/// one: parsed then for its errors alone) and take their facts.
fn read(cx: &Context, path: PathBuf, rel: String, text: String, keep: Keep) -> Read {
    let template = source::is_template(&path);
    // The file's `#define`s, read once: the filter needs their names (a
    // macro may write its arguments), the facts the function-like ones.
    let defines: OnceCell<Vec<Define>> = OnceCell::new();
    let defines_of = |masked: &[u8]| {
        defines.get_or_init(|| lexical::defines_in(std::str::from_utf8(masked).unwrap_or("")))
    };
    // The file's functions and macros, made once.
    let callees: OnceCell<FileCallees> = OnceCell::new();
    let read_only: RefCell<Vec<std::ops::Range<usize>>> = RefCell::new(Vec::new());
    let deferred: RefCell<Vec<(String, Vec<String>)>> = RefCell::new(Vec::new());
    let let_go: RefCell<Vec<(String, bool)>> = RefCell::new(Vec::new());
    let outlined: RefCell<Vec<Outlined>> = RefCell::new(Vec::new());
    // Functions the callers step takes as parsed already (see `Callers::units`).
    let reused: RefCell<Vec<UnitFacts>> = RefCell::new(Vec::new());
    // Where the functions parsed for their errors alone start (a check).
    let parse_only: Mutex<HashSet<usize>> = Mutex::new(HashSet::new());
    // The outline reads C only; the filter's rules are C's.
    let verdict = |c: &Candidate, summaries: Option<&Summaries>| {
        if c.per_config || template || c.lang != Lang::C {
            return Verdict::Parse;
        }
        let at = name_at(c);
        if !typed(c, at) {
            return Verdict::Parse;
        }
        let callees = callees.get_or_init(|| file_callees(c.all, defines_of(c.text)));
        cx.verdict(own_code(c, at), callees, summaries)
    };
    let wanted = |c: &Candidate| match keep {
        Keep::Hits(names) | Keep::Settled(names) => {
            if names.contains(c.name) || !cx.hits.any(c.code) {
                return names.contains(c.name);
            }
            match verdict(c, None) {
                Verdict::Parse => return true,
                Verdict::Defer(_) if matches!(keep, Keep::Settled(_)) => return true,
                Verdict::LetGo => {}
                Verdict::Defer(callees) => {
                    deferred.borrow_mut().push((c.name.to_string(), callees));
                }
            }
            read_only.borrow_mut().push(c.range.clone());
            let allocates = cx.allocators.any(c.code);
            let_go.borrow_mut().push((c.name.to_string(), allocates));
            false
        }
        Keep::Changed {
            at: changed,
            summaries,
            reread,
        } => {
            if !cx.hits.any(c.code) {
                return false;
            }
            let r = &c.range;
            let touched = change_in(changed, r);
            if reread != Reread::Every && !touched && !c.per_config {
                return false;
            }
            if matches!(verdict(c, Some(summaries)), Verdict::Parse) {
                return true;
            }
            // Left out as the scan left it out, unless changed: then its
            // parse errors count (and it can still only read).
            if touched {
                lock(&parse_only).insert(r.start);
            }
            touched
        }
        Keep::Unfiltered(names) => names.contains(c.name) || cx.hits.any(c.code),
        Keep::Only(names) => names.contains(c.name),
        Keep::Callers(callers) => caller_wanted(cx, c, template, callers, (&outlined, &reused)),
    };
    // The file's names of `PyArrayObject *`, found once, on the masked text.
    let array_names: OnceLock<HashSet<String>> = OnceLock::new();
    let each = |parsed: &source::Parsed, unit: &source::Unit| {
        // A candidate the filter lets go is never read per configuration
        // (a whole-file unit of a configuration may start where it does).
        let key = (unit.range.clone(), unit.config, unit.per_config);
        if !unit.per_config && lock(&parse_only).contains(&unit.range.start) {
            return (key, Vec::new());
        }
        let names =
            array_names.get_or_init(|| lexical::pointer_names(&parsed.file.masked, ARRAY_TYPE));
        (key, analyze::unit_facts(parsed, unit, cx.sources(names)))
    };
    let (parsed, per_unit, blanked) = source::parse_functions(
        (&cx.masker, cx.outlines.as_deref()),
        path,
        rel,
        text,
        wanted,
        each,
    );
    let masked = std::str::from_utf8(&parsed.file.masked).unwrap_or("");
    let defines = defines
        .into_inner()
        .unwrap_or_else(|| lexical::defines_in(masked));
    let (functions, units) = in_unit_order(per_unit, reused.into_inner());
    let facts = analyze::FileFacts {
        functions,
        macros: analyze::file_macros(masked, defines),
    };
    Read {
        parsed,
        facts,
        read_only: read_only.into_inner(),
        blanked: blanked.into_iter().map(|(name, _)| name).collect(),
        deferred: deferred.into_inner(),
        let_go: let_go.into_inner(),
        outlined: outlined.into_inner(),
        units,
    }
}

/// A unit parsed: its range, configuration, and whether it reads
/// differently per configuration; and its facts.
type UnitParsed = ((std::ops::Range<usize>, usize, bool), Vec<Facts>);

/// The facts of the units parsed (in the order of the parse: the first
/// configuration's in text order, then the others') with the units taken
/// as parsed already, each where its parse would have been; and where
/// each run of facts came from.
fn in_unit_order(parsed: Vec<UnitParsed>, mut reused: Vec<UnitFacts>) -> (Vec<Facts>, Vec<UnitOf>) {
    reused.sort_by_key(|u| u.range.start);
    let mut reused = reused.into_iter().peekable();
    let mut functions = Vec::new();
    let mut units = Vec::with_capacity(parsed.len() + reused.len());
    let mut take = |range, plain, facts: Vec<Facts>| {
        units.push(UnitOf {
            range,
            plain,
            facts: facts.len(),
        });
        functions.extend(facts);
    };
    for ((range, config, per_config), facts) in parsed {
        while let Some(u) = reused.next_if(|u| config > 0 || u.range.start < range.start) {
            take(u.range, false, u.facts);
        }
        take(range, config == 0 && !per_config, facts);
    }
    for u in reused {
        take(u.range, false, u.facts);
    }
    (functions, units)
}

/// The functions of a file whose code names one of `callers.names`, for
/// the callers step: the facts of those parsed, and those the outline
/// reads plainly (see [`Outlined`]).
pub(super) fn callers_in(
    cx: &Context,
    path: PathBuf,
    text: String,
    callers: &Callers,
) -> (Vec<Facts>, Vec<Outlined>) {
    let rel = source::relative(&path, &cx.opts.root);
    let read = read(cx, path, rel, text, Keep::Callers(callers));
    (read.facts.functions, read.outlined)
}

/// Whether the callers step parses a candidate: its code names a callee,
/// and the outline does not read it plainly or it may pass a new array (a
/// plain one is kept in `outlined`, parsed or not); and it was not parsed
/// already (then its facts go to `reused`).
fn caller_wanted(
    cx: &Context,
    c: &Candidate,
    template: bool,
    callers: &Callers,
    (outlined, reused): (&RefCell<Vec<Outlined>>, &RefCell<Vec<UnitFacts>>),
) -> bool {
    let parse = caller_needed(cx, c, template, callers, outlined);
    match callers.known_unit(c) {
        Some(unit) if parse => {
            reused.borrow_mut().push(unit.clone());
            false
        }
        _ => parse,
    }
}

/// Whether the callers step needs the facts of a candidate (see
/// [`caller_wanted`]).
fn caller_needed(
    cx: &Context,
    c: &Candidate,
    template: bool,
    callers: &Callers,
    outlined: &RefCell<Vec<Outlined>>,
) -> bool {
    let names = callers.names;
    if !names.any(c.code) {
        return false;
    }
    let Some(plain) = outlined_function(c, template, names) else {
        return true;
    };
    let parse = !cx.opts.write_filter || may_make_array(cx, c.code, callers.new_arrays);
    outlined.borrow_mut().push(Outlined {
        let_go: !parse,
        ..plain
    });
    parse
}

/// The candidate as [`Outlined`], when the outline reads it plainly and
/// none of `names` comes before its body.
fn outlined_function(c: &Candidate, template: bool, names: &Names) -> Option<Outlined> {
    if c.per_config || template || c.lang != Lang::C {
        return None;
    }
    let at = name_at(c)?;
    if !typed(c, Some(at)) || c.code.last() != Some(&b'}') {
        return None;
    }
    // The body's `{`: the first after the name, no directive before it.
    let mut lexer = source::tokens::Lexer::at(c.code, at);
    let brace = loop {
        let tok = lexer.next_code()?;
        match tok.kind {
            source::tokens::Tok::Punct(b'{') => break tok.start,
            source::tokens::Tok::Punct(b'#') => return None,
            _ => {}
        }
    };
    if names.any(&c.code[..brace]) {
        return None;
    }
    let start = c.range.start;
    Some(Outlined {
        name: c.name.to_string(),
        range: c.range.clone(),
        body: start + brace..c.range.end,
        let_go: false,
    })
}

/// Whether a function's code may pass an array it makes: it names an
/// allocator, or one of `new_arrays` (see [`Callers::new_arrays`]).
fn may_make_array(cx: &Context, code: &[u8], new_arrays: &Names) -> bool {
    cx.allocators.any(code) || new_arrays.any(code)
}

/// Parse a file — only the functions `keep` asks for, when its outline is
/// sure — and keep what later stages need.
pub(super) fn process(
    cx: &Context,
    path: PathBuf,
    text: String,
    keep: Keep,
    retain: Retain,
) -> Processed {
    let opts = cx.opts;
    let rel = source::relative(&path, &opts.root);
    let Read {
        parsed,
        facts,
        read_only,
        blanked,
        deferred,
        let_go,
        outlined: _,
        units,
    } = read(cx, path.clone(), rel.clone(), text, keep);
    // Whole-file passes that do not depend on each other run side by side
    // (on a large generated file they are most of the time).
    let (accounts, (unreadable, hash, lines)) = rayon::join(
        || match retain {
            Retain::Writers | Retain::WritersWithFacts => account(
                &|w| cx.mention_kind(w),
                (opts.strides, opts.meta),
                &parsed,
                (&facts.functions, &facts.macros),
                &read_only,
            ),
            Retain::No | Retain::All | Retain::Check => Accounts::default(),
        },
        || {
            // Items not analysed are reported from a first reading (or a
            // check); a reading for summaries or for classification does
            // not need them.
            let unreadable = match retain {
                Retain::No | Retain::All => Vec::new(),
                Retain::Writers | Retain::WritersWithFacts | Retain::Check => {
                    unreadable_items(&parsed, &cx.needles)
                }
            };
            let text = &parsed.file.text;
            (unreadable, hash_of(text), LineIndex::new(text))
        },
    );
    let error_at = errors_at(&parsed, &facts.functions, &lines);
    let outline = keep.outline(&parsed);
    let units = whole_units(cx, retain, &units, &facts.functions);
    let Sorted {
        summaries,
        mut defined,
        functions,
        writers,
        potential,
        needed,
        packed,
    } = sort_out(cx, retain, &rel, &lines, facts.functions);
    defined.extend(facts.macros.iter().map(|m| m.name.clone()));
    let macros = writing_macros(facts.macros, &rel, &lines);
    Processed {
        errors: parsed.errors.len(),
        path,
        rel,
        hash,
        lang: parsed.file.lang,
        functions,
        units,
        packed,
        writers,
        potential,
        needed,
        summaries,
        defined,
        blanked,
        deferred,
        let_go,
        macros,
        unreadable,
        error_at,
        accounts,
        outline,
    }
}

/// What [`process`] keeps of the functions read, by what they do.
struct Sorted {
    summaries: Vec<(String, FnSummary)>,
    defined: Vec<String>,
    functions: Vec<Facts>,
    writers: Vec<Potential>,
    potential: Vec<Potential>,
    needed: Vec<String>,
    packed: Option<Box<[u8]>>,
}

/// Summarise the functions read and sort out those `retain` keeps.
fn sort_out(cx: &Context, retain: Retain, rel: &str, lines: &LineIndex, all: Vec<Facts>) -> Sorted {
    let mut summaries = Vec::new();
    let mut defined = Vec::new();
    let mut functions = Vec::new();
    let mut writers = Vec::new();
    let mut potential = Vec::new();
    let mut needed = Vec::new();
    let mut writer_facts = Vec::new();
    for f in all {
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
            Retain::Writers | Retain::WritersWithFacts | Retain::Check => {}
        }
        let writes = writes_itself(&f, &cx.shape_macros) || (f.unparsed && passes_storage(&f));
        if writes {
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
        } else {
            continue;
        }
        if matches!(retain, Retain::WritersWithFacts | Retain::Check) {
            functions.push(f);
        } else if retain == Retain::Writers && writes {
            writer_facts.push(f);
        }
    }
    Sorted {
        packed: pack(&cx.packed_left, &writer_facts),
        summaries,
        defined,
        functions,
        writers,
        potential,
        needed,
    }
}

/// The writers' facts in one block, if the tree's budget still has room
/// for it (taken from `left` then).
fn pack(left: &AtomicUsize, facts: &[Facts]) -> Option<Box<[u8]>> {
    if facts.is_empty() || left.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let block = postcard::to_allocvec(facts).ok()?.into_boxed_slice();
    let n = block.len();
    left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n))
        .ok()
        .map(|_| block)
}

/// The facts of a [`Processed::packed`] block.
pub(super) fn unpack(block: &[u8]) -> Option<Vec<Facts>> {
    postcard::from_bytes(block).ok()
}

/// With `Retain::WritersWithFacts`, the units of a reading read alike in
/// every configuration whose facts `process` keeps, every one of them (a
/// function writing or passing shape storage on): a later step reading
/// the same text takes them as parsed. They are copies: the facts kept
/// are classified, these wait for the callers step.
fn whole_units(cx: &Context, retain: Retain, units: &[UnitOf], facts: &[Facts]) -> Vec<UnitFacts> {
    if retain != Retain::WritersWithFacts {
        return Vec::new();
    }
    let kept = |f: &Facts| writes_itself(f, &cx.shape_macros) || passes_storage(f);
    let mut whole = Vec::new();
    let mut start = 0;
    for u in units {
        let of_unit = start..start + u.facts;
        if u.plain && facts[of_unit.clone()].iter().all(kept) {
            whole.push((u, of_unit));
        }
        start += u.facts;
    }
    // Counted before anything is copied.
    if whole.len() > KEPT_UNITS {
        return Vec::new();
    }
    whole
        .into_iter()
        .map(|(u, of_unit)| UnitFacts {
            range: u.range.clone(),
            facts: facts[of_unit].to_vec(),
        })
        .collect()
}

/// The most units [`whole_units`] keeps for one file: past it (generated
/// code, thousands of writing functions), the copies would hold more
/// memory than the callers step's parses of them cost time, and that step
/// parses the file's callers again.
const KEPT_UNITS: usize = 1024;

/// The function-like macros of a file that may write, with where each is.
fn writing_macros(macros: Vec<Define>, rel: &str, lines: &LineIndex) -> Vec<(Define, String)> {
    macros
        .into_iter()
        .filter(Define::may_write)
        .map(|m| {
            let loc = format!("{rel}:{}", lines.line(m.at));
            (m, loc)
        })
        .collect()
}

/// Where a candidate's name is in its code: the first time it is a word
/// followed by `(`.
fn name_at(c: &Candidate) -> Option<usize> {
    let name = c.name.as_bytes();
    memchr::memmem::find_iter(c.code, name).find(|&i| {
        let before = i.checked_sub(1).map(|p| c.code[p]);
        let after = c.code[i + name.len()..].trim_ascii_start().first();
        !before.is_some_and(source::tokens::is_ident) && after == Some(&b'(')
    })
}

/// Whether a type comes before the candidate's name, found at `at` (see
/// [`reads::typed_before`]).
fn typed(c: &Candidate, at: Option<usize>) -> bool {
    at.is_some_and(|i| reads::typed_before(&c.code[..i]))
}

/// A candidate's code from the line its name (found at `at`) is on: what
/// comes before (comments, directives between the items) is not the
/// function's.
fn own_code<'c>(c: &Candidate<'c>, at: Option<usize>) -> &'c [u8] {
    match at {
        Some(i) => {
            let line = c.code[..i]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            &c.code[line..]
        }
        None => c.code,
    }
}

/// A lock whose holder cannot have left it broken (it only inserts).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a file's own code tells of the names it calls.
pub(super) struct FileCallees {
    /// The functions the outline found that no `#define` of the file
    /// names: a call of one passes its arguments by value.
    by_value: HashSet<String>,
    /// The names the file `#define`s.
    macros: HashSet<String>,
}

/// The file's functions and macros (see [`FileCallees`]).
fn file_callees(functions: &[outline::Function], defines: &[Define]) -> FileCallees {
    let macros: HashSet<String> = defines.iter().map(|d| d.name.clone()).collect();
    let by_value = functions
        .iter()
        .map(|f| f.name.clone())
        .filter(|name| !macros.contains(name))
        .collect();
    FileCallees { by_value, macros }
}

/// Where each parse error is: line, column and the function holding it
/// (empty outside functions).
fn errors_at(
    parsed: &source::Parsed,
    functions: &[Facts],
    lines: &LineIndex,
) -> Vec<(usize, usize, String)> {
    parsed
        .errors
        .iter()
        .map(|&at| {
            let (line, column) = lines.line_col(&parsed.file.text, at);
            let function = functions
                .iter()
                .find(|f| f.span.start <= at && at < f.span.end)
                .map_or_else(String::new, |f| f.name.clone());
            (line, column, function)
        })
        .collect()
}

/// The items of a file that are not analysed (lines ending in `\r` alone
/// read as a compiler reads them).
fn unreadable_items(parsed: &source::Parsed, needles: &[String]) -> Vec<Unreadable> {
    let text = &parsed.file.text;
    let mut items = if !crate::span::has_lone_cr(text) {
        hazards::scan(text, needles)
    } else {
        let mut bytes = text.as_bytes().to_vec();
        source::lone_cr_to_lf(&mut bytes);
        hazards::scan(&String::from_utf8_lossy(&bytes), needles)
    };
    // The K&R test reads the text as written; where preprocessor branches
    // open or close braces differently it can find an item no build
    // compiles: `#ifdef A` `f(a)[0] = v; }` `#else` `f(a)[1] = v; }` read
    // as a K&R definition of `f` that starts inside the function another
    // configuration's outline found. Such an item is dropped; the
    // function's writes are those of its per-configuration parses.
    if let Some(layout) = &parsed.layout {
        let in_a_function = |at: usize| parsed.functions.iter().any(|f| f.start < at && at < f.end);
        items.retain(|u| {
            u.what != Hazard::KnR || !layout.touches(&u.region) || !in_a_function(u.region.start)
        });
    }
    items
}

/// Everything the first pass needs summaries of.
pub(super) fn needed_names(processed: &[Processed]) -> HashSet<String> {
    processed
        .iter()
        .flat_map(|p| {
            p.needed
                .iter()
                .chain(p.potential.iter().flat_map(|q| &q.callees))
                .chain(p.deferred.iter().flat_map(|(_, callees)| callees))
        })
        .cloned()
        .collect()
}
