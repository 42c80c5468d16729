"""SciPy's own LU tests, run against lucy.

The installed SciPy's ``linalg/tests/test_decomp_lu.py`` and the LU cases of
``linalg/tests/test_batch.py`` are loaded from SciPy's installation at run
time (nothing of them is copied here), with ``lu``, ``lu_factor`` and
``lu_solve`` of ``scipy.linalg`` replaced by lucy's in those modules alone.
Every other name they use (``solve``, ``get_lapack_funcs``, ...) is still
SciPy's, so SciPy's own LAPACK stays the oracle.

Where lucy differs from SciPy on purpose, the test is a strict expected
failure listed in ``EXPLAINED`` with its reason: a new difference in a later
SciPy fails here at once, and so does a difference that goes away.
"""

import builtins
import importlib.util
import os
import types

import pytest
import scipy
import scipy.linalg

import lucy

SCIPY_TESTS = os.path.join(os.path.dirname(scipy.__file__), "linalg", "tests")

if not os.path.exists(os.path.join(SCIPY_TESTS, "test_decomp_lu.py")):
    pytest.skip("this SciPy was installed without its tests", allow_module_level=True)


class _LinalgWithLucy(types.ModuleType):
    """``scipy.linalg`` as the loaded test modules see it: lucy's three LU
    functions, SciPy's everything else."""

    lu = staticmethod(lucy.lu)
    lu_factor = staticmethod(lucy.lu_factor)
    lu_solve = staticmethod(lucy.lu_solve)

    def __getattr__(self, name):
        return getattr(scipy.linalg, name)


_LINALG = _LinalgWithLucy("scipy.linalg")
_SCIPY = types.SimpleNamespace(linalg=_LINALG)


def _import_with_lucy(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` for the loaded modules: ``from scipy import linalg``
    and ``from scipy.linalg import lu`` give lucy's functions."""
    if level == 0 and fromlist:
        if name == "scipy.linalg":
            return _LINALG
        if name == "scipy" and "linalg" in fromlist:
            return types.SimpleNamespace(
                **{n: _LINALG if n == "linalg" else getattr(scipy, n) for n in fromlist})
    return builtins.__import__(name, globals, locals, fromlist, level)


def _load(filename):
    path = os.path.join(SCIPY_TESTS, filename)
    spec = importlib.util.spec_from_file_location(
        f"lucy_tests_scipy_{filename[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    module.__builtins__ = dict(vars(builtins), __import__=_import_with_lucy)
    spec.loader.exec_module(module)
    return module


_decomp_lu = _load("test_decomp_lu.py")

# Where lucy differs from SciPy on purpose: "Class::test" -> the reason.
EXPLAINED = {
    "TestLU::test_empty_edge_cases": (
        "lu of an M x 0 matrix: lucy's P is the M x M identity, the P that satisfies "
        "A == P @ L @ U with L of shape (M, 0) and U (0, 0); SciPy returns P of shape "
        "(0, 0) (docs/conventions.md)"),
    "TestLUFactor::test_hrectangular": (
        "a singular 3 x 4 matrix whose U[2, 3] is pure cancellation noise: lucy's "
        "small-matrix kernel (right-looking) gives -1.1e-15 where OpenBLAS's getf2 "
        "(left-looking, dot products) gives -1.8e-15; SciPy compares it with rtol=1e-7"),
}


def _mark_explained(module):
    for key, reason in EXPLAINED.items():
        cls_name, test_name = key.split("::")
        cls = getattr(module, cls_name, None)
        test = getattr(cls, test_name, None)
        if test is None:
            raise LookupError(f"SciPy's suite no longer has {key}: update EXPLAINED")
        # This module's own copy of SciPy's class: marking it changes
        # nothing in SciPy's.
        setattr(cls, test_name, pytest.mark.xfail(strict=True, reason=reason)(test))


_mark_explained(_decomp_lu)

# SciPy's LU test classes, collected here as they are.
for _name, _obj in vars(_decomp_lu).items():
    if _name.startswith("Test") and isinstance(_obj, type):
        globals()[_name] = _obj


def _params(test, argname):
    """The values SciPy parametrizes ``test``'s ``argname`` with."""
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0] == argname:
            return mark.args[1]
    raise LookupError(f"{test.__qualname__} is not parametrized over {argname}")


if os.path.exists(os.path.join(SCIPY_TESTS, "test_batch.py")):
    _TestBatch = _load("test_batch.py").TestBatch

    @pytest.mark.parametrize("dtype", _params(_TestBatch.test_schur_lu, "dtype"))
    def test_batch_lu_factor(dtype):
        """TestBatch.test_schur_lu, its lu_factor half."""
        _TestBatch().test_schur_lu(lucy.lu_factor, dtype)

    @pytest.mark.parametrize("dtype", _params(_TestBatch.test_lu_solve, "dtype"))
    @pytest.mark.parametrize("bdim", _params(_TestBatch.test_lu_solve, "bdim"))
    def test_batch_lu_solve(bdim, dtype):
        _TestBatch().test_lu_solve(bdim, dtype)
else:
    def test_batch():
        pytest.skip(f"SciPy {scipy.__version__} has no batch tests (linalg/tests/"
                    f"test_batch.py came with SciPy's batch support)")


# Singular matrices warn in lucy as in SciPy; SciPy's tests do not expect it.
pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
