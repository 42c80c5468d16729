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
    # A build without OpenMP must be a choice (-Dopenmp=disabled), never a
    # compiler that silently had none.
    if lucy._build_config.openmp_option == "disabled":
        pytest.skip("lucy was built serial on purpose (-Dopenmp=disabled)")
    assert _batch.openmp_enabled(), "built without OpenMP. " + lucy._config.HOW_TO_GET_OPENMP


def test_import_warns_only_for_an_accidental_serial_build_on_several_cores():
    warning = lucy._config.openmp_warning
    assert warning(True, "auto", 8) is None
    assert warning(True, "enabled", 8) is None
    assert warning(False, "disabled", 8) is None      # serial by choice
    assert warning(False, "auto", 1) is None          # nothing to lose
    message = warning(False, "auto", 8)
    assert "without OpenMP" in message and "8 cores" in message
    assert "lucy.show_config()" in message


def test_import_warning_is_given(monkeypatch):
    monkeypatch.setattr(_batch, "openmp_enabled", lambda: False)
    monkeypatch.setattr(lucy._build_config, "openmp_option", "auto")
    monkeypatch.setattr(lucy._config, "_usable_cpus", lambda: 4)
    with pytest.warns(UserWarning, match="built without OpenMP .* 4 cores"):
        lucy._config._warn_if_openmp_is_missing()


@pytest.mark.parametrize("option", ["auto", "disabled"])
def test_show_config_says_how_to_get_openmp(monkeypatch, capsys, option):
    real = lucy._config.config()
    monkeypatch.setattr(lucy._config, "config",
                        lambda: dict(real, openmp=False, openmp_option=option))
    lucy.show_config()
    out = capsys.readouterr().out
    if option == "disabled":
        assert "openmp: off (built with -Dopenmp=disabled" in out
        assert "libomp" not in out
    else:
        assert "openmp: OFF: lucy was built without OpenMP" in out
        assert "brew install libomp" in out and "apt install libomp-dev" in out
        assert "pip install --force-reinstall --no-deps --no-cache-dir lucy-batched-lu" in out


def test_main_says_first_that_openmp_is_off(monkeypatch, capsys):
    import lucy.__main__
    monkeypatch.setattr(_batch, "openmp_enabled", lambda: False)
    assert lucy.__main__.main(["--quick", "--batch", "20"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("!! lucy was built WITHOUT OpenMP")


def test_show_config(capsys):
    lucy.show_config()
    out = capsys.readouterr().out
    cfg = lucy._config.config()
    assert ("openmp: on" in out) == cfg["openmp"]
    assert "default workers:" in out and "lapack:" in out
    assert cfg["lapack_int_bytes"] == 4
    # The tier in use, the tiers built and those this CPU runs.
    tier = _batch.kernel_tier()
    assert f"kernels: {tier} (" in out
    assert "built: " + ", ".join(cfg["kernel_tiers_built"]) in out
    assert "this CPU runs: " + ", ".join(cfg["kernel_tiers_supported"]) in out
    assert tier in cfg["kernel_tiers_supported"]
    assert set(cfg["kernel_tiers_supported"]) <= set(cfg["kernel_tiers_built"])
    families = cfg["kernel_families"]
    assert ("tiny ones four at a time" in out) == any(max(n) for n in families["lanes"].values())
    blocked = cfg["simd_blocked_real_max_n"]
    assert blocked + 1 == _batch.BLOCKED_MIN_N   # where the parallel blocked LU starts
    assert (f"up to {blocked} x {blocked} blocked" in out) == families["panels"]


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


def test_main_runs_without_docstrings(tmp_path):
    # python -OO strips docstrings; lucy fills a placeholder in one of them
    # at import, which must not fail then.
    out = subprocess.run([sys.executable, "-OO", "-P", "-m", "lucy", "--quick", "--batch", "100"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "self-check: passed" in out.stdout


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
