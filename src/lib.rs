//! dims-fix: find, classify and fix writes to a NumPy array's own shape
//! storage — the data race of numpy#28197 under free-threaded Python.
//!
//! The modules are the pipeline, in stage order; each imports only from its
//! own stage or an earlier one (`tests/architecture.rs` checks it):
//! shared leaves ([`edit`], `span`, `error`, [`quote`], `owner`,
//! `templates`, `testhook`) → [`cli`] → [`config`] (settings files, the
//! report root) → `discover` (walk, prefilter) →
//! [`source`] (read, mask, parse) → `analyze` (facts, summaries, classes,
//! reasons) → `scan` (drives the analysis over the tree) → `plan` (edits)
//! → [`verify`] (re-analysis of planned results) → `render` (diffs,
//! reports) | `apply` (safe in-place writes) | `series` / `git` (commits,
//! patches). [`run`] is the command on top.

pub(crate) mod analyze;
pub(crate) mod apply;
pub mod cli;
pub mod config;
pub(crate) mod discover;
pub mod edit;
pub mod error;
pub(crate) mod git;
pub(crate) mod owner;
pub(crate) mod plan;
pub mod quote;
pub(crate) mod render;
pub(crate) mod review;
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
use config::Settings;
use edit::Patch;
use error::{exit, Error};
use plan::{Only, PlanOptions};
use render::report::Planned;
use scan::{Scan, ScanOptions};
use templates::Templates;
use verify::FilePlan;

/// Run the command; the result is the process exit code (DESIGN §6):
/// check the flags and the repository (settling a run killed midway),
/// scan, plan and check the changes, then commit, write patches, apply,
/// and report. A failure after something was changed is partial (exit 4).
///
/// Made for a process that ends when it returns (`main` exits at once):
/// the scan, its plans and its report are left for the exit to free.
/// Freeing them piece by piece took a tenth of the run on a file of 8,000
/// findings, one core alone, for memory the exit gives back at once.
pub fn run(cli: &Cli) -> Result<i32, Error> {
    if let Some(code) = &cli.explain {
        return explain(code);
    }
    if let Some(shell) = cli.completions {
        return print(&cli::completions(shell));
    }
    if cli.man {
        return print(&cli::man_page()?);
    }
    let settings = config::resolve(cli)?;
    if cli.show_settings {
        let _ = std::io::stdout().write_all(settings.show().as_bytes());
        return Ok(exit::OK);
    }
    let opts = options(cli, &settings);
    if cli.interactive && !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Error::Usage(
            "--interactive needs a terminal on stdin (use --only to choose findings in scripts)"
                .to_string(),
        ));
    }
    let templates = Templates::load(settings.templates.value.as_deref())?;
    let mut plan_opts = PlanOptions {
        only: cli.only.iter().map(|o| Only::parse(o)).collect(),
        classes: cli.classes.iter().map(|&c| class_of(c)).collect(),
        todo_manual: settings.todo_manual.value,
        corrupt: testhook::corrupt_plan(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let repo = open_repository(cli, &opts)?;
    let (scan, mut plans) = pool.install(|| -> Result<_, Error> {
        let scan = scan::scan_tree(&opts)?;
        plan::check_only(&scan.files, &plan_opts.only)?;
        let plans = verify::plan_and_check(&scan, &opts, &plan_opts, &templates)?;
        Ok((scan, plans))
    })?;
    if cli.interactive {
        match accepted_interactively(cli, &scan, &plans)? {
            None => {
                for plan in &mut plans {
                    plan.changes.clear();
                    plan.checked = None;
                }
            }
            Some(accepted) => {
                plan_opts.only = accepted;
                plans =
                    pool.install(|| verify::plan_and_check(&scan, &opts, &plan_opts, &templates))?;
            }
        }
    }
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
        series::build(&scan, &plans, cli.group(), &templates)?
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
    report(cli, &opts, &scan, &plans, failed, &out, &mut stderr)?;
    let code = exit_code(cli, &scan, &plans, &applied, failed);
    // Left for the exit to free (see above).
    std::mem::forget((scan, plans, series));
    Ok(code)
}

/// The repository `--commit` works in, checked before anything is
/// scanned (fail fast), with a run killed midway settled first; and the
/// identity and branch flags checked.
fn open_repository(cli: &Cli, opts: &ScanOptions) -> Result<Option<git2::Repository>, Error> {
    let repo = match cli.action() {
        Action::Commit => Some(git::open(&opts.paths[0])?),
        _ => None,
    };
    if let Some(repo) = &repo {
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
    Ok(repo)
}

/// `--interactive`: the findings the reviewer accepted (`None`: none).
fn accepted_interactively(
    cli: &Cli,
    scan: &Scan,
    plans: &[FilePlan],
) -> Result<Option<Vec<Only>>, Error> {
    let color = cli.color != cli::ColorChoice::Never && std::env::var_os("NO_COLOR").is_none();
    let mut input = std::io::stdin().lock();
    let accepted = review::review(scan, plans, &mut input, &mut std::io::stderr(), color)
        .map_err(|e| Error::Usage(format!("--interactive: {e}")))?;
    Ok((!accepted.is_empty()).then_some(accepted))
}

/// The class a `--class` value names.
fn class_of(c: cli::ClassArg) -> analyze::Class {
    match c {
        cli::ClassArg::Rewrite => analyze::Class::Rewrite,
        cli::ClassArg::Fresh => analyze::Class::Fresh,
        cli::ClassArg::Lock => analyze::Class::Lock,
        cli::ClassArg::Manual => analyze::Class::Manual,
    }
}

/// A name as messages show it: quoted like git when it needs it, control
/// characters escaped (the message may go to a terminal).
fn shown(name: &str) -> String {
    quote::visible(&quote::path(name)).into_owned()
}

/// A submodule's (or a nested repository's) files are committed there, not here.
fn leave_submodules(repo: &git2::Repository, scan: &Scan, plans: &mut [FilePlan]) {
    for (file, plan) in scan.files.iter().zip(plans.iter_mut()) {
        if plan.checked.is_none() {
            continue;
        }
        if let Some(sub) = git::submodule_of(repo, &file.path) {
            plan.checked = None;
            plan.refused = Some(format!("inside {sub}; run dims-fix --commit there"));
        }
    }
}

/// A file reached through a link that `--follow` followed out of the
/// scanned paths is read and reported, never written.
fn leave_outside(opts: &ScanOptions, scan: &Scan, plans: &mut [FilePlan]) {
    for (file, plan) in scan.files.iter().zip(plans.iter_mut()) {
        if plan.checked.is_some() && discover::outside(&file.path, &opts.paths) {
            plan.checked = None;
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
        applied[i] = plan.checked.is_some();
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
    // The commits' author dates when committed (as git format-patch
    // writes them), else now.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let dates: Vec<String> = (0..series.len())
        .map(|i| {
            let when = commit_ids
                .and_then(|ids| ids.get(i))
                .and_then(|id| git2::Oid::from_str(id).ok())
                .and_then(|oid| repo?.find_commit(oid).ok())
                .map(|c| c.author().when());
            match when {
                Some(t) => series::git_date(t.seconds(), t.offset_minutes()),
                None => series::git_date(now, 0),
            }
        })
        .collect();
    // Blob names abbreviated like git's: 7 digits, more where the
    // repository holds another object with the same prefix.
    let abbrev = |oid: git2::Oid| {
        repo.and_then(|r| r.find_object(oid, None).ok())
            .and_then(|o| o.short_id().ok())
            .and_then(|b| b.as_str().ok().map(str::to_string))
            .unwrap_or_else(|| oid.to_string()[..7].to_string())
    };
    let written = series::write_patch_dir(
        dir,
        series,
        &author.to_string(),
        &dates,
        commit_ids,
        &abbrev,
    )?;
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
        let Some(new) = plan.new_text(&file.text) else {
            continue;
        };
        let name = shown(&file.rel);
        match apply::write_atomically(&file.path, &file.text, &new, write_opts) {
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
    failed: bool,
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
    let planned = |fi: usize, ni: usize| -> Option<Planned> {
        let file = &scan.files[fi];
        plans[fi].checked.as_ref()?;
        let change = &plans[fi].changes[*change_of[fi].get(&ni)?];
        let patch = Patch::new(change.edits.clone()).ok()?;
        Some(Planned {
            diff: render::diff::unified_patch(&file.rel, &file.text, &patch, &file.lines),
            edits: (change.findings.first() == Some(&ni)).then(|| change.edits.clone()),
        })
    };
    let report = render::report::build(scan, &planned);
    if cli.verbose {
        for n in &scan.notes {
            let _ = writeln!(stderr, "dims-fix: {}: {}", shown(&n.file), n.note);
        }
    }
    let dry_run = cli.action() == Action::DryRun;
    let machine = match cli.format {
        Format::Text => {
            if dry_run {
                let mut diffs = String::new();
                for (file, plan) in scan.files.iter().zip(plans) {
                    if let Some(new) = plan.new_text(&file.text) {
                        diffs.push_str(&render::diff::unified(&file.rel, &file.text, &new));
                    }
                }
                let shown = render::diff::display(&diffs, out.color, out.terminal);
                out.write(shown.as_bytes())?;
            }
            None
        }
        Format::Json => Some(serde_json::to_vec_pretty(&report)),
        Format::Sarif => {
            let sarif_opts = render::sarif::SarifOptions {
                report_fresh: cli.report_fresh,
                successful: !failed,
            };
            let log = render::sarif::build(&report, &opts.root, &sarif_opts);
            Some(serde_json::to_vec_pretty(&log))
        }
        Format::Github => Some(Ok(
            render::github::annotations(&report, cli.report_fresh).into_bytes()
        )),
    };
    match machine {
        // Views of plain data always serialize.
        Some(bytes) => {
            report_skips(stderr, scan);
            let mut bytes = bytes.unwrap_or_default();
            if cli.format != Format::Github {
                bytes.push(b'\n');
            }
            out.write(&bytes)?;
        }
        None if cli.quiet => report_skips(stderr, scan),
        None => {
            let _ = render::text::write(stderr, &report);
        }
    }
    if !cli.quiet && matches!(cli.format, Format::Text | Format::Github) {
        let kinds: Vec<_> = plans
            .iter()
            .filter(|p| p.checked.is_some())
            .flat_map(|p| p.changes.iter().map(|c| c.kind))
            .collect();
        for line in render::text::next_steps(dry_run, &kinds, &report) {
            let _ = writeln!(stderr, "{line}");
        }
    }
    let written = out.write(b"");
    // Left for the exit to free, as the scan is (see `run`).
    std::mem::forget(report);
    written
}

/// `--completions SHELL` and `--man`: generated text on stdout.
fn print(bytes: &[u8]) -> Result<i32, Error> {
    let _ = std::io::stdout().write_all(bytes);
    Ok(exit::OK)
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

/// What to scan, from the resolved settings.
fn options(cli: &Cli, settings: &Settings) -> ScanOptions {
    ScanOptions {
        paths: settings.paths.clone(),
        root: settings.root.value.clone(),
        include: settings.include.value.clone(),
        exclude: settings.exclude.value.clone(),
        max_file_size: settings.max_file_size.value,
        dims_macros: settings.dims_macros.value.clone(),
        strides_macros: settings.strides_macros.value.clone(),
        strides: settings.strides.value,
        meta: analyze::MetaSet::of(
            settings
                .fields
                .value
                .iter()
                .filter_map(|f| analyze::Kind::of_field(f)),
        ),
        ignore_macros: settings.ignore_macros.value.clone(),
        hidden: settings.hidden.value,
        threads: cli.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        ),
        follow: cli.follow,
        notes: cli.verbose,
        no_ignore: settings.no_ignore.value,
        write_filter: !cli.parse_all,
    }
}
