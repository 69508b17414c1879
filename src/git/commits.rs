//! The series loop. Each step writes in an order that any kill leaves
//! consistent: journal, work tree (so hooks see the new content), hooks,
//! commit object, index, then the branch, moved only from the value we
//! expect. Before each step, HEAD, the branch and the index are checked to
//! be what we left; a pause point (for tests) sits at each boundary.

use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, IndexEntry, Oid, Repository};

use super::command::Git;
use super::hooks::{run_hook, HookIndex};
use super::index::WorkIndex;
use super::interrupt::Interrupt;
use super::journal::{content_id, Journal, JournalFile};
use super::preflight::{git_path, Start};
use super::{git_err, head_target, CommitOptions, Identity};
use crate::apply::{self, WriteOptions};
use crate::error::Error;
use crate::quote;
use crate::series::{sign_off, Step};

/// A file of a step as the index will record it: path as git names it,
/// blob, mode.
type Staged = (String, Oid, u32);

/// What a series runs with.
pub(super) struct Series<'a> {
    pub(super) repo: &'a Repository,
    pub(super) git: &'a Git,
    pub(super) opts: &'a CommitOptions,
    pub(super) author: &'a Identity,
    pub(super) committer: &'a Identity,
    pub(super) start: &'a Start,
    pub(super) interrupted: &'a Interrupt,
    pub(super) write: WriteOptions,
    /// `git commit-tree` date format, one time for the whole series.
    pub(super) date: String,
}

/// A file written by this run, and what it held.
pub(super) struct Touched {
    pub(super) path: PathBuf,
    pub(super) rel: String,
    pub(super) original: String,
    /// Its content at the branch tip (`original` until a step commits it).
    pub(super) committed: String,
    /// What it holds now, when a step in progress wrote it.
    pub(super) pending: Option<String>,
    /// Its index entry before the step in progress staged it.
    pub(super) entry_before: Option<IndexEntry>,
    pub(super) staged: Vec<Oid>,
}

/// What this run has changed so far: a rollback undoes exactly this.
pub(super) struct Progress {
    pub(super) index: WorkIndex,
    /// The branch tip: our last commit, or where the branch started.
    pub(super) tip: Oid,
    pub(super) ids: Vec<Oid>,
    pub(super) files: Vec<Touched>,
    /// The step in progress has staged its files.
    pub(super) staged: bool,
    /// `--branch` made or reset the branch and switched HEAD to it.
    pub(super) switched: bool,
    /// COMMIT_EDITMSG as found, and as we last wrote it.
    pub(super) editmsg: Option<(Option<Vec<u8>>, Vec<u8>)>,
}

impl Progress {
    pub(super) fn new(index: WorkIndex, tip: Oid) -> Progress {
        Progress {
            index,
            tip,
            ids: Vec::new(),
            files: Vec::new(),
            staged: false,
            switched: false,
            editmsg: None,
        }
    }
}

impl Series<'_> {
    pub(super) fn run(&self, steps: &[Step], progress: &mut Progress) -> Result<(), Error> {
        if self.opts.branch.is_some() {
            self.switch_branch(progress)?;
        }
        for (n, step) in steps.iter().enumerate() {
            self.boundary(&format!("commit-{}", n + 1), progress)?;
            self.step(n + 1, step, progress)?;
            let _ = run_hook(
                self.repo,
                "post-commit",
                &[],
                &self.repo.path().join("index"),
            );
        }
        Ok(())
    }

    /// A step boundary: a pause point for tests, the interrupt check, and
    /// the compare half of compare-and-swap: HEAD, branch and index are
    /// what we left.
    fn boundary(&self, point: &str, progress: &Progress) -> Result<(), Error> {
        crate::testhook::pause(point);
        self.interrupted.check()?;
        let branch = &self.start.branch_ref;
        if head_target(self.repo).as_deref() != Some(branch.as_str()) {
            return Err(Error::Refused(
                "HEAD was switched to another branch during the run (by another process); stopped"
                    .to_string(),
            ));
        }
        let now = self.repo.refname_to_id(branch).ok();
        if now != Some(progress.tip) {
            return Err(Error::Refused(format!(
                "{branch} was moved during the run (by another process, now at {}); stopped",
                now.map_or("nothing".to_string(), short)
            )));
        }
        if !progress.index.unchanged() {
            return Err(Error::Refused(
                "the index was changed during the run by a process that ignored git's lock; stopped"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// `--branch`: make (or reset) the branch at HEAD, only if it is still
    /// as preflight saw it, and switch HEAD to it.
    fn switch_branch(&self, progress: &mut Progress) -> Result<(), Error> {
        let branch = &self.start.branch_ref;
        let name = branch.trim_start_matches("refs/heads/");
        let msg = format!("branch: Created from {}", short(self.start.head_oid));
        let made = match self.start.branch_before {
            Some(old) => self
                .repo
                .reference_matching(branch, self.start.head_oid, true, old, &msg),
            None => self
                .repo
                .reference(branch, self.start.head_oid, false, &msg),
        };
        made.map_err(git_err(&format!("cannot create branch {name}")))?;
        progress.switched = true;
        self.repo
            .set_head(branch)
            .map_err(git_err(&format!("cannot switch to branch {name}")))
    }

    fn step(&self, n: usize, step: &Step, progress: &mut Progress) -> Result<(), Error> {
        let parent = progress.tip;
        let (tree, staged) = self.tree(step, parent)?;
        let temps: Vec<PathBuf> = step
            .files
            .iter()
            .map(|f| apply::temp_path(&f.path))
            .collect();
        let mut journal = Journal::new(&self.start.branch_ref, parent);
        journal.temps = temps.clone();
        journal.files = step
            .files
            .iter()
            .zip(&staged)
            .map(|(f, (rel, blob, _))| JournalFile {
                path: f.path.clone(),
                rel: rel.clone(),
                at_parent: f.before.clone(),
                at_commit: f.after.clone(),
                ours: vec![content_id(f.after.as_bytes())],
                staged: vec![blob.to_string()],
            })
            .collect();
        journal.save(self.repo.path())?;

        // The work tree: hooks see the new content, as with `git commit`.
        for ((f, temp), (rel, _, _)) in step.files.iter().zip(&temps).zip(&staged) {
            let entry = progress.index.entry(rel);
            apply::replace(&f.path, &f.before, &f.after, self.write, temp)?;
            progress.wrote(&f.path, rel, &f.before, &f.after, entry);
        }
        self.boundary(&format!("step-{n}-worktree"), progress)?;

        let message = self.hooks_and_message(step, &tree, progress)?;
        let env = self.identity_env();
        // `git commit-tree` (plumbing) does not read commit.gpgSign itself.
        let sign = self
            .repo
            .config()
            .and_then(|c| c.get_bool("commit.gpgsign"))
            .unwrap_or(false);
        let oid = self
            .git
            .commit_tree(tree.id(), parent, &message, sign, &env)?;
        journal.commit = Some(oid.to_string());
        journal.save(self.repo.path())?;
        self.boundary(&format!("step-{n}-commit"), progress)?;

        // Index before branch: a kill in between leaves our edit staged,
        // never the branch ahead of an index holding the old blob.
        for (f, (rel, blob, mode)) in step.files.iter().zip(&staged) {
            progress.index.stage(rel, *blob, *mode, &f.path)?;
            progress.staged_blob(rel, *blob);
        }
        progress.index.install()?;
        progress.staged = true;
        self.boundary(&format!("step-{n}-index"), progress)?;

        let subject = message.lines().next().unwrap_or("");
        self.repo
            .reference_matching(
                &self.start.branch_ref,
                oid,
                true,
                parent,
                &format!("commit: {subject}"),
            )
            .map_err(|e| {
                Error::Refused(format!(
                    "cannot move {} from {} to the new commit: {} (another process moved it?)",
                    self.start.branch_ref,
                    short(parent),
                    e.message()
                ))
            })?;
        progress.committed(oid);
        self.boundary(&format!("step-{n}-ref"), progress)
    }

    /// The step's tree: the parent's, with this step's files stored as
    /// blobs through git's clean conversion (the user's index never goes
    /// into it); and each file's (path as git names it, blob, mode).
    fn tree(&self, step: &Step, parent: Oid) -> Result<(git2::Tree<'_>, Vec<Staged>), Error> {
        let parent_tree = self
            .repo
            .find_commit(parent)
            .and_then(|c| c.tree())
            .map_err(git_err("cannot read the parent commit's tree"))?;
        let mut update = TreeUpdateBuilder::new();
        let mut staged = Vec::new();
        for f in &step.files {
            let rel = git_path(self.git.work_tree(), &f.path)?;
            let blob = self.git.store_blob(&rel, f.after.as_bytes())?;
            let executable = parent_tree
                .get_path(Path::new(&rel))
                .is_ok_and(|e| e.filemode() == i32::from(FileMode::BlobExecutable));
            let mode = if executable {
                FileMode::BlobExecutable
            } else {
                FileMode::Blob
            };
            update.upsert(&rel, blob, mode);
            staged.push((rel, blob, u32::from(mode)));
        }
        let tree = update
            .create_updated(self.repo, &parent_tree)
            .and_then(|oid| self.repo.find_tree(oid))
            .map_err(git_err("cannot build the commit tree"))?;
        Ok((tree, staged))
    }

    /// Run pre-commit and commit-msg with a temporary index holding
    /// exactly the commit; the message as the hooks leave it.
    fn hooks_and_message(
        &self,
        step: &Step,
        tree: &git2::Tree,
        progress: &mut Progress,
    ) -> Result<String, Error> {
        let hook_index = HookIndex::new(self.repo, tree)?;
        run_hook(self.repo, "pre-commit", &[], &hook_index.path)?;
        let mut message = step.message.clone();
        if self.opts.signoff {
            message = sign_off(&message, &self.committer.to_string());
        }
        let editmsg = self.repo.path().join("COMMIT_EDITMSG");
        let found = match &progress.editmsg {
            Some((found, _)) => found.clone(),
            None => std::fs::read(&editmsg).ok(),
        };
        write_git_file(self.repo, &editmsg, message.as_bytes())?;
        progress.editmsg = Some((found, message.into_bytes()));
        run_hook(
            self.repo,
            "commit-msg",
            &[editmsg.as_os_str()],
            &hook_index.path,
        )?;
        let edited = std::fs::read(&editmsg).map_err(|e| Error::Io {
            path: editmsg.clone(),
            source: e,
        })?;
        if let Some((_, ours)) = &mut progress.editmsg {
            ours.clone_from(&edited);
        }
        Ok(String::from_utf8_lossy(&edited).into_owned())
    }

    /// Author and committer for `git commit-tree`.
    fn identity_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GIT_AUTHOR_NAME", self.author.name.clone()),
            ("GIT_AUTHOR_EMAIL", self.author.email.clone()),
            ("GIT_AUTHOR_DATE", self.date.clone()),
            ("GIT_COMMITTER_NAME", self.committer.name.clone()),
            ("GIT_COMMITTER_EMAIL", self.committer.email.clone()),
            ("GIT_COMMITTER_DATE", self.date.clone()),
        ]
    }
}

impl Progress {
    /// A step wrote `path`.
    fn wrote(
        &mut self,
        path: &Path,
        rel: &str,
        before: &str,
        after: &str,
        entry: Option<IndexEntry>,
    ) {
        match self.files.iter_mut().find(|t| t.path == path) {
            Some(t) => {
                t.pending = Some(after.to_string());
                t.entry_before = entry;
            }
            None => self.files.push(Touched {
                path: path.to_path_buf(),
                rel: rel.to_string(),
                original: before.to_string(),
                committed: before.to_string(),
                pending: Some(after.to_string()),
                entry_before: entry,
                staged: Vec::new(),
            }),
        }
    }

    fn staged_blob(&mut self, rel: &str, blob: Oid) {
        if let Some(t) = self.files.iter_mut().find(|t| t.rel == rel) {
            t.staged.push(blob);
        }
    }

    /// The branch now points at `commit`: the step's files are committed.
    fn committed(&mut self, commit: Oid) {
        self.tip = commit;
        self.ids.push(commit);
        self.staged = false;
        for t in &mut self.files {
            if let Some(p) = t.pending.take() {
                t.committed = p;
            }
        }
    }
}

/// Write a file under `.git` atomically (temporary file, then rename).
pub(super) fn write_git_file(repo: &Repository, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = repo.path().join(crate::owner::temp_name("dims-fix-msg-"));
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
}

pub(super) fn short(oid: Oid) -> String {
    oid.to_string()[..10].to_string()
}

/// Names for messages.
pub(super) fn names(files: &[Touched]) -> String {
    files
        .iter()
        .map(|t| quote::path(&t.rel).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}
