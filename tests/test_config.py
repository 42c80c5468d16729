"""Build configuration, show_config and ``python -m lucy``."""

import importlib.metadata
import os
import re
import subprocess
import sys

import pytest

import lucy
from lucy import _batch


def test_openmp_built_in():
    # CI machines have a compiler with OpenMP; a build without it is a
    # packaging bug, not a choice. LUCY_ALLOW_NO_OPENMP=1 skips this check.
    if os.environ.get("LUCY_ALLOW_NO_OPENMP") == "1":
        pytest.skip("LUCY_ALLOW_NO_OPENMP=1")
    assert _batch.openmp_enabled()


def test_show_config(capsys):
    lucy.show_config()
    out = capsys.readouterr().out
    assert "openmp:" in out and "default workers:" in out and "lapack:" in out
    cfg = lucy._config.config()
    assert cfg["lapack_int_bytes"] == 4
    # The SIMD kernels run only where they were compiled in; the line says which.
    assert not cfg["simd_kernels"] or cfg["simd_kernels_compiled"]
    assert ("AVX2+FMA: float32/float64" in out) == cfg["simd_kernels"]
    blocked = cfg["simd_blocked_real_max_n"]
    assert blocked + 1 == _batch.BLOCKED_MIN_N   # where the parallel blocked LU starts
    assert (f"up to {blocked} x {blocked} blocked" in out) == cfg["simd_kernels"]


def test_version_is_the_one_in_meson_build():
    # meson.build's project() version is the only one written down; the
    # package metadata and lucy.__version__ are both generated from it.
    assert lucy.__version__ == importlib.metadata.version("lucy-batched-lu")
    meson_build = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "meson.build")
    if os.path.exists(meson_build):     # the tests sit in a clone
        with open(meson_build) as f:
            written = re.search(r"version:\s*'([^']+)'", f.read()).group(1)
        assert lucy.__version__ == written


def test_not_imported_from_source_tree():
    # The suite must exercise the installed package; an editable install
    # maps to the source tree but still loads the built extension.
    assert _batch.__file__.endswith((".so", ".pyd"))


def test_main_runs(tmp_path):
    # -P and a neutral cwd: run the installed package, as the README does.
    out = subprocess.run([sys.executable, "-P", "-m", "lucy", "--quick"], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "self-check: passed" in out.stdout
    assert "speed-up" in out.stdout


def test_main_runs_from_the_clone_root():
    # The README's command, where a user types it: in the repository's root,
    # where `import lucy` first finds the unbuilt source folder.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(root, "meson.build")):
        pytest.skip("the tests are not inside a clone of lucy")
    out = subprocess.run([sys.executable, "-m", "lucy", "--quick"], capture_output=True,
                         text=True, timeout=300, cwd=root)
    assert out.returncode == 0, out.stderr
    assert "self-check: passed" in out.stdout
