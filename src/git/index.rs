//! The index while a series runs: read once under git's lock, changed only
//! at the paths of our own edits, installed by an atomic rename, and
//! checked before each step to be the very file we installed (a process
//! ignoring the lock would show up here, and we would stop).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use git2::{IndexEntry, IndexTime, Oid, Repository};

use super::git_err;
use crate::error::Error;
use crate::owner;

/// What identifies one version of the index file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = fs::symlink_metadata(path).ok()?;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: (m.mtime(), m.mtime_nsec()),
    })
}

/// The index being changed; the scratch copy it is written through is
/// removed when dropped.
pub(super) struct WorkIndex {
    real: PathBuf,
    scratch: PathBuf,
    index: git2::Index,
    /// The bytes found at the start (`None`: there was no index file).
    original: Option<Vec<u8>>,
    /// The index file as we last saw or installed it.
    seen: Option<Stamp>,
}

impl WorkIndex {
    /// Read the index (the caller holds `index.lock`).
    pub(super) fn open(repo: &Repository) -> Result<WorkIndex, Error> {
        let real = repo.path().join("index");
        let seen = stamp(&real);
        let original = match fs::read(&real) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::Io {
                    path: real,
                    source: e,
                })
            }
        };
        let scratch = repo.path().join(owner::temp_name("dims-fix-index-new-"));
        let io = |e| Error::Io {
            path: scratch.clone(),
            source: e,
        };
        if let Some(bytes) = &original {
            fs::write(&scratch, bytes).map_err(io)?;
        }
        let index = git2::Index::open(&scratch).map_err(|e| {
            let _ = fs::remove_file(&scratch);
            Error::Refused(format!(
                "cannot read the index {}: {} (a split or sparse index is not supported: \
                 git update-index --no-split-index; git sparse-checkout disable)",
                real.display(),
                e.message()
            ))
        })?;
        Ok(WorkIndex {
            real,
            scratch,
            index,
            original,
            seen,
        })
    }

    /// The stage-0 entry of `rel`.
    pub(super) fn entry(&self, rel: &str) -> Option<IndexEntry> {
        self.index.get_path(Path::new(rel), 0)
    }

    /// Whether `rel` has conflict stages.
    pub(super) fn conflicted(&self, rel: &str) -> bool {
        (1..=3).any(|stage| self.index.get_path(Path::new(rel), stage).is_some())
    }

    /// Record `rel` as holding blob `id` with the work-tree file `file`'s
    /// stat data (so git sees the file clean without reading it again);
    /// flags and mode of an existing entry are kept.
    pub(super) fn stage(
        &mut self,
        rel: &str,
        id: Oid,
        mode: u32,
        file: &Path,
    ) -> Result<(), Error> {
        let meta = fs::metadata(file).map_err(|e| Error::Io {
            path: file.to_path_buf(),
            source: e,
        })?;
        let time = |secs: i64, nanos: i64| IndexTime::new(secs as i32, nanos as u32);
        let (flags, flags_extended) = self
            .entry(rel)
            .map_or((0, 0), |e| (e.flags, e.flags_extended));
        let entry = IndexEntry {
            ctime: time(meta.ctime(), meta.ctime_nsec()),
            mtime: time(meta.mtime(), meta.mtime_nsec()),
            dev: meta.dev() as u32,
            ino: meta.ino() as u32,
            mode,
            uid: meta.uid(),
            gid: meta.gid(),
            file_size: meta.len() as u32,
            id,
            flags: flags & 0xf000,
            flags_extended,
            path: rel.as_bytes().to_vec(),
        };
        self.index.add(&entry).map_err(git_err(&format!(
            "cannot stage {}",
            crate::quote::path(rel)
        )))
    }

    /// Put an entry back as it was (`None`: there was none).
    pub(super) fn put_back(&mut self, rel: &str, entry: Option<IndexEntry>) -> Result<(), Error> {
        let done = match entry {
            Some(e) => self.index.add(&e),
            None => self.index.remove(Path::new(rel), 0),
        };
        done.map_err(git_err(&format!(
            "cannot restore the index entry of {}",
            crate::quote::path(rel)
        )))
    }

    /// Write the index and put it in place atomically.
    pub(super) fn install(&mut self) -> Result<(), Error> {
        self.index
            .write()
            .map_err(git_err("cannot write the index"))?;
        fs::rename(&self.scratch, &self.real).map_err(|e| Error::Io {
            path: self.real.clone(),
            source: e,
        })?;
        sync_dir(&self.real);
        self.seen = stamp(&self.real);
        Ok(())
    }

    /// Whether the index file is still the one we last saw or installed.
    pub(super) fn unchanged(&self) -> bool {
        stamp(&self.real) == self.seen
    }

    /// Put back the index found at the start, byte for byte.
    pub(super) fn restore_original(&mut self) -> Result<(), Error> {
        let io = |path: &Path, e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        match &self.original {
            Some(bytes) => {
                let tmp = self
                    .real
                    .with_file_name(owner::temp_name("dims-fix-index-new-"));
                fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
                fs::rename(&tmp, &self.real).map_err(|e| io(&self.real, e))?;
            }
            None => fs::remove_file(&self.real).map_err(|e| io(&self.real, e))?,
        }
        sync_dir(&self.real);
        self.seen = stamp(&self.real);
        Ok(())
    }
}

impl Drop for WorkIndex {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.scratch);
        let _ = fs::remove_file(format!("{}.lock", self.scratch.display()));
    }
}

/// `IndexEntry` is not `Clone`.
pub(super) fn copy_entry(e: &IndexEntry) -> IndexEntry {
    IndexEntry {
        ctime: e.ctime,
        mtime: e.mtime,
        dev: e.dev,
        ino: e.ino,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        file_size: e.file_size,
        id: e.id,
        flags: e.flags,
        flags_extended: e.flags_extended,
        path: e.path.clone(),
    }
}

/// Make a rename in `path`'s directory durable.
pub(super) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = fs::File::open(dir).and_then(|d| d.sync_all());
    }
}
