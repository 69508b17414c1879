//! Hooks: a temporary index holding the commit, and running pre-commit, commit-msg, post-commit.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::Repository;

use super::git_err;
use super::workdir;
use crate::error::Error;

/// A temporary index holding exactly the commit's tree, for hooks
/// (`GIT_INDEX_FILE`), as `git commit <paths>` does.
pub(super) struct HookIndex {
    pub(super) path: PathBuf,
}

impl HookIndex {
    pub(super) fn new(repo: &Repository, tree: &git2::Tree) -> Result<HookIndex, Error> {
        // Named with the run's tag: a later run removes it after a kill.
        let path = repo
            .path()
            .join(crate::owner::temp_name("dims-fix-hook-index-"));
        let mut index =
            git2::Index::open(&path).map_err(git_err("cannot create a temporary index"))?;
        index
            .read_tree(tree)
            .map_err(git_err("cannot fill a temporary index"))?;
        index
            .write()
            .map_err(git_err("cannot write a temporary index"))?;
        Ok(HookIndex { path })
    }
}

impl Drop for HookIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(format!("{}.lock", self.path.display()));
    }
}

/// Run a hook if the repository has an executable one; a non-zero exit
/// stops the series.
pub(super) fn run_hook(
    repo: &Repository,
    name: &str,
    args: &[&std::ffi::OsStr],
    index: &Path,
) -> Result<(), Error> {
    let dir = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workdir(repo).join(p)
            }
        })
        .unwrap_or_else(|| repo.path().join("hooks"));
    let hook = dir.join(name);
    let executable = std::fs::metadata(&hook)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
        .unwrap_or(false);
    if !executable {
        return Ok(());
    }
    let out = Command::new(&hook)
        .args(args)
        .current_dir(workdir(repo))
        .env("GIT_INDEX_FILE", index)
        .env("GIT_DIR", repo.path())
        .env("GIT_EDITOR", ":")
        .output()
        .map_err(|e| Error::Refused(format!("cannot run the {name} hook: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.trim();
        return Err(Error::Refused(format!(
            "the {name} hook failed ({}){}",
            out.status,
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        )));
    }
    Ok(())
}
