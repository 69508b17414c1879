//! Undoing a failed or interrupted series, compare-and-swap style: each
//! thing this run changed is put back only if it is still exactly as this
//! run left it; what someone else changed since is left alone, and the
//! message says what stays and how to finish.

use std::fs;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::commits::{names, short, write_git_file, Progress, Series};
use super::index::copy_entry;
use super::journal::{content_id, Journal, JournalFile};
use super::Head;
use crate::apply::{write_atomically, WriteOptions};
use crate::error::Error;

/// Undo what `progress` records; the error to report.
pub(super) fn rollback(series: &Series, progress: &mut Progress, error: &Error) -> Error {
    let changed = !progress.files.is_empty() || !progress.ids.is_empty() || progress.switched;
    if !changed {
        return Error::Refused(format!("{error}; the repository was left as it was"));
    }
    // A kill during the rollback is settled by the next run like a step's.
    let _ = rollback_journal(series, progress).save(series.repo.path());
    let mut left = Vec::new();
    undo_pending(progress, &mut left);
    if !progress.ids.is_empty() || progress.switched {
        if let Err(why) = undo_refs(series, progress) {
            Journal::remove(series.repo.path());
            let ids: Vec<String> = progress.ids.iter().map(|o| short(*o)).collect();
            left.push(format!(
                "{why}; the {} commit{} dims-fix made ({}) stay on it, with the index and work tree \
                 matching them; run dims-fix again to finish",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                ids.join(", ")
            ));
            return Error::Partial(format!("{error}; {}", left.join("; ")));
        }
    }
    undo_committed(series, progress, &mut left);
    Journal::remove(series.repo.path());
    if left.is_empty() {
        Error::Refused(format!("{error}; the repository was left as it was"))
    } else {
        Error::Partial(format!("{error}; {}", left.join("; ")))
    }
}

/// The journal of the rollback: at the parent, every file as it was.
fn rollback_journal(series: &Series, progress: &Progress) -> Journal {
    let start = series.start.branch_before.unwrap_or(series.start.head_oid);
    let mut j = Journal::new(&series.start.branch_ref, start);
    j.commit = (!progress.ids.is_empty()).then(|| progress.tip.to_string());
    j.files = progress
        .files
        .iter()
        .map(|t| JournalFile {
            path: t.path.clone(),
            rel: t.rel.clone(),
            at_parent: t.original.clone(),
            at_commit: t.committed.clone(),
            ours: [Some(&t.committed), t.pending.as_ref()]
                .into_iter()
                .flatten()
                .map(|c| content_id(c.as_bytes()))
                .collect(),
            staged: t.staged.iter().map(Oid::to_string).collect(),
        })
        .collect();
    j
}

/// The step in progress, not on the branch: its index entries, then its
/// files, back to the branch tip's.
fn undo_pending(progress: &mut Progress, left: &mut Vec<String>) {
    let pending: Vec<usize> = (0..progress.files.len())
        .filter(|&i| progress.files[i].pending.is_some())
        .collect();
    if pending.is_empty() {
        return;
    }
    if progress.staged {
        let restored = progress.index.unchanged()
            && pending.iter().all(|&i| {
                let t = &progress.files[i];
                let (rel, entry) = (t.rel.clone(), t.entry_before.as_ref().map(copy_entry));
                progress.index.put_back(&rel, entry).is_ok()
            })
            && progress.index.install().is_ok();
        if !restored {
            let files: Vec<_> = pending.iter().map(|&i| &progress.files[i]).collect();
            left.push(format!(
                "the index (changed by another process) still stages dims-fix's edit of {}",
                files
                    .iter()
                    .map(|t| crate::quote::path(&t.rel).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return;
        }
        progress.staged = false;
    }
    for &i in &pending {
        let t = &mut progress.files[i];
        let now = t.pending.take().unwrap_or_default();
        if let Err(e) = write_atomically(&t.path, &now, &t.committed, WriteOptions { force: true })
        {
            left.push(format!(
                "{} keeps dims-fix's edit ({e})",
                crate::quote::path(&t.rel)
            ));
        }
    }
}

/// Move the branch (and HEAD, with `--branch`) back, only from the value
/// this run gave it.
fn undo_refs(series: &Series, progress: &Progress) -> Result<(), String> {
    let repo = series.repo;
    let start = series.start;
    let branch = &start.branch_ref;
    let moved = |now: Option<Oid>| {
        format!(
            "{branch} was moved by another process (now at {})",
            now.map_or("nothing".to_string(), short)
        )
    };
    let now = repo.refname_to_id(branch).ok();
    if now != Some(progress.tip) {
        return Err(moved(now));
    }
    if progress.switched {
        if super::head_target(repo).as_deref() != Some(branch.as_str()) {
            return Err("HEAD was switched by another process".to_string());
        }
        let back = match &start.head {
            Head::Branch(r) => repo.set_head(r),
            Head::Detached(oid) => repo.set_head_detached(*oid),
        };
        back.map_err(|e| format!("cannot switch HEAD back: {}", e.message()))?;
    }
    let msg = "dims-fix: undo an unfinished series";
    let done = match start.branch_before {
        Some(before) => repo
            .reference_matching(branch, before, true, progress.tip, msg)
            .map(|_| ()),
        // Made by this run: deleted only while it still has our value.
        None => repo.find_reference(branch).and_then(|mut r| {
            if r.target() == Some(progress.tip) {
                r.delete()
            } else {
                Err(git2::Error::from_str("moved"))
            }
        }),
    };
    done.map_err(|_| moved(repo.refname_to_id(branch).ok()))
}

/// With the branch back (or never moved): the index byte for byte, the
/// committed files, the reflogs, COMMIT_EDITMSG.
fn undo_committed(series: &Series, progress: &mut Progress, left: &mut Vec<String>) {
    if progress.index.unchanged() {
        if let Err(e) = progress.index.restore_original() {
            left.push(format!("the index could not be put back ({e})"));
        }
    } else if !progress.ids.is_empty() {
        left.push(format!(
            "the index (changed by another process) still stages dims-fix's edits of {}",
            names(&progress.files)
        ));
    }
    for t in &progress.files {
        if t.committed == t.original || t.pending.is_some() {
            continue;
        }
        if let Err(e) = write_atomically(
            &t.path,
            &t.committed,
            &t.original,
            WriteOptions { force: true },
        ) {
            left.push(format!(
                "{} keeps dims-fix's edit ({e})",
                crate::quote::path(&t.rel)
            ));
        }
    }
    let mut ours: Vec<Oid> = progress.ids.clone();
    ours.push(series.start.head_oid);
    ours.extend(series.start.branch_before);
    for (log, saved) in &series.start.logs {
        let lock = lock_for(series, log);
        if !put_back_log(log, saved.as_deref(), &ours, &lock) {
            left.push(format!(
                "{} keeps the entries of the undone commits",
                log.display()
            ));
        }
    }
    if let Some((found, ours)) = &progress.editmsg {
        let editmsg = series.repo.path().join("COMMIT_EDITMSG");
        if fs::read(&editmsg).ok().as_ref() == Some(ours) {
            let _ = match found {
                Some(bytes) => write_git_file(series.repo, &editmsg, bytes),
                None => fs::remove_file(&editmsg).map_err(|e| Error::Io {
                    path: editmsg.clone(),
                    source: e,
                }),
            };
        }
    }
}

/// git guards a reflog with its ref's lock.
fn lock_for(series: &Series, log: &Path) -> PathBuf {
    if log == series.repo.path().join("logs/HEAD") {
        series.repo.path().join("HEAD.lock")
    } else {
        series
            .repo
            .commondir()
            .join(format!("{}.lock", series.start.branch_ref))
    }
}

/// Cut a reflog back to `saved` (`None`: there was none) if what follows
/// it is only entries between commits in `ours`; `false` if it was kept.
fn put_back_log(log: &Path, saved: Option<&[u8]>, ours: &[Oid], lock: &Path) -> bool {
    let Ok(current) = fs::read(log) else {
        return saved.is_none();
    };
    let Some(tail) = current.strip_prefix(saved.unwrap_or_default()) else {
        return false;
    };
    let only_ours = String::from_utf8_lossy(tail).lines().all(|line| {
        let mut ids = line.split(' ').take(2).map(|s| Oid::from_str(s).ok());
        ids.all(|id| id.is_some_and(|id| id.is_zero() || ours.contains(&id)))
    });
    if !only_ours {
        return false;
    }
    if tail.is_empty() {
        return true;
    }
    // git's protocol: the new content goes into the lock, renamed in place.
    let Ok(mut lock_file) = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(lock)
    else {
        return false;
    };
    let done = match saved {
        None => fs::remove_file(log),
        Some(bytes) => std::io::Write::write_all(&mut lock_file, bytes)
            .and_then(|()| lock_file.sync_all())
            .and_then(|()| fs::rename(lock, log)),
    };
    if saved.is_none() || done.is_err() {
        let _ = fs::remove_file(lock);
    }
    done.is_ok()
}
