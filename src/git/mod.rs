//! `--commit`: the series as git commits. git's own index lock is held for
//! the whole series; everything that could refuse is checked under it
//! before anything changes; each step is written in a crash-consistent
//! order and moves the branch only from the value it expects; blobs and
//! commits are made by git itself (clean filters, signing). A failure
//! midway undoes exactly what this run changed, where nobody changed it
//! since; a kill is settled by the next run.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use crate::apply::WriteOptions;
use crate::error::Error;
use crate::quote;
use crate::series::Step;

mod command;
mod commits;
mod hooks;
mod index;
mod interrupt;
mod journal;
mod lock;
mod preflight;
mod rollback;

use command::Git;
use commits::{Progress, Series};
use index::WorkIndex;
use interrupt::Interrupt;
use lock::IndexLock;
use preflight::preflight;
pub use preflight::{check_branch_name, submodule_of};
use rollback::rollback;

/// How to commit.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// Commit on a new branch made from HEAD (and switch to it).
    pub branch: Option<String>,
    /// Reset `branch` to HEAD if it exists.
    pub force_branch: bool,
    /// `Name <email>`; otherwise the usual git identity lookup.
    pub author: Option<String>,
    pub signoff: bool,
    /// Replace hard-linked and read-only files too (`--force`).
    pub force: bool,
}

/// The work tree (the git directory of a bare repository), canonical.
fn workdir(repo: &Repository) -> PathBuf {
    let dir = repo.workdir().unwrap_or(repo.path());
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// A person as git records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

/// A name or address git would not record as given: control characters
/// (a newline would end the header line) and the `<>` that delimit it.
fn check_ident_part(value: &str, source: &str) -> Result<(), Error> {
    if value
        .chars()
        .any(|c| c.is_control() || c == '<' || c == '>')
    {
        return Err(Error::Usage(format!(
            "{source} {}: holds a control character or <>; git would not record it as given",
            quote::path(value)
        )));
    }
    Ok(())
}

/// Parse `Name <email>`.
pub fn parse_identity(s: &str) -> Result<Identity, Error> {
    let bad = || {
        Error::Usage(format!(
            "--author {}: expected \"Name <email>\"",
            quote::path(s)
        ))
    };
    let (name, rest) = s.split_once('<').ok_or_else(bad)?;
    let email = rest.strip_suffix('>').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || email.is_empty() {
        return Err(bad());
    }
    check_ident_part(name, "--author name")?;
    check_ident_part(email, "--author email")?;
    Ok(Identity {
        name: name.to_string(),
        email: email.to_string(),
    })
}

/// Who a commit is by: `--author`, then `GIT_<ROLE>_NAME`/`_EMAIL`, then
/// `user.name`/`user.email` from git config (repository, global, system),
/// then `EMAIL` for the address.
pub fn identity(
    repo: Option<&Repository>,
    flag: Option<&str>,
    role: &str,
) -> Result<Identity, Error> {
    if let Some(flag) = flag {
        return parse_identity(flag);
    }
    let config = match repo {
        Some(r) => r.config().ok(),
        None => git2::Config::open_default().ok(),
    };
    let from_config = |key: &str| {
        let value = config.as_ref().and_then(|c| c.get_string(key).ok())?;
        Some((value, key.to_string()))
    };
    let env = |key: String| {
        let value = std::env::var(&key).ok().filter(|v| !v.is_empty())?;
        Some((value, key))
    };
    let name = env(format!("GIT_{role}_NAME")).or_else(|| from_config("user.name"));
    let email = env(format!("GIT_{role}_EMAIL"))
        .or_else(|| from_config("user.email"))
        .or_else(|| env("EMAIL".to_string()));
    match (name, email) {
        (Some((name, from_name)), Some((email, from_email))) => {
            check_ident_part(&name, &from_name)?;
            check_ident_part(&email, &from_email)?;
            Ok(Identity { name, email })
        }
        _ => Err(Error::Refused(
            "no author identity: set user.name and user.email (git config --global \
             user.name \"Your Name\"; git config --global user.email you@example.com), \
             or pass --author \"Name <email>\""
                .to_string(),
        )),
    }
}

/// The repository holding `path`; bare repositories, and formats libgit2
/// cannot write (SHA-256 object names, reftable refs), are refused.
pub fn open(path: &Path) -> Result<Repository, Error> {
    if let Some((dir, what)) = unsupported_format(path) {
        return Err(Error::Refused(format!(
            "{}: the repository {what}, which dims-fix --commit does not support yet \
             (use --patch-dir, then git am)",
            dir.display()
        )));
    }
    let repo = Repository::discover(path).map_err(|e| {
        Error::Refused(format!(
            "{}: not inside a git repository ({}); --commit needs one (use --patch-dir to write patches instead)",
            path.display(),
            e.message()
        ))
    })?;
    if repo.is_bare() {
        return Err(Error::Refused(format!(
            "{}: is a bare repository; --commit needs a work tree",
            repo.path().display()
        )));
    }
    Ok(repo)
}

/// The git directory above `path` whose configuration names a format
/// extension libgit2 does not implement, and what it is.
fn unsupported_format(path: &Path) -> Option<(PathBuf, &'static str)> {
    let start = if path.is_dir() { path } else { path.parent()? };
    let dot_git = start
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|g| g.exists())?;
    let mut gitdir = dot_git.clone();
    if dot_git.is_file() {
        // A linked worktree: `.git` names its directory, whose `commondir`
        // leads to the shared configuration.
        let text = std::fs::read_to_string(&dot_git).ok()?;
        gitdir = dot_git
            .parent()?
            .join(text.strip_prefix("gitdir: ")?.trim());
        if let Ok(common) = std::fs::read_to_string(gitdir.join("commondir")) {
            gitdir = gitdir.join(common.trim());
        }
    }
    let config = git2::Config::open(&gitdir.join("config")).ok()?;
    let get = |key: &str| config.get_string(key).ok().map(|v| v.to_ascii_lowercase());
    if get("extensions.objectformat").is_some_and(|v| v != "sha1") {
        return Some((gitdir, "uses SHA-256 object names"));
    }
    if get("extensions.refstorage").is_some_and(|v| v != "files") {
        return Some((gitdir, "keeps its refs in the reftable format"));
    }
    None
}

fn git_err(what: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| Error::Refused(format!("{what}: {}", e.message()))
}

/// The branch HEAD names, when it names one.
fn head_target(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target().ok().flatten().map(str::to_string)
}

/// Where HEAD was, to come back to it.
#[derive(Debug, Clone)]
enum Head {
    Branch(String),
    Detached(Oid),
}

/// Before a `--commit` run scans anything: settle a run that was killed
/// (its last step undone or completed, its temporary files removed).
/// Returns what was done, for the user.
pub fn recover(repo: &Repository) -> Result<Vec<String>, Error> {
    let _lock = IndexLock::take(repo)?;
    journal::recover(repo)
}

/// Commit the series; returns the new commits' ids. On failure what this
/// run changed is put back where nobody changed it since, and the error
/// says so (or what is left, as [`Error::Partial`]).
pub fn commit_series(
    repo: &Repository,
    steps: &[Step],
    opts: &CommitOptions,
) -> Result<Vec<Oid>, Error> {
    let git = Git::new(repo);
    let _lock = IndexLock::take(repo)?;
    if repo.path().join("dims-fix-journal").exists() {
        return Err(Error::Refused(
            "another dims-fix run was interrupted meanwhile; run dims-fix again".to_string(),
        ));
    }
    let index = WorkIndex::open(repo)?;
    let start = preflight(repo, &git, &index, steps, opts)?;
    let author = identity(Some(repo), opts.author.as_deref(), "AUTHOR")?;
    let committer = if opts.author.is_some() && identity(Some(repo), None, "COMMITTER").is_err() {
        author.clone()
    } else {
        identity(Some(repo), None, "COMMITTER")?
    };
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Installed until the rollback is done: a second signal must not cut
    // the rollback short either.
    let interrupted = Interrupt::install();
    let series = Series {
        repo,
        git: &git,
        opts,
        author: &author,
        committer: &committer,
        start: &start,
        interrupted: &interrupted,
        write: WriteOptions { force: opts.force },
        date: format!("@{secs} +0000"),
    };
    let mut progress = Progress::new(index, start.head_oid);
    match series.run(steps, &mut progress) {
        Ok(()) => {
            journal::Journal::remove(repo.path());
            Ok(progress.ids)
        }
        Err(e) => Err(rollback(&series, &mut progress, &e)),
    }
}
