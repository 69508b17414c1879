//! Classes (DESIGN §3) for the writes of one function: each (function,
//! array) pair becomes a finding, each site gets a class and a reason a
//! reviewer can check. Order of preference: fresh, rewrite, lock, manual.

use std::collections::{HashMap, HashSet};

use super::facts::{ArrayId, Facts, How, Target, Write};
use super::reason::{Blocker, Escape, Evidence, Limit, Reason, Shared};
use super::summary::Summaries;
use super::{Class, Finding, Kind, Rewrite, Role, Site, Span};

mod callers;
mod evidence;
mod family;
mod file;
mod flow;
mod origin;

pub use callers::fresh_argument;
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
    let mut out: Vec<Finding> = order
        .into_iter()
        .map(|array| {
            let cx = ArrayCx {
                f,
                summaries,
                text: &file.text,
                array,
                file,
            };
            cx.finding(&groups[array], &mut taken)
        })
        .collect();
    out.extend(family::classify(f, summaries, file));
    out
}

/// One array of one function being classified.
pub(super) struct ArrayCx<'a> {
    pub(super) f: &'a Facts,
    pub(super) summaries: &'a Summaries,
    /// The original text (layout checks).
    pub(super) text: &'a str,
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
    /// Possibly visible to other threads, and why.
    Shared(Shared),
}

/// The result of looking for a restore window.
#[derive(Default)]
pub(super) struct Outcome {
    /// Reasons for temporary writes and restores, by write expression.
    pub(super) reasons: HashMap<Span, Reason>,
    pub(super) restores: HashSet<Span>,
    pub(super) result: Option<Result<Rewrite, Blocker>>,
}

/// The sites of one array so far, and the writes on arrays that may be
/// shared (with why), which the rewrite proof decides.
struct Sorted<'w> {
    sites: Vec<Site>,
    shared: Vec<(&'w Write, Shared)>,
}

impl<'a> ArrayCx<'a> {
    fn finding(&self, writes: &[&Write], taken: &mut HashSet<String>) -> Finding {
        let Sorted { mut sites, shared } = self.sort_writes(writes);
        let (evidence, descr_set) = self.lock_evidence();
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
            // By write: a function may hold thousands of them.
            let by_write: HashMap<Span, &Shared> =
                shared.iter().map(|(w, why)| (w.expr, why)).collect();
            let why_shared = |w: &Write| by_write.get(&w.expr).map(|&why| why.clone());
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
                // New on some paths only: whether the in-place change is on
                // a shared array is for a person to see (the reason says
                // which path), not a lock to take.
                let some_paths = matches!(
                    why_shared(w),
                    Some(Shared::Escaped {
                        escape: Escape::NotOnEveryPath { .. },
                        ..
                    })
                );
                let (class, reason) = match &result {
                    Ok(_) => (Class::Rewrite, outcome.reasons[&w.expr].clone()),
                    Err(_) if !evidence.is_empty() && !some_paths => (
                        Class::Lock,
                        Reason::LockSite {
                            role,
                            kind: w.shape.kind,
                            evidence: evidence[0].clone(),
                        },
                    ),
                    Err(blocker) => (
                        Class::Manual,
                        Reason::Manual {
                            blocker: blocker.clone(),
                            shared: why_shared(w),
                        },
                    ),
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
        let parse_error = self.demote_on_parse_error(writes, &mut sites, &rewrites);
        if parse_error {
            class = Class::Manual;
            rewrites.clear();
        }
        if self.f.per_config {
            self.one_reading_of_many(&mut sites, &mut class, &mut rewrites);
        }
        let origin_why = shared.first().map(|(_, why)| why.clone());
        let reason =
            self.finding_reason(class, &sites, &rewrites, &evidence, descr_set, origin_why);
        if class != Class::Rewrite {
            rewrites.clear();
        }
        let internal = (class == Class::Lock && !parse_error)
            .then(|| self.internal(&spans_of(&shared), &evidence))
            .flatten();
        Finding {
            parse_error,
            rewrite: rewrites,
            internal,
            ..self.new_finding(None, class, reason, sites, (descr_set, evidence))
        }
    }

    /// A finding of this function and array: its field (none for the
    /// shape), class, reason and sites, and for a lock whether it sets the
    /// dtype and the evidence (kept only for a lock); nothing edited yet.
    pub(super) fn new_finding(
        &self,
        field: Option<Kind>,
        class: Class,
        reason: Reason,
        sites: Vec<Site>,
        (descr_set, evidence): (bool, Vec<Evidence>),
    ) -> Finding {
        Finding {
            function: self.f.name.clone(),
            display: self.f.name.clone(),
            function_span: self.f.name_span,
            array: self.array.to_string(),
            field,
            class,
            descr_set,
            reason,
            evidence: if class == Class::Lock {
                evidence
            } else {
                Vec::new()
            },
            sites,
            acknowledged: false,
            resolved: None,
            parse_error: false,
            rewrite: Vec::new(),
            exit_fixes: Vec::new(),
            function_body: self.f.span,
            spelled: self.spelled_tokens(),
            per_config: self.f.per_config,
            internal: None,
        }
    }

    /// For a function read once per branch configuration: each site's
    /// branch, and no rewrite (a proof on one reading may not hold on
    /// another).
    fn one_reading_of_many(
        &self,
        sites: &mut [Site],
        class: &mut Class,
        rewrites: &mut Vec<Rewrite>,
    ) {
        self.tag_branches(sites);
        if *class == Class::Rewrite {
            let at = self
                .f
                .branches
                .first()
                .map_or(self.f.span.start, |b| b.directive.start);
            for s in sites.iter_mut() {
                s.class = Class::Manual;
                s.reason = Reason::Limit(Limit::PerBranch { at });
            }
            *class = Class::Manual;
            rewrites.clear();
        }
    }

    /// For a function read per branch configuration: the innermost such
    /// branch holding each site.
    fn tag_branches(&self, sites: &mut [Site]) {
        for s in sites {
            s.branch = self
                .f
                .branches
                .iter()
                .filter(|b| b.body.contains(s.span))
                .min_by_key(|b| b.body.end - b.body.start)
                .map(|b| b.directive);
        }
    }

    /// Step 1: uses of the tree's shape-writing macros are manual; writes
    /// on an array allocated here are fresh until it may be seen; the rest
    /// may be shared and go to the rewrite proof.
    fn sort_writes<'w>(&self, writes: &[&'w Write]) -> Sorted<'w> {
        let mut sites = Vec::new();
        let mut shared = Vec::new();
        for &w in writes {
            if let How::MayWrite { callee, location } = &w.how {
                // Fresh if the array is new here; otherwise a person decides.
                let (class, reason) = match self.freshness(w.expr) {
                    Ok(reason) => (Class::Fresh, reason),
                    Err(_) => (
                        Class::Manual,
                        Reason::Manual {
                            blocker: Blocker::MayWrite {
                                callee: callee.clone(),
                                location: location.clone(),
                            },
                            shared: None,
                        },
                    ),
                };
                sites.push(site(w, class, reason));
                continue;
            }
            if let How::MacroBody { name } = &w.how {
                let location = self.summaries.macros.get(name).map(|m| m.location.clone());
                let blocker = Blocker::TreeMacro {
                    name: name.clone(),
                    location,
                };
                let reason = Reason::Manual {
                    blocker,
                    shared: None,
                };
                sites.push(site(w, Class::Manual, reason));
                continue;
            }
            match self.freshness(w.expr) {
                Ok(reason) => sites.push(site(w, Class::Fresh, reason)),
                Err(why) => shared.push((w, why)),
            }
        }
        Sorted { sites, shared }
    }

    /// Step 3: a parse error on the finding's statements or window makes
    /// every site manual (never guess); so does a site that is not code as
    /// the file is written. Whether it did.
    fn demote_on_parse_error(
        &self,
        writes: &[&Write],
        sites: &mut [Site],
        rewrites: &[Rewrite],
    ) -> bool {
        // A finding's extent: its statements, the blocks holding them (an
        // error there may have swallowed a write or its restore), windows.
        let mut extent: Vec<Span> = sites.iter().map(|s| s.stmt).collect();
        extent.extend(writes.iter().map(|w| w.place.block));
        extent.extend(rewrites.iter().map(|r| r.window));
        let limit = self.parse_error_in(&extent).or_else(|| {
            // tree-sitter may parse on through an unterminated comment that
            // a compiler would not: as written, the sites must be code.
            let outside = sites.iter().find(|s| {
                let ls = crate::span::line_start(self.text, s.stmt.start);
                !self.file.code().in_code(ls)
            })?;
            Some(Limit::InComment {
                at: outside.span.start,
                window: false,
            })
        });
        // Lines ending in `\r` alone are one line to git and patch: no edit
        // there could be shown or applied as a diff, so none is planned.
        let limit = limit.or_else(|| {
            let edited = sites.iter().any(|s| s.class != Class::Fresh);
            self.file
                .lone_cr
                .filter(|_| edited)
                .map(|at| Limit::LoneCr { at })
        });
        let Some(limit) = limit else {
            return false;
        };
        for s in sites {
            s.class = Class::Manual;
            s.reason = Reason::Limit(limit.clone());
        }
        true
    }

    /// Step 4: the finding's own reason.
    fn finding_reason(
        &self,
        class: Class,
        sites: &[Site],
        rewrites: &[Rewrite],
        evidence: &[Evidence],
        descr_set: bool,
        origin_why: Option<Shared>,
    ) -> Reason {
        match class {
            Class::Rewrite => Reason::TemporaryChange {
                kinds: rewrites.iter().map(|r| r.kind).collect(),
                restores: sites
                    .iter()
                    .filter(|s| s.role == Role::Restore)
                    .map(|s| s.span.start)
                    .collect(),
                shared: origin_why.expect("a rewrite has a possibly shared array"),
            },
            Class::Lock => Reason::InPlaceChange {
                field: None,
                descr_set,
                evidence: evidence.to_vec(),
                shared_callers: Vec::new(),
            },
            Class::Fresh | Class::Manual => sites
                .iter()
                .find(|s| s.class == class)
                .map(|s| s.reason.clone())
                .expect("the finding's class is one of its sites'"),
        }
    }
}

impl<'a> ArrayCx<'a> {
    /// The template tokens of the function as masked and as written
    /// (`_arr_`, `@arr@`), when the masked form is not also a name the
    /// file spells itself.
    fn spelled_tokens(&self) -> Vec<(String, String)> {
        if !self.file.is_template() {
            return Vec::new();
        }
        let code = &self.text[self.f.span.range()];
        let mut out: Vec<(String, String)> = Vec::new();
        let mut rest = code;
        while let Some(s) = rest.find('@') {
            let after = &rest[s + 1..];
            let n = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if n > 0 && after.as_bytes().get(n) == Some(&b'@') {
                let name = &after[..n];
                let masked = format!("_{name}_");
                if !out.iter().any(|(m, _)| *m == masked) && !self.text.contains(&masked) {
                    out.push((masked, format!("@{name}@")));
                }
                rest = &after[n + 1..];
            } else {
                rest = after;
            }
        }
        out
    }
}

/// Each write's expression, with why its array may be shared.
fn spans_of(shared: &[(&Write, Shared)]) -> Vec<(Span, Shared)> {
    shared
        .iter()
        .map(|(w, why)| (w.expr, why.clone()))
        .collect()
}

fn site(w: &Write, class: Class, reason: Reason) -> Site {
    Site {
        shown: Default::default(),
        branch: None,
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
        How::MayWrite { callee, .. } => format!("{callee}()"),
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
