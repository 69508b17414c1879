//! Classes (DESIGN §3) for the writes of one function: each (function,
//! array) pair becomes a finding, each site gets a class and a reason a
//! reviewer can check. Order of preference: fresh, rewrite, lock, manual.

use std::collections::{HashMap, HashSet};

use super::facts::{ArrayId, Facts, How, Target, Write};
use super::summary::Summaries;
use super::{Class, Finding, Kind, Rewrite, Role, Site, Span};
use crate::span::LineIndex;

mod evidence;
mod file;
mod flow;
mod origin;

pub use file::FileCx;

/// Classify every array written in a function.
pub fn classify(f: &Facts, summaries: &Summaries, file: &FileCx) -> Vec<Finding> {
    let mut order: Vec<&ArrayId> = Vec::new();
    let mut groups: HashMap<&ArrayId, Vec<&Write>> = HashMap::new();
    for w in f.writes.iter().filter(|w| !w.shape.param) {
        let group = groups.entry(&w.shape.array).or_default();
        if group.is_empty() {
            order.push(&w.shape.array);
        }
        group.push(w);
    }
    // Names given to copies so far (each must differ from every name the
    // function spells, and from each other).
    let mut taken = HashSet::new();
    order
        .into_iter()
        .map(|array| {
            let cx = ArrayCx {
                f,
                summaries,
                text: file.text,
                lines: file.lines,
                array,
                file,
            };
            cx.finding(&groups[array], &mut taken)
        })
        .collect()
}

/// One array of one function being classified.
pub(super) struct ArrayCx<'a> {
    pub(super) f: &'a Facts,
    pub(super) summaries: &'a Summaries,
    /// The original text (layout checks).
    pub(super) text: &'a str,
    pub(super) lines: &'a LineIndex,
    pub(super) array: &'a str,
    pub(super) file: &'a FileCx<'a>,
}

/// Where an array's value comes from at a write.
pub(super) enum Origin {
    /// Allocated in this function (or by a tree function returning new arrays).
    Alloc {
        callee: String,
        at: Span,
        tree: Option<String>,
        /// The variable and the variables it was copied from.
        names: Vec<String>,
    },
    /// Possibly visible to other threads; the description says why.
    Shared(String),
}

/// The result of looking for a restore window.
#[derive(Default)]
pub(super) struct Outcome {
    /// Reasons for temporary writes and restores, by write expression.
    pub(super) reasons: HashMap<Span, String>,
    pub(super) restores: HashSet<Span>,
    pub(super) result: Option<Result<Rewrite, String>>,
}

impl<'a> ArrayCx<'a> {
    pub(super) fn line(&self, pos: usize) -> usize {
        self.lines.line(pos)
    }

    fn finding(&self, writes: &[&Write], taken: &mut HashSet<String>) -> Finding {
        let array = self.array;
        let mut sites = Vec::new();
        let mut shared: Vec<(&Write, String)> = Vec::new();
        for &w in writes {
            if let How::MacroBody { name } = &w.how {
                let at = self
                    .summaries
                    .macros
                    .get(name)
                    .map_or(String::new(), |m| format!(" (defined at {})", m.location));
                let reason = format!(
                    "{name}() is a macro of this tree that writes through {array}'s shape{at}; \
                     its uses cannot be rewritten automatically"
                );
                sites.push(site(w, Class::Manual, reason));
                continue;
            }
            match self.origin(w.expr.start) {
                Origin::Alloc {
                    callee,
                    at,
                    tree,
                    names,
                } => {
                    let tree =
                        tree.map_or(String::new(), |t| format!(" (returns a new array, {t})"));
                    match self.first_escape(&names, at, w.expr) {
                        None => {
                            let reason = format!(
                                "{array} is allocated at line {} by {callee}(){tree} and not yet \
                                 returned, stored or passed on",
                                self.line(at.start)
                            );
                            sites.push(site(w, Class::Fresh, reason));
                        }
                        Some(escape) => shared.push((
                            w,
                            format!(
                                "{array} is allocated at line {} by {callee}() but {escape} \
                                 before this write",
                                self.line(at.start)
                            ),
                        )),
                    }
                }
                Origin::Shared(why) => shared.push((w, why)),
            }
        }

        let (evidence, descr_set) = self.lock_evidence();
        let origin_why = shared.first().map(|(_, why)| why.clone());
        let mut rewrites = Vec::new();
        for kind in [Kind::Dims, Kind::Strides] {
            let ws: Vec<&Write> = shared
                .iter()
                .map(|(w, _)| *w)
                .filter(|w| w.shape.kind == kind)
                .collect();
            if ws.is_empty() {
                continue;
            }
            let why_shared = |w: &Write| {
                shared
                    .iter()
                    .find(|(x, _)| x.expr == w.expr)
                    .map_or(String::new(), |(_, why)| why.clone())
            };
            let outcome = self.window(kind, &ws, taken);
            let result = outcome.result.clone().expect("window always decides");
            for w in ws {
                let role = if outcome.restores.contains(&w.expr) {
                    Role::Restore
                } else if w.target == Target::Pointer {
                    Role::Pointer
                } else {
                    Role::Write
                };
                let (class, reason) = match &result {
                    Ok(_) => (Class::Rewrite, outcome.reasons[&w.expr].clone()),
                    Err(_) if !evidence.is_empty() => (
                        Class::Lock,
                        format!(
                            "{}; part of an in-place change of {array}'s metadata ({})",
                            match role {
                                Role::Pointer => "replaces the shape pointer",
                                Role::Restore => "puts a value back",
                                Role::Write => "changes the live shape, not restored",
                            },
                            evidence[0].0
                        ),
                    ),
                    Err(blocker) => (Class::Manual, format!("{blocker}; {}", why_shared(w))),
                };
                let mut s = site(w, class, reason);
                s.role = role;
                sites.push(s);
            }
            if let Ok(rewrite) = result {
                rewrites.push(rewrite);
            }
        }
        sites.sort_by_key(|s| (s.span.start, s.span.end));
        let mut class = sites.iter().map(|s| s.class).max().unwrap_or(Class::Manual);

        // A parse error on the finding's statements or window: never guess.
        // A finding's extent: its statements, the blocks holding them (an
        // error there may have swallowed a write or its restore), windows.
        let mut extent: Vec<Span> = sites.iter().map(|s| s.stmt).collect();
        extent.extend(writes.iter().map(|w| w.place.block));
        extent.extend(rewrites.iter().map(|r| r.window));
        let parse_error = self.parse_error_in(&extent).or_else(|| {
            // tree-sitter may parse on through an unterminated comment that
            // a compiler would not: as written, the sites must be code.
            let outside = sites.iter().find(|s| {
                let ls = crate::span::line_start(self.text, s.stmt.start);
                !self.file.code().in_code(ls)
            })?;
            Some(format!(
                "line {} lies inside a comment or string as the file is written \
                 (an unterminated comment?); check it by hand",
                self.line(outside.span.start)
            ))
        });
        if let Some(err) = &parse_error {
            class = Class::Manual;
            for s in &mut sites {
                s.class = Class::Manual;
                s.reason = err.clone();
            }
            rewrites.clear();
        }
        let parse_error = parse_error.is_some();

        let reason = match class {
            Class::Rewrite => {
                let restored: Vec<String> = sites
                    .iter()
                    .filter(|s| s.role == Role::Restore)
                    .map(|s| self.line(s.span.start).to_string())
                    .collect();
                let kinds: Vec<&str> = rewrites
                    .iter()
                    .map(|r| match r.kind {
                        Kind::Dims => "shape",
                        Kind::Strides => "strides",
                    })
                    .collect();
                format!(
                    "temporary change of {array}'s {}, restored at line{} {}; {}; a local copy \
                     removes the race",
                    kinds.join(" and "),
                    if restored.len() == 1 { "" } else { "s" },
                    restored.join(", "),
                    origin_why.unwrap_or_default()
                )
            }
            Class::Lock => {
                let list: Vec<&str> = evidence.iter().map(|(e, _)| e.as_str()).collect();
                format!(
                    "in-place change of {array}'s shape{}: the function also {}; a local copy \
                     cannot fix it, the change needs a lock",
                    if descr_set { " and dtype (descr)" } else { "" },
                    list.join(", ")
                )
            }
            Class::Fresh | Class::Manual => sites
                .iter()
                .find(|s| s.class == class)
                .map(|s| s.reason.clone())
                .unwrap_or_default(),
        };
        if class != Class::Rewrite {
            rewrites.clear();
        }
        Finding {
            function: self.f.name.clone(),
            display: self.f.name.clone(),
            function_span: self.f.name_span,
            array: array.to_string(),
            class,
            descr_set,
            reason,
            evidence: if class == Class::Lock {
                evidence.into_iter().map(|(e, _)| e).collect()
            } else {
                Vec::new()
            },
            sites,
            acknowledged: false,
            parse_error,
            rewrite: rewrites,
            function_body: self.f.span,
        }
    }
}

fn site(w: &Write, class: Class, reason: String) -> Site {
    Site {
        shown: Default::default(),
        span: w.expr,
        stmt: w.place.stmt,
        kind: w.shape.kind,
        role: if w.target == Target::Pointer {
            Role::Pointer
        } else {
            Role::Write
        },
        class,
        reason,
    }
}

/// A short description of the syntax of a write.
pub(super) fn describe(how: &How) -> String {
    match how {
        How::Assign { op, .. } => format!("`{op}`"),
        How::Update => "`++`/`--`".to_string(),
        How::MemFn(name) => format!("{name}()"),
        How::Callee { name, param } => {
            format!(
                "{name}() (which writes through its parameter {})",
                param + 1
            )
        }
        How::MacroAssign { name } | How::MacroBody { name } => format!("{name}()"),
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
