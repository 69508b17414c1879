//! Building and running the harness: NumPy from the package index into the
//! cache, a shared object per fixture file and variant (cached by content),
//! and the Python driver that runs its calls.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{files_bytes, stderr, stdout};
use crate::spec::Spec;
use crate::{equiv_dir, say, NUMPY};

/// Where downloads and builds are kept, outside the repository.
pub fn cache_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("DIMS_FIX_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|x| x.join("dims-fix")))
        .unwrap_or_else(|| env("HOME").unwrap().join(".cache/dims-fix"))
}

/// The Python that runs the driver, with NumPy, and the headers to build for it.
pub struct Python {
    pub numpy_path: PathBuf,
    pub numpy_include: String,
    pub python_include: String,
    compiler: String,
}

/// Run `python3 -c code` (with the cached NumPy on the path, if given); its
/// stdout lines, or a panic with its stderr.
fn python_lines(code: &str, numpy: Option<&Path>) -> Vec<String> {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", code]);
    if let Some(path) = numpy {
        cmd.env("PYTHONPATH", path);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(out.status.success(), "python3 -c {code}: {}", stderr(&out));
    stdout(&out).lines().map(String::from).collect()
}

/// NumPy from the package index, installed once into the cache (one
/// directory per NumPy and Python version, renamed into place when
/// complete). `None`, said aloud, when the index cannot be reached; under
/// CI=true that is a failure instead.
pub fn numpy_env() -> Option<Python> {
    let info = python_lines(
        "import sys, sysconfig; print(f'cp{sys.version_info[0]}{sys.version_info[1]}'); \
         print(sysconfig.get_paths()['include'])",
        None,
    );
    let target = cache_dir()
        .join("equiv-numpy")
        .join(format!("{NUMPY}-{}", info[0]));
    if !target.join("numpy").is_dir() && !install_numpy(&target) {
        return None;
    }
    let numpy_include = python_lines("import numpy; print(numpy.get_include())", Some(&target));
    let gcc = Command::new("gcc")
        .arg("--version")
        .output()
        .expect("gcc runs");
    Some(Python {
        numpy_path: target,
        numpy_include: numpy_include[0].clone(),
        python_include: info[1].clone(),
        compiler: stdout(&gcc).lines().next().unwrap_or_default().to_string(),
    })
}

fn install_numpy(target: &Path) -> bool {
    let index = std::env::var("PIP_INDEX_URL").unwrap_or("https://pypi.org/simple/".into());
    let probe = Command::new("python3")
        .args([
            "-c",
            "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20)",
        ])
        .arg(&index)
        .output()
        .expect("python3 runs");
    if !probe.status.success() {
        let why = format!("the package index ({index}) cannot be reached to install numpy {NUMPY}");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI: {why}");
        say(&format!("SKIPPED equivalence test: {why}\n"));
        return false;
    }
    let parent = target.parent().unwrap();
    std::fs::create_dir_all(parent).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix(".install-")
        .tempdir_in(parent)
        .unwrap();
    let pip = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .arg("--target")
        .arg(tmp.path())
        .arg(format!("numpy=={NUMPY}"))
        .output()
        .expect("python3 -m pip runs");
    assert!(
        pip.status.success(),
        "pip install numpy=={NUMPY} failed although the index answers:\n{}",
        stderr(&pip)
    );
    // Another run may have finished first: then its copy stays.
    if std::fs::rename(tmp.path(), target).is_err() {
        assert!(
            target.join("numpy").is_dir(),
            "cannot move numpy into {}",
            target.display()
        );
    }
    true
}

/// The C file to compile for a fixture file in `dir`: the file itself, or
/// for a NumPy template (`.c.src`) its expansion by NumPy's own processor.
pub fn c_source(py: &Python, dir: &Path, file: &str) -> Result<PathBuf, String> {
    if file.ends_with(".c") {
        return Ok(dir.join(file));
    }
    let Some(expanded) = file.strip_suffix(".c.src") else {
        return Err(format!(
            "{file}: only .c and .c.src files can be compiled on their own"
        ));
    };
    let out = dir.join(format!("{expanded}.c"));
    let run = Command::new("python3")
        .arg(equiv_dir().join("driver.py"))
        .arg("expand")
        .arg(dir.join(file))
        .arg(&out)
        .env("PYTHONPATH", &py.numpy_path)
        .output()
        .unwrap();
    if !run.status.success() {
        return Err(format!(
            "{file}: cannot expand the template: {}",
            stderr(&run)
        ));
    }
    Ok(out)
}

pub fn gcc(py: &Python, spec: &Spec, dir: &Path) -> Command {
    let mut cmd = Command::new("gcc");
    cmd.args(["-std=c11", "-Wall"])
        .arg(format!("-I{}", py.numpy_include))
        .arg(format!("-I{}", py.python_include))
        .arg(format!("-I{}", dir.display()))
        .args(&spec.cflags);
    cmd
}

/// The warnings of `gcc -fsyntax-only -std=c11 -Wall -Wextra` on `source`
/// (NumPy's and Python's headers as system headers), each without its
/// position: the rewrite moves lines, not messages. `Err` when it does not
/// compile.
pub fn warnings(py: &Python, spec: &Spec, source: &Path) -> Result<Vec<String>, String> {
    let dir = source.parent().unwrap();
    let out = Command::new("gcc")
        .args(["-fsyntax-only", "-std=c11", "-Wall", "-Wextra"])
        .arg(format!("-isystem{}", py.numpy_include))
        .arg(format!("-isystem{}", py.python_include))
        .arg(format!("-I{}", dir.display()))
        .args(&spec.cflags)
        .arg(source)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(stderr(&out));
    }
    let mut found: Vec<String> = stderr(&out)
        .lines()
        .filter_map(|l| l.split_once(": warning: ").map(|(_, w)| w.to_string()))
        .collect();
    found.sort();
    Ok(found)
}

/// Build the harness with `source` and the spec into a shared object, kept
/// in the cache under a hash of everything that goes into it.
pub fn compile(py: &Python, spec: &Spec, source: &Path) -> Result<PathBuf, String> {
    let dir = source.parent().unwrap();
    let mut hash = Sha256::new();
    let mut feed = |bytes: &[u8]| {
        hash.update(bytes.len().to_le_bytes());
        hash.update(bytes);
    };
    for part in ["harness.c", "runtime.h"] {
        feed(&std::fs::read(equiv_dir().join(part)).unwrap());
    }
    for text in [
        &spec.text,
        &py.numpy_include,
        &py.python_include,
        &py.compiler,
    ] {
        feed(text.as_bytes());
    }
    feed(spec.cflags.join("\n").as_bytes());
    feed(source.file_name().unwrap().as_encoded_bytes());
    feed(&std::fs::read(source).unwrap());
    // Whatever the file may include from its directory (not the expansion
    // of another template there).
    for (name, bytes) in files_bytes(dir) {
        if !dir.join(format!("{name}.src")).exists() {
            feed(name.as_bytes());
            feed(&bytes);
        }
    }
    let out = cache_dir()
        .join("equiv-build")
        .join(format!("{:x}.so", hash.finalize()));
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let tmp = tempfile::Builder::new()
        .suffix(".so")
        .tempfile_in(out.parent().unwrap())
        .unwrap();
    let built = gcc(py, spec, dir)
        .args(["-shared", "-fPIC", "-o"])
        .arg(tmp.path())
        .arg(format!("-DEQUIV_SOURCE=\"{}\"", source.display()))
        .arg(format!("-DEQUIV_CALLS=\"{}\"", spec.path.display()))
        .arg(equiv_dir().join("harness.c"))
        .output()
        .unwrap();
    if !built.status.success() {
        return Err(format!("does not compile:\n{}", stderr(&built)));
    }
    tmp.persist(&out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// What one run of the driver printed: a record per call made.
pub struct Run {
    pub records: Vec<Value>,
    pub ok: bool,
    pub stderr: String,
}

pub fn run_driver(py: &Python, lib: &Path) -> Run {
    let out = Command::new("timeout")
        .args(["120", "python3"])
        .arg(equiv_dir().join("driver.py"))
        .arg("run")
        .arg(lib)
        .env("PYTHONPATH", &py.numpy_path)
        .output()
        .unwrap();
    let records = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Run {
        records,
        ok: out.status.success(),
        stderr: format!("{}; {}", out.status, stderr(&out)),
    }
}
