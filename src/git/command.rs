//! Running `git` itself where its semantics matter and libgit2's differ:
//! storing a blob through the clean conversion of its path's attributes
//! (autocrlf, eol, ident, working-tree-encoding, filter drivers), creating
//! a commit (signed through git when `commit.gpgSign` says so), and the status of the
//! files to change exactly as git reports it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::{Oid, Repository};

use super::workdir;
use crate::error::Error;

/// `git` for one repository, with the environment of the caller's own git
/// (`GIT_DIR`, `GIT_INDEX_FILE`, ... from an enclosing hook) left out.
pub(super) struct Git {
    git_dir: PathBuf,
    work_tree: PathBuf,
}

impl Git {
    pub(super) fn new(repo: &Repository) -> Git {
        Git {
            git_dir: repo.path().to_path_buf(),
            work_tree: workdir(repo),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.git_dir)
            .arg("--work-tree")
            .arg(&self.work_tree)
            .arg("--literal-pathspecs")
            .current_dir(&self.work_tree)
            // The index is ours for the series: git must not try to lock it.
            .env("GIT_OPTIONAL_LOCKS", "0");
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_COMMON_DIR",
            "GIT_PREFIX",
            "GIT_LITERAL_PATHSPECS",
            "GIT_GLOB_PATHSPECS",
            "GIT_NOGLOB_PATHSPECS",
            "GIT_ICASE_PATHSPECS",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Run `git ARGS` with `input` on stdin; its stdout, or an error saying
    /// what git said.
    fn run(
        &self,
        what: &str,
        args: &[&str],
        input: &[u8],
        env: &[(&str, String)],
    ) -> Result<Vec<u8>, Error> {
        let mut cmd = self.command();
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| {
            Error::Refused(format!(
                "{what}: cannot run git ({e}); --commit needs git on PATH"
            ))
        })?;
        let mut stdin = child.stdin.take().expect("piped");
        // Written from another thread: git may answer before reading all.
        let out = std::thread::scope(|s| {
            s.spawn(move || {
                let _ = stdin.write_all(input);
            });
            child.wait_with_output()
        })
        .map_err(|e| Error::Refused(format!("{what}: git failed: {e}")))?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            return Err(Error::Refused(format!(
                "{what}: git {} failed ({}){}",
                args.first().copied().unwrap_or(""),
                out.status,
                match said.trim() {
                    "" => String::new(),
                    s => format!(": {s}"),
                }
            )));
        }
        Ok(out.stdout)
    }

    /// Store `bytes` as the blob git would make of the work-tree file `rel`
    /// (`git hash-object -w --path`): the path's clean filters apply.
    pub(super) fn store_blob(&self, rel: &str, bytes: &[u8]) -> Result<Oid, Error> {
        let what = format!("cannot store {}", crate::quote::path(rel));
        let path = format!("--path={rel}");
        let out = self.run(&what, &["hash-object", "-w", &path, "--stdin"], bytes, &[])?;
        parse_oid(&what, &out)
    }

    /// Make the commit object (`git commit-tree`), signed with the user's
    /// key and format (`-S`) when `sign`; `env` carries the identities.
    pub(super) fn commit_tree(
        &self,
        tree: Oid,
        parent: Oid,
        message: &str,
        sign: bool,
        env: &[(&str, String)],
    ) -> Result<Oid, Error> {
        let what = "cannot create a commit";
        let (tree, parent) = (tree.to_string(), parent.to_string());
        let mut args = vec!["commit-tree", &tree, "-p", &parent, "-F", "-"];
        if sign {
            args.push("-S");
        }
        let out = self.run(what, &args, message.as_bytes(), env)?;
        parse_oid(what, &out)
    }

    /// `git status` of the given paths: (`XY`, path) for each one git
    /// reports, untracked and ignored ones included.
    pub(super) fn status(&self, rels: &[&str]) -> Result<Vec<(String, String)>, Error> {
        let mut args = vec![
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=matching",
            "--ignore-submodules=all",
            "--no-renames",
            "--",
        ];
        args.extend(rels);
        let out = self.run("cannot read the git status", &args, b"", &[])?;
        let mut entries = Vec::new();
        for record in out.split(|&b| b == 0).filter(|r| r.len() > 3) {
            let record = String::from_utf8_lossy(record);
            entries.push((record[..2].to_string(), record[3..].to_string()));
        }
        Ok(entries)
    }

    pub(super) fn work_tree(&self) -> &Path {
        &self.work_tree
    }
}

fn parse_oid(what: &str, out: &[u8]) -> Result<Oid, Error> {
    let text = String::from_utf8_lossy(out);
    Oid::from_str(text.trim()).map_err(|_| {
        Error::Refused(format!(
            "{what}: git printed {:?}, not an object id",
            text.trim()
        ))
    })
}
