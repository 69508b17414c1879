//! The metadata family (`--fields`) on real NumPy 2.2.1, downloaded at run
//! time like `tests/numpy.rs`: every member the family issue names is
//! reported with its field, function and lines, the early exits are named,
//! and the shape and strides findings are those of `--strides`.

mod common;

use common::*;
use serde_json::Value;

const MA: &str = "numpy/_core/src/multiarray";

/// The finding of (file, function, array, field).
fn finding<'v>(v: &'v Value, file: &str, function: &str, array: &str, field: &str) -> &'v Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["file"] == file
                && f["function"] == function
                && f["array"] == array
                && f["field"] == field
        })
        .unwrap_or_else(|| panic!("no {field} finding for {function}/{array} in {file}"))
}

/// (line, role) of every site.
fn sites(f: &Value) -> Vec<(u64, String)> {
    f["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["line"].as_u64().unwrap(),
                s["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn site(line: u64, role: &str) -> (u64, String) {
    (line, role.to_string())
}

#[test]
fn numpy_2_2_1_metadata_family_members() {
    let Some(tree) = numpy("2.2.1") else { return };
    let v = json_report(&tree, &["--fields", "all"]);
    let methods = format!("{MA}/methods.c");
    // descr swapped around a sort and put back; an early `return` between
    // the two is a bug: partition and argpartition (when `kth` does not
    // convert) and sort and argsort (`kind` and `stable` both given).
    for (function, write, exit, restore) in [
        ("array_sort", 1320, 1326, 1338),
        ("array_partition", 1398, 1404, 1411),
        ("array_argsort", 1467, 1473, 1485),
        ("array_argpartition", 1540, 1546, 1553),
    ] {
        let f = finding(&v, &methods, function, "self", "descr");
        assert_eq!(f["class"], "manual", "{function}");
        assert_eq!(f["code"], "DF190", "{function}");
        let reason = f["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("`return` at line {exit}"))
                && reason.contains(&format!("put back at line {restore}")),
            "{function}: {reason}"
        );
        assert_eq!(
            sites(f),
            vec![site(write, "write"), site(restore, "restore")]
        );
        assert!(f["sites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["kind"] == "descr"));
    }
    // flags forced and put back on the caller's array.
    for (function, write, restore) in [("PyArray_Zero", 1784, 1786), ("PyArray_One", 1824, 1826)] {
        let f = finding(
            &v,
            &format!("{MA}/convert_datatype.c"),
            function,
            "arr",
            "flags",
        );
        assert_eq!(
            (f["class"].as_str(), f["code"].as_str()),
            (Some("manual"), Some("DF191"))
        );
        assert_eq!(
            sites(f),
            vec![site(write, "write"), site(restore, "restore")]
        );
    }
    // nd set on the user's `out` array and set back by hand.
    let f = finding(
        &v,
        "numpy/_core/src/umath/ufunc_object.c",
        "reducelike_promote_and_resolve",
        "out",
        "nd",
    );
    assert_eq!(
        (f["class"].as_str(), f["code"].as_str()),
        (Some("manual"), Some("DF192"))
    );
    assert_eq!(sites(f), vec![site(2327, "write"), site(2351, "write")]);
    // flags recomputed on an array the function did not make.
    for (function, line) in [
        ("PyArray_RawIterBaseInit", 139),
        ("PyArray_BroadcastToShape", 248),
    ] {
        let f = finding(&v, &format!("{MA}/iterators.c"), function, "ao", "flags");
        assert_eq!(
            (f["class"].as_str(), f["code"].as_str()),
            (Some("lock"), Some("DF203"))
        );
        assert_eq!(sites(f), vec![site(line, "write")]);
    }
    // A constructor's writes on the array it just made are fresh.
    let f = finding(
        &v,
        &format!("{MA}/ctors.c"),
        "PyArray_NewFromDescr_int",
        "fa",
        "descr",
    );
    assert_eq!(f["class"], "fresh");
}

#[test]
fn numpy_2_2_1_fields_leave_the_shape_results_alone() {
    let Some(tree) = numpy("2.2.1") else { return };
    let all = json_report(&tree, &["--fields", "all"]);
    let strides = json_report(&tree, &["--strides"]);
    // A function's lock TODO is one change, which may now be listed under
    // a field's finding: compare everything but the diffs.
    let without_diff = |v: &Value, family: bool| -> Vec<Value> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("field").is_some() == family)
            .map(|f| {
                let mut f = f.clone();
                f.as_object_mut().unwrap().remove("diff");
                f
            })
            .collect()
    };
    assert_eq!(without_diff(&all, false), without_diff(&strides, false));
    // The prefilter stays selective.
    let parsed = |v: &Value| v["stats"]["files_parsed"].as_u64().unwrap();
    assert!(
        parsed(&all) <= parsed(&strides) + 10,
        "{} vs {}",
        parsed(&all),
        parsed(&strides)
    );
    // Every family finding names its field on every site.
    for f in without_diff(&all, true) {
        let field = f["field"].as_str().unwrap();
        assert!(
            f["sites"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["kind"] == field),
            "{f}"
        );
    }
}

/// The dry run fixes the four early exits and nothing else of the family:
/// each fix is the function's own guarded restore, made before the exit.
#[test]
fn numpy_2_2_1_early_exits_get_the_restore() {
    let Some(tree) = numpy("2.2.1") else { return };
    let out = dims_fix()
        .args([
            "--fields",
            "descr",
            "--only",
            "array_partition",
            "--only",
            "array_sort",
        ])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff = stdout(&out);
    let restore = "+        if (order != NULL) {\n\
                   +            Py_XDECREF(PyArray_DESCR(self));\n\
                   +            ((PyArrayObject_fields *)self)->descr = saved;\n\
                   +        }\n";
    // partition: the `if` without braces gets them.
    assert!(
        diff.contains(&format!(
            "-    if (ktharray == NULL)\n+    if (ktharray == NULL) {{\n{restore}         return NULL;\n+    }}\n"
        )),
        "{diff}"
    );
    // sort: inside the block that sets the error.
    assert!(
        diff.contains(&format!(
            "             \"the same time. Use only one of them.\");\n{restore}         return NULL;\n"
        )),
        "{diff}"
    );
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    assert_eq!(added, 4 + 6, "{diff}");
    assert!(
        stderr(&out).contains("2 exit fixes planned"),
        "{}",
        stderr(&out)
    );
}

/// NumPy 2.3 removed the `nd` hack of `reducelike_promote_and_resolve`
/// (ffa770f42b) and the `PyArray_UpdateFlags` call of
/// `PyArray_RawIterBaseInit` (a2936fc5ec): on 2.3.5 they are gone from the
/// report, and every other family finding of 2.2.1 is still there, as it
/// was, but for `from_dlpack`, whose flags code upstream rewrote
/// (aa7c4f5d59).
#[test]
fn numpy_2_3_5_drops_what_upstream_removed() {
    let Some(old) = numpy("2.2.1") else { return };
    let Some(new) = numpy("2.3.5") else { return };
    let key = |f: &Value| {
        format!(
            "{} {} {} {}",
            f["file"].as_str().unwrap(),
            f["function"].as_str().unwrap(),
            f["array"].as_str().unwrap(),
            f["field"].as_str().unwrap_or("")
        )
    };
    let family = |v: &Value| -> Vec<(String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("field").is_some())
            .map(|f| (key(f), format!("{} {}", f["class"], f["code"])))
            .collect()
    };
    let before = family(&json_report(&old, &["--fields", "all"]));
    let after = family(&json_report(&new, &["--fields", "all"]));
    let removed = [
        "numpy/_core/src/umath/ufunc_object.c reducelike_promote_and_resolve out nd",
        "numpy/_core/src/multiarray/iterators.c PyArray_RawIterBaseInit ao flags",
        "numpy/_core/src/multiarray/dlpack.c from_dlpack ret flags",
    ];
    for (k, _) in &after {
        assert!(
            !removed.contains(&k.as_str()),
            "{k} still reported on 2.3.5"
        );
    }
    for (k, class) in before
        .iter()
        .filter(|(k, _)| !removed.contains(&k.as_str()))
    {
        assert!(
            after.contains(&(k.clone(), class.clone())),
            "{k} ({class}) missing on 2.3.5"
        );
    }
    assert_eq!(before.len() - removed.len(), after.len());
}
