#!/usr/bin/env bash
# Download and unpack a NumPy source release into the cache; print the unpacked path.
#
#   scripts/fetch-numpy.sh 2.2.1      -> $CACHE/numpy-2.2.1
#
# Cache: $DIMS_FIX_CACHE, else $XDG_CACHE_HOME/dims-fix, else ~/.cache/dims-fix.
# NumPy's build backend (meson-python) has no metadata hook, so a plain
# `pip download --no-binary numpy` would compile NumPy just to read its version.
# A stand-in `mesonpy` module answers the metadata hook from pyproject.toml,
# which turns the download into a plain 20 MB fetch.
set -euo pipefail

version=${1:?usage: fetch-numpy.sh VERSION}
cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
# Third-party sources, and the copies that scripts/compile-patched.sh and
# scripts/verify-numpy.sh change and commit, live outside this checkout.
here=$(cd "$(dirname "$0")/.." && pwd -P)
case "$(realpath -m "$cache")/" in
    "$here"/*)
        echo "fetch-numpy: the cache $cache is inside this checkout ($here); set DIMS_FIX_CACHE elsewhere" >&2
        exit 2 ;;
esac
dest="$cache/numpy-$version"
if [ -f "$dest/pyproject.toml" ]; then
    echo "$dest"
    exit 0
fi
mkdir -p "$cache/sdist"
# Several fetches may run at once (parallel tests): one downloads and
# unpacks, the others wait for it and then find the tree in place.
exec 9>"$cache/.fetch-numpy-$version.lock"
flock 9
if [ -f "$dest/pyproject.toml" ]; then
    echo "$dest"
    exit 0
fi
python=${PYTHON:-python3}

tarball="$cache/sdist/numpy-$version.tar.gz"
if [ ! -f "$tarball" ]; then
    stub=$(mktemp -d)
    trap 'rm -rf "$stub"' EXIT
    cat >"$stub/mesonpy.py" <<'PY'
"""Stand-in build backend: metadata only, read from pyproject.toml."""
import os

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


def _meta():
    with open("pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    project = _meta()
    name, version = project["name"], project["version"]
    dist_info = f"{name}-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w") as f:
        f.write(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return dist_info


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(*args, **kwargs):
    raise RuntimeError("stand-in mesonpy: metadata only")


build_sdist = build_wheel
PY
    dl=$(mktemp -d)
    PYTHONPATH="$stub${PYTHONPATH:+:$PYTHONPATH}" "$python" -m pip download \
        --quiet --no-deps --no-build-isolation --no-binary numpy \
        --dest "$dl" "numpy==$version" >&2
    mv "$dl/numpy-$version.tar.gz" "$tarball"
    rm -rf "$dl"
fi

tmp=$(mktemp -d "$cache/unpack.XXXXXX")
tar -xzf "$tarball" -C "$tmp"
rm -rf "$dest"
# The tree appears complete or not at all.
mv "$tmp/numpy-$version" "$dest"
rmdir "$tmp"
echo "$dest"
