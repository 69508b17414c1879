//! Text checks and names: pure indexes, plain declarators, fresh names for a copy.

use std::collections::HashSet;

use crate::analyze::api::PURE_ACCESSORS;
use crate::analyze::Kind;

/// An index that means the same each time it is evaluated and changes
/// nothing: no calls, no `++`/`--`, no assignment, no conditional.
pub(super) fn pure_index(index: &str) -> bool {
    let index: String = index.split_whitespace().collect();
    let b = index.as_bytes();
    let at = |i: Option<usize>| i.and_then(|i| b.get(i).copied());
    let assigns = index.match_indices('=').any(|(i, _)| {
        let prev = at(i.checked_sub(1));
        let comparison = match prev {
            _ if at(Some(i + 1)) == Some(b'=') => true,
            Some(b'=' | b'!') => true,
            // `<=`, `>=` compare; `<<=`, `>>=` assign.
            Some(c @ (b'<' | b'>')) => at(i.checked_sub(2)) != Some(c),
            _ => false,
        };
        !comparison
    });
    // Compilers take UTF-8 in identifiers: any non-ASCII is part of a name.
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii();
    let calls = index.match_indices('(').any(|(i, _)| {
        // A call follows an identifier; a cast or grouping does not.
        let before = &index[..i];
        let name_start = before
            .char_indices()
            .rev()
            .find(|&(_, c)| !ident(c))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let name = &before[name_start..];
        !name.is_empty() && !PURE_ACCESSORS.contains(&name)
    });
    // Memory other code may change: `x[i]`, `p->f`, `s.f`, `*p`, `&x`.
    let memory = index.contains(['[', '.', '&'])
        || index.contains("->")
        || index.match_indices('*').any(|(i, _)| {
            index[..i]
                .chars()
                .next_back()
                .is_none_or(|c| "(+-*/%,<>=!&|^?:[~".contains(c))
        });
    !(assigns
        || calls
        || memory
        || index.contains("++")
        || index.contains("--")
        || index.contains('?'))
}

/// Whether a declarator declares `name` itself (`n` or `n = ...`), not a
/// pointer, an array or a function.
pub(super) fn plain_declarator(declarator: &str, name: &str) -> bool {
    declarator.split('=').next().unwrap_or_default().trim() == name
}

/// `dims` unless taken, then `X_dims`, `X_dims2`, ... (DESIGN §4). A name
/// is taken when the function spells it anywhere (parameter, local, global
/// or macro it uses), `in_scope` says the file has it (a global, a type, a
/// function, any `#define`: `#define dims 42` anywhere would turn the copy
/// into `npy_intp 42[NPY_MAXDIMS]`), or an earlier copy got it.
pub(super) fn fresh_name(
    kind: Kind,
    array: &str,
    spelled: &str,
    in_scope: impl Fn(&str) -> bool,
    taken: &mut HashSet<String>,
) -> String {
    let base = kind.as_str();
    let free = |n: &String| !taken.contains(n) && !spells_word(spelled, n) && !in_scope(n);
    let chosen = [base.to_string(), format!("{array}_{base}")]
        .into_iter()
        .chain((2..).map(|n| format!("{array}_{base}{n}")))
        .find(free)
        .expect("an unbounded sequence has a free name");
    taken.insert(chosen.clone());
    chosen
}

/// Whether `text` contains `word` as a whole identifier.
fn spells_word(text: &str, word: &str) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = text.as_bytes();
    text.match_indices(word).any(|(i, _)| {
        let end = i + word.len();
        (i == 0 || !ident(bytes[i - 1])) && (end == bytes.len() || !ident(bytes[end]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_indexes() {
        for index in [
            "axis",
            "0",
            "i+1",
            "PyArray_NDIM(a)-1",
            "(int)k",
            "n==0",
            "i<=j",
            "sizeof(x)",
        ] {
            assert!(pure_index(index), "{index}");
        }
        for index in [
            "i++",
            "--i",
            "next()",
            "i=2",
            "i+=1",
            "c?0:1",
            "f(x)+1",
            "ax[0]",
            "o->axis",
            "o.axis",
            "*p",
            "1+ *p",
            "&x-y",
            "i<<=1",
            "i>>=1",
            "my_PyArray_NDIM(a)",
            "foo_sizeof(x)",
            // A call whose name ends in a multi-byte character.
            "PyArray_NDIM\u{fffd}(a)",
            "\u{e9}t\u{e9}(a)",
        ] {
            assert!(!pure_index(index), "{index}");
        }
    }

    #[test]
    fn fresh_names_avoid_every_spelling() {
        let mut taken = HashSet::new();
        let spelled = "int dims; a_dims2(); x";
        let none = |_: &str| false;
        assert_eq!(
            fresh_name(Kind::Dims, "a", spelled, none, &mut taken),
            "a_dims"
        );
        assert_eq!(
            fresh_name(Kind::Dims, "a", spelled, none, &mut taken),
            "a_dims3"
        );
        assert_eq!(
            fresh_name(Kind::Strides, "a", spelled, none, &mut taken),
            "strides"
        );
        let file = |n: &str| n == "strides";
        assert_eq!(
            fresh_name(Kind::Strides, "a", "", file, &mut taken),
            "a_strides"
        );
    }
}
