#!/usr/bin/env bash
# A virtual environment in the cache with the Python tools the packaging
# tests drive: maturin (builds the wheel) and pre-commit; print its path.
#
# Cache: $DIMS_FIX_CACHE, else $XDG_CACHE_HOME/dims-fix, else ~/.cache/dims-fix.
set -euo pipefail

cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
here=$(cd "$(dirname "$0")/.." && pwd -P)
case "$(realpath -m "$cache")/" in
    "$here"/*)
        echo "python-tools: the cache $cache is inside this checkout ($here); set DIMS_FIX_CACHE elsewhere" >&2
        exit 2 ;;
esac
python=${PYTHON:-python3}
venv="$cache/venv-tools"
mkdir -p "$cache"
exec 9>"$cache/.venv-tools.lock"
flock 9
if [ ! -x "$venv/bin/pre-commit" ] || [ ! -x "$venv/bin/maturin" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "maturin>=1.5,<2" "pre-commit>=3" >&2
fi
echo "$venv"
