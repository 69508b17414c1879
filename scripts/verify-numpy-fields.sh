#!/usr/bin/env bash
# Proof of the metadata family's bug fix on real NumPy (docs/numpy.md,
# "The metadata family"): NumPy 2.2.1's sort, argsort, partition and
# argpartition swap a structured array's dtype for `order=` and skip the
# restore on an early error exit (DF190). This script
#  1. runs `dims-fix --fields descr --class manual --commit` on the 2.2.1
#     repository verify-numpy.sh made, and checks the series: one BUG
#     commit per function, each only adding the restore before the exit;
#  2. builds that branch with verify-numpy.sh's interpreter and meson build
#     directory (only the changed files recompile);
#  3. shows with scripts/descr_exit_check.py that a failed call leaves the
#     dtype changed on the pristine build and unchanged on the fixed one;
#  4. runs NumPy's test_multiarray.py on the fixed build.
# Exits non-zero if a step fails, the pristine build does not show the bug,
# or the fixed one does.
#
# Run scripts/verify-numpy.sh first: this reuses its cache (the repository,
# the free-threaded CPython, the build directory and the pristine wheel);
# --cache DIR / $DIMS_FIX_CACHE as there. $DIMS_FIX names the binary.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${DIMS_FIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dims-fix}
while [ $# -gt 0 ]; do
    case "$1" in
        --cache) cache=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
        *) echo "verify-numpy-fields: unknown argument $1" >&2; exit 2 ;;
    esac
done
cache=$(realpath -m "$cache")
export DIMS_FIX_CACHE=$cache
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
    GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_COMMON_DIR GIT_NAMESPACE
work="$cache/verify"
logs="$work/logs"
repo="$work/numpy-2.2.1"
build_py="$work/venv-build/bin/python"
py_pristine="$work/venv-pristine/bin/python"
started=$(date +%s)
current=""
step() {
    current=$1
    printf '\n== [%s] %s (%ds)\n' "$(date +%H:%M:%S)" "$1" $(( $(date +%s) - started ))
}
fail() {
    printf '\nverify-numpy-fields: FAILED at step "%s": %s\n' "$current" "$*" >&2
    exit 1
}
for need in "$repo/.git" "$build_py" "$py_pristine" "$work/build"; do
    [ -e "$need" ] || { echo "verify-numpy-fields: $need is missing; run scripts/verify-numpy.sh first" >&2; exit 2; }
done
mkdir -p "$logs"
git_() { git -C "$repo" "$@"; }
dims_fix=$("$here/scripts/dims-fix-bin.sh") || fail "building dims-fix"

# ---------------------------------------------------------------------------
step "1. dims-fix --fields descr --class manual --commit on NumPy 2.2.1"
git_ checkout -q -f main
git_ reset -q --hard pristine
git_ clean -qfdx
git_ branch -q -D dims-fix-fields 2>/dev/null || true
"$dims_fix" --fields descr --class manual --commit --branch dims-fix-fields --color never "$repo" \
    >"$logs/fields-commit.txt" 2>&1 || { cat "$logs/fields-commit.txt" >&2; fail "dims-fix --commit"; }
made=$(git_ rev-list --count pristine..dims-fix-fields)
[ "$made" = 4 ] || fail "expected 4 commits (sort, argsort, partition, argpartition), found $made"
for function in array_sort array_argsort array_partition array_argpartition; do
    commit=$(git_ log --format=%H --grep="^BUG: restore .* $function\$" pristine..dims-fix-fields)
    [ -n "$commit" ] || fail "no BUG commit for $function"
    files=$(git_ show --format= --name-only "$commit")
    [ "$files" = numpy/_core/src/multiarray/methods.c ] || fail "$function's commit touches $files"
    removed=$(git_ show --format= "$commit" | grep -c '^-[^-]' || true)
    show=$(git_ show --format= "$commit")
    grep -qF -- '+            ((PyArrayObject_fields *)self)->descr = saved;' <<<"$show" \
        || fail "$function's commit does not restore the descr"
    # Only the `if` line gains a brace; nothing else is removed.
    [ "$removed" -le 1 ] || fail "$function's commit removes $removed lines"
done
git_ log --format='  %s' pristine..dims-fix-fields

# ---------------------------------------------------------------------------
step "2. build the fixed branch (shared build directory)"
git_ checkout -q -f dims-fix-fields
rm -rf "$work/wheel-fields"
t0=$(date +%s)
PATH="$work/venv-build/bin:$PATH" "$build_py" -m pip wheel --quiet --no-deps --no-build-isolation \
    -w "$work/wheel-fields" -Cbuild-dir="$work/build" -Csetup-args=-Dallow-noblas=true "$repo" \
    >"$logs/build-fields.log" 2>&1 || fail "building NumPy with the fix (see $logs/build-fields.log)"
echo "built in $(( $(date +%s) - t0 ))s"
py_fixed="$work/venv-fields/bin/python"
[ -x "$py_fixed" ] || "$(readlink -f "$build_py")" -m venv "$work/venv-fields" \
    || fail "creating the venv"
if ! "$py_fixed" -c 'import pytest, hypothesis' 2>/dev/null; then
    "$py_fixed" -m pip install --quiet "hypothesis==6.104.1" "pytest==7.4.0" "pytz==2023.3.post1" \
        typing_extensions >"$logs/pip-fields.log" 2>&1 || fail "installing test tools"
fi
"$py_fixed" -m pip install --quiet --force-reinstall --no-deps "$work"/wheel-fields/numpy-*.whl \
    >>"$logs/pip-fields.log" 2>&1 || fail "installing the fixed wheel"

# ---------------------------------------------------------------------------
step "3. a failed order= call: dtype after it, pristine and fixed"
for which in pristine fixed; do
    p=py_$which
    echo "-- $which"
    (cd "$work" && "${!p}" "$here/scripts/descr_exit_check.py" --json "$logs/descr-$which.json") \
        || fail "descr_exit_check.py on $which"
done

# ---------------------------------------------------------------------------
step "4. NumPy's test_multiarray.py on the fixed build"
(cd "$work" && "$py_fixed" -m pytest -q -p no:cacheprovider --pyargs numpy._core.tests.test_multiarray \
    >"$logs/fields-tests.log" 2>&1) && tests_ok=yes || tests_ok=no
tail -1 "$logs/fields-tests.log"

# ---------------------------------------------------------------------------
step "5. summary"
python3 - "$logs" "$tests_ok" <<'PY'
import json, os, sys
logs, tests_ok = sys.argv[1:]
res = {w: json.load(open(os.path.join(logs, f"descr-{w}.json"))) for w in ("pristine", "fixed")}
print("| call | pristine 2.2.1: dtype changed | fixed: dtype changed |")
print("|---|---|---|")
problems = []
for case in res["pristine"]:
    p, f = res["pristine"][case], res["fixed"][case]
    print(f"| {case} | {'yes' if p['changed'] else 'no'} | {'yes' if f['changed'] else 'no'} |")
    if not (p["raised"] and f["raised"]):
        problems.append(f"{case} did not raise")
    if not p["changed"]:
        problems.append(f"{case}: the pristine build does not show the bug")
    if f["changed"]:
        problems.append(f"{case}: the fixed build still changes the dtype")
if tests_ok != "yes":
    problems.append("test_multiarray.py failed on the fixed build")
open(os.path.join(logs, "fields-problems.txt"), "w").write("\n".join(problems))
PY
if [ -s "$logs/fields-problems.txt" ]; then
    fail "$(paste -sd ';' "$logs/fields-problems.txt")"
fi
current=""
echo "fixed NumPy keeps the dtype on every early exit; test_multiarray passes ($(( $(date +%s) - started ))s)"
