#!/usr/bin/env bash
# CI: lucy built with -Dopenmp=disabled, as a user without an OpenMP
# runtime gets it (serial batches, a loud warning at build time), and the
# whole suite run on it: everything but the OpenMP check passes on one
# thread.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
start=$SECONDS

python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
python -m pip install --quiet --upgrade pip
pip install --quiet "meson-python>=0.16" "meson>=1.4" ninja "Cython>=3.0.10" numpy scipy
pip install --quiet ".[test]" --no-build-isolation -Cbuild-dir="$work/build" \
    -Csetup-args=-Dopenmp=disabled
grep -q "OpenMP NOT FOUND" "$work/build/meson-logs/meson-log.txt" \
    || { echo "the build did not warn that OpenMP is off" >&2; exit 1; }

cd "$work"      # the installed lucy, never the source tree
python -c "import lucy; lucy.show_config()"
python -c "from lucy import _batch; assert not _batch.openmp_enabled()"
# test_config's OpenMP check has this escape hatch for builds like this one.
LUCY_ALLOW_NO_OPENMP=1 pytest -p no:cacheprovider -q "$root/tests"
echo "no_openmp: passed in $((SECONDS - start)) s"
