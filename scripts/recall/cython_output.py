"""Cythonize our own shape_writer.pyx with pinned Cython + NumPy pairs and
find, in each generated C file, the statements that write the shape or the
strides.

Each pair is installed with pip into a venv in the cache (binary wheels
only: cythonizing needs NumPy's .pxd files, not a build). The writes are
located from Cython's own source comments (`/* "shape_writer.pyx":N`), not
from what the generated code looks like, so a change in the generated form
still yields the line to check.
"""

from __future__ import annotations

import hashlib

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import fetch

HERE = Path(__file__).resolve().parent
PYX = HERE / "shape_writer.pyx"

# A .pyx line that writes through a subscript: `arr.shape[0] = n`, `d[1] = n`.
PYX_WRITE = re.compile(r"^\s*[A-Za-z_][\w.]*\[\d+\]\s*=[^=]")
# Cython emits a subscript store as `(<expr>[<i>]) = <value>;`.
C_STORE = re.compile(r"^\s*\(.*\[\d+\]\)\s*=[^=]")


@dataclass
class Generated:
    pair: str  # e.g. "cython-0.29.37+numpy-1.26.4"
    directory: Path  # holds shape_writer.c, the directory to scan
    writes: list[tuple[int, str, int]]  # (pyx line, pyx text, C line)


def venv_python(pair: dict) -> Path:
    """The venv's python for one pair, created on first use."""
    name = pair_name(pair)
    venv = fetch.cache_dir() / "recall" / "venv" / name
    python = venv / "bin" / "python"
    stamp = venv / ".dims-fix-recall-ok"
    if stamp.is_file():
        return python
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    out = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--only-binary", ":all:",
         f"cython=={pair['cython']}", f"numpy=={pair['numpy']}"],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise fetch.FetchError(
            f"installing {name} failed:\n{out.stderr.strip()}",
            unreachable=not fetch.index_reachable(),
        )
    stamp.write_text("ok\n")
    return python


def pair_name(pair: dict) -> str:
    return f"cython-{pair['cython']}+numpy-{pair['numpy']}"


def generate(pair: dict) -> Generated:
    """shape_writer.c for one pair (made again when the .pyx changes)."""
    python = venv_python(pair)
    name = pair_name(pair)
    out_dir = fetch.cache_dir() / "recall" / "cython" / name
    source = PYX.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    stamp = out_dir / ".pyx-sha256"
    c_file = out_dir / "shape_writer.c"
    if not (stamp.is_file() and stamp.read_text().strip() == digest and c_file.is_file()):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / PYX.name).write_bytes(source)
        run = subprocess.run(
            [str(python), "-m", "cython", "-3", PYX.name, "-o", c_file.name],
            cwd=out_dir, capture_output=True, text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"{name}: cython failed:\n{run.stderr}")
        stamp.write_text(digest + "\n")
    return Generated(name, out_dir, find_writes(source.decode(), c_file.read_text()))


def find_writes(pyx: str, c_text: str) -> list[tuple[int, str, int]]:
    """(pyx line, pyx text, C line) of each subscript store of the .pyx."""
    pyx_lines = pyx.split("\n")
    wanted = {i + 1 for i, line in enumerate(pyx_lines) if PYX_WRITE.match(line)}
    c_lines = c_text.split("\n")
    found: dict[int, list[int]] = {n: [] for n in wanted}
    current = None
    in_comment = False
    for i, line in enumerate(c_lines):
        m = re.match(r'\s*/\* "%s":(\d+)' % re.escape(PYX.name), line)
        if m:
            current = int(m.group(1))
            in_comment = "*/" not in line
            continue
        if in_comment:
            in_comment = "*/" not in line
            continue
        if line.lstrip().startswith("/*"):
            current = None  # another comment: Cython's next section
        if current in found and C_STORE.match(line):
            found[current].append(i + 1)
    writes = []
    for n in sorted(wanted):
        if len(found[n]) != 1:
            raise RuntimeError(
                f"{PYX.name}:{n}: expected one store in the generated C, found lines {found[n]}"
            )
        writes.append((n, pyx_lines[n - 1].strip(), found[n][0]))
    return writes


if __name__ == "__main__":  # a quick look: python3 cython_output.py 0.29.37 1.26.4
    g = generate({"cython": sys.argv[1], "numpy": sys.argv[2]})
    print(g.directory, *g.writes, sep="\n")

