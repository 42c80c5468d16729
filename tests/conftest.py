"""Shared test data and the SciPy oracle.

Lives in tests/ (not the repository root) so that the unbuilt source tree
can never shadow the installed package.
"""

import contextlib
import os
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import HealthCheck, settings

with warnings.catch_warnings():
    # A build that fell back to serial kernels warns at import (an error
    # under filterwarnings = error); test_openmp_built_in reports it, with
    # the fix, instead of the whole suite failing to load.
    warnings.filterwarnings("ignore", "lucy was built without OpenMP", UserWarning)
    import lucy
    from lucy import _batch, cython_lu

# (differing_executors: the property tests of classes run once per SIMD
# tier, each time from another instance of the class; see KERNEL_TIERS.)
settings.register_profile(
    "ci", max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
# On demand: HYPOTHESIS_PROFILE=long pytest tests/test_differential.py
settings.register_profile(
    "long", max_examples=6000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# What the oldest NumPy and SciPy that lucy supports (1.26 and 1.13, tested by
# .ci/oldest.sh) cannot do themselves: tests that need it skip, saying why,
# instead of blaming lucy. NumPy arrays have up to 64 dimensions from NumPy
# 2.0 on, 32 before.
NUMPY_MAX_DIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32


def skip_beyond_numpy_max_dims(ndim):
    if ndim > NUMPY_MAX_DIMS:
        pytest.skip(f"NumPy {np.__version__} arrays have at most {NUMPY_MAX_DIMS} "
                    f"dimensions, not {ndim}")


def _scipy_does(call):
    """Whether SciPy, the oracle, runs ``call`` (probed, not read off a version)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except (TypeError, ValueError):
        return False
    return True


# SciPy 1.13's lu refuses longdouble, and its lu_factor and lu_solve raise on
# matrices with no rows or columns.
SCIPY_LU_TAKES_LONGDOUBLE = _scipy_does(lambda: sla.lu(np.eye(2, dtype=np.longdouble)))
SCIPY_TAKES_EMPTY = (_scipy_does(lambda: sla.lu_factor(np.ones((0, 3))))
                     and _scipy_does(lambda: sla.lu_solve((np.ones((0, 0)), np.ones(0, np.int32)),
                                                          np.ones((0, 1)))))

# Set by .ci/sanitize.sh: the suite runs with AddressSanitizer preloaded.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

LAPACK_DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
# Dtypes SciPy casts, with the dtype it computes in.
CAST_DTYPES = {
    np.bool_: np.float32, np.int8: np.float32, np.uint8: np.float32,
    np.int16: np.float32, np.uint16: np.float32, np.float16: np.float32,
    np.int32: np.float64, np.uint32: np.float64, np.int64: np.float64,
    np.uint64: np.float64, np.longdouble: np.float64,
    np.clongdouble: np.complex128,
}

# (batch..., M, N): square, tall, wide, 1x1, batched, several batch dims,
# and sizes on both sides of lucy's small-matrix kernel (n <= 32 vs LAPACK).
SHAPES = [
    (1, 1), (2, 2), (4, 4), (5, 3), (3, 5), (8, 8),
    (7, 4, 4), (2, 3, 5, 5), (6, 1, 5), (6, 5, 1), (1, 3, 3), (17, 2, 2),
    (3, 40, 40), (2, 50, 33), (2, 33, 50), (2, 32, 32), (2, 33, 33),
    (1, 120, 100),
]
EMPTY_SHAPES = [(0, 0), (0, 3), (3, 0), (0, 4, 4), (2, 0, 3), (5, 3, 0),
                (0, 0, 0), (2, 0, 1, 1)]


def random_matrices(shape, dtype, rng):
    """Random test matrices of ``dtype``: normal values, integers for
    integer dtypes, 0/1 for bool; complex with a random imaginary part."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind in "iu":
        lo = 0 if dtype.kind == "u" else -100
        return rng.integers(lo, 100, size=shape).astype(dtype)
    a = rng.standard_normal(shape)
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def tolerance(dtype, n):
    """Allowed max |difference| / max |reference| between two correct LU
    results that differ only in rounding (lucy's small-matrix kernel and
    LAPACK order their arithmetic differently)."""
    eps = np.finfo(np.dtype(dtype).char.lower() if np.dtype(dtype).kind == "c"
                   else np.dtype(dtype)).eps
    return 64 * eps * max(n, 1)


def close(actual, desired, dtype, n):
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape
    scale = max(1.0, float(np.abs(desired).max())) if desired.size else 1.0
    err = float(np.abs(actual - desired).max()) if desired.size else 0.0
    assert err <= tolerance(dtype, n) * scale, f"max error {err:.3g} (scale {scale:.3g})"


def scipy_lu_factor(a2d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        return sla.lu_factor(a2d)


def assert_lu_factor_matches_scipy(a, lu, piv):
    """The oracle: every matrix of the stack, factored by SciPy on its own."""
    a = np.asarray(a)
    *batch, m, n = a.shape
    assert lu.shape == a.shape and piv.shape == (*batch, min(m, n))
    assert piv.dtype == np.int32
    for idx in np.ndindex(*batch):
        ref_lu, ref_piv = scipy_lu_factor(a[idx])
        assert lu[idx].dtype == ref_lu.dtype
        np.testing.assert_array_equal(piv[idx], ref_piv, err_msg=f"pivots at {idx}")
        close(lu[idx], ref_lu, lu.dtype, max(m, n))


def assert_reconstructs(a, p, l, u):
    """A == P @ L @ U within rounding."""
    a = np.asarray(a)
    dtype = l.dtype
    close(p.astype(dtype) @ l @ u, a.astype(dtype), dtype, max(a.shape[-2:]))


def layouts(a):
    """The same matrices as ``a`` (..., M, N) in many memory layouts:
    C, Fortran, strided, negative strides in core and batch dims, transposed
    storage, read-only, and a big-endian copy. Yields (name, view)."""
    yield "C", np.ascontiguousarray(a)
    yield "F", np.asfortranarray(a)
    big = np.zeros(a.shape[:-2] + (2 * a.shape[-2], 3 * a.shape[-1]), a.dtype)
    big[..., ::2, ::3] = a
    yield "strided", big[..., ::2, ::3]
    flipped = np.ascontiguousarray(a[..., ::-1, ::-1])
    yield "negative-core", flipped[..., ::-1, ::-1]
    if a.ndim > 2:
        fb = np.ascontiguousarray(a[::-1])
        yield "negative-batch", fb[::-1]
    yield "transposed", np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    ro = a.copy()
    ro.flags.writeable = False
    yield "readonly", ro
    if a.dtype.itemsize > 1 and a.dtype.kind in "fc":
        yield "big-endian", a.astype(a.dtype.newbyteorder(">"))
    yield "unaligned", unaligned_copy(a)


def unaligned_copy(a):
    """A copy of ``a`` whose data pointer is not aligned to its itemsize."""
    a = np.ascontiguousarray(a)
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = buf[1:].view(a.dtype).reshape(a.shape) if a.nbytes else a.copy()
    out[...] = a
    return out


# The SIMD kernel tiers this build has and this CPU runs (lucy/_kernels,
# docs/kernels.md): the tests marked every_tier run once on each, all in
# this process, switching both compiled modules (_batch and cython_lu).
KERNEL_TIERS = _batch.kernel_tiers_supported()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "every_tier: run once on each SIMD kernel tier this machine has")


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("every_tier"):
        metafunc.parametrize("kernel_tier", KERNEL_TIERS, indirect=True,
                             ids=[f"tier={t}" for t in KERNEL_TIERS])


@contextlib.contextmanager
def kernels(tier):
    """lucy's kernels at ``tier`` (a name of KERNEL_TIERS) inside the block."""
    before = _batch.kernel_tier()
    _batch._use_kernels(tier)
    cython_lu._use_kernels(tier)
    try:
        yield
    finally:
        _batch._use_kernels(before)
        cython_lu._use_kernels(before)


@pytest.fixture(autouse=True)
def kernel_tier(request):
    """The tier a test runs at: its every_tier parameter, or the one chosen
    at import (LUCY_KERNELS)."""
    tier = getattr(request, "param", None)
    if tier is None:
        yield _batch.kernel_tier()
        return
    with kernels(tier):
        yield tier


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _no_leaked_workers_setting():
    """Every test starts and ends with lucy's default workers."""
    before = lucy.get_workers()
    yield
    assert lucy.get_workers() == before
