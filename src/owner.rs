//! Which run a lock or temporary file belongs to, and whether that run is
//! gone. Every file dims-fix leaves for a moment (temporary files beside
//! the files it writes, locks and scratch files under `.git`) carries the
//! tag of its process in its name or content, so that after a kill the next
//! run can tell its own leftovers from another live run's and remove them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A process, told apart from a later one that reuses its id by its start
/// time (clock ticks since boot, from `/proc/PID/stat`; 0 where unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn me() -> Owner {
        static ME: OnceLock<Owner> = OnceLock::new();
        *ME.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                pid,
                start: start_time(pid).unwrap_or(0),
            }
        })
    }

    /// `PID.START`, as it appears in names and lock files.
    pub fn tag(&self) -> String {
        format!("{}.{}", self.pid, self.start)
    }

    /// Read a tag back; `None` for anything else.
    pub fn parse(tag: &str) -> Option<Owner> {
        let (pid, start) = tag.split_once('.')?;
        Some(Owner {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }

    /// Whether the process has ended (a zombie counts as ended). Unsure
    /// answers say "alive": a live run's files are never taken away.
    pub fn is_gone(&self) -> bool {
        if *self == Owner::me() {
            return false;
        }
        if Path::new("/proc/self/stat").exists() {
            return match proc_stat(self.pid) {
                None => true,
                Some((state, start)) => state == 'Z' || (self.start != 0 && start != self.start),
            };
        }
        // No /proc: ask the kernel whether the id is in use at all (signal
        // 0 only checks for the process).
        let Some(pid) = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
    }
}

/// State letter and start time of a process.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 (state) is fields[0]; field 22 (starttime) is fields[19].
    let state = fields.first()?.chars().next()?;
    Some((state, fields.get(19)?.parse().ok()?))
}

fn start_time(pid: u32) -> Option<u64> {
    proc_stat(pid).map(|(_, start)| start)
}

/// A fresh name `PREFIX<tag>.<n>` for a temporary file of this run.
pub fn temp_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}.{n}", Owner::me().tag())
}

/// The owner of a file named by [`temp_name`] with `prefix`.
pub fn owner_of(name: &str, prefix: &str) -> Option<Owner> {
    let rest = name.strip_prefix(prefix)?;
    let mut parts = rest.splitn(3, '.');
    let tag = format!("{}.{}", parts.next()?, parts.next()?);
    Owner::parse(&tag)
}

/// Remove the files of `dir` named with `prefix` whose run is gone (never
/// directories, never a live run's files). Returns what was removed.
pub fn remove_stale(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(|n| owner_of(n, prefix)) else {
            continue;
        };
        let is_file = entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink());
        if is_file && owner.is_gone() && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_names_round_trip() {
        let me = Owner::me();
        assert_eq!(Owner::parse(&me.tag()), Some(me));
        let name = temp_name(".dims-fix-");
        assert_eq!(owner_of(&name, ".dims-fix-"), Some(me));
        assert_eq!(owner_of("notes.txt", ".dims-fix-"), None);
        assert_eq!(owner_of(".dims-fix-abc", ".dims-fix-"), None);
    }

    #[test]
    fn this_run_is_alive_and_an_ended_one_is_gone() {
        assert!(!Owner::me().is_gone());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid).unwrap_or(0);
        child.wait().unwrap();
        assert!(Owner { pid, start }.is_gone());
    }

    #[test]
    fn only_stale_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join(temp_name(".x-"));
        let stale = dir.path().join(".x-999999999.1.0");
        let other = dir.path().join(".x-notes");
        for p in [&mine, &stale, &other] {
            std::fs::write(p, "").unwrap();
        }
        assert_eq!(remove_stale(dir.path(), ".x-"), vec![stale.clone()]);
        assert!(mine.exists() && other.exists() && !stale.exists());
    }
}
