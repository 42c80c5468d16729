#!/usr/bin/env bash
# lucy built with AddressSanitizer + UndefinedBehaviorSanitizer and Cython's
# bounds checks, and the whole suite run under it. Any sanitizer report ends
# the process with an error, so it fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)

python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
python -m pip install --quiet --upgrade pip
# The build needs its tools in this venv (no build isolation: one NumPy and
# SciPy for building and testing), the suite its test extra.
pip install --quiet "meson-python>=0.18" "meson>=1.4" ninja "Cython>=3.0.10" numpy scipy
pip install --quiet ".[test]" --no-build-isolation \
    -Cbuild-dir="$work/build" \
    -Csetup-args=-Db_sanitize=address,undefined \
    -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dcython-checks=true \
    -Csetup-args=-Dc_args=-fno-sanitize-recover=all \
    -Csetup-args=-Dbuildtype=debugoptimized

# Python and NumPy are not built with ASan: its runtime must be loaded first.
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD
# CPython keeps memory until exit on purpose: leak reports would be noise.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The test that builds a downstream Cython project compiles it with the
# sanitizers' runtime preloaded into the compiler too; that only costs time.

cd "$work"      # the installed lucy, never the source tree
python -c "import lucy; lucy.show_config()"
# The job means nothing if the build silently dropped the sanitizers.
python - <<'PY'
import lucy._batch, lucy.cython_lu
for module in (lucy._batch, lucy.cython_lu):
    data = open(module.__file__, "rb").read()
    assert b"__asan_" in data and b"__ubsan_" in data, f"{module.__file__} is not instrumented"
PY
pytest -p no:cacheprovider -q "$root/tests" 2>&1 | tee "$work/pytest.log"
# ASan's reports start "==PID==ERROR: ", UBSan's "file:line:col: runtime error: ".
if grep -qE "==[0-9]+==ERROR: |: runtime error: " "$work/pytest.log"; then
    echo "sanitizer report in the suite's output (above)" >&2
    exit 1
fi
