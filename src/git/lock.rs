//! git's own lock on the index (`index.lock`), held for the whole series
//! as `git commit <paths>` holds it while its hooks run: another git
//! command that would write the index fails with git's usual message
//! instead of having its work overwritten, and a second dims-fix is
//! refused. The lock file names this run, so that after a kill the next
//! run recognises a stale lock of its own and takes it over.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use git2::Repository;

use crate::error::Error;
use crate::owner::Owner;

const MARK: &str = "dims-fix lock ";

/// The held lock; released (removed) when dropped.
pub(super) struct IndexLock {
    path: PathBuf,
    id: (u64, u64),
}

impl IndexLock {
    pub(super) fn take(repo: &Repository) -> Result<IndexLock, Error> {
        let path = repo.path().join("index.lock");
        for _ in 0..3 {
            match create(&path) {
                Ok(lock) => return Ok(lock),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::Io { path, source: e }),
            }
            match owner_of(&path) {
                Some(owner) if owner.is_gone() => take_over_stale(repo, &path, owner),
                Some(owner) => {
                    return Err(Error::Refused(format!(
                        "another dims-fix (process {}) is working in this repository; \
                         wait for it to finish",
                        owner.pid
                    )))
                }
                None if path.exists() => {
                    return Err(Error::Refused(format!(
                        "{} exists: another git process seems to be running; if not, remove it",
                        path.display()
                    )))
                }
                None => {}
            }
        }
        Err(Error::Refused(format!(
            "{}: cannot take the lock, other processes keep taking it",
            path.display()
        )))
    }
}

fn create(path: &Path) -> std::io::Result<IndexLock> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    file.write_all(format!("{MARK}{}\n", Owner::me().tag()).as_bytes())?;
    let meta = file.metadata()?;
    Ok(IndexLock {
        path: path.to_path_buf(),
        id: (meta.dev(), meta.ino()),
    })
}

/// The dims-fix run a lock file belongs to, if it is one of ours.
fn owner_of(path: &Path) -> Option<Owner> {
    let text = fs::read_to_string(path).ok()?;
    Owner::parse(text.strip_prefix(MARK)?.trim_end())
}

/// Remove a stale lock of a killed run. It is first renamed to a name of
/// our own, so that of two runs finding it only one takes it away; a lock
/// that turns out not to be the stale one is put back.
fn take_over_stale(repo: &Repository, path: &Path, stale: Owner) {
    let aside = repo
        .path()
        .join(crate::owner::temp_name("dims-fix-stale-lock-"));
    if fs::rename(path, &aside).is_err() {
        return;
    }
    if owner_of(&aside) != Some(stale) {
        // Someone else's fresh lock: back where it was, never over another.
        let _ = fs::hard_link(&aside, path);
    }
    let _ = fs::remove_file(&aside);
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        // Only our own file: never a lock someone else took meanwhile.
        let ours = fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}
