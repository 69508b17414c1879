"""Download and unpack pinned source releases into the cache.

`pip download --no-binary :all:` asks the sdist's build backend for its
metadata, which for meson-python, scikit-build-core or setuptools with
compiled extensions means configuring (or building) the project. A stand-in
module named like each backend answers that hook by copying the sdist's own
PKG-INFO, so the download stays a plain fetch. The stand-ins are put first
on PYTHONPATH and pip runs with --no-build-isolation --use-pep517, so they
are what the hook imports.

Every release is checked against the sha256 recorded in targets.toml.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

# Marks a tree unpacked whole, with the archive's sha256.
STAMP = ".dims-fix-recall-sha256"

# Exit status telling the caller the package index cannot be reached.
EXIT_UNREACHABLE = 75

STANDIN = '''"""Stand-in build backend: metadata only, copied from the sdist's PKG-INFO."""
import email.parser
import os


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    head = email.parser.Parser().parsestr(text, headersonly=True)
    name = head["Name"].replace("-", "_").replace(".", "_")
    dist_info = f"{name}-{head['Version']}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w",
              encoding="utf-8") as f:
        f.write(text)
    return dist_info


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(*args, **kwargs):
    raise RuntimeError("stand-in build backend: metadata only")


build_sdist = build_wheel
get_requires_for_build_sdist = get_requires_for_build_wheel


class _Legacy:
    prepare_metadata_for_build_wheel = staticmethod(prepare_metadata_for_build_wheel)
    get_requires_for_build_wheel = staticmethod(get_requires_for_build_wheel)
    build_wheel = staticmethod(build_wheel)
    build_sdist = staticmethod(build_sdist)


__legacy__ = _Legacy()
'''

# Build backends (module paths) that get a stand-in. `setuptools.build_meta`
# also serves sdists without pyproject.toml (`__legacy__`).
BACKENDS = [
    "mesonpy",
    "setuptools.build_meta",
    "scikit_build_core.build",
    "flit_core.buildapi",
    "hatchling.build",
    "poetry.core.masonry.api",
    "pdm.backend",
    "maturin",
    "sipbuild.api",
]


def cache_dir() -> Path:
    """$DIMS_FIX_CACHE, else $XDG_CACHE_HOME/dims-fix, else ~/.cache/dims-fix."""
    if os.environ.get("DIMS_FIX_CACHE"):
        return Path(os.environ["DIMS_FIX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "dims-fix"


class FetchError(Exception):
    """A release could not be had; `unreachable` when the index is down."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


def write_standins(where: Path) -> None:
    for backend in BACKENDS:
        parts = backend.split(".")
        pkg = where
        for part in parts[:-1]:
            pkg = pkg / part
            pkg.mkdir(exist_ok=True)
            (pkg / "__init__.py").touch()
        (pkg / f"{parts[-1]}.py").write_text(STANDIN, encoding="utf-8")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def index_reachable() -> bool:
    url = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
    try:
        urllib.request.urlopen(url, timeout=20)
        return True
    except Exception:  # any failure to connect means: not reachable
        return False


def download(name: str, version: str, sdists: Path) -> Path:
    """pip-download NAME==VERSION's sdist into `sdists`, named NAME-VERSION.EXT."""
    with tempfile.TemporaryDirectory() as stub, tempfile.TemporaryDirectory(dir=sdists) as dl:
        write_standins(Path(stub))
        env = dict(os.environ)
        env["PYTHONPATH"] = stub + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-build-isolation", "--use-pep517", "--no-binary", ":all:",
            "--dest", dl, f"{name}=={version}",
        ]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise FetchError(
                f"pip download {name}=={version} failed:\n{out.stderr.strip()}",
                unreachable=not index_reachable(),
            )
        files = list(Path(dl).iterdir())
        if len(files) != 1:
            raise FetchError(f"pip download {name}=={version} left {files}")
        archive = sdists / f"{name}-{version}{suffix_of(files[0])}"
        os.rename(files[0], archive)
    return archive


def archive_root(names: list[str]) -> str:
    tops = {n.split("/", 1)[0] for n in names if n}
    if len(tops) != 1:
        raise FetchError(f"archive has several top directories: {sorted(tops)[:5]}")
    return tops.pop()


def unpack(archive: Path, dest: Path) -> None:
    """Unpack so that the tree appears complete or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".unpack."))
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                top = archive_root(z.namelist())
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                top = archive_root(t.getnames())
                t.extractall(tmp, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(tmp / top, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(name: str, version: str, want_sha256: str | None) -> Path:
    """The unpacked tree of NAME VERSION in the cache (downloaded if needed)."""
    root = cache_dir() / "recall"
    dest = root / "src" / f"{name}-{version}"
    stamp = dest / STAMP
    if stamp.is_file() and (want_sha256 is None or stamp.read_text().strip() == want_sha256):
        return dest
    sdists = root / "sdist"
    sdists.mkdir(parents=True, exist_ok=True)
    archive = next(iter(sorted(sdists.glob(f"{name}-{version}.*"))), None)
    if archive is None:
        # scripts/fetch-numpy.sh keeps NumPy's sdists one level up.
        other = next(iter(sorted((cache_dir() / "sdist").glob(f"{name}-{version}.*"))), None)
        if other is not None:
            archive = sdists / other.name
            shutil.copyfile(other, archive)
        else:
            archive = download(name, version, sdists)
    got = sha256(archive)
    if want_sha256 is not None and got != want_sha256:
        raise FetchError(
            f"{archive}: sha256 {got}, expected {want_sha256} (targets.toml); "
            "delete the file to download it again"
        )
    unpack(archive, dest)
    stamp.write_text(got + "\n")
    return dest


def suffix_of(path: Path) -> str:
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip"):
        if path.name.endswith(suffix):
            return suffix
    raise FetchError(f"unknown archive type: {path.name}")
