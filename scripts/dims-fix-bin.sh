#!/usr/bin/env bash
# Print the path of a dims-fix binary: $DIMS_FIX if set, else a release
# build of this checkout (built if needed, wherever CARGO_TARGET_DIR puts it).
set -euo pipefail
if [ -n "${DIMS_FIX:-}" ]; then
    echo "$DIMS_FIX"
    exit 0
fi
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml" >&2
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/Cargo.toml" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
echo "$target/release/dims-fix"
