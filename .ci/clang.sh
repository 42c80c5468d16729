#!/usr/bin/env bash
# CI: lucy built with Clang (Debian's clang, OpenMP from libomp-dev), as a
# user whose compiler is Clang builds it, and the whole suite run on it,
# every SIMD tier this machine has included (conftest.py). The job also
# checks that the build has the SIMD tiers: a Clang build once got none.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
start=$SECONDS

# Debian's clang finds libomp-dev's omp.h in its own resource directory.
if ! command -v clang >/dev/null || ! dpkg -s libomp-dev >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libomp-dev >/dev/null
fi

python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
python -m pip install --quiet --upgrade pip
pip install --quiet "meson-python>=0.16" "meson>=1.4" ninja "Cython>=3.0.10" numpy scipy
CC=clang pip install --quiet ".[test]" --no-build-isolation -Cbuild-dir="$work/build"
grep -q "^c_compiler.*clang\|C compiler for the host machine: clang" "$work/build/meson-logs/meson-log.txt" \
    || { echo "the build did not use clang" >&2; exit 1; }

cd "$work"      # the installed lucy, never the source tree
python -c "import lucy; lucy.show_config()"
python - <<'PY'
import platform
from lucy import _batch
built = _batch.kernel_tiers_built()
want = {"x86_64": ["portable", "avx2", "avx512"], "aarch64": ["portable", "neon"]}
expected = want.get(platform.machine(), ["portable"])
assert built == expected, f"Clang build has tiers {built}, expected {expected}"
assert _batch.openmp_enabled(), "Clang build without OpenMP (is libomp-dev installed?)"
PY
pytest -p no:cacheprovider -q "$root/tests"
echo "clang: passed in $((SECONDS - start)) s"
