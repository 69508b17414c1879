//! Preprocessor conditionals whose branches open or close braces or
//! parentheses differently (`#if A` / `if (a) {` / `#else` / `if (b) {` /
//! `#endif`: two `{` for one `}` as tree-sitter reads them). Such a file is
//! read once per *branch configuration*: configuration k keeps one branch
//! of every such conditional and blanks the others, and their directive
//! lines, with spaces (newlines kept, so every offset stays true). The
//! configurations are chosen so that every branch is read at least once
//! (up to [`MAX_CONFIGS`]); conditionals whose branches are balanced are
//! left to tree-sitter, which reads them well.

use std::ops::Range;

use super::outline::{blank, directive, directive_end};
use super::tokens::{Lexer, Tok};

/// At most this many readings of one file; branches beyond are reported
/// as not analysed.
pub const MAX_CONFIGS: usize = 16;

/// One branch of a conditional: its directive line and what follows it
/// up to the next directive of the same conditional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// The directive line (`#if X`, `#else`, ...).
    pub directive: Range<usize>,
    pub body: Range<usize>,
}

/// A conditional that is read per configuration.
#[derive(Debug, Clone)]
struct Group {
    branches: Vec<Branch>,
    /// Every directive line of the conditional, `#endif` included.
    directives: Vec<Range<usize>>,
    /// From the `#if` to the end of the `#endif` line.
    span: Range<usize>,
    /// The nearest conditional read per configuration around it, and
    /// which of its branches holds this one.
    parent: Option<(usize, usize)>,
    /// Whether each branch holds code (not only directives such as
    /// `#error` and comments): only those need reading.
    code: Vec<bool>,
    /// What its `#if` tests, when that is one macro being defined or not
    /// (`#ifdef X`, `#if !defined(X)`): the name, and whether it is negated.
    test: Option<(String, bool)>,
    /// Its second branch is an `#else` with no `#elif` before it.
    plain_else: bool,
}

/// The branch configurations of a file.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    groups: Vec<Group>,
    /// For each configuration, the branch kept of each group; a group's
    /// number of branches for none (an `#ifdef X` without `#else`, in a
    /// configuration where X is not defined).
    configs: Vec<Vec<usize>>,
    /// Branches no configuration within the cap reads.
    pub unread: Vec<Branch>,
}

/// A conditional as lexed, before it is known whether it needs configurations.
struct Open {
    branches: Vec<Branch>,
    directives: Vec<Range<usize>>,
    start: usize,
    /// Brace and parenthesis balance of each branch (nested ones included).
    balance: Vec<(isize, isize)>,
    /// Whether each branch holds a token of code.
    code: Vec<bool>,
}

impl Layout {
    /// The layout of masked text `text`, or `None` when every conditional
    /// is balanced (one reading is enough).
    pub fn of(text: &[u8]) -> Option<Layout> {
        let groups = unbalanced_groups(text);
        if groups.is_empty() {
            return None;
        }
        let mut layout = Layout {
            groups,
            configs: Vec::new(),
            unread: Vec::new(),
        };
        layout.choose_configs();
        Some(layout)
    }

    /// How many readings the file needs.
    pub fn len(&self) -> usize {
        self.configs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.configs.is_empty()
    }

    /// Configuration `k` of `text`: the other branches and every directive
    /// line of the configured conditionals blanked.
    pub fn blank(&self, text: &mut [u8], k: usize) {
        for (g, group) in self.groups.iter().enumerate() {
            for d in &group.directives {
                blank(text, d.start, d.end);
            }
            for (b, branch) in group.branches.iter().enumerate() {
                if b != self.configs[k][g] {
                    blank(text, branch.body.start, branch.body.end);
                }
            }
        }
    }

    /// Whether `range` overlaps a conditional read per configuration (so
    /// it reads differently from one configuration to the next).
    pub fn touches(&self, range: &Range<usize>) -> bool {
        self.groups
            .iter()
            .any(|g| g.span.start < range.end && range.start < g.span.end)
    }

    /// The branches read per configuration that overlap `range`.
    pub fn branches_in<'a>(&'a self, range: &'a Range<usize>) -> impl Iterator<Item = &'a Branch> {
        self.groups
            .iter()
            .flat_map(|g| &g.branches)
            .filter(move |b| b.body.start < range.end && range.start < b.body.end)
    }

    /// The innermost configured branch holding `pos`, if any.
    pub fn branch_at(&self, pos: usize) -> Option<&Branch> {
        self.groups
            .iter()
            .flat_map(|g| &g.branches)
            .filter(|b| b.body.contains(&pos))
            .min_by_key(|b| b.body.len())
    }

    /// Whether group `g` is read in selection `sel`: every configured
    /// conditional around it keeps the branch holding it.
    fn active(&self, sel: &[usize], mut g: usize) -> bool {
        while let Some((p, b)) = self.groups[g].parent {
            if sel[p] != b {
                return false;
            }
            g = p;
        }
        true
    }

    /// Configuration k keeps the k-th branch holding code of each
    /// conditional (its last if it has fewer; a branch of directives only,
    /// as Cython's `#ifndef Py_PYTHON_H` / `#error` / `#else` around a
    /// whole file, needs no reading); then, for each branch still unread
    /// (inside a branch that configuration did not keep), a configuration
    /// that reaches it.
    fn choose_configs(&mut self) {
        let n = self.groups.len();
        let with_code = |g: &Group| -> Vec<usize> {
            let idx: Vec<usize> = (0..g.branches.len()).filter(|&b| g.code[b]).collect();
            if idx.is_empty() {
                (0..g.branches.len()).collect()
            } else {
                idx
            }
        };
        let most = self
            .groups
            .iter()
            .map(|g| with_code(g).len())
            .max()
            .unwrap_or(1);
        let default = |k: usize, groups: &[Group]| -> Vec<usize> {
            groups
                .iter()
                .map(|g| {
                    let idx = with_code(g);
                    idx[k.min(idx.len() - 1)]
                })
                .collect()
        };
        for k in 0..most.min(MAX_CONFIGS) {
            let mut sel = default(k, &self.groups);
            self.agree(&mut sel);
            self.configs.push(sel);
        }
        let mut read = vec![Vec::new(); n];
        for (g, group) in self.groups.iter().enumerate() {
            let any_code = group.code.iter().any(|&c| c);
            read[g] = group.code.iter().map(|&c| any_code && !c).collect();
        }
        let mark = |layout: &Layout, sel: &[usize], read: &mut Vec<Vec<bool>>| {
            for g in 0..n {
                if layout.active(sel, g) && sel[g] < read[g].len() {
                    read[g][sel[g]] = true;
                }
            }
        };
        for sel in &self.configs {
            mark(self, sel, &mut read);
        }
        for g in 0..n {
            for b in 0..self.groups[g].branches.len() {
                if read[g][b] {
                    continue;
                }
                if self.configs.len() >= MAX_CONFIGS {
                    self.unread.push(self.groups[g].branches[b].clone());
                    continue;
                }
                let mut sel = default(b, &self.groups);
                sel[g] = b;
                let mut cur = g;
                while let Some((p, pb)) = self.groups[cur].parent {
                    sel[p] = pb;
                    cur = p;
                }
                self.agree(&mut sel);
                mark(self, &sel, &mut read);
                self.configs.push(sel);
            }
        }
    }
}

impl Layout {
    /// Make conditionals that test the same macro agree in `sel`: the
    /// first one decides whether the macro is defined, and a later one
    /// keeps the branch that holds then (none, for an `#ifdef X` without
    /// `#else` where X is not defined). Cython opens a namespace in one
    /// `#ifdef __cplusplus` and closes it in another: read apart, one
    /// configuration would hold a `{` without its `}`.
    fn agree(&self, sel: &mut [usize]) {
        let mut decided: Vec<(&str, bool)> = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            let Some((name, negated)) = &group.test else {
                continue;
            };
            // Whether the test holds in this selection, if it says.
            let holds = match sel[g] {
                0 => Some(true),
                1 if group.plain_else => Some(false),
                b if b == group.branches.len() => Some(false),
                _ => None,
            };
            match decided.iter().find(|(n, _)| n == name) {
                Some(&(_, defined)) => {
                    let holds = defined != *negated;
                    // Not holding: the `#else`, or none (index 1 either
                    // way); after an `#elif`, the default stays.
                    sel[g] = match (holds, group.branches.len(), group.plain_else) {
                        (true, _, _) => 0,
                        (false, 1, _) | (false, 2, true) => 1,
                        (false, _, _) => sel[g],
                    };
                }
                None => {
                    if let Some(h) = holds {
                        decided.push((name, h != *negated));
                    }
                }
            }
        }
    }
}

/// What an `#if` line tests when it is one macro being defined or not:
/// `#ifdef X`, `#ifndef X`, `#if defined(X)`, `#if !defined X`.
fn defined_test(line: &[u8]) -> Option<(String, bool)> {
    let s = std::str::from_utf8(line)
        .ok()?
        .trim_start_matches('#')
        .trim();
    let word = |t: &str| {
        let t = t.trim();
        let ok = !t.is_empty() && t.bytes().all(crate::source::tokens::is_ident);
        ok.then(|| t.to_string())
    };
    if let Some(rest) = s.strip_prefix("ifdef") {
        return word(rest).map(|n| (n, false));
    }
    if let Some(rest) = s.strip_prefix("ifndef") {
        return word(rest).map(|n| (n, true));
    }
    let cond = s.strip_prefix("if")?.trim();
    let (negated, cond) = match cond.strip_prefix('!') {
        Some(c) => (true, c.trim()),
        None => (false, cond),
    };
    let inner = cond.strip_prefix("defined")?.trim();
    let inner = match inner.strip_prefix('(') {
        Some(i) => i.strip_suffix(')')?,
        None => inner,
    };
    word(inner).map(|n| (n, negated))
}

/// The conditionals with a branch whose braces or parentheses do not
/// balance, with their nesting among themselves.
fn unbalanced_groups(text: &[u8]) -> Vec<Group> {
    let mut done: Vec<(Open, Range<usize>)> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut at_line_start = true;
    let mut lexer = Lexer::new(text);
    while let Some(tok) = lexer.next() {
        match tok.kind {
            Tok::Newline => {
                at_line_start = true;
                continue;
            }
            Tok::Space | Tok::LineComment | Tok::BlockComment { .. } => continue,
            Tok::Punct(b'#') if at_line_start => {
                let end = directive_end(text, tok.start);
                let line = tok.start..end;
                match directive(&text[tok.start + 1..end]) {
                    "if" | "ifdef" | "ifndef" => open.push(Open {
                        branches: vec![Branch {
                            directive: line.clone(),
                            body: end..end,
                        }],
                        directives: vec![line],
                        start: tok.start,
                        balance: vec![(0, 0)],
                        code: vec![false],
                    }),
                    "elif" | "else" | "elifdef" | "elifndef" => {
                        if let Some(o) = open.last_mut() {
                            close_branch(o, tok.start);
                            o.branches.push(Branch {
                                directive: line.clone(),
                                body: end..end,
                            });
                            o.directives.push(line);
                            o.balance.push((0, 0));
                            o.code.push(false);
                        }
                    }
                    "endif" => {
                        if let Some(mut o) = open.pop() {
                            close_branch(&mut o, tok.start);
                            o.directives.push(line.clone());
                            let span = o.start..end;
                            done.push((o, span));
                        }
                    }
                    _ => {}
                }
                lexer.seek(end);
                continue;
            }
            Tok::Punct(c @ (b'{' | b'}' | b'(' | b')')) => {
                let (db, dp) = match c {
                    b'{' => (1, 0),
                    b'}' => (-1, 0),
                    b'(' => (0, 1),
                    _ => (0, -1),
                };
                for o in &mut open {
                    let last = o.balance.last_mut().expect("a branch is open");
                    last.0 += db;
                    last.1 += dp;
                }
            }
            _ => {}
        }
        at_line_start = false;
        for o in &mut open {
            if let Some(c) = o.code.last_mut() {
                *c = true;
            }
        }
    }
    // Unterminated conditionals are left to tree-sitter.
    done.sort_by_key(|(_, span)| span.start);
    let keep: Vec<(Open, Range<usize>)> = done
        .into_iter()
        .filter(|(o, _)| o.balance.iter().any(|&(b, p)| b != 0 || p != 0))
        .collect();
    // Nesting among the kept ones: the innermost kept branch around each.
    let branch_spans: Vec<Vec<Range<usize>>> = keep
        .iter()
        .map(|(o, _)| o.branches.iter().map(|b| b.body.clone()).collect())
        .collect();
    keep.iter()
        .enumerate()
        .map(|(i, (o, span))| {
            let parent = (0..i).rev().find_map(|p| {
                branch_spans[p]
                    .iter()
                    .position(|b| b.start <= span.start && span.end <= b.end)
                    .map(|b| (p, b))
            });
            let first = &o.branches[0].directive;
            let plain_else = o.branches.get(1).is_some_and(|b| {
                o.branches.len() == 2
                    && directive(&text[b.directive.start + 1..b.directive.end]) == "else"
            });
            Group {
                branches: o.branches.clone(),
                directives: o.directives.clone(),
                span: span.clone(),
                parent,
                code: o.code.clone(),
                test: defined_test(&text[first.start..first.end]),
                plain_else,
            }
        })
        .collect()
}

/// End the current branch's body where the next directive starts.
fn close_branch(o: &mut Open, at: usize) {
    if let Some(b) = o.branches.last_mut() {
        b.body.end = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configs(src: &str) -> Vec<String> {
        let Some(layout) = Layout::of(src.as_bytes()) else {
            return vec![src.to_string()];
        };
        (0..layout.len())
            .map(|k| {
                let mut t = src.as_bytes().to_vec();
                layout.blank(&mut t, k);
                String::from_utf8(t).unwrap()
            })
            .collect()
    }

    #[test]
    fn balanced_conditionals_need_one_reading() {
        let src = "int f(void)\n{\n#ifdef A\n    a();\n#else\n    b();\n#endif\n}\n";
        assert_eq!(configs(src), [src]);
    }

    #[test]
    fn each_branch_that_opens_a_block_is_read_alone() {
        let src = "int f(int r)\n{\n#if A\n    if (a) {\n#else\n    if (b) {\n#endif\n        r = 1;\n    }\n    return r;\n}\n";
        let c = configs(src);
        assert_eq!(c.len(), 2);
        assert!(c[0].contains("if (a) {") && !c[0].contains("if (b)") && !c[0].contains('#'));
        assert!(c[1].contains("if (b) {") && !c[1].contains("if (a)"));
        assert!(c
            .iter()
            .all(|t| t.len() == src.len() && t.lines().count() == src.lines().count()));
    }

    #[test]
    fn nested_branches_are_all_read() {
        // As NumPy's PyArray_Resize_int: #ifdef / #else { #if / #else } #endif.
        let src = "int f(void)\n{\n    if (x) {\n#ifdef P\n        return -1;\n#else\n#if V\n        if (u) {\n            if (w) { return 1; }\n#else\n        if (v) {\n#endif\n            return -2;\n        }\n#endif\n    }\n    return 0;\n}\n";
        let c = configs(src);
        assert_eq!(c.len(), 3);
        assert!(c
            .iter()
            .any(|t| t.contains("return -1;") && !t.contains("if (u)")));
        assert!(c
            .iter()
            .any(|t| t.contains("if (u)") && !t.contains("if (v)")));
        assert!(c
            .iter()
            .any(|t| t.contains("if (v)") && !t.contains("if (u)")));
    }

    #[test]
    fn a_whole_file_wrapper_is_not_read_per_branch() {
        // As Cython's output: `#ifndef Py_PYTHON_H` / `#error` / `#else`
        // around the whole file, an unbalanced conditional inside.
        let src = "#ifndef Py_PYTHON_H\n#error no\n#else\nint f(int r)\n{\n#if A\n    if (a) {\n#else\n    if (b) {\n#endif\n        r = 1;\n    }\n    return r;\n}\n#endif\n";
        let c = configs(src);
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|t| t.contains("int f(int r)")));
        assert!(c[0].contains("if (a) {") && c[1].contains("if (b) {"));
    }

    #[test]
    fn conditionals_on_the_same_macro_agree() {
        // As Cython's module definition: a namespace opened under one
        // `#ifdef __cplusplus` and closed under another, with no `#else`.
        let src = "#ifdef __cplusplus\nnamespace {\n  int d =\n#else\n  static int d =\n#endif\n  0;\n#ifdef __cplusplus\n}\n#endif\nint f(void)\n{\n    return d;\n}\n";
        let c = configs(src);
        assert_eq!(c.len(), 2);
        for t in &c {
            assert_eq!(t.matches('{').count(), t.matches('}').count(), "{t}");
        }
        assert!(c[0].contains("namespace {") && c[1].contains("static int d"));
        assert!(!c[1].contains("namespace"));
        let neg = "#if !defined(CPP)\nint g(void) {\n#else\nint g(int a) {\n#endif\n  return 0;\n}\n#ifndef CPP\nint h(void) {\n#else\nint h(int b) {\n#endif\n  return 1;\n}\n";
        for t in configs(neg) {
            assert_eq!(t.contains("g(void)"), t.contains("h(void)"), "{t}");
        }
    }

    #[test]
    fn the_branch_holding_a_position_is_found() {
        let src = "#if A\nint f(int a) {\n#else\nint f(long a) {\n#endif\n    return 0;\n}\n";
        let layout = Layout::of(src.as_bytes()).unwrap();
        let at = src.find("long").unwrap();
        let b = layout.branch_at(at).unwrap();
        assert_eq!(&src[b.directive.clone()], "#else");
        assert!(layout.branch_at(src.find("return").unwrap()).is_none());
        assert!(layout.touches(&(0..4)));
    }
}
