//! dims-fix: find, classify and fix writes to a NumPy array's own shape
//! storage — the data race of numpy#28197 under free-threaded Python.
//!
//! The pipeline, one module per stage: [`discover`] (walk, prefilter) →
//! [`source`] (read, mask, parse) → [`analyze`] (facts, summaries, classes)
//! → [`render`] (reports). [`scan`] runs the stages; [`run`] is the command.

pub mod analyze;
pub mod cli;
pub mod discover;
pub mod error;
pub mod render;
pub mod scan;
pub mod source;

use std::io::Write;
use std::path::{Path, PathBuf};

use anstream::ColorChoice;

use cli::{Cli, Format};
use error::{exit, Error};
use scan::{Scan, ScanOptions};

/// Run the command; the result is the process exit code (DESIGN §6).
pub fn run(cli: Cli) -> Result<i32, Error> {
    let opts = options(&cli)?;
    let color = match cli.color {
        cli::ColorChoice::Auto => ColorChoice::Auto,
        cli::ColorChoice::Always => ColorChoice::Always,
        cli::ColorChoice::Never => ColorChoice::Never,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let scan = pool.install(|| scan::scan(&opts))?;

    let report = render::report::build(&scan, &|_, _| None);
    let mut stdout = anstream::AutoStream::new(std::io::stdout(), color);
    let mut stderr = anstream::AutoStream::new(std::io::stderr(), color);
    let written = match cli.format {
        Format::Text => render::text::write(&mut stderr, &report),
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
    if let Err(e) = written {
        // A closed pipe (`dims-fix | head`) is not an error of ours.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(Error::Io {
                path: PathBuf::from("<stdout>"),
                source: e,
            });
        }
    }
    Ok(exit_code(&cli, &scan))
}

fn report_skips(out: &mut dyn Write, scan: &Scan) {
    for s in &scan.skipped {
        let _ = writeln!(out, "dims-fix: {}: {}", s.path.display(), s.reason);
    }
}

/// 3 when input was skipped (results incomplete), else 1 when `--check`
/// finds an unacknowledged rewrite/lock/manual finding, else 0.
fn exit_code(cli: &Cli, scan: &Scan) -> i32 {
    if !scan.skipped.is_empty() {
        return exit::SKIPPED;
    }
    let open = scan
        .files
        .iter()
        .flat_map(|f| &f.findings)
        .any(|f| f.class != analyze::Class::Fresh && !f.acknowledged);
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
