//! The series loop: one commit per step, then its files, ref and index.

use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, Signature};

use super::hooks::{run_hook, HookIndex};
use super::preflight::{git_path, workdir};
use super::rollback::{Interrupt, Saved};
use super::{git_err, CommitOptions, Identity};
use crate::apply::write_atomically;
use crate::error::Error;
use crate::series::{sign_off, Step};

#[allow(clippy::too_many_arguments)]
pub(super) fn run_series(
    repo: &Repository,
    steps: &[Step],
    opts: &CommitOptions,
    (author, committer): (&Identity, &Identity),
    head_oid: Oid,
    branch_ref: &str,
    saved: &mut Saved,
    interrupted: &Interrupt,
) -> Result<Vec<Oid>, Error> {
    let root = workdir(repo);
    if opts.branch.is_some() {
        let name = branch_ref.trim_start_matches("refs/heads/");
        let commit = repo
            .find_commit(head_oid)
            .map_err(git_err("cannot read HEAD"))?;
        repo.branch(name, &commit, opts.force_branch)
            .map_err(git_err(&format!("cannot create branch {name}")))?;
        repo.set_head(branch_ref)
            .map_err(git_err(&format!("cannot switch to branch {name}")))?;
    }
    let now = git2::Time::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        0,
    );
    let sig = |who: &Identity| {
        Signature::new(&who.name, &who.email, &now).map_err(git_err("bad identity"))
    };
    let (author_sig, committer_sig) = (sig(author)?, sig(committer)?);
    let mut parent = head_oid;
    let mut ids = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        crate::testhook::pause(&format!("commit-{}", n + 1));
        interrupted.check()?;
        // The commit's tree: the parent's, with this step's files. The
        // user's index (other staged paths) never goes into it.
        let parent_commit = repo
            .find_commit(parent)
            .map_err(git_err("cannot read a commit"))?;
        let parent_tree = parent_commit
            .tree()
            .map_err(git_err("cannot read a tree"))?;
        let mut update = TreeUpdateBuilder::new();
        let mut rels = Vec::new();
        for f in &step.files {
            let rel = git_path(&root, &f.path)?;
            let blob = repo
                .blob(f.after.as_bytes())
                .map_err(git_err(&format!("cannot store {rel}")))?;
            let mode = parent_tree
                .get_path(Path::new(&rel))
                .map_or(FileMode::Blob, |e| {
                    if e.filemode() == i32::from(FileMode::BlobExecutable) {
                        FileMode::BlobExecutable
                    } else {
                        FileMode::Blob
                    }
                });
            update.upsert(&rel, blob, mode);
            rels.push(rel);
        }
        let tree_oid = update
            .create_updated(repo, &parent_tree)
            .map_err(git_err("cannot build the commit tree"))?;
        let tree = repo
            .find_tree(tree_oid)
            .map_err(git_err("cannot read a tree"))?;

        let hook_index = HookIndex::new(repo, &tree)?;
        run_hook(repo, "pre-commit", &[], &hook_index.path)?;
        let mut message = step.message.clone();
        if opts.signoff {
            message = sign_off(&message, &committer.to_string());
        }
        let editmsg = repo.path().join("COMMIT_EDITMSG");
        std::fs::write(&editmsg, &message).map_err(|e| Error::Io {
            path: editmsg.clone(),
            source: e,
        })?;
        run_hook(repo, "commit-msg", &[editmsg.as_os_str()], &hook_index.path)?;
        message = std::fs::read_to_string(&editmsg).map_err(|e| Error::Io {
            path: editmsg.clone(),
            source: e,
        })?;
        drop(hook_index);
        interrupted.check()?;

        // Nothing visible has changed yet: hooks saw the commit through a
        // temporary index. Now the commit object, then the work tree, the
        // ref and the index, each written atomically, back to back.
        // SIGINT/SIGTERM only set a flag, checked before the next step.
        let oid = repo
            .commit(
                None,
                &author_sig,
                &committer_sig,
                &message,
                &tree,
                &[&parent_commit],
            )
            .map_err(git_err("cannot create a commit"))?;
        for f in &step.files {
            write_atomically(&f.path, &f.before, &f.after)?;
            match saved.work.iter_mut().find(|(p, _, _)| p == &f.path) {
                Some(w) => w.2 = f.after.clone(),
                None => saved
                    .work
                    .push((f.path.clone(), f.before.clone(), f.after.clone())),
            }
        }
        let subject = message.lines().next().unwrap_or("");
        repo.reference(branch_ref, oid, true, &format!("commit: {subject}"))
            .map_err(git_err(&format!("cannot update {branch_ref}")))?;
        // The index records the committed content for our paths only.
        let mut index = repo.index().map_err(git_err("cannot read the index"))?;
        for rel in &rels {
            index
                .add_path(Path::new(rel))
                .map_err(git_err(&format!("cannot stage {rel}")))?;
        }
        index.write().map_err(git_err("cannot write the index"))?;
        parent = oid;
        ids.push(oid);
        let _ = run_hook(repo, "post-commit", &[], &repo.path().join("index"));
    }
    Ok(ids)
}
