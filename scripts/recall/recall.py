#!/usr/bin/env python3
"""Recall harness: does dims-fix report every write to an ndarray's shape or
strides in real third-party code?

For each target of targets.toml (a real function of a pinned source
release) and each write form of forms.py, the form's statements are put
into the function, dims-fix runs (`--format json`, `--strides` for the
strides forms) on the directory holding the file, and the write counts as
reported when a site of any finding, of any class, covers its line. The
file is put back after each run. Our own shape_writer.pyx, cythonized with
each pinned Cython + NumPy pair, is checked the same way. Finally every
unmodified tree is scanned: any finding there that targets.toml does not
list as a real write checked by hand is a false hit, except dims-fix's own
findings saying a mention could not be analysed (DF5xx codes), which claim
no write: those are listed apart, as "not analysed". Each scan of an
unmodified tree and of the Cython output runs a second time with
`--parse-all`: the lexical write filter must not change its findings or its
accounting of mentions (exit 2 when it does).

Prints the table, then `recall: R/N` (C and C++ targets and Cython
output), a line for targets shown but not counted (if any) and `false
hits: K`.

Exit status: 0 when the recall is 100% and there is no false hit, 1 when
not, 2 on a broken target table or tool, 75 when the package index cannot
be reached to download what is missing.

    scripts/recall/recall.py [--only TEXT] [--form GLOB] [--json FILE] [-v]

The binary: --bin, else $DIMS_FIX, else $CARGO_TARGET_DIR/release/dims-fix,
else target/release/dims-fix of this checkout.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the checkout

import cython_output  # noqa: E402
import fetch  # noqa: E402
import seed  # noqa: E402
from forms import FORMS, Form  # noqa: E402

REPO = HERE.parent.parent
DIRTY = ".dims-fix-recall-dirty"


@dataclass
class Row:
    project: str
    where: str  # file:function, or the .pyx line
    language: str
    expected: str  # "reported" | "not-analysed-yet"
    form: str
    group: str
    lines: list[int]
    reported: bool = False
    classes: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def counted(self) -> bool:
        return self.expected == "reported"


def binary(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("DIMS_FIX"):
        return Path(os.environ["DIMS_FIX"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return target / "release" / "dims-fix"


def run_tool(tool: Path, root: Path, scan: Path, strides: bool, parse_all: bool = False) -> dict:
    """dims-fix's JSON report for `scan`, paths relative to `root`."""
    cmd = [str(tool), "--format", "json", "--color", "never", "--root", str(root)]
    if strides:
        cmd.append("--strides")
    if parse_all:
        cmd.append("--parse-all")
    cmd.append(str(scan))
    out = subprocess.run(cmd, capture_output=True, timeout=600)
    if out.returncode not in (0, 1, 3):
        raise ToolError(f"dims-fix exited {out.returncode}\n{' '.join(cmd)}\n"
                        f"{out.stderr.decode(errors='replace')[-2000:]}")
    try:
        return json.loads(out.stdout)
    except ValueError:
        raise ToolError(f"dims-fix printed no JSON (exit {out.returncode})\n{' '.join(cmd)}") from None


class ToolError(Exception):
    pass


# Scans whose results were compared with and without the lexical write filter.
FILTER_CHECKED: list[str] = []


def check_filter(tool: Path, root: Path, scan: Path, report: dict, strides: bool) -> None:
    """The same scan with every candidate function parsed (`--parse-all`)
    must give the same findings and the same accounting of mentions: the
    write filter only leaves out functions whose every mention is a read."""
    full = run_tool(tool, root, scan, strides, parse_all=True)
    for key in ("findings",):
        if report.get(key) != full.get(key):
            raise ToolError(f"the lexical write filter changed the {key} of {scan}")
    if report["stats"]["accounting"] != full["stats"]["accounting"]:
        raise ToolError(f"the lexical write filter changed the accounting of {scan}: "
                        f"{report['stats']['accounting']} with it, {full['stats']['accounting']} without")
    FILTER_CHECKED.append(str(scan))


def covering(report: dict, file: str, line: int) -> list[str]:
    """Classes of the sites in `file` whose lines cover `line`."""
    classes = []
    for finding in report.get("findings", []):
        if finding.get("file") != file:
            continue
        for site in finding.get("sites", []):
            first = site.get("line", 0)
            last = site.get("end_line", first)
            if first <= line <= last:
                classes.append(site.get("class", finding.get("class", "?")))
    return classes


def project_dir(project: dict) -> Path:
    """The unpacked release, restored first if a run was interrupted."""
    root = fetch.fetch(project["name"], project["version"], project["sha256"])
    if (root / DIRTY).exists():
        (root / fetch.STAMP).unlink()
        root = fetch.fetch(project["name"], project["version"], project["sha256"])
    return root


def run_target(tool: Path, root: Path, target: dict, forms: list[Form], verbose: bool) -> list[Row]:
    path = root / target["file"]
    original = path.read_bytes()
    text = original.decode("utf-8", errors="surrogateescape")
    site = seed.locate(text, target["function"], target["after"], target.get("params"))
    scan = root / target.get("scan", str(Path(target["file"]).parent))
    rows = []
    for form in forms:
        new_text, lines = seed.seed(site, form, target["array"])
        row = Row(target["project"], f"{target['file']}:{target['function']}", target["language"],
                  target.get("expected", "reported"), form.id, form.group, lines)
        (root / DIRTY).write_text(target["file"] + "\n")
        try:
            path.write_bytes(new_text.encode("utf-8", errors="surrogateescape"))
            report = run_tool(tool, root, scan, form.kind == "strides")
        except ToolError as e:
            row.note = str(e).splitlines()[0]
            report = {}
        finally:
            path.write_bytes(original)
            (root / DIRTY).unlink()
        per_line = [covering(report, target["file"], n) for n in lines]
        row.reported = bool(per_line) and all(per_line)
        row.classes = sorted({c for cs in per_line for c in cs})
        rows.append(row)
        if verbose:
            print(format_row(row), flush=True)
    return rows


def run_cython(tool: Path, pair: dict) -> list[Row]:
    gen = cython_output.generate(pair)
    report = run_tool(tool, gen.directory, gen.directory, True)
    check_filter(tool, gen.directory, gen.directory, report, True)
    rows = []
    for pyx_line, pyx_text, c_line in gen.writes:
        classes = covering(report, "shape_writer.c", c_line)
        rows.append(Row(gen.pair, f"shape_writer.pyx:{pyx_line} `{pyx_text}`", "c (Cython output)",
                        "reported", f"shape_writer.c:{c_line}", "cython", [c_line],
                        bool(classes), sorted(set(classes))))
    return rows


def false_hits(tool: Path, root: Path, project: dict,
               scans: set[str]) -> tuple[list[str], list[str]]:
    """Findings in the unmodified tree with a site that is not one of the
    real writes the project's exceptions list (checked by hand); and,
    apart, the findings that only say a mention could not be analysed."""
    allowed: dict[str, set[int]] = {}
    for e in project.get("exceptions", []):
        allowed.setdefault(e["file"], set()).update(e["lines"])
    hits, unanalysed, seen = [], [], set()
    for scan in sorted(scans):
        report = run_tool(tool, root, root / scan, True)
        check_filter(tool, root, root / scan, report, True)
        for f in report.get("findings", []):
            lines = [s["line"] for s in f.get("sites", [])]
            key = (f["file"], f["function"], f.get("array"))
            if key in seen or (lines and set(lines) <= allowed.get(f["file"], set())):
                continue
            seen.add(key)
            line = (f"{project['name']}: {f['file']}:{lines[0] if lines else 0}: {f['class']} "
                    f"{f.get('code', '')}: {f['function']}: {f.get('array')}: {f.get('reason', '')}")
            (unanalysed if str(f.get("code", "")).startswith("DF5") else hits).append(line)
    return hits, unanalysed


def scan_cost(root: Path, targets: list[dict]) -> int:
    """Bytes of C-family source the project's runs scan, all runs together."""
    total = 0
    for t in targets:
        scan = root / t.get("scan", str(Path(t["file"]).parent))
        files = [scan] if scan.is_file() else [p for p in scan.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files
                     if p.suffix in (".c", ".h", ".src", ".inc", ".cc", ".cpp", ".hpp", ".hh"))
    return total


def format_row(row: Row) -> str:
    if row.reported:
        status = "reported (" + ",".join(row.classes) + ")"
    elif row.counted:
        status = "MISSED" + (f" ({row.note})" if row.note else "")
    else:
        status = "not analysed yet" + (" (missed)" if not row.note else f" ({row.note})")
    lines = ",".join(map(str, row.lines))
    return f"{row.project:<30} {row.where:<70} {row.form:<28} line {lines:<6} {status}"


def summary(rows: list[Row]) -> list[str]:
    out = ["", "per target (reported/seeded):"]
    targets: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        targets.setdefault((r.project, r.where), []).append(r)
    for (project, where), rs in targets.items():
        ok = sum(r.reported for r in rs)
        tag = "" if rs[0].counted else "  [not counted: " + rs[0].expected + "]"
        out.append(f"  {project:<30} {where:<70} {ok}/{len(rs)}{tag}")
    out += ["", "per form, over counted targets (reported/seeded):"]
    forms: dict[str, list[Row]] = {}
    for r in rows:
        if r.counted and r.group != "cython":
            forms.setdefault(r.form, []).append(r)
    for form, rs in forms.items():
        out.append(f"  {form:<34} {sum(r.reported for r in rs)}/{len(rs)}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="the dims-fix binary")
    ap.add_argument("--only", action="append", default=[],
                    help="only targets whose project, file or function contains TEXT")
    ap.add_argument("--form", action="append", default=[], help="only forms matching GLOB (e.g. 'dims:*')")
    ap.add_argument("--no-cython", action="store_true", help="skip the Cython output")
    ap.add_argument("--no-false-hits", action="store_true", help="skip the scan of unmodified trees")
    ap.add_argument("--json", help="also write every row as JSON here")
    ap.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="projects run at once (default: 2, or 1 on one core)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print rows as they come")
    args = ap.parse_args()

    tool = binary(args.bin)
    if not tool.is_file():
        print(f"recall: no dims-fix binary at {tool} (build with cargo build --release, or set DIMS_FIX)",
              file=sys.stderr)
        return 2
    with open(HERE / "targets.toml", "rb") as f:
        table = tomllib.load(f)
    projects = {p["name"]: p for p in table["project"]}
    targets = [t for t in table["target"]
               if not args.only or any(o in f"{t['project']} {t['file']} {t['function']}" for o in args.only)]
    forms = [f for f in FORMS if not args.form or any(fnmatch.fnmatch(f.id, g) for g in args.form)]

    started = time.monotonic()
    rows: list[Row] = []
    hits: list[str] = []
    unanalysed: list[str] = []
    try:
        roots = {name: project_dir(projects[name]) for name in dict.fromkeys(t["project"] for t in targets)}

        timings_file = fetch.cache_dir() / "recall" / "timings.json"
        try:
            timings = json.loads(timings_file.read_text())
        except (OSError, ValueError):
            timings = {}

        def one_project(name: str) -> tuple[list[Row], list[str]]:
            # Targets of one project share its tree: one at a time.
            begun = time.monotonic()
            mine = [t for t in targets if t["project"] == name]
            out: list[Row] = []
            for t in mine:
                out += run_target(tool, roots[name], t, forms, args.verbose)
            found: tuple[list[str], list[str]] = ([], [])
            if not args.no_false_hits:
                scans = {t.get("scan", str(Path(t["file"]).parent)) for t in mine}
                if projects[name].get("whole_tree"):
                    # The whole release, C++ included, not only the targets' directories.
                    scans = {"."}
                found = false_hits(tool, roots[name], projects[name], scans)
            timings[name] = time.monotonic() - begun
            return out, found

        # Longest first (as timed last time), so that the slow ones do not
        # start last.
        order = sorted(roots, key=lambda n: -timings.get(
            n, scan_cost(roots[n], [t for t in targets if t["project"] == n]) / 1e6))
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            done = dict(zip(order, pool.map(one_project, order)))
            results = [done[n] for n in roots]
            if not args.no_cython and not args.only:
                cython_rows = list(pool.map(lambda pair: run_cython(tool, pair), table.get("cython", [])))
            else:
                cython_rows = []
        if not args.only and not args.form:
            timings_file.write_text(json.dumps(timings, indent=1) + "\n")
        for out, (found, said) in results:
            rows += out
            hits += found
            unanalysed += said
        for out in cython_rows:
            rows += out
    except fetch.FetchError as e:
        print(f"recall: {e}", file=sys.stderr)
        if e.unreachable:
            print("recall: SKIPPED: the package index cannot be reached", file=sys.stderr)
            return fetch.EXIT_UNREACHABLE
        return 2
    except (seed.TargetError, ToolError, RuntimeError) as e:
        print(f"recall: {e}", file=sys.stderr)
        return 2

    if not args.verbose:
        for r in rows:
            print(format_row(r))
    for line in summary(rows):
        print(line)
    counted = [r for r in rows if r.counted]
    shown = [r for r in rows if not r.counted]
    recalled = sum(r.reported for r in counted)
    print()
    print(f"false hits in unmodified trees: {len(hits)}")
    for h in hits:
        print(f"  FALSE HIT {h}")
    print(f"same results with and without the lexical write filter (--parse-all): "
          f"{len(FILTER_CHECKED)} scans of unmodified trees and Cython output")
    print(f"said not analysed in unmodified trees (no write claimed): {len(unanalysed)}")
    for u in unanalysed:
        print(f"  NOT ANALYSED {u}")
    if shown:
        print(f"shown, not counted: {sum(r.reported for r in shown)}/{len(shown)} reported")
    functions = {(r.project, r.where, r.language) for r in counted if r.group != 'cython'}
    n_c = sum(1 for f in functions if f[2] == "c")
    print(f"recall: {recalled}/{len(counted)} ({n_c} C and {len(functions) - n_c} C++ "
          f"functions x forms, "
          f"{len(counted) - sum(1 for r in counted if r.group != 'cython')} Cython writes; "
          f"{time.monotonic() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1) + "\n")
    return 0 if recalled == len(counted) and not hits else 1


if __name__ == "__main__":
    sys.exit(main())
