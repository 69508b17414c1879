//! Message templates (commit message, lock and manual TODOs): compiled in,
//! overridable per file with `--templates DIR`. Undefined variables are
//! errors; nothing is escaped (the output is C comments and plain text).

use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::Error;

const BUILTIN: &[(&str, &str)] = &[
    ("commit.txt", include_str!("../templates/commit.txt")),
    ("lock-todo.txt", include_str!("../templates/lock-todo.txt")),
    (
        "manual-todo.txt",
        include_str!("../templates/manual-todo.txt"),
    ),
];

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, each replaced by a file of the same name in
    /// `dir` when there is one.
    pub fn load(dir: Option<&Path>) -> Result<Templates, Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        for (name, builtin) in BUILTIN {
            let source = match dir.map(|d| d.join(name)) {
                Some(path) if path.exists() => {
                    std::fs::read_to_string(&path).map_err(|e| Error::Template {
                        name: path.display().to_string(),
                        reason: e.to_string(),
                    })?
                }
                _ => builtin.to_string(),
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| template_error(name, &e))?;
        }
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(Error::Template {
                    name: dir.display().to_string(),
                    reason: "--templates must name a directory".to_string(),
                });
            }
        }
        Ok(Templates { env })
    }

    /// Render a template with `ctx`.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, Error> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(ctx)))
            .map(|s| s.trim_end().to_string())
            .map_err(|e| template_error(name, &e))
    }
}

fn template_error(name: &str, e: &minijinja::Error) -> Error {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::Template {
        name: name.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_variables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lock-todo.txt"), "{{ nope }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let err = t
            .render("lock-todo.txt", serde_json::json!({}))
            .unwrap_err();
        assert!(err.to_string().contains("lock-todo.txt"), "{err}");
    }

    #[test]
    fn overrides_replace_builtins_and_nothing_is_escaped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manual-todo.txt"), "<{{ array }}> & done\n").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let out = t
            .render("manual-todo.txt", serde_json::json!({ "array": "a<b" }))
            .unwrap();
        assert_eq!(out, "<a<b> & done");
    }
}
