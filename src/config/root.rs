//! The paths a run scans and the root its reports and diffs are relative
//! to: the git work tree, else the current directory (so a printed diff
//! applies where it was made), else the directory holding the paths.

use std::path::{Path, PathBuf};

use super::{Origin, Setting};
use crate::cli::Cli;
use crate::error::Error;

/// The path operands (default `.`), canonical; a missing one is an error.
pub(super) fn operands(cli: &Cli) -> Result<Vec<PathBuf>, Error> {
    let operands = if cli.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        cli.paths.clone()
    };
    operands
        .iter()
        .map(|p| {
            p.canonicalize().map_err(|e| Error::BadPath {
                path: p.clone(),
                reason: match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    _ => e.to_string(),
                },
            })
        })
        .collect()
}

/// A directory, or a file's directory.
pub(super) fn dir_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// The report root: `--root`; else the git work tree holding the first
/// path; else the current directory when it holds every path, so that the
/// printed diff applies (`git apply`, `patch -p1`) where it was run; else
/// the deepest directory holding them all.
pub(super) fn root(cli: &Cli, paths: &[PathBuf]) -> Result<Setting<PathBuf>, Error> {
    let derived = |value, how| Setting {
        value,
        origin: Origin::Derived(how),
    };
    let root = match &cli.root {
        Some(r) => Setting {
            value: r.canonicalize().map_err(|e| Error::BadPath {
                path: r.clone(),
                reason: e.to_string(),
            })?,
            origin: Origin::Flag,
        },
        None => match git_root(&paths[0]) {
            Some(git) => derived(git, "the git work tree holding the first path"),
            None => match std::env::current_dir().and_then(|d| d.canonicalize()) {
                Ok(cwd) if paths.iter().all(|p| p.starts_with(&cwd)) => {
                    derived(cwd, "the current directory")
                }
                _ => derived(common_dir(paths), "the directory holding the paths"),
            },
        },
    };
    if let Some(outside) = paths.iter().find(|p| !p.starts_with(&root.value)) {
        return Err(Error::Usage(format!(
            "--root {}: does not contain {}; report and diff paths are relative to the root",
            root.value.display(),
            outside.display()
        )));
    }
    Ok(root)
}

/// The work tree of the git repository containing `path`, if any.
pub fn git_root(path: &Path) -> Option<PathBuf> {
    dir_of(path)
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The deepest directory containing every path (a file counts as its parent).
fn common_dir(paths: &[PathBuf]) -> PathBuf {
    let mut common = dir_of(&paths[0]);
    for p in &paths[1..] {
        let d = dir_of(p);
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}
