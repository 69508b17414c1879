#!/usr/bin/env bash
# Compile the files dims-fix changes in NumPy, patched, with NumPy's own
# build configuration: configure NumPy's meson build once (cached), then
# build only the object files of the patched sources (ninja builds the
# generated headers they need first).
#
#   scripts/compile-patched.sh [VERSION]        default 2.2.1
#
# Cache: $DIMS_FIX_CACHE, else $XDG_CACHE_HOME/dims-fix, else ~/.cache/dims-fix.
# Needs: python3 with pip (for meson's helpers: ninja, cython), a C/C++ compiler.
# $DIMS_FIX names the dims-fix binary to use (default: a release build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-2.2.1}
cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
pristine=$("$here/scripts/fetch-numpy.sh" "$version")
work="$cache/compile-$version"
venv="$cache/venv-build"

step() { printf '\n== %s\n' "$*" >&2; }
fail() { printf 'compile-patched: FAILED at step: %s\n' "$*" >&2; exit 1; }

step "build tools"
if [ ! -x "$venv/bin/ninja" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet ninja cython || fail "installing ninja and cython"
fi
export PATH="$venv/bin:$PATH"

step "patched copy of numpy-$version"
mkdir -p "$work"
# Two runs sharing the cache (two test runs at once) take turns: each
# replaces the copy the other is compiling.
exec 9>"$work.lock"
flock 9
rm -rf "$work/src"
cp -a "$pristine" "$work/src"
bin=$("$here/scripts/dims-fix-bin.sh")
"$bin" --apply --color never "$work/src" 2>"$work/dims-fix.log" \
    || { cat "$work/dims-fix.log" >&2; fail "dims-fix --apply"; }
grep ': wrote ' "$work/dims-fix.log" >&2 || true
changed=$(cd "$work/src" && diff -rq "$pristine" . 2>/dev/null | awk '/^Files/ {print $4}' | sed 's|^\./||' | grep -E '\.(c|cpp)$' || true)
[ -n "$changed" ] || fail "dims-fix changed no C source"

step "configure (meson, once per version)"
build="$work/build"
if [ ! -f "$build/build.ninja" ]; then
    (cd "$work/src" && python3 vendored-meson/meson/meson.py setup "$build" \
        -Dallow-noblas=true -Dbuildtype=release >"$work/setup.log" 2>&1) \
        || { tail -30 "$work/setup.log" >&2; fail "meson setup"; }
fi

step "compile the patched files"
targets=$(ninja -C "$build" -t targets all | awk -F: '{print $1}')
pyinc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
status=0
for file in $changed; do
    # Meson names objects <dir>_<file>.o under the extension's .p directory.
    obj=$(printf '%s\n' "$targets" | grep -F "_$(basename "$file").o" \
        | grep -F "$(basename "$(dirname "$file")")_" | head -1 || true)
    touch "$work/src/$file"
    if [ -n "$obj" ]; then
        if ninja -C "$build" "$obj" >"$work/ninja.log" 2>&1; then
            echo "  $file: compiled ($obj)"
            continue
        fi
        tail -30 "$work/ninja.log" >&2
    else
        # Not part of NumPy's own build (f2py's runtime is compiled into each
        # f2py-generated module): check it against NumPy's generated headers.
        if ${CC:-cc} -fsyntax-only -std=c11 -Wall -Werror=implicit-function-declaration \
            -I"$build/numpy/_core/include" -I"$build/numpy/_core" \
            -I"$work/src/numpy/_core/include" -I"$pyinc" "$work/src/$file" 2>"$work/cc.log"; then
            echo "  $file: compiles (syntax and types checked with ${CC:-cc} -fsyntax-only)"
            continue
        fi
        cat "$work/cc.log" >&2
    fi
    echo "  $file: FAILED" >&2
    status=1
done
[ "$status" = 0 ] || fail "compiling patched sources"
echo "all patched sources compiled"
