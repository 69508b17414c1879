#!/usr/bin/env bash
# The small inputs that once took the analysis seconds (issue 17): 800
# chained assignments `v0 = v1 = ... = 0;`, a body inside 10,000 nested
# `#if 1`, 4,000 `else if`, 8,000 rewrite findings in one file (the files
# tests/bad_input.rs writes), and 8,000 lock findings in one file (each
# function given a lock TODO: the plan once looked through every finding
# of the file for each). Each is also written at twice its size; the
# two sizes are scanned alternately (A B A B ...) with
# `--dry-run --format json`, and the script prints the median time of the
# issue's size and the median of the pair-by-pair ratios 2n / n: about 2
# when time is linear (4 quadratic, 8 cubic).
#
#   bench/slow-inputs.sh [RUNS]      default: 11 pairs
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-11}
command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 2; }
bin=$("$here/scripts/dims-fix-bin.sh")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

python3 - "$dir" <<'PY'
import sys
out = sys.argv[1]
head = '#include "numpy/arrayobject.h"\n\n'

def chain(n):
    vs = [f"v{i}" for i in range(n)]
    return (f"{head}void f(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp {', '.join(vs)};\n"
            f"    npy_intp k = PyArray_DIM(a, 0);\n    PyArray_DIMS(a)[0] = v;\n"
            f"    {' = '.join(vs)} = 0;\n    PyArray_DIMS(a)[0] = k;\n}}\n")

def nested(n):
    return (f"{head}void f(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp k = PyArray_DIM(a, 0);\n"
            + "#if 1\n" * n
            + "    PyArray_DIMS(a)[0] = v;\n    PyArray_DIMS(a)[0] = k;\n"
            + "#endif\n" * n + "}\n")

def else_if(n):
    branches = "".join(
        f"    else if (c == {c}) {{\n        PyArray_DIMS(a)[0] = v;\n"
        f"        PyArray_DIMS(a)[0] = k;\n    }}\n" for c in range(n))
    return (f"{head}void f(PyArrayObject *a, npy_intp v, int c)\n{{\n"
            f"    npy_intp k = PyArray_DIM(a, 0);\n    if (c < 0) {{\n    }}\n{branches}}}\n")

def many(n):
    return head + "".join(
        f"void f{i}(PyArrayObject *a, npy_intp v)\n{{\n    npy_intp n = PyArray_DIM(a, 0);\n"
        f"    PyArray_DIMS(a)[0] = v;\n    PyArray_DIMS(a)[0] = n;\n}}\n\n" for i in range(n))

def locks(n):
    return head + "".join(
        f"void s{i}(PyArrayObject *a, npy_intp v)\n{{\n    PyArray_DIMS(a)[0] = v;\n"
        f"    ((PyArrayObject_fields *)a)->nd = 1;\n}}\n\n" for i in range(n))

for name, make, n in [("chained-assignments", chain, 800), ("nested-if", nested, 10_000),
                      ("else-if", else_if, 4_000), ("many-findings", many, 8_000),
                      ("many-locks", locks, 8_000)]:
    for k, size in (("n", n), ("2n", 2 * n)):
        with open(f"{out}/{name}-{k}.c", "w") as f:
            f.write(make(size))
PY

run_ms() {  # wall time of one scan of "$1", in ms
    local start end
    start=$(date +%s%N)
    "$bin" --dry-run --format json --color never "$1" >/dev/null
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '%-20s %8s %8s %14s\n' input "n" "2n" "ratio 2n/n"
for name in chained-assignments nested-if else-if many-findings many-locks; do
    a=() b=() r=()
    for _ in $(seq "$runs"); do
        ta=$(run_ms "$dir/$name-n.c")
        tb=$(run_ms "$dir/$name-2n.c")
        a+=("$ta") b+=("$tb")
        r+=("$(awk -v x="$tb" -v y="$ta" 'BEGIN {printf "%.3f", x / (y > 0 ? y : 1)}')")
    done
    printf '%-20s %6sms %6sms %13.2fx\n' "$name" \
        "$(printf '%s\n' "${a[@]}" | median)" "$(printf '%s\n' "${b[@]}" | median)" \
        "$(printf '%s\n' "${r[@]}" | median)"
done
