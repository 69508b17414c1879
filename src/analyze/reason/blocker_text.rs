//! Blockers as text (the rest of `text.rs`): why a write is not
//! rewritten, by family, byte for byte as reports have always shown them.

use super::text::Cx;
use super::{
    AliasWhy, Before, Blocker, Changed, IndexWhy, Layout, MacroWhy, NameWhy, NotOwn, Persist,
    Place, Pos, SavedWhy,
};

impl Blocker {
    pub fn text(&self, cx: Cx<'_>) -> String {
        self.window_text(cx)
            .or_else(|| self.restore_text(cx))
            .or_else(|| self.variable_text(cx))
            .or_else(|| self.use_text(cx))
            .or_else(|| self.copy_text(cx))
            .or_else(|| self.names_text(cx))
            .or_else(|| self.callee_text(cx))
            .expect("every blocker has a text")
    }

    /// Code that may write the storage it is given.
    fn callee_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        Some(match self {
            Blocker::MayWrite {
                callee,
                location: None,
            } => format!(
                "{array}'s live shape is passed to the function pointer `{callee}`, which may \
                 write through it; check what it points at"
            ),
            Blocker::MayWrite {
                callee,
                location: Some(loc),
            } => format!(
                "{array}'s live shape is passed to {callee}(), declared at {loc} with a \
                 non-const pointer parameter and not defined in the scanned tree, so it may \
                 write through it; check its source, or declare the parameter `const`"
            ),
            _ => return None,
        })
    }

    /// What the writes and the window look like.
    fn window_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        Some(match self {
            Blocker::Persists(p) => p.text(cx),
            Blocker::RestoreSkipped {
                kind,
                jump,
                at,
                restore,
                view,
            } => format!(
                "BUG: {jump} at line {} leaves after {array}'s {} is changed and before it is \
                 put back at line {}, so the change stays on that path, even with one thread{}",
                line(*at),
                kind.noun(),
                line(*restore),
                view_text(array, view)
            ),
            Blocker::MetaSwap {
                kind,
                restore,
                saved,
                view,
            } => format!(
                "{array}'s {} is changed for a while and put back from `{saved}` at line {}; \
                 other threads see the temporary value, and no local copy can stand in for it{}",
                kind.noun(),
                line(*restore),
                view_text(array, view)
            ),
            Blocker::MetaSetAgain { kind, at, value } => format!(
                "{array}'s {} is set again at line {} to `{value}`, which was not saved from \
                 it: a temporary change whose restore cannot be proven; other threads see it",
                kind.noun(),
                line(*at)
            ),
            Blocker::Limit(limit) => limit.text(cx),
            Blocker::ReplacesPointer { at } => {
                format!("replaces {array}'s shape pointer at line {}", line(*at))
            }
            Blocker::AliasMoved { at } => format!(
                "writes through an alias moved by an amount not tracked (line {})",
                line(*at)
            ),
            Blocker::TreeMacro { name, location } => {
                let at = location
                    .as_ref()
                    .map_or(String::new(), |l| format!(" (defined at {l})"));
                format!(
                    "{name}() is a macro of this tree that writes through {array}'s shape{at}; \
                     its uses cannot be rewritten automatically"
                )
            }
            Blocker::ImpureIndex { index, at } => format!(
                "the index [{index}] at line {} has side effects or reaches memory that \
                 may change from one evaluation to the next",
                line(*at)
            ),
            Blocker::JumpLeaves { jump, at, restore } => format!(
                "{jump} at line {} leaves before the restore at line {}, \
                 so the change can persist",
                line(*at),
                line(*restore)
            ),
            Blocker::LabelEnters { at, restore } => format!(
                "a label at line {} lets control enter between the write and the \
                 restore at line {}",
                line(*at),
                line(*restore)
            ),
            Blocker::Layout(l) => l.text(cx),
            Blocker::ChangesAfterRestore { at, restore } => format!(
                "{array}'s shape changes again at line {} after a restore at line {}; a copy \
                 would keep the first change",
                line(*at),
                line(*restore)
            ),
            _ => return None,
        })
    }

    /// The restore, the saved value and the index.
    fn restore_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        Some(match self {
            Blocker::RestoreNotOriginal {
                saved,
                index,
                restore,
                write,
            } => format!(
                "the restore at line {} stores `{saved}`, which is not the value read from \
                 {array}'s shape slot [{index}] before the write at line {}",
                line(*restore),
                line(*write)
            ),
            Blocker::SavedValue { saved, why } => why.text(saved, cx),
            Blocker::ChangedBeforeRestore { what, at, restore } => {
                let what = match what {
                    Changed::Saved(saved) => format!("`{saved}` (the saved value)"),
                    Changed::Index(name) => format!("`{name}` (the index)"),
                    Changed::Array => array.to_string(),
                };
                format!(
                    "{what} changes at line {} before the restore at line {}",
                    line(*at),
                    line(*restore)
                )
            }
            Blocker::ChangesInLoop { name, at, window } => format!(
                "`{name}` changes at line {} in a loop around the write (line {}) that does \
                 not read the saved value again; a later pass could restore the wrong value",
                line(*at),
                line(*window)
            ),
            Blocker::IndexVariable { var, why } => match why {
                IndexWhy::NotPlain { index } => {
                    format!("`{var}` in the index [{index}] is not a plain integer variable")
                }
                IndexWhy::AddressTaken { at } => format!(
                    "the address of `{var}` (the index) is taken at line {}, so it can change \
                     in ways not tracked",
                    line(*at)
                ),
            },
            _ => return None,
        })
    }

    /// The array variable.
    fn variable_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        Some(match self {
            Blocker::NotOwnVariable { name, why, index } => {
                let text = why.text(name, cx);
                match index {
                    Some(index) => format!("in the index [{index}]: {text}"),
                    None => text,
                }
            }
            Blocker::ArrayAddressTaken { at } => format!(
                "the address of {array} is taken at line {}, so it can change in ways not \
                 tracked",
                line(*at)
            ),
            Blocker::SecondName { name, at } => format!(
                "`{name}` is a second name for {array} (line {}); shape reads through it would \
                 not see a copy",
                line(*at)
            ),
            Blocker::ArrayStored { at } => format!(
                "{array} is stored at line {}; code between the write and the restore could \
                 reach it through there",
                line(*at)
            ),
            Blocker::ShapePointerStored { at, address: false } => format!(
                "{array}'s shape pointer is stored at line {}; reads through it would not see \
                 a copy",
                line(*at)
            ),
            Blocker::ShapePointerStored { at, address: true } => format!(
                "the address of {array}'s shape pointer is taken at line {}, so the pointer \
                 can be copied out (`memcpy(&p, &...->dimensions, ...)`); reads through a \
                 copy of it would not see a local copy",
                line(*at)
            ),
            Blocker::RawField { field, at } => format!(
                "`{array}->{field}` at line {} reaches the storage directly; a copy cannot \
                 redirect it",
                line(*at)
            ),
            Blocker::NotPlainVariable => {
                format!("`{array}` is not a plain variable, so changes to it cannot be tracked")
            }
            Blocker::ReassignedInWindow { at } => format!(
                "{array} is reassigned at line {} between the write and the restore",
                line(*at)
            ),
            _ => return None,
        })
    }

    /// What the window does with the array and its shape.
    fn use_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        Some(match self {
            Blocker::ShapeReaderInWindow { name, at } => format!(
                "{name}({array}) at line {} reads the array's real shape, which a local \
                 copy cannot redirect",
                line(*at)
            ),
            Blocker::PassedInWindow { callee, at } => format!(
                "{array} is passed to {callee}() at line {}, which may read its shape",
                line(*at)
            ),
            Blocker::EscapesInWindow { at } => format!(
                "{array} escapes at line {}, between the write and the restore",
                line(*at)
            ),
            Blocker::MetadataInWindow { at } => format!(
                "{array}'s metadata changes at line {}, between the write and the restore",
                line(*at)
            ),
            Blocker::ShapePassedInWindow { callee, at } => format!(
                "{array}'s shape is passed to {}() at line {}, which may write \
                 through it or keep it; a copy would change what it sees",
                callee.as_deref().unwrap_or("a function"),
                line(*at)
            ),
            Blocker::ShapePointerInWindow { kept: true, at } => format!(
                "{array}'s shape pointer is kept at line {}, between the write and the \
                 restore; pointed at a copy it would dangle or miss the restore",
                line(*at)
            ),
            Blocker::ShapePointerInWindow { kept: false, at } => format!(
                "line {} uses {array}'s shape pointer itself (not an element or an \
                 argument); pointed at a copy it could change meaning",
                line(*at)
            ),
            Blocker::ReadAfterRestore { at, restore } => format!(
                "{array}'s shape is read at line {}, after the restore at line {}; a copy \
                 would still hold the changed value",
                line(*at),
                line(*restore)
            ),
            Blocker::OtherAlias { name, at } => format!(
                "`{name}` (line {}) points at {array}'s real shape and would not see \
                 the change",
                line(*at)
            ),
            Blocker::OtherArray {
                other,
                at,
                written_after: None,
            } => format!(
                "the shape of `{other}` is read at line {}, between the write and the \
                 restore; nothing here proves `{other}` is not {array} itself",
                line(*at)
            ),
            Blocker::OtherArray {
                other,
                at,
                written_after: Some(read),
            } => format!(
                "the shape of `{other}` is written at line {}, between the read at line {} \
                 and the restore; nothing here proves `{other}` is not {array} itself",
                line(*at),
                line(*read)
            ),
            Blocker::ChangedBeforeWrite { what, at, read } => match what {
                Before::Passed { .. } | Before::Metadata => {
                    let what = match what {
                        Before::Passed { callee } => format!("{array} is passed to {callee}()"),
                        _ => format!("{array}'s metadata changes"),
                    };
                    format!(
                        "{what} at line {}, after the original value is read at line {} and \
                         before the write; a change there would be undone by the restore but \
                         kept with a copy",
                        line(*at),
                        line(*read)
                    )
                }
                Before::ShapePassed { callee } => format!(
                    "{array}'s shape is passed to {} at line {}, after the original value \
                     is read at line {}; a change there would be undone by the restore but \
                     kept with a copy",
                    callee
                        .as_ref()
                        .map_or("a function".to_string(), |c| format!("{c}()")),
                    line(*at),
                    line(*read)
                ),
            },
            _ => return None,
        })
    }

    /// The copy, macros, limits.
    fn copy_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        Some(match self {
            Blocker::AliasCopy { name, why } => why.text(name, cx),
            Blocker::FileMacro { name, def, why } => {
                let def = line(*def);
                match why {
                    MacroWhy::UsesArray => format!(
                        "the macro {name} (defined at line {def}) uses {array} itself; what it \
                         reads cannot be redirected to a copy"
                    ),
                    MacroWhy::Jumps { jump } => format!(
                        "the macro {name} (defined at line {def}) may `{jump}` out before the \
                         restore"
                    ),
                    MacroWhy::UsesHeaderMacro { id } => format!(
                        "the macro {name} (defined at line {def}) uses {id}, which is not \
                         defined in this file; a macro from a header could jump out or read \
                         the shape"
                    ),
                }
            }
            Blocker::HeaderMacro {
                id,
                at,
                place,
                returns,
            } => {
                let place = match place {
                    Place::Window => "between the write and the restore",
                    Place::CopyScope => "where the copy would be in scope",
                };
                if *returns {
                    format!(
                        "{id} at line {} returns from the function {place}",
                        line(*at)
                    )
                } else {
                    format!(
                        "{id} at line {} is not defined in this file; a macro from a header \
                         used {place} could jump out, read the shape, or name the copy",
                        line(*at)
                    )
                }
            }
            _ => return None,
        })
    }
}

impl Blocker {
    /// Other names of the array, and what the preprocessor can hide.
    fn names_text(&self, cx: Cx<'_>) -> Option<String> {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        Some(match self {
            Blocker::OtherName { name, why, at } => format!(
                "`{name}` is used at line {} between the write and the restore, and it may be \
                 {array}: {}; what reaches the array through it sees the changed shape, which \
                 a local copy would hide",
                line(*at),
                why.text(cx)
            ),
            Blocker::FileFunction {
                callee,
                global,
                through,
                at,
            } => {
                let via = if through == callee {
                    String::new()
                } else {
                    format!(" (through {through}())")
                };
                format!(
                    "{callee}() at line {} is a function of this file that reads the global \
                     `{global}`{via}, which may hold {array}; it would see the changed shape",
                    line(*at)
                )
            }
            Blocker::IncludeInWindow { at } => format!(
                "an `#include` at line {} between the write and the restore brings code this \
                 analysis cannot see",
                line(*at)
            ),
            Blocker::InLambda { at } => format!(
                "a lambda's boundary at line {} lies between the write and its restore: \
                 the lambda runs when called, not where it stands",
                line(*at)
            ),
            Blocker::MayThrow {
                callee,
                at,
                restore,
            } => format!(
                "{callee}() at line {} may throw and leave before the restore at line {}, \
                 so the change can persist (the function is not `noexcept`)",
                line(*at),
                line(*restore)
            ),
            Blocker::InDestructor {
                object,
                declared,
                at,
            } => format!(
                "no statement undoes the change to {array}'s shape at line {}; the destructor of \
                 `{object}` (declared at line {}) may: a restore there is not visible, so it is \
                 not proven",
                line(*at),
                line(*declared)
            ),
            Blocker::TemplateToken { token, at } => format!(
                "the template token `{token}` at line {} may expand to a name of {array} or to \
                 code",
                line(*at)
            ),
            Blocker::LineContinuation { at } => format!(
                "line {} ends in a line continuation (`\\`, or `??/` under trigraphs), so a line \
                 inserted or removed after it would be joined to it",
                line(*at)
            ),
            Blocker::SavedLeftUnused { saved, at } => format!(
                "`{saved}` would be set but never used once the restore goes, and its \
                 assignment at line {} shares its statement with other code",
                line(*at)
            ),
            _ => return None,
        })
    }
}

impl NameWhy {
    fn text(&self, cx: Cx<'_>) -> String {
        let line = |p: Pos| cx.line(p);
        match self {
            NameWhy::Source { of, at } if of == cx.array => {
                format!(
                    "{of} is assigned a value read from it at line {}",
                    line(*at)
                )
            }
            NameWhy::Source { of, at } => format!(
                "`{of}`, which may be {}, is assigned a value read from it at line {}",
                cx.array,
                line(*at)
            ),
            NameWhy::Copy { from, at } if from == cx.array => {
                format!("it is given the value of {from} at line {}", line(*at))
            }
            NameWhy::Copy { from, at } => format!(
                "it is given the value of `{from}`, which may be {}, at line {}",
                cx.array,
                line(*at)
            ),
            NameWhy::Holds { at } => format!(
                "{} (or another name of it) is stored through it at line {}",
                cx.array,
                line(*at)
            ),
            NameWhy::Param => {
                "it is another parameter, and a caller may pass the same array twice".to_string()
            }
            NameWhy::Global { at } => format!(
                "it is a global of this file (line {}) that may hold an object",
                line(*at)
            ),
        }
    }
}

impl Persist {
    fn text(&self, cx: Cx<'_>) -> String {
        let array = cx.array;
        match self {
            Persist::NeverRestored { kind, at } => format!(
                "never restored: the change to {array}'s {} at line {} persists \
                 (a bug if unintended, a missing lock if intended)",
                kind.noun(),
                cx.line(*at)
            ),
            Persist::Whole { kind, how, at } => format!(
                "{how} at line {} changes {array}'s live {} and is not undone: \
                 the change persists (a bug if unintended, a missing lock if intended)",
                cx.line(*at),
                kind.noun()
            ),
            Persist::NotSaved { kind, index, at } => format!(
                "the last write to {array}'s {} slot [{index}] (line {}) does not put back \
                 a saved original value: the change persists",
                kind.noun(),
                cx.line(*at)
            ),
        }
    }
}

impl Layout {
    fn text(&self, cx: Cx<'_>) -> String {
        let line = |p: Pos| cx.line(p);
        match self {
            Layout::NotSameBlock { write, restore } => format!(
                "the write at line {} and the restore at line {} are not in the same block",
                line(*write),
                line(*restore)
            ),
            Layout::NotInBlock { write } => format!(
                "the write at line {} is not directly inside a {{ }} block",
                line(*write)
            ),
            Layout::RestoreInExpression { at } => format!(
                "the restore at line {} is part of a larger statement",
                line(*at)
            ),
            Layout::SharesLine { at } => format!(
                "the write at line {} shares its line with other code, so the copy \
                 cannot be declared just before it",
                line(*at)
            ),
            Layout::SourceNotDirect { at } => format!(
                "the write at line {} does not name its source directly",
                line(*at)
            ),
        }
    }
}

impl SavedWhy {
    fn text(&self, saved: &str, cx: Cx<'_>) -> String {
        let line = |p: Pos| cx.line(p);
        match self {
            SavedWhy::Param => {
                format!("`{saved}` is a parameter, not a local variable assigned here")
            }
            SavedWhy::Narrow { ty } => format!(
                "`{saved}` is declared `{ty}`, which may not hold every dimension; the restore \
                 may not put the original back"
            ),
            SavedWhy::NotScalar { decl } => format!(
                "`{saved}` is not a plain scalar variable (line {})",
                line(*decl)
            ),
            SavedWhy::AssignedTwice { at, read } => {
                let list: Vec<String> = at.iter().map(|&p| line(p).to_string()).collect();
                format!(
                    "`{saved}` is assigned or has its address taken more than once (lines {}); \
                     the restore may not put back the value read at line {}",
                    list.join(", "),
                    line(*read)
                )
            }
            SavedWhy::ReadLate { read, write } => format!(
                "`{saved}` is read at line {}, after the shape is first changed at line {}",
                line(*read),
                line(*write)
            ),
            SavedWhy::InExpression { read } => format!(
                "`{saved}` is read at line {} inside a larger expression, which may not run \
                 before the write",
                line(*read)
            ),
            SavedWhy::OtherBlock { read, write } => format!(
                "`{saved}` is read at line {} in a block that does not hold the write at \
                 line {}, so it may not run before it",
                line(*read),
                line(*write)
            ),
            SavedWhy::LabelSkips { label, read } => format!(
                "a label at line {} lets control reach the write without reading `{saved}` \
                 at line {}",
                line(*label),
                line(*read)
            ),
        }
    }
}

impl NotOwn {
    fn text(&self, name: &str, cx: Cx<'_>) -> String {
        match self {
            NotOwn::FileMacro { def } => format!(
                "`{name}` is a macro of this file (line {}), so what it means at each use is \
                 not proven",
                cx.line(*def)
            ),
            NotOwn::Nowhere => format!(
                "`{name}` is not a parameter or local variable of this function; other \
                 code may use or change it meanwhile"
            ),
            NotOwn::Twice => format!(
                "`{name}` is declared more than once in this function (an inner block, \
                 or an enumeration constant), so which one each use means is not proven"
            ),
            NotOwn::Storage { qualifier, at } => format!(
                "`{name}` is declared `{qualifier}` (line {}); other calls or threads may share or \
                 change it",
                cx.line(*at)
            ),
        }
    }
}

impl AliasWhy {
    fn text(&self, name: &str, cx: Cx<'_>) -> String {
        let array = cx.array;
        let line = |p: Pos| cx.line(p);
        match self {
            AliasWhy::PointedTwice => {
                format!("`{name}` is pointed at {array}'s shape more than once")
            }
            AliasWhy::Assigned { at } => format!(
                "`{name}` is assigned (line {}), not declared, from {array}'s shape; a copy \
                 cannot replace it",
                line(*at)
            ),
            AliasWhy::Offset { at } => format!(
                "`{name}` (line {}) does not point at the start of {array}'s shape",
                line(*at)
            ),
            AliasWhy::DeclarationForm { at } => format!(
                "`{name}` is not declared on its own line as `npy_intp *{name} = ...;` (line {})",
                line(*at)
            ),
            AliasWhy::DeclaredWithOthers { at } => format!(
                "`{name}` is declared together with other variables or with another type \
                 (line {})",
                line(*at)
            ),
            AliasWhy::Changes { at } => format!("`{name}` changes at line {}", line(*at)),
            AliasWhy::Escapes { at } => format!(
                "`{name}` escapes at line {}; a local array cannot stand in for it",
                line(*at)
            ),
            AliasWhy::InSizeof => format!("`{name}` is used in sizeof, which would change meaning"),
            AliasWhy::SeveralAliases { at } => {
                format!("writes go through more than one alias (line {})", line(*at))
            }
            AliasWhy::AlsoDirect { at } => format!(
                "{array}'s shape is written both through `{name}` and directly (line {}); \
                 as a copy `{name}` would no longer see those writes",
                line(*at)
            ),
            AliasWhy::PassedOutside { at } => format!(
                "`{name}` is passed on at line {}, outside the temporary change; as a \
                 local copy it would no longer reach {array}'s shape",
                line(*at)
            ),
            AliasWhy::UsedAsPointer { at } => format!(
                "`{name}` is copied, stored or used as a pointer at line {}; a local \
                 array cannot stand in for it",
                line(*at)
            ),
            AliasWhy::ArrayReassigned { at } => format!(
                "{array} is reassigned at line {} while `{name}` is in use; the copy would \
                 hold the old array's shape",
                line(*at)
            ),
            AliasWhy::ArrayUsed { at } => format!(
                "{array} is used at line {} while `{name}` is in use; a copy could miss a change",
                line(*at)
            ),
        }
    }
}

/// For a dtype swap, the view that would leave the array alone, as text:
/// dims-fix does not write it (what the code called does with a view, and
/// how the function's error paths release it, is not checked).
fn view_text(array: &str, view: &Option<String>) -> String {
    match view {
        Some(dtype) => format!(
            "; to remove the swap, call the code on a view with the other dtype \
             (`PyArrayObject *view = (PyArrayObject *)PyArray_View({array}, {dtype}, NULL);` \
             with an extra reference to {dtype}, then Py_DECREF(view)), which dims-fix does \
             not write for you"
        ),
        None => String::new(),
    }
}
