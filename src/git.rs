//! `--commit`: the series as git commits, through libgit2. Everything that
//! could refuse is checked before anything changes; a failure midway (a
//! hook, the disk, a lock file) puts back the refs, reflogs, index and files
//! exactly as they were.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, RepositoryState, Signature, Status};

use crate::apply::write_atomically;
use crate::error::Error;
use crate::series::{sign_off, Step};

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

/// Everything a rollback puts back, byte for byte.
struct Saved {
    /// Files under `.git` that committing touches, with their bytes
    /// (`None`: did not exist).
    git_files: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// Work-tree files as they were (path, content).
    work: Vec<(PathBuf, String, String)>,
}

/// Check everything that could refuse; nothing is changed.
fn preflight(
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

fn workdir(repo: &Repository) -> PathBuf {
    let dir = repo.workdir().unwrap_or(repo.path());
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// `path` relative to the work tree, `/`-separated, as git names it.
fn git_path(root: &Path, path: &Path) -> Result<String, Error> {
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

#[allow(clippy::too_many_arguments)]
fn run_series(
    repo: &Repository,
    steps: &[Step],
    opts: &CommitOptions,
    (author, committer): (&Identity, &Identity),
    head_oid: Oid,
    branch_ref: &str,
    saved: &mut Saved,
    interrupted: &Interrupt,
) -> Result<Vec<Oid>, Error> {
    let root = workdir(repo);
    if opts.branch.is_some() {
        let name = branch_ref.trim_start_matches("refs/heads/");
        let commit = repo
            .find_commit(head_oid)
            .map_err(git_err("cannot read HEAD"))?;
        repo.branch(name, &commit, opts.force_branch)
            .map_err(git_err(&format!("cannot create branch {name}")))?;
        repo.set_head(branch_ref)
            .map_err(git_err(&format!("cannot switch to branch {name}")))?;
    }
    let now = git2::Time::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        0,
    );
    let sig = |who: &Identity| {
        Signature::new(&who.name, &who.email, &now).map_err(git_err("bad identity"))
    };
    let (author_sig, committer_sig) = (sig(author)?, sig(committer)?);
    let mut parent = head_oid;
    let mut ids = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        crate::testhook::pause(&format!("commit-{}", n + 1));
        interrupted.check()?;
        // The commit's tree: the parent's, with this step's files. The
        // user's index (other staged paths) never goes into it.
        let parent_commit = repo
            .find_commit(parent)
            .map_err(git_err("cannot read a commit"))?;
        let parent_tree = parent_commit
            .tree()
            .map_err(git_err("cannot read a tree"))?;
        let mut update = TreeUpdateBuilder::new();
        let mut rels = Vec::new();
        for f in &step.files {
            let rel = git_path(&root, &f.path)?;
            let blob = repo
                .blob(f.after.as_bytes())
                .map_err(git_err(&format!("cannot store {rel}")))?;
            let mode = parent_tree
                .get_path(Path::new(&rel))
                .map_or(FileMode::Blob, |e| {
                    if e.filemode() == i32::from(FileMode::BlobExecutable) {
                        FileMode::BlobExecutable
                    } else {
                        FileMode::Blob
                    }
                });
            update.upsert(&rel, blob, mode);
            rels.push(rel);
        }
        let tree_oid = update
            .create_updated(repo, &parent_tree)
            .map_err(git_err("cannot build the commit tree"))?;
        let tree = repo
            .find_tree(tree_oid)
            .map_err(git_err("cannot read a tree"))?;

        let hook_index = HookIndex::new(repo, &tree)?;
        run_hook(repo, "pre-commit", &[], &hook_index.path)?;
        let mut message = step.message.clone();
        if opts.signoff {
            message = sign_off(&message, &committer.to_string());
        }
        let editmsg = repo.path().join("COMMIT_EDITMSG");
        std::fs::write(&editmsg, &message).map_err(|e| Error::Io {
            path: editmsg.clone(),
            source: e,
        })?;
        run_hook(repo, "commit-msg", &[editmsg.as_os_str()], &hook_index.path)?;
        message = std::fs::read_to_string(&editmsg).map_err(|e| Error::Io {
            path: editmsg.clone(),
            source: e,
        })?;
        drop(hook_index);
        interrupted.check()?;

        // Nothing visible has changed yet: hooks saw the commit through a
        // temporary index. Now the commit object, then the work tree, the
        // ref and the index, each written atomically, back to back.
        // SIGINT/SIGTERM only set a flag, checked before the next step.
        let oid = repo
            .commit(
                None,
                &author_sig,
                &committer_sig,
                &message,
                &tree,
                &[&parent_commit],
            )
            .map_err(git_err("cannot create a commit"))?;
        for f in &step.files {
            write_atomically(&f.path, &f.before, &f.after)?;
            match saved.work.iter_mut().find(|(p, _, _)| p == &f.path) {
                Some(w) => w.2 = f.after.clone(),
                None => saved
                    .work
                    .push((f.path.clone(), f.before.clone(), f.after.clone())),
            }
        }
        let subject = message.lines().next().unwrap_or("");
        repo.reference(branch_ref, oid, true, &format!("commit: {subject}"))
            .map_err(git_err(&format!("cannot update {branch_ref}")))?;
        // The index records the committed content for our paths only.
        let mut index = repo.index().map_err(git_err("cannot read the index"))?;
        for rel in &rels {
            index
                .add_path(Path::new(rel))
                .map_err(git_err(&format!("cannot stage {rel}")))?;
        }
        index.write().map_err(git_err("cannot write the index"))?;
        parent = oid;
        ids.push(oid);
        let _ = run_hook(repo, "post-commit", &[], &repo.path().join("index"));
    }
    Ok(ids)
}

/// SIGINT and SIGTERM during a series: noted, then the series stops at the
/// next step boundary and everything is rolled back.
struct Interrupt {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupt {
    fn install() -> Interrupt {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ids = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]
            .iter()
            .filter_map(|&sig| signal_hook::flag::register(sig, flag.clone()).ok())
            .collect();
        Interrupt { flag, ids }
    }

    fn check(&self) -> Result<(), Error> {
        if self.flag.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Refused("interrupted".to_string()));
        }
        Ok(())
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// A temporary index holding exactly the commit's tree, for hooks
/// (`GIT_INDEX_FILE`), as `git commit <paths>` does.
struct HookIndex {
    path: PathBuf,
}

impl HookIndex {
    fn new(repo: &Repository, tree: &git2::Tree) -> Result<HookIndex, Error> {
        let path = repo
            .path()
            .join(format!("dims-fix-index-{}", std::process::id()));
        let mut index =
            git2::Index::open(&path).map_err(git_err("cannot create a temporary index"))?;
        index
            .read_tree(tree)
            .map_err(git_err("cannot fill a temporary index"))?;
        index
            .write()
            .map_err(git_err("cannot write a temporary index"))?;
        Ok(HookIndex { path })
    }
}

impl Drop for HookIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Run a hook if the repository has an executable one; a non-zero exit
/// stops the series.
fn run_hook(
    repo: &Repository,
    name: &str,
    args: &[&std::ffi::OsStr],
    index: &Path,
) -> Result<(), Error> {
    let dir = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workdir(repo).join(p)
            }
        })
        .unwrap_or_else(|| repo.path().join("hooks"));
    let hook = dir.join(name);
    let executable = std::fs::metadata(&hook)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
        .unwrap_or(false);
    if !executable {
        return Ok(());
    }
    let out = Command::new(&hook)
        .args(args)
        .current_dir(workdir(repo))
        .env("GIT_INDEX_FILE", index)
        .env("GIT_DIR", repo.path())
        .output()
        .map_err(|e| Error::Refused(format!("cannot run the {name} hook: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.trim();
        return Err(Error::Refused(format!(
            "the {name} hook failed ({}){}",
            out.status,
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        )));
    }
    Ok(())
}

/// Put back refs, reflogs, index and work-tree files as they were.
fn rollback(saved: &Saved) -> Result<(), String> {
    let mut errors = Vec::new();
    for (path, bytes) in &saved.git_files {
        let put = match bytes {
            Some(b) => std::fs::write(path, b),
            None => match std::fs::remove_file(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(e) = put {
            errors.push(format!("{}: {e}", path.display()));
        }
    }
    for (path, original, current) in &saved.work {
        if let Err(e) = write_atomically(path, current, original) {
            errors.push(e.to_string());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
