//! The array's other names (issue 17): every expression that may denote
//! the same object, computed from the function's assignments and stores,
//! its parameters and the file's globals; none may be used in the window,
//! nor a function of the file that reaches such a global.

use std::collections::HashMap;

use crate::analyze::api::c_constant;
use crate::analyze::classify::ArrayCx;
use crate::analyze::facts::{Declared, Store, VarMod};
use crate::analyze::reason::{Blocker, NameWhy};
use crate::analyze::Span;
use crate::source::lexical;
use crate::source::scope::object_type;

use super::hidden::{is_field_name, Directives};

impl<'a> ArrayCx<'a> {
    /// Step: the names that may denote the array, with why. From the array
    /// variable, both ways along assignments (what it was assigned from,
    /// through containers and calls that may return an argument; what was
    /// assigned from it) and stores (what holds it), each variable once;
    /// and every other parameter and global that may hold an object. Only
    /// variables whose type may hold an object count.
    pub(super) fn other_names(&self) -> HashMap<String, NameWhy> {
        let f = self.f;
        let mut mods_of: HashMap<&str, Vec<&VarMod>> = HashMap::new();
        let mut mods_from: HashMap<&str, Vec<&VarMod>> = HashMap::new();
        for m in &f.var_mods {
            mods_of.entry(m.name.as_str()).or_default().push(m);
            for s in &m.sources {
                mods_from.entry(s.as_str()).or_default().push(m);
            }
        }
        let mut stores_from: HashMap<&str, Vec<&Store>> = HashMap::new();
        for st in &f.stores {
            for s in &st.from {
                stores_from.entry(s.as_str()).or_default().push(st);
            }
        }
        let mut names: HashMap<String, NameWhy> = HashMap::new();
        let mut todo: Vec<String> = vec![self.array.to_string()];
        let mut add = |name: &str, why: NameWhy, todo: &mut Vec<String>| {
            if name != self.array && !names.contains_key(name) && self.may_hold_object(name) {
                names.insert(name.to_string(), why);
                todo.push(name.to_string());
            }
        };
        // What the array itself is linked to first, then what any other
        // parameter or global (which may be the array) is linked to.
        let mut extra: Vec<(String, NameWhy)> = f
            .params
            .iter()
            .map(|p| (p.name.clone(), NameWhy::Param))
            .collect();
        let mut globals: Vec<(&String, &usize)> = self.file.scope().object_globals.iter().collect();
        globals.sort();
        extra.extend(
            globals
                .into_iter()
                .filter(|(g, _)| matches!(f.declared(g), Declared::Nowhere))
                .map(|(g, &at)| (g.clone(), NameWhy::Global { at })),
        );
        extra.reverse();
        loop {
            let Some(n) = todo.pop() else {
                match extra.pop() {
                    Some((name, why)) => {
                        add(&name, why, &mut todo);
                        continue;
                    }
                    None => break,
                }
            };
            for m in mods_of.get(n.as_str()).into_iter().flatten() {
                for s in &m.sources {
                    let why = NameWhy::Source {
                        of: n.clone(),
                        at: m.span.start,
                    };
                    add(s, why, &mut todo);
                }
            }
            for m in mods_from.get(n.as_str()).into_iter().flatten() {
                let why = NameWhy::Copy {
                    from: n.clone(),
                    at: m.span.start,
                };
                add(&m.name, why, &mut todo);
            }
            for st in stores_from.get(n.as_str()).into_iter().flatten() {
                let why = NameWhy::Holds { at: st.span.start };
                add(&st.into, why, &mut todo);
            }
        }
        names
    }

    /// Whether a variable's type may hold an object (or a container of
    /// one). A name declared nowhere the file can see (a global of a
    /// header, say) may, unless it looks like a constant or the API's.
    fn may_hold_object(&self, name: &str) -> bool {
        let scope = self.file.scope();
        let words = |t: &str| -> Vec<String> {
            lexical::identifiers(t)
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        let typed = |type_text: &str, pointer: bool| {
            let w = words(type_text);
            let w: Vec<&str> = w.iter().map(String::as_str).collect();
            object_type(&w, pointer, &scope.object_types)
        };
        match self.f.declared(name) {
            Declared::Param => self
                .f
                .params
                .iter()
                .find(|p| p.name == name)
                .is_some_and(|p| typed(&p.type_text, p.type_text.contains(['*', '[']))),
            Declared::Local(d) | Declared::Shared(d) => {
                let declarator = &self.text[d.declarator.range()];
                let before = declarator.split('=').next().unwrap_or_default();
                typed(&d.type_text, before.contains(['*', '[']))
            }
            Declared::Twice => true,
            Declared::Nowhere if scope.object_globals.contains_key(name) => true,
            Declared::Nowhere if scope.names.contains(name) => false,
            Declared::Nowhere => {
                let upper = name.bytes().all(|b| !b.is_ascii_lowercase());
                !(upper || c_constant(name) || super::hidden::api_name(name))
            }
        }
    }

    /// Whether the identifier `id` at `at` is the variable an assignment or
    /// a declaration gives a value to (which reaches nothing).
    fn assigned_at(&self, id: &str, at: usize) -> bool {
        let leads = |start: usize| {
            start <= at
                && self.text[start..at]
                    .chars()
                    .all(|c| c == '*' || c == '(' || c.is_whitespace())
        };
        // `v = ...`, `T *v = ...`; and the memory a store writes through
        // (`*out = r`, `ops[0] = r`, `ctx->arr = r`), which reads nothing
        // of the object it may hold.
        self.f
            .var_mods
            .iter()
            .any(|m| m.name == id && m.span.contains(Span::new(at, at)) && leads(m.span.start))
            || self
                .f
                .stores
                .iter()
                .any(|st| st.into == id && st.span.start <= at && leads(st.span.start))
    }

    /// Step: no other name of the array is used in the window, and no
    /// function of the file that reaches a global which may hold it is
    /// called there.
    pub(super) fn check_other_names(&self, win: Span) -> Result<(), Blocker> {
        let names = self.other_names();
        let reaching = &self.file.scope().reaching;
        let code = &self.text[win.range()];
        let directives = Directives::in_span(self.text, win);
        for (at, id) in lexical::identifiers_at(code) {
            let at = win.start + at;
            if directives.contains(at) || is_field_name(self.text, at) || self.assigned_at(id, at) {
                continue;
            }
            if let Some(why) = names.get(id) {
                return Err(Blocker::OtherName {
                    name: id.to_string(),
                    why: why.clone(),
                    at,
                });
            }
            let called = self.text[at + id.len()..].trim_start().starts_with('(');
            if let (true, Some(reach)) = (called, reaching.get(id)) {
                return Err(Blocker::FileFunction {
                    callee: id.to_string(),
                    global: reach.global.clone(),
                    through: reach.through.clone(),
                    at,
                });
            }
        }
        Ok(())
    }
}
