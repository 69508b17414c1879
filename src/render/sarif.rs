//! SARIF 2.1.0, in the shape GitHub code scanning accepts: one rule per
//! code the results carry (its help is the code's page), one result per
//! finding that needs attention (fresh ones, proven safe, only when asked
//! for), other sites as related locations, acknowledged findings carrying
//! `suppressions`, planned edits as `fixes`, and an invocation whose
//! notifications name every file that was skipped or could not be parsed.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use super::explain;
use super::report::{FindingView, Notice, Replacement, Report, SiteView};
use crate::analyze::reason::rule;
use crate::analyze::Class;
use crate::quote;

/// What the log holds beyond the findings that need attention.
pub struct SarifOptions {
    /// Fresh findings too (`--report-fresh`).
    pub report_fresh: bool,
    /// Whether the run did all it was asked (no planned change refused).
    pub successful: bool,
}

fn level(class: Class) -> &'static str {
    match class {
        Class::Rewrite => "error",
        Class::Lock | Class::Manual => "warning",
        Class::Fresh => "note",
    }
}

/// `jump-leaves-window` as SARIF likes a rule name: `JumpLeavesWindow`.
fn pascal(slug: &str) -> String {
    slug.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn region(s: &SiteView) -> Value {
    json!({
        "startLine": s.line,
        "startColumn": s.column,
        "endLine": s.end_line,
        "endColumn": s.end_column,
    })
}

/// A file relative to the root, as an artifact location; a path outside
/// the root (reached by `--follow`) as an absolute `file:` URI.
fn artifact(file: &str) -> Value {
    if file.starts_with('/') {
        json!({ "uri": format!("file://{}", quote::uri_path(file)) })
    } else {
        json!({ "uri": quote::uri_path(file), "uriBaseId": "%SRCROOT%" })
    }
}

fn rules(codes: &[&str]) -> Vec<Value> {
    codes
        .iter()
        .filter_map(|code| rule(code))
        .map(|r| {
            json!({
                "id": r.id,
                "name": pascal(r.slug),
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": format!(
                    "{} Under free-threaded Python other threads may read an ndarray's shape \
                     while it is written (numpy#28197).",
                    r.meaning
                ) },
                "help": { "text": explain::plain(r), "markdown": explain::markdown(r) },
                "defaultConfiguration": { "level": level(r.class) },
                "properties": { "class": r.class.as_str(), "slug": r.slug },
            })
        })
        .collect()
}

/// Fingerprints that stay put across runs and never collide: the file,
/// function and array, and which of the findings with those three this is
/// (one function may be defined twice, under `#if` and `#else`).
fn fingerprints(findings: &[&FindingView]) -> Vec<String> {
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let n = seen
                .entry((&f.file, &f.function, &f.array))
                .and_modify(|n| *n += 1)
                .or_insert(0);
            format!("{}:{}:{}:{n}", f.file, f.function, f.array)
        })
        .collect()
}

fn replacement(r: &Replacement) -> Value {
    json!({
        "deletedRegion": {
            "startLine": r.start_line,
            "startColumn": r.start_column,
            "endLine": r.end_line,
            "endColumn": r.end_column,
            "charOffset": r.char_offset,
            "charLength": r.char_length,
        },
        "insertedContent": { "text": r.inserted },
    })
}

fn result(f: &FindingView, rule_index: usize, fingerprint: &str) -> Value {
    let location = |s: &SiteView| {
        json!({
            "physicalLocation": {
                "artifactLocation": artifact(&f.file),
                "region": region(s),
            },
            "logicalLocations": [{ "name": f.function, "kind": "function" }],
        })
    };
    let related: Vec<Value> = f
        .sites
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, s)| {
            let mut loc = location(s);
            loc["id"] = json!(i);
            loc["message"] =
                json!({ "text": format!("{:?}: {}{}", s.role, s.reason, seen_with(s)).to_lowercase() });
            loc
        })
        .collect();
    let mut result = json!({
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": level(f.class),
        "message": { "text": format!("{}: {}: {}", f.function, f.array, f.reason) },
        "locations": [location(&f.sites[0])],
        "relatedLocations": related,
        "partialFingerprints": { "dimsFixFinding/v2": fingerprint },
        "properties": { "class": f.class.as_str(), "descrSet": f.descr_set },
    });
    if !f.fix.is_empty() {
        result["fixes"] = json!([{
            "description": { "text": "the change dims-fix --apply makes" },
            "artifactChanges": [{
                "artifactLocation": artifact(&f.file),
                "replacements": f.fix.iter().map(replacement).collect::<Vec<_>>(),
            }],
        }]);
    }
    if f.acknowledged {
        result["suppressions"] = json!([{
            "kind": "inSource",
            "justification": match &f.resolved {
                Some(how) => format!("resolved: held under {how}"),
                None => "acknowledged by a dims-fix TODO or allow comment".to_string(),
            },
        }]);
    }
    result
}

/// " (seen with `#else` at line 12)" for a site seen in one branch
/// configuration only.
fn seen_with(s: &SiteView) -> String {
    s.seen_with
        .as_ref()
        .map(|b| format!(" (seen with {b})"))
        .unwrap_or_default()
}

fn notification(n: &Notice) -> Value {
    let mut location = json!({ "physicalLocation": { "artifactLocation": artifact(&n.file) } });
    if let Some((line, column)) = n.at {
        location["physicalLocation"]["region"] =
            json!({ "startLine": line, "startColumn": column });
    }
    json!({
        "level": n.level,
        "descriptor": { "id": n.id },
        "message": { "text": format!("{}: {}", n.file, n.message) },
        "locations": [location],
    })
}

/// The SARIF log for a report; `root` becomes `%SRCROOT%`.
pub fn build(report: &Report, root: &Path, opts: &SarifOptions) -> Value {
    let shown: Vec<&FindingView> = report
        .findings
        .iter()
        .filter(|f| opts.report_fresh || f.class != Class::Fresh)
        .collect();
    // One rule per code the results carry, in code order.
    let mut codes: Vec<&str> = shown.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let results: Vec<Value> = shown
        .iter()
        .zip(fingerprints(&shown))
        .map(|(f, fp)| {
            let index = codes.iter().position(|c| *c == f.code).unwrap_or(0);
            result(f, index, &fp)
        })
        .collect();
    let notifications: Vec<Value> = report.notices().iter().map(notification).collect();
    // A URI: the path percent-encoded (spaces, `#`, `%`, `?` would change it).
    let root_uri = format!(
        "file://{}/",
        quote::uri_path(root.to_string_lossy().trim_end_matches('/'))
    );
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "dims-fix",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/numpy/numpy/issues/28197",
                "rules": rules(&codes),
            }},
            "invocations": [{
                "executionSuccessful": opts.successful,
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
