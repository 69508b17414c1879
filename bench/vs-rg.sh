#!/usr/bin/env bash
# Whole-tree scan of NumPy's source release against `rg -l PyArray_DIMS`,
# measured in alternation (rg, dims-fix, rg, dims-fix, ...: the machines
# are shared and noisy, so each dims-fix run is compared with the rg run
# next to it), quoting the median of the pair-by-pair ratios. With
# --baseline, a second dims-fix (say, built from main) joins each round
# (rg, baseline, dims-fix), giving the ratio before and after a change.
#
#   bench/vs-rg.sh [--baseline BIN] [VERSION|DIR] [RUNS]   default: 2.2.1, 30 rounds
#
# DIR: any unpacked tree instead of a NumPy release, e.g. scipy 1.14.1 with
# its C++ as the recall harness unpacks it
# ($DIMS_FIX_CACHE/recall/src/scipy-1.14.1, after scripts/recall/recall.py).
#
# Needs ripgrep (apt-get install ripgrep) and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
baseline=
if [ "${1:-}" = --baseline ]; then
    baseline=$(realpath "$2")
    shift 2
fi
version=${1:-2.2.1}
runs=${2:-30}
for tool in rg python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
if [ -d "$version" ]; then
    tree=$(realpath "$version")
else
    tree=$("$here/scripts/fetch-numpy.sh" "$version")
fi
bin=$("$here/scripts/dims-fix-bin.sh")

echo "tree: $(basename "$tree") ($(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1)); $runs rounds after 3 warm-up rounds"
python3 - "$tree" "$runs" "$bin" "$baseline" <<'PY'
import statistics, subprocess, sys, time

tree, runs, current, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
commands = [("rg -l PyArray_DIMS", ["rg", "-l", "PyArray_DIMS", tree])]
if baseline:
    commands.append(("baseline --format json", [baseline, "--format", "json", tree]))
commands.append(("dims-fix --format json", [current, "--format", "json", tree]))


def timed(argv):
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    # rg exits 1 when nothing matches; dims-fix 1 with --check only.
    if done.returncode not in (0, 1):
        sys.exit(f"bench: {argv[0]} exited {done.returncode}")
    return elapsed


for _ in range(3):
    for _, argv in commands:
        timed(argv)
times = {name: [] for name, _ in commands}
for _ in range(runs):
    for name, argv in commands:
        times[name].append(timed(argv))

rg = times[commands[0][0]]
print(f"{'command':<24} {'median':>9} {'pairwise median ratio to rg':>28}")
for name, _ in commands:
    t = times[name]
    ratios = [a / b for a, b in zip(t, rg)]
    ratio = f"{statistics.median(ratios):.2f}x" if name != commands[0][0] else ""
    print(f"{name:<24} {statistics.median(t) * 1000:>7.1f}ms {ratio:>28}")
PY
