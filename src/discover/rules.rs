//! Ignore rules as ripgrep applies them: `.gitignore` and `.ignore` files
//! (and the repository's `info/exclude` and git's global excludes) count
//! only inside a git repository, and never for a file git tracks.
//! Outside a repository nothing is ignored: statsmodels' source release
//! lists `*.c` in its `.gitignore`, yet its C files are what is shipped.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

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

/// The rules of the repositories a walk meets, read once each.
pub struct Rules {
    repos: Mutex<HashMap<PathBuf, Option<Arc<Repo>>>>,
    /// Each directory met, to the work tree holding it (if any).
    roots: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    dirs: Mutex<HashMap<PathBuf, Option<Arc<Gitignore>>>>,
}

impl Default for Rules {
    fn default() -> Self {
        Self::new()
    }
}

impl Rules {
    pub fn new() -> Rules {
        Rules {
            repos: Mutex::new(HashMap::new()),
            roots: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
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
        let root = self.root_of(path.parent()?)?;
        let mut repos = self.repos.lock().unwrap();
        repos
            .entry(root.clone())
            .or_insert_with(|| read_repo(&root).map(Arc::new))
            .clone()
    }

    /// The work tree holding directory `dir`: looked up once per
    /// directory, going up until a known one.
    fn root_of(&self, dir: &Path) -> Option<PathBuf> {
        let mut roots = self.roots.lock().unwrap();
        let mut unknown = Vec::new();
        let mut found = None;
        for d in dir.ancestors() {
            if let Some(known) = roots.get(d) {
                found = known.clone();
                break;
            }
            unknown.push(d.to_path_buf());
            if d.join(".git").exists() {
                found = Some(d.to_path_buf());
                break;
            }
        }
        for d in unknown {
            roots.insert(d, found.clone());
        }
        found
    }

    fn dir_rules(&self, dir: &Path) -> Option<Arc<Gitignore>> {
        let mut dirs = self.dirs.lock().unwrap();
        dirs.entry(dir.to_path_buf())
            .or_insert_with(|| {
                let mut builder = GitignoreBuilder::new(dir);
                let mut any = false;
                for name in IGNORE_FILES {
                    let file = dir.join(name);
                    if file.is_file() {
                        any |= builder.add(&file).is_none();
                    }
                }
                any.then(|| builder.build().ok()).flatten().map(Arc::new)
            })
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
