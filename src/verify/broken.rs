//! The check of a planned result in a file that already has parse
//! errors. tree-sitter's recovery is not local: a comment inserted in one
//! place can change how code elsewhere reads, and a second run then says
//! nothing about the change. Such a result is checked only when it has no
//! more parse errors than the original, read again the same way, and
//! every finding the plan did not rewrite reads as before
//! ([`reads_the_same`]).
//!
//! Every function the outline finds is parsed alone, so that reach ends
//! at the function. When the original and the result each read alike in
//! every configuration, their outlines find the same functions (each
//! where the edits moved it), the edits are in the same ones, and the rest
//! of the file gives each function the same names (see [`Outline`]), only
//! the functions a change is in are read again, on both sides: any other
//! is the same text, parsed alone, with the same names around it, so its
//! findings and parse errors are the same on both sides and the two
//! comparisons come out as they would over the whole file. Otherwise, and
//! with `--parse-all`, both are read whole.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::analyze::summary::Summaries;
use crate::analyze::Finding;
use crate::edit::Edit;
use crate::plan::{Change, ChangeKind};
use crate::scan::{change_in, reanalyze, Outline, Reading, Reread, ScanOptions, ScannedFile};

use super::{ranges_after, ranges_before, Place, Refusal, Shifts};

/// Compare the result of a plan for a file with parse errors with its
/// original; the findings of the result, when they pass.
pub(super) fn compare(
    file: &ScannedFile,
    changes: &[Change],
    edits: &[&Edit],
    new_text: &str,
    (opts, summaries): (&ScanOptions, &Summaries),
    shifts: &Shifts,
) -> Result<Vec<Finding>, Refusal> {
    let (before_at, after_at) = (ranges_before(edits), ranges_after(edits));
    let read = |text: &str, at: &[Range<usize>], reread| {
        reanalyze(opts, summaries, &file.path, text, at, reread)
    };
    let by_function = || {
        let before = read(&file.text, &before_at, Reread::Compared);
        let after = read(new_text, &after_at, Reread::Compared);
        let (old, new) = (before.outline.as_ref()?, after.outline.as_ref()?);
        same_functions(old, new, (&before_at, &after_at), shifts).then_some((before, after))
    };
    let (before, after) = match opts.write_filter.then(by_function).flatten() {
        Some(read_again) => read_again,
        None => (
            read(&file.text, &before_at, Reread::Every),
            read(new_text, &after_at, Reread::Every),
        ),
    };
    // Both read the same way (the functions not read again have the same
    // parse errors on both sides).
    if after.errors > before.errors {
        return Err(Refusal::Reparse {
            before: file.parse_errors,
            after: file.parse_errors + (after.errors - before.errors),
        });
    }
    stable(file, changes, &before, after, shifts)
}

/// Whether two outlines find the same functions in each configuration,
/// each where the edits moved it, with the edits in the same ones, the
/// same names around them, and no function left unread whose parse errors
/// may be counted with another's.
fn same_functions(
    old: &Outline,
    new: &Outline,
    (before_at, after_at): (&[Range<usize>], &[Range<usize>]),
    shifts: &Shifts,
) -> bool {
    let read_again = |o: &Outline, at: &[Range<usize>]| {
        o.entangled
            .iter()
            .all(|&i| change_in(at, &o.functions[i].1))
    };
    old.names == new.names
        && old.functions.len() == new.functions.len()
        && old
            .functions
            .iter()
            .zip(&new.functions)
            .all(|((k, o, p), (j, n, q))| {
                (k, p) == (j, q)
                    && n.start == shifts.moved(o.start)
                    && n.end == shifts.moved(o.end)
                    && change_in(before_at, o) == change_in(after_at, n)
            })
        && read_again(old, before_at)
        && read_again(new, after_at)
}

/// The findings of the result, when every finding the plan did not
/// rewrite reads as before.
fn stable(
    file: &ScannedFile,
    changes: &[Change],
    before: &Reading,
    after: Reading,
    shifts: &Shifts,
) -> Result<Vec<Finding>, Refusal> {
    let moved = |pos: usize| shifts.moved(pos);
    if reads_the_same(
        &before.findings,
        &rewritten(file, changes),
        &after.findings,
        &moved,
    ) {
        Ok(after.findings)
    } else {
        Err(Refusal::Unstable {
            errors: file.parse_errors,
        })
    }
}

/// Whether every finding of `before` the plan did not rewrite reads the
/// same in `after`: same class, same sites and statements where the edits
/// moved them, parsed or unparsed as before, and no finding gone or new.
fn reads_the_same(
    before: &[Finding],
    rewritten: &[&Finding],
    after: &[Finding],
    moved: &dyn Fn(usize) -> usize,
) -> bool {
    let same_reading = |b: &Finding, a: &Finding| {
        a.class == b.class
            && a.parse_error == b.parse_error
            && a.sites.len() == b.sites.len()
            && a.sites.iter().zip(&b.sites).all(|(x, y)| {
                x.kind == y.kind
                    && x.role == y.role
                    && x.class == y.class
                    && x.span.start == moved(y.span.start)
                    && x.stmt.start == moved(y.stmt.start)
            })
    };
    // Places of the rewritten findings, before and after the edits.
    let rewritten_before: HashSet<Place> = rewritten
        .iter()
        .map(|r| Place::of(r, r.function_body.start))
        .collect();
    let rewritten_after: HashSet<Place> = rewritten
        .iter()
        .map(|r| Place::of(r, moved(r.function_body.start)))
        .collect();
    let mut unmatched: HashMap<Place, Vec<&Finding>> = HashMap::new();
    for a in after {
        let place = Place::of(a, a.function_body.start);
        if !rewritten_after.contains(&place) {
            unmatched.entry(place).or_default().push(a);
        }
    }
    for b in before {
        if rewritten_before.contains(&Place::of(b, b.function_body.start)) {
            continue;
        }
        let here = Place::of(b, moved(b.function_body.start));
        let Some(there) = unmatched.get_mut(&here) else {
            return false;
        };
        match there.iter().position(|a| same_reading(b, a)) {
            Some(i) => there.swap_remove(i),
            None => return false,
        };
    }
    unmatched.values().all(Vec::is_empty)
}

/// The findings a change rewrites (they are meant to read differently).
fn rewritten<'f>(file: &'f ScannedFile, changes: &[Change]) -> Vec<&'f Finding> {
    changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::Rewrite | ChangeKind::ExitFix))
        .flat_map(|c| c.findings.iter().map(|&i| &file.findings[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::edit::Patch;
    use crate::plan::{plan, PlanOptions};
    use crate::scan::scan_text;
    use crate::templates::Templates;

    /// A temporary change of `a`'s shape: a rewrite.
    fn rewrite(name: &str) -> String {
        format!(
            "void {name}(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp n = PyArray_DIM(a, 0);\n    \
             PyArray_DIMS(a)[0] = v;\n    Py_XDECREF(PyArray_Zeros(1, PyArray_DIMS(a), NULL, 0));\n    \
             PyArray_DIMS(a)[0] = n;\n}}\n"
        )
    }

    /// Two rewrites around a function with a parse error, a setter (a
    /// manual finding, for a TODO) and a constructor (fresh).
    fn source() -> String {
        format!(
            "#include \"numpy/arrayobject.h\"\n\n{}\nvoid g(PyArrayObject *a, npy_intp v)\n{{\n    \
             npy_intp *d = PyArray_DIMS(a);\n    d[0] = v +;\n}}\n\n{}\n\
             void s(PyArrayObject *a, npy_intp v)\n{{\n    PyArray_DIMS(a)[0] = v;\n}}\n\n\
             PyObject *n(npy_intp v)\n{{\n    npy_intp d[1] = {{v}};\n    \
             PyArrayObject *r = (PyArrayObject *)PyArray_SimpleNew(1, d, NPY_DOUBLE);\n    \
             if (r == NULL) {{\n        return NULL;\n    }}\n    PyArray_DIMS(r)[0] = 0;\n    \
             return (PyObject *)r;\n}}\n",
            rewrite("f"),
            rewrite("h")
        )
    }

    struct Planned {
        opts: ScanOptions,
        file: ScannedFile,
        summaries: Summaries,
        changes: Vec<Change>,
    }

    fn planned(text: &str) -> Planned {
        let opts = ScanOptions::for_text();
        let (file, summaries) = scan_text(&opts, Path::new("/input.c"), text).unwrap();
        let templates = Templates::load(None).unwrap();
        let file = file.unwrap();
        let todos = PlanOptions {
            todo_manual: true,
            ..PlanOptions::default()
        };
        let changes = plan(&file, &todos, &templates).unwrap();
        Planned {
            opts,
            file,
            summaries,
            changes,
        }
    }

    impl Planned {
        /// The planned edits, and `extra`.
        fn edits<'e>(&'e self, extra: &'e [Edit]) -> Vec<&'e Edit> {
            self.changes
                .iter()
                .flat_map(|c| &c.edits)
                .chain(extra)
                .collect()
        }

        fn outline(&self, text: &str, at: &[Range<usize>]) -> Outline {
            let path = Path::new("/input.c");
            reanalyze(
                &self.opts,
                &self.summaries,
                path,
                text,
                at,
                Reread::Compared,
            )
            .outline
            .unwrap()
        }

        /// Whether the outlines of the original and of the result with
        /// `extra` edits agree, and the result of compare() with and
        /// without `--parse-all`.
        #[allow(clippy::type_complexity)]
        fn check(&self, extra: &[Edit]) -> (bool, [Result<Vec<Finding>, Refusal>; 2]) {
            let edits = self.edits(extra);
            let new = Patch::new(edits.iter().map(|&e| e.clone()).collect())
                .unwrap()
                .apply(&self.file.text);
            let shifts = Shifts::new(edits.iter().copied());
            let (before_at, after_at) = (ranges_before(&edits), ranges_after(&edits));
            let same = same_functions(
                &self.outline(&self.file.text, &before_at),
                &self.outline(&new, &after_at),
                (&before_at, &after_at),
                &shifts,
            );
            let parse_all = ScanOptions {
                write_filter: false,
                ..ScanOptions::for_text()
            };
            let compared = [&self.opts, &parse_all].map(|opts| {
                compare(
                    &self.file,
                    &self.changes,
                    &edits,
                    &new,
                    (opts, &self.summaries),
                    &shifts,
                )
            });
            (same, compared)
        }
    }

    fn functions(found: &[Finding]) -> Vec<&str> {
        let mut names: Vec<&str> = found.iter().map(|f| f.function.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// Only the functions a change is in are read again, and they read as
    /// when every function is.
    #[test]
    fn a_broken_file_is_read_again_by_the_functions_a_change_is_in() {
        let p = planned(&source());
        assert_eq!(p.file.parse_errors, 1);
        assert_eq!(functions(&p.file.findings), ["f", "g", "h", "n", "s"]);
        // Two rewrites and the setter's TODO; none where the parse failed,
        // nor in the constructor.
        let kinds: Vec<_> = p.changes.iter().map(|c| c.kind).collect();
        use ChangeKind::*;
        assert_eq!(kinds, [Rewrite, Rewrite, ManualTodo]);
        let (same, [by_function, every]) = p.check(&[]);
        assert!(same);
        let (by_function, every) = (by_function.unwrap(), every.unwrap());
        assert_eq!(functions(&by_function), ["s"]);
        assert_eq!(functions(&every), ["g", "n", "s"]);
        for f in &by_function {
            let there = every.iter().find(|e| e.function == f.function).unwrap();
            assert_eq!(
                (f.class, f.acknowledged, f.sites.len()),
                (there.class, there.acknowledged, there.sites.len())
            );
            assert!(f.acknowledged, "{}", f.function);
        }
    }

    /// A parse error the plan adds is counted against the whole file's, as
    /// when every function is read again.
    #[test]
    fn an_added_parse_error_is_refused_with_the_files_counts() {
        let p = planned(&source());
        let end = p.file.text.rfind('}').unwrap();
        let (same, [by_function, every]) = p.check(&[Edit::insert(end, "    v = +;\n")]);
        assert!(same);
        let refused = Refusal::Reparse {
            before: 1,
            after: 2,
        };
        assert_eq!(by_function.unwrap_err(), refused);
        assert_eq!(every.unwrap_err(), refused);
    }

    /// A result whose functions, or whose names around them, are not the
    /// original's is read whole.
    #[test]
    fn a_result_outlined_differently_is_read_whole() {
        let p = planned(&source());
        let f_end = p.file.text.find("}\n").unwrap();
        for extra in [
            "}\nvoid k(PyArrayObject *a)\n{\n",
            "#define NDIM PyArray_NDIM\n",
            "    PyArrayObject *b = a;\n",
        ] {
            let (same, [by_function, every]) = p.check(&[Edit::insert(f_end, extra)]);
            assert!(!same, "{extra:?}");
            assert_eq!(
                by_function.map(|f| functions(&f).len()),
                every.map(|f| functions(&f).len()),
                "{extra:?}"
            );
        }
    }

    /// A function read alike in every configuration that overlaps one of
    /// another configuration is read again whenever it is in the file.
    #[test]
    fn an_entangled_function_left_unread_means_reading_whole() {
        let outline = Outline {
            functions: vec![(0, 0..10, false), (0, 10..20, false), (1, 5..15, true)],
            entangled: vec![0, 1],
            names: Vec::new(),
        };
        let shifts = Shifts::new(std::iter::empty());
        let both = [2..3, 12..13];
        assert!(same_functions(&outline, &outline, (&both, &both), &shifts));
        // One in the first, one past both: the second is left unread.
        let first = [2..3, 30..31];
        assert!(!same_functions(
            &outline,
            &outline,
            (&first, &first),
            &shifts
        ));
    }
}
