#!/usr/bin/env bash
# Run the fuzz targets for a fixed budget each and report executions.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      default 600
#
# Needs cargo-fuzz (cargo install cargo-fuzz). libFuzzer's instrumentation
# uses unstable compiler flags; RUSTC_BOOTSTRAP lets the stable toolchain
# accept them. The pipeline target starts from the fixtures and the kept
# regressions; crashers land
# in fuzz/artifacts/<target>/ and make the script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
budget=${1:-600}
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo install cargo-fuzz first" >&2; exit 2; }
export RUSTC_BOOTSTRAP=1
cd "$here/fuzz"
mkdir -p corpus/pipeline corpus/structured corpus/other_names
# Fixture files share names (input.c): name each copy after its path.
find "$here/fixtures" -type f \( -name 'input*' -o -name '*.h' -o -name 'user.c' \) -print0 |
    while IFS= read -r -d '' f; do
        rel=${f#"$here/fixtures/"}
        cp "$f" "corpus/pipeline/fixture-${rel//\//-}"
    done
# And every input a fuzzer once broke (tests/regressions).
for f in "$here"/tests/regressions/*.c; do
    cp "$f" "corpus/pipeline/regression-$(basename "$f")"
done
status=0
for target in pipeline structured other_names; do
    echo "== $target: ${budget}s"
    log=$(mktemp)
    cargo fuzz build --sanitizer none "$target" >/dev/null 2>&1
    start=$(date +%s)
    if cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
        -max_total_time="$budget" -print_final_stats=1 -timeout=20 -rss_limit_mb=4096 >"$log" 2>&1; then
        outcome=ok
    else
        outcome=FAILED
        status=1
        grep -a -E "panicked|invariant broken|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
    fi
    execs=$(grep -a -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
    took=$(($(date +%s) - start))
    echo "$target: $outcome, ${execs:-?} executions in ${took}s, corpus $(ls "corpus/$target" | wc -l) inputs"
    rm -f "$log"
done
exit $status
