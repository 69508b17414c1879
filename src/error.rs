//! Errors a caller can match on, each mapped to the exit codes of DESIGN §6.

use std::path::PathBuf;

/// Exit codes (DESIGN §6).
pub mod exit {
    /// Success: nothing to do, or everything done.
    pub const OK: i32 = 0;
    /// `--check` found unacknowledged sites.
    pub const FOUND: i32 = 1;
    /// Usage or environment error; nothing was changed.
    pub const USAGE: i32 = 2;
    /// Some input files could not be read or parsed; the rest was processed.
    pub const SKIPPED: i32 = 3;
}

/// Why a file was not analysed: a warning naming the file; the run goes on
/// and the exit code remembers (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub path: PathBuf,
    pub reason: String,
}

/// An error that stops the run before or instead of doing its work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path operand that does not exist or cannot be inspected.
    #[error("{}: {reason}", path.display())]
    BadPath { path: PathBuf, reason: String },

    /// A flag value that makes no sense (bad glob, bad `--only`, ...).
    #[error("{0}")]
    Usage(String),

    /// A template that does not compile or render.
    #[error("template {name}: {reason}")]
    Template { name: String, reason: String },

    /// The environment does not allow the action (git state, dirty files, ...).
    #[error("{0}")]
    Refused(String),

    /// A file changed between reading and writing; it is left as it is.
    #[error("{}: changed since it was read; not written (run dims-fix again)", path.display())]
    Changed { path: PathBuf },

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadPath { .. }
            | Error::Usage(_)
            | Error::Template { .. }
            | Error::Refused(_)
            | Error::Changed { .. }
            | Error::Io { .. } => exit::USAGE,
        }
    }
}
