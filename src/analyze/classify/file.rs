//! The file around the functions: its text, lines, macros and where its code is.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::source::lexical::{self, CodeMap, Define};
use crate::source::scope::FileScope;
use crate::source::{Lang, Masker};

/// What the classifier reads from the file around its functions: the
/// text, and, computed once per file when first needed, its macros and
/// where its comments and strings are.
pub struct FileCx<'a> {
    /// The text as a compiler reads its lines: a line ending in `\r`
    /// alone ends in `\n` here (same length, so every offset holds).
    pub text: Cow<'a, str>,
    /// Where the first line ending in `\r` alone is, if one does.
    pub lone_cr: Option<usize>,
    template: bool,
    /// The file's language (its outline and scope are read accordingly).
    pub lang: Lang,
    macros: OnceLock<FileMacros>,
    code: OnceLock<CodeMap>,
    scope: OnceLock<FileScope>,
}

/// A file's `#define`s, by name.
pub struct FileMacros {
    pub defs: Vec<Define>,
    pub by_name: HashMap<String, usize>,
}

impl<'a> FileCx<'a> {
    pub fn new(text: &'a str) -> Self {
        let lone_cr = crate::span::has_lone_cr(text)
            .then(|| text.find('\r'))
            .flatten();
        let text = match lone_cr {
            None => Cow::Borrowed(text),
            Some(_) => {
                let mut bytes = text.as_bytes().to_vec();
                crate::source::lone_cr_to_lf(&mut bytes);
                Cow::Owned(String::from_utf8(bytes).expect("ASCII replaced ASCII"))
            }
        };
        FileCx {
            template: text.contains("/**begin repeat"),
            lang: Lang::C,
            text,
            lone_cr,
            macros: OnceLock::new(),
            code: OnceLock::new(),
            scope: OnceLock::new(),
        }
    }

    /// The file's macros (those inside comments are not).
    pub fn macros(&self) -> &FileMacros {
        self.macros.get_or_init(|| {
            let code = self.code();
            let defs: Vec<Define> = lexical::defines_in(&self.text)
                .into_iter()
                .filter(|d| code.in_code(d.at))
                .collect();
            let by_name = defs
                .iter()
                .enumerate()
                .map(|(i, d)| (d.name.clone(), i))
                .collect();
            FileMacros { defs, by_name }
        })
    }

    pub fn code(&self) -> &CodeMap {
        self.code.get_or_init(|| CodeMap::new(&self.text))
    }

    /// Whether the file is a NumPy template (`.c.src`): its `@name@`
    /// tokens are masked for parsing.
    pub fn is_template(&self) -> bool {
        self.template
    }

    /// What the file declares outside its functions (read from the whole
    /// text, masked as for parsing with the built-in attribute macros).
    pub fn scope(&self) -> &FileScope {
        self.scope.get_or_init(|| {
            static MASKER: std::sync::LazyLock<Masker> =
                std::sync::LazyLock::new(|| Masker::new(&[]));
            let masked = MASKER.mask(&self.text, self.is_template());
            FileScope::of(std::str::from_utf8(&masked).unwrap_or(""), self.lang)
        })
    }
}

impl FileMacros {
    pub fn get(&self, name: &str) -> Option<&Define> {
        self.by_name.get(name).map(|&i| &self.defs[i])
    }
}
