//! SARIF 2.1.0, in the shape GitHub code scanning accepts: one rule per
//! code the findings carry (its help is the code's page), one result per
//! finding, other sites as related locations, and
//! acknowledged findings carrying `suppressions`.

use std::path::Path;

use serde_json::{json, Value};

use super::explain;
use super::report::{Report, SiteView};
use crate::analyze::reason::rule;
use crate::analyze::Class;
use crate::quote;

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

/// What the run could not read or parse, as notifications: skipped files
/// (warnings) and parse errors (notes, judged locally).
fn invocation(report: &Report) -> Value {
    let at = |file: &str, line: Option<(usize, usize)>| {
        let mut loc = json!({
            "physicalLocation": {
                "artifactLocation": { "uri": quote::uri_path(file), "uriBaseId": "%SRCROOT%" },
            }
        });
        if let Some((line, column)) = line {
            loc["physicalLocation"]["region"] = json!({ "startLine": line, "startColumn": column });
        }
        loc
    };
    let mut notes: Vec<Value> = report
        .skipped
        .iter()
        .map(|s| {
            json!({
                "level": "warning",
                "descriptor": { "id": "skipped" },
                "message": { "text": format!("{}: {}", s.file, s.reason) },
                "locations": [at(&s.file, None)],
            })
        })
        .collect();
    notes.extend(report.not_analysed.iter().map(|s| {
        json!({
            "level": "warning",
            "descriptor": { "id": "not-analysed" },
            "message": { "text": format!("{}: {}", s.file, s.reason) },
            "locations": [at(&s.file, None)],
        })
    }));
    notes.extend(report.stats.parse_failures.iter().map(|p| {
        let within = if p.function.is_empty() {
            String::new()
        } else {
            format!(" in {}", p.function)
        };
        json!({
            "level": "note",
            "descriptor": { "id": "parse-error" },
            "message": { "text": format!(
                "parse error{within} (judged locally: it changes only a finding it overlaps)"
            ) },
            "locations": [at(&p.file, Some((p.line, p.column)))],
        })
    }));
    json!({
        "executionSuccessful": report.skipped.is_empty(),
        "toolExecutionNotifications": notes,
    })
}

/// The SARIF log for a report; `root` becomes `%SRCROOT%`.
pub fn build(report: &Report, root: &Path) -> Value {
    // One rule per code the findings carry, in code order.
    let mut codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<Value> = codes
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
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = codes.iter().position(|c| *c == f.code).unwrap_or(0);
            let first = &f.sites[0];
            let location = |s: &SiteView| {
                json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": quote::uri_path(&f.file), "uriBaseId": "%SRCROOT%" },
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
                    let seen = s.seen_with.as_ref().map(|b| format!(" (seen with {b})")).unwrap_or_default();
                    loc["message"] = json!({ "text": format!("{:?}: {}{seen}", s.role, s.reason).to_lowercase() });
                    loc
                })
                .collect();
            let mut result = json!({
                "ruleId": f.code,
                "ruleIndex": index,
                "level": level(f.class),
                "message": { "text": format!("{}: {}: {}", f.function, f.array, f.reason) },
                "locations": [location(first)],
                "relatedLocations": related,
                "partialFingerprints": {
                    "dimsFixFinding/v1": format!("{}:{}:{}:{}", f.file, f.function, f.array, f.class.as_str()),
                },
                "properties": { "descrSet": f.descr_set },
            });
            if f.acknowledged {
                result["suppressions"] = json!([{
                    "kind": "inSource",
                    "justification": "acknowledged by a dims-fix TODO or allow comment",
                }]);
            }
            result
        })
        .collect();
    let invocation = invocation(report);
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
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "invocations": [invocation],
            "results": results,
        }]
    })
}
