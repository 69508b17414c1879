//! dims-fix: find, classify and fix writes to a NumPy array's own shape
//! storage — the data race of numpy#28197 under free-threaded Python.
//!
//! The pipeline, one module per stage: [`discover`] (walk, prefilter) →
//! [`source`] (read, mask, parse) → [`analyze`] (facts, summaries, classes)
//! → [`plan`] (edits) → [`patch`] (apply, verify) → [`render`] (reports,
//! diffs) | [`apply`] (atomic writes). [`scan`] runs the analysis stages;
//! [`run`] is the command.

pub mod analyze;
pub mod apply;
pub mod cli;
pub mod discover;
pub mod error;
pub mod git;
pub mod invariants;
pub mod owner;
pub mod patch;
pub mod plan;
pub mod quote;
pub mod render;
pub mod scan;
pub mod series;
pub mod source;
pub mod synth;
pub mod templates;
pub mod testhook;

use std::io::Write;
use std::path::{Path, PathBuf};

use anstream::ColorChoice;
use rayon::prelude::*;

use cli::{Action, Cli, Format};
use error::{exit, Error};
use patch::Patch;
use plan::{Change, Only, PlanOptions};
use scan::{Scan, ScanOptions};
use templates::Templates;

/// What was planned for one file of the scan.
pub struct FilePlan {
    pub changes: Vec<Change>,
    /// The whole result, when there are changes and they passed the checks.
    pub new_text: Option<String>,
    /// Why the file is left untouched, when its plan failed a check.
    pub refused: Option<String>,
}

/// Run the command; the result is the process exit code (DESIGN §6).
pub fn run(cli: Cli) -> Result<i32, Error> {
    let opts = options(&cli)?;
    let templates = Templates::load(cli.templates.as_deref())?;
    let plan_opts = PlanOptions {
        only: cli.only.iter().map(|o| Only::parse(o)).collect(),
        todo_manual: cli.todo_manual,
        // Test hook: lets the tests prove that a broken plan is refused.
        corrupt: std::env::var_os("DIMS_FIX_TEST_CORRUPT_PLAN").is_some(),
    };
    let color = match cli.color {
        cli::ColorChoice::Auto => ColorChoice::Auto,
        cli::ColorChoice::Always => ColorChoice::Always,
        cli::ColorChoice::Never => ColorChoice::Never,
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
    let commit_opts = git::CommitOptions {
        branch: cli.branch.clone(),
        force_branch: cli.force_branch,
        author: cli.author.clone(),
        signoff: cli.signoff,
        force: cli.force,
    };
    let write_opts = apply::WriteOptions { force: cli.force };
    if let Some(author) = &cli.author {
        git::parse_identity(author)?;
    }
    if let Some(branch) = &cli.branch {
        git::check_branch_name(branch)?;
    }
    let (scan, mut plans) = pool.install(|| -> Result<_, Error> {
        let scan = scan::scan(&opts)?;
        let plans = plan_all(&scan, &opts, &plan_opts, &templates)?;
        Ok((scan, plans))
    })?;
    if let Some(repo) = &repo {
        // A submodule's files are committed in the submodule, not here.
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
    if cli.action() != Action::DryRun {
        // Reached through a link that --follow followed: read, never written.
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

    // The diff and JSON go out byte for byte (a patch must apply): never
    // through a stream that strips escape sequences. Colour is added only
    // when it is on, and control characters escaped only on a terminal.
    let mut stdout = std::io::stdout().lock();
    let stdout_terminal = std::io::IsTerminal::is_terminal(&stdout);
    let stdout_color = match color {
        ColorChoice::Auto => matches!(
            anstream::AutoStream::choice(&std::io::stdout()),
            ColorChoice::Always | ColorChoice::AlwaysAnsi
        ),
        ColorChoice::Always | ColorChoice::AlwaysAnsi => true,
        ColorChoice::Never => false,
    };
    let mut stderr = anstream::AutoStream::new(std::io::stderr(), color);
    let mut failed = false;
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
    // From here on a failure after a change is reported as partial (exit 4).
    let mut changed_something = false;
    let mut commit_ids: Option<Vec<String>> = None;
    if let Some(repo) = &repo {
        testhook::pause("before-commit");
        if series.is_empty() {
            let _ = writeln!(stderr, "dims-fix: nothing to commit");
        } else {
            let ids = git::commit_series(repo, &series, &commit_opts)?;
            changed_something = true;
            for (id, step) in ids.iter().zip(&series) {
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
            commit_ids = Some(ids.iter().map(|id| id.to_string()).collect());
        }
    }
    if let Some(dir) = &cli.patch_dir {
        if !series.is_empty() {
            let author = git::identity(repo.as_ref(), cli.author.as_deref(), "AUTHOR")
                .map_err(|e| after_changes(e, changed_something))?;
            let date = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc2822)
                .unwrap_or_default();
            let written = series::write_patch_dir(
                dir,
                &series,
                &author.to_string(),
                &date,
                commit_ids.as_deref(),
            )
            .map_err(|e| after_changes(e, changed_something))?;
            let _ = writeln!(
                stderr,
                "dims-fix: wrote {} patches to {}",
                written.len(),
                dir.display()
            );
        }
    }
    if cli.action() == Action::Apply {
        testhook::pause("before-write");
        for (i, (file, plan)) in scan.files.iter().zip(&plans).enumerate() {
            let Some(new) = &plan.new_text else { continue };
            let name = quote::visible(&quote::path(&file.rel)).into_owned();
            match apply::write_atomically(&file.path, &file.text, new, write_opts) {
                Ok(()) => {
                    applied[i] = true;
                    changed_something = true;
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
    }
    for (file, plan) in scan.files.iter().zip(&plans) {
        if let Some(why) = &plan.refused {
            failed = true;
            let _ = writeln!(
                stderr,
                "dims-fix: {}: {why}",
                quote::visible(&quote::path(&file.rel))
            );
        }
    }

    let finding_diff = |fi: usize, ni: usize| -> Option<String> {
        let file = &scan.files[fi];
        let change = plans[fi]
            .changes
            .iter()
            .find(|c| c.findings.contains(&ni))?;
        plans[fi].new_text.as_ref()?;
        let patch = Patch::new(change.edits.clone()).ok()?;
        Some(render::diff::unified(
            &file.rel,
            &file.text,
            &patch.apply(&file.text),
        ))
    };
    let report = render::report::build(&scan, &finding_diff);
    let written = match cli.format {
        Format::Text => {
            if cli.action() == Action::DryRun {
                let mut diffs = String::new();
                for (file, plan) in scan.files.iter().zip(&plans) {
                    if let Some(new) = &plan.new_text {
                        diffs.push_str(&render::diff::unified(&file.rel, &file.text, new));
                    }
                }
                let shown = render::diff::display(&diffs, stdout_color, stdout_terminal);
                write_out(&mut stdout, shown.as_bytes(), changed_something)?;
            }
            // The report is for people: a full or closed stderr is no error.
            let _ = render::text::write(&mut stderr, &report);
            Ok(())
        }
        Format::Json | Format::Sarif => {
            report_skips(&mut stderr, &scan);
            let mut json = if cli.format == Format::Json {
                serde_json::to_vec_pretty(&report)
            } else {
                serde_json::to_vec_pretty(&render::sarif::build(&report, &opts.root))
            }
            .unwrap_or_default();
            json.push(b'\n');
            write_out(&mut stdout, &json, changed_something)
        }
    };
    written?;
    write_out(&mut stdout, b"", changed_something)?;
    Ok(exit_code(&cli, &scan, &plans, &applied, failed))
}

/// Plan and check every file, in parallel.
pub fn plan_all(
    scan: &Scan,
    opts: &ScanOptions,
    plan_opts: &PlanOptions,
    templates: &Templates,
) -> Result<Vec<FilePlan>, Error> {
    scan.files
        .par_iter()
        .map(|file| {
            let changes = plan::plan(file, plan_opts, templates)?;
            if changes.is_empty() {
                return Ok(FilePlan {
                    changes,
                    new_text: None,
                    refused: None,
                });
            }
            let edits = changes
                .iter()
                .flat_map(|c| c.edits.iter().cloned())
                .collect();
            let checked = Patch::new(edits)
                .map_err(|e| format!("internal error: {e}; file left untouched"))
                .and_then(|patch| {
                    let new = patch.apply(&file.text);
                    patch::verify(file, &changes, &new, opts, &scan.summaries)
                        .map(|()| new)
                        .map_err(|refusal| refusal.to_string())
                });
            Ok(match checked {
                Ok(new) => FilePlan {
                    changes,
                    new_text: Some(new),
                    refused: None,
                },
                Err(why) => FilePlan {
                    changes,
                    new_text: None,
                    refused: Some(why),
                },
            })
        })
        .collect()
}

fn report_skips(out: &mut dyn Write, scan: &Scan) {
    for s in &scan.skipped {
        let name = quote::path(&s.path.to_string_lossy()).into_owned();
        let _ = writeln!(out, "dims-fix: {}: {}", quote::visible(&name), s.reason);
    }
}

/// Write to stdout. A closed pipe (`dims-fix | head`) is not an error of
/// ours; another failure is, and after files were written or commits made
/// it must say so (exit 4), not claim that nothing changed.
fn write_out(out: &mut dyn Write, bytes: &[u8], changed: bool) -> Result<(), Error> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(after_changes(
            Error::Io {
                path: PathBuf::from("<stdout>"),
                source: e,
            },
            changed,
        )),
        _ => Ok(()),
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
        strides: cli.strides,
        ignore_macros: cli.ignore_macros.clone(),
        threads: cli.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        ),
        follow: cli.follow,
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
