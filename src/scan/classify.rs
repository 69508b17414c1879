//! Classify a parsed file again from its text: the findings and the file report.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyze::summary::{MacroSummary, Summaries};
use crate::analyze::{self, ack, classify, Class, Facts, Finding, Sources};
use crate::source::hazards::Unreadable;
use crate::source::{self, Skip};
use crate::span::LineIndex;

use super::account::{at_sites, limit_findings, lost_write, Accounts, SiteIndex};
use super::callees::{merge_summaries, passes_storage, writer, writes_itself};
use super::callers;
use super::parse::{
    hash_of, process, unpack, Context, Keep, Outline, Potential, Processed, Reread, Retain,
    UNPARSED,
};
use super::{is_source_name, tree_macros_in, Accounting, ScanOptions, ScannedFile};
use crate::analyze::facts::Giver;

/// Read a file again for classification: it must be what was parsed.
fn reread(p: &Processed, opts: &ScanOptions) -> Result<String, Skip> {
    let text = source::decode(
        Path::new(&p.rel),
        source::read(&p.path, opts.max_file_size, &p.rel)?,
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
pub(super) fn classify_file(
    cx: &Context,
    mut p: Processed,
    summaries: &Summaries,
) -> Result<Option<ScannedFile>, Skip> {
    let text = reread(&p, cx.opts)?;
    let errors = p.errors;
    let (path, rel) = (p.path.clone(), p.rel.clone());
    let accounts = std::mem::take(&mut p.accounts);
    let found = classify_text(cx, p, &text, summaries);
    let (found, accounting) = settle(found, &accounts, &text).map_err(|line| Skip {
        path: PathBuf::from(&rel),
        reason: format!(
            "internal error: the write at line {line} was analysed but is in no finding; \
             please report it (the rest of the run is complete)"
        ),
    })?;
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
    Ok(Some(ScannedFile {
        path,
        rel,
        text: if editable { text } else { String::new() },
        lines,
        parse_errors: errors,
        findings: found,
        accounting,
    }))
}

/// The findings of a processed file whose text is `text`: its writing
/// functions, and those that pass shape storage to a callee that turns out
/// to write through it, parsed again (only they) with all their facts.
fn classify_text(cx: &Context, p: Processed, text: &str, summaries: &Summaries) -> Vec<Finding> {
    let targets = targets(&p, summaries);
    if targets.is_empty() && p.unreadable.is_empty() {
        return Vec::new();
    }
    let names: HashSet<String> = targets.iter().map(|q| q.name.clone()).collect();
    let at: HashSet<usize> = targets.iter().map(|q| q.at).collect();
    // Facts kept from the first parse are what parsing again would give:
    // each function was parsed alone then too (or, with no outline, the
    // whole configuration, as again).
    if !p.functions.is_empty() {
        return classify_targets(cx, p.functions, &at, text, summaries, &p.unreadable, true);
    }
    // Or the writers' facts packed then (all of them), when every target
    // is a writer: a function that only passes shape storage on is not
    // packed, nor is such a reading of a writer in another configuration.
    let writers_alone = p.potential.iter().all(|q| !at.contains(&q.at));
    let packed = p.packed.as_deref().filter(|_| writers_alone);
    if let Some(kept) = packed.and_then(unpack) {
        return classify_targets(cx, kept, &at, text, summaries, &p.unreadable, true);
    }
    // Code that did not parse as a function has no name the outline knows:
    // parse what the first pass parsed, so the same ERROR nodes come back.
    let keep = if at.contains(&UNPARSED) {
        Keep::Hits(&names)
    } else {
        Keep::Only(&names)
    };
    let again = process(cx, p.path, text.to_string(), keep, Retain::All);
    classify_targets(
        cx,
        again.functions,
        &at,
        text,
        summaries,
        &p.unreadable,
        true,
    )
}

/// The findings of a file with those of its mentions that could not be
/// analysed, and how its mentions ended; or, when a write its first
/// reading saw is in no finding (the accounting invariant broken), the
/// line of that write.
fn settle(
    mut found: Vec<Finding>,
    accounts: &Accounts,
    text: &str,
) -> Result<(Vec<Finding>, Accounting), usize> {
    let lines = LineIndex::new(text);
    // A mention a finding already reports as not analysed (the code
    // around it cannot be read as a compiler would) needs no second one.
    let reported = SiteIndex::new(&found);
    let open: Vec<_> = accounts
        .open
        .iter()
        .filter(|o| !reported.covers(o.span.start))
        .cloned()
        .collect();
    let mut limits = limit_findings(&open, text);
    ack::acknowledge(&mut limits, text, &lines);
    for f in &mut limits {
        f.render(text, &lines);
    }
    found.extend(limits);
    found.sort_by_key(|f| f.sites.first().map_or(0, |s| s.span.start));
    let sites = SiteIndex::new(&found);
    if let Some(at) = lost_write(accounts, &sites) {
        return Err(lines.line(at));
    }
    let sites = at_sites(accounts, &sites);
    let accounting = Accounting {
        mentions: accounts.mentions,
        read: accounts.mentions - sites,
        at_sites: sites - accounts.open.len(),
        not_analysed: accounts.open.len(),
    };
    Ok((found, accounting))
}

/// The functions of a processed file to classify: its writers, and those
/// that pass shape storage to a callee that turns out to write through it.
fn targets<'p>(p: &'p Processed, summaries: &Summaries) -> Vec<&'p Potential> {
    p.writers
        .iter()
        .chain(
            p.potential
                .iter()
                .filter(|q| q.callees.iter().any(|c| writer(summaries, c))),
        )
        .collect()
}

/// Classify the functions that start at one of `at`.
fn classify_targets(
    cx: &Context,
    functions: Vec<Facts>,
    at: &HashSet<usize>,
    text: &str,
    summaries: &Summaries,
    unreadable: &[Unreadable],
    render: bool,
) -> Vec<Finding> {
    let functions: Vec<Facts> = functions
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
    findings(
        functions,
        summaries,
        cx.opts.sources(),
        text,
        &lines,
        unreadable,
        render,
    )
}

fn passes_storage_or_writes(f: &Facts, shape_macros: &HashSet<String>) -> bool {
    writes_itself(f, shape_macros) || passes_storage(f)
}

/// Functions (or findings) one task takes at least: small files stay on
/// one thread.
const GRAIN: usize = 32;

/// Classify the retained functions of one file, sorted, acknowledged, and
/// rendered for reports when `render` says so.
pub fn findings(
    functions: Vec<Facts>,
    summaries: &Summaries,
    sources: Sources,
    text: &str,
    lines: &LineIndex,
    unreadable: &[Unreadable],
    render: bool,
) -> Vec<Finding> {
    let mut file = classify::FileCx::new(text);
    file.lang = functions.first().map_or(source::Lang::C, |f| f.lang);
    // Functions are classified independently: a file of many uses every
    // core, and the findings keep the order of the functions.
    let out: Vec<Finding> = functions
        .into_par_iter()
        .with_min_len(GRAIN)
        .flat_map_iter(|mut f| {
            analyze::summary::apply(&mut f, summaries, sources);
            classify::classify(&f, summaries, &file)
        })
        .collect();
    let out = merge_readings(out);
    let mut out = analyze::unreadable::merge(out, unreadable, text);
    out.sort_by_key(|f| f.sites.first().map_or(0, |s| s.span.start));
    ack::acknowledge(&mut out, text, lines);
    // A result read to be checked is compared, never shown.
    if render {
        out.par_iter_mut()
            .with_min_len(GRAIN)
            .for_each(|f| f.render(text, lines));
    }
    out
}

/// The findings of one function read once per branch configuration, one
/// per reading, made one: every site of every reading (by span; where two
/// readings classify a site differently, the class needing more
/// attention), and the finding's class and reason from the reading that
/// needs most attention.
fn merge_readings(found: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        let same = |m: &Finding| {
            m.per_config
                && m.function == f.function
                && m.array == f.array
                && m.field == f.field
                && m.function_body.overlaps(f.function_body)
        };
        let Some(into) = out.iter_mut().find(|m| f.per_config && same(m)) else {
            out.push(f);
            continue;
        };
        for s in f.sites.iter() {
            match into.sites.iter_mut().find(|t| t.span == s.span) {
                Some(t) if s.class > t.class => *t = s.clone(),
                Some(_) => {}
                None => into.sites.push(s.clone()),
            }
        }
        into.sites.sort_by_key(|s| (s.span.start, s.span.end));
        into.parse_error |= f.parse_error;
        into.descr_set |= f.descr_set;
        if f.class > into.class {
            into.class = f.class;
            into.reason = f.reason;
            into.evidence = f.evidence;
        }
    }
    out
}

/// Scan one in-memory text as a tree of its own (its functions and macros
/// make the summaries): its report, when it has findings, and the
/// summaries; or why the accounting invariant does not hold.
pub fn scan_text(
    opts: &ScanOptions,
    path: &Path,
    text: &str,
) -> Result<(Option<ScannedFile>, Summaries), String> {
    let rel = source::relative(path, &opts.root);
    let mut summaries = Summaries::default();
    let macros = tree_macros_in(opts, &rel, text);
    summaries.macros.extend(macros.writers);
    summaries.givers.extend(macros.givers);
    summaries.mem_redefined = macros.redefined;
    let mut cx = Context::new(
        opts,
        summaries.macros.keys().cloned().collect(),
        summaries.givers.clone(),
        &summaries.mem_redefined,
    );
    let none = HashSet::new();
    let mut p = process(
        &cx,
        path.to_path_buf(),
        text.to_string(),
        Keep::Settled(&none),
        Retain::Writers,
    );
    // Accessor functions of the text make their uses sources: read again.
    let new: Vec<(String, Giver)> = p
        .summaries
        .iter()
        .filter_map(|(name, s)| Some((name.clone(), s.gives.clone()?)))
        .filter(|(name, _)| !summaries.givers.contains_key(name) && !is_source_name(opts, name))
        .collect();
    if !new.is_empty() {
        summaries.givers.extend(new);
        cx = Context::new(
            opts,
            cx.shape_macros,
            summaries.givers.clone(),
            &summaries.mem_redefined,
        );
        p = process(
            &cx,
            path.to_path_buf(),
            text.to_string(),
            Keep::Settled(&none),
            Retain::Writers,
        );
    }
    merge_summaries(&mut summaries, std::mem::take(&mut p.summaries));
    for (m, loc) in p.macros.drain(..) {
        if let Some(s) = MacroSummary::of(&m, loc, opts.sources()) {
            summaries.macros.entry(m.name.clone()).or_insert(s);
        }
    }
    let errors = p.errors;
    let (path, rel) = (p.path.clone(), p.rel.clone());
    let accounts = std::mem::take(&mut p.accounts);
    let let_go: Vec<String> = p
        .let_go
        .iter()
        .filter(|(_, allocates)| *allocates)
        .map(|(name, _)| name.clone())
        .collect();
    let found = classify_text(&cx, p, text, &summaries);
    let (found, accounting) = settle(found, &accounts, text).map_err(|line| {
        format!("accounting: the write at line {line} was analysed but is in no finding")
    })?;
    let mut report = (!found.is_empty()).then(|| ScannedFile {
        path,
        rel,
        text: text.to_string(),
        lines: LineIndex::new(text),
        parse_errors: errors,
        findings: found,
        accounting,
    });
    // The text is the tree: the callers of its functions are in it.
    if let Some(r) = report.as_mut() {
        let asked = callers::asked(std::slice::from_ref(r));
        if !asked.is_empty() {
            let new_arrays = callers::new_arrays(&summaries, let_go.iter());
            let names: Vec<&String> = asked.keys().collect();
            let known = callers::Known {
                summaries: &summaries,
                new_arrays: &new_arrays,
                asked: &crate::discover::Names::new(&names),
                units: &[],
            };
            let (seen, _) = callers::uses_in(&cx, &known, &r.path, text, &asked, false);
            callers::settle(std::slice::from_mut(r), seen);
        }
    }
    Ok((report, summaries))
}

/// Analyse one text with what a finished scan learned about the tree (to
/// check a planned result, whose changes are at `changed`): its findings
/// and its parse error count. Only the functions a change is in are read,
/// unless `every` (see [`Keep::Changed`]).
pub fn reanalyze(
    opts: &ScanOptions,
    summaries: &Summaries,
    path: &Path,
    text: &str,
    changed: &[std::ops::Range<usize>],
    reread: Reread,
) -> Reading {
    let shape_macros = summaries
        .macros
        .iter()
        .filter(|(_, m)| m.writes_shape.is_some())
        .map(|(name, _)| name.clone())
        .collect();
    let mut cx = Context::new(
        opts,
        shape_macros,
        summaries.givers.clone(),
        &summaries.mem_redefined,
    );
    cx.outlines = None;
    // One parse for a clean file: the summaries of every other file are
    // known by now.
    let mut p = process(
        &cx,
        path.to_path_buf(),
        text.to_string(),
        Keep::Changed {
            at: changed,
            summaries,
            reread,
        },
        Retain::Check,
    );
    let outline = p.outline.take();
    let errors = p.errors;
    let findings = if errors > 0 {
        // tree-sitter's error recovery is not local: a broken file is read
        // exactly as the scan read it, its targets parsed again alone.
        classify_text(&cx, p, text, summaries)
    } else {
        let at: HashSet<usize> = targets(&p, summaries).iter().map(|q| q.at).collect();
        let functions = std::mem::take(&mut p.functions);
        classify_targets(&cx, functions, &at, text, summaries, &p.unreadable, false)
    };
    Reading {
        findings,
        errors,
        outline,
    }
}

/// A planned result, or its original, read again by [`reanalyze`].
pub struct Reading {
    /// The findings of the functions read.
    pub findings: Vec<Finding>,
    /// The parse errors of the functions read.
    pub errors: usize,
    /// With [`Reread::Compared`], when the text reads alike in every
    /// configuration.
    pub outline: Option<Outline>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::reason::{Limit, Reason};
    use crate::source::hazards::Hazard;

    /// An item not analysed that covers some sites of a finding takes
    /// those; the others stay reported, and the finding is not rewritten.
    #[test]
    fn an_item_not_analysed_keeps_the_sites_it_does_not_cover() {
        let text = "PyObject *f(PyArrayObject *a, PyArray_Descr *d, npy_intp k)\n{\n    \
                    npy_intp n = PyArray_DIM(a, 0);\n    PyArray_DIMS(a)[0] = k;\n    \
                    PyObject *r = PyArray_NewFromDescr(&PyArray_Type, d, 1, PyArray_DIMS(a), \
                    NULL, NULL, 0, NULL);\n    PyArray_DIMS(a)[0] = n;\n    return r;\n}\n";
        let (file, _) = scan_text(&ScanOptions::for_text(), Path::new("/f.c"), text).unwrap();
        let found = file.expect("a finding").findings;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].class, Class::Rewrite);
        let (write, restore) = (found[0].sites[0].span, found[0].sites[1].span);
        let item = Unreadable {
            region: write.start..write.end,
            name: Some("f".to_string()),
            what: Hazard::Unterminated,
            at: write.start,
            mentions: vec![(write.start, "PyArray_DIMS".to_string())],
        };
        let merged = analyze::unreadable::merge(found, &[item], text);
        let kept: Vec<&Finding> = merged
            .iter()
            .filter(|f| f.sites.iter().any(|s| s.span == restore))
            .collect();
        assert_eq!(kept.len(), 1, "the restore is still reported");
        assert_eq!(kept[0].class, Class::Manual);
        assert!(kept[0].rewrite.is_empty());
        assert!(matches!(
            kept[0].reason,
            Reason::Limit(Limit::NotAnalysed { .. })
        ));
        assert!(merged
            .iter()
            .any(|f| f.sites.iter().any(|s| s.span.start == write.start)));
    }
}
