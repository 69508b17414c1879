//! Command-line flags (clap derive) and the settings the stages read from them.

use std::path::PathBuf;

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Parser, ValueEnum};

/// `--help`'s closing part: examples, the comment that acknowledges a
/// finding, and the exit codes (DESIGN §5, §6).
const AFTER_HELP: &str = "\
Examples:
  dims-fix src/                      show the planned changes as a diff, findings on stderr
  dims-fix --apply src/              write them in place
  dims-fix --check --format github   in CI: annotations, exit 1 on open findings

Acknowledge a finding that is intended with a comment on (or just above) a
site's line; it is still reported, but --check passes:
  /* dims-fix: allow(lock) callers hold the array's mutex */
  /* dims-fix: allow(manual) the array is private here */

Settings: [tool.dims-fix] in pyproject.toml, or dims-fix.toml, found upward
from the first path; flags win (--show-settings prints them).

Exit codes:
  0  nothing to do, or everything done
  1  --check found an unacknowledged rewrite, lock or manual finding
  2  usage or environment error; nothing was changed
  3  some input could not be read or parsed, or a planned change could not
     be written (the rest was processed)
  4  changes were made, then a later step failed (the message says what is left)

`dims-fix --explain CODE` explains a finding's code (DF101...).";

/// A C identifier (a macro name): not empty, no spaces or punctuation.
/// The fields `--fields` can name, in the order reports list them.
pub const FIELDS: &[&str] = &["dims", "strides", "descr", "flags", "nd", "data", "base"];

/// A `--fields` name.
fn field_name(s: &str) -> Result<String, String> {
    if s == "all" || FIELDS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a field; give {} or all",
            FIELDS.join(", ")
        ))
    }
}

pub fn identifier(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a C identifier (a macro name)"))
    }
}

/// Find and fix writes to a NumPy array's own shape storage.
///
/// Under free-threaded Python several threads may read one ndarray at once;
/// code that writes through `PyArray_DIMS(arr)`, even briefly, races with
/// them (numpy#28197). dims-fix finds every such write, classifies it
/// (rewrite / fresh / lock / manual) and reports it.
#[derive(Debug, Parser)]
#[command(name = "dims-fix", version, about, long_about = None, after_help = AFTER_HELP)]
#[command(group(ArgGroup::new("series_output").args(["commit", "patch_dir"]).multiple(true)))]
#[command(group(ArgGroup::new("writes").args(["apply", "commit"]).multiple(true)))]
pub struct Cli {
    /// Files or directories to scan (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub action: ActionArgs,

    /// Only edit these findings: a function name, or FILE:LINE of a site.
    /// Repeatable; the report still lists every finding.
    #[arg(long, value_name = "FUNCTION|FILE:LINE", value_parser = NonEmptyStringValueParser::new())]
    pub only: Vec<String>,

    /// Only edit findings of these classes (comma-separated: rewrite, lock,
    /// fresh, manual). The report still lists every finding.
    #[arg(
        long = "class",
        value_enum,
        value_delimiter = ',',
        value_name = "CLASS,..."
    )]
    pub classes: Vec<ClassArg>,

    /// Review each planned change (its finding, reason and diff) and accept
    /// (y), skip (n) or quit (q), like `git add -p`; the action then
    /// writes only what was accepted, as `--only` of those findings would.
    /// Needs a terminal on stdin.
    #[arg(long, short = 'i')]
    pub interactive: bool,

    /// Also insert a TODO comment at manual findings.
    #[arg(long)]
    pub todo_manual: bool,

    /// With --commit or --patch-dir: one commit per finding (default), per
    /// file, or one for all.
    #[arg(long, value_enum, requires = "series_output")]
    pub group: Option<Group>,

    /// With --commit: commit on a new branch made from HEAD, and switch to it.
    #[arg(long, value_name = "NAME", requires = "commit",
          value_parser = NonEmptyStringValueParser::new())]
    pub branch: Option<String>,

    /// With --branch: reset the branch if it already exists.
    #[arg(long, requires = "branch")]
    pub force_branch: bool,

    /// With --commit or --patch-dir: commit author (and patch sender) as
    /// "Name <email>"; default: git config.
    #[arg(long, value_name = "NAME <EMAIL>", requires = "series_output",
          value_parser = NonEmptyStringValueParser::new())]
    pub author: Option<String>,

    /// With --commit: add a Signed-off-by trailer to each commit message.
    #[arg(long, requires = "commit")]
    pub signoff: bool,

    /// Also write the series as numbered `git format-patch`-style files
    /// here (works without git, with --dry-run too).
    #[arg(long, value_name = "DIR")]
    pub patch_dir: Option<PathBuf>,

    /// Override the built-in templates with the files of this directory
    /// (commit.txt, lock-todo.txt, manual-todo.txt).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Report format for the findings: text on stderr; JSON, SARIF and
    /// GitHub workflow annotations on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also report fresh (proven safe) findings in SARIF and GitHub
    /// annotations; text and JSON always list them.
    #[arg(long)]
    pub report_fresh: bool,

    /// Exit with status 1 when any rewrite/lock/manual finding is unacknowledged.
    #[arg(long)]
    pub check: bool,

    /// Also analyse writes to strides (`PyArray_STRIDES`, `->strides`);
    /// the same as `--fields dims,strides`.
    #[arg(long)]
    pub strides: bool,

    /// The array metadata to analyse, comma-separated: dims, strides,
    /// descr, flags, nd, data, base, or all. The shape (dims) always is.
    #[arg(long, value_delimiter = ',', value_name = "FIELD,...", value_parser = field_name)]
    pub fields: Vec<String>,

    /// Treat another macro like `PyArray_DIMS` (a shape source). Repeatable.
    #[arg(long = "dims-macro", value_name = "NAME", value_parser = identifier)]
    pub dims_macros: Vec<String>,

    /// Treat another macro like `PyArray_STRIDES` (a strides source, with
    /// --strides). Repeatable.
    #[arg(long = "strides-macro", value_name = "NAME")]
    pub strides_macros: Vec<String>,

    /// Blank another attribute-like macro before parsing. Repeatable.
    #[arg(long = "ignore-macro", value_name = "NAME", value_parser = identifier)]
    pub ignore_macros: Vec<String>,

    /// Only scan files matching this glob (relative to the root). Repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NonEmptyStringValueParser::new())]
    pub include: Vec<String>,

    /// Skip files matching this glob (relative to the root). Repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NonEmptyStringValueParser::new())]
    pub exclude: Vec<String>,

    /// Paths in reports and diffs are relative to this directory
    /// (default: the git work tree containing the first path; outside git,
    /// the current directory when it holds every path, else the deepest
    /// directory that does).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Also walk hidden files and directories (names starting with `.`;
    /// `.git` never). Without it they are counted in the summary.
    #[arg(long)]
    pub hidden: bool,

    /// Skip (with a warning) files larger than this many bytes
    /// (default 16 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,

    /// Read settings from this file (a dims-fix.toml, or a pyproject.toml
    /// with [tool.dims-fix]) instead of looking upward from the first path.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub no_config: bool,

    /// Print the resolved settings, and where each came from, and exit.
    #[arg(long)]
    pub show_settings: bool,

    /// Print only errors and warnings on stderr (no findings, no summary).
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also say why each file was skipped or not parsed.
    #[arg(long, short = 'v')]
    pub verbose: bool,

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

    /// Parse every function that mentions a shape source, even those
    /// whose every mention is plainly a read of one element (which the
    /// lexical write filter otherwise leaves unparsed), and check a plan
    /// of TODO lines by parsing its result again. Results are the same; it
    /// is slower, and counts parse errors in those functions too.
    #[arg(long)]
    pub parse_all: bool,

    /// With --apply or --commit: also replace hard-linked files (their
    /// other names keep the old text) and read-only files (keeping their mode).
    #[arg(long, requires = "writes")]
    pub force: bool,

    /// Print the page of a code (`DF101`, or its name) and exit: what it
    /// means, an example, what to do.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,

    /// When to use colour on stdout and stderr.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print a completion script for this shell and exit.
    #[arg(long, value_name = "SHELL", value_enum)]
    pub completions: Option<clap_complete::Shell>,

    /// Print the manual page (roff) and exit.
    #[arg(long)]
    pub man: bool,
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
    /// The commit grouping (`--group`, default one commit per finding).
    pub fn group(&self) -> Group {
        self.group.unwrap_or_default()
    }

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

/// A finding class, as `--class` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassArg {
    Rewrite,
    Fresh,
    Lock,
    Manual,
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
    /// The stable JSON schema (see docs/output.md).
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
}

/// Colour choice; `auto` honours `NO_COLOR` and whether the stream is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The completion script for `shell` (`--completions`).
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dims-fix", &mut script);
    script
}

/// The manual page in roff (`--man`).
pub fn man_page() -> Result<Vec<u8>, crate::error::Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
        .render(&mut page)
        .map_err(|e| crate::error::Error::Usage(format!("cannot render the manual page: {e}")))?;
    Ok(page)
}
