#!/usr/bin/env bash
# Compile every C file dims-fix changes in NumPy twice with -Wall -Wextra,
# pristine and patched, with NumPy's own compile command, and fail when the
# patched file has a warning the pristine one has not (DESIGN §4: the
# output adds no compiler warning). Warnings are compared as messages
# (file names and line numbers left out: the patch moves lines).
#
#   scripts/compare-warnings.sh [VERSION]        default 2.2.1
#
# Uses the build of scripts/compile-patched.sh (run first, same cache).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-2.2.1}
cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
"$here/scripts/compile-patched.sh" "$version" >&2
pristine=$("$here/scripts/fetch-numpy.sh" "$version")
work="$cache/compile-$version"
pyinc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
exec python3 - "$pristine" "$work/src" "$work/build" "$pyinc" "${CC:-cc}" <<'PY'
import collections, json, os, re, shlex, subprocess, sys

pristine, patched, build, pyinc, cc = sys.argv[1:]
changed = []
for root, _, files in os.walk(patched):
    for name in files:
        if not name.endswith((".c", ".cpp")):
            continue
        rel = os.path.relpath(os.path.join(root, name), patched)
        old = os.path.join(pristine, rel)
        if os.path.exists(old) and open(old, "rb").read() != open(os.path.join(root, name), "rb").read():
            changed.append(rel)
if not changed:
    sys.exit("compare-warnings: dims-fix changed no C source")
commands = {}
for e in json.load(open(os.path.join(build, "compile_commands.json"))):
    src = os.path.normpath(os.path.join(e["directory"], e["file"]))
    commands[os.path.relpath(src, patched)] = (e["directory"], shlex.split(e["command"]))

def argv_for(rel, path):
    if rel in commands:
        cwd, argv = commands[rel]
        out, skip = [], False
        for a in argv:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MQ"):
                skip = True
                continue
            if a in ("-c", "-MD") or a.startswith("-fdiagnostics-color") or a.endswith(os.path.basename(rel)):
                continue
            out.append(a)
        return cwd, out + ["-fsyntax-only", "-Wall", "-Wextra", "-fdiagnostics-color=never", path]
    # Not part of NumPy's build (f2py's runtime): NumPy's generated headers.
    return build, [cc, "-fsyntax-only", "-std=c11", "-Wall", "-Wextra",
                   "-I" + os.path.join(build, "numpy/_core/include"),
                   "-I" + os.path.join(build, "numpy/_core"),
                   "-I" + os.path.join(patched, "numpy/_core/include"), "-I" + pyinc, path]

def warnings(rel, path):
    cwd, argv = argv_for(rel, path)
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"compare-warnings: {path} does not compile:\n{r.stderr[-3000:]}")
    found = re.findall(r"^[^\n]*?: warning: (.*)$", r.stderr, re.M)
    return collections.Counter(found)

new_total = 0
for rel in sorted(changed):
    before = warnings(rel, os.path.join(pristine, rel))
    after = warnings(rel, os.path.join(patched, rel))
    new = after - before
    new_total += sum(new.values())
    print(f"  {rel}: {sum(before.values())} warnings pristine, {sum(after.values())} patched, "
          f"{sum(new.values())} new")
    for message, n in new.items():
        print(f"    new: {message} (x{n})")
if new_total:
    sys.exit("compare-warnings: the patched sources have new warnings")
print(f"no new warnings in {len(changed)} patched files")
PY
