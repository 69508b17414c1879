//! The callers of lock findings' functions (DESIGN §3c), once every file is
//! classified: a function only the tree can call, which changes one of its
//! parameters in place, whose name is used only to call it and whose every
//! call passes an array the caller just made, changes nobody else's array:
//! its finding is fresh, naming each call. A call passing a possibly
//! shared array is named in the lock's reason instead.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::analyze::api::is_allocator;
use crate::analyze::classify::{fresh_argument, FileCx};
use crate::analyze::reason::{Caller, Reason};
use crate::analyze::summary::Summaries;
use crate::analyze::{Class, Facts, Finding};
use crate::discover::Names;
use crate::source::names::{name_uses, NameUse};
use crate::span::LineIndex;

use super::parse::{callers_in, Callers, Context, Outlined, Processed, UnitFacts};
use super::ScannedFile;

/// The functions whose callers are asked: by name, the parameters their
/// lock findings change (two static functions may share a name).
pub(super) type Asked = HashMap<String, Vec<usize>>;

/// One use of an asked name in the tree, outside its declarations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Seen {
    pub(super) rel: String,
    pub(super) at: usize,
    pub(super) line: usize,
    pub(super) name: String,
    /// For a call: the calling function, and per asked parameter whether
    /// the call passes there an array the caller just made. `None`: a use
    /// the analysis cannot follow (the name's address taken, a macro, a
    /// file that could not be read).
    pub(super) call: Option<(String, Vec<(usize, bool)>)>,
    /// The file defines a function of that name itself: a `static` one
    /// elsewhere is not the one it calls.
    pub(super) definer: bool,
}

/// The functions whose callers to ask: those of the lock findings (not
/// resolved) on a parameter of a function only the tree can call.
pub(super) fn asked(files: &[ScannedFile]) -> Asked {
    let mut out: Asked = HashMap::new();
    for f in files.iter().flat_map(|f| &f.findings) {
        if let (Class::Lock, None, Some(internal)) = (f.class, &f.resolved, &f.internal) {
            let params = out.entry(f.function.clone()).or_default();
            params.push(internal.param);
            params.sort_unstable();
            params.dedup();
        }
    }
    out
}

/// The names the callers step may ask about, as far as the first parse
/// knows: every function with a write of its own or one passing shape
/// storage to a callee (a lock finding's function is one of them).
/// Functions parsed later may add to what is asked; then every file is
/// searched.
pub(super) fn may_ask(processed: &[Processed]) -> Vec<String> {
    let mut names: Vec<String> = processed
        .iter()
        .flat_map(|p| p.writers.iter().chain(&p.potential))
        .map(|w| w.name.clone())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The names a caller may take a new array from besides the allocators
/// (see [`Callers::new_arrays`]): the functions `summaries` say return one,
/// and `let_go`.
pub(super) fn new_arrays<'n>(
    summaries: &'n Summaries,
    let_go: impl Iterator<Item = &'n String>,
) -> Names {
    let mut names: Vec<&String> = summaries
        .functions
        .iter()
        .filter(|(_, s)| s.fresh.is_some())
        .map(|(name, _)| name)
        .chain(let_go)
        .collect();
    names.sort_unstable();
    names.dedup();
    Names::new(&names)
}

/// What a file that could not be read (or parsed) may hold: a use of
/// every asked name the analysis cannot follow.
pub(super) fn unknown(asked: &Asked, rel: &str) -> Vec<Seen> {
    asked
        .keys()
        .map(|name| Seen {
            rel: rel.to_string(),
            at: 0,
            line: 0,
            name: name.clone(),
            call: None,
            definer: false,
        })
        .collect()
}

/// What the callers step knows when it reads a file (see [`uses_in`]).
pub(super) struct Known<'k> {
    pub(super) summaries: &'k Summaries,
    /// See [`Callers::new_arrays`].
    pub(super) new_arrays: &'k Names,
    /// The asked names, searched as one.
    pub(super) asked: &'k Names,
    /// The units of this very text parsed already (see [`UnitFacts`]).
    pub(super) units: &'k [UnitFacts],
}

/// The uses of the asked names in one file; `cpp` for a C++ file, which is
/// not analysed (every use there is one the analysis cannot follow). And
/// the functions whose results the file's functions keep that have no
/// summary: a call's array is new when the summary of the function it
/// comes from says so, and the write filter may have let that function go
/// unparsed (see `Tree::callers`).
pub(super) fn uses_in(
    cx: &Context,
    known: &Known,
    path: &Path,
    text: &str,
    asked: &Asked,
    cpp: bool,
) -> (Vec<Seen>, Vec<String>) {
    let names: HashSet<String> = asked.keys().cloned().collect();
    let rel = crate::source::relative(path, &cx.opts.root);
    let lines = LineIndex::new(text);
    let uses: Vec<(usize, String, NameUse)> = name_uses(text, &names)
        .into_iter()
        .filter(|(_, _, how)| *how != NameUse::Declaration)
        .map(|(at, name, how)| (at, name.to_string(), how))
        .collect();
    if uses.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let (functions, outlined) = if !cpp && uses.iter().any(|u| u.2 == NameUse::Call) {
        let callers = Callers {
            names: known.asked,
            new_arrays: known.new_arrays,
            units: known.units,
        };
        callers_in(cx, path.to_path_buf(), text.to_string(), &callers)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut unsummarised: Vec<String> = functions
        .iter()
        .flat_map(|f| &f.var_mods)
        .filter_map(|m| m.value.as_ref()?.call.clone())
        .filter(|c| !is_allocator(c) && !known.summaries.functions.contains_key(c))
        .collect();
    unsummarised.sort_unstable();
    unsummarised.dedup();
    let file = FileCx::new(text);
    // A function the outline reads plainly defines no asked name (none
    // is named before its body); what the parse may make of its body, if
    // it is parsed at all, does not count, so both runs, with the write
    // filter and without it, agree.
    let parsed = |f: &&Facts| {
        !outlined
            .iter()
            .any(|o| o.range.contains(&f.name_span.start))
    };
    // A definition the lexical reading took for a call (braces of an
    // `#if` it cannot balance) is the parser's function name.
    let defined = |at: usize| {
        functions
            .iter()
            .filter(parsed)
            .any(|f| f.name_span.start == at)
    };
    let definer = |name: &str| {
        functions
            .iter()
            .filter(parsed)
            .any(|f| f.name == name && !f.unparsed)
    };
    let seen = uses
        .into_iter()
        .filter(|(at, _, how)| !(*how == NameUse::Call && defined(*at)))
        .map(|(at, name, how)| {
            let call = match how {
                NameUse::Call if !cpp => {
                    let fns = (&functions[..], &outlined[..]);
                    Some(call_at(fns, known.summaries, &file, &name, asked, at))
                }
                _ => None,
            };
            Seen {
                rel: rel.clone(),
                at,
                line: lines.line(at),
                definer: definer(&name),
                name,
                call,
            }
        })
        .collect();
    (seen, unsummarised)
}

/// The call of `name` at `at`: the function holding it, and per asked
/// parameter whether it passes there an array it just made (in every
/// reading of the function, with no parse error on the call). A function
/// the outline reads plainly is named by it (see [`Outlined`]); one not
/// parsed passes no new array.
fn call_at(
    (functions, outlined): (&[Facts], &[Outlined]),
    summaries: &Summaries,
    file: &FileCx,
    name: &str,
    asked: &Asked,
    at: usize,
) -> (String, Vec<(usize, bool)>) {
    let readings: Vec<&Facts> = functions
        .iter()
        .filter(|f| f.body.start <= at && at < f.body.end)
        .collect();
    let params = &asked[name];
    let none = || params.iter().map(|&p| (p, false)).collect();
    let caller = match (
        outlined.iter().find(|o| o.body.contains(&at)),
        readings.first(),
    ) {
        (Some(o), _) if o.let_go || readings.is_empty() => return (o.name.clone(), none()),
        (Some(o), _) => o.name.clone(),
        (None, None) => return ("code outside a function".to_string(), none()),
        (None, Some(first)) => file
            .text
            .get(first.name_span.range())
            .unwrap_or(&first.name)
            .to_string(),
    };
    let fresh_at = |p: usize| {
        readings.iter().all(|f| {
            let call = f
                .calls
                .iter()
                .find(|c| c.callee == name && c.span.start == at);
            !f.unparsed
                && call.is_some_and(|call| {
                    !f.errors.iter().any(|e| e.span.overlaps(call.place.stmt))
                        && fresh_argument(f, summaries, file, call, p)
                })
        })
    };
    (caller, params.iter().map(|&p| (p, fresh_at(p))).collect())
}

/// Give the lock findings asked about what their callers pass: fresh,
/// naming every call, when each use of the name is a call passing an array
/// the caller just made; otherwise a lock still, naming the calls that
/// pass an array that may be shared. A name with no call, or used some
/// other way, leaves its findings as they are. The findings of one
/// function's change of several arrays (a swap) are one change: fresh only
/// if every one of them is.
pub(super) fn settle(files: &mut [ScannedFile], mut seen: Vec<Seen>) {
    seen.sort();
    seen.dedup();
    let mut by_name: HashMap<&str, Vec<&Seen>> = HashMap::new();
    for s in &seen {
        by_name.entry(s.name.as_str()).or_default().push(s);
    }
    for file in files.iter_mut() {
        let rel = file.rel.clone();
        let decisions: Vec<Decision> = file
            .findings
            .iter()
            .map(|finding| {
                let Some(uses) = by_name.get(finding.function.as_str()) else {
                    return Decision::Keep;
                };
                // A `static` function is called from its own file, or from
                // one that includes it (which defines no function of the name).
                let exported = finding
                    .internal
                    .as_ref()
                    .is_some_and(|i| i.linkage != "static");
                let uses: Vec<&Seen> = uses
                    .iter()
                    .filter(|s| exported || s.rel == rel || !s.definer)
                    .copied()
                    .collect();
                decide(finding, &uses)
            })
            .collect();
        let findings = &mut file.findings;
        // A function whose change of some array stays a lock.
        let locked: Vec<_> = findings
            .iter()
            .zip(&decisions)
            .filter(|(f, d)| f.class == Class::Lock && !matches!(d, Decision::Fresh(_)))
            .map(|(f, _)| f.function_body)
            .collect();
        for (finding, decision) in findings.iter_mut().zip(decisions) {
            match decision {
                Decision::Fresh(reason) if !locked.contains(&finding.function_body) => {
                    finding.class = Class::Fresh;
                    finding.evidence.clear();
                    for site in &mut finding.sites {
                        site.class = Class::Fresh;
                        site.reason = reason.clone();
                    }
                    finding.reason = reason;
                }
                Decision::Shared(callers) => {
                    if let Reason::InPlaceChange { shared_callers, .. } = &mut finding.reason {
                        *shared_callers = callers;
                    }
                }
                _ => {}
            }
        }
    }
}

/// What the callers of a finding's function make of it.
enum Decision {
    /// Nothing: not asked, no call, or a use the analysis cannot follow.
    Keep,
    /// Every call passes an array the caller just made.
    Fresh(Reason),
    /// These calls pass an array that may be shared.
    Shared(Vec<Caller>),
}

/// Decide one finding with the uses of its function's name.
fn decide(finding: &Finding, uses: &[&Seen]) -> Decision {
    let (Class::Lock, None, Some(internal)) = (finding.class, &finding.resolved, &finding.internal)
    else {
        return Decision::Keep;
    };
    if uses.is_empty() || uses.iter().any(|s| s.call.is_none()) {
        return Decision::Keep;
    }
    let caller = |s: &Seen| Caller {
        function: s.call.as_ref().map_or(String::new(), |c| c.0.clone()),
        location: format!("{}:{}", s.rel, s.line),
    };
    let fresh = |s: &Seen| {
        s.call
            .as_ref()
            .is_some_and(|c| c.1.contains(&(internal.param, true)))
    };
    let shared: Vec<Caller> = uses
        .iter()
        .filter(|s| !fresh(s))
        .map(|s| caller(s))
        .collect();
    if !shared.is_empty() {
        return Decision::Shared(shared);
    }
    Decision::Fresh(Reason::FreshInCallers {
        function: finding.display.clone(),
        linkage: internal.linkage.to_string(),
        callers: uses.iter().map(|s| caller(s)).collect(),
        api: internal.api.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ScanOptions;

    /// Which plain callers of `drop_last_axis` the callers step lets go
    /// unparsed, when `kept$made` returns a new array.
    fn let_go(text: &str) -> Vec<(String, bool)> {
        let opts = ScanOptions::for_text();
        let cx = Context::new(&opts, HashSet::new(), Default::default(), &[]);
        let names = Names::new(&["drop_last_axis"]);
        let new_arrays = Names::new(&["kept$made"]);
        let callers = Callers {
            names: &names,
            new_arrays: &new_arrays,
            units: &[],
        };
        let (_, outlined) = callers_in(&cx, "/f.c".into(), text.to_string(), &callers);
        outlined.into_iter().map(|o| (o.name, o.let_go)).collect()
    }

    #[test]
    fn a_caller_naming_a_new_array_is_parsed_whatever_its_name_is_made_of() {
        let text = "static PyObject *\nshared(PyArrayObject *self)\n{\n    \
                    drop_last_axis(self);\n    return NULL;\n}\n\
                    static PyObject *\nkept(PyArray_Descr *d, npy_intp n)\n{\n    \
                    PyArrayObject *x = kept$made(d, n);\n    drop_last_axis(x);\n    \
                    return (PyObject *)x;\n}\n\
                    static PyObject *\nmade(PyArray_Descr *d)\n{\n    \
                    PyArrayObject *x = (PyArrayObject *)PyArray_NewFromDescr(\
                    &PyArray_Type, d, 0, NULL, NULL, NULL, 0, NULL);\n    \
                    drop_last_axis(x);\n    return (PyObject *)x;\n}\n";
        assert_eq!(
            let_go(text),
            [
                ("shared".to_string(), true),
                ("kept".to_string(), false),
                ("made".to_string(), false),
            ]
        );
    }

    /// A caller the first reading parsed alone is taken from there, in the
    /// place of its parse, when its unit is the one the outline gives now;
    /// any other is parsed.
    #[test]
    fn a_caller_parsed_already_is_not_parsed_again() {
        let caller = |name: &str| {
            format!(
                "static PyObject *\n{name}(PyArray_Descr *d)\n{{\n    \
                 PyArrayObject *x = (PyArrayObject *)PyArray_NewFromDescr(\
                 &PyArray_Type, d, 0, NULL, NULL, NULL, 0, NULL);\n    \
                 drop_last_axis(x);\n    return (PyObject *)x;\n}}\n"
            )
        };
        let text = format!("{}{}{}", caller("a"), caller("b"), caller("c"));
        let outline = crate::source::outline::functions(text.as_bytes(), crate::source::Lang::C);
        let b = outline.unwrap()[1].clone();
        let opts = ScanOptions::for_text();
        let cx = Context::new(&opts, HashSet::new(), Default::default(), &[]);
        let names = Names::new(&["drop_last_axis"]);
        let new_arrays = Names::new(&["kept$made"]);
        let parsed_as = |range: std::ops::Range<usize>| {
            let known = [UnitFacts {
                range,
                facts: vec![Facts {
                    name: "as parsed before".to_string(),
                    ..Facts::default()
                }],
            }];
            let callers = Callers {
                names: &names,
                new_arrays: &new_arrays,
                units: &known,
            };
            let (facts, _) = callers_in(&cx, "/f.c".into(), text.clone(), &callers);
            facts.into_iter().map(|f| f.name).collect::<Vec<_>>()
        };
        assert_eq!(parsed_as(b.start..b.end), ["a", "as parsed before", "c"]);
        assert_eq!(parsed_as(b.start + 1..b.end), ["a", "b", "c"]);
    }
}
