"""Every public docstring's examples run (against the installed package)."""

import doctest

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
