#!/usr/bin/env bash
# CI: the builds users make besides GCC with OpenMP, each followed by the
# suite: Clang with LLVM's OpenMP (as on a Mac with libomp), and a serial
# build without OpenMP (-Dopenmp=disabled).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libomp-dev >/dev/null
fi

python3 -m venv "$WORK/venv"
# shellcheck disable=SC1091
. "$WORK/venv/bin/activate"
python -m pip install --quiet --upgrade pip
# One environment for both builds: lucy is rebuilt into it without isolation.
pip install --quiet "meson-python>=0.18" "meson>=1.4" ninja "Cython>=3.0.10" numpy scipy
pip install --quiet --no-build-isolation "$SRC[test]"

build_and_test() {   # name, then the pip/meson arguments of the build
    local name=$1 start=$SECONDS
    shift
    echo "== compilers: $name"
    pip install --quiet --no-build-isolation --no-deps --force-reinstall \
        -Cbuild-dir="$WORK/build-$name" "$@" "$SRC"
    (cd "$WORK" && python -c "import lucy; lucy.show_config()")
    (cd "$SRC" && pytest -q -p no:cacheprovider)
    echo "== compilers: $name done in $((SECONDS - start)) s"
}

# Clang: every SIMD tier of the platform must be in the build (the suite ran
# its kernel tests on each this CPU has) and OpenMP on.
CC=clang build_and_test clang
(cd "$WORK" && python -c "
import platform
import lucy._batch as b
want = {'x86_64': ['portable', 'avx2', 'avx512'], 'aarch64': ['portable', 'neon']}
built = b.kernel_tiers_built()
assert built == want.get(platform.machine(), ['portable']), f'Clang build has tiers {built}'
assert b.openmp_enabled(), 'Clang build without OpenMP'")

# No OpenMP, on purpose: serial, quiet, and everything else green.
build_and_test no-openmp -Csetup-args=-Dopenmp=disabled
(cd "$WORK" && python -c "
import lucy._batch as b
assert not b.openmp_enabled()")
