//! Ignore rules as ripgrep applies them: `.gitignore` and `.ignore` files
//! (and the repository's `info/exclude` and git's global excludes) count
//! only inside a git repository, and never for a file git tracks.
//! Outside a repository nothing is ignored: statsmodels' source release
//! lists `*.c` in its `.gitignore`, yet its C files are what is shipped.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use rustc_hash::FxHashMap;

/// The ignore files read in each directory.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore"];

/// One git work tree: its root, what it tracks, and its repository-wide
/// excludes.
struct Repo {
    root: PathBuf,
    /// Tracked files, and every directory holding one, relative to `root`.
    tracked: HashSet<PathBuf>,
    excludes: Vec<Gitignore>,
}

/// The rules of the repositories a walk meets, read once each. Asked
/// about every entry of the walk, from every thread: the maps are keyed by
/// the path's bytes with a fast hash, and no lock is held while the file
/// system is asked.
pub struct Rules {
    /// Each directory met, to the work tree holding it (if any).
    holders: Mutex<FxHashMap<OsString, Option<Arc<Repo>>>>,
    /// Each work tree read, by its root.
    repos: Mutex<FxHashMap<OsString, Option<Arc<Repo>>>>,
    dirs: Mutex<FxHashMap<OsString, Option<Arc<Gitignore>>>>,
}

impl Default for Rules {
    fn default() -> Self {
        Self::new()
    }
}

impl Rules {
    pub fn new() -> Rules {
        Rules {
            holders: Mutex::default(),
            repos: Mutex::default(),
            dirs: Mutex::default(),
        }
    }

    /// Whether the ignore rules exclude `path` (a directory when `is_dir`):
    /// it lies in a git work tree, git does not track it (nor, for a
    /// directory, anything in it), and the deepest rule matching it or a
    /// directory above it ignores it.
    pub fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Some(repo) = self.repo_of(path) else {
            return false;
        };
        let Ok(rel) = path.strip_prefix(&repo.root) else {
            return false;
        };
        if rel.as_os_str().is_empty() || repo.tracked.contains(rel) {
            return false;
        }
        // Deepest directory first: its rules win.
        for dir in path.ancestors().skip(1) {
            if let Some(gi) = self.dir_rules(dir) {
                match gi.matched_path_or_any_parents(path, is_dir) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
            if dir == repo.root {
                break;
            }
        }
        repo.excludes.iter().any(|gi| {
            matches!(
                gi.matched_path_or_any_parents(path, is_dir),
                Match::Ignore(_)
            )
        })
    }

    /// The git work tree holding `path`, if any (a nested repository or
    /// submodule holds what is under it).
    fn repo_of(&self, path: &Path) -> Option<Arc<Repo>> {
        let dir = path.parent()?;
        // The directories above `dir` not met yet (deepest first), and
        // what holds the first one met.
        let mut unknown: Vec<&Path> = Vec::new();
        let mut above = None;
        {
            let holders = self.holders.lock().unwrap();
            for d in dir.ancestors() {
                if let Some(known) = holders.get(d.as_os_str()) {
                    above = known.clone();
                    break;
                }
                unknown.push(d);
            }
        }
        if unknown.is_empty() {
            return above;
        }
        // Looked up once per directory: going up until a work tree's root
        // or a directory met before.
        let mut found = above;
        let mut met = unknown.len();
        for (k, d) in unknown.iter().enumerate() {
            if d.join(".git").exists() {
                found = self.repo_at(d);
                met = k + 1;
                break;
            }
        }
        let mut holders = self.holders.lock().unwrap();
        for d in &unknown[..met] {
            holders.insert(d.as_os_str().to_os_string(), found.clone());
        }
        found
    }

    /// The work tree whose root is `root`, read once.
    fn repo_at(&self, root: &Path) -> Option<Arc<Repo>> {
        let mut repos = self.repos.lock().unwrap();
        repos
            .entry(root.as_os_str().to_os_string())
            .or_insert_with(|| read_repo(root).map(Arc::new))
            .clone()
    }

    fn dir_rules(&self, dir: &Path) -> Option<Arc<Gitignore>> {
        let key: &OsStr = dir.as_os_str();
        if let Some(known) = self.dirs.lock().unwrap().get(key) {
            return known.clone();
        }
        let mut builder = GitignoreBuilder::new(dir);
        let mut any = false;
        for name in IGNORE_FILES {
            let file = dir.join(name);
            if file.is_file() {
                any |= builder.add(&file).is_none();
            }
        }
        let rules = any.then(|| builder.build().ok()).flatten().map(Arc::new);
        self.dirs
            .lock()
            .unwrap()
            .entry(key.to_os_string())
            .or_insert(rules)
            .clone()
    }
}

/// What a work tree tracks, and its repository-wide excludes. `None` when
/// it cannot be opened as a repository (then nothing is ignored there).
fn read_repo(root: &Path) -> Option<Repo> {
    let repo = git2::Repository::open(root).ok()?;
    let mut tracked = HashSet::new();
    if let Ok(index) = repo.index() {
        for entry in index.iter() {
            let rel = PathBuf::from(String::from_utf8_lossy(&entry.path).into_owned());
            for dir in rel.ancestors().skip(1) {
                if dir.as_os_str().is_empty() || !tracked.insert(dir.to_path_buf()) {
                    break;
                }
            }
            tracked.insert(rel);
        }
    }
    let mut excludes = Vec::new();
    let info = repo.path().join("info").join("exclude");
    if info.is_file() {
        let mut builder = GitignoreBuilder::new(root);
        if builder.add(&info).is_none() {
            excludes.extend(builder.build().ok());
        }
    }
    let (global, _) = Gitignore::global();
    if !global.is_empty() {
        excludes.push(global);
    }
    Some(Repo {
        root: root.to_path_buf(),
        tracked,
        excludes,
    })
}
