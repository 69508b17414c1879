//! Before anything changes: everything that could refuse, and paths as git names them.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryState, Status};

use super::{git_err, CommitOptions, Head};
use crate::error::Error;
use crate::series::Step;

/// Check everything that could refuse; nothing is changed.
pub(super) fn preflight(
    repo: &Repository,
    steps: &[Step],
    opts: &CommitOptions,
) -> Result<(Head, Oid), Error> {
    let state = repo.state();
    if state != RepositoryState::Clean {
        let what = match state {
            RepositoryState::Merge => "a merge",
            RepositoryState::Revert | RepositoryState::RevertSequence => "a revert",
            RepositoryState::CherryPick | RepositoryState::CherryPickSequence => "a cherry-pick",
            RepositoryState::Bisect => "a bisect",
            RepositoryState::Rebase
            | RepositoryState::RebaseInteractive
            | RepositoryState::RebaseMerge => "a rebase",
            RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => "a git am",
            RepositoryState::Clean => unreachable!(),
        };
        return Err(Error::Refused(format!(
            "{what} is in progress in {}; finish or abort it first",
            workdir(repo).display()
        )));
    }
    if repo.path().join("index.lock").exists() {
        return Err(Error::Refused(format!(
            "{} exists: another git process seems to be running; if not, remove it",
            repo.path().join("index.lock").display()
        )));
    }
    let head = match repo.head() {
        Ok(h) if h.is_branch() => Head::Branch(h.name().unwrap_or_default().to_string()),
        Ok(_) => {
            if opts.branch.is_none() {
                return Err(Error::Refused(
                    "HEAD is detached; check out a branch, or pass --branch NAME to commit on a new one"
                        .to_string(),
                ));
            }
            Head::Detached
        }
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            return Err(Error::Refused(
                "the current branch has no commits yet (HEAD is unborn); commit the sources first"
                    .to_string(),
            ))
        }
        Err(e) => return Err(git_err("cannot read HEAD")(e)),
    };
    let head_commit = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(git_err("cannot read the HEAD commit"))?;
    if let Some(name) = &opts.branch {
        check_branch_name(name)?;
        let refname = format!("refs/heads/{name}");
        if let Head::Branch(current) = &head {
            if *current == refname {
                return Err(Error::Usage(format!(
                    "--branch {name}: that is the current branch"
                )));
            }
        }
        if repo.find_reference(&refname).is_ok() && !opts.force_branch {
            return Err(Error::Refused(format!(
                "branch {name} already exists; pick another name or pass --force-branch"
            )));
        }
    }
    // Only files that git tracks and that match HEAD may be changed: never
    // mix the user's work into our commits, never overwrite it.
    let root = workdir(repo);
    let mut problems = Vec::new();
    for f in steps.iter().flat_map(|s| &s.files) {
        let rel = git_path(&root, &f.path)?;
        let status = repo
            .status_file(Path::new(&rel))
            .map_err(git_err(&format!("cannot read the git status of {rel}")))?;
        let why = if status.is_empty() {
            continue;
        } else if status.contains(Status::WT_NEW) {
            "untracked"
        } else if status.contains(Status::IGNORED) {
            "ignored by git"
        } else if status.intersects(
            Status::INDEX_NEW
                | Status::INDEX_MODIFIED
                | Status::INDEX_DELETED
                | Status::INDEX_RENAMED,
        ) {
            "has staged changes"
        } else {
            "has uncommitted changes"
        };
        problems.push(format!("{rel}: {why}"));
    }
    problems.sort();
    problems.dedup();
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "refusing to commit: files dims-fix would change are not clean:\n  {}\ncommit or stash them first",
            problems.join("\n  ")
        )));
    }
    Ok((head, head_commit.id()))
}

/// `--branch NAME` must make a valid ref name.
pub fn check_branch_name(name: &str) -> Result<(), Error> {
    if git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--branch {name:?}: not a valid branch name"
        )))
    }
}

/// The submodule holding `path`, if any: its files belong to another
/// repository and are committed there.
pub fn submodule_of(repo: &Repository, path: &Path) -> Option<String> {
    let rel = git_path(&workdir(repo), path).ok()?;
    repo.submodules()
        .ok()?
        .iter()
        .find(|m| Path::new(&rel).starts_with(m.path()))
        .map(|m| m.path().display().to_string())
}

pub(super) fn workdir(repo: &Repository) -> PathBuf {
    let dir = repo.workdir().unwrap_or(repo.path());
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// `path` relative to the work tree, `/`-separated, as git names it.
pub(super) fn git_path(root: &Path, path: &Path) -> Result<String, Error> {
    let canonical = path.canonicalize().map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    canonical
        .strip_prefix(root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .map_err(|_| {
            Error::Refused(format!(
                "{}: outside the repository {}",
                path.display(),
                root.display()
            ))
        })
}
