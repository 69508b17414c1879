//! Undoing a failed or interrupted series: what was saved, interrupts noted, the rollback.

use std::path::PathBuf;

use crate::apply::write_atomically;
use crate::error::Error;

/// Everything a rollback puts back, byte for byte.
pub(super) struct Saved {
    /// Files under `.git` that committing touches, with their bytes
    /// (`None`: did not exist).
    pub(super) git_files: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// Work-tree files as they were (path, content).
    pub(super) work: Vec<(PathBuf, String, String)>,
}

/// SIGINT and SIGTERM during a series: noted, then the series stops at the
/// next step boundary and everything is rolled back.
pub(super) struct Interrupt {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupt {
    pub(super) fn install() -> Interrupt {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ids = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]
            .iter()
            .filter_map(|&sig| signal_hook::flag::register(sig, flag.clone()).ok())
            .collect();
        Interrupt { flag, ids }
    }

    pub(super) fn check(&self) -> Result<(), Error> {
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

/// Put back refs, reflogs, index and work-tree files as they were.
pub(super) fn rollback(saved: &Saved) -> Result<(), String> {
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
