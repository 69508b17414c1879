#!/usr/bin/env bash
# Proof on real NumPy: dims-fix's patch fixes the np.repeat race of
# numpy#28197 and breaks nothing.
#
#   scripts/verify-numpy.sh [--cache DIR] [--trials N] [--threads N]
#                           [--calls N] [--inject-bug]
#
#  1. fetch the NumPy 2.2.1 source release (and 2.2.3, for its regression test)
#  2. make a git repository of 2.2.1 and run `dims-fix --commit` on a branch;
#     check the series (one commit per edited finding, the Repeat fix)
#  3. build a free-threaded CPython 3.13 (Debian trixie's source package) and
#     NumPy 2.2.1 with it, pristine and patched (one cached meson build
#     directory: the second build only recompiles the patched files)
#  4. run a race reproducer (threads + barrier calling np.repeat on one
#     array, every result checked, each trial in a fresh process) on both
#  5. run NumPy's own regression test, test_multithreaded_repeat (from the
#     2.2.3 release), on both
#  6. run NumPy's tests for what the patch touches on the patched build
#  7. print a summary; exit non-zero, naming the step, if the patch does
#     not apply, a build or test fails, or a race shows on the patched build
#
# --inject-bug adds a commit that puts `PyArray_DIMS(aop)[axis] = total;`
# back, to show that the script then fails.
#
# Cache (downloads, interpreter, build directory, virtualenvs):
# --cache DIR, else $DIMS_FIX_CACHE, else $XDG_CACHE_HOME/dims-fix, else
# ~/.cache/dims-fix. A warm cache makes a second run take a few minutes.
# $DIMS_FIX names the dims-fix binary (default: a release build).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
trials=30
threads=8
calls=20000
inject_bug=0
while [ $# -gt 0 ]; do
    case "$1" in
        --cache) cache=$2; shift 2 ;;
        --trials) trials=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --calls) calls=$2; shift 2 ;;
        --inject-bug) inject_bug=1; shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
        *) echo "verify-numpy: unknown argument $1" >&2; exit 2 ;;
    esac
done
cache=$(realpath -m "$cache")
export DIMS_FIX_CACHE=$cache
# The repository this script makes, resets and commits in lives in the
# cache: never inside this checkout, and git must not be pointed at
# another one by a hook's environment (GIT_DIR and the like).
case "$cache/" in
    "$(cd "$here" && pwd -P)"/*)
        echo "verify-numpy: the cache $cache is inside this checkout; use --cache or DIMS_FIX_CACHE elsewhere" >&2
        exit 2 ;;
esac
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
    GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_COMMON_DIR GIT_NAMESPACE
mkdir -p "$cache"
work="$cache/verify"
logs="$work/logs"
mkdir -p "$logs"
jobs=$(nproc)
started=$(date +%s)

current=""
step() {
    current=$1
    printf '\n== [%s] %s (%ds)\n' "$(date +%H:%M:%S)" "$1" $(( $(date +%s) - started ))
}
fail() {
    printf '\nverify-numpy: FAILED at step "%s": %s\n' "$current" "$*" >&2
    exit 1
}
trap 'rc=$?; [ $rc -eq 0 ] || [ -z "$current" ] || printf "verify-numpy: step \"%s\" stopped (exit %s); logs in %s\n" "$current" "$rc" "$logs" >&2' EXIT

# ---------------------------------------------------------------------------
step "prerequisites"
need_pkgs=()
for pkg in build-essential git patch xz-utils pkg-config libssl-dev zlib1g-dev libffi-dev \
           libbz2-dev liblzma-dev libsqlite3-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || fail "missing packages (${need_pkgs[*]}); install them or run as root"
    echo "installing ${need_pkgs[*]}"
    apt-get update -qq >"$logs/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >>"$logs/apt.log" 2>&1 \
        || fail "apt-get install ${need_pkgs[*]} (see $logs/apt.log)"
fi
dims_fix=$("$here/scripts/dims-fix-bin.sh") || fail "building dims-fix"
echo "dims-fix: $dims_fix"

# ---------------------------------------------------------------------------
step "1. fetch NumPy 2.2.1 and 2.2.3 source releases"
pristine=$("$here/scripts/fetch-numpy.sh" 2.2.1) || fail "fetching numpy 2.2.1"
fixed=$("$here/scripts/fetch-numpy.sh" 2.2.3) || fail "fetching numpy 2.2.3"
echo "$pristine"; echo "$fixed"

# ---------------------------------------------------------------------------
step "2. dims-fix --commit in a git repository of NumPy 2.2.1"
repo="$work/numpy-2.2.1"
git_() { git -C "$repo" "$@"; }
if [ ! -d "$repo/.git" ]; then
    rm -rf "$repo"
    cp -a "$pristine" "$repo"
    git_ init -q -b main
    git_ config core.autocrlf false
    git_ config user.name "dims-fix verify"
    git_ config user.email verify@localhost
    # -f: the release ships .gitignore files; every released file counts.
    git_ add -A -f 2>"$logs/git-add.log"
    git_ commit -qm "NumPy 2.2.1 source release"
    git_ tag pristine
fi
# Back to the release; only files that differ get new timestamps, so the
# cached build directory stays warm.
git_ checkout -q -f main
git_ reset -q --hard pristine
git_ clean -qfdx
git_ branch -q -D dims-fix 2>/dev/null || true
"$dims_fix" --format json --color never "$repo" >"$logs/findings.json" 2>"$logs/findings.txt" \
    || fail "dims-fix --format json"
"$dims_fix" --commit --branch dims-fix --color never "$repo" >"$logs/commit.txt" 2>&1 \
    || { cat "$logs/commit.txt" >&2; fail "dims-fix --commit"; }
grep 'committed' "$logs/commit.txt"
expected_commits=$(python3 - "$logs/findings.json" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))["findings"]
rewrites = sum(f["class"] == "rewrite" for f in findings)
locks = {(f["file"], f["function"]) for f in findings if f["class"] == "lock" and not f["acknowledged"]}
print(rewrites + len(locks))
PY
)
made=$(git_ rev-list --count pristine..dims-fix)
[ "$made" = "$expected_commits" ] || fail "expected $expected_commits commits (one per edited finding), found $made"
repeat=$(git_ log --format=%H --grep='in PyArray_Repeat' pristine..dims-fix)
[ -n "$repeat" ] || fail "no commit for PyArray_Repeat"
show=$(git_ show --format= "$repeat")
for want in '+    npy_intp dims[NPY_MAXDIMS];' '+    dims[axis] = total;' \
            '-    PyArray_DIMS(aop)[axis] = total;' '-    PyArray_DIMS(aop)[axis] = n;'; do
    grep -qF -- "$want" <<<"$show" || fail "the Repeat commit lacks: $want"
done
echo "series: $made commits on branch dims-fix, the Repeat commit as expected"
if [ "$inject_bug" = 1 ]; then
    file=numpy/_core/src/multiarray/item_selection.c
    sed -i 's/^    dims\[axis\] = total;$/    dims[axis] = total;\n    PyArray_DIMS(aop)[axis] = total;/' "$repo/$file"
    git_ commit -qam "TEST: put the racy write back (--inject-bug)"
    echo "injected: PyArray_DIMS(aop)[axis] = total; is back in PyArray_Repeat"
fi

# ---------------------------------------------------------------------------
step "3a. free-threaded CPython 3.13"
py_prefix="$cache/cpython-3.13t"
py="$py_prefix/bin/python3.13"
if [ ! -x "$py" ]; then
    apt_dir="$cache/apt-trixie"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/src"
    # A separate apt configuration: the machine's own sources stay as they are.
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir")
    apt-get "${apt_opts[@]}" update >"$logs/apt-trixie.log" 2>&1 || fail "apt-get update (trixie sources)"
    (cd "$apt_dir/src" && apt-get "${apt_opts[@]}" source --download-only python3.13 >>"$logs/apt-trixie.log" 2>&1) \
        || fail "apt-get source python3.13"
    orig=$(ls "$apt_dir"/src/python3.13_*.orig.tar.xz | head -1)
    rm -rf "$cache/cpython-src"
    mkdir -p "$cache/cpython-src"
    tar -xJf "$orig" -C "$cache/cpython-src" --strip-components=1
    echo "building $(basename "$orig") with --disable-gil (a few minutes)"
    (cd "$cache/cpython-src" && ./configure --disable-gil --prefix="$py_prefix" --with-ensurepip=install \
        >"$logs/cpython-configure.log" 2>&1) || fail "configure CPython (see $logs/cpython-configure.log)"
    make -C "$cache/cpython-src" -j"$jobs" >"$logs/cpython-make.log" 2>&1 \
        || fail "make CPython (see $logs/cpython-make.log)"
    make -C "$cache/cpython-src" install >"$logs/cpython-install.log" 2>&1 \
        || fail "install CPython (see $logs/cpython-install.log)"
fi
"$py" -c 'import sys, ssl; assert not sys._is_gil_enabled(), "GIL enabled"; print(sys.version)' \
    || fail "the interpreter is not free-threaded"

# ---------------------------------------------------------------------------
step "3b. build NumPy 2.2.1, pristine and patched"
venv() {  # venv NAME: a virtualenv of the free-threaded interpreter
    local dir="$work/venv-$1"
    [ -x "$dir/bin/python" ] || "$py" -m venv "$dir" || fail "creating venv $1"
    echo "$dir/bin/python"
}
build_py=$(venv build)
if ! "$build_py" -c 'import mesonpy, Cython' 2>/dev/null; then
    "$build_py" -m pip install --quiet meson-python meson ninja cython >"$logs/pip-build.log" 2>&1 \
        || fail "installing build tools (see $logs/pip-build.log)"
fi
build_dir="$work/build"
wheel() {  # wheel REV NAME: build a wheel of REV with the shared build directory
    git_ checkout -q -f "$1"
    rm -rf "$work/wheel-$2"
    echo "building $2 ($(git_ rev-parse --short HEAD))"
    local t0=$(date +%s)
    PATH="$work/venv-build/bin:$PATH" "$build_py" -m pip wheel --quiet --no-deps --no-build-isolation \
        -w "$work/wheel-$2" -Cbuild-dir="$build_dir" -Csetup-args=-Dallow-noblas=true "$repo" \
        >"$logs/build-$2.log" 2>&1 || fail "building NumPy $2 (see $logs/build-$2.log)"
    echo "  $2 built in $(( $(date +%s) - t0 ))s"
}
test_env() {  # test_env NAME: a venv with the wheel and the test requirements
    local p
    p=$(venv "$1")
    if ! "$p" -c 'import pytest, hypothesis' 2>/dev/null; then
        # NumPy 2.2's own pins (requirements/test_requirements.txt).
        "$p" -m pip install --quiet "hypothesis==6.104.1" "pytest==7.4.0" "pytz==2023.3.post1" \
            typing_extensions >"$logs/pip-$1.log" 2>&1 || fail "installing test tools for $1"
    fi
    "$p" -m pip install --quiet --force-reinstall --no-deps "$work"/wheel-"$1"/numpy-*.whl \
        >>"$logs/pip-$1.log" 2>&1 || fail "installing the $1 wheel"
    echo "$p"
}
build_ok_pristine=no
build_ok_patched=no
wheel pristine pristine && build_ok_pristine=yes
wheel dims-fix patched && build_ok_patched=yes
py_pristine=$(test_env pristine)
py_patched=$(test_env patched)
git_ checkout -q -f dims-fix

# ---------------------------------------------------------------------------
step "4. race reproducer: $trials trials x $threads threads x $calls calls"
for which in pristine patched; do
    p=py_$which
    echo "-- $which"
    (cd "$work" && "${!p}" "$here/scripts/repeat_race.py" --trials "$trials" --threads "$threads" \
        --calls "$calls" --json "$logs/race-$which.json") | tail -4
done

# ---------------------------------------------------------------------------
step "5. NumPy's regression test test_multithreaded_repeat (from 2.2.3)"
regress="$work/regression"
rm -rf "$regress"
mkdir -p "$regress"
cp "$fixed/numpy/_core/tests/test_multithreading.py" "$regress/"
# The test calls the 2.2.3 signature of numpy.testing's run_threaded; load
# that function from the 2.2.3 release for both builds.
cat >"$regress/conftest.py" <<PY
import ast, numpy.testing._private.utils as utils
source = open("$fixed/numpy/testing/_private/utils.py").read()
tree = ast.parse(source).body
# The function, with the module's plain (standard library) imports it uses.
body = [n for n in tree if isinstance(n, ast.Import)]
body += [n for n in tree if isinstance(n, ast.FunctionDef) and n.name == "run_threaded"]
namespace = dict(vars(utils))
exec(compile(ast.Module(body=body, type_ignores=[]), "numpy-2.2.3/utils.py", "exec"), namespace)
utils.run_threaded = namespace["run_threaded"]
PY
for which in pristine patched; do
    p=py_$which
    if (cd "$regress" && "${!p}" -m pytest -q -p no:cacheprovider test_multithreading.py \
            -k test_multithreaded_repeat >"$logs/regression-$which.log" 2>&1); then
        echo "$which: passed"
        echo passed >"$logs/regression-$which.result"
    else
        echo "$which: FAILED ($(tail -1 "$logs/regression-$which.log"))"
        echo failed >"$logs/regression-$which.result"
    fi
done

# ---------------------------------------------------------------------------
step "6. NumPy's tests of what the patch touches, on the patched build"
(cd "$work" && "$py_patched" -m pytest -q -p no:cacheprovider --pyargs \
    numpy._core.tests.test_multiarray numpy._core.tests.test_item_selection \
    >"$logs/numpy-tests.log" 2>&1) && tests_ok=yes || tests_ok=no
tail -3 "$logs/numpy-tests.log"

# ---------------------------------------------------------------------------
step "7. summary"
python3 - "$logs" "$build_ok_pristine" "$build_ok_patched" "$tests_ok" "$inject_bug" <<'PY'
import json, os, re, sys
logs, built_pristine, built_patched, tests_ok, injected = sys.argv[1:]
race = {w: json.load(open(os.path.join(logs, f"race-{w}.json"))) for w in ("pristine", "patched")}
regression = {w: open(os.path.join(logs, f"regression-{w}.result")).read().strip() for w in race}
log = open(os.path.join(logs, "numpy-tests.log")).read()
counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", log.splitlines()[-1] if log.strip() else ""))
tests = ", ".join(f"{v} {k}" for k, v in counts.items()) or "did not run"
rows = [
    ("build", "ok" if built_pristine == "yes" else "FAILED", "ok" if built_patched == "yes" else "FAILED"),
    ("race trials", str(race["pristine"]["trials"]), str(race["patched"]["trials"])),
    ("  clean", str(race["pristine"]["clean"]), str(race["patched"]["clean"])),
    ("  wrong results", str(race["pristine"]["wrong"]), str(race["patched"]["wrong"])),
    ("  wrong result seen (crashed or not)", str(race["pristine"]["wrong_seen"]), str(race["patched"]["wrong_seen"])),
    ("  crashed", str(race["pristine"]["crashed"]), str(race["patched"]["crashed"])),
    ("  hung / error", f'{race["pristine"]["hung"]} / {race["pristine"]["error"]}', f'{race["patched"]["hung"]} / {race["patched"]["error"]}'),
    ("wrong results (calls)", f'{race["pristine"]["wrong_results"]} of {race["pristine"]["checked_calls"]}', f'{race["patched"]["wrong_results"]} of {race["patched"]["checked_calls"]}'),
    ("test_multithreaded_repeat", regression["pristine"], regression["patched"]),
    ("test_multiarray + test_item_selection", "-", tests),
]
width = [max(len(r[i]) for r in rows + [("", "pristine 2.2.1", "dims-fix patched")]) for i in range(3)]
line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, width)) + " |"
print(line(("", "pristine 2.2.1", "dims-fix patched" + (" (+bug)" if injected == "1" else ""))))
print("|" + "|".join("-" * (w + 2) for w in width) + "|")
for r in rows:
    print(line(r))
p = race["patched"]
problems = []
if built_patched != "yes":
    problems.append("the patched build failed")
if p["wrong"] or p["wrong_seen"] or p["crashed"] or p["hung"] or p["error"]:
    problems.append(f'the race shows on the patched build ({p["wrong"]} trials with wrong results, {p["crashed"]} crashed, {p["hung"]} hung, {p["error"]} errors)')
if regression["patched"] != "passed":
    problems.append("test_multithreaded_repeat failed on the patched build")
if tests_ok != "yes":
    problems.append(f"NumPy's tests failed on the patched build ({tests})")
open(os.path.join(logs, "problems.txt"), "w").write("\n".join(problems))
PY
if [ -s "$logs/problems.txt" ]; then
    current="7. summary"
    fail "$(paste -sd ';' "$logs/problems.txt")"
fi
current=""
echo "patched NumPy is clean: no race, tests pass ($(( $(date +%s) - started ))s)"
