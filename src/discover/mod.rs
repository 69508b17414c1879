//! Which files to look at: a parallel walk that applies ignore files the
//! way ripgrep does (`rules`), and the byte prefilter that keeps files
//! which cannot contain a hit from being parsed (`prefilter`).

mod prefilter;
mod rules;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};

use crate::error::{Error, Skip};

pub use prefilter::{
    needles, Names, Prefilter, ARRAY_TYPE, DIMS_SOURCES, FIELDS_TYPE, FLAG_SETTERS, STRIDES_SOURCE,
};

/// File name endings of C-family sources (DESIGN §1).
const EXTENSIONS: &[&str] = &[".c", ".h", ".inc", ".c.src", ".h.src"];
/// File name endings of C++ sources (read with the C++ grammar).
const CPP_EXTENSIONS: &[&str] = &[
    ".cpp", ".cc", ".cxx", ".c++", ".C", ".hpp", ".hh", ".hxx", ".h++", ".H", ".ipp", ".tpp",
];

/// Whether a walked file is a C-family source.
pub fn is_c_family(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|name| EXTENSIONS.iter().any(|ext| name.ends_with(ext)))
}

/// Whether a file's name says C++.
pub fn is_cpp(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|name| CPP_EXTENSIONS.iter().any(|ext| name.ends_with(ext)))
}

/// A walk result: files to read (sorted, each real file once), C++ files
/// (not analysed), and entries that could not or would not be walked.
pub struct Walked {
    pub files: Vec<PathBuf>,
    pub cpp: Vec<PathBuf>,
    pub skipped: Vec<Skip>,
    pub counts: SkipCounts,
}

/// How many entries a walk passed over, by reason (the summary says so).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SkipCounts {
    /// Files whose name is neither C nor C++.
    pub extension: usize,
    /// Files and directories excluded by ignore files in a git repository.
    pub ignore_rule: usize,
    /// Hidden files and directories (`.name`, not `.git`), left out unless
    /// `--hidden`.
    pub hidden: usize,
}

/// The counters a parallel walk updates.
#[derive(Default)]
struct Counters {
    extension: AtomicUsize,
    ignore_rule: AtomicUsize,
    hidden: AtomicUsize,
}

/// Where to look and what to skip.
pub struct WalkOptions<'a> {
    pub root: &'a Path,
    pub include: &'a [String],
    pub exclude: &'a [String],
    pub threads: usize,
    /// Follow symbolic links wherever they lead (`--follow`); otherwise a
    /// link is taken only when it names a file inside the scanned paths.
    pub follow: bool,
    /// Apply no ignore file (`--no-ignore`).
    pub no_ignore: bool,
    /// Walk hidden files and directories too (`--hidden`); `.git` never.
    pub hidden: bool,
}

/// Walk `paths` (canonical) in parallel. A path operand that is a file is
/// taken whatever its name; directories yield their C-family files.
/// Symbolic links are not followed out of `paths` unless `opts.follow`;
/// FIFOs, devices and sockets are skipped with a reason, never opened.
/// Every file is returned by its real (canonical) path, once.
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
    let mut skipped = Vec::new();
    for path in paths {
        match path.symlink_metadata() {
            Ok(m) if m.is_dir() => dirs.push(path.clone()),
            Ok(m) if m.is_file() => files.push(path.clone()),
            Ok(m) if m.file_type().is_symlink() => {
                match through_link(path, paths, opts.follow, true) {
                    Ok(Some(target)) => files.push(target),
                    Ok(None) => dirs.push(path.clone()),
                    Err(skip) => skipped.push(skip),
                }
            }
            Ok(m) => skipped.push(not_regular(path, &m.file_type())),
            Err(e) => skipped.push(Skip {
                path: path.clone(),
                reason: format!("cannot read: {e}, skipped"),
            }),
        }
    }
    let found = Mutex::new(Vec::new());
    let skipped = Mutex::new(skipped);
    let counters = Arc::new(Counters::default());
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = WalkBuilder::new(first);
        for dir in rest {
            builder.add(dir);
        }
        builder
            .follow_links(opts.follow)
            .standard_filters(false)
            .overrides(overrides)
            .threads(opts.threads)
            .filter_entry(entry_filter(
                opts.no_ignore,
                opts.hidden,
                Arc::clone(&counters),
            ));
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                match entry
                    .map_err(|e| walk_error(&e))
                    .and_then(|e| visit(&e, paths, opts.follow))
                {
                    Ok(Some(path)) => found.lock().unwrap().push(path),
                    Ok(None) => {}
                    Err(skip) => skipped.lock().unwrap().push(skip),
                }
                WalkState::Continue
            })
        });
    }
    files.extend(found.into_inner().unwrap());
    let (mut cpp, mut files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_cpp(f));
    // Several names (links, `--follow`ed directories) may lead to one file:
    // it is scanned, and written, once, under its real name. Without
    // `--follow` every name is real already: the roots are canonical, the
    // walk does not enter linked directories, and a linked file comes back
    // as its target.
    if opts.follow {
        for f in files.iter_mut().chain(cpp.iter_mut()) {
            if let Ok(real) = f.canonicalize() {
                *f = real;
            }
        }
    }
    files.sort();
    files.dedup();
    cpp.sort();
    cpp.dedup();
    let mut skipped = skipped.into_inner().unwrap();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let extension = counters.extension.load(Ordering::Relaxed);
    Ok(Walked {
        files,
        cpp,
        skipped,
        counts: SkipCounts {
            extension,
            ignore_rule: counters.ignore_rule.load(Ordering::Relaxed),
            hidden: counters.hidden.load(Ordering::Relaxed),
        },
    })
}

/// What the walk leaves out before looking at an entry, counted: hidden
/// files and directories (unless `hidden`; `.git` always, uncounted), and
/// what ignore files exclude in a git repository (never a file git tracks;
/// nothing outside a repository).
fn entry_filter(
    no_ignore: bool,
    walk_hidden: bool,
    counters: Arc<Counters>,
) -> impl Fn(&ignore::DirEntry) -> bool + Send + Sync + 'static {
    let rules = rules::Rules::new();
    move |entry| {
        if entry.depth() == 0 {
            return true;
        }
        let name = entry.file_name().to_str();
        if name == Some(".git") {
            return false;
        }
        let hidden = !walk_hidden && name.is_some_and(|n| n.starts_with('.'));
        if hidden {
            counters.hidden.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if !no_ignore && rules.ignored(entry.path(), is_dir) {
            counters.ignore_rule.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if !is_dir && !is_c_family(entry.path()) && !is_cpp(entry.path()) {
            let link = entry.file_type().is_some_and(|t| t.is_symlink());
            if !link {
                counters.extension.fetch_add(1, Ordering::Relaxed);
            }
        }
        true
    }
}

/// What one walked entry gives: a file to read, nothing, or a skip.
fn visit(
    entry: &ignore::DirEntry,
    roots: &[PathBuf],
    follow: bool,
) -> Result<Option<PathBuf>, Skip> {
    let path = entry.path();
    let Some(kind) = entry.file_type() else {
        return Ok(None);
    };
    if kind.is_dir() {
        return Ok(None);
    }
    let named_c = is_c_family(path) || is_cpp(path);
    if kind.is_symlink() {
        // Only when links are not followed: the walker leaves them to us.
        return through_link(path, roots, follow, named_c);
    }
    if !named_c {
        return Ok(None);
    }
    if path.to_str().is_none() {
        return Err(Skip {
            path: path.to_path_buf(),
            reason: "name is not valid UTF-8, skipped".to_string(),
        });
    }
    if kind.is_file() {
        Ok(Some(path.to_path_buf()))
    } else {
        Err(not_regular(path, &kind))
    }
}

/// Where a symbolic link leads: `Some(file)` to read, `None` for nothing
/// to read (a directory inside the scanned paths is walked where it is; a
/// link whose name is not a C-family name is no source), or a skip: broken,
/// outside the scanned paths, or not a regular file.
fn through_link(
    link: &Path,
    roots: &[PathBuf],
    follow: bool,
    named_c: bool,
) -> Result<Option<PathBuf>, Skip> {
    let skip = |reason: String| Skip {
        path: link.to_path_buf(),
        reason,
    };
    let target = match link.canonicalize() {
        Ok(t) => t,
        Err(_) if !named_c => return Ok(None),
        Err(_) if link.metadata().is_err() => {
            return Err(skip("broken symbolic link, skipped".to_string()))
        }
        Err(e) => return Err(skip(format!("cannot read: {e}, skipped"))),
    };
    let meta = target
        .metadata()
        .map_err(|e| skip(format!("cannot read: {e}, skipped")))?;
    if !meta.is_dir() && !named_c {
        return Ok(None);
    }
    if outside(&target, roots) && !follow {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "a file"
        };
        return Err(skip(format!(
            "symbolic link to {what} outside the scanned paths ({}), not followed (--follow reads it)",
            crate::quote::path(&target.to_string_lossy())
        )));
    }
    if meta.is_dir() {
        return Ok(None);
    }
    if !meta.is_file() {
        return Err(not_regular(link, &meta.file_type()));
    }
    Ok(Some(target))
}

/// A FIFO, device or socket where a source file was expected.
pub fn not_regular(path: &Path, kind: &std::fs::FileType) -> Skip {
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Skip {
        path: path.to_path_buf(),
        reason: format!("not a regular file ({what}), skipped"),
    }
}

/// Whether `path` (canonical) lies outside every scanned path: it was
/// reached through a link that `--follow` followed, and is never written.
pub fn outside(path: &Path, roots: &[PathBuf]) -> bool {
    !roots.iter().any(|r| path.starts_with(r))
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
