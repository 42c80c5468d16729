"""Every public docstring's examples run (against the installed package);
the Markdown pages' links resolve, and README's test command is what CI runs."""

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

import lucy
import lucy._api
import lucy._config
import lucy._pivots
import lucy._threads
import lucy.mlx

MODULES = [lucy, lucy._api, lucy._pivots, lucy._threads, lucy._config, lucy.mlx]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_doctests(module):
    np.set_printoptions(legacy=False)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.attempted > 0 or module is lucy
    assert result.failed == 0


def test_every_public_function_has_an_example():
    for name in lucy.__all__:
        obj = getattr(lucy, name)
        assert obj.__doc__ and ">>>" in obj.__doc__, name


ROOT = Path(__file__).resolve().parent.parent


def markdown_pages():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
    pages = [page for page in pages if page.is_file()]
    if not pages:
        pytest.skip("the Markdown pages are not in this checkout")
    return pages


def test_relative_links_resolve():
    """Links and images between lucy's pages point at files that exist (the
    docs moved out of README once; a moved page must not leave dead links)."""
    for page in markdown_pages():
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_readme_test_command_is_what_ci_runs_last():
    readme, ci = ROOT / "README.md", ROOT / ".ci" / "run"
    if not (readme.is_file() and ci.is_file()):
        pytest.skip("README.md or .ci/run is not in this checkout")
    commands = re.findall(r"```sh\n(.*?)\n```", readme.read_text(), re.S)
    test_command = next(c for c in commands if "pytest" in c)
    last = [line for line in ci.read_text().splitlines()
            if line.strip() and not line.startswith("#")][-1]
    assert last == test_command

