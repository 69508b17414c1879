//! Summaries of the tree's own functions and macros: which parameters they
//! write through or assign, which metadata they replace, and whether they
//! return a new array — one level deep (DESIGN §2, §3) — and their
//! application to call sites.

use std::collections::HashMap;

use super::api::is_allocator;
use super::facts::{
    self, ArrayId, Facts, Giver, Givers, How, ShapeRef, Sources, Target, UseKind, Via, Write,
};
use super::Kind;
use crate::analyze::syntax::KindName;
use crate::source::lexical::Define;
use crate::source::parse_c;

/// What a function of the tree does to its parameters.
#[derive(Debug, Clone, Default)]
pub struct FnSummary {
    /// `file:line` of the definition.
    pub location: String,
    /// Parameters (by position) written through.
    pub writes: Vec<usize>,
    /// Parameters whose ndarray metadata fields are assigned.
    pub meta: Vec<(usize, String)>,
    /// The allocator when every return is a new array (or NULL).
    pub fresh: Option<String>,
    /// It hands out a parameter's shape storage (an accessor).
    pub gives: Option<Giver>,
}

/// What a function-like macro of the tree does to its arguments.
#[derive(Debug, Clone, Default)]
pub struct MacroSummary {
    pub location: String,
    /// Arguments (by position) the body assigns (`(a) = (b)`).
    pub assigns: Vec<usize>,
    /// Arguments the body writes through (`(p)[0] = v`).
    pub writes: Vec<usize>,
    /// An argument whose shape the body writes (`PyArray_DIMS(a)[i] = v`).
    pub writes_shape: Option<(usize, Kind)>,
    /// Arguments whose ndarray metadata fields the body assigns.
    pub meta: Vec<(usize, String)>,
}

/// Summaries of the scanned tree, by name.
#[derive(Debug, Clone, Default)]
pub struct Summaries {
    pub functions: HashMap<String, FnSummary>,
    pub macros: HashMap<String, MacroSummary>,
    /// Accessors of the tree (functions and macros), found before the
    /// functions that use them are analysed.
    pub givers: Givers,
    /// Functions the tree declares but does not define, given shape
    /// storage somewhere.
    pub prototypes: HashMap<String, Prototype>,
    /// The C library's `mem*` and reallocation functions ([`MEM_FNS`]) some
    /// file of the tree redefines as macros: a call of one is a call of
    /// that macro (and not a copy to the write filter).
    ///
    /// [`MEM_FNS`]: super::api::MEM_FNS
    pub mem_redefined: Vec<&'static str>,
}

/// A function declared in the tree (a prototype) whose body is not there.
#[derive(Debug, Clone, Default)]
pub struct Prototype {
    /// `file:line` of the declaration.
    pub location: String,
    /// The declaration's text (to tell which parameters are `const`).
    pub text: String,
}

impl Prototype {
    /// Whether the function may write through parameter `index`.
    pub fn may_write(&self, index: usize) -> bool {
        crate::source::lexical::writable_param(self.text.as_bytes(), index)
    }
}

/// The summary of function `name` defined by the expansion of a macro of
/// the tree (`MEDIAN_FILTER_2D(d_medfilt2, double, d_quick_select)`):
/// `Some` with what it does (possibly nothing) when the expansion defines
/// it, `None` when it does not parse as its definition.
pub fn expanded_function(
    expansion: &str,
    name: &str,
    location: String,
    sources: Sources,
) -> Option<Option<FnSummary>> {
    let tree = parse_c(expansion.as_bytes());
    let func = super::syntax::in_lang(crate::source::Lang::C, || {
        super::syntax::Preorder::new(tree.root_node()).find(|n| {
            n.kind_name() == "function_definition"
                && n.child_by_field_id(super::syntax::F.declarator)
                    .and_then(facts::find_function_declarator)
                    .and_then(|d| d.child_by_field_id(super::syntax::F.declarator))
                    .and_then(super::syntax::declarator_name)
                    .is_some_and(|id| super::syntax::text(id, expansion.as_bytes()) == name)
        })
    })?;
    let f = facts::collect(func, expansion.as_bytes(), sources);
    Some(FnSummary::of(&f, location))
}

impl FnSummary {
    /// The summary of a function from its facts; `None` when it does
    /// nothing a caller needs to know.
    pub fn of(f: &Facts, location: String) -> Option<FnSummary> {
        let param_index = |name: &str| f.params.iter().find(|p| p.name == name).map(|p| p.index);
        let mut writes: Vec<usize> = f
            .writes
            .iter()
            .filter(|w| w.shape.param)
            .filter_map(|w| param_index(&w.shape.array))
            .collect();
        writes.sort_unstable();
        writes.dedup();
        let meta = meta_of(f, |name| param_index(name));
        let fresh = fresh_return(f);
        let gives = giver_of(f, &location);
        let any = !writes.is_empty() || !meta.is_empty() || fresh.is_some() || gives.is_some();
        any.then_some(FnSummary {
            location,
            writes,
            meta,
            fresh,
            gives,
        })
    }
}

/// A function that hands out a parameter's shape storage: every `return`
/// gives it (or NULL) — Cython 3's `__pyx_f_5numpy_7ndarray_5shape_shape`
/// — or it stores it through a pointer parameter (`*out = PyArray_DIMS(self)`).
fn giver_of(f: &Facts, location: &str) -> Option<Giver> {
    let param_index = |name: &str| f.params.iter().find(|p| p.name == name).map(|p| p.index);
    let of_param = |s: &ShapeRef| {
        (!s.param && s.offset.is_none())
            .then(|| param_index(&s.array))
            .flatten()
    };
    let mut returns = None;
    for r in &f.returns {
        if r.value.as_ref().is_some_and(|v| v.is_null) {
            continue;
        }
        let s = r.shape.as_ref()?;
        let given = (of_param(s)?, s.kind);
        if returns.is_some_and(|r| r != given) {
            return None;
        }
        returns = Some(given);
    }
    if let Some((param, kind)) = returns {
        return Some(Giver::Returns {
            param: Some(param),
            array: None,
            kind,
            typed: false,
            location: location.to_string(),
        });
    }
    f.out_stores.iter().find_map(|(out, s)| {
        Some(Giver::OutParam {
            out: param_index(out)?,
            param: of_param(s)?,
            kind: s.kind,
            location: location.to_string(),
        })
    })
}

fn meta_of(f: &Facts, index: impl Fn(&str) -> Option<usize>) -> Vec<(usize, String)> {
    let mut meta: Vec<(usize, String)> = f
        .uses
        .iter()
        .filter_map(|u| match &u.kind {
            UseKind::MetaWrite(field) => Some((index(&u.array)?, field.clone())),
            _ => None,
        })
        .collect();
    meta.sort();
    meta.dedup();
    meta
}

/// The allocator when every `return` gives NULL, an allocator's result, or
/// a variable only ever assigned those.
fn fresh_return(f: &Facts) -> Option<String> {
    let mut alloc = None;
    for ret in &f.returns {
        let value = ret.value.as_ref()?;
        if value.is_null {
            continue;
        }
        if let Some(call) = &value.call {
            if !is_allocator(call) {
                return None;
            }
            alloc = Some(call.clone());
            continue;
        }
        let name = value.ident.as_ref()?;
        // A local of this call (not static), never handed to other code
        // nor copied elsewhere before it is returned.
        if !matches!(f.declared(name), facts::Declared::Local(_)) {
            return None;
        }
        let published = f.uses.iter().any(|u| {
            &u.array == name
                && matches!(
                    u.kind,
                    UseKind::Passed { .. }
                        | UseKind::Store
                        | UseKind::CtorLink { .. }
                        | UseKind::AddressOf
                )
        });
        let copied = f
            .var_mods
            .iter()
            .any(|m| &m.name != name && m.from.contains(name));
        if published || copied {
            return None;
        }
        let mut assigned = false;
        for m in f.var_mods.iter().filter(|m| &m.name == name) {
            match &m.value {
                Some(v) if v.is_null => {}
                Some(v) if v.call.as_deref().is_some_and(is_allocator) => {
                    alloc = v.call.clone();
                    assigned = true;
                }
                _ => return None,
            }
        }
        if !assigned {
            return None;
        }
    }
    alloc
}

impl MacroSummary {
    /// Parse a macro body as the body of a function whose parameters are the
    /// macro's, and summarise what it does to them.
    pub fn of(m: &Define, location: String, sources: Sources) -> Option<MacroSummary> {
        let names = m.params.as_deref().unwrap_or_default();
        let params: Vec<String> = names.iter().map(|p| format!("void *{p}")).collect();
        let snippet = format!(
            "void dims_fix_macro__({}) {{\n{}\n;}}\n",
            params.join(", "),
            m.body
        );
        let tree = parse_c(snippet.as_bytes());
        let func = super::syntax::first_named(tree.root_node())
            .filter(|n| n.kind_name() == "function_definition")?;
        let f = facts::collect(func, snippet.as_bytes(), sources);
        let index = |name: &str| names.iter().position(|p| p == name);
        let mut assigns: Vec<usize> = f.var_mods.iter().filter_map(|v| index(&v.name)).collect();
        assigns.sort_unstable();
        assigns.dedup();
        let mut writes: Vec<usize> = f
            .writes
            .iter()
            .filter(|w| w.shape.param)
            .filter_map(|w| index(&w.shape.array))
            .collect();
        writes.sort_unstable();
        writes.dedup();
        let writes_shape = f
            .writes
            .iter()
            .filter(|w| !w.shape.param)
            .find_map(|w| Some((index(&w.shape.array)?, w.shape.kind)));
        let meta = meta_of(&f, index);
        let any =
            !assigns.is_empty() || !writes.is_empty() || writes_shape.is_some() || !meta.is_empty();
        any.then_some(MacroSummary {
            location,
            assigns,
            writes,
            writes_shape,
            meta,
        })
    }
}

/// A macro whose value is a shape source: of one of its arguments
/// (`#define MY_DIMS(a) (((PyArrayObject_fields *)(a))->dimensions)`), or,
/// object-like, of the array it names. The body is parsed as the value
/// returned by a function whose parameters (`PyArrayObject *`) are the
/// macro's.
pub fn macro_giver(m: &Define, location: String, sources: Sources) -> Option<Giver> {
    let names = m.params.as_deref().unwrap_or_default();
    let params: Vec<String> = names
        .iter()
        .map(|p| format!("PyArrayObject *{p}"))
        .collect();
    let snippet = format!(
        "void *dims_fix_macro__({}) {{\nreturn ({});\n}}\n",
        if params.is_empty() {
            "void".to_string()
        } else {
            params.join(", ")
        },
        m.body
    );
    let tree = parse_c(snippet.as_bytes());
    let func = super::syntax::first_named(tree.root_node())
        .filter(|n| n.kind_name() == "function_definition" && !n.has_error())?;
    let f = facts::collect(func, snippet.as_bytes(), sources);
    let shape = f.returns.first()?.shape.clone()?;
    if shape.param || shape.offset.is_some() || f.returns.len() != 1 {
        return None;
    }
    let param = names.iter().position(|p| *p == shape.array);
    // `(a)->dimensions` on the argument itself: a source only when the
    // argument is an ndarray (iterators have `->dimensions` too).
    let typed = match shape.ndim {
        Some(super::Ndim::Fields(base)) => facts::norm(&snippet[base.range()]) == shape.array,
        _ => false,
    };
    let array = match (&m.params, param) {
        (Some(_), Some(_)) => None,
        (None, None) if is_name(&shape.array) => Some(shape.array.clone()),
        _ => return None,
    };
    Some(Giver::Returns {
        param,
        array,
        kind: shape.kind,
        typed,
        location,
    })
}

/// Turn call sites into writes and evidence using the summaries: a tree
/// function writing through a parameter that receives shape storage is a
/// write at the call; so is a macro assigning `->dimensions` or an element.
pub fn apply(f: &mut Facts, summaries: &Summaries, sources: Sources) {
    let mut writes = Vec::new();
    let mut may_write = Vec::new();
    let mut uses = Vec::new();
    for call in &f.calls {
        let name = call.callee.as_str();
        let write = |shape: ShapeRef, target: Target, how: How, source| Write {
            shape,
            target,
            how,
            expr: call.span,
            source,
            place: call.place,
        };
        if let Some(m) = summaries.macros.get(name) {
            for arg in &call.args {
                let assigned = m.assigns.contains(&arg.index);
                if let (true, Some((array, field))) = (assigned, &arg.field) {
                    let kind = match field.as_str() {
                        "dimensions" => Some(Kind::Dims),
                        "strides" if sources.strides => Some(Kind::Strides),
                        _ => None,
                    };
                    if let Some(kind) = kind {
                        let shape = shape_at(array, kind, arg.span);
                        let how = How::MacroAssign {
                            name: name.to_string(),
                        };
                        writes.push(write(shape, Target::Pointer, how, Some(arg.span)));
                    }
                    if super::api::META_FIELDS.contains(&field.as_str()) {
                        uses.push((array.clone(), UseKind::MetaWrite(field.clone()), call.span));
                    }
                }
                if let (true, Some((shape, index, vars))) = (assigned, &arg.element) {
                    if !shape.param {
                        let target = Target::Element {
                            index: index.clone(),
                            index_vars: vars.clone(),
                        };
                        let how = How::MacroAssign {
                            name: name.to_string(),
                        };
                        writes.push(write(shape.clone(), target, how, arg.source));
                    }
                }
                if let (true, Some(shape)) = (m.writes.contains(&arg.index), &arg.shape) {
                    if !shape.param {
                        let how = How::MacroAssign {
                            name: name.to_string(),
                        };
                        writes.push(write(shape.clone(), Target::Whole, how, arg.source));
                    }
                }
                if let (Some((p, kind)), Some(array)) = (m.writes_shape, &arg.object) {
                    if p == arg.index {
                        let shape = shape_at(array, kind, call.span);
                        let how = How::MacroBody {
                            name: name.to_string(),
                        };
                        writes.push(write(shape, Target::Whole, how, None));
                    }
                }
                for (p, field) in &m.meta {
                    if let (true, Some(array)) = (*p == arg.index, &arg.object) {
                        uses.push((array.clone(), UseKind::MetaWrite(field.clone()), call.span));
                    }
                }
            }
        } else if let Some(p) = summaries.prototypes.get(name) {
            for arg in &call.args {
                if let Some(shape) = arg.shape.as_ref().filter(|s| !s.param) {
                    if p.may_write(arg.index) {
                        let how = How::MayWrite {
                            callee: name.to_string(),
                            location: Some(p.location.clone()),
                        };
                        may_write.push(write(shape.clone(), Target::Whole, how, None));
                    }
                }
            }
        } else if let Some(s) = summaries.functions.get(name) {
            for arg in &call.args {
                if let (true, Some(shape)) = (s.writes.contains(&arg.index), &arg.shape) {
                    if !shape.param {
                        let how = How::Callee {
                            name: name.to_string(),
                            param: arg.index,
                        };
                        writes.push(write(shape.clone(), Target::Whole, how, arg.source));
                    }
                }
                for (p, field) in &s.meta {
                    if let (true, Some(array)) = (*p == arg.index, &arg.object) {
                        uses.push((array.clone(), UseKind::MetaWrite(field.clone()), call.span));
                    }
                }
            }
        }
    }
    // A source expression that turned out to be written is not also a read.
    f.reads
        .retain(|r| !writes.iter().any(|w: &Write| w.source == Some(r.span)));
    f.writes.extend(writes);
    // The storage passed to code that may write it is also read there.
    f.writes.extend(may_write);
    f.writes.sort_by_key(|w| (w.expr.start, w.expr.end));
    f.uses.extend(
        uses.into_iter()
            .map(|(array, kind, span)| facts::Use { array, kind, span }),
    );
    f.uses.sort_by_key(|u| u.span.start);
}

fn shape_at(array: &ArrayId, kind: Kind, span: super::Span) -> ShapeRef {
    ShapeRef {
        array: array.clone(),
        kind,
        param: false,
        via: Via::Source(span),
        offset: None,
        ndim: None,
    }
}

/// Whether `s` is a plain C identifier.
fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
