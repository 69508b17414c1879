//! The module graph is the pipeline: every file of `src/` belongs to a
//! stage, and imports only from its own stage or an earlier one; within a
//! stage, the files import one another without a cycle. A submodule sees
//! the items of the modules that hold it (Rust's scoping: `super::Item`),
//! so an import of an ancestor is no edge of the cycle check; every other
//! import is. Imports are read from the text: `use` trees, `crate::` and
//! `super::` paths in code, and paths through a file's own `mod`s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The stages in pipeline order (a module may import from its own rank or
/// a lower one). `lib.rs` and `main.rs` are the command on top.
const STAGES: &[(&str, &[&str])] = &[
    (
        "shared leaves",
        &[
            "error",
            "span",
            "edit",
            "quote",
            "owner",
            "templates",
            "testhook",
        ],
    ),
    ("cli", &["cli"]),
    ("config", &["config"]),
    ("discover", &["discover"]),
    ("source", &["source"]),
    ("analyze", &["analyze"]),
    ("scan", &["scan"]),
    ("plan", &["plan"]),
    ("verify", &["verify"]),
    ("render", &["render", "review"]),
    ("apply", &["apply"]),
    ("series", &["series"]),
    ("git", &["git"]),
];

const ORCHESTRATORS: &[&str] = &["lib.rs", "main.rs"];

/// A module path (`["analyze", "window", "alias"]`) and its file.
struct Module {
    path: Vec<String>,
    file: String,
    text: String,
}

fn modules() -> Vec<Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut todo = vec![src.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                todo.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().to_string();
            let mut path: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_string)
                .collect();
            if path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            if path == ["lib"] || path == ["main"] {
                path.clear();
            }
            let text = std::fs::read_to_string(&p).unwrap();
            out.push(Module {
                path,
                file: rel,
                text,
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

fn rank(file: &str) -> Option<usize> {
    let top = file.split('/').next()?.trim_end_matches(".rs");
    STAGES.iter().position(|(_, mods)| mods.contains(&top))
}

/// Code without comments (line and block) and string literals, so doc
/// links and messages are not read as imports.
fn code_of(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A character literal such as '{' (lifetimes have no closing quote).
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Expand a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(expand)
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// Every path a file names: `use` trees and `crate::`/`super::` paths in code.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("use ") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = code[i..].find(';') else {
            continue;
        };
        out.extend(expand(&code[i + 4..i + end]));
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        for (i, _) in code.match_indices(start) {
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                continue;
            }
            if i >= 2 && &code[i - 2..i] == "::" {
                continue;
            }
            let end = code[i..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| i + e);
            out.push(code[i..end].to_string());
        }
    }
    for child in children {
        let pat = format!("{child}::");
        for (i, _) in code.match_indices(&pat) {
            let prev = code[..i].chars().next_back();
            if prev.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            out.push(format!("self::{child}::x"));
        }
    }
    out
}

/// The module (path) an import path lands in: the deepest known module.
fn resolve(from: &[String], path: &str, known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segs.first()? {
        &"crate" => Vec::new(),
        &"super" | &"self" => from.to_vec(),
        _ => return None, // std, external crates, enum variants, ...
    };
    let mut rest = &segs[..];
    if segs[0] == "crate" {
        rest = &segs[1..];
    } else {
        while let Some((&s, tail)) = rest.split_first() {
            match s {
                "super" => {
                    base.pop()?;
                }
                "self" => {}
                _ => break,
            }
            rest = tail;
        }
    }
    for s in rest {
        let mut next = base.clone();
        next.push(s.to_string());
        if known.contains(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

#[test]
fn imports_follow_the_pipeline_and_make_no_cycle() {
    let modules = modules();
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    let file_of: BTreeMap<Vec<String>, String> = modules
        .iter()
        .map(|m| (m.path.clone(), m.file.clone()))
        .collect();
    let mut problems = BTreeSet::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &modules {
        let orchestrator = ORCHESTRATORS.contains(&m.file.as_str());
        let own = rank(&m.file);
        if own.is_none() && !orchestrator {
            problems.insert(format!(
                "{}: in no stage; add it to STAGES in tests/architecture.rs",
                m.file
            ));
            continue;
        }
        let children: BTreeSet<String> = known
            .iter()
            .filter(|k| k.len() == m.path.len() + 1 && k.starts_with(&m.path))
            .map(|k| k.last().unwrap().clone())
            .collect();
        let code = code_of(&m.text);
        for p in paths(&code, &children) {
            let Some(target) = resolve(&m.path, &p, &known) else {
                continue;
            };
            if target.is_empty() || target == m.path {
                continue; // the crate root's re-exports, or itself
            }
            let target_file = &file_of[&target];
            if let (Some(own), Some(theirs)) = (own, rank(target_file)) {
                if theirs > own {
                    problems.insert(format!(
                        "{} (stage {}) imports `{p}` from {target_file} (stage {}), a later stage",
                        m.file, STAGES[own].0, STAGES[theirs].0
                    ));
                }
            }
            let ancestor = m.path.starts_with(&target);
            if !ancestor && !orchestrator {
                edges
                    .entry(m.file.clone())
                    .or_default()
                    .insert(target_file.clone());
            }
        }
    }
    if let Some(cycle) = find_cycle(&edges) {
        problems.insert(format!("import cycle: {}", cycle.join(" -> ")));
    }
    assert!(
        problems.is_empty(),
        "stages: {}\n{}",
        STAGES
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" -> "),
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// A cycle in the graph, as the files along it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Iterative depth-first search with colours: no recursion.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 open, 2 done
    for start in edges.keys() {
        if state.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, next_of(edges, start))];
        state.insert(start, 1);
        while let Some((node, todo)) = stack.last_mut() {
            let node = *node;
            match todo.pop() {
                Some(n) => match state.get(n) {
                    Some(1) => {
                        let mut cycle: Vec<String> = stack
                            .iter()
                            .map(|(f, _)| f.to_string())
                            .skip_while(|f| f != n)
                            .collect();
                        cycle.push(n.to_string());
                        return Some(cycle);
                    }
                    Some(_) => {}
                    None => {
                        state.insert(n, 1);
                        stack.push((n, next_of(edges, n)));
                    }
                },
                None => {
                    state.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
}

fn next_of<'a>(edges: &'a BTreeMap<String, BTreeSet<String>>, node: &str) -> Vec<&'a str> {
    edges
        .get(node)
        .map(|s| s.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The check itself catches what it is for.
#[test]
fn the_check_sees_later_stages_and_cycles() {
    let known: BTreeSet<Vec<String>> = [vec!["analyze".to_string()], vec!["plan".to_string()]]
        .into_iter()
        .collect();
    let from = vec!["analyze".to_string()];
    let code = code_of("use crate::plan::line_start; // crate::scan\nlet s = \"crate::git\";");
    let found: BTreeSet<_> = paths(&code, &BTreeSet::new())
        .iter()
        .filter_map(|p| resolve(&from, p, &known))
        .collect();
    assert_eq!(found, BTreeSet::from([vec!["plan".to_string()]]));
    assert!(rank("plan.rs") > rank("analyze/classify/mod.rs"));
    assert_eq!(
        expand("super::{a, b::{c, d}}"),
        ["super::a", "super::b::c", "super::b::d"]
    );
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&edges).unwrap(),
        ["a", "b", "c", "a"].map(String::from)
    );
}

/// The functions of `text` longer than `limit` lines, as (line, name,
/// length): from the line of `fn` to the brace that closes it at the same
/// indentation (rustfmt's layout), blank and comment lines included.
fn long_functions(text: &str, limit: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let Some(at) = trimmed.find("fn ") else {
            continue;
        };
        let before = &trimmed[..at];
        let is_item = before.split_whitespace().all(|w| {
            [
                "pub",
                "pub(crate)",
                "pub(super)",
                "const",
                "async",
                "unsafe",
            ]
            .contains(&w)
        });
        if !is_item || line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(end) = (i + 1..lines.len()).find(|&j| lines[j] == close) {
            let length = end - i + 1;
            if length > limit {
                out.push((i + 1, name, length));
            }
        }
    }
    out
}

/// STYLE: functions stay under about 120 lines (tests and their helpers
/// too); a longer one is split into named steps.
#[test]
fn no_function_in_src_is_over_120_lines() {
    let mut long = Vec::new();
    let mut todo = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (line, name, length) in long_functions(&text, 120) {
                    long.push(format!("{}:{line} {name} ({length} lines)", p.display()));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 120 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_check_counts_a_long_function() {
    let body = "    x();\n".repeat(130);
    let text = format!("pub fn long() {{\n{body}}}\n\nfn short() {{\n}}\n");
    assert_eq!(long_functions(&text, 120), [(1, "long".to_string(), 132)]);
}
