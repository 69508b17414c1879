//! Per-project settings: `[tool.dims-fix]` in `pyproject.toml`, or a
//! `dims-fix.toml`, found upward from the first path as ruff finds its
//! own; merged with the flags, which win. Every resolved setting remembers
//! where it came from (`--show-settings`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::Cli;
use crate::error::Error;

/// The files looked for in each directory, in this order; the first that
/// holds settings is used (a `pyproject.toml` without `[tool.dims-fix]`
/// holds none, and the search goes on upward).
pub const FILE_NAMES: &[&str] = &[".dims-fix.toml", "dims-fix.toml", "pyproject.toml"];

/// Skip files larger than this unless told otherwise (16 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// The settings a file may hold: the flags a project repeats on every run.
/// An unknown key is an error naming the file and the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSettings {
    /// The metadata fields to analyse; the shape (`dims`) always is.
    fields: Option<Vec<Field>>,
    /// The same as `"strides"` in `fields`.
    strides: Option<bool>,
    dims_macro: Option<Vec<String>>,
    ignore_macro: Option<Vec<String>>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    /// A directory, relative to the file that names it.
    templates: Option<PathBuf>,
    todo_manual: Option<bool>,
    max_file_size: Option<u64>,
}

/// A metadata field the analysis can cover (DESIGN §3b names the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Field {
    Dims,
    Strides,
}

/// `pyproject.toml`: only `[tool.dims-fix]` is ours; the rest is ignored.
#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(rename = "dims-fix")]
    dims_fix: Option<FileSettings>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    Flag,
    File(PathBuf),
    /// Worked out from the paths (the report root): how.
    Derived(&'static str),
}

/// A resolved value and its origin.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

/// The settings of a run: the flags over the file over the defaults.
#[derive(Debug)]
pub struct Settings {
    /// The paths to scan, canonical (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Report and diff paths are relative to this directory.
    pub root: Setting<PathBuf>,
    /// The configuration file used, if any.
    pub file: Option<PathBuf>,
    /// Where the search for a file started (the first path's directory).
    pub searched_from: PathBuf,
    pub strides: Setting<bool>,
    pub dims_macros: Setting<Vec<String>>,
    pub ignore_macros: Setting<Vec<String>>,
    pub include: Setting<Vec<String>>,
    pub exclude: Setting<Vec<String>>,
    pub templates: Setting<Option<PathBuf>>,
    pub todo_manual: Setting<bool>,
    pub max_file_size: Setting<u64>,
}

/// The settings for this command line: the file is the one `--config`
/// names, else the nearest above the first path (none with `--no-config`).
pub fn resolve(cli: &Cli) -> Result<Settings, Error> {
    let paths = operands(cli)?;
    let root = root(cli, &paths)?;
    let searched_from = dir_of(&paths[0]);
    let found = match (&cli.config, cli.no_config) {
        (_, true) => None,
        (Some(path), _) => Some((path.clone(), load(path)?.ok_or_else(|| no_table(path))?)),
        (None, false) => find(&searched_from)?,
    };
    let (file, fs) = match found {
        Some((path, fs)) => (Some(path), fs),
        None => (None, FileSettings::default()),
    };
    let mut settings = merge(cli, file, fs, searched_from)?;
    settings.paths = paths;
    settings.root = root;
    Ok(settings)
}

/// The path operands (default `.`), canonical; a missing one is an error.
fn operands(cli: &Cli) -> Result<Vec<PathBuf>, Error> {
    let operands = if cli.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        cli.paths.clone()
    };
    operands
        .iter()
        .map(|p| {
            p.canonicalize().map_err(|e| Error::BadPath {
                path: p.clone(),
                reason: match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    _ => e.to_string(),
                },
            })
        })
        .collect()
}

/// A directory, or a file's directory.
fn dir_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// The report root: `--root`; else the git work tree holding the first
/// path; else the current directory when it holds every path, so that the
/// printed diff applies (`git apply`, `patch -p1`) where it was run; else
/// the deepest directory holding them all.
fn root(cli: &Cli, paths: &[PathBuf]) -> Result<Setting<PathBuf>, Error> {
    let derived = |value, how| Setting {
        value,
        origin: Origin::Derived(how),
    };
    let root = match &cli.root {
        Some(r) => Setting {
            value: r.canonicalize().map_err(|e| Error::BadPath {
                path: r.clone(),
                reason: e.to_string(),
            })?,
            origin: Origin::Flag,
        },
        None => match git_root(&paths[0]) {
            Some(git) => derived(git, "the git work tree holding the first path"),
            None => match std::env::current_dir().and_then(|d| d.canonicalize()) {
                Ok(cwd) if paths.iter().all(|p| p.starts_with(&cwd)) => {
                    derived(cwd, "the current directory")
                }
                _ => derived(common_dir(paths), "the directory holding the paths"),
            },
        },
    };
    if let Some(outside) = paths.iter().find(|p| !p.starts_with(&root.value)) {
        return Err(Error::Usage(format!(
            "--root {}: does not contain {}; report and diff paths are relative to the root",
            root.value.display(),
            outside.display()
        )));
    }
    Ok(root)
}

/// The work tree of the git repository containing `path`, if any.
pub fn git_root(path: &Path) -> Option<PathBuf> {
    dir_of(path)
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The deepest directory containing every path (a file counts as its parent).
fn common_dir(paths: &[PathBuf]) -> PathBuf {
    let mut common = dir_of(&paths[0]);
    for p in &paths[1..] {
        let d = dir_of(p);
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

fn no_table(path: &Path) -> Error {
    Error::Usage(format!(
        "{}: has no [tool.dims-fix] table",
        crate::quote::path(&path.to_string_lossy())
    ))
}

/// The nearest file with settings in `dir` or above it.
fn find(dir: &Path) -> Result<Option<(PathBuf, FileSettings)>, Error> {
    for d in dir.ancestors() {
        for name in FILE_NAMES {
            let path = d.join(name);
            if !path.is_file() {
                continue;
            }
            if let Some(fs) = load(&path)? {
                return Ok(Some((path, fs)));
            }
        }
    }
    Ok(None)
}

/// The settings a file holds: `None` for a `pyproject.toml` without
/// `[tool.dims-fix]`; an error naming the file, line and key for a file
/// that does not parse or holds an unknown key or a bad value.
fn load(path: &Path) -> Result<Option<FileSettings>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let parsed = if pyproject {
        toml::from_str::<Pyproject>(&text)
            .map(|p| p.tool.and_then(|t| t.dims_fix))
            .map_err(|e| bad_file(path, &text, &e, "[tool.dims-fix]"))?
    } else {
        Some(toml::from_str::<FileSettings>(&text).map_err(|e| bad_file(path, &text, &e, ""))?)
    };
    if let Some(fs) = &parsed {
        check_names(path, fs)?;
    }
    Ok(parsed)
}

/// `FILE:LINE: message`, from a TOML or settings error.
fn bad_file(path: &Path, text: &str, err: &toml::de::Error, table: &str) -> Error {
    let name = crate::quote::path(&path.to_string_lossy()).into_owned();
    let line = err
        .span()
        .map(|s| format!(":{}", crate::span::line_of(text.as_bytes(), s.start)))
        .unwrap_or_default();
    let within = if table.is_empty() {
        String::new()
    } else {
        format!(" (in {table})")
    };
    Error::Usage(format!(
        "{name}{line}: {}{within}",
        err.message().trim_end()
    ))
}

/// Macro names must be C identifiers, as on the command line.
fn check_names(path: &Path, fs: &FileSettings) -> Result<(), Error> {
    let lists = [
        ("dims-macro", &fs.dims_macro),
        ("ignore-macro", &fs.ignore_macro),
    ];
    for (key, list) in lists {
        for name in list.iter().flatten() {
            crate::cli::identifier(name).map_err(|e| {
                Error::Usage(format!(
                    "{}: {key}: {e}",
                    crate::quote::path(&path.to_string_lossy())
                ))
            })?;
        }
    }
    for (key, list) in [("include", &fs.include), ("exclude", &fs.exclude)] {
        if list.iter().flatten().any(String::is_empty) {
            return Err(Error::Usage(format!(
                "{}: {key}: an empty glob",
                crate::quote::path(&path.to_string_lossy())
            )));
        }
    }
    Ok(())
}

/// One setting: the flag's value when given, else the file's, else the default.
fn pick<T>(flag: Option<T>, file: Option<T>, default: T, path: Option<&PathBuf>) -> Setting<T> {
    match (flag, file, path) {
        (Some(value), _, _) => Setting {
            value,
            origin: Origin::Flag,
        },
        (None, Some(value), Some(p)) => Setting {
            value,
            origin: Origin::File(p.clone()),
        },
        _ => Setting {
            value: default,
            origin: Origin::Default,
        },
    }
}

/// A list flag counts as given when it holds a value.
fn given(list: &[String]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.to_vec())
}

fn merge(
    cli: &Cli,
    file: Option<PathBuf>,
    fs: FileSettings,
    searched_from: PathBuf,
) -> Result<Settings, Error> {
    let p = file.as_ref();
    let from_fields = fs.fields.as_ref().map(|f| f.contains(&Field::Strides));
    if let (Some(a), Some(b), Some(path)) = (from_fields, fs.strides, p) {
        if a != b {
            return Err(Error::Usage(format!(
                "{}: `strides = {b}` disagrees with `fields`; give one of them",
                crate::quote::path(&path.to_string_lossy())
            )));
        }
    }
    let base = p.and_then(|f| f.parent()).unwrap_or(Path::new("."));
    let templates = fs.templates.map(|t| Some(base.join(t)));
    Ok(Settings {
        paths: Vec::new(),
        root: Setting {
            value: PathBuf::new(),
            origin: Origin::Default,
        },
        strides: pick(
            cli.strides.then_some(true),
            from_fields.or(fs.strides),
            false,
            p,
        ),
        dims_macros: pick(given(&cli.dims_macros), fs.dims_macro, Vec::new(), p),
        ignore_macros: pick(given(&cli.ignore_macros), fs.ignore_macro, Vec::new(), p),
        include: pick(given(&cli.include), fs.include, Vec::new(), p),
        exclude: pick(given(&cli.exclude), fs.exclude, Vec::new(), p),
        templates: pick(cli.templates.clone().map(Some), templates, None, p),
        todo_manual: pick(cli.todo_manual.then_some(true), fs.todo_manual, false, p),
        max_file_size: pick(
            cli.max_file_size,
            fs.max_file_size,
            DEFAULT_MAX_FILE_SIZE,
            p,
        ),
        file,
        searched_from,
    })
}

impl Settings {
    /// `--show-settings`: each setting as a TOML line, its origin in a comment.
    pub fn show(&self) -> String {
        let mut out = String::new();
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        line(&mut out, "paths", &paths, &Origin::Flag);
        let root = self.root.value.display().to_string();
        line(&mut out, "root", &root, &self.root.origin);
        let _ = match &self.file {
            Some(f) => writeln!(out, "# configuration file: {}", f.display()),
            None => writeln!(
                out,
                "# configuration file: none (looked upward from {} for {})",
                self.searched_from.display(),
                FILE_NAMES.join(", ")
            ),
        };
        let fields = if self.strides.value {
            vec!["dims", "strides"]
        } else {
            vec!["dims"]
        };
        line(&mut out, "fields", &fields, &self.strides.origin);
        let lists = [
            ("dims-macro", &self.dims_macros),
            ("ignore-macro", &self.ignore_macros),
            ("include", &self.include),
            ("exclude", &self.exclude),
        ];
        for (key, s) in lists {
            line(&mut out, key, &s.value, &s.origin);
        }
        let templates = self
            .templates
            .value
            .as_ref()
            .map_or_else(|| "built-in".to_string(), |t| t.display().to_string());
        line(&mut out, "templates", &templates, &self.templates.origin);
        let t = &self.todo_manual;
        line(&mut out, "todo-manual", &t.value, &t.origin);
        let m = &self.max_file_size;
        line(&mut out, "max-file-size", &m.value, &m.origin);
        out
    }
}

/// `key = value  # origin`, the value as TOML writes it.
fn line<T: serde::Serialize + ?Sized>(out: &mut String, key: &str, value: &T, origin: &Origin) {
    let value = toml::Value::try_from(value).map_or_else(|_| String::new(), |v| v.to_string());
    let origin = match origin {
        Origin::Default => "default".to_string(),
        Origin::Flag => "command line".to_string(),
        Origin::File(p) => p.display().to_string(),
        Origin::Derived(how) => how.to_string(),
    };
    let _ = writeln!(out, "{key} = {value}  # {origin}");
}
