#!/usr/bin/env bash
# Install Microsoft's SARIF validator (npm: @microsoft/sarif-multitool) into
# the cache; print the path of its Linux binary.
#
# Cache: $DIMS_FIX_CACHE, else $XDG_CACHE_HOME/dims-fix, else ~/.cache/dims-fix.
# Exit 3 when npm is not installed (the tests then skip, saying so).
set -euo pipefail

cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
here=$(cd "$(dirname "$0")/.." && pwd -P)
case "$(realpath -m "$cache")/" in
    "$here"/*)
        echo "sarif-multitool: the cache $cache is inside this checkout ($here); set DIMS_FIX_CACHE elsewhere" >&2
        exit 2 ;;
esac
command -v npm >/dev/null 2>&1 || { echo "sarif-multitool: npm is not installed" >&2; exit 3; }
dir="$cache/sarif-multitool"
bin="$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
mkdir -p "$dir"
# Parallel tests: one installs, the others wait and find it in place.
exec 9>"$dir/.lock"
flock 9
if [ ! -f "$bin" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
        @microsoft/sarif-multitool >&2
fi
# With install scripts off, the package's own chmod did not run.
chmod u+x "$bin"
echo "$bin"
