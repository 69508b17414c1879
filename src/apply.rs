//! Writing planned results in place: atomically (temporary file in the same
//! directory, then rename), keeping permissions, and refusing a file whose
//! content changed since it was read.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Replace `path`'s content with `new`, if it still holds `old`.
pub fn write_atomically(path: &Path, old: &str, new: &str) -> Result<(), Error> {
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Write through symbolic links, never over them.
    let target = fs::canonicalize(path).map_err(io)?;
    let current = fs::read(&target).map_err(io)?;
    if current != old.as_bytes() {
        return Err(Error::Changed {
            path: path.to_path_buf(),
        });
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let permissions = fs::metadata(&target).map_err(io)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".dims-fix-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(new.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    fs::set_permissions(tmp.path(), permissions).map_err(io)?;
    tmp.persist(&target).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.c");
        fs::write(&p, "old\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&p, "old\n", "new\n").unwrap();
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
        let err = write_atomically(&p, "old\n", "new\n").unwrap_err();
        assert!(matches!(err, Error::Changed { .. }));
        assert_eq!(fs::read_to_string(&p).unwrap(), "edited by someone\n");
    }

    #[test]
    fn writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.c");
        let link = dir.path().join("link.c");
        fs::write(&real, "old\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, "old\n", "new\n").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
    }
}
