#!/usr/bin/env bash
# How a scan grows with the tree: NumPy's source release, and trees of 10
# and 50 copies of it (hard links: no extra disk), each scanned with
# `--dry-run --format json`; median wall time of RUNS runs, and peak memory.
#
#   bench/scale.sh [VERSION] [RUNS]      default: 2.2.1, 5 runs
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-2.2.1}
runs=${2:-5}
cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
tree=$("$here/scripts/fetch-numpy.sh" "$version")
bin=$("$here/scripts/dims-fix-bin.sh")
for n in 10 50; do
    dir="$cache/bench/numpy-$version-x$n"
    if [ ! -d "$dir/copy-$((n - 1))" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        for i in $(seq 0 $((n - 1))); do cp -al "$tree" "$dir/copy-$i"; done
    fi
done
measure() {  # measure DIR: "median_ms peak_mb"
    local times=() mems=()
    for _ in $(seq "$runs"); do
        local out
        out=$( { /usr/bin/time -f '%e %M' "$bin" --dry-run --format json --color never "$1" >/dev/null; } 2>&1 | tail -1)
        times+=("$(awk '{print $1 * 1000}' <<<"$out")")
        mems+=("$(awk '{printf "%.1f", $2 / 1024}' <<<"$out")")
    done
    printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" \
        "$(printf '%s\n' "${mems[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
}
read -r t1 m1 < <(measure "$tree")
printf '%-8s %10s %8s %10s\n' tree median "vs 1x" "peak MB"
printf '%-8s %8sms %7.1fx %10s\n' 1x "$t1" 1 "$m1"
for n in 10 50; do
    read -r t m < <(measure "$cache/bench/numpy-$version-x$n")
    printf '%-8s %8sms %7.1fx %10s\n' "${n}x" "$t" "$(awk -v a="$t" -v b="$t1" 'BEGIN {print a / b}')" "$m"
done
