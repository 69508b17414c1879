//! The one place reasons become text (blockers in `blocker_text.rs`): reports (text, JSON, SARIF), TODO
//! comments and commit messages all show what these functions write.
//! Lines are computed here, from byte offsets, with the file's line index.

use super::{Escape, Evidence, Hazard, Limit, Pos, Reason, Shared};
use crate::analyze::{Kind, Role};
use crate::span::LineIndex;

/// What rendering needs besides the reason: the finding's array and the
/// file's lines.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    pub array: &'a str,
    pub lines: &'a LineIndex,
    /// Template tokens as the analysis saw them and as the file spells
    /// them (`_arr_`, `@arr@`): a `.c.src` file's reasons show the latter.
    pub spelled: &'a [(String, String)],
}

impl Cx<'_> {
    pub(super) fn line(&self, pos: Pos) -> usize {
        self.lines.line(pos)
    }

    /// `text` with masked template tokens spelled as written.
    fn unmask(&self, mut text: String) -> String {
        for (masked, written) in self.spelled {
            if text.contains(masked.as_str()) {
                text = text.replace(masked.as_str(), written);
            }
        }
        text
    }
}

impl Reason {
    pub fn text(&self, cx: Cx<'_>) -> String {
        cx.unmask(self.spell(cx))
    }

    fn spell(&self, cx: Cx<'_>) -> String {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        match self {
            Reason::Fresh {
                alloc,
                callee,
                location,
            } => {
                let tree = location
                    .as_ref()
                    .map_or(String::new(), |t| format!(" (returns a new array, {t})"));
                format!(
                    "{array} is allocated at line {} by {callee}(){tree} and not yet \
                     returned, stored or passed on",
                    line(*alloc)
                )
            }
            Reason::TemporaryWrite {
                restore,
                saved,
                read,
            } => format!(
                "temporary: restored at line {} to `{saved}` (read at line {})",
                line(*restore),
                line(*read)
            ),
            Reason::Restore {
                saved,
                read,
                source,
            } => format!(
                "restores `{saved}`, the original value read at line {} (`{source}`)",
                line(*read)
            ),
            Reason::TemporaryChange {
                kinds,
                restores,
                shared,
            } => {
                let restored: Vec<String> = restores.iter().map(|&r| line(r).to_string()).collect();
                let kinds: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
                format!(
                    "temporary change of {array}'s {}, restored at line{} {}; {}; a local copy \
                     removes the race",
                    kinds.join(" and "),
                    if restored.len() == 1 { "" } else { "s" },
                    restored.join(", "),
                    shared.text(cx)
                )
            }
            Reason::LockSite {
                role,
                kind,
                evidence,
            } => format!(
                "{}; part of an in-place change of {array}'s metadata ({})",
                match role {
                    Role::Pointer => "replaces the shape pointer".to_string(),
                    Role::Restore => "puts a value back".to_string(),
                    Role::Write => format!("changes the live {}, not restored", kind.noun()),
                },
                evidence.text(cx)
            ),
            Reason::InPlaceChange {
                field,
                descr_set,
                evidence,
                shared_callers,
            } => in_place_text(cx, *field, *descr_set, evidence, shared_callers),
            Reason::FreshInCallers {
                function,
                linkage,
                callers,
                api,
            } => {
                let mut text = format!(
                    "{array} changes in place, but {function} is {linkage} and every caller \
                     passes an array it just made: {}",
                    callers_text(callers)
                );
                if let Some(api) = api {
                    text.push_str(&format!(
                        "; a `/*{api}` comment also puts it in NumPy's C API table, where an \
                         extension may pass an array others can see: only its documentation \
                         can require a new one"
                    ));
                }
                text
            }
            Reason::Manual {
                blocker,
                shared: Some(shared),
            } => format!("{}; {}", blocker.text(cx), shared.text(cx)),
            Reason::Manual {
                blocker,
                shared: None,
            } => blocker.text(cx),
            Reason::Limit(limit) => limit.text(cx),
        }
    }
}

/// A lock finding's reason: what changes in place, the evidence, and the
/// calls that may pass a shared array.
fn in_place_text(
    cx: Cx<'_>,
    field: Option<Kind>,
    descr_set: bool,
    evidence: &[Evidence],
    shared_callers: &[super::Caller],
) -> String {
    let array = cx.array;
    let list: Vec<String> = evidence.iter().map(|e| e.text(cx)).collect();
    let callers = if shared_callers.is_empty() {
        String::new()
    } else {
        format!(
            "; called with an array that may be shared by {}",
            callers_text(shared_callers)
        )
    };
    match field {
        None => format!(
            "in-place change of {array}'s shape{}: the function also {}; a local \
             copy cannot fix it, the change needs a lock{callers}",
            if descr_set { " and dtype (descr)" } else { "" },
            list.join(", ")
        ),
        Some(kind) => format!(
            "in-place change of {array}'s {}: the function {}, not put back; other \
             threads may read it meanwhile, so the change needs a lock{callers}",
            kind.noun(),
            list.join(", ")
        ),
    }
}

/// `f (a.c:12), g (b.c:30)`.
fn callers_text(callers: &[super::Caller]) -> String {
    callers
        .iter()
        .map(|c| format!("{} ({})", c.function, c.location))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Evidence {
    pub fn text(&self, cx: Cx<'_>) -> String {
        cx.unmask(match self {
            Evidence::AssignsField { field, at } => {
                format!("assigns {}->{field} at line {}", cx.array, cx.line(*at))
            }
            Evidence::FreesShape { how, at } => {
                format!("frees its shape with {how}() at line {}", cx.line(*at))
            }
            Evidence::SetsFlags { how, at } => {
                format!(
                    "changes {}'s flags with {how}() at line {}",
                    cx.array,
                    cx.line(*at)
                )
            }
        })
    }
}

impl Limit {
    pub fn text(&self, cx: Cx<'_>) -> String {
        match self {
            Limit::Unparsed { at } => format!(
                "the code around it did not parse as a function (ERROR from line {}); \
                 check it by hand, or blank an unknown macro with --ignore-macro",
                cx.line(*at)
            ),
            Limit::ParseError { at } => format!(
                "tree-sitter could not parse line {} of this code (macro?); not rewritten; \
                 check it by hand, or blank the macro with --ignore-macro",
                cx.line(*at)
            ),
            Limit::InComment { at, window: false } => format!(
                "line {} lies inside a comment or string as the file is written \
                 (an unterminated comment?); check it by hand",
                cx.line(*at)
            ),
            Limit::InComment { at, window: true } => format!(
                "line {} lies inside a comment or string as the file is written",
                cx.line(*at)
            ),
            Limit::KnR { at } => format!(
                "K&R definitions are not analysed (the definition at line {} declares its \
                 parameters apart); check it by hand",
                cx.line(*at)
            ),
            Limit::LoneCr { at } => format!(
                "the file ends lines in a carriage return alone (line {}), which git and patch \
                 read as one line; reported, not edited",
                cx.line(*at)
            ),
            Limit::NotAnalysed { what, at } => {
                let why = match what {
                    Hazard::Graph { spelled } => format!(
                        "the function uses `{spelled}` at line {}, a digraph or trigraph \
                         bracket",
                        cx.line(*at)
                    ),
                    Hazard::MacroBrace { name } => format!(
                        "a brace of the function comes from the macro {name} (line {})",
                        cx.line(*at)
                    ),
                    Hazard::Unterminated => format!(
                        "a string or character literal at line {} is never closed",
                        cx.line(*at)
                    ),
                    Hazard::KnR => {
                        return format!(
                            "K&R definitions are not analysed (the definition at line {} \
                             declares its parameters apart); check it by hand",
                            cx.line(*at)
                        )
                    }
                };
                format!("not analysed: {why}; check it by hand")
            }
            Limit::PerBranch { at } => format!(
                "preprocessor branches (from line {}) make this function read differently; it \
                 was analysed once per branch, so it is not rewritten; check it by hand",
                cx.line(*at)
            ),
            Limit::InMacro {
                at,
                name,
                macro_name,
            } => format!(
                "the macro {macro_name}() defined at line {} changes an array's metadata \
                 (`{name}`), and its uses are not followed; check each use by hand",
                cx.line(*at)
            ),
            Limit::OutsideFunction { at, name } => format!(
                "`{name}` at line {} is outside any function dims-fix could find (a macro \
                 that defines or opens a function?), so it could not be analysed; check it by \
                 hand, or blank the macro with --ignore-macro",
                cx.line(*at)
            ),
            Limit::Unrecognised {
                at,
                name,
                error: Some(e),
            } => format!(
                "`{name}` at line {} sits in code tree-sitter could not parse (from line {}), \
                 so whether it is written is unknown; check it by hand, or blank an unknown \
                 macro with --ignore-macro",
                cx.line(*at),
                cx.line(*e)
            ),
            Limit::Unrecognised {
                at,
                name,
                error: None,
            } => format!(
                "`{name}` at line {} is used in a way dims-fix does not analyse (not called \
                 with one array), so whether it is written is unknown; check it by hand",
                cx.line(*at)
            ),
            Limit::TooDeep { at, limit } => format!(
                "the code at line {} nests more than {limit} levels deep, beyond what \
                 dims-fix follows; check it by hand",
                cx.line(*at)
            ),
            Limit::BranchNotRead { at, name } => format!(
                "`{name}` sits in a preprocessor branch (line {}) beyond the {} readings \
                 dims-fix makes of one file, so it was not analysed; check it by hand",
                cx.line(*at),
                crate::source::branches::MAX_CONFIGS
            ),
        }
    }
}

impl Shared {
    pub fn text(&self, cx: Cx<'_>) -> String {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        match self {
            Shared::Param => format!("{array} is a parameter"),
            Shared::FromParam { param } => format!("{array} comes from the parameter {param}"),
            Shared::NotAssigned => format!("{array} is not assigned in this function"),
            Shared::UntrackedChange { name, at } => {
                format!("{name} changes at line {} in a way not tracked", line(*at))
            }
            Shared::CallResult {
                callee,
                at,
                may_return_input,
            } => format!(
                "{array} holds the result of {callee}() (line {}){}",
                line(*at),
                if *may_return_input {
                    ", which may return its input"
                } else {
                    ""
                }
            ),
            Shared::Assigned { name, value, at } => {
                format!("{name} is assigned `{value}` at line {}", line(*at))
            }
            Shared::TooManyCopies => {
                format!("{array} is copied through too many variables to follow")
            }
            Shared::Escaped {
                alloc,
                callee,
                escape:
                    Escape::NotOnEveryPath {
                        branch,
                        construct,
                        before,
                    },
            } => format!(
                "{array} is allocated at line {} by {callee}() only on some paths to this \
                 write (inside {} at line {}); on the others {}",
                line(*alloc),
                construct_name(construct),
                line(*branch),
                before.text(cx)
            ),
            Shared::Escaped {
                alloc,
                callee,
                escape,
            } => format!(
                "{array} is allocated at line {} by {callee}() but {} before this write",
                line(*alloc),
                escape.text(cx)
            ),
        }
    }
}

/// How a branching construct is named: "the `if`", "a block".
fn construct_name(construct: &str) -> String {
    match construct {
        "{" => "a block the write is not in".to_string(),
        c => format!("the `{c}`"),
    }
}

impl Escape {
    pub fn text(&self, cx: Cx<'_>) -> String {
        let line = |p: Pos| cx.line(p);
        match self {
            Escape::NotLocal { name } => format!(
                "`{name}` is not a local variable of this function (a global, a static, or \
                 declared more than once), so other code can reach it"
            ),
            Escape::OtherValue { name, at } => format!(
                "`{name}` is also given another value at line {}, so it may not hold the new \
                 array at the write",
                line(*at)
            ),
            Escape::LabelSkips { at } => format!(
                "a label at line {} lets control reach the write without the allocation",
                line(*at)
            ),
            Escape::StoredIn { name, at } => format!(
                "it is stored in `{name}` at line {}, which other code can reach",
                line(*at)
            ),
            Escape::Passed { name, callee, at } => {
                format!("{name} is passed to {callee}() at line {}", line(*at))
            }
            Escape::BaseOf { name, callee, at } => format!(
                "{name} becomes the base of a new array ({callee}) at line {}",
                line(*at)
            ),
            Escape::Returned { name, at } => format!("{name} is returned at line {}", line(*at)),
            Escape::Stored { name, at } => format!("{name} is stored at line {}", line(*at)),
            Escape::AddressTaken { name, at } => {
                format!("the address of {name} is taken at line {}", line(*at))
            }
            Escape::NotOnEveryPath {
                branch, construct, ..
            } => format!(
                "it is allocated only inside {} at line {}, not on every path",
                construct_name(construct),
                line(*branch)
            ),
        }
    }
}
