//! Real NumPy: the 2.2.1 source release (the last with numpy#28197) and
//! 2.2.3 (fixed), downloaded at run time into a cache outside the repo by
//! `scripts/fetch-numpy.sh`. Skipped, saying so, only when the package
//! index cannot be reached.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

/// (class, file name, function, array) of every finding, plus the JSON.
fn findings(
    tree: &std::path::Path,
    extra: &[&str],
) -> (Vec<(String, String, String, String)>, Value) {
    let v = json_report(tree, extra);
    let list = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("class"), s("file"), s("function"), s("array"))
        })
        .collect();
    (list, v)
}

fn f(class: &str, file: &str, function: &str, array: &str) -> (String, String, String, String) {
    (class.into(), file.into(), function.into(), array.into())
}

const MA: &str = "numpy/_core/src/multiarray";

/// Everything dims-fix finds in NumPy 2.2.x besides `PyArray_Repeat`.
fn common_findings() -> Vec<(String, String, String, String)> {
    vec![
        f(
            "fresh",
            &format!("{MA}/ctors.c"),
            "PyArray_NewFromDescr_int",
            "fa",
        ),
        f("fresh", &format!("{MA}/ctors.c"), "array_from_text", "r"),
        f("fresh", &format!("{MA}/ctors.c"), "PyArray_FromFile", "ret"),
        f("fresh", &format!("{MA}/ctors.c"), "PyArray_FromIter", "ret"),
        f("lock", &format!("{MA}/getset.c"), "array_shape_set", "self"),
        f("lock", &format!("{MA}/getset.c"), "array_descr_set", "self"),
        // The temporary array whose shape storage the setter adopts.
        f(
            "fresh",
            &format!("{MA}/getset.c"),
            "array_descr_set",
            "temp",
        ),
        f("lock", &format!("{MA}/methods.c"), "array_setstate", "self"),
        f(
            "fresh",
            &format!("{MA}/multiarraymodule.c"),
            "PyArray_ConcatenateArrays",
            "sliding_view",
        ),
        f(
            "fresh",
            &format!("{MA}/multiarraymodule.c"),
            "PyArray_ConcatenateFlattenedArrays",
            "sliding_view",
        ),
        f("lock", &format!("{MA}/shape.c"), "PyArray_Resize", "self"),
        f(
            "fresh",
            &format!("{MA}/shape.c"),
            "PyArray_Transpose",
            "ret",
        ),
        // Writes through `shape = fa->dimensions` and assigns `fa->nd`,
        // but is NPY_NO_EXPORT and both its callers pass a view they just
        // made (DESIGN §3c).
        f(
            "fresh",
            &format!("{MA}/shape.c"),
            "PyArray_RemoveAxesInPlace",
            "arr",
        ),
        // A parameter replaced by a new array only when it is NULL: not
        // new on every path to the writes (fresh must be), so a person
        // decides; the reason names the branch.
        f(
            "manual",
            &format!("{MA}/textreading/rows.c"),
            "read_rows",
            "data_array",
        ),
        // The live shape handed to generated Fortran through a function
        // pointer, which sets it.
        f(
            "manual",
            "numpy/f2py/src/fortranobject.c",
            "fortran_setattr",
            "arr",
        ),
        f(
            "lock",
            "numpy/f2py/src/fortranobject.c",
            "swap_arrays",
            "obj1",
        ),
        f(
            "lock",
            "numpy/f2py/src/fortranobject.c",
            "swap_arrays",
            "obj2",
        ),
    ]
}

#[test]
fn numpy_2_2_1_findings_and_classes() {
    let Some(tree) = numpy("2.2.1") else { return };
    let (got, v) = findings(&tree, &[]);
    let mut want = common_findings();
    want.push(f(
        "rewrite",
        &format!("{MA}/item_selection.c"),
        "PyArray_Repeat",
        "aop",
    ));
    let mut sorted_got = got.clone();
    sorted_got.sort();
    want.sort();
    assert_eq!(sorted_got, want);

    let by = |function: &str, array: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["function"] == function && x["array"] == array)
            .unwrap()
            .clone()
    };
    // The race of numpy#28197: the write and the restore, nothing else.
    let repeat = by("PyArray_Repeat", "aop");
    let sites: Vec<(&str, &str)> = repeat["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["role"].as_str().unwrap(), s["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sites,
        [
            ("write", "PyArray_DIMS(aop)[axis] = total;"),
            ("restore", "PyArray_DIMS(aop)[axis] = n;")
        ]
    );
    assert_eq!(by("array_descr_set", "self")["descr_set"], true);
    assert_eq!(by("array_shape_set", "self")["descr_set"], false);
    // Fresh findings name their allocation; the tree's helpers count.
    assert_eq!(by("PyArray_FromFile", "ret")["code"], "DF302");
    assert_eq!(by("PyArray_Repeat", "aop")["code"], "DF400");
    assert_eq!(
        by("array_shape_set", "self")["code"],
        "DF202",
        "frees its shape"
    );
    assert_eq!(
        by("array_setstate", "self")["code"],
        "DF201",
        "assigns metadata"
    );
    // An in-place change that only fresh arrays get: every caller is named.
    let remove = by("PyArray_RemoveAxesInPlace", "arr");
    assert_eq!(remove["code"], "DF303");
    assert_eq!(
        remove["reason"],
        format!(
            "arr changes in place, but PyArray_RemoveAxesInPlace is NPY_NO_EXPORT and every \
             caller passes an array it just made: PyArray_Squeeze ({MA}/shape.c:540), \
             PyArray_SqueezeSelected ({MA}/shape.c:596); a `/*NUMPY_API` comment also puts it \
             in NumPy's C API table, where an extension may pass an array others can see: only \
             its documentation can require a new one"
        )
    );
    // A lock whose caller passes its own, possibly shared, array says so.
    let resize = by("PyArray_Resize", "self")["reason"].to_string();
    assert!(
        resize.ends_with(&format!(
            "called with an array that may be shared by array_resize ({MA}/methods.c:1212)\""
        )),
        "{resize}"
    );

    // Look-alikes are never hits: iterator fields, the alias re-pointed to
    // a local buffer, shapes passed as `const npy_intp *`, and reads.
    for file in [
        "mapping.c",
        "iterators.c",
        "calculation.c",
        "nditer_constr.c",
        "common.c",
    ] {
        assert!(
            !got.iter()
                .any(|(_, f, _, _)| f.ends_with(&format!("/{file}"))),
            "{file} has no shape writes"
        );
    }
    // Exactly these lines are sites: every write, and no read.
    let mut lines: Vec<(String, Vec<u64>)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let name = format!(
                "{}/{}",
                x["function"].as_str().unwrap(),
                x["array"].as_str().unwrap()
            );
            let l = x["sites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["line"].as_u64().unwrap())
                .collect();
            (name, l)
        })
        .collect();
    lines.sort();
    let want_lines: Vec<(String, Vec<u64>)> = [
        ("PyArray_ConcatenateArrays/sliding_view", vec![506]),
        ("PyArray_ConcatenateFlattenedArrays/sliding_view", vec![613]),
        ("PyArray_FromFile/ret", vec![3736]),
        ("PyArray_FromIter/ret", vec![4063, 4120]),
        ("PyArray_NewFromDescr_int/fa", vec![730, 757, 769, 818]),
        ("PyArray_RemoveAxesInPlace/arr", vec![1008]),
        ("PyArray_Repeat/aop", vec![926, 934]),
        // The storage reallocated (PyDimMem_RENEW), then replaced.
        ("PyArray_Resize/self", vec![152, 158, 165, 171]),
        ("PyArray_Transpose/ret", vec![703]),
        ("array_descr_set/self", vec![459, 472, 496]),
        ("array_descr_set/temp", vec![503]),
        ("array_from_text/r", vec![3624]),
        ("array_setstate/self", vec![2138, 2146, 2152]),
        ("array_shape_set/self", vec![88, 92, 100]),
        ("fortran_setattr/arr", vec![460]),
        ("read_rows/data_array", vec![367, 490]),
        ("swap_arrays/obj1", vec![779]),
        ("swap_arrays/obj2", vec![779]),
    ]
    .into_iter()
    .map(|(n, l)| (n.to_string(), l))
    .collect();
    assert_eq!(lines, want_lines);
    assert!(
        v["stats"]["files_parsed"].as_u64().unwrap() < 60,
        "the prefilter keeps parsing small"
    );
}

#[test]
fn numpy_2_2_3_no_longer_has_the_repeat_race() {
    let Some(tree) = numpy("2.2.3") else { return };
    let (mut got, _) = findings(&tree, &[]);
    let mut want = common_findings();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn numpy_strides_join_the_same_findings() {
    let Some(tree) = numpy("2.2.1") else { return };
    let (dims, _) = findings(&tree, &[]);
    let (with_strides, v) = findings(&tree, &["--strides"]);
    // Every dims finding is still there, with the same class.
    for d in &dims {
        assert!(with_strides.contains(d), "{d:?} kept with --strides");
    }
    let descr = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["function"] == "array_descr_set" && x["array"] == "self")
        .unwrap();
    let kinds: Vec<&str> = descr["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"dims") && kinds.contains(&"strides"),
        "{kinds:?}"
    );
    // Strides-only writes elsewhere are findings of their own, never fixed
    // automatically here (no restore).
    for extra in with_strides.iter().filter(|x| !dims.contains(x)) {
        assert_eq!(extra.0, "manual", "{extra:?}");
    }
}

/// A scratch copy of a release (the cache stays pristine).
fn scratch_copy(tree: &std::path::Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", tree.display()))
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(ok.success());
    tmp
}

/// The statements of a function, trimmed, without blank or comment lines.
fn statements(text: &str, header: &str) -> Vec<String> {
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("{header} not found"));
    let body = &text[start..];
    let end = body.find("\n}\n").unwrap();
    body[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("/*") && !l.starts_with('*'))
        .map(str::to_string)
        .collect()
}

#[test]
fn numpy_2_2_1_dry_run_is_the_upstream_fix_plus_lock_todos() {
    let Some(tree) = numpy("2.2.1") else { return };
    let Some(fixed) = numpy("2.2.3") else { return };
    let work = scratch_copy(&tree);
    let out = dims_fix().arg(work.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff = stdout(&out);
    // Beside the tree, not in it (nor in the shared temporary directory).
    let patch_dir = tempfile::tempdir().unwrap();
    let patch_file = patch_dir.path().join("dims-fix.patch");
    std::fs::write(&patch_file, &diff).unwrap();

    // The pristine tree takes the patch with git and with patch(1).
    let git = git_command(work.path())
        .args(["apply", "--check", "--whitespace=nowarn"])
        .arg(&patch_file)
        .output()
        .unwrap();
    assert!(git.status.success(), "git apply --check: {}", stderr(&git));
    let patch = Command::new("patch")
        .args(["-p1", "--dry-run", "-i"])
        .arg(&patch_file)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        patch.status.success(),
        "patch -p1 --dry-run: {}",
        stdout(&patch)
    );

    // Only item_selection.c changes code; every other file only gains
    // lock TODO comments.
    let mut files = Vec::new();
    let mut current = String::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ b/") {
            current = path.to_string();
            files.push(current.clone());
        } else if current != format!("{MA}/item_selection.c")
            && !line.starts_with("+++")
            && !line.starts_with("---")
        {
            assert!(!line.starts_with('-'), "{current}: removes a line: {line}");
            if let Some(added) = line.strip_prefix('+') {
                let t = added.trim_start();
                assert!(
                    t.starts_with("/*") || t.starts_with('*'),
                    "{current}: adds code: {added}"
                );
            }
        }
    }
    assert!(files.contains(&format!("{MA}/item_selection.c")));
    assert!(files.contains(&format!("{MA}/getset.c")));
    let getset_todo = diff
        .split("+++ b/")
        .find(|s| s.starts_with(&format!("{MA}/getset.c")))
        .unwrap();
    assert!(getset_todo.contains("TODO(dims-fix): array_descr_set changes self in place"));
    assert!(getset_todo.contains("descr-set"));
    let (lock_files, _) = findings(&tree, &[]);
    for f in &files {
        if f.ends_with("item_selection.c") {
            continue;
        }
        assert!(
            lock_files
                .iter()
                .any(|(class, file, _, _)| class == "lock" && file == f),
            "{f} has a lock finding"
        );
    }

    // Applied, PyArray_Repeat is NumPy 2.2.3's function but for how the
    // local copy is filled (memcpy instead of a loop).
    let apply = git_command(work.path())
        .args(["apply", "--whitespace=nowarn"])
        .arg(&patch_file)
        .status()
        .unwrap();
    assert!(apply.success());
    let ours = std::fs::read_to_string(work.path().join(MA).join("item_selection.c")).unwrap();
    let upstream = std::fs::read_to_string(fixed.join(MA).join("item_selection.c")).unwrap();
    let header = "PyArray_Repeat(PyArrayObject *aop, PyObject *op, int axis)\n{";
    let (ours, upstream) = (statements(&ours, header), statements(&upstream, header));
    let decl = |s: &Vec<String>| {
        s.iter()
            .position(|l| l.starts_with("npy_intp dims[NPY_MAXDIMS]"))
            .unwrap()
    };
    let set = |s: &Vec<String>| s.iter().position(|l| l == "dims[axis] = total;").unwrap();
    assert_eq!(
        ours[..decl(&ours)],
        upstream[..decl(&upstream)],
        "same statements before the copy"
    );
    assert_eq!(
        ours[set(&ours)..],
        upstream[set(&upstream)..],
        "same statements from dims[axis] = total;"
    );
    assert_eq!(
        ours[decl(&ours)..set(&ours)],
        [
            "npy_intp dims[NPY_MAXDIMS];",
            "memcpy(dims, PyArray_DIMS(aop), PyArray_NDIM(aop) * sizeof(npy_intp));"
        ]
    );
    assert!(!ours
        .iter()
        .any(|l| l.starts_with("PyArray_DIMS(aop)[") && l.contains('=')));
    assert!(
        ours.contains(&"nel *= PyArray_DIMS(aop)[i];".to_string()),
        "later reads stay"
    );
    assert!(ours.contains(&"n_outer *= PyArray_DIMS(aop)[i];".to_string()));
}

#[test]
fn numpy_2_2_1_apply_twice_is_apply_once() {
    let Some(tree) = numpy("2.2.1") else { return };
    let work = scratch_copy(&tree);
    let first = dims_fix().arg("--apply").arg(work.path()).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let written: Vec<&str> = stderr(&first)
        .lines()
        .filter(|l| l.contains(": wrote "))
        .map(|_| "")
        .collect();
    assert!(written.len() >= 5, "{}", stderr(&first));
    let after_one = tree_bytes(work.path());
    let second = dims_fix().arg("--apply").arg(work.path()).output().unwrap();
    assert_eq!(second.status.code(), Some(0));
    assert!(!stderr(&second).contains(": wrote "), "{}", stderr(&second));
    assert!(
        after_one == tree_bytes(work.path()),
        "the second --apply changed files"
    );
    let dry = dims_fix().arg(work.path()).output().unwrap();
    assert_eq!(stdout(&dry), "", "--dry-run after --apply prints no diff");
}

fn tree_bytes(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "c" || x == "h" || x == "src")
            {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every patched file compiles in NumPy's build, and with -Wall -Wextra it
/// has no warning the pristine file has not (DESIGN §4).
#[test]
fn numpy_2_2_1_patched_sources_compile() {
    // Fetches the release first so an unreachable index skips cleanly.
    if numpy("2.2.1").is_none() {
        return;
    }
    // compare-warnings.sh runs compile-patched.sh first, then compiles
    // every changed file pristine and patched with -Wall -Wextra.
    let out = Command::new(repo().join("scripts/compare-warnings.sh"))
        .arg("2.2.1")
        .env("DIMS_FIX", bin())
        .output()
        .unwrap();
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("no new warnings in "), "{log}");
    assert!(
        log.contains(&format!(
            "{MA}/item_selection.c: 0 warnings pristine, 0 patched, 0 new"
        )),
        "{log}"
    );
    for file in ["item_selection.c", "getset.c"] {
        assert!(
            log.contains(&format!("{MA}/{file}: compiled (")),
            "{file} compiled as part of NumPy's build:\n{log}"
        );
    }
    assert!(log.contains("all patched sources compiled"), "{log}");
}

#[test]
fn numpy_2_2_1_commit_series_and_patch_dir() {
    let Some(tree) = numpy("2.2.1") else { return };
    let work = scratch_copy(&tree);
    let dir = work.path();
    init_repo(dir);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "numpy 2.2.1"]);
    let base = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    let dry = dims_fix().arg(dir).output().unwrap();
    let patches = tempfile::tempdir().unwrap();
    let out = dims_fix()
        .args(["--commit", "--patch-dir"])
        .arg(patches.path())
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(git(dir, &["status", "--porcelain"]), "");

    // One commit per finding with a rewrite or a TODO (a lock TODO covers
    // its function), each touching only its file.
    let log = git(
        dir,
        &[
            "log",
            "--reverse",
            "--format=%H %s",
            &format!("{base}..HEAD"),
        ],
    );
    let commits: Vec<(&str, &str)> = log.lines().map(|l| l.split_once(' ').unwrap()).collect();
    let subjects: Vec<&str> = commits.iter().map(|c| c.1).collect();
    // The bug fix first (it is what gets backported), then the TODOs in
    // file and position order; every subject within 72 characters.
    assert_eq!(
        subjects,
        [
            "BUG: avoid data race on the shape of aop in PyArray_Repeat",
            "MAINT: mark the in-place shape change in array_shape_set for locking",
            "MAINT: mark the in-place shape change in array_descr_set for locking",
            "MAINT: mark the in-place shape change in array_setstate for locking",
            "MAINT: mark the in-place shape change in PyArray_Resize for locking",
            "MAINT: mark the in-place shape change in swap_arrays for locking",
        ]
    );
    let quoted = git(
        dir,
        &["log", "--reverse", "--oneline", &format!("{base}..HEAD")],
    );
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("NumPy 2.2.1 --commit series:\n{quoted}").as_bytes(),
    );
    for (id, subject) in &commits {
        assert!(subject.chars().count() <= 72, "{subject}");
        let files = git(dir, &["show", "--format=", "--name-only", id]);
        assert_eq!(
            files.lines().count(),
            1,
            "{subject} touches one file: {files}"
        );
        let body = git(dir, &["log", "-1", "--format=%B", id]);
        assert!(
            body.contains("\n\nSee gh-28197.\n") && body.contains("Generated-by: dims-fix"),
            "{body}"
        );
        assert!(!body.contains("Sites:") && !body.contains(".c:"), "{body}");
        assert!(body.lines().all(|l| l.chars().count() <= 72), "{body}");
    }
    let descr = git(dir, &["log", "-1", "--format=%B", commits[2].0]);
    assert!(descr.contains("descr-set"), "{descr}");

    // The Repeat commit is the change --dry-run printed for item_selection.c.
    let repeat = commits[0].0;
    let shown = git(dir, &["show", "--format=", repeat]);
    let dry = stdout(&dry);
    let dry_repeat: String = dry
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with(&format!("diff --git a/{MA}/item_selection.c")))
        .take_while({
            let mut first = true;
            move |l| std::mem::take(&mut first) || !l.starts_with("diff --git")
        })
        .collect();
    let hunks = |d: &str| {
        d.lines()
            .skip_while(|l| !l.starts_with("@@"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(!dry_repeat.is_empty());
    assert_eq!(hunks(&shown), hunks(&dry_repeat));

    // git am of the patch series onto the original commit gives the same tree.
    let final_tree = git(dir, &["rev-parse", "HEAD^{tree}"]);
    git(dir, &["checkout", "-q", "-b", "replay", &base]);
    let mut names: Vec<PathBuf> = std::fs::read_dir(patches.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6);
    let mut am = vec!["am".to_string(), "-q".to_string()];
    am.extend(names.iter().map(|p| p.display().to_string()));
    let am: Vec<&str> = am.iter().map(String::as_str).collect();
    git(dir, &am);
    assert_eq!(git(dir, &["rev-parse", "HEAD^{tree}"]), final_tree);

    // `git am -3` applies the series onto a tree where unrelated lines
    // moved: a header added to every file the series touches, and a line
    // of the Repeat hunk's context edited, so that plain `git am` fails.
    git(dir, &["checkout", "-q", "-b", "upstream", &base]);
    let touched = git(dir, &["diff", "--name-only", &base, "replay"]);
    for rel in touched.lines() {
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replacen(
            "            total += counts[j];\n        }\n    }\n",
            "            total += counts[j];\n        }\n    }  /* counts checked */\n",
            1,
        );
        std::fs::write(&path, format!("/* Moved down by a header. */\n\n{text}")).unwrap();
    }
    git(dir, &["commit", "-qam", "upstream moved lines"]);
    let plain = git_command(dir)
        .args(["am", "-q"])
        .args(&names)
        .output()
        .unwrap();
    assert!(!plain.status.success(), "plain git am must fail here");
    git(dir, &["am", "--abort"]);
    let mut am3 = vec!["am".to_string(), "-q".to_string(), "-3".to_string()];
    am3.extend(names.iter().map(|p| p.display().to_string()));
    let am3: Vec<&str> = am3.iter().map(String::as_str).collect();
    git(dir, &am3);
    let moved = git(
        dir,
        &["log", "--reverse", "--format=%s", &format!("{base}..HEAD")],
    );
    assert_eq!(moved.lines().skip(1).collect::<Vec<_>>(), subjects);
    assert_eq!(git(dir, &["status", "--porcelain"]), "");

    // `--class rewrite --commit` makes only the bug fix.
    git(dir, &["checkout", "-q", "-b", "bug-only", &base]);
    let out = dims_fix()
        .args(["--class", "rewrite", "--commit"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        git(dir, &["log", "--format=%s", &format!("{base}..HEAD")]),
        "BUG: avoid data race on the shape of aop in PyArray_Repeat\n"
    );
}

/// Results on NumPy 2.2.1 are pinned: the findings (with their planned
/// diffs) and the whole patch must stay byte-identical through speed work,
/// with and without --strides. Hashes, so that no NumPy text is kept in
/// this repository. The `code` fields (added to schema 1 after the pin)
/// are left out of the hash: the rest must not change. A deliberate change
/// of the output re-pins them. Last re-pinned when the no-silent-misses
/// work added sites (PyArray_Resize's reallocation at line 152, which moves
/// its lock TODO up; fortran_setattr's call through a function pointer) and
/// made fresh sound (read_rows: manual, its array is new on one path only),
/// and lock TODOs came to name statements, not lines, one per branch
/// (DESIGN §3c); and when callers came to count (DESIGN §3c):
/// PyArray_RemoveAxesInPlace is fresh (no TODO), and the reasons of
/// PyArray_Resize and swap_arrays name the call passing a shared array;
/// PyArray_RemoveAxesInPlace's reason says that a `/*NUMPY_API` comment
/// puts it in the C API table too; a strides write is said to change the
/// strides, not the shape (array_strides_set).
#[test]
fn numpy_2_2_1_results_are_pinned() {
    use sha2::{Digest, Sha256};
    let Some(tree) = numpy("2.2.1") else { return };
    let hex = |b: &[u8]| format!("{:x}", Sha256::digest(b));
    let hashes = |extra: &[&str]| {
        let json = dims_fix()
            .args(["--format", "json"])
            .args(extra)
            .arg(&tree)
            .output()
            .unwrap();
        let mut v: Value = serde_json::from_slice(&json.stdout).unwrap();
        for f in v["findings"].as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("code");
            for s in f["sites"].as_array_mut().unwrap() {
                s.as_object_mut().unwrap().remove("code");
            }
        }
        let findings = serde_json::to_string(&v["findings"]).unwrap();
        let patch = dims_fix().args(extra).arg(&tree).output().unwrap().stdout;
        (hex(findings.as_bytes()), hex(&patch))
    };
    assert_eq!(
        hashes(&[]),
        (
            "e48a1b332602bc7dc4536d4b0454d34e57c2d2a86adebc678e8fdb3c59daeaae".to_string(),
            "9df99cbebbda6472bdb43527dcb4a996a10a123b955a3c0b56fe50a681942325".to_string()
        )
    );
    assert_eq!(
        hashes(&["--strides"]),
        (
            "8ecdd46238f634d65423a2c686ac37896b536428eb0046932c400249b0f60e47".to_string(),
            "b3355b7ba51bb84c39ef534137bc9d45e3a4325d85a79eaf176a178800a72701".to_string()
        )
    );
}

/// Acceptance: from the root of an unpacked source release (no git),
/// `dims-fix numpy/_core/src > fix.patch && git apply fix.patch` works.
#[test]
fn numpy_2_2_1_diff_applies_from_the_sdist_root() {
    let Some(tree) = numpy("2.2.1") else { return };
    let work = scratch_copy(&tree);
    let out = dims_fix()
        .arg("numpy/_core/src")
        .current_dir(work.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("+++ b/numpy/_core/src/multiarray/item_selection.c"));
    std::fs::write(work.path().join("fix.patch"), &out.stdout).unwrap();
    let apply = git_command(work.path())
        .args(["apply", "fix.patch"])
        .output()
        .unwrap();
    assert!(apply.status.success(), "git apply: {}", stderr(&apply));
    let fixed = std::fs::read_to_string(work.path().join(MA).join("item_selection.c")).unwrap();
    assert!(fixed.contains("dims[axis] = total;"));
}

/// Acceptance: the SARIF log of NumPy 2.2.1 passes Microsoft's validator
/// with its GitHub rules (no error, no warning), holds no fresh result,
/// has unique fingerprints and help for every rule, and its fixes,
/// applied, give what the dry run's diff gives; the JSON report follows
/// the schema.
#[test]
fn numpy_2_2_1_sarif_passes_the_validator_with_github_rules() {
    let Some(tree) = numpy("2.2.1") else { return };
    let Some(validator) = cached_tool("sarif-multitool.sh", "Microsoft's SARIF validator (npm)")
    else {
        return;
    };
    let out = dims_fix()
        .args(["--format", "sarif"])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        9,
        "the rewrite, the six lock findings, read_rows and fortran_setattr (manual); \
         PyArray_RemoveAxesInPlace is fresh by its callers"
    );
    assert!(
        results.iter().all(|r| r["level"] != "note"),
        "no fresh result"
    );
    assert_unique_fingerprints(&log, "numpy 2.2.1");
    assert_help_per_rule(&log, "numpy 2.2.1");

    let tmp = tempfile::tempdir().unwrap();
    let problems = |log: &Value, name: &str| -> Vec<String> {
        let file = tmp.path().join(name);
        std::fs::write(&file, serde_json::to_vec_pretty(log).unwrap()).unwrap();
        let found = tmp.path().join(format!("{name}.out"));
        let run = Command::new(&validator)
            .arg("validate")
            .arg(&file)
            .args([
                "--rule-kind",
                "Gh;Sarif",
                "--level",
                "Error;Warning",
                "--log",
                "ForceOverwrite",
                "-o",
            ])
            .arg(&found)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(&found).unwrap_or_else(|e| {
            panic!(
                "the validator wrote no log ({e}): {}{}",
                stdout(&run),
                stderr(&run)
            )
        }))
        .unwrap();
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}: {}", r["level"], r["ruleId"], r["message"]))
            .collect()
    };
    assert_eq!(problems(&log, "numpy.sarif"), Vec::<String>::new());
    // The validator does check GitHub's rules: a rule without help fails.
    let mut broken = log.clone();
    broken["runs"][0]["tool"]["driver"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("help");
    let found = problems(&broken, "broken.sarif");
    assert!(found.iter().any(|p| p.contains("GH")), "{found:?}");

    // The fixes give the dry run's result.
    let fixed = apply_sarif_fixes(&log, &tree);
    assert_eq!(
        fixed.len(),
        5,
        "item_selection.c and four files with lock TODOs"
    );
    let work = scratch_copy(&tree);
    let dry = dims_fix().arg(work.path()).output().unwrap();
    let patch_file = tmp.path().join("fix.patch");
    std::fs::write(&patch_file, &dry.stdout).unwrap();
    let apply = git_command(work.path())
        .args(["apply", "--whitespace=nowarn"])
        .arg(&patch_file)
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", stderr(&apply));
    for (file, text) in &fixed {
        let by_diff = std::fs::read_to_string(work.path().join(file)).unwrap();
        assert!(*text == by_diff, "{file}: SARIF fixes differ from the diff");
    }

    let (_, json) = findings(&tree, &[]);
    assert_eq!(schema_errors(&report_schema(), &json), Vec::<String>::new());
}

/// A lock that is added is recognised (DESIGN §3c): `array_shape_set`'s
/// change wrapped in `Py_BEGIN_CRITICAL_SECTION(self)` (one section per
/// branch) and `swap_arrays` in a two-object section are resolved — no
/// TODO, `--check` passes for them — while `array_descr_set`, untouched,
/// still gets its TODO.
#[test]
fn numpy_2_2_1_locks_added_in_the_code_are_resolved() {
    let Some(tree) = numpy("2.2.1") else { return };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let edit = |from: &str, name: &str, pairs: &[(&str, &str)]| {
        let mut text = std::fs::read_to_string(tree.join(from)).unwrap();
        for (old, new) in pairs {
            assert!(text.contains(old), "{from} holds {old:?}");
            text = text.replacen(old, new, 1);
        }
        std::fs::write(dir.join(name), text).unwrap();
    };
    edit(
        &format!("{MA}/getset.c"),
        "getset.c",
        &[
            (
                "        /* Free old dimensions and strides */\n        npy_free_cache_dim_array(self);\n        ((PyArrayObject_fields *)self)->nd = nd;",
                "        Py_BEGIN_CRITICAL_SECTION(self);\n        /* Free old dimensions and strides */\n        npy_free_cache_dim_array(self);\n        ((PyArrayObject_fields *)self)->nd = nd;",
            ),
            (
                "nd*sizeof(npy_intp));\n        }\n    }\n    else {\n",
                "nd*sizeof(npy_intp));\n        }\n        Py_END_CRITICAL_SECTION();\n    }\n    else {\n        Py_BEGIN_CRITICAL_SECTION(self);\n",
            ),
            (
                "        ((PyArrayObject_fields *)self)->strides = NULL;\n    }\n",
                "        ((PyArrayObject_fields *)self)->strides = NULL;\n        Py_END_CRITICAL_SECTION();\n    }\n",
            ),
        ],
    );
    edit(
        "numpy/f2py/src/fortranobject.c",
        "fortranobject.c",
        &[
            (
                "    SWAPTYPE(arr1->data, arr2->data, char *);",
                "    Py_BEGIN_CRITICAL_SECTION2((PyObject *)obj1, (PyObject *)obj2);\n    SWAPTYPE(arr1->data, arr2->data, char *);",
            ),
            (
                "    SWAPTYPE(arr1->flags, arr2->flags, int);\n",
                "    SWAPTYPE(arr1->flags, arr2->flags, int);\n    Py_END_CRITICAL_SECTION2();\n",
            ),
        ],
    );
    let json = dims_fix()
        .args(["--format", "json", "--check"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1), "array_descr_set is still open");
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let lock = |function: &str| -> Vec<&Value> {
        findings
            .iter()
            .filter(|f| f["function"] == function && f["class"] == "lock")
            .collect()
    };
    for f in lock("array_shape_set") {
        assert_eq!(f["resolved"], "Py_BEGIN_CRITICAL_SECTION(self)", "{f}");
        assert_eq!(f["acknowledged"], true);
        assert!(f.get("diff").is_none(), "no TODO: {f}");
    }
    let swaps = lock("swap_arrays");
    assert_eq!(swaps.len(), 2);
    for f in swaps {
        assert_eq!(
            f["resolved"], "Py_BEGIN_CRITICAL_SECTION2((PyObject *)obj1, (PyObject *)obj2)",
            "{f}"
        );
    }
    let descr = lock("array_descr_set");
    assert!(!descr.is_empty() && descr.iter().all(|f| f.get("resolved").is_none()));
    // The only TODO planned is array_descr_set's.
    let dry = dims_fix().arg(dir).output().unwrap();
    let diff = stdout(&dry);
    let todos = diff.matches("TODO(dims-fix)").count();
    assert!(todos >= 1, "{diff}");
    assert_eq!(
        diff.matches("TODO(dims-fix): array_descr_set").count(),
        todos,
        "{diff}"
    );
    assert!(!diff.contains("fortranobject.c"), "{diff}");
    // --check passes for the swap: the file's only open finding is
    // fortran_setattr's, the live shape handed to a function pointer
    // (manual, DF171), which no lock answers.
    let check = dims_fix()
        .args(["--check", "--format", "json"])
        .arg(dir.join("fortranobject.c"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let open: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["acknowledged"] == false)
        .map(|f| (f["function"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(open, [("fortran_setattr", "DF171")], "{}", stderr(&check));
}

/// One lock TODO of a patched file: the function below it, its text
/// (comment markers off, wrapped lines joined) and the code lines after it.
struct Todo {
    text: String,
    below: Vec<String>,
}

fn todos(patched: &str) -> Vec<Todo> {
    let lines: Vec<&str> = patched.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with("* TODO(dims-fix):") {
            i += 1;
            continue;
        }
        let mut text = String::new();
        while !lines[i].trim().starts_with("*/") {
            let t = lines[i].trim().trim_start_matches('*').trim();
            text.push_str(if t.is_empty() { "\n" } else { t });
            text.push(' ');
            i += 1;
        }
        i += 1;
        // The code below, up to the end of the function, comments skipped.
        let below = lines[i..]
            .iter()
            .take_while(|l| !l.starts_with('}'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty() && !l.starts_with("/*") && !l.starts_with('*'))
            .collect();
        out.push(Todo { text, below });
    }
    out
}

/// Acceptance of lock TODOs on NumPy 2.2.1: after --apply, each TODO names
/// no line numbers, names statements that are in the code below it in that
/// order, stands above the first of them (or above the loop holding it),
/// gives the advice for its case, and there is one per branch that changes
/// the array.
#[test]
fn numpy_2_2_1_lock_todos_describe_the_patched_code() {
    let Some(tree) = numpy("2.2.1") else { return };
    let work = scratch_copy(&tree);
    let out = dims_fix().arg("--apply").arg(work.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line_number = regex_lite_line_number;
    let mut count = std::collections::BTreeMap::new();
    for (file, min) in [
        (format!("{MA}/getset.c"), 5),
        (format!("{MA}/methods.c"), 1),
        (format!("{MA}/shape.c"), 2),
        ("numpy/f2py/src/fortranobject.c".to_string(), 1),
    ] {
        let patched = std::fs::read_to_string(work.path().join(&file)).unwrap();
        let found = todos(&patched);
        assert!(found.len() >= min, "{file}: {} TODOs", found.len());
        for todo in found {
            let t = &todo.text;
            assert!(!line_number(t), "{file}: a line number in {t}");
            let function = t
                .trim_start_matches("TODO(dims-fix): ")
                .split(' ')
                .next()
                .unwrap()
                .to_string();
            *count.entry(function.clone()).or_insert(0) += 1;
            let named: Vec<String> = t
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            assert!(!named.is_empty(), "{t}");
            // In the code below, in order.
            let mut at = 0;
            for stmt in &named {
                let Some(k) = todo.below[at..]
                    .iter()
                    .position(|l| l.starts_with(stmt.as_str()))
                else {
                    panic!("{file}: {stmt:?} not below its TODO:\n{t}");
                };
                at += k + 1;
            }
            // Directly above the first statement, or above the loop holding it.
            let first = &todo.below[0];
            assert!(
                first.starts_with(named[0].as_str())
                    || first.starts_with("for ")
                    || first.starts_with("while "),
                "{file}: the TODO stands above {first:?}, not {:?}",
                named[0]
            );
            for advice in [
                "Py_BEGIN_CRITICAL_SECTION",
                "It does not protect readers",
                "deprecate the mutator",
                "WRITEBACKIFCOPY",
                "gh-28197",
            ] {
                assert!(t.contains(advice), "{file}: no {advice:?} in {t}");
            }
            let swap = function == "swap_arrays";
            assert_eq!(
                t.contains("Py_BEGIN_CRITICAL_SECTION2(obj1, obj2)"),
                swap,
                "{t}"
            );
            assert_eq!(t.contains("PY_VERSION_HEX >= 0x030D0000"), swap, "{t}");
        }
    }
    // One TODO per branch that changes the array.
    assert_eq!(count["array_shape_set"], 2, "{count:?}");
    assert!(count["array_descr_set"] >= 3, "{count:?}");
    assert_eq!(count["swap_arrays"], 1, "{count:?}");
    // Only fresh arrays reach it (DESIGN §3c): no TODO.
    assert!(
        !count.contains_key("PyArray_RemoveAxesInPlace"),
        "{count:?}"
    );
    // And a second run finds nothing more to do.
    let again = dims_fix().arg(work.path()).output().unwrap();
    assert_eq!(stdout(&again), "");
}

/// Whether a text gives a line number ("line 88", "lines 88, 92").
fn regex_lite_line_number(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).any(|w| {
        matches!(w[0].trim_start_matches('('), "line" | "lines")
            && w[1]
                .trim_end_matches([',', ')', '.'])
                .parse::<u32>()
                .is_ok()
    })
}

/// NumPy 2.4.6 (the latest release when the no-silent-misses work was
/// done): every write to an ndarray's shape or strides storage is a site,
/// and nothing else is. The list was made independently of dims-fix, by
/// reading every line of
/// `grep -rnE 'PyArray_DIMS|PyArray_SHAPE|PyArray_STRIDES|(->|\.)dimensions|(->|\.)strides\b'`
/// over the C, C++ and template sources, every use of each alias of a
/// source, and every callee given one. Among them: the function-pointer
/// call of f2py's fortran_setattr, the writes of PyArray_Resize_int
/// behind `#if`/`#else` branches that open braces differently (once lost,
/// or reported under another function's name), and its reallocation of
/// the storage.
#[test]
fn numpy_2_4_6_every_shape_and_strides_write_is_reported() {
    let Some(tree) = numpy("2.4.6") else { return };
    let (_, v) = findings(&tree, &["--strides"]);
    let f2py = "numpy/f2py/src/fortranobject.c";
    let want: Vec<(String, &str, Vec<u64>)> = [
        (
            "ctors.c",
            "PyArray_NewFromDescr_int",
            vec![754, 781, 786, 793, 828, 834, 842, 843, 895],
        ),
        ("ctors.c", "PyArray_FromInterface", vec![2469]),
        ("ctors.c", "array_from_text", vec![3665]),
        (
            "getset.c",
            "array_shape_set",
            vec![88, 89, 92, 93, 100, 101],
        ),
        ("getset.c", "array_strides_set", vec![183]),
        (
            "getset.c",
            "array_descr_set",
            vec![467, 468, 480, 481, 516, 517],
        ),
        (
            "methods.c",
            "array_setstate",
            vec![2192, 2200, 2204, 2206, 2208],
        ),
        ("multiarraymodule.c", "PyArray_ConcatenateArrays", vec![512]),
        (
            "multiarraymodule.c",
            "PyArray_ConcatenateFlattenedArrays",
            vec![615],
        ),
        (
            "shape.c",
            "PyArray_Resize_int",
            vec![168, 174, 175, 181, 182, 187, 188],
        ),
        ("shape.c", "PyArray_Transpose", vec![741, 742]),
        ("shape.c", "PyArray_RemoveAxesInPlace", vec![1046, 1047]),
    ]
    .into_iter()
    .map(|(file, function, lines)| (format!("{MA}/{file}"), function, lines))
    .chain([
        (f2py.to_string(), "fortran_setattr", vec![473]),
        (f2py.to_string(), "swap_arrays", vec![792, 793]),
    ])
    .collect();
    // The site lines of each (file, function), and every finding's class.
    let mut got: Vec<(String, String, Vec<u64>)> = Vec::new();
    for x in v["findings"].as_array().unwrap() {
        let key = (x["file"].as_str().unwrap(), x["function"].as_str().unwrap());
        let lines = x["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["line"].as_u64().unwrap());
        match got
            .iter_mut()
            .find(|(f, n, _)| (f.as_str(), n.as_str()) == key)
        {
            Some((_, _, l)) => l.extend(lines),
            None => got.push((key.0.to_string(), key.1.to_string(), lines.collect())),
        }
    }
    for (_, _, l) in &mut got {
        l.sort_unstable();
        l.dedup();
    }
    got.sort();
    let mut want: Vec<(String, String, Vec<u64>)> = want
        .into_iter()
        .map(|(f, n, l)| (f, n.to_string(), l))
        .collect();
    want.sort();
    assert_eq!(got, want, "every write is a site, and nothing else is");
    // Resize is an in-place change (lock) under its own name; the call
    // through f2py's function pointer may write (manual).
    let class = |function: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["function"] == function)
            .map(|x| x["class"].as_str().unwrap().to_string())
    };
    assert_eq!(class("PyArray_Resize_int").as_deref(), Some("lock"));
    assert_eq!(class("fortran_setattr").as_deref(), Some("manual"));
    // Every mention of a source is accounted for; C++ is listed.
    assert_eq!(v["stats"]["accounting"]["not_analysed"], 0);
    for n in v["not_analysed"].as_array().unwrap() {
        assert_eq!(n["language"], "c++", "{n}");
    }
}

/// Acceptance (speed issue): the lexical write filter changes nothing on
/// NumPy 2.2.1: the findings, the accounting of mentions and the diff are
/// those of `--parse-all` (every candidate function parsed), for the
/// shape, with `--strides`, and with every metadata field.
#[test]
fn numpy_2_2_1_write_filter_changes_nothing() {
    let Some(tree) = numpy("2.2.1") else { return };
    for extra in [&[][..], &["--strides"], &["--fields", "all"]] {
        let run = |parse_all: bool| {
            let mut args: Vec<&str> = extra.to_vec();
            args.extend(parse_all.then_some("--parse-all"));
            let json = dims_fix()
                .args(&args)
                .args(["--format", "json"])
                .arg(&tree)
                .output()
                .unwrap();
            let v: Value = serde_json::from_slice(&json.stdout).unwrap();
            let diff = dims_fix().args(&args).arg(&tree).output().unwrap().stdout;
            (
                v["findings"].clone(),
                v["stats"]["accounting"].clone(),
                diff,
            )
        };
        let (filtered, parsed) = (run(false), run(true));
        assert!(filtered.0 == parsed.0, "{extra:?}: findings differ");
        assert_eq!(filtered.1, parsed.1, "{extra:?}: accounting differs");
        assert!(filtered.2 == parsed.2, "{extra:?}: diffs differ");
        assert!(filtered.0.as_array().is_some_and(|f| !f.is_empty()));
    }
}

/// Acceptance (speed issue): where the facts of the functions to classify
/// come from changes nothing on NumPy 2.2.1. A tree this size keeps them
/// from its first parse; a larger one packs the writers' facts then, or,
/// past that budget, parses them again (`DIMS_FIX_TEST_FACTS` makes this
/// tree take each way): the findings, the accounting of mentions and the
/// diff are the same, for the shape and with every metadata field.
#[test]
fn numpy_2_2_1_facts_kept_packed_or_parsed_agree() {
    let Some(tree) = numpy("2.2.1") else { return };
    for extra in [&[][..], &["--fields", "all"]] {
        let run = |facts: Option<&str>| {
            let with = |cmd: &mut DimsFix| {
                if let Some(facts) = facts {
                    cmd.env("DIMS_FIX_TEST_FACTS", facts);
                }
                cmd.args(extra).output().unwrap()
            };
            let json = with(dims_fix().args(["--format", "json"]).arg(&tree));
            let v: Value = serde_json::from_slice(&json.stdout).unwrap();
            let diff = with(dims_fix().arg(&tree)).stdout;
            (
                v["findings"].clone(),
                v["stats"]["accounting"].clone(),
                diff,
            )
        };
        let kept = run(None);
        assert!(kept.0.as_array().is_some_and(|f| !f.is_empty()));
        for facts in ["packed", "parsed"] {
            let other = run(Some(facts));
            assert!(kept.0 == other.0, "{extra:?}: findings differ, {facts}");
            assert_eq!(kept.1, other.1, "{extra:?}: accounting differs, {facts}");
            assert!(kept.2 == other.2, "{extra:?}: diffs differ, {facts}");
        }
    }
}
