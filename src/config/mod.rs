//! Per-project settings: `[tool.dims-fix]` in `pyproject.toml`, or a
//! `dims-fix.toml`, found upward from the first path as ruff finds its
//! own; merged with the flags, which win. Every resolved setting remembers
//! where it came from (`--show-settings`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, FIELDS};
use crate::error::Error;

mod file;
mod root;

pub use file::FILE_NAMES;
use file::{find, load, no_table, FileSettings};
pub use root::git_root;

/// Skip files larger than this unless told otherwise (16 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

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
    /// Whether the paths were given (else the current directory).
    pub paths_given: bool,
    /// Report and diff paths are relative to this directory.
    pub root: Setting<PathBuf>,
    /// The configuration file used, if any.
    pub file: Option<PathBuf>,
    /// Where the search for a file started (the first path's directory).
    pub searched_from: PathBuf,
    pub strides: Setting<bool>,
    /// Every field analysed, in [`FIELDS`] order (`dims` always).
    pub fields: Setting<Vec<&'static str>>,
    pub dims_macros: Setting<Vec<String>>,
    pub strides_macros: Setting<Vec<String>>,
    pub hidden: Setting<bool>,
    pub no_ignore: Setting<bool>,
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
    let paths = root::operands(cli)?;
    let root = root::root(cli, &paths)?;
    let searched_from = root::dir_of(&paths[0]);
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
    settings.paths_given = !cli.paths.is_empty();
    settings.root = root;
    Ok(settings)
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

/// The fields a list names (`all`: every one), in [`FIELDS`] order, with
/// the shape always in.
fn field_list<'n>(names: impl IntoIterator<Item = &'n str>) -> Vec<&'static str> {
    let named: Vec<&str> = names.into_iter().collect();
    FIELDS
        .iter()
        .copied()
        .filter(|f| *f == "dims" || named.contains(f) || named.contains(&"all"))
        .collect()
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
    let file_fields = fs.fields.as_ref().map(|f| {
        let mut names: Vec<&str> = f.iter().flat_map(|f| f.names().iter().copied()).collect();
        if fs.strides == Some(true) {
            names.push("strides");
        }
        field_list(names)
    });
    let from_fields = file_fields.as_ref().map(|f| f.contains(&"strides"));
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
        paths_given: false,
        root: Setting {
            value: PathBuf::new(),
            origin: Origin::Default,
        },
        // `--fields` names every field: strides are in only if it says so.
        strides: pick(
            (cli.strides || !cli.fields.is_empty())
                .then(|| cli.strides || cli.fields.iter().any(|f| f == "strides" || f == "all")),
            from_fields.or(fs.strides),
            false,
            p,
        ),
        fields: pick(
            (!cli.fields.is_empty() || cli.strides).then(|| {
                let mut names: Vec<&str> = cli.fields.iter().map(String::as_str).collect();
                if cli.strides {
                    names.push("strides");
                }
                field_list(names)
            }),
            file_fields.or_else(|| fs.strides.map(|s| field_list(s.then_some("strides")))),
            vec!["dims"],
            p,
        ),
        dims_macros: pick(given(&cli.dims_macros), fs.dims_macro, Vec::new(), p),
        strides_macros: pick(given(&cli.strides_macros), fs.strides_macro, Vec::new(), p),
        hidden: pick(cli.hidden.then_some(true), fs.hidden, false, p),
        no_ignore: pick(cli.no_ignore.then_some(true), fs.no_ignore, false, p),
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
        let origin = if self.paths_given {
            Origin::Flag
        } else {
            Origin::Default
        };
        line(&mut out, "paths", &paths, &origin);
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
        let fields: Vec<String> = self.fields.value.iter().map(|f| f.to_string()).collect();
        line(&mut out, "fields", &fields, &self.fields.origin);
        let lists = [
            ("dims-macro", &self.dims_macros),
            ("strides-macro", &self.strides_macros),
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
        line(&mut out, "hidden", &self.hidden.value, &self.hidden.origin);
        let n = &self.no_ignore;
        line(&mut out, "no-ignore", &n.value, &n.origin);
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
