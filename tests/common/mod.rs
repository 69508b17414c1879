//! Helpers shared by the integration tests.
//!
//! Every run of dims-fix and of git goes through them: a run that would
//! write (`--apply`, `--commit`, `--patch-dir`) into this project's own
//! checkout stops the test before it starts (see [`DimsFix`]), and git
//! never sees a `GIT_DIR` inherited from a hook that runs the tests.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output, Stdio};

use clap::Parser;
use dims_fix::cli::{Action, Cli};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Variables with which git (and libgit2) would work on another
/// repository than the one a test made: a `pre-commit` hook that runs the
/// tests exports `GIT_DIR` and `GIT_INDEX_FILE` of this project.
pub const GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// Why a dims-fix run would write inside this project's checkout, if it
/// would: `--apply`/`--commit` with a path operand (default `.`), or a
/// `--patch-dir`, that lies in it. `cwd` is where the run starts (`None`:
/// where the test runs, which is the checkout). Arguments that do not
/// parse make a usage error, which writes nothing.
pub fn writes_inside_checkout(cwd: Option<&Path>, args: &[OsString]) -> Option<String> {
    let cli = Cli::try_parse_from(
        std::iter::once(OsString::from("dims-fix")).chain(args.iter().cloned()),
    )
    .ok()?;
    let cwd = cwd.map_or_else(|| std::env::current_dir().unwrap(), Path::to_path_buf);
    let mut targets = Vec::new();
    if cli.action() != Action::DryRun {
        if cli.paths.is_empty() {
            targets.push(PathBuf::from("."));
        }
        targets.extend(cli.paths.iter().cloned());
    }
    targets.extend(cli.patch_dir.iter().cloned());
    let checkout = repo().canonicalize().unwrap();
    targets.into_iter().find_map(|t| {
        let real = real_path(&cwd.join(&t));
        real.starts_with(&checkout).then(|| {
            format!(
                "dims-fix {args:?} (in {}) would write {} inside the project's checkout {}; \
                 tests write only to copies in temporary directories of their own",
                cwd.display(),
                real.display(),
                checkout.display()
            )
        })
    })
}

/// `path` with symbolic links and `..` resolved, as far as it exists.
fn real_path(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut p = path.to_path_buf();
    loop {
        if let Ok(real) = p.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(real, |acc, r: &OsString| acc.join(r));
        }
        match (p.file_name().map(OsStr::to_os_string), p.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                p = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// A dims-fix command. Running it (`output`, `status`, `spawn`) first
/// checks that it cannot write into this project's checkout, and panics,
/// naming the run, when it could; the only way tests start dims-fix
/// (`tests/harness.rs` checks that).
pub struct DimsFix {
    cmd: std::process::Command,
    /// Leading arguments that are not dims-fix's (`setpriv ... BIN`).
    skip: usize,
}

impl DimsFix {
    fn new(cmd: std::process::Command, skip: usize) -> DimsFix {
        let mut d = DimsFix { cmd, skip };
        for var in GIT_ENV {
            d.cmd.env_remove(var);
        }
        d
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Self {
        self.cmd.stdin(cfg);
        self
    }

    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Self {
        self.cmd.stdout(cfg);
        self
    }

    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Self {
        self.cmd.stderr(cfg);
        self
    }

    /// Panic if this run could write into the checkout.
    fn check(&self) {
        let args: Vec<OsString> = self
            .cmd
            .get_args()
            .skip(self.skip)
            .map(OsStr::to_os_string)
            .collect();
        if let Some(why) = writes_inside_checkout(self.cmd.get_current_dir(), &args) {
            panic!("{why}");
        }
    }

    pub fn output(&mut self) -> std::io::Result<Output> {
        self.check();
        self.cmd.output()
    }

    pub fn status(&mut self) -> std::io::Result<ExitStatus> {
        self.check();
        self.cmd.status()
    }

    pub fn spawn(&mut self) -> std::io::Result<Child> {
        self.check();
        self.cmd.spawn()
    }
}

/// The path of the dims-fix binary (for a command line run by another
/// program, which must check it with [`writes_inside_checkout`]).
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("dims-fix")
}

/// `git` in `dir`, blind to an inherited `GIT_DIR` and the like.
pub fn git_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir);
    for var in GIT_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Fixture directories, sorted.
pub fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Extra flags a fixture asks for (its `args` file).
pub fn fixture_args(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The dims-fix binary, colour off.
pub fn dims_fix() -> DimsFix {
    let mut cmd = dims_fix_bare();
    cmd.arg("--color").arg("never").env_remove("NO_COLOR");
    cmd
}

/// The dims-fix binary with no flag added (for tests of colour and streams).
pub fn dims_fix_bare() -> DimsFix {
    DimsFix::new(std::process::Command::new(bin()), 0)
}

pub fn run(args: &[&str], cwd: &Path) -> Output {
    dims_fix().args(args).current_dir(cwd).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The summary line's timing varies from run to run.
pub fn without_timing(text: &str) -> String {
    text.lines()
        .map(|l| match (l.starts_with("dims-fix: "), l.rfind(", ")) {
            (true, Some(i)) if l.ends_with(" ms") => format!("{}, [time]", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A temporary directory holding `files` (name, bytes).
pub fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

/// The files directly in `dir` with their bytes, sorted: to compare a
/// directory before and after a run.
pub fn files_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n"
}

/// Make `dir/name` unreadable, `dir` itself open to the unprivileged user.
pub fn lock_file(dir: &Path, name: &str) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::Permissions::from_mode;
    std::fs::set_permissions(dir, mode(0o777)).unwrap();
    std::fs::set_permissions(dir.join(name), mode(0o000)).unwrap();
}

/// The dims-fix binary run as an unprivileged user when the tests run as
/// root (root reads and writes anything, so permission tests need this).
pub fn unprivileged() -> DimsFix {
    let mut cmd = if is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        DimsFix::new(c, 4)
    } else {
        DimsFix::new(std::process::Command::new(bin()), 0)
    };
    cmd.args(["--color", "never"]);
    cmd
}

/// The tests that act in the middle of a run need the binary's test hooks:
/// without them they fail, saying so, rather than pass untested.
pub fn require_test_hooks() {
    if !cfg!(feature = "test-hooks") {
        panic!("this test needs the test hooks: run `cargo test --features test-hooks` (README)");
    }
}

/// Start dims-fix with `args` in `dir`, paused at the named pause point;
/// returns once it waits there. Removing `flag` lets it go on.
pub fn spawn_paused(dir: &Path, point: &str, flag: &Path, args: &[&str]) -> Child {
    use std::time::{Duration, Instant};
    require_test_hooks();
    let child = dims_fix()
        .args(args)
        .current_dir(dir)
        .env("DIMS_FIX_TEST_PAUSE", point)
        .env("DIMS_FIX_TEST_PAUSE_FILE", flag)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !flag.exists() {
        assert!(Instant::now() < deadline, "dims-fix never reached {point}");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// Run git in `dir`; its stdout, or a panic with its stderr.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `git init` on `main`, with an identity and no line-ending conversion.
pub fn init_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Ada Tester"]);
    git(dir, &["config", "user.email", "ada@example.com"]);
    git(dir, &["config", "core.autocrlf", "false"]);
}

/// A fixture's `input.c`.
pub fn fixture_source(name: &str) -> String {
    std::fs::read_to_string(repo().join("fixtures").join(name).join("input.c")).unwrap()
}

/// The bytes of one file of a fixture.
pub fn fixture_file(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(repo().join("fixtures").join(name).join(file)).unwrap()
}

/// Copy a fixture's inputs (not its expected outputs) to a fresh directory.
pub fn inputs(dir: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("expected") && name != "args" && path.is_file() {
            std::fs::copy(&path, tmp.path().join(&name)).unwrap();
        }
    }
    tmp
}

/// A C function with one rewrite finding (a temporary write to `a`'s shape).
pub fn rewrite_function(name: &str) -> String {
    format!(
        "void {name}(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp n = PyArray_DIM(a, 0);\n    \
         PyArray_DIMS(a)[0] = v;\n    Py_XDECREF(PyArray_Zeros(1, PyArray_DIMS(a), NULL, 0));\n    \
         PyArray_DIMS(a)[0] = n;\n}}\n"
    )
}

/// A committed repository with `files` C files of `per_file` rewrite
/// findings each under `src/` (a series of files × per_file commits).
pub fn series_repo(files: usize, per_file: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    for f in 0..files {
        let text: Vec<String> = (0..per_file)
            .map(|i| rewrite_function(&format!("f{f}_{i}")))
            .collect();
        std::fs::write(dir.path().join(format!("src/m{f:02}.c")), text.join("\n")).unwrap();
    }
    init_repo(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "initial"]);
    dir
}

/// HEAD, refs, reflogs, index bytes and every work-tree file: to compare
/// a repository before and after a run.
pub fn repo_state(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let out = |args: &[&str]| git_command(dir).args(args).output().unwrap().stdout;
    let mut s = vec![
        (
            "HEAD".to_string(),
            std::fs::read(dir.join(".git/HEAD")).unwrap_or_default(),
        ),
        ("refs".to_string(), out(&["for-each-ref"])),
        (
            "reflog".to_string(),
            out(&["reflog", "--all", "--format=%H %gs"]),
        ),
        (
            "index".to_string(),
            std::fs::read(dir.join(".git/index")).unwrap_or_default(),
        ),
    ];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap() == ".git" {
                continue;
            }
            let meta = p.symlink_metadata().unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                s.push((rel, target.to_string_lossy().as_bytes().to_vec()));
            } else {
                s.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    s.sort();
    s
}

/// Temporary files and locks of dims-fix runs: `.dims-fix-*` in the work
/// tree, `dims-fix-*` and `*.lock` under `.git`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let in_git = p.strip_prefix(dir).unwrap().starts_with(".git");
            if p.symlink_metadata().unwrap().is_dir() {
                if !(in_git && (name == "objects" || name == "hooks")) {
                    stack.push(p);
                }
            } else if (!in_git && name.starts_with(".dims-fix-"))
                || (in_git && (name.starts_with("dims-fix-") || name.ends_with(".lock")))
            {
                found.push(p.strip_prefix(dir).unwrap().to_string_lossy().to_string());
            }
        }
    }
    found.sort();
    found
}

/// Send `signal` (a `kill` name such as "HUP") to a process.
pub fn signal(pid: u32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{signal} {pid}");
}

/// The number of commits on HEAD.
pub fn commit_count(dir: &Path) -> usize {
    git(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// `schema/report.schema.json`, compiled.
pub fn report_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("schema/report.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the report schema is a valid JSON Schema")
}

/// Every way `report` breaks the schema (empty when it follows it).
pub fn schema_errors(validator: &jsonschema::Validator, report: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The files a SARIF log's `fixes` change, with their contents after every
/// replacement is applied to the originals under `root` (character
/// offsets, as the log's `columnKind` says).
pub fn apply_sarif_fixes(sarif: &serde_json::Value, root: &Path) -> Vec<(String, String)> {
    use std::collections::BTreeMap;
    let run = &sarif["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    // File -> (offset, length, text), in characters.
    let mut edits: BTreeMap<String, Vec<(u64, u64, String)>> = BTreeMap::new();
    for result in run["results"].as_array().unwrap() {
        for fix in result["fixes"].as_array().into_iter().flatten() {
            for change in fix["artifactChanges"].as_array().unwrap() {
                let uri = change["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string();
                for r in change["replacements"].as_array().unwrap() {
                    let region = &r["deletedRegion"];
                    edits.entry(uri.clone()).or_default().push((
                        region["charOffset"].as_u64().unwrap(),
                        region["charLength"].as_u64().unwrap(),
                        r["insertedContent"]["text"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    edits
        .into_iter()
        .map(|(uri, mut list)| {
            let name = percent_encoding::percent_decode_str(&uri)
                .decode_utf8()
                .unwrap();
            let text = std::fs::read_to_string(root.join(name.as_ref()))
                .unwrap_or_else(|e| panic!("{uri}: {e}"));
            let chars: Vec<char> = text.chars().collect();
            list.sort_by_key(|e| (e.0, e.1));
            let mut out = String::new();
            let mut at = 0usize;
            for (offset, len, inserted) in list {
                let (offset, len) = (offset as usize, len as usize);
                assert!(offset >= at, "{uri}: replacements overlap at {offset}");
                out.extend(&chars[at..offset]);
                out.push_str(&inserted);
                at = offset + len;
            }
            out.extend(&chars[at..]);
            (uri, out)
        })
        .collect()
}

/// The partial fingerprints of a SARIF log's results, each once: a
/// repeated one (two findings GitHub would merge) fails.
pub fn assert_unique_fingerprints(sarif: &serde_json::Value, what: &str) {
    let mut seen = std::collections::BTreeSet::new();
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        let fp = result["partialFingerprints"].to_string();
        assert!(seen.insert(fp.clone()), "{what}: fingerprint {fp} repeats");
    }
}

/// Every rule of a SARIF log has help in text and Markdown.
pub fn assert_help_per_rule(sarif: &serde_json::Value, what: &str) {
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        for kind in ["text", "markdown"] {
            assert!(
                rule["help"][kind].as_str().is_some_and(|h| h.len() > 40),
                "{what}: rule {} has no help {kind}",
                rule["id"]
            );
        }
    }
}

/// A check that cannot run here (no network, no npm): say so past the
/// test harness's capture, and fail instead under CI=true, which must not
/// pass without it.
pub fn skip(msg: &str) {
    let msg = format!("SKIPPED: {msg}");
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{msg}\n").as_bytes());
}

/// Whether a package installer's (pip's, npm's) error output says the
/// registry could not be reached.
pub fn says_offline(err: &str) -> bool {
    [
        "ENOTFOUND",
        "EAI_AGAIN",
        "ETIMEDOUT",
        "ECONNREFUSED",
        "Network is unreachable",
        "Temporary failure in name resolution",
        "Failed to establish a new connection",
        "No matching distribution",
    ]
    .iter()
    .any(|o| err.contains(o))
}

/// Run one of `scripts/` (it installs a tool into the cache) and take the
/// path it prints; `None`, said visibly, when it exits 3 (the tool's
/// installer is missing) or the registry cannot be reached.
pub fn cached_tool(script: &str, what: &str) -> Option<PathBuf> {
    let out = std::process::Command::new(repo().join("scripts").join(script))
        .output()
        .unwrap_or_else(|e| panic!("scripts/{script}: {e}"));
    if out.status.success() {
        return Some(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()));
    }
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code() == Some(3) || says_offline(&err) {
        skip(&format!("{what} cannot be installed here: {}", err.trim()));
        return None;
    }
    panic!("scripts/{script} failed:\n{err}");
}

/// The directory `cargo test` builds into (`CARGO_TARGET_DIR`, else
/// `target/`): shared with the builds the tests start, so that they reuse
/// what is built.
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs dims-fix in a pseudo-terminal (Python's `pty`), answering each
/// `[y,n,q,?]` prompt with the next of `answers` (end of input, Ctrl-D,
/// once they run out); its terminal output is the run's stdout.
pub fn in_terminal(answers: &[&str]) -> DimsFix {
    const DRIVER: &str = r#"
import os, pty, sys
answers = [a for a in sys.argv[1].split(",") if a]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out, asked = b"", 0
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    while out.count(b"[y,n,q,?]? ") > asked:
        asked += 1
        os.write(fd, (answers.pop(0) + "\n").encode() if answers else b"\x04")
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let mut c = std::process::Command::new("python3");
    c.args(["-c", DRIVER, &answers.join(",")]).arg(bin());
    let mut d = DimsFix::new(c, 4);
    d.args(["--color", "never"]);
    d
}

/// Unpack a release, or `None` (with a message) when the index is unreachable.
pub fn numpy(version: &str) -> Option<PathBuf> {
    let out = std::process::Command::new(repo().join("scripts/fetch-numpy.sh"))
        .arg(version)
        .output()
        .expect("scripts/fetch-numpy.sh runs");
    if out.status.success() {
        return Some(PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()));
    }
    let probe = std::process::Command::new("python3")
        .args([
            "-c",
            "import os, urllib.request; urllib.request.urlopen(os.environ.get('PIP_INDEX_URL', \
             'https://pypi.org/simple/') , timeout=20)",
        ])
        .status();
    if probe.is_ok_and(|s| !s.success()) {
        let msg = format!("SKIPPED: the package index cannot be reached to fetch numpy {version}");
        // CI must not pass without the NumPy checks.
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        // Not eprintln!, which the test harness captures: say it visibly.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{msg}\n").as_bytes());
        return None;
    }
    panic!(
        "fetching numpy {version} failed although the index is reachable:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON report of a run on `tree` with `extra` flags, which must exit 0.
pub fn json_report(tree: &Path, extra: &[&str]) -> serde_json::Value {
    let out = dims_fix()
        .args(["--format", "json"])
        .args(extra)
        .arg(tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}
