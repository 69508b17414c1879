#!/usr/bin/env bash
# Time a whole-tree scan of NumPy's source release against `rg -l` in one
# paired hyperfine run (the machines are shared and noisy: compare medians
# measured together), and report dims-fix's peak memory.
#
#   bench/scan.sh [VERSION] [RUNS]      default: 2.2.1, 30 runs
#
# Needs hyperfine and ripgrep (apt-get install hyperfine ripgrep).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-2.2.1}
runs=${2:-30}
for tool in hyperfine rg python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
tree=$("$here/scripts/fetch-numpy.sh" "$version")
bin=$("$here/scripts/dims-fix-bin.sh")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "tree: numpy-$version ($(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1))"
hyperfine --warmup 3 --runs "$runs" -N --export-json "$out/t.json" \
    --command-name 'rg -l PyArray_DIMS' "rg -l PyArray_DIMS $tree" \
    --command-name 'dims-fix --format json' "$bin --format json $tree" \
    --command-name 'dims-fix --dry-run' "$bin --dry-run --color never $tree" \
    >/dev/null 2>&1 || { echo "bench: hyperfine failed" >&2; exit 1; }

peak() {  # median peak RSS (MB) of 5 runs of "$@"
    for _ in 1 2 3 4 5; do
        /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
    done | sort -n | sed -n 3p | awk '{printf "%.1f", $1 / 1024}'
}
python3 - "$out/t.json" "$(peak "$bin" --format json "$tree")" "$(peak "$bin" --dry-run --color never "$tree")" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print(f"{'command':<26} {'median':>10} {'vs rg -l':>9}")
for r in results:
    print(f"{r['command']:<26} {r['median'] * 1000:>8.1f}ms {r['median'] / base:>8.2f}x")
print(f"peak memory: scan {sys.argv[2]} MB, dry-run {sys.argv[3]} MB")
PY
