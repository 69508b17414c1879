//! dims-fix: find, classify and fix writes to a NumPy array's own shape
//! storage — the data race of numpy#28197 under free-threaded Python.
//!
//! The modules are the pipeline, in stage order; each imports only from its
//! own stage or an earlier one (`tests/architecture.rs` checks it):
//! shared leaves ([`edit`], `span`, `error`, [`quote`], `owner`,
//! `templates`, `testhook`) → [`cli`] → `discover` (walk, prefilter) →
//! [`source`] (read, mask, parse) → `analyze` (facts, summaries, classes,
//! reasons) → `scan` (drives the analysis over the tree) → `plan` (edits)
//! → [`verify`] (re-analysis of planned results) → `render` (diffs,
//! reports) | `apply` (safe in-place writes) | `series` / `git` (commits,
//! patches). [`run`] is the command on top.

pub(crate) mod analyze;
pub(crate) mod apply;
pub mod cli;
pub(crate) mod discover;
pub mod edit;
pub mod error;
pub(crate) mod git;
pub(crate) mod owner;
pub(crate) mod plan;
pub mod quote;
pub(crate) mod render;
pub(crate) mod scan;
pub(crate) mod series;
pub mod source;
pub(crate) mod span;
pub(crate) mod templates;
pub(crate) mod testhook;
pub mod verify;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anstream::ColorChoice;

use cli::{Action, Cli, Format};
use edit::Patch;
use error::{exit, Error};
use plan::{Only, PlanOptions};
use scan::{Scan, ScanOptions};
use templates::Templates;
use verify::FilePlan;

/// Run the command; the result is the process exit code (DESIGN §6):
/// check the flags and the repository (settling a run killed midway),
/// scan, plan and check the changes, then commit, write patches, apply,
/// and report. A failure after something was changed is partial (exit 4).
pub fn run(cli: &Cli) -> Result<i32, Error> {
    if let Some(code) = &cli.explain {
        return explain(code);
    }
    let opts = options(cli)?;
    let templates = Templates::load(cli.templates.as_deref())?;
    let plan_opts = PlanOptions {
        only: cli.only.iter().map(|o| Only::parse(o)).collect(),
        todo_manual: cli.todo_manual,
        corrupt: testhook::corrupt_plan(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    // The repository is checked before anything is scanned: fail fast.
    let repo = match cli.action() {
        Action::Commit => Some(git::open(&opts.paths[0])?),
        _ => None,
    };
    if let Some(repo) = &repo {
        // A run killed midway is settled before anything is read.
        for note in git::recover(repo)? {
            let _ = writeln!(std::io::stderr(), "dims-fix: {note}");
        }
    }
    if let Some(author) = &cli.author {
        git::parse_identity(author)?;
    }
    if let Some(branch) = &cli.branch {
        git::check_branch_name(branch)?;
    }
    let (scan, mut plans) = pool.install(|| -> Result<_, Error> {
        let scan = scan::scan_tree(&opts)?;
        let plans = verify::plan_and_check(&scan, &opts, &plan_opts, &templates)?;
        Ok((scan, plans))
    })?;
    if let Some(repo) = &repo {
        leave_submodules(repo, &scan, &mut plans);
    }
    if cli.action() != Action::DryRun {
        leave_outside(&opts, &scan, &mut plans);
    }
    let color = match cli.color {
        cli::ColorChoice::Auto => ColorChoice::Auto,
        cli::ColorChoice::Always => ColorChoice::Always,
        cli::ColorChoice::Never => ColorChoice::Never,
    };
    let mut stderr = anstream::AutoStream::new(std::io::stderr(), color);
    let mut applied = vec![false; scan.files.len()];
    let series = if cli.action() == Action::Commit || cli.patch_dir.is_some() {
        series::build(&scan, &plans, cli.group, &templates)?
    } else {
        Vec::new()
    };
    if let (Some(dir), false) = (&cli.patch_dir, series.is_empty()) {
        // Before any commit: a patch directory that cannot be written
        // must stop the run while nothing has changed.
        series::check_patch_dir(dir, &series)?;
    }
    let commit_ids = match &repo {
        Some(repo) => commit(cli, repo, &series, &plans, &mut applied, &mut stderr)?,
        None => None,
    };
    // From here on a failure after a change is reported as partial (exit 4).
    let mut changed = commit_ids.is_some();
    if let Some(dir) = &cli.patch_dir {
        write_patches(
            cli,
            repo.as_ref(),
            dir,
            &series,
            commit_ids.as_deref(),
            &mut stderr,
        )
        .map_err(|e| after_changes(e, changed))?;
    }
    let mut failed = false;
    if cli.action() == Action::Apply {
        let write_opts = apply::WriteOptions { force: cli.force };
        failed |= apply_all(&scan, &plans, write_opts, &mut applied, &mut stderr);
        changed |= applied.iter().any(|&a| a);
    }
    for (file, plan) in scan.files.iter().zip(&plans) {
        if let Some(why) = &plan.refused {
            failed = true;
            let _ = writeln!(stderr, "dims-fix: {}: {why}", shown(&file.rel));
        }
    }
    let out = Output::new(color, changed);
    report(cli, &opts, &scan, &plans, &out, &mut stderr)?;
    Ok(exit_code(cli, &scan, &plans, &applied, failed))
}

/// A name as messages show it: quoted like git when it needs it, control
/// characters escaped (the message may go to a terminal).
fn shown(name: &str) -> String {
    quote::visible(&quote::path(name)).into_owned()
}

/// A submodule's (or a nested repository's) files are committed there, not here.
fn leave_submodules(repo: &git2::Repository, scan: &Scan, plans: &mut [FilePlan]) {
    for (file, plan) in scan.files.iter().zip(plans.iter_mut()) {
        if plan.new_text.is_none() {
            continue;
        }
        if let Some(sub) = git::submodule_of(repo, &file.path) {
            plan.new_text = None;
            plan.refused = Some(format!("inside {sub}; run dims-fix --commit there"));
        }
    }
}

/// A file reached through a link that `--follow` followed out of the
/// scanned paths is read and reported, never written.
fn leave_outside(opts: &ScanOptions, scan: &Scan, plans: &mut [FilePlan]) {
    for (file, plan) in scan.files.iter().zip(plans.iter_mut()) {
        if plan.new_text.is_some() && discover::outside(&file.path, &opts.paths) {
            plan.new_text = None;
            plan.refused = Some(
                "outside the scanned paths (reached through a symbolic link); not written"
                    .to_string(),
            );
        }
    }
}

/// `--commit`: the series as commits; their ids (`None` when nothing was
/// committed).
fn commit(
    cli: &Cli,
    repo: &git2::Repository,
    series: &[series::Step],
    plans: &[FilePlan],
    applied: &mut [bool],
    stderr: &mut dyn Write,
) -> Result<Option<Vec<String>>, Error> {
    testhook::pause("before-commit");
    if series.is_empty() {
        let _ = writeln!(stderr, "dims-fix: nothing to commit");
        return Ok(None);
    }
    let commit_opts = git::CommitOptions {
        branch: cli.branch.clone(),
        force_branch: cli.force_branch,
        author: cli.author.clone(),
        signoff: cli.signoff,
        force: cli.force,
    };
    let ids = git::commit_series(repo, series, &commit_opts)?;
    for (id, step) in ids.iter().zip(series) {
        let _ = writeln!(
            stderr,
            "dims-fix: committed {:.10} {}",
            id.to_string(),
            step.subject()
        );
    }
    for (i, plan) in plans.iter().enumerate() {
        applied[i] = plan.new_text.is_some();
    }
    Ok(Some(ids.iter().map(|id| id.to_string()).collect()))
}

/// `--patch-dir`: the series as numbered patches.
fn write_patches(
    cli: &Cli,
    repo: Option<&git2::Repository>,
    dir: &Path,
    series: &[series::Step],
    commit_ids: Option<&[String]>,
    stderr: &mut dyn Write,
) -> Result<(), Error> {
    if series.is_empty() {
        return Ok(());
    }
    let author = git::identity(repo, cli.author.as_deref(), "AUTHOR")?;
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let written = series::write_patch_dir(dir, series, &author.to_string(), &date, commit_ids)?;
    let _ = writeln!(
        stderr,
        "dims-fix: wrote {} patches to {}",
        written.len(),
        dir.display()
    );
    Ok(())
}

/// `--apply`: every checked plan written in place; whether one failed.
fn apply_all(
    scan: &Scan,
    plans: &[FilePlan],
    write_opts: apply::WriteOptions,
    applied: &mut [bool],
    stderr: &mut dyn Write,
) -> bool {
    testhook::pause("before-write");
    let mut failed = false;
    for (i, (file, plan)) in scan.files.iter().zip(plans).enumerate() {
        let Some(new) = &plan.new_text else { continue };
        let name = shown(&file.rel);
        match apply::write_atomically(&file.path, &file.text, new, write_opts) {
            Ok(()) => {
                applied[i] = true;
                let n = plan.changes.len();
                let _ = writeln!(
                    stderr,
                    "dims-fix: wrote {name} ({n} change{})",
                    if n == 1 { "" } else { "s" }
                );
            }
            Err(Error::Changed { .. }) => {
                failed = true;
                let _ = writeln!(
                    stderr,
                    "dims-fix: {name}: changed since it was read; not written (run dims-fix again)"
                );
            }
            Err(Error::NotWritten { reason, .. }) => {
                failed = true;
                let _ = writeln!(stderr, "dims-fix: {name}: {reason}; not written");
            }
            Err(e) => {
                failed = true;
                let _ = writeln!(stderr, "dims-fix: {e}");
            }
        }
    }
    failed
}

/// Where the diff and the JSON go: stdout, byte for byte (a patch must
/// apply), never through a stream that strips escape sequences. Colour is
/// added only when it is on, control characters escaped only on a terminal.
struct Output {
    color: bool,
    terminal: bool,
    /// Whether this run already wrote files or made commits: a failure to
    /// write the output is then partial, not "nothing was changed".
    changed: bool,
}

impl Output {
    fn new(color: ColorChoice, changed: bool) -> Output {
        let color = match color {
            ColorChoice::Auto => matches!(
                anstream::AutoStream::choice(&std::io::stdout()),
                ColorChoice::Always | ColorChoice::AlwaysAnsi
            ),
            ColorChoice::Always | ColorChoice::AlwaysAnsi => true,
            ColorChoice::Never => false,
        };
        Output {
            color,
            terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            changed,
        }
    }

    /// Write to stdout. A closed pipe (`dims-fix | head`) is not an error
    /// of ours; another failure is, and after files were written or
    /// commits made it must say so (exit 4), not claim that nothing changed.
    fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut out = std::io::stdout().lock();
        match out.write_all(bytes).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(after_changes(
                Error::Io {
                    path: PathBuf::from("<stdout>"),
                    source: e,
                },
                self.changed,
            )),
            _ => Ok(()),
        }
    }
}

/// An error after this run changed files or made commits: partial.
fn after_changes(e: Error, changed: bool) -> Error {
    if changed {
        Error::Partial(format!(
            "{e}; the changes reported above were made before this failure and are kept"
        ))
    } else {
        e
    }
}

/// The findings report (and, for a text dry run, the diff) in the format
/// asked for. The report on stderr is for people: a full or closed stderr
/// is no error.
fn report(
    cli: &Cli,
    opts: &ScanOptions,
    scan: &Scan,
    plans: &[FilePlan],
    out: &Output,
    stderr: &mut dyn Write,
) -> Result<(), Error> {
    // Each finding's change, by finding (a file may have thousands).
    let change_of: Vec<HashMap<usize, usize>> = plans
        .iter()
        .map(|plan| {
            let mut by = HashMap::new();
            for (ci, c) in plan.changes.iter().enumerate() {
                for &ni in &c.findings {
                    by.entry(ni).or_insert(ci);
                }
            }
            by
        })
        .collect();
    let finding_diff = |fi: usize, ni: usize| -> Option<String> {
        let file = &scan.files[fi];
        let change = &plans[fi].changes[*change_of[fi].get(&ni)?];
        plans[fi].new_text.as_ref()?;
        let patch = Patch::new(change.edits.clone()).ok()?;
        Some(render::diff::unified_patch(
            &file.rel,
            &file.text,
            &patch,
            &file.lines,
        ))
    };
    let report = render::report::build(scan, &finding_diff);
    match cli.format {
        Format::Text => {
            if cli.action() == Action::DryRun {
                let mut diffs = String::new();
                for (file, plan) in scan.files.iter().zip(plans) {
                    if let Some(new) = &plan.new_text {
                        diffs.push_str(&render::diff::unified(&file.rel, &file.text, new));
                    }
                }
                let shown = render::diff::display(&diffs, out.color, out.terminal);
                out.write(shown.as_bytes())?;
            }
            let _ = render::text::write(stderr, &report);
        }
        Format::Json | Format::Sarif => {
            report_skips(stderr, scan);
            let mut json = if cli.format == Format::Json {
                serde_json::to_vec_pretty(&report)
            } else {
                serde_json::to_vec_pretty(&render::sarif::build(&report, &opts.root))
            }
            .unwrap_or_default();
            json.push(b'\n');
            out.write(&json)?;
        }
    }
    out.write(b"")
}

/// `--explain CODE`: the code's page on stdout.
fn explain(code: &str) -> Result<i32, Error> {
    let rule = analyze::reason::rule(code).ok_or_else(|| {
        Error::Usage(format!(
            "--explain {code}: no such code; the codes are:\n{}",
            render::explain::list().trim_end()
        ))
    })?;
    let mut out = std::io::stdout();
    let _ = out.write_all(render::explain::page(rule).as_bytes());
    Ok(exit::OK)
}

fn report_skips(out: &mut dyn Write, scan: &Scan) {
    for s in &scan.skipped {
        let name = s.path.to_string_lossy();
        let _ = writeln!(out, "dims-fix: {}: {}", shown(&name), s.reason);
    }
}

/// 3 when input was skipped or a file could not be changed (results
/// incomplete), else 1 when `--check` finds an unacknowledged
/// rewrite/lock/manual finding not fixed by this run, else 0.
fn exit_code(cli: &Cli, scan: &Scan, plans: &[FilePlan], applied: &[bool], failed: bool) -> i32 {
    if failed || !scan.skipped.is_empty() {
        return exit::SKIPPED;
    }
    let open = scan.files.iter().enumerate().any(|(fi, file)| {
        file.findings.iter().enumerate().any(|(ni, f)| {
            let fixed = applied[fi] && plans[fi].changes.iter().any(|c| c.findings.contains(&ni));
            f.class != analyze::Class::Fresh && !f.acknowledged && !fixed
        })
    });
    // A file that may hold a hit but was not analysed (C++) is not clean.
    let open = open || !scan.not_analysed.is_empty();
    if cli.check && open {
        exit::FOUND
    } else {
        exit::OK
    }
}

/// Validate path operands and work out the report root.
fn options(cli: &Cli) -> Result<ScanOptions, Error> {
    let operands = if cli.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        cli.paths.clone()
    };
    let mut paths = Vec::new();
    for p in &operands {
        let canonical = p.canonicalize().map_err(|e| Error::BadPath {
            path: p.clone(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                _ => e.to_string(),
            },
        })?;
        paths.push(canonical);
    }
    let root = match &cli.root {
        Some(r) => r.canonicalize().map_err(|e| Error::BadPath {
            path: r.clone(),
            reason: e.to_string(),
        })?,
        None => git_root(&paths[0]).unwrap_or_else(|| common_dir(&paths)),
    };
    if let Some(outside) = paths.iter().find(|p| !p.starts_with(&root)) {
        return Err(Error::Usage(format!(
            "--root {}: does not contain {}; report and diff paths are relative to the root",
            root.display(),
            outside.display()
        )));
    }
    Ok(ScanOptions {
        paths,
        root,
        include: cli.include.clone(),
        exclude: cli.exclude.clone(),
        max_file_size: cli.max_file_size,
        dims_macros: cli.dims_macros.clone(),
        strides_macros: cli.strides_macros.clone(),
        strides: cli.strides,
        ignore_macros: cli.ignore_macros.clone(),
        hidden: cli.hidden,
        threads: cli.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        ),
        follow: cli.follow,
        no_ignore: cli.no_ignore,
    })
}

/// The work tree of the git repository containing `path`, if any.
pub fn git_root(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() { path } else { path.parent()? };
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The deepest directory containing every path (a file counts as its parent).
fn common_dir(paths: &[PathBuf]) -> PathBuf {
    let dir = |p: &PathBuf| {
        if p.is_dir() {
            p.clone()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        }
    };
    let mut common = dir(&paths[0]);
    for p in &paths[1..] {
        let d = dir(p);
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}
