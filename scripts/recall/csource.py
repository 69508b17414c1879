"""Just enough C lexing to find a function's body and a place in it.

No parser: comments and literals are masked (same length, newlines kept),
then a function definition is `NAME (...)` followed by `{`, and its body
ends at the matching `}`. Braces are counted in the first branch of each
`#if` group only, as a preprocessor taking that branch would, so a function
whose `#if`/`#else` branches open braces differently is still delimited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def mask(text: str) -> str:
    """`text` with comments and string/char literals replaced by spaces."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def directive_lines(masked: str) -> list[str | None]:
    """Per line (0-based): the directive keyword if the line is (part of) a
    preprocessor directive ('if', 'else', 'define', ..., '+' for a
    continuation line), else None."""
    lines = masked.split("\n")
    kinds: list[str | None] = []
    cont = False
    for line in lines:
        if cont:
            kinds.append("+")
        else:
            m = re.match(r"\s*#\s*(\w*)", line)
            kinds.append(m.group(1) if m else None)
        cont = (kinds[-1] is not None) and line.rstrip().endswith("\\")
    return kinds


def live_mask(masked: str) -> str:
    """`masked` with directive lines blanked, and, in each `#if` group whose
    branches do not each balance their braces, every branch but the first
    blanked (as a preprocessor taking that branch would): what brace
    counting sees. Groups that balance (an include guard, a `#ifndef
    Py_PYTHON_H ... #else <whole file> #endif`) stay live."""
    lines = masked.split("\n")
    kinds = directive_lines(masked)
    n = len(lines)
    dead = [k is not None for k in kinds]

    def net(line: str) -> int:
        return line.count("{") - line.count("}")

    def block(i: int) -> tuple[int, int]:
        """Lines from i up to this level's #elif/#else/#endif: (stop, net)."""
        total = 0
        while i < n:
            kind = kinds[i]
            if kind in ("if", "ifdef", "ifndef"):
                i, g = group(i)
                total += g
                continue
            if kind in ("elif", "else", "endif"):
                return i, total
            if kind is None:
                total += net(lines[i])
            i += 1
        return i, total

    def group(i: int) -> tuple[int, int]:
        branches = []
        start = i + 1
        while True:
            stop, b = block(start)
            branches.append((start, stop, b))
            if stop >= n or kinds[stop] == "endif":
                break
            start = stop + 1
        if any(b != 0 for _, _, b in branches):
            for s, e, _ in branches[1:]:
                for k in range(s, e):
                    dead[k] = True
        return min(stop + 1, n), branches[0][2]

    i = 0
    while i < n:
        i, _ = block(i)
        i += 1  # an unmatched #elif/#else/#endif at top level
    return "\n".join(" " * len(line) if d else line for line, d in zip(lines, dead))


# What may stand between a definition's `)` and its `{`: C++ method
# qualifiers (`const`, `noexcept`, `override`, ...).
QUALIFIERS = r"(?:\s*(?:const|volatile|noexcept|override|final|&&|&))*\s*\{"


@dataclass
class Function:
    name: str
    name_pos: int  # offset of the name in the file
    body_open: int  # offset of the body's `{`
    body_close: int  # offset of the body's `}`


def matching(live: str, i: int, open_c: str, close_c: str) -> int:
    depth = 0
    for k in range(i, len(live)):
        if live[k] == open_c:
            depth += 1
        elif live[k] == close_c:
            depth -= 1
            if depth == 0:
                return k
    return -1


def find_function(text: str, name: str, params: str | None = None) -> Function:
    """The one definition of `name` in `text` (ValueError if none or
    several) whose parameter list contains `params`, if given (overloads)."""
    live = live_mask(mask(text))
    found = []
    for m in re.finditer(r"\b%s\s*\(" % re.escape(name), live):
        before = live[: m.start()].rstrip()
        if before.endswith(("->", ".")):
            continue
        close = matching(live, m.end() - 1, "(", ")")
        if close < 0:
            continue
        if params is not None and params not in text[m.end() : close]:
            continue
        rest = re.match(QUALIFIERS, live[close + 1 :])
        if not rest:
            continue
        body_open = close + 1 + rest.end() - 1
        body_close = matching(live, body_open, "{", "}")
        if body_close < 0:
            raise ValueError(f"{name}: body never closes")
        found.append(Function(name, m.start(), body_open, body_close))
    if len(found) != 1:
        raise ValueError(f"{name}: {len(found)} definitions found")
    return found[0]


def line_of(text: str, offset: int) -> int:
    """1-based line number of `offset`."""
    return text.count("\n", 0, offset) + 1


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def last_include_before(text: str, offset: int) -> int:
    """Offset just past the last top-level `#include` line before `offset`
    (0 when there is none): where helpers go so every function sees them."""
    masked = mask(text)
    kinds = directive_lines(masked)
    pos, best = 0, 0
    for line, kind in zip(masked.split("\n"), kinds):
        end = pos + len(line) + 1
        if end > offset:
            break
        if kind == "include":
            best = end
        pos = end
    return best
