//! The settings files: which one holds a run's settings, and what a file
//! may hold (unknown keys are errors naming the file, line and key).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// The files looked for in each directory, in this order; the first that
/// holds settings is used (a `pyproject.toml` without `[tool.dims-fix]`
/// holds none, and the search goes on upward).
pub const FILE_NAMES: &[&str] = &[".dims-fix.toml", "dims-fix.toml", "pyproject.toml"];

/// The settings a file may hold: the flags a project repeats on every run.
/// An unknown key is an error naming the file and the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct FileSettings {
    /// The metadata fields to analyse (`all` for every one); the shape
    /// (`dims`) always is.
    pub(super) fields: Option<Vec<Field>>,
    /// The same as `"strides"` in `fields`.
    pub(super) strides: Option<bool>,
    pub(super) dims_macro: Option<Vec<String>>,
    pub(super) strides_macro: Option<Vec<String>>,
    pub(super) hidden: Option<bool>,
    pub(super) no_ignore: Option<bool>,
    pub(super) ignore_macro: Option<Vec<String>>,
    pub(super) include: Option<Vec<String>>,
    pub(super) exclude: Option<Vec<String>>,
    /// A directory, relative to the file that names it.
    pub(super) templates: Option<PathBuf>,
    pub(super) todo_manual: Option<bool>,
    pub(super) max_file_size: Option<u64>,
}

/// A metadata field the analysis can cover (DESIGN §3b names the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Field {
    Dims,
    Strides,
    Descr,
    Flags,
    Nd,
    Data,
    Base,
    All,
}

impl Field {
    /// The `--fields` name (`all` expands to every field).
    pub(super) fn names(self) -> &'static [&'static str] {
        match self {
            Field::Dims => &["dims"],
            Field::Strides => &["strides"],
            Field::Descr => &["descr"],
            Field::Flags => &["flags"],
            Field::Nd => &["nd"],
            Field::Data => &["data"],
            Field::Base => &["base"],
            Field::All => crate::cli::FIELDS,
        }
    }
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

pub(super) fn no_table(path: &Path) -> Error {
    Error::Usage(format!(
        "{}: has no [tool.dims-fix] table",
        crate::quote::path(&path.to_string_lossy())
    ))
}

/// The nearest file with settings in `dir` or above it.
pub(super) fn find(dir: &Path) -> Result<Option<(PathBuf, FileSettings)>, Error> {
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
pub(super) fn load(path: &Path) -> Result<Option<FileSettings>, Error> {
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
        ("strides-macro", &fs.strides_macro),
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
