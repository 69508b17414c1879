"""Put one write form into one real function: the modified file's text and
the (1-based) lines of the writes in it."""

from __future__ import annotations

from dataclasses import dataclass

import csource
from forms import Form


class TargetError(Exception):
    """The target table does not match the source (a wrong anchor, say)."""


@dataclass
class Site:
    """Where a target's statements go, found once per target."""

    lines: list[str]  # the file's lines, without their newline
    newline: str  # "\n" or "\r\n"
    anchor: int  # 0-based index of the line the statements follow
    indent: str
    helper_at: int  # 0-based index of the line helpers go before


def locate(text: str, function: str, after: str, params: str | None = None) -> Site:
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split("\n")
    if newline == "\r\n":
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    try:
        fn = csource.find_function(text, function, params)
    except ValueError as e:
        raise TargetError(str(e)) from None
    first = csource.line_of(text, fn.body_open) - 1
    last = csource.line_of(text, fn.body_close) - 1
    if after == "{":
        if lines[first].rstrip().endswith("{"):
            anchor = first
        else:
            raise TargetError(f"{function}: the body's `{{` does not end its line")
    else:
        anchor = next((i for i in range(first, last) if lines[i].strip() == after), None)
        if anchor is None:
            raise TargetError(f"{function}: no line `{after}` in the body (lines {first + 1}-{last + 1})")
    masked = csource.mask(text).split("\n")[anchor].rstrip()
    if not masked.endswith((";", "{", "}")):
        raise TargetError(f"{function}: line {anchor + 1} does not end a statement: {lines[anchor]!r}")
    indent = indent_after(lines, anchor, last)
    helper_at = csource.line_of(text, csource.last_include_before(text, fn.name_pos)) - 1
    return Site(lines, newline, anchor, indent, helper_at)


def indent_after(lines: list[str], anchor: int, last: int) -> str:
    """The indentation of the statements that follow the anchor line: its
    own, or, when it opens a block, that of the block's first statement."""
    own = lines[anchor][: len(lines[anchor]) - len(lines[anchor].lstrip())]
    if not lines[anchor].rstrip().endswith("{"):
        return own
    for i in range(anchor + 1, last + 1):
        text = lines[i]
        if text.strip() and not text.lstrip().startswith("#"):
            inner = text[: len(text) - len(text.lstrip())]
            if len(inner.expandtabs()) > len(own.expandtabs()):
                return inner
            break
    return own + "    "


def seed(site: Site, form: Form, array: str) -> tuple[str, list[int]]:
    """The modified text and the 1-based lines of the form's writes."""
    stmts, writes = form.render(array)
    body = [site.indent + s for s in stmts]
    helper = [""] + form.helper + [""] if form.helper else []
    top = list(form.top)
    lines = list(site.lines)
    # Bottom up, so that earlier indexes stay true.
    lines[site.anchor + 1 : site.anchor + 1] = body
    lines[site.helper_at : site.helper_at] = helper
    lines[0:0] = top
    shift = len(top) + len(helper)
    start = site.anchor + 1 + shift  # 0-based index of the first statement
    write_lines = [start + k + 1 for k, w in enumerate(writes) if w]
    return site.newline.join(lines), write_lines
