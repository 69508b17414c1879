#!/usr/bin/env bash
# Deep inputs that once ended or stalled a run: a 3,000-term `+` chain
# (a stack overflow) and 100,000 nested parentheses (17.5 s of quadratic
# work). Each file is scanned alone, RUNS times; prints the median and the
# slowest wall time (the target: each well under a second).
#
#   bench/deep.sh [RUNS]      default: 10
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
bin=$("$here/scripts/dims-fix-bin.sh")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
terms = " + ".join(["n"] * 3000)
open(f"{d}/sum.c", "w").write(
    "void long_sum(PyArrayObject *a, npy_intp n)\n{\n"
    f"    npy_intp t = {terms};\n    PyArray_DIMS(a)[0] = t;\n}}\n")
open(f"{d}/parens.c", "w").write(
    "void deep(PyArrayObject *a, npy_intp n)\n{\n"
    f"    PyArray_DIMS(a)[0] = {'(' * 100000}n{')' * 100000};\n}}\n")
PY
python3 - "$bin" "$dir" "$runs" <<'PY'
import statistics, subprocess, sys, time
bin, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name in ("sum.c", "parens.c"):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([bin, "--format", "json", f"{d}/{name}"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"bench: {name}: exit {done.returncode}")
    print(f"{name:<10} median {statistics.median(times) * 1000:7.1f} ms, "
          f"slowest {max(times) * 1000:7.1f} ms ({runs} runs)")
PY
