"""lucy's annotations under ``mypy --strict``: the installed package passes,
a user's typed script that calls lucy correctly passes, and the usual
mistakes are reported (the files in tests/typing/); the compiled modules'
.pyi stubs match the modules.

One mypy run checks the package and the scripts (3-5 s cold with mypy 2.4 on
2 cores), from a temporary directory with its cache there, so that neither
the working directory nor an old cache stands in for the installed package;
stubtest takes about 7 s more.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lucy

CASES = Path(__file__).resolve().parent / "typing"
PACKAGE = Path(lucy.__file__).resolve().parent
# "path:line: error: message  [code]", as mypy prints it without colour or context.
ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$")
EXPECTED = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)\s*$")
SCRIPTS = ["user_script", "user_script_dask", "user_script_mlx"]


def missing_library(script):
    """The optional library (Dask, MLX) that user_script_<library> needs, if
    it is not installed."""
    library = script.partition("user_script_")[2]
    return library if library and importlib.util.find_spec(library) is None else None


def skip_without_library(script):
    if library := missing_library(script):
        pytest.skip(f"{library} is not installed")


def mypy_path(*folders):
    """MYPYPATH with ``folders`` and, for an editable install, the source
    tree: mypy cannot follow meson-python's import hook there. (An installed
    lucy is found in site-packages, which must not be on that path.)"""
    if (PACKAGE / "meson.build").exists():
        folders += (PACKAGE.parent,)
    return {**os.environ, "MYPYPATH": os.pathsep.join(map(str, folders))}


@pytest.fixture(scope="module")
def mypy_config(pytestconfig):
    """The pyproject.toml that holds lucy's [tool.mypy] (pytest's own, which
    .ci/wheel.sh names with -c when the tests run from a copy)."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it is in the test extra)")
    config = pytestconfig.inipath
    if config is None or "[tool.mypy]" not in Path(config).read_text():
        pytest.skip("no pyproject.toml with lucy's [tool.mypy] configuration beside the tests")
    return str(config)


@pytest.fixture(scope="module")
def mypy_errors(mypy_config, tmp_path_factory):
    """mypy --strict over the package and tests/typing/: {file: [(line, code,
    message)]} for every file that has errors."""
    # By module name, not path: a path in site-packages would make mypy take
    # all of site-packages for the user's own code.
    modules = ["-p", "lucy", "-m", "mistakes"]
    for script in SCRIPTS:
        if not missing_library(script):
            modules += ["-m", script]
    tmp = tmp_path_factory.mktemp("mypy")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", mypy_config,
         "--cache-dir", str(tmp / "cache"), "--no-color-output", "--no-pretty",
         "--hide-error-context", "--show-error-codes", "--no-error-summary", *modules],
        capture_output=True, text=True, cwd=tmp, timeout=600, env=mypy_path(CASES))
    assert out.returncode in (0, 1), out.stdout + out.stderr   # 2: mypy itself failed
    errors = {}
    for line in out.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            path = (tmp / match["path"]).resolve()
            errors.setdefault(path, []).append(
                (int(match["line"]), match["code"], match["message"]))
        else:
            assert ": note: " in line, line    # nothing but errors and their notes
    return errors


def test_package_passes_mypy_strict(mypy_errors):
    in_package = {path: errs for path, errs in mypy_errors.items() if PACKAGE in path.parents}
    assert not in_package


def test_stubs_match_the_compiled_modules(mypy_config, tmp_path):
    """_batch.pyi and cython_lu.pyi hold what the compiled modules hold (names,
    arguments, constants), and _build_config.pyi what meson generates: mypy's
    stubtest imports each module and compares."""
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "lucy._batch", "lucy.cython_lu",
         "lucy._build_config", "--mypy-config-file", mypy_config,
         "--allowlist", str(CASES / "stubtest_allowlist.txt")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, env=mypy_path())
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_user_script_passes_mypy_strict(mypy_errors, script):
    skip_without_library(script)
    assert mypy_errors.get(CASES / f"{script}.py", []) == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_user_script_runs(script):
    # The scripts are real uses: they run, and their asserts hold.
    skip_without_library(script)
    out = subprocess.run([sys.executable, str(CASES / f"{script}.py")], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr


def test_import_lucy_does_not_import_its_types():
    # lucy's annotations are strings and lucy._typing is imported only under
    # TYPE_CHECKING: they cost import lucy nothing.
    code = ("import sys, numpy as np, lucy, lucy.mlx; lucy.lu(np.eye(3)); "
            "print('lucy._typing' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "False"


def test_mypy_reports_the_mistakes(mypy_errors):
    """Each ``# E: code`` line of mistakes.py has that error, and no other
    line has any: a signature that went back to Any would let them pass."""
    path = CASES / "mistakes.py"
    expected = {(number, match["code"])
                for number, text in enumerate(path.read_text().splitlines(), 1)
                if (match := EXPECTED.search(text))}
    assert len(expected) >= 10
    found = {(number, code) for number, code, _ in mypy_errors.get(path, [])}
    assert found == expected, mypy_errors.get(path)
