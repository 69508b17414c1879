//! Which files to look at: a parallel, `.gitignore`-aware walk, and the byte
//! prefilter that keeps files which cannot contain a hit from being parsed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aho_corasick::AhoCorasick;
use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

use crate::error::{Error, Skip};

/// File name endings of C-family sources (DESIGN §1).
const EXTENSIONS: &[&str] = &[".c", ".h", ".inc", ".c.src", ".h.src"];

/// Whether a walked file is a C-family source.
pub fn is_c_family(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| EXTENSIONS.iter().any(|ext| name.ends_with(ext)))
}

/// A walk result: files to read (sorted), and entries that could not be walked.
pub struct Walked {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<Skip>,
}

/// Where to look and what to skip.
pub struct WalkOptions<'a> {
    pub root: &'a Path,
    pub include: &'a [String],
    pub exclude: &'a [String],
    pub threads: usize,
}

/// Walk `paths` in parallel. A path operand that is a file is taken whatever
/// its name; directories yield their C-family files.
pub fn walk(paths: &[PathBuf], opts: &WalkOptions) -> Result<Walked, Error> {
    let mut overrides = OverrideBuilder::new(opts.root);
    for glob in opts.include {
        overrides
            .add(glob)
            .map_err(|e| Error::Usage(format!("--include {glob}: {e}")))?;
    }
    for glob in opts.exclude {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|e| Error::Usage(format!("--exclude {glob}: {e}")))?;
    }
    let overrides = overrides
        .build()
        .map_err(|e| Error::Usage(format!("bad --include/--exclude glob: {e}")))?;

    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for path in paths {
        if path.is_dir() {
            dirs.push(path.clone());
        } else {
            files.push(path.clone());
        }
    }
    let found = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = WalkBuilder::new(first);
        for dir in rest {
            builder.add(dir);
        }
        builder
            .follow_links(true)
            .hidden(true)
            .require_git(false)
            .overrides(overrides)
            .threads(opts.threads);
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(entry) => {
                        if entry.file_type().is_some_and(|t| t.is_file())
                            && is_c_family(entry.path())
                        {
                            found.lock().unwrap().push(entry.into_path());
                        }
                    }
                    Err(err) => skipped.lock().unwrap().push(walk_error(&err)),
                }
                WalkState::Continue
            })
        });
    }
    files.extend(found.into_inner().unwrap());
    files.sort();
    files.dedup();
    let mut skipped = skipped.into_inner().unwrap();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Walked { files, skipped })
}

/// Turn a walk error into a skip naming the path (broken links, loops,
/// unreadable directories).
fn walk_error(err: &ignore::Error) -> Skip {
    fn path_of(err: &ignore::Error) -> Option<PathBuf> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path.clone()),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child.clone()),
            _ => None,
        }
    }
    fn innermost(err: &ignore::Error) -> &ignore::Error {
        match err {
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => innermost(err),
            other => other,
        }
    }
    let path = path_of(err).unwrap_or_default();
    let reason = match innermost(err) {
        ignore::Error::Loop { ancestor, .. } => {
            format!(
                "symbolic link loop (back to {}), skipped",
                ancestor.display()
            )
        }
        _ if path.symlink_metadata().is_ok() && path.metadata().is_err() => {
            "broken symbolic link, skipped".to_string()
        }
        _ => {
            let text = err.to_string();
            let prefix = format!("{}: ", path.display());
            format!("{}, skipped", text.strip_prefix(&prefix).unwrap_or(&text))
        }
    };
    Skip { path, reason }
}

/// The byte patterns a file must contain to be worth parsing.
pub struct Prefilter {
    finder: AhoCorasick,
}

impl Prefilter {
    /// The [`needles`] for the `--dims-macro` and `--strides-macro` names
    /// and `strides`.
    pub fn new(dims: &[String], strides_macros: &[String], strides: bool) -> Prefilter {
        Prefilter {
            finder: AhoCorasick::new(needles(dims, strides_macros, strides))
                .expect("needles form a valid automaton"),
        }
    }

    /// Whether `bytes` may contain a hit.
    pub fn may_hit(&self, bytes: &[u8]) -> bool {
        self.finder.is_match(bytes)
    }
}

/// The macros that give an array's shape storage (DESIGN §2); the analysis
/// reads them from `analyze::api`, which re-exports these.
pub const DIMS_SOURCES: &[&str] = &["PyArray_DIMS", "PyArray_SHAPE"];
/// The macro that gives an array's strides storage (`--strides`).
pub const STRIDES_SOURCE: &str = "PyArray_STRIDES";
/// The type of an ndarray's fields: `->dimensions` through a cast or a
/// variable of this type reaches its shape.
pub const FIELDS_TYPE: &str = "PyArrayObject_fields";
/// The ndarray type; with NumPy's pre-1.7 API (and in Cython 0.29's
/// output) `X->dimensions` on a `PyArrayObject *` is the shape too.
pub const ARRAY_TYPE: &str = "PyArrayObject";

/// The names a file (or a function) must mention to hold a hit: the shape
/// sources, `PyArray_STRIDES` with `--strides`, the `--dims-macro` and
/// `--strides-macro` names, `PyArrayObject_fields` (a cast or a variable of
/// that type reaches `->dimensions`) and `->dimensions` itself (on a
/// `PyArrayObject *`, NumPy's pre-1.7 API and Cython 0.29's output). The
/// one list the prefilter, the outline and the macro scan share.
pub fn needles(dims: &[String], strides_macros: &[String], strides: bool) -> Vec<String> {
    let mut needles: Vec<String> = DIMS_SOURCES.iter().map(|s| s.to_string()).collect();
    needles.push(FIELDS_TYPE.to_string());
    needles.push("->dimensions".to_string());
    if strides {
        needles.push(STRIDES_SOURCE.to_string());
        needles.push("->strides".to_string());
        needles.extend(strides_macros.iter().cloned());
    }
    needles.extend(dims.iter().cloned());
    needles
}
