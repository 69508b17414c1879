//! Settings files: `[tool.dims-fix]` in `pyproject.toml` or a
//! `dims-fix.toml`, found upward from the first path; flags win; unknown
//! keys are errors naming the file and key; `--show-settings` says where
//! each setting came from.

mod common;

use common::*;
use serde_json::Value;

const MY_DIMS: &str = "void f(PyArrayObject *a)\n{\n    MY_DIMS(a)[0] = 1;\n}\n";

fn functions(out: &std::process::Output) -> Vec<String> {
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {}", stderr(out)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["file"].as_str().unwrap(),
                f["function"].as_str().unwrap()
            )
        })
        .collect()
}

/// Acceptance: `[tool.dims-fix] dims-macro = ["MY_DIMS"]` makes
/// `MY_DIMS(a)[0] = 1` a finding without flags.
#[test]
fn pyproject_dims_macro_makes_a_finding_without_flags() {
    let dir = tree(&[
        (
            "pyproject.toml",
            b"[project]\nname = \"ext\"\n\n[tool.dims-fix]\ndims-macro = [\"MY_DIMS\"]\n",
        ),
        ("src/f.c", MY_DIMS.as_bytes()),
    ]);
    let out = run(&["--format", "json", "src"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(functions(&out), ["src/f.c:f"]);
    // Without the file (or with --no-config) there is nothing to find.
    let out = run(&["--format", "json", "--no-config", "src"], dir.path());
    assert_eq!(functions(&out), Vec::<String>::new());
}

#[test]
fn an_unknown_key_names_the_file_line_and_key() {
    let dir = tree(&[
        (
            "pyproject.toml",
            b"[tool.dims-fix]\nstrides = true\ndims-macros = [\"MY_DIMS\"]\n",
        ),
        ("f.c", MY_DIMS.as_bytes()),
    ]);
    let out = run(&["."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let file = dir.path().canonicalize().unwrap().join("pyproject.toml");
    assert!(
        err.starts_with(&format!(
            "dims-fix: {}:3: unknown field `dims-macros`",
            file.display()
        )),
        "{err}"
    );
    assert!(err.contains("[tool.dims-fix]"), "{err}");
    assert_eq!(stdout(&out), "");

    let dir = tree(&[
        ("dims-fix.toml", b"fields = [\"shape\"]\n"),
        ("f.c", MY_DIMS.as_bytes()),
    ]);
    let out = run(&["."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("dims-fix.toml:1: unknown variant `shape`"),
        "{}",
        stderr(&out)
    );

    let dir = tree(&[("dims-fix.toml", b"dims-macro = [\"\"]\n")]);
    let out = run(&["."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("dims-macro: `` is not a C identifier"),
        "{}",
        stderr(&out)
    );
}

/// The nearest file wins; in one directory `dims-fix.toml` before
/// `pyproject.toml`; a `pyproject.toml` without the table is passed over.
#[test]
fn the_nearest_file_with_settings_is_used() {
    let dir = tree(&[
        ("pyproject.toml", b"[tool.dims-fix]\ndims-macro = [\"TOP_DIMS\"]\n"),
        ("a/pyproject.toml", b"[project]\nname = \"a\"\n"),
        ("a/f.c", b"void f(PyArrayObject *a) { TOP_DIMS(a)[0] = 1; }\n"),
        ("b/dims-fix.toml", b"dims-macro = [\"B_DIMS\"]\n"),
        ("b/pyproject.toml", b"[tool.dims-fix]\ndims-macro = [\"TOP_DIMS\"]\n"),
        (
            "b/f.c",
            b"void f(PyArrayObject *a) { TOP_DIMS(a)[0] = 1; }\nvoid g(PyArrayObject *a) { B_DIMS(a)[0] = 1; }\n",
        ),
    ]);
    let out = run(&["--format", "json", "a"], dir.path());
    assert_eq!(functions(&out), ["a/f.c:f"]);
    let out = run(&["--format", "json", "b"], dir.path());
    assert_eq!(functions(&out), ["b/f.c:g"]);
    // --config names the file outright.
    let out = run(
        &["--format", "json", "--config", "b/pyproject.toml", "b"],
        dir.path(),
    );
    assert_eq!(functions(&out), ["b/f.c:f"]);
}

#[test]
fn flags_win_and_show_settings_says_where_each_came_from() {
    let dir = tree(&[
        (
            "pyproject.toml",
            b"[tool.dims-fix]\ndims-macro = [\"MY_DIMS\"]\nfields = [\"dims\", \"strides\"]\ntemplates = \"tpl\"\n",
        ),
        ("tpl/lock-todo.txt", b"lock {{ arrays[0] }}\n"),
        ("f.c", MY_DIMS.as_bytes()),
    ]);
    let out = run(
        &["--format", "json", "--dims-macro", "OTHER", "."],
        dir.path(),
    );
    assert_eq!(
        functions(&out),
        Vec::<String>::new(),
        "the flag replaces the list"
    );

    let out = run(
        &["--show-settings", "--ignore-macro", "MY_EXPORT", "."],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let shown = stdout(&out);
    let root = dir.path().canonicalize().unwrap();
    let file = root.join("pyproject.toml").display().to_string();
    for line in [
        format!("# configuration file: {file}"),
        format!("fields = [\"dims\", \"strides\"]  # {file}"),
        format!("dims-macro = [\"MY_DIMS\"]  # {file}"),
        "ignore-macro = [\"MY_EXPORT\"]  # command line".to_string(),
        "include = []  # default".to_string(),
        format!("templates = \"{}\"  # {file}", root.join("tpl").display()),
        format!("root = \"{}\"  # the current directory", root.display()),
    ] {
        assert!(shown.lines().any(|l| l == line), "no {line:?} in:\n{shown}");
    }
}

/// Templates named in the file are found beside it, wherever the command runs.
#[test]
fn templates_are_relative_to_the_file() {
    let lock = "void set(PyArrayObject *self, npy_intp n)\n{\n    ((PyArrayObject_fields *)self)->nd = 1;\n    PyArray_DIMS(self)[0] = n;\n}\n";
    let dir = tree(&[
        ("proj/dims-fix.toml", b"templates = \"tpl\"\n"),
        ("proj/tpl/lock-todo.txt", b"lock {{ arrays[0] }} here"),
        ("proj/src/s.c", lock.as_bytes()),
    ]);
    let out = run(&["proj/src"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("+     * TODO(dims-fix): lock self here\n"),
        "{}",
        stdout(&out)
    );
}

/// The walk settings and the strides macros come from the file too:
/// `hidden = true` walks a hidden directory, `strides-macro` names a
/// strides source, and `--show-settings` says where each came from.
#[test]
fn walk_settings_and_strides_macros_come_from_the_file() {
    let dir = tree(&[
        (
            "dims-fix.toml",
            b"hidden = true\nfields = [\"dims\", \"strides\"]\nstrides-macro = [\"MY_STRIDES\"]\n",
        ),
        (
            ".gen/h.c",
            b"void h(PyArrayObject *a) { PyArray_DIMS(a)[0] = 1; }\n",
        ),
        (
            "s.c",
            b"void s(PyArrayObject *a) { MY_STRIDES(a)[0] = 8; }\n",
        ),
    ]);
    let out = run(&["--format", "json", "."], dir.path());
    assert_eq!(functions(&out), [".gen/h.c:h", "s.c:s"]);
    let out = run(&["--format", "json", "--no-config", "."], dir.path());
    assert_eq!(functions(&out), Vec::<String>::new(), "{}", stderr(&out));

    let out = run(&["--show-settings", "--no-ignore", "."], dir.path());
    let shown = stdout(&out);
    let file = dir
        .path()
        .canonicalize()
        .unwrap()
        .join("dims-fix.toml")
        .display()
        .to_string();
    for line in [
        format!("hidden = true  # {file}"),
        format!("strides-macro = [\"MY_STRIDES\"]  # {file}"),
        "no-ignore = true  # command line".to_string(),
    ] {
        assert!(shown.lines().any(|l| l == line), "no {line:?} in:\n{shown}");
    }
}

/// `fields` in the file and `--fields` on the command line pick the
/// metadata analysed (`all` expands; the shape is always in), the flag
/// wins, and a name that is not a field is an error naming it.
#[test]
fn fields_come_from_the_file_or_the_flag() {
    let swap = b"void s(PyArrayObject *a, PyArray_Descr *d)\n{\n    PyArray_Descr *saved = PyArray_DESCR(a);\n    ((PyArrayObject_fields *)a)->descr = d;\n    PyArray_Sort(a, 0, NPY_QUICKSORT);\n    ((PyArrayObject_fields *)a)->descr = saved;\n}\n";
    let dir = tree(&[("dims-fix.toml", b"fields = [\"all\"]\n"), ("s.c", swap)]);
    let out = run(&["--show-settings", "."], dir.path());
    assert!(
        stdout(&out).contains(
            "fields = [\"dims\", \"strides\", \"descr\", \"flags\", \"nd\", \"data\", \"base\"]"
        ),
        "{}",
        stdout(&out)
    );
    let out = run(&["--format", "json", "."], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["field"], "descr", "{v}");
    assert_eq!(v["findings"][0]["code"], "DF191", "{v}");

    let out = run(&["--show-settings", "--fields", "flags", "."], dir.path());
    assert!(
        stdout(&out).contains("fields = [\"dims\", \"flags\"]  # command line"),
        "{}",
        stdout(&out)
    );
    let out = run(&["--format", "json", "--no-config", "."], dir.path());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]), "{v}");

    let out = run(&["--fields", "shape", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`shape` is not a field"),
        "{}",
        stderr(&out)
    );
}
