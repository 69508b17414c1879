//! Why a site or a finding is what it is, as typed values: each blocker,
//! piece of lock evidence, fresh reason, rewrite reason and analysis limit
//! is an enum value with a stable code (`DF101`) and its data (positions
//! as byte offsets, names), never prose. `text.rs` (with `blocker_text.rs`
//! for the blockers) is the one place that renders them; `rules.rs` is the catalogue of codes with their pages
//! (`dims-fix --explain CODE`, SARIF `help`, the table in docs/output.md).
//!
//! New knowledge is a new variant with a new code: families leave room
//! (DF1xx why not rewritten, DF2xx lock evidence, DF3xx fresh, DF4xx
//! rewrite, DF5xx analysis limits).

mod blocker_text;
mod rules;
#[cfg(test)]
mod tests;
mod text;

pub use rules::{rule, Code, Rule, RULES};
pub use text::Cx;

use super::{Kind, Role};

/// A byte offset of the file; reports show its line.
pub type Pos = usize;

/// What a site or a finding says, with one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The array was allocated in this function and not yet published.
    Fresh {
        alloc: Pos,
        callee: String,
        /// `file:line` of the tree's function that returns a new array.
        location: Option<String>,
    },
    /// A temporary write, restored later (a rewrite site).
    TemporaryWrite {
        restore: Pos,
        saved: String,
        read: Pos,
    },
    /// The restore of a rewrite: puts back the value read before.
    Restore {
        saved: String,
        read: Pos,
        source: String,
    },
    /// A rewrite finding: a temporary change, restored on every path.
    TemporaryChange {
        kinds: Vec<Kind>,
        restores: Vec<Pos>,
        shared: Shared,
    },
    /// A lock site: its part, what it changes, and the evidence of intent.
    LockSite {
        role: Role,
        kind: Kind,
        evidence: Evidence,
    },
    /// A lock finding: the function changes the array's metadata in place;
    /// `shared_callers`, for a function only the tree can call, the calls
    /// that pass it an array that may be shared.
    InPlaceChange {
        /// The field of a metadata-family finding; the shape's have none.
        field: Option<Kind>,
        descr_set: bool,
        evidence: Vec<Evidence>,
        shared_callers: Vec<Caller>,
    },
    /// The function changes a parameter's array in place, but only the
    /// tree can call it (`linkage`: `static`, `NPY_NO_EXPORT`, ...), and
    /// every call there passes an array the caller just made.
    FreshInCallers {
        function: String,
        linkage: String,
        callers: Vec<Caller>,
        /// The API-table marker when extensions can call it too.
        api: Option<String>,
    },
    /// A manual site or finding: why it is not rewritten, and (for a
    /// possibly shared array) why it may be shared.
    Manual {
        blocker: Blocker,
        shared: Option<Shared>,
    },
    /// The code could not be analysed well enough to decide.
    Limit(Limit),
}

impl Reason {
    pub fn code(&self) -> Code {
        match self {
            Reason::Fresh { location: None, .. } => Code::FreshAllocation,
            Reason::Fresh { .. } => Code::FreshFromTreeFunction,
            Reason::FreshInCallers { .. } => Code::FreshInCallers,
            Reason::TemporaryWrite { .. } => Code::TemporaryWrite,
            Reason::Restore { .. } => Code::RestoresOriginal,
            Reason::TemporaryChange { .. } => Code::TemporaryChange,
            Reason::LockSite { evidence, .. } => evidence.code(),
            Reason::InPlaceChange { evidence, .. } => evidence
                .first()
                .map_or(Code::AssignsMetadata, Evidence::code),
            Reason::Manual { blocker, .. } => blocker.code(),
            Reason::Limit(limit) => limit.code(),
        }
    }
}

/// A call of a function, as a reason names it: the calling function and
/// where the call is (`shape.c:540`: it may be in another file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Caller {
    pub function: String,
    pub location: String,
}

/// Evidence of an intentional in-place change of an array's metadata
/// (DESIGN §3 lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// `X->nd = ...`, `X->descr = ...`, `Py_SETREF(X->descr, ...)`.
    AssignsField { field: String, at: Pos },
    /// `npy_free_cache_dim_array(X)` and friends.
    FreesShape { how: String, at: Pos },
    /// `PyArray_ENABLEFLAGS(X, f)`, `PyArray_UpdateFlags(X, f)`: the
    /// flags changed in place (`--fields flags`).
    SetsFlags { how: String, at: Pos },
}

impl Evidence {
    /// Where the change it names is.
    pub fn at(&self) -> Pos {
        match self {
            Evidence::AssignsField { at, .. }
            | Evidence::FreesShape { at, .. }
            | Evidence::SetsFlags { at, .. } => *at,
        }
    }

    pub fn code(&self) -> Code {
        match self {
            Evidence::AssignsField { .. } => Code::AssignsMetadata,
            Evidence::FreesShape { .. } => Code::FreesShape,
            Evidence::SetsFlags { .. } => Code::SetsFlags,
        }
    }
}

/// Analysis limits: code that did not parse, or that is not code as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// The function did not parse as one (an ERROR node from `at`).
    Unparsed { at: Pos },
    /// A parse error on the finding's statements or window.
    ParseError { at: Pos },
    /// As written, the line is inside a comment or a string; `window`
    /// when the rewrite proof saw it (a shorter message).
    InComment { at: Pos, window: bool },
    /// A K&R definition, whose parameters are declared apart.
    KnR { at: Pos },
    /// The file ends lines in `\r` alone: analysed, never edited.
    LoneCr { at: Pos },
    /// Code the analysis cannot read as a compiler would: digraph or
    /// trigraph brackets, braces that come from a macro, an unterminated
    /// literal before it. The sites are the shape sources it mentions.
    NotAnalysed { what: Hazard, at: Pos },
    /// Preprocessor branches make the function read differently (`at`:
    /// the first such directive): it was analysed once per branch
    /// configuration, and is not rewritten.
    PerBranch { at: Pos },
    /// A mention of a shape source (`name`) in code outside any function
    /// the outline found.
    OutsideFunction { at: Pos, name: String },
    /// A mention inside a function that the analysis could not place as a
    /// read or a write; `error` when it sits in code tree-sitter could not
    /// parse (an ERROR node from `error`).
    Unrecognised {
        at: Pos,
        name: String,
        error: Option<Pos>,
    },
    /// The code nests deeper than the analysis follows.
    TooDeep { at: Pos, limit: usize },
    /// A preprocessor branch beyond the number of readings of one file.
    BranchNotRead { at: Pos, name: String },
    /// A function-like macro whose body changes a metadata field
    /// (`--fields`): its uses are not followed.
    InMacro {
        at: Pos,
        name: String,
        macro_name: String,
    },
}

/// What keeps code from being analysed (the data of `Limit::NotAnalysed`),
/// as the lexical scan of the source stage finds it.
pub use crate::source::hazards::Hazard;

impl Limit {
    pub fn code(&self) -> Code {
        match self {
            Limit::Unparsed { .. } => Code::Unparsed,
            Limit::ParseError { .. } => Code::ParseError,
            Limit::InComment { .. } => Code::InComment,
            Limit::KnR { .. } => Code::KnR,
            Limit::LoneCr { .. } => Code::LoneCr,
            Limit::NotAnalysed { what, .. } => match what {
                Hazard::Graph { .. } => Code::Graph,
                Hazard::MacroBrace { .. } => Code::MacroBrace,
                Hazard::Unterminated => Code::Unterminated,
                Hazard::KnR => Code::KnR,
            },
            Limit::PerBranch { .. } => Code::PerBranch,
            Limit::OutsideFunction { .. } => Code::OutsideFunction,
            Limit::Unrecognised { .. } => Code::Unrecognised,
            Limit::TooDeep { .. } => Code::TooDeep,
            Limit::BranchNotRead { .. } => Code::BranchNotRead,
            Limit::InMacro { .. } => Code::InMacro,
        }
    }
}

/// Why an array may be visible to other threads (the second half of a
/// manual or rewrite reason). Context, not a code of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    Param,
    FromParam {
        param: String,
    },
    NotAssigned,
    UntrackedChange {
        name: String,
        at: Pos,
    },
    CallResult {
        callee: String,
        at: Pos,
        may_return_input: bool,
    },
    Assigned {
        name: String,
        value: String,
        at: Pos,
    },
    TooManyCopies,
    /// Allocated here, but it may be seen before the write.
    Escaped {
        alloc: Pos,
        callee: String,
        escape: Escape,
    },
}

/// How a new array may be seen by other code before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    NotLocal {
        name: String,
    },
    OtherValue {
        name: String,
        at: Pos,
    },
    LabelSkips {
        at: Pos,
    },
    StoredIn {
        name: String,
        at: Pos,
    },
    Passed {
        name: String,
        callee: String,
        at: Pos,
    },
    BaseOf {
        name: String,
        callee: String,
        at: Pos,
    },
    Returned {
        name: String,
        at: Pos,
    },
    Stored {
        name: String,
        at: Pos,
    },
    AddressTaken {
        name: String,
        at: Pos,
    },
    /// The allocation does not reach the write on every path: it sits in a
    /// branch (from `branch`) that does not hold the write; on the other
    /// paths the variable holds what `before` says.
    NotOnEveryPath {
        branch: Pos,
        /// `if`, `else`, `case`, `#if`, ... or `{` for a block.
        construct: String,
        before: Box<Shared>,
    },
}

/// Why a temporary write could not be proven safe to rewrite (DF1xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// The change is not undone.
    Persists(Persist),
    /// A metadata field's change is restored, but an exit (`jump`, at
    /// `at`) between the change and the restore skips the restore: the
    /// change persists on that path, a bug even with one thread.
    RestoreSkipped {
        kind: Kind,
        jump: &'static str,
        at: Pos,
        restore: Pos,
        /// For a dtype swap: the dtype swapped in, for the view that
        /// would leave the array alone.
        view: Option<String>,
    },
    /// A metadata field is changed for a while and put back (`restore`,
    /// from `saved`): other threads see the temporary value, and no local
    /// copy can stand in for a field that the code called reads.
    MetaSwap {
        kind: Kind,
        restore: Pos,
        saved: String,
        /// As for `RestoreSkipped`.
        view: Option<String>,
    },
    /// A metadata field is changed and set again later to a value that is
    /// not one saved from it (`value` at `at`): a temporary change whose
    /// restore cannot be proven.
    MetaSetAgain {
        kind: Kind,
        at: Pos,
        value: String,
    },
    ReplacesPointer {
        at: Pos,
    },
    AliasMoved {
        at: Pos,
    },
    /// A macro of the tree whose body writes the shape.
    TreeMacro {
        name: String,
        location: Option<String>,
    },
    ImpureIndex {
        index: String,
        at: Pos,
    },
    JumpLeaves {
        jump: &'static str,
        at: Pos,
        restore: Pos,
    },
    LabelEnters {
        at: Pos,
        restore: Pos,
    },
    Layout(Layout),
    ChangesAfterRestore {
        at: Pos,
        restore: Pos,
    },
    RestoreNotOriginal {
        saved: String,
        index: String,
        restore: Pos,
        write: Pos,
    },
    SavedValue {
        saved: String,
        why: SavedWhy,
    },
    ChangedBeforeRestore {
        what: Changed,
        at: Pos,
        restore: Pos,
    },
    ChangesInLoop {
        name: String,
        at: Pos,
        window: Pos,
    },
    IndexVariable {
        var: String,
        why: IndexWhy,
    },
    NotOwnVariable {
        name: String,
        why: NotOwn,
        /// When the name is a variable of this index.
        index: Option<String>,
    },
    ArrayAddressTaken {
        at: Pos,
    },
    SecondName {
        name: String,
        at: Pos,
    },
    ArrayStored {
        at: Pos,
    },
    ShapePointerStored {
        at: Pos,
        /// Its address is taken, so it can be copied out.
        address: bool,
    },
    RawField {
        field: &'static str,
        at: Pos,
    },
    NotPlainVariable,
    ReassignedInWindow {
        at: Pos,
    },
    ShapeReaderInWindow {
        name: String,
        at: Pos,
    },
    PassedInWindow {
        callee: String,
        at: Pos,
    },
    EscapesInWindow {
        at: Pos,
    },
    MetadataInWindow {
        at: Pos,
    },
    ShapePassedInWindow {
        callee: Option<String>,
        at: Pos,
    },
    ShapePointerInWindow {
        kept: bool,
        at: Pos,
    },
    ReadAfterRestore {
        at: Pos,
        restore: Pos,
    },
    OtherAlias {
        name: String,
        at: Pos,
    },
    OtherArray {
        other: String,
        at: Pos,
        /// For a write: the read of the saved value it follows.
        written_after: Option<Pos>,
    },
    ChangedBeforeWrite {
        what: Before,
        at: Pos,
        read: Pos,
    },
    AliasCopy {
        name: String,
        why: AliasWhy,
    },
    FileMacro {
        name: String,
        def: Pos,
        why: MacroWhy,
    },
    HeaderMacro {
        id: String,
        at: Pos,
        place: Place,
        /// `Py_RETURN_...`: it returns.
        returns: bool,
    },
    /// A name that may denote the array is used in the window (issue 17).
    OtherName {
        name: String,
        why: NameWhy,
        at: Pos,
    },
    /// A function of the file called in the window reads a global that
    /// may hold the array.
    FileFunction {
        callee: String,
        global: String,
        /// The function naming the global (the callee or one it calls).
        through: String,
        at: Pos,
    },
    /// An `#include` in the window: code the analysis does not see.
    IncludeInWindow {
        at: Pos,
    },
    /// C++: a write inside a lambda, its window outside it (or the other
    /// way round): the lambda runs when called, not where it stands.
    InLambda {
        at: Pos,
    },
    /// C++: a call between the write and the restore may throw, leaving
    /// without the restore.
    MayThrow {
        callee: String,
        at: Pos,
        restore: Pos,
    },
    /// C++: a change no statement undoes, after a local object of class
    /// type whose destructor may undo it.
    InDestructor {
        object: String,
        declared: Pos,
        at: Pos,
    },
    /// A `.c.src` template token in the window that may expand to a name
    /// of the array or to code, as written (`@arr@`).
    TemplateToken {
        token: String,
        at: Pos,
    },
    /// A line continuation (`\`, or `??/` under trigraphs) would join a
    /// line the rewrite inserts or removes to its neighbour.
    LineContinuation {
        at: Pos,
    },
    /// The saved value would be left set but unused, and its assignment
    /// cannot be removed alone.
    SavedLeftUnused {
        saved: String,
        at: Pos,
    },
    /// The live storage is passed as a non-`const` pointer to code that
    /// may write through it: a function pointer (no `location`) or a
    /// function declared in the tree (at `location`) with no body there.
    MayWrite {
        callee: String,
        location: Option<String>,
    },
    /// An analysis limit met during the proof (its code is the limit's).
    Limit(Limit),
}

/// Why a name may denote the array (the data of `Blocker::OtherName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameWhy {
    /// `of` (the array or another of its names) is assigned a value read
    /// from this name: `a = (PyArrayObject *)self`, `a = ops[i]`, `a =
    /// ctx->arr`, `b = PyArray_CheckAxis(a, ...)`.
    Source { of: String, at: Pos },
    /// This name is assigned the value of `from` (the array or another
    /// of its names), or the result of a call given it.
    Copy { from: String, at: Pos },
    /// The array (or another of its names) is stored in memory reached
    /// from this name: `ctx->arr = a`.
    Holds { at: Pos },
    /// Another parameter that may hold an object: a caller may pass the
    /// same array twice.
    Param,
    /// A global of the file that may hold an object.
    Global { at: Pos },
}

impl Blocker {
    pub fn code(&self) -> Code {
        match self {
            Blocker::Persists(_) => Code::ChangePersists,
            Blocker::RestoreSkipped { .. } => Code::RestoreSkipped,
            Blocker::MetaSwap { .. } => Code::TemporaryMetadata,
            Blocker::MetaSetAgain { .. } => Code::MetadataSetAgain,
            Blocker::ReplacesPointer { .. } => Code::ReplacesShapePointer,
            Blocker::AliasMoved { .. } => Code::AliasMoved,
            Blocker::TreeMacro { .. } => Code::TreeMacro,
            Blocker::ImpureIndex { .. } => Code::ImpureIndex,
            Blocker::JumpLeaves { .. } => Code::JumpLeavesWindow,
            Blocker::LabelEnters { .. } => Code::LabelEntersWindow,
            Blocker::Layout(_) => Code::WindowLayout,
            Blocker::ChangesAfterRestore { .. } => Code::ChangesAfterRestore,
            Blocker::RestoreNotOriginal { .. } => Code::RestoreNotOriginal,
            Blocker::SavedValue { .. } => Code::SavedValue,
            Blocker::ChangedBeforeRestore { .. } => Code::ChangedBeforeRestore,
            Blocker::ChangesInLoop { .. } => Code::ChangesInLoop,
            Blocker::IndexVariable { .. } => Code::IndexVariable,
            Blocker::NotOwnVariable { .. } => Code::NotOwnVariable,
            Blocker::ArrayAddressTaken { .. } => Code::ArrayAddressTaken,
            Blocker::SecondName { .. } => Code::SecondName,
            Blocker::ArrayStored { .. } => Code::ArrayStored,
            Blocker::ShapePointerStored { .. } => Code::ShapePointerStored,
            Blocker::RawField { .. } => Code::RawField,
            Blocker::NotPlainVariable => Code::NotPlainVariable,
            Blocker::ReassignedInWindow { .. } => Code::ReassignedInWindow,
            Blocker::ShapeReaderInWindow { .. } => Code::ShapeReaderInWindow,
            Blocker::PassedInWindow { .. } => Code::PassedInWindow,
            Blocker::EscapesInWindow { .. } => Code::EscapesInWindow,
            Blocker::MetadataInWindow { .. } => Code::MetadataInWindow,
            Blocker::ShapePassedInWindow { .. } => Code::ShapePassedInWindow,
            Blocker::ShapePointerInWindow { .. } => Code::ShapePointerInWindow,
            Blocker::ReadAfterRestore { .. } => Code::ReadAfterRestore,
            Blocker::OtherAlias { .. } => Code::OtherAlias,
            Blocker::OtherArray { .. } => Code::OtherArray,
            Blocker::ChangedBeforeWrite { .. } => Code::ChangedBeforeWrite,
            Blocker::AliasCopy { .. } => Code::AliasCopy,
            Blocker::FileMacro { .. } => Code::FileMacro,
            Blocker::HeaderMacro { .. } => Code::HeaderMacro,
            Blocker::OtherName { .. } => Code::OtherNameInWindow,
            Blocker::FileFunction { .. } => Code::FileFunctionReachesGlobal,
            Blocker::IncludeInWindow { .. } => Code::IncludeInWindow,
            Blocker::InLambda { .. } => Code::WriteInLambda,
            Blocker::MayThrow { .. } => Code::MayThrowInWindow,
            Blocker::InDestructor { .. } => Code::RestoreInDestructor,
            Blocker::TemplateToken { .. } => Code::TemplateToken,
            Blocker::LineContinuation { .. } => Code::LineContinuation,
            Blocker::SavedLeftUnused { .. } => Code::SavedLeftUnused,
            Blocker::MayWrite { location: None, .. } => Code::MayWriteFunctionPointer,
            Blocker::MayWrite { .. } => Code::MayWriteUnknownCallee,
            Blocker::Limit(limit) => limit.code(),
        }
    }
}

/// How a change persists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persist {
    NeverRestored {
        kind: Kind,
        at: Pos,
    },
    /// `memcpy`, a callee, a macro: the whole storage (`how` describes it).
    Whole {
        kind: Kind,
        how: String,
        at: Pos,
    },
    /// The last write of the slot stores something else than a saved value.
    NotSaved {
        kind: Kind,
        index: String,
        at: Pos,
    },
}

/// How the window is laid out wrong for a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    NotSameBlock { write: Pos, restore: Pos },
    NotInBlock { write: Pos },
    RestoreInExpression { at: Pos },
    SharesLine { at: Pos },
    SourceNotDirect { at: Pos },
}

/// Why the saved value may not be the slot's original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavedWhy {
    Param,
    Narrow { ty: String },
    NotScalar { decl: Pos },
    AssignedTwice { at: Vec<Pos>, read: Pos },
    ReadLate { read: Pos, write: Pos },
    InExpression { read: Pos },
    OtherBlock { read: Pos, write: Pos },
    LabelSkips { label: Pos, read: Pos },
}

/// What changes before the restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Saved(String),
    Index(String),
    Array,
}

/// Why an index variable may not name the same slot each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexWhy {
    NotPlain { index: String },
    AddressTaken { at: Pos },
}

/// Why a name is not one variable of this function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotOwn {
    FileMacro { def: Pos },
    Nowhere,
    Twice,
    Storage { qualifier: String, at: Pos },
}

/// What happens between the read of the saved value and the first write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Before {
    Passed { callee: String },
    Metadata,
    ShapePassed { callee: Option<String> },
}

/// Why an alias of the shape cannot become the local copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasWhy {
    PointedTwice,
    Assigned { at: Pos },
    Offset { at: Pos },
    DeclarationForm { at: Pos },
    DeclaredWithOthers { at: Pos },
    Changes { at: Pos },
    Escapes { at: Pos },
    InSizeof,
    SeveralAliases { at: Pos },
    AlsoDirect { at: Pos },
    PassedOutside { at: Pos },
    UsedAsPointer { at: Pos },
    ArrayReassigned { at: Pos },
    ArrayUsed { at: Pos },
}

/// Why a macro of the file used in the window blocks the rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroWhy {
    UsesArray,
    Jumps { jump: String },
    UsesHeaderMacro { id: String },
}

/// Where an unknown header macro was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Between the write and the restore.
    Window,
    /// Where the new copy would be in scope.
    CopyScope,
}
