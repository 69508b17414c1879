//! `--commit`: the series as git commits, through libgit2. Everything that
//! could refuse is checked before anything changes; a failure midway (a
//! hook, the disk, a lock file) puts back the refs, reflogs, index and files
//! exactly as they were.

use std::path::Path;

use git2::{Oid, Repository};

use crate::error::Error;
use crate::series::Step;

mod commits;
mod hooks;
mod preflight;
mod rollback;

use commits::run_series;
use preflight::preflight;
pub use preflight::{check_branch_name, submodule_of};
use rollback::{rollback, Interrupt, Saved};

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

/// Parse `Name <email>`.
pub fn parse_identity(s: &str) -> Result<Identity, Error> {
    let bad = || Error::Usage(format!("--author {s:?}: expected \"Name <email>\""));
    let (name, rest) = s.split_once('<').ok_or_else(bad)?;
    let email = rest.strip_suffix('>').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || email.is_empty() || email.contains(['<', '>']) {
        return Err(bad());
    }
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
    let from_config = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
    let env = |key: String| std::env::var(key).ok().filter(|v| !v.is_empty());
    let name = env(format!("GIT_{role}_NAME")).or_else(|| from_config("user.name"));
    let email = env(format!("GIT_{role}_EMAIL"))
        .or_else(|| from_config("user.email"))
        .or_else(|| env("EMAIL".to_string()));
    match (name, email) {
        (Some(name), Some(email)) => Ok(Identity { name, email }),
        _ => Err(Error::Refused(
            "no author identity: set user.name and user.email (git config --global \
             user.name \"Your Name\"; git config --global user.email you@example.com), \
             or pass --author \"Name <email>\""
                .to_string(),
        )),
    }
}

/// The repository holding `path`; bare repositories are refused.
pub fn open(path: &Path) -> Result<Repository, Error> {
    let repo = Repository::discover(path).map_err(|_| {
        Error::Refused(format!(
            "{}: not inside a git repository; --commit needs one (use --patch-dir to write patches instead)",
            path.display()
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

fn git_err(what: &str) -> impl Fn(git2::Error) -> Error + '_ {
    move |e| Error::Refused(format!("{what}: {}", e.message()))
}

/// Where HEAD was, to come back to it.
#[derive(Debug, Clone)]
enum Head {
    Branch(String),
    Detached,
}

/// Commit the series; returns the new commits' ids. On failure everything
/// is put back and the error says what failed.
pub fn commit_series(
    repo: &Repository,
    steps: &[Step],
    opts: &CommitOptions,
) -> Result<Vec<Oid>, Error> {
    let (head, head_oid) = preflight(repo, steps, opts)?;
    let author = identity(Some(repo), opts.author.as_deref(), "AUTHOR")?;
    let committer = if opts.author.is_some() && identity(Some(repo), None, "COMMITTER").is_err() {
        author.clone()
    } else {
        identity(Some(repo), None, "COMMITTER")?
    };
    let branch_ref = match (&opts.branch, &head) {
        (Some(name), _) => format!("refs/heads/{name}"),
        (None, Head::Branch(r)) => r.clone(),
        (None, Head::Detached) => unreachable!("refused in preflight"),
    };
    // Everything a commit touches under .git, saved byte for byte. Refs
    // and their logs live in the common directory (shared by worktrees).
    let gitdir = repo.path().to_path_buf();
    let common = repo.commondir().to_path_buf();
    let mut git_files = vec![
        gitdir.join("index"),
        gitdir.join("HEAD"),
        gitdir.join("COMMIT_EDITMSG"),
        gitdir.join("logs/HEAD"),
        common.join("packed-refs"),
        common.join(&branch_ref),
        common.join("logs").join(&branch_ref),
    ];
    if let Head::Branch(r) = &head {
        git_files.push(common.join(r));
        git_files.push(common.join("logs").join(r));
    }
    let saved = Saved {
        git_files: git_files
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).ok();
                (p, bytes)
            })
            .collect(),
        work: Vec::new(),
    };
    let mut saved = saved;
    // Installed until the rollback is done: a second Ctrl-C must not cut
    // the rollback short either.
    let interrupted = Interrupt::install();
    let result = run_series(
        repo,
        steps,
        opts,
        (&author, &committer),
        head_oid,
        &branch_ref,
        &mut saved,
        &interrupted,
    );
    match result {
        Ok(ids) => Ok(ids),
        Err(e) => {
            let restored = rollback(&saved);
            Err(match restored {
                Ok(()) => Error::Refused(format!("{e}; the repository was left as it was")),
                Err(r) => Error::Refused(format!("{e}; restoring the repository also failed: {r}")),
            })
        }
    }
}
