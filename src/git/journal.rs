//! The journal of the step in progress, for the run after a kill. Before a
//! step writes anything visible it records, for each file, what the file
//! holds at the step's parent and at its commit, and which contents and
//! blobs may be ours. The next run reads it under the index lock and brings
//! the index and work tree into agreement with wherever the branch is
//! (at the parent: the step is undone; at the commit: it is complete),
//! touching only content that is still exactly ours; then it removes the
//! temporary files the killed run left.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};
use serde::{Deserialize, Serialize};

use super::git_err;
use super::index::{sync_dir, WorkIndex};
use crate::apply::{self, WriteOptions};
use crate::error::Error;
use crate::owner::{self, Owner};
use crate::quote;

const NAME: &str = "dims-fix-journal";

/// Scratch files under `.git`, each named with its run's tag.
pub(super) const SCRATCH: [&str; 5] = [
    "dims-fix-index-new-",
    "dims-fix-hook-index-",
    "dims-fix-msg-",
    "dims-fix-stale-lock-",
    "dims-fix-tmp-",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Journal {
    /// The run that wrote it.
    pub(super) owner: String,
    /// The ref the series moves.
    pub(super) branch: String,
    pub(super) parent: String,
    /// Set once the commit object exists, before index and ref change.
    pub(super) commit: Option<String>,
    pub(super) files: Vec<JournalFile>,
    /// Temporary files the step may leave in the work tree.
    pub(super) temps: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct JournalFile {
    pub(super) path: PathBuf,
    pub(super) rel: String,
    pub(super) at_parent: String,
    pub(super) at_commit: String,
    /// Blob ids of the raw contents this run may have written to the file.
    pub(super) ours: Vec<String>,
    /// Blob ids this run may have staged for it.
    pub(super) staged: Vec<String>,
}

/// The id of raw bytes as a blob: to recognise our own content.
pub(super) fn content_id(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

impl Journal {
    pub(super) fn new(branch: &str, parent: Oid) -> Journal {
        Journal {
            owner: Owner::me().tag(),
            branch: branch.to_string(),
            parent: parent.to_string(),
            commit: None,
            files: Vec::new(),
            temps: Vec::new(),
        }
    }

    /// Write it durably and atomically.
    pub(super) fn save(&self, gitdir: &Path) -> Result<(), Error> {
        let path = gitdir.join(NAME);
        let tmp = gitdir.join(owner::temp_name("dims-fix-tmp-"));
        let io = |e| Error::Io {
            path: path.clone(),
            source: e,
        };
        let bytes = serde_json::to_vec(self).map_err(|e| io(std::io::Error::other(e)))?;
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            std::io::Write::write_all(&mut f, &bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io(e)
        })?;
        sync_dir(&path);
        Ok(())
    }

    pub(super) fn remove(gitdir: &Path) {
        let _ = fs::remove_file(gitdir.join(NAME));
    }
}

/// After a killed run: settle its last step, then remove its leftovers.
/// The caller holds the index lock. Returns notes for the user.
pub(super) fn recover(repo: &Repository) -> Result<Vec<String>, Error> {
    let gitdir = repo.path();
    let mut notes = Vec::new();
    match fs::read(gitdir.join(NAME)) {
        Ok(bytes) => {
            match serde_json::from_slice::<Journal>(&bytes) {
                Ok(journal) => notes.extend(settle(repo, &journal)?),
                Err(_) => notes.push(format!(
                    "removed {}, which could not be read",
                    gitdir.join(NAME).display()
                )),
            }
            Journal::remove(gitdir);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::Io {
                path: gitdir.join(NAME),
                source: e,
            })
        }
    }
    for prefix in SCRATCH {
        owner::remove_stale(gitdir, prefix);
    }
    Ok(notes)
}

/// Bring index and work tree to the branch's state for the journal's files.
fn settle(repo: &Repository, j: &Journal) -> Result<Vec<String>, Error> {
    let killed = Owner::parse(&j.owner).map_or(0, |o| o.pid);
    for t in &j.temps {
        let is_file = fs::symlink_metadata(t).is_ok_and(|m| m.is_file());
        if is_file {
            let _ = fs::remove_file(t);
        }
    }
    let head = repo.refname_to_id(&j.branch).ok().map(|o| o.to_string());
    let at_commit = match &head {
        Some(h) if *h == j.parent => false,
        Some(h) if j.commit.as_ref() == Some(h) => true,
        _ => {
            let names: Vec<String> = j
                .files
                .iter()
                .map(|f| quote::path(&f.rel).into_owned())
                .collect();
            return Ok(vec![format!(
                "an interrupted run (process {killed}) was found, but {} has moved since; \
                 its edits of {} are left as they are",
                j.branch,
                names.join(", ")
            )]);
        }
    };
    let tip = Oid::from_str(head.as_deref().unwrap_or_default())
        .map_err(git_err("cannot read the branch"))?;
    let tree = repo
        .find_commit(tip)
        .and_then(|c| c.tree())
        .map_err(git_err("cannot read the branch's tree"))?;
    // The index first, then the work tree: the order a step writes them in.
    let mut index = WorkIndex::open(repo)?;
    let mut restaged = false;
    for f in &j.files {
        let Some(mut entry) = index.entry(&f.rel) else {
            continue;
        };
        let want = tree.get_path(Path::new(&f.rel)).ok();
        if want.as_ref().is_some_and(|w| w.id() == entry.id)
            || !f.staged.contains(&entry.id.to_string())
        {
            continue;
        }
        match want {
            Some(w) => {
                // Stat data cleared: git compares the content next time.
                entry.id = w.id();
                entry.mode = w.filemode() as u32;
                entry.file_size = 0;
                entry.mtime = git2::IndexTime::new(0, 0);
                index.put_back(&f.rel, Some(entry))?;
            }
            None => index.put_back(&f.rel, None)?,
        }
        restaged = true;
    }
    if restaged {
        index.install()?;
    }
    let mut notes = Vec::new();
    for f in &j.files {
        let want = if at_commit {
            &f.at_commit
        } else {
            &f.at_parent
        };
        let Ok((mut file, _)) = crate::source::open_regular(&f.path) else {
            continue;
        };
        let mut bytes = Vec::new();
        if std::io::Read::read_to_end(&mut file, &mut bytes).is_err() || bytes == want.as_bytes() {
            continue;
        }
        let name = quote::path(&f.rel);
        match std::str::from_utf8(&bytes) {
            Ok(current) if f.ours.contains(&content_id(&bytes)) => {
                apply::write_atomically(&f.path, current, want, WriteOptions { force: true })?;
                notes.push(format!(
                    "finished after an interrupted run (process {killed}): {name} put back as {} has it",
                    j.branch
                ));
            }
            _ => notes.push(format!(
                "after an interrupted run (process {killed}): {name} holds changes that are not \
                 dims-fix's; left as it is"
            )),
        }
    }
    Ok(notes)
}
