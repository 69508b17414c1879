"""The write forms seeded into real functions, one per run.

Each form is the README's "What counts as a write" (group `readme`) or a
source form the no-silent-misses issue adds (group `issue10`), for the
shape (`dims`) and, analysed with --strides, for the strides (`strides`).
A form is a list of statements put at one point of a function's body, and
optionally a macro put at the file's top or a helper put before the
function (after the last #include that precedes it). The statements marked
as writes are the lines a finding's site must cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COMPOUND = ["+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^="]


@dataclass
class Form:
    id: str  # e.g. "dims:assign"
    kind: str  # "dims" | "strides"
    group: str  # "readme" | "issue10"
    # Statements; a leading "!" marks a write line.
    body: list[str]
    top: list[str] = field(default_factory=list)
    helper: list[str] = field(default_factory=list)

    def render(self, array: str) -> tuple[list[str], list[bool]]:
        """Statement lines for array expression `array`, and which are writes."""
        ptr = array if re.fullmatch(r"[A-Za-z_]\w*", array) else f"({array})"
        lines, writes = [], []
        for stmt in self.body:
            lines.append(stmt.lstrip("!").replace("{X}", array).replace("{P}", ptr))
            writes.append(stmt.startswith("!"))
        return lines, writes


def _forms(kind: str) -> list[Form]:
    src = "PyArray_DIMS" if kind == "dims" else "PyArray_STRIDES"
    fld = "dimensions" if kind == "dims" else "strides"
    tag = "DIM" if kind == "dims" else "STRIDE"
    s = f"{src}({{X}})"
    fcast = f"((PyArrayObject_fields *){{X}})->{fld}"

    def f(name: str, body: list[str], group: str = "readme", **kw) -> Form:
        return Form(f"{kind}:{name}", kind, group, body, **kw)

    forms = [f("assign", [f"!{s}[0] = 1;"])]
    forms += [f(f"op{op}", [f"!{s}[0] {op} 1;"]) for op in COMPOUND]
    forms += [
        f("pre++", [f"!++{s}[0];"]),
        f("post++", [f"!{s}[0]++;"]),
        f("pre--", [f"!--{s}[0];"]),
        f("post--", [f"!{s}[0]--;"]),
        f("deref", [f"!*{s} = 1;"]),
        f("deref+k", [f"!*({s} + 1) = 1;"]),
        f("paren", [f"!({s})[0] = 1;"]),
        f("memcpy", ["npy_intp recall_v[1] = {1};",
                     f"!memcpy({s}, recall_v, sizeof(recall_v));"]),
        f("memmove", ["npy_intp recall_v[1] = {1};",
                      f"!memmove({s}, recall_v, sizeof(recall_v));"]),
        f("memset", [f"!memset({s}, 0, sizeof(npy_intp));"]),
        f("alias", [f"npy_intp *recall_d = {s};", "!recall_d[0] = 1;"]),
        f("alias+k", [f"npy_intp *recall_d = {s} + 1;", "!recall_d[0] = 1;"]),
        f("alias-of-alias", [f"npy_intp *recall_d = {s};",
                             "npy_intp *recall_e = recall_d;", "!recall_e[0] = 1;"]),
        f("alias-assigned", ["npy_intp *recall_d;", f"recall_d = {s};",
                             "!recall_d[0] = 1;"]),
    ]
    if kind == "dims":
        forms.append(f("PyArray_SHAPE", ["!PyArray_SHAPE({X})[0] = 1;"]))
    forms += [
        f("fields-cast", [f"!{fcast}[0] = 1;"]),
        f("fields-var", ["PyArrayObject_fields *recall_f = (PyArrayObject_fields *){X};",
                         f"!recall_f->{fld}[0] = 1;"]),
        f("pointer", ["npy_intp *recall_p = NULL;", f"!{fcast} = recall_p;"]),
        f("callee", [f"!recall_set_first({s});"],
          helper=["static void", "recall_set_first(npy_intp *recall_s)", "{",
                  "    recall_s[0] = 1;", "}"]),
        f("tree-macro", [f"!RECALL_SET_{tag}({{X}}, 0, 1);"],
          top=[f"#define RECALL_SET_{tag}(a, i, v) ({src}(a)[i] = (v))"]),
        f("macro-assigns-arg", [f"!RECALL_ASSIGN({s}[0], 1);"],
          top=["#define RECALL_ASSIGN(lhs, v) ((lhs) = (v))"]),
        f("macro-swaps-pointer", ["npy_intp *recall_p = NULL;",
                                  f"!RECALL_SWAP({fcast}, recall_p);"],
          top=["#define RECALL_SWAP(a, b) do { npy_intp *recall_t = (a); "
               "(a) = (b); (b) = recall_t; } while (0)"]),
        # Source forms the no-silent-misses issue adds.
        f("arrow", [f"!{{P}}->{fld}[0] = 1;"], "issue10"),
        f("arrow-paren", [f"!({{P}}->{fld}[0]) = 1;"], "issue10"),
        f("accessor-fn", [f"!(recall_{fld}_of({{X}})[0]) = 1;"], "issue10",
          helper=["static inline npy_intp *",
                  f"recall_{fld}_of(PyArrayObject *recall_a)", "{",
                  f"    return {src}(recall_a);", "}"]),
        f("accessor-macro", [f"!RECALL_{tag}S({{X}})[0] = 1;"], "issue10",
          top=[f"#define RECALL_{tag}S(a) (((PyArrayObject_fields *)(a))->{fld})"]),
        f("out-param", ["npy_intp *recall_o = NULL;", "npy_intp **recall_out = &recall_o;",
                        f"*recall_out = {s};", "!(*recall_out)[0] = 1;"], "issue10"),
        f("unknown-callee", [f"!recall_extern_fill({s});"], "issue10",
          helper=["void recall_extern_fill(npy_intp *recall_s);"]),
        f("function-pointer", ["void (*recall_fp)(npy_intp *) = recall_extern_fill;",
                               f"!recall_fp({s});"], "issue10",
          helper=["void recall_extern_fill(npy_intp *recall_s);"]),
    ]
    return forms


FORMS: list[Form] = _forms("dims") + _forms("strides")
