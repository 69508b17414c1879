//! Writing planned results in place. A file is replaced atomically (a
//! temporary file in the same directory, then rename) and keeps its owner,
//! group, mode and extended attributes (ACLs, SELinux labels). It is never
//! written through a symbolic link, never over a change made since it was
//! read (checked once more right before the rename), and a hard-linked or
//! read-only file is refused unless forced: replacing it would split the
//! link or override a deliberate protection.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::owner;
use crate::source::open_regular;

/// Temporary files start with this; the rest is the run's tag, so a later
/// run removes what a killed one left (see [`owner`]).
pub const TEMP_PREFIX: &str = ".dims-fix-";

/// How far writing may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Replace hard-linked and read-only files too.
    pub force: bool,
}

/// A fresh temporary path beside `target`.
pub fn temp_path(target: &Path) -> PathBuf {
    let dir = target.parent().unwrap_or(Path::new("."));
    dir.join(owner::temp_name(TEMP_PREFIX))
}

/// Replace `path`'s content with `new`, if it still holds `old`.
pub fn write_atomically(
    path: &Path,
    old: &str,
    new: &str,
    opts: WriteOptions,
) -> Result<(), Error> {
    replace(path, old, new, opts, &temp_path(path))
}

/// [`write_atomically`] through a temporary file named by the caller (who
/// may have to record the name first, to clean up after a kill).
pub fn replace(
    path: &Path,
    old: &str,
    new: &str,
    opts: WriteOptions,
    temp: &Path,
) -> Result<(), Error> {
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_written = |reason: String| Error::NotWritten {
        path: path.to_path_buf(),
        reason,
    };
    let (mut file, meta) = open_regular(path).map_err(io)?;
    let mut current = Vec::new();
    file.read_to_end(&mut current).map_err(io)?;
    if current != old.as_bytes() {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }
    if meta.nlink() > 1 && !opts.force {
        return Err(not_written(format!(
            "has {} hard links; replacing it would leave the other names with the old text \
             (--force replaces it anyway)",
            meta.nlink()
        )));
    }
    if meta.mode() & 0o200 == 0 && !opts.force {
        return Err(not_written(
            "is read-only (--force replaces it anyway, keeping its mode)".to_string(),
        ));
    }
    let dir = temp.parent().unwrap_or(Path::new("."));
    owner::remove_stale(dir, TEMP_PREFIX);
    let mut tmp = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(temp)
        .map_err(io)?;
    let result = fill(&mut tmp, &file, &meta, new)
        .and_then(|()| {
            crate::testhook::pause("before-rename");
            unchanged_since(path, &meta, old)
        })
        .and_then(|()| fs::rename(temp, path).map_err(Fault::Io));
    match result {
        Ok(()) => {
            // The rename is durable once the directory is.
            let _ = File::open(dir).and_then(|d| d.sync_all());
            Ok(())
        }
        Err(fault) => {
            let _ = fs::remove_file(temp);
            Err(match fault {
                Fault::Io(e) => io(e),
                Fault::Keep(reason) => not_written(reason),
                Fault::Changed => Error::Changed {
                    path: path.to_path_buf(),
                },
            })
        }
    }
}

/// Why a write stopped after the temporary file was made.
enum Fault {
    Io(std::io::Error),
    /// The file's owner or an attribute cannot be kept.
    Keep(String),
    Changed,
}

impl From<std::io::Error> for Fault {
    fn from(e: std::io::Error) -> Fault {
        Fault::Io(e)
    }
}

/// The temporary file: the new content, then the original's owner, group,
/// mode and extended attributes, then on disk.
fn fill(tmp: &mut File, original: &File, meta: &fs::Metadata, new: &str) -> Result<(), Fault> {
    tmp.write_all(new.as_bytes())?;
    let made = tmp.metadata()?;
    if (made.uid(), made.gid()) != (meta.uid(), meta.gid()) {
        // chown clears set-id bits and capabilities: mode and attributes follow.
        std::os::unix::fs::fchown(&*tmp, Some(meta.uid()), Some(meta.gid())).map_err(|e| {
            Fault::Keep(format!(
                "is owned by {}:{}; it cannot be replaced keeping its owner and group ({e}); \
                 run dims-fix as its owner",
                meta.uid(),
                meta.gid()
            ))
        })?;
    }
    tmp.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    copy_xattrs(original, tmp)?;
    tmp.sync_all()?;
    Ok(())
}

fn copy_xattrs(from: &File, to: &File) -> Result<(), Fault> {
    use xattr::FileExt;
    let names = match from.list_xattr() {
        Ok(names) => names,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(()),
        Err(e) => {
            return Err(Fault::Keep(format!(
                "cannot list its extended attributes ({e})"
            )))
        }
    };
    for name in names {
        let shown = name.to_string_lossy();
        let keep = |e: std::io::Error| {
            Fault::Keep(format!("cannot keep its extended attribute {shown} ({e})"))
        };
        let value = from.get_xattr(&name).map_err(keep)?.unwrap_or_default();
        // The new file may already carry it (a default ACL, a label).
        if to.get_xattr(&name).ok().flatten().as_deref() == Some(&value[..]) {
            continue;
        }
        to.set_xattr(&name, &value).map_err(keep)?;
    }
    Ok(())
}

/// The file at `path` is still the one read, with the content read.
fn unchanged_since(path: &Path, meta: &fs::Metadata, old: &str) -> Result<(), Fault> {
    let Ok((mut file, now)) = open_regular(path) else {
        return Err(Fault::Changed);
    };
    if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
        return Err(Fault::Changed);
    }
    let mut current = Vec::new();
    file.read_to_end(&mut current)?;
    if current != old.as_bytes() {
        return Err(Fault::Changed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: WriteOptions = WriteOptions { force: false };

    #[test]
    fn replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.c");
        fs::write(&p, "old\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&p, "old\n", "new\n", PLAIN).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn refuses_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.c");
        fs::write(&p, "edited by someone\n").unwrap();
        let err = write_atomically(&p, "old\n", "new\n", PLAIN).unwrap_err();
        assert!(matches!(err, Error::Changed { .. }));
        assert_eq!(fs::read_to_string(&p).unwrap(), "edited by someone\n");
    }

    #[test]
    fn never_writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.c");
        let link = dir.path().join("link.c");
        fs::write(&real, "old\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = write_atomically(&link, "old\n", "new\n", PLAIN).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "old\n");
    }

    #[test]
    fn hard_links_and_read_only_files_need_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.c");
        fs::write(&p, "old\n").unwrap();
        fs::hard_link(&p, dir.path().join("b.c")).unwrap();
        let err = write_atomically(&p, "old\n", "new\n", PLAIN).unwrap_err();
        assert!(err.to_string().contains("2 hard links"), "{err}");
        write_atomically(&p, "old\n", "new\n", WriteOptions { force: true }).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new\n");
        assert_eq!(fs::read_to_string(dir.path().join("b.c")).unwrap(), "old\n");

        let ro = dir.path().join("ro.c");
        fs::write(&ro, "old\n").unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomically(&ro, "old\n", "new\n", PLAIN).unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        write_atomically(&ro, "old\n", "new\n", WriteOptions { force: true }).unwrap();
        assert_eq!(fs::read_to_string(&ro).unwrap(), "new\n");
        assert_eq!(fs::metadata(&ro).unwrap().mode() & 0o777, 0o444);
    }

    #[test]
    fn keeps_extended_attributes() {
        use xattr::FileExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.c");
        fs::write(&p, "old\n").unwrap();
        if File::open(&p)
            .unwrap()
            .set_xattr("user.dims", b"kept")
            .is_err()
        {
            let _ = std::io::stderr()
                .write_all(b"SKIPPED keeps_extended_attributes: no user xattrs here\n");
            return;
        }
        write_atomically(&p, "old\n", "new\n", PLAIN).unwrap();
        let got = File::open(&p).unwrap().get_xattr("user.dims").unwrap();
        assert_eq!(got.as_deref(), Some(&b"kept"[..]));
    }
}
