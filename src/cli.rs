//! Command-line flags (clap derive) and the settings the stages read from them.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Find and fix writes to a NumPy array's own shape storage.
///
/// Under free-threaded Python several threads may read one ndarray at once;
/// code that writes through `PyArray_DIMS(arr)`, even briefly, races with
/// them (numpy#28197). dims-fix finds every such write, classifies it
/// (rewrite / fresh / lock / manual) and reports it.
#[derive(Debug, Parser)]
#[command(name = "dims-fix", version, about, long_about = None)]
pub struct Cli {
    /// Files or directories to scan (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub action: ActionArgs,

    /// Only edit these findings: a function name, or FILE:LINE of a site.
    /// Repeatable; the report still lists every finding.
    #[arg(long, value_name = "FUNCTION|FILE:LINE")]
    pub only: Vec<String>,

    /// Also insert a TODO comment at manual findings.
    #[arg(long)]
    pub todo_manual: bool,

    /// With --commit or --patch-dir: one commit per finding, per file, or
    /// one for all.
    #[arg(long, value_enum, default_value_t = Group::Finding)]
    pub group: Group,

    /// With --commit: commit on a new branch made from HEAD, and switch to it.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,

    /// With --branch: reset the branch if it already exists.
    #[arg(long, requires = "branch")]
    pub force_branch: bool,

    /// Commit author (and patch sender) as "Name <email>"; default: git config.
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub author: Option<String>,

    /// Add a Signed-off-by trailer to each commit message.
    #[arg(long)]
    pub signoff: bool,

    /// Also write the series as numbered `git format-patch`-style files
    /// here (works without git, with --dry-run too).
    #[arg(long, value_name = "DIR")]
    pub patch_dir: Option<PathBuf>,

    /// Override the built-in templates with the files of this directory
    /// (commit.txt, lock-todo.txt, manual-todo.txt).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Report format for the findings.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Exit with status 1 when any rewrite/lock/manual finding is unacknowledged.
    #[arg(long)]
    pub check: bool,

    /// Also analyse writes to strides (`PyArray_STRIDES`, `->strides`).
    #[arg(long)]
    pub strides: bool,

    /// Treat another macro like `PyArray_DIMS` (a shape source). Repeatable.
    #[arg(long = "dims-macro", value_name = "NAME")]
    pub dims_macros: Vec<String>,

    /// Treat another macro like `PyArray_STRIDES` (a strides source, with
    /// --strides). Repeatable.
    #[arg(long = "strides-macro", value_name = "NAME")]
    pub strides_macros: Vec<String>,

    /// Blank another attribute-like macro before parsing. Repeatable.
    #[arg(long = "ignore-macro", value_name = "NAME")]
    pub ignore_macros: Vec<String>,

    /// Only scan files matching this glob (relative to the root). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Skip files matching this glob (relative to the root). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Paths in reports and diffs are relative to this directory
    /// (default: the git work tree containing the first path, else the
    /// directory given).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Also walk hidden files and directories (names starting with `.`;
    /// `.git` never). Without it they are counted in the summary.
    #[arg(long)]
    pub hidden: bool,

    /// Skip (with a warning) files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_file_size: u64,

    /// Worker threads (default: one per core; at most 256).
    #[arg(long, short = 'j', value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Follow symbolic links out of the scanned paths. Files reached that
    /// way are scanned and reported, never written.
    #[arg(long)]
    pub follow: bool,

    /// Apply no ignore file (`.gitignore`, `.ignore`, git's excludes). By
    /// default they count only inside a git repository, and never for a
    /// file git tracks.
    #[arg(long)]
    pub no_ignore: bool,

    /// With --apply or --commit: also replace hard-linked files (their
    /// other names keep the old text) and read-only files (keeping their mode).
    #[arg(long)]
    pub force: bool,

    /// Print the page of a code (`DF101`, or its name) and exit: what it
    /// means, an example, what to do.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,

    /// When to use colour on stdout and stderr.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The three actions; at most one may be given.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
#[group(multiple = false)]
pub struct ActionArgs {
    /// Print the planned changes as a unified diff on stdout (the default).
    #[arg(long)]
    dry_run: bool,
    /// Write the planned changes in place.
    #[arg(long)]
    apply: bool,
    /// Write the planned changes and commit them, one commit per finding
    /// (see --group), in the git repository holding the paths.
    #[arg(long)]
    commit: bool,
}

/// What to do with the planned changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    DryRun,
    Apply,
    Commit,
}

impl Cli {
    pub fn action(&self) -> Action {
        if self.action.commit {
            Action::Commit
        } else if self.action.apply {
            Action::Apply
        } else {
            Action::DryRun
        }
    }
}

/// How changes are grouped into commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Group {
    /// One commit per finding (a lock TODO covers one function).
    #[default]
    Finding,
    /// One commit per file.
    File,
    /// One commit for everything.
    All,
}

/// The findings report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per finding and one per site, for people.
    Text,
    /// The stable JSON schema (see README).
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
}

/// Colour choice; `auto` honours `NO_COLOR` and whether the stream is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
