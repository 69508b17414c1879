//! Before anything changes (and with the index lock held, so that what is
//! checked stays true): everything that could refuse, what the series will
//! start from, and paths as git names them.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryState};

use super::command::Git;
use super::index::WorkIndex;
use super::{git_err, workdir, CommitOptions, Head};
use crate::error::Error;
use crate::quote;
use crate::series::Step;

/// What the series starts from, as found under the lock; a rollback puts
/// back exactly this, and only where nobody else changed it since.
pub(super) struct Start {
    pub(super) head: Head,
    pub(super) head_oid: Oid,
    /// The ref the series moves.
    pub(super) branch_ref: String,
    /// Its value before (`None`: `--branch` makes it).
    pub(super) branch_before: Option<Oid>,
    /// Reflogs as they were (path, bytes; `None`: no such log).
    pub(super) logs: Vec<(PathBuf, Option<Vec<u8>>)>,
}

/// Check everything that could refuse; nothing is changed.
pub(super) fn preflight(
    repo: &Repository,
    git: &Git,
    index: &WorkIndex,
    steps: &[Step],
    opts: &CommitOptions,
) -> Result<Start, Error> {
    check_state(repo)?;
    let head = match repo.head() {
        Ok(h) if h.is_branch() => Head::Branch(h.name().unwrap_or_default().to_string()),
        Ok(h) => {
            if opts.branch.is_none() {
                return Err(Error::Refused(
                    "HEAD is detached; check out a branch, or pass --branch NAME to commit on a new one"
                        .to_string(),
                ));
            }
            Head::Detached(h.target().unwrap_or(Oid::ZERO_SHA1))
        }
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            return Err(Error::Refused(
                "the current branch has no commits yet (HEAD is unborn); commit the sources first"
                    .to_string(),
            ))
        }
        Err(e) => return Err(git_err("cannot read HEAD")(e)),
    };
    let head_oid = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(git_err("cannot read the HEAD commit"))?
        .id();
    let (branch_ref, branch_before) = branch(repo, &head, opts)?;
    check_lock(repo.commondir(), &format!("{branch_ref}.lock"))?;
    check_files(repo, git, index, steps, head_oid)?;
    let common = repo.commondir();
    let logs = [
        repo.path().join("logs/HEAD"),
        common.join("logs").join(&branch_ref),
    ]
    .into_iter()
    .map(|p| {
        let bytes = std::fs::read(&p).ok();
        (p, bytes)
    })
    .collect();
    Ok(Start {
        head,
        head_oid,
        branch_ref,
        branch_before,
        logs,
    })
}

/// No operation in progress, no lock on HEAD.
fn check_state(repo: &Repository) -> Result<(), Error> {
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
    check_lock(repo.path(), "HEAD.lock")
}

/// A git lock file present means a git process is at work (or died).
fn check_lock(dir: &Path, name: &str) -> Result<(), Error> {
    let lock = dir.join(name);
    if lock.symlink_metadata().is_ok() {
        return Err(Error::Refused(format!(
            "{} exists: another git process seems to be running; if not, remove it",
            lock.display()
        )));
    }
    Ok(())
}

/// The ref the series moves, and its value now.
fn branch(
    repo: &Repository,
    head: &Head,
    opts: &CommitOptions,
) -> Result<(String, Option<Oid>), Error> {
    let Some(name) = &opts.branch else {
        let Head::Branch(r) = head else {
            unreachable!("a detached HEAD without --branch is refused above")
        };
        let oid = repo
            .refname_to_id(r)
            .map_err(git_err(&format!("cannot read {r}")))?;
        return Ok((r.clone(), Some(oid)));
    };
    check_branch_name(name)?;
    let refname = format!("refs/heads/{name}");
    if matches!(head, Head::Branch(current) if *current == refname) {
        return Err(Error::Usage(format!(
            "--branch {name}: that is the current branch"
        )));
    }
    match repo.refname_to_id(&refname) {
        Ok(_) if !opts.force_branch => Err(Error::Refused(format!(
            "branch {name} already exists; pick another name or pass --force-branch"
        ))),
        Ok(oid) => Ok((refname, Some(oid))),
        Err(_) => Ok((refname, None)),
    }
}

/// Only files that git tracks as regular files, that match HEAD exactly as
/// git sees them (its filters included), and that hide nothing from git may
/// be changed: never mix the user's work into our commits, never overwrite it.
fn check_files(
    repo: &Repository,
    git: &Git,
    index: &WorkIndex,
    steps: &[Step],
    head_oid: Oid,
) -> Result<(), Error> {
    let root = git.work_tree();
    let tree = repo
        .find_commit(head_oid)
        .and_then(|c| c.tree())
        .map_err(git_err("cannot read the HEAD tree"))?;
    let mut rels = Vec::new();
    let mut problems = Vec::new();
    for f in steps.iter().flat_map(|s| &s.files) {
        let rel = git_path(root, &f.path)?;
        if rels.contains(&rel) {
            continue;
        }
        if let Some(why) = file_problem(repo, index, &tree, &rel, &f.path, &f.before) {
            problems.push(format!("{}: {why}", quote::path(&rel)));
        }
        rels.push(rel);
    }
    let refs: Vec<&str> = rels.iter().map(String::as_str).collect();
    for (xy, path) in git.status(&refs)? {
        let why = match xy.as_str() {
            "??" => "untracked",
            "!!" => "ignored by git",
            _ if xy.contains('U') || xy == "AA" || xy == "DD" => "has unmerged changes",
            _ if !xy.starts_with(' ') => "has staged changes",
            _ => "has uncommitted changes",
        };
        problems.push(format!("{}: {why}", quote::path(&path)));
    }
    problems.sort();
    problems.dedup();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "refusing to commit: files dims-fix would change are not clean:\n  {}\ncommit or stash them first",
        problems.join("\n  ")
    )))
}

/// What git's status would not show: a file changed since it was read, an
/// index entry that hides the work tree from git, a path that is not a
/// regular file in HEAD, a filter git cannot run here.
fn file_problem(
    repo: &Repository,
    index: &WorkIndex,
    tree: &git2::Tree,
    rel: &str,
    path: &Path,
    before: &str,
) -> Option<String> {
    let current = crate::source::open_regular(path).and_then(|(mut f, _)| {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut b).map(|_| b)
    });
    match current {
        Ok(bytes) if bytes == before.as_bytes() => {}
        Ok(_) => return Some("changed since it was read (run dims-fix again)".to_string()),
        Err(e) => return Some(format!("cannot read: {e}")),
    }
    if index.conflicted(rel) {
        return Some("has unmerged changes".to_string());
    }
    if let Some(entry) = index.entry(rel) {
        if entry.flags & (git2::IndexEntryFlag::VALID.bits()) != 0 {
            return Some(
                "is marked assume-unchanged, so git would not show its local changes \
                 (git update-index --no-assume-unchanged)"
                    .to_string(),
            );
        }
        if entry.flags_extended & git2::IndexEntryExtendedFlag::SKIP_WORKTREE.bits() != 0 {
            return Some(
                "is marked skip-worktree, so git would not show its local changes \
                 (git update-index --no-skip-worktree)"
                    .to_string(),
            );
        }
    }
    match tree.get_path(Path::new(rel)) {
        Ok(e)
            if e.kind() == Some(git2::ObjectType::Blob) && e.filemode() & 0o170000 == 0o100000 => {}
        Ok(_) => return Some("is not a regular file in HEAD".to_string()),
        Err(_) => {}
    }
    unrunnable_filter(repo, rel)
}

/// A `filter` attribute whose driver is not configured: git would store
/// the file unfiltered (an LFS pointer replaced by content, say).
fn unrunnable_filter(repo: &Repository, rel: &str) -> Option<String> {
    let attr = repo
        .get_attr(
            Path::new(rel),
            "filter",
            git2::AttrCheckFlags::FILE_THEN_INDEX,
        )
        .ok()
        .flatten()?;
    let name = match git2::AttrValue::from_string(Some(attr)) {
        git2::AttrValue::String(s) => s.to_string(),
        _ => return None,
    };
    let config = repo.config().ok()?;
    let has = |key: &str| config.get_string(&format!("filter.{name}.{key}")).is_ok();
    if has("clean") || has("process") {
        return None;
    }
    Some(format!(
        "has the filter attribute {name:?}, but filter.{name}.clean is not configured here; \
         git would store it unfiltered (install or configure the filter first)"
    ))
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

/// The repository holding `path` when it is not `repo`'s own: a submodule,
/// or a plain git repository nested in the work tree. Its files belong to
/// it and are committed there.
pub fn submodule_of(repo: &Repository, path: &Path) -> Option<String> {
    let root = workdir(repo);
    let rel = git_path(&root, path).ok()?;
    if let Some(m) = repo
        .submodules()
        .ok()?
        .iter()
        .find(|m| Path::new(&rel).starts_with(m.path()))
    {
        return Some(format!(
            "submodule {}",
            quote::path(&m.path().to_string_lossy())
        ));
    }
    let mut dir = Path::new(&rel).parent();
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
        if root.join(d).join(".git").exists() {
            return Some(format!(
                "the nested git repository {}",
                quote::path(&d.to_string_lossy())
            ));
        }
        dir = d.parent();
    }
    None
}

/// `path` relative to the work tree, `/`-separated, as git names it.
pub(super) fn git_path(root: &Path, path: &Path) -> Result<String, Error> {
    let canonical = path.canonicalize().map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    canonical
        .strip_prefix(root)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|_| {
            Error::Refused(format!(
                "{}: outside the repository {}",
                quote::path(&path.to_string_lossy()),
                root.display()
            ))
        })
}
