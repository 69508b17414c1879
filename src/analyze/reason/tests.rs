//! Every variant has its own code, and every code a page.
use super::*;
use std::collections::BTreeSet;

/// One value of every blocker variant.
fn blockers() -> Vec<Blocker> {
    let s = String::new;
    let mut list = vec![
        Blocker::Persists(Persist::NeverRestored {
            kind: Kind::Dims,
            at: 0,
        }),
        Blocker::RestoreSkipped {
            kind: Kind::Descr,
            jump: "`return`",
            at: 0,
            restore: 0,
            view: None,
        },
        Blocker::MetaSwap {
            kind: Kind::Flags,
            restore: 0,
            saved: s(),
            view: None,
        },
        Blocker::MetaSetAgain {
            kind: Kind::Nd,
            at: 0,
            value: s(),
        },
        Blocker::ReplacesPointer { at: 0 },
        Blocker::AliasMoved { at: 0 },
        Blocker::TreeMacro {
            name: s(),
            location: None,
        },
        Blocker::ImpureIndex { index: s(), at: 0 },
        Blocker::JumpLeaves {
            jump: "`return`",
            at: 0,
            restore: 0,
        },
        Blocker::LabelEnters { at: 0, restore: 0 },
        Blocker::Layout(Layout::NotInBlock { write: 0 }),
        Blocker::ChangesAfterRestore { at: 0, restore: 0 },
        Blocker::RestoreNotOriginal {
            saved: s(),
            index: s(),
            restore: 0,
            write: 0,
        },
        Blocker::SavedValue {
            saved: s(),
            why: SavedWhy::Param,
        },
        Blocker::ChangedBeforeRestore {
            what: Changed::Array,
            at: 0,
            restore: 0,
        },
        Blocker::ChangesInLoop {
            name: s(),
            at: 0,
            window: 0,
        },
        Blocker::IndexVariable {
            var: s(),
            why: IndexWhy::AddressTaken { at: 0 },
        },
        Blocker::NotOwnVariable {
            name: s(),
            why: NotOwn::Twice,
            index: None,
        },
        Blocker::ArrayAddressTaken { at: 0 },
        Blocker::SecondName { name: s(), at: 0 },
        Blocker::ArrayStored { at: 0 },
        Blocker::ShapePointerStored {
            at: 0,
            address: false,
        },
        Blocker::RawField {
            field: "dimensions",
            at: 0,
        },
        Blocker::NotPlainVariable,
        Blocker::ReassignedInWindow { at: 0 },
        Blocker::ShapeReaderInWindow { name: s(), at: 0 },
        Blocker::PassedInWindow { callee: s(), at: 0 },
        Blocker::EscapesInWindow { at: 0 },
        Blocker::MetadataInWindow { at: 0 },
        Blocker::ShapePassedInWindow {
            callee: None,
            at: 0,
        },
        Blocker::ShapePointerInWindow { kept: true, at: 0 },
        Blocker::ReadAfterRestore { at: 0, restore: 0 },
    ];
    list.extend(name_blockers());
    list
}

/// One value of every blocker about other names and macros.
fn name_blockers() -> Vec<Blocker> {
    let s = String::new;
    vec![
        Blocker::OtherAlias { name: s(), at: 0 },
        Blocker::OtherArray {
            other: s(),
            at: 0,
            written_after: None,
        },
        Blocker::ChangedBeforeWrite {
            what: Before::Metadata,
            at: 0,
            read: 0,
        },
        Blocker::AliasCopy {
            name: s(),
            why: AliasWhy::InSizeof,
        },
        Blocker::FileMacro {
            name: s(),
            def: 0,
            why: MacroWhy::UsesArray,
        },
        Blocker::HeaderMacro {
            id: s(),
            at: 0,
            place: Place::Window,
            returns: false,
        },
        Blocker::OtherName {
            name: s(),
            why: NameWhy::Param,
            at: 0,
        },
        Blocker::FileFunction {
            callee: s(),
            global: s(),
            through: s(),
            at: 0,
        },
        Blocker::IncludeInWindow { at: 0 },
        Blocker::InLambda { at: 0 },
        Blocker::MayThrow {
            callee: s(),
            at: 0,
            restore: 0,
        },
        Blocker::InDestructor {
            object: s(),
            declared: 0,
            at: 0,
        },
        Blocker::TemplateToken { token: s(), at: 0 },
        Blocker::LineContinuation { at: 0 },
        Blocker::SavedLeftUnused { saved: s(), at: 0 },
        Blocker::MayWrite {
            callee: s(),
            location: Some(s()),
        },
        Blocker::MayWrite {
            callee: s(),
            location: None,
        },
    ]
}

/// One value of every kind of reason that carries a code of its own.
/// A new variant must be added here: the test checks that the codes
/// are unique and that every rule is some variant's.
fn samples() -> Vec<Code> {
    let s = String::new;
    let mut codes: Vec<Code> = blockers().iter().map(Blocker::code).collect();
    codes.extend(
        [
            Evidence::AssignsField { field: s(), at: 0 },
            Evidence::SetsFlags { how: s(), at: 0 },
            Evidence::FreesShape { how: s(), at: 0 },
        ]
        .iter()
        .map(Evidence::code),
    );
    codes.extend(
        [
            Limit::Unparsed { at: 0 },
            Limit::ParseError { at: 0 },
            Limit::InComment {
                at: 0,
                window: false,
            },
            Limit::KnR { at: 0 },
            Limit::LoneCr { at: 0 },
            Limit::NotAnalysed {
                what: Hazard::Graph { spelled: s() },
                at: 0,
            },
            Limit::NotAnalysed {
                what: Hazard::MacroBrace { name: s() },
                at: 0,
            },
            Limit::NotAnalysed {
                what: Hazard::Unterminated,
                at: 0,
            },
            Limit::PerBranch { at: 0 },
            Limit::OutsideFunction { at: 0, name: s() },
            Limit::InMacro {
                at: 0,
                name: s(),
                macro_name: s(),
            },
            Limit::Unrecognised {
                at: 0,
                name: s(),
                error: None,
            },
            Limit::TooDeep { at: 0, limit: 1 },
            Limit::BranchNotRead { at: 0, name: s() },
        ]
        .iter()
        .map(Limit::code),
    );
    let shared = Shared::Param;
    codes.extend(
        [
            Reason::Fresh {
                alloc: 0,
                callee: s(),
                location: None,
            },
            Reason::Fresh {
                alloc: 0,
                callee: s(),
                location: Some(s()),
            },
            Reason::TemporaryWrite {
                restore: 0,
                saved: s(),
                read: 0,
            },
            Reason::Restore {
                saved: s(),
                read: 0,
                source: s(),
            },
            Reason::TemporaryChange {
                kinds: vec![Kind::Dims],
                restores: vec![0],
                shared,
            },
            Reason::FreshInCallers {
                function: s(),
                linkage: s(),
                callers: Vec::new(),
                api: None,
            },
        ]
        .iter()
        .map(Reason::code),
    );
    codes
}

#[test]
fn every_variant_has_its_own_code_and_every_code_a_page() {
    let codes = samples();
    let unique: BTreeSet<Code> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len(), "two variants share a code");
    let ruled: BTreeSet<Code> = RULES.iter().map(|r| r.code).collect();
    assert_eq!(
        unique, ruled,
        "a rule no variant uses, or a variant without a rule"
    );
    for code in unique {
        assert_eq!(rule(code.id()).map(|r| r.code), Some(code));
    }
}
