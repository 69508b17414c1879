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
    let commit_opts = git::CommitOptions {
        branch: cli.branch.clone(),
        force_branch: cli.force_branch,
        author: cli.author.clone(),
        signoff: cli.signoff,
    };
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
                plan.refused = Some(format!(
                    "inside submodule {sub}; run dims-fix --commit there"
                ));
            }
        }
    }

    let mut stdout = anstream::AutoStream::new(std::io::stdout(), color);
    let mut stderr = anstream::AutoStream::new(std::io::stderr(), color);
    let mut failed = false;
    let mut applied = vec![false; scan.files.len()];
    let series = if cli.action() == Action::Commit || cli.patch_dir.is_some() {
        series::build(&scan, &plans, cli.group, &templates)?
    } else {
        Vec::new()
    };
    let mut commit_ids: Option<Vec<String>> = None;
    if let Some(repo) = &repo {
        if series.is_empty() {
            let _ = writeln!(stderr, "dims-fix: nothing to commit");
        } else {
            let ids = git::commit_series(repo, &series, &commit_opts)?;
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
            let author = git::identity(repo.as_ref(), cli.author.as_deref(), "AUTHOR")?;
            let date = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc2822)
                .unwrap_or_default();
            let written = series::write_patch_dir(
                dir,
                &series,
                &author.to_string(),
                &date,
                commit_ids.as_deref(),
            )?;
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
            match apply::write_atomically(&file.path, &file.text, new) {
                Ok(()) => {
                    applied[i] = true;
                    let n = plan.changes.len();
                    let _ = writeln!(
                        stderr,
                        "dims-fix: wrote {} ({n} change{})",
                        file.rel,
                        if n == 1 { "" } else { "s" }
                    );
                }
                Err(Error::Changed { .. }) => {
                    failed = true;
                    let _ = writeln!(
                        stderr,
                        "dims-fix: {}: changed since it was read; not written (run dims-fix again)",
                        file.rel
                    );
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
            let _ = writeln!(stderr, "dims-fix: {}: {why}", file.rel);
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
                let _ = stdout.write_all(render::diff::colorize(&diffs).as_bytes());
            }
            render::text::write(&mut stderr, &report)
        }
        Format::Json => {
            report_skips(&mut stderr, &scan);
            serde_json::to_writer_pretty(&mut stdout, &report)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(stdout))
        }
        Format::Sarif => {
            report_skips(&mut stderr, &scan);
            serde_json::to_writer_pretty(&mut stdout, &render::sarif::build(&report, &opts.root))
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(stdout))
        }
    };
    if let Err(e) = written.and_then(|_| stdout.flush()) {
        // A closed pipe (`dims-fix | head`) is not an error of ours.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(Error::Io {
                path: PathBuf::from("<stdout>"),
                source: e,
            });
        }
    }
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
        let _ = writeln!(out, "dims-fix: {}: {}", s.path.display(), s.reason);
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
    Ok(ScanOptions {
        paths,
        root,
        include: cli.include.clone(),
        exclude: cli.exclude.clone(),
        max_file_size: cli.max_file_size,
        dims_macros: cli.dims_macros.clone(),
        strides: cli.strides,
        ignore_macros: cli.ignore_macros.clone(),
        threads: cli
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
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
