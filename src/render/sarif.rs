//! SARIF 2.1.0, in the shape GitHub code scanning accepts: one rule per
//! class, one result per finding, other sites as related locations, and
//! acknowledged findings carrying `suppressions`.

use std::path::Path;

use serde_json::{json, Value};

use super::report::{Report, SiteView};
use crate::analyze::Class;
use crate::quote;

const RULES: [(Class, &str, &str, &str); 4] = [
    (
        Class::Fresh,
        "FreshArrayShapeWrite",
        "Write to the shape of an array allocated in the same function",
        "note",
    ),
    (
        Class::Rewrite,
        "TemporaryShapeWrite",
        "Temporary write to a possibly shared array's shape; fix with a local copy",
        "error",
    ),
    (
        Class::Lock,
        "InPlaceShapeChange",
        "In-place change of a live array's shape or metadata; needs a lock",
        "warning",
    ),
    (
        Class::Manual,
        "UnprovenShapeWrite",
        "Write to a possibly shared array's shape that could not be proven safe",
        "warning",
    ),
];

fn region(s: &SiteView) -> Value {
    json!({
        "startLine": s.line,
        "startColumn": s.column,
        "endLine": s.end_line,
        "endColumn": s.end_column,
    })
}

/// The SARIF log for a report; `root` becomes `%SRCROOT%`.
pub fn build(report: &Report, root: &Path) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(class, name, text, level)| {
            json!({
                "id": format!("dims-fix/{}", class.as_str()),
                "name": name,
                "shortDescription": { "text": text },
                "fullDescription": { "text": format!(
                    "{text}. Under free-threaded Python other threads may read an \
                     ndarray's shape while it is written (numpy#28197)."
                ) },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let rule = RULES.iter().position(|r| r.0 == f.class).unwrap_or(3);
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
                    loc["message"] = json!({ "text": format!("{:?}: {}", s.role, s.reason).to_lowercase() });
                    loc
                })
                .collect();
            let mut result = json!({
                "ruleId": format!("dims-fix/{}", f.class.as_str()),
                "ruleIndex": rule,
                "level": RULES[rule].3,
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
            "results": results,
        }]
    })
}
