//! Call specs (tests/equivalence/calls/FIXTURE/STEM.c): C code that calls a
//! fixture file's functions through runtime.h's EQ_* macros, and the
//! `// equiv:` lines that tell the build what else the file needs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A call spec: its C text, and what its `// equiv:` lines say (extra
/// compiler flags; or that the fixture file does not compile, and why).
pub struct Spec {
    pub path: PathBuf,
    pub text: String,
    pub cflags: Vec<String>,
    pub does_not_compile: Option<String>,
}

/// Read the spec at `path` (`shown` names it in messages).
pub fn read(path: &Path, shown: &str) -> Result<Spec, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut spec = Spec {
        path: path.to_path_buf(),
        text: text.clone(),
        cflags: Vec::new(),
        does_not_compile: None,
    };
    for line in text.lines() {
        let Some(directive) = line.trim().strip_prefix("// equiv:") else {
            continue;
        };
        let (word, rest) = directive.trim().split_once(' ').unwrap_or((directive, ""));
        match word.trim() {
            "cflags" => spec
                .cflags
                .extend(rest.split_whitespace().map(String::from)),
            "does-not-compile" => spec.does_not_compile = Some(rest.trim().to_string()),
            other => return Err(format!("{shown}: unknown directive `// equiv: {other}`")),
        }
    }
    Ok(spec)
}

/// The function a call expression starts with: `f (a, g(b))` gives `f`.
pub fn callee(call: &str) -> Option<String> {
    let call = call.trim_start();
    let end = call
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(call.len());
    (end > 0 && call[end..].trim_start().starts_with('(')).then(|| call[..end].to_string())
}

/// The functions a spec calls through its EQ_INT/EQ_OBJ/EQ_UNINIT/EQ_VOID.
pub fn callees(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for mac in ["EQ_INT(", "EQ_OBJ(", "EQ_UNINIT(", "EQ_VOID("] {
        for (i, _) in text.match_indices(mac) {
            out.extend(callee(&text[i + mac.len()..]));
        }
    }
    out
}

/// Whether calling `callee` calls `function`, or one expansion of it when
/// the name comes from a NumPy template (`@TYPE@_widen` covers `BYTE_widen`).
pub fn covers(function: &str, callee: &str) -> bool {
    fn matches(parts: &[&str], text: &str) -> bool {
        let Some(rest) = text.strip_prefix(parts[0]) else {
            return false;
        };
        if parts.len() == 1 {
            return rest.is_empty();
        }
        // parts[1] names a template token: one identifier's worth of text.
        let word = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (1..=word).any(|n| matches(&parts[2..], &rest[n..]))
    }
    let parts: Vec<&str> = function.split('@').collect();
    if parts.len() % 2 == 0 {
        return function == callee;
    }
    matches(&parts, callee)
}
