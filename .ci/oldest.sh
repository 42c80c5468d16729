#!/usr/bin/env bash
# CI: the suite against the oldest versions pyproject.toml declares for lucy's
# runtime dependencies. lucy itself is built as pip builds it (isolated, so
# against NumPy 2: binaries built that way also run on NumPy 1.26), then
# installed beside the old NumPy and SciPy.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS

# Keep these equal to the minimums in pyproject.toml's `dependencies`.
cat > "$WORK/oldest.txt" <<'EOF'
numpy==1.26.4
scipy==1.13.1
threadpoolctl==3.1.0
EOF

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip
echo "== oldest: install lucy[test] with $(tr '\n' ' ' < "$WORK/oldest.txt")"
# -c applies to lucy's dependencies only, not to its isolated build.
"$WORK/venv/bin/python" -m pip install --quiet -c "$WORK/oldest.txt" "$SRC[test]"
"$WORK/venv/bin/python" -c "import numpy, scipy, threadpoolctl, lucy
print('numpy', numpy.__version__, 'scipy', scipy.__version__,
      'threadpoolctl', threadpoolctl.__version__, 'lucy', lucy.__version__)"

cd "$SRC"
"$WORK/venv/bin/pytest" -q -p no:cacheprovider
echo "== oldest: done in $((SECONDS - start)) s"
