"""Differential fuzzing against SciPy, slice by slice.

Hypothesis draws stacks over shapes that reach every kernel of lucy (tiny
lanes, the small-matrix kernel, the vectorised columns kernel, the blocked
LU and LAPACK), over every dtype SciPy takes, memory layouts (negative
strides, broadcast views, byte-swapped, unaligned, read-only), special
values (exact zeros, ties, huge and tiny magnitudes, inf and NaN) and
``workers``. For every matrix of the stack:

* the result dtype is SciPy's;
* the pivots equal SciPy's wherever no near-tie makes two choices correct;
* the factors agree with SciPy's to rounding (where the pivots agree);
* the caller's input is untouched;
* any ``workers`` gives the bits of ``workers=1``.

The suite runs the ``ci`` profile (a fixed budget); ``HYPOTHESIS_PROFILE=long
pytest tests/test_differential.py`` runs a hundred times more examples.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, strategies as st

import lucy
from conftest import CAST_DTYPES, SCIPY_LU_TAKES_LONGDOUBLE, SCIPY_TAKES_EMPTY, close, layouts

# Every test here runs on each SIMD tier this machine has (conftest.py).
pytestmark = pytest.mark.every_tier

DTYPES = [np.float32, np.float64, np.complex64, np.complex128, *CAST_DTYPES]

# Sizes on both sides of every kernel boundary: the four-lane kernel (<= 8),
# the small-matrix kernel (<= 32), the columns kernel (<= 96, rows a
# multiple of 4 or 8 for it), the blocked LU (<= 511) and LAPACK beyond.
SIDES = st.one_of(
    st.just(0), st.integers(1, 9), st.integers(10, 34), st.sampled_from([40, 48, 64, 95, 96, 97]),
    st.sampled_from([100, 128, 130]),
)
SPECIALS = ["none", "zero-column", "equal-rows", "integers", "huge", "tiny", "nan", "inf"]


@st.composite
def stacks(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    m, n = draw(SIDES), draw(st.one_of(st.just(None), SIDES))
    n = m if n is None else n
    big = max(m, n) > 34
    batch = draw(st.lists(st.integers(0, 2 if big else 4), min_size=0, max_size=1 if big else 2))
    seed = draw(st.integers(0, 2**32 - 1))
    special = draw(st.sampled_from(SPECIALS))
    layout = draw(st.sampled_from(["C", "F", "strided", "negative-core", "negative-batch",
                                   "transposed", "readonly", "big-endian", "unaligned",
                                   "broadcast"]))
    workers = draw(st.sampled_from([1, 2, 3, -1]))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((*batch, m, n))
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(a.shape)
    if special == "zero-column" and a.size:
        a[..., rng.integers(n)] = 0
    elif special == "equal-rows" and m > 1:
        a[..., 1, :] = a[..., 0, :]                       # an exact tie in column 0
    elif special == "integers" or dtype.kind in "biu":
        a = np.round(4 * a)
    elif special in ("huge", "tiny"):
        # As far from 1 as the input dtype allows without overflow in the LU.
        real = np.dtype(dtype.char.lower()) if dtype.kind == "c" else dtype
        finfo = np.finfo(real if real.itemsize <= 8 else np.float64)
        a = a * (float(finfo.max) ** 0.25 if special == "huge" else float(finfo.tiny) ** 0.25)
    elif special in ("nan", "inf") and a.size:
        a.reshape(-1)[rng.integers(a.size)] = np.nan if special == "nan" else np.inf
    if dtype.kind == "b":
        a = a > 0
    elif dtype.kind in "iu":
        a = np.clip(a, np.iinfo(dtype).min, np.iinfo(dtype).max)
    a = a.astype(dtype)
    if layout == "broadcast":       # stride 0 over the (first) batch dimension
        view = np.broadcast_to(a if a.ndim == 2 else a[:1], (3, *a.shape) if a.ndim == 2 else a.shape)
    else:
        views = dict(layouts(a))
        view = views.get(layout, views["C"])
    return view, workers


def _scipy_factor(a2d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        return sla.lu_factor(a2d, check_finite=False)


def _scipy_dtype(func, dtype):
    """The dtype SciPy's ``func`` computes ``dtype`` in. SciPy returns empty
    input unconverted (a 0 x 3 int8 ``lu``); lucy applies its rule to every
    shape, so the rule is read from a non-empty matrix."""
    return func(np.eye(2, dtype=dtype))[1 if func is sla.lu else 0].dtype


def _near_tie(lu, k, dtype):
    """Whether some pivot choice in ``lu`` (one matrix's factors) was a near
    tie: a candidate below the pivot within rounding of it in LAPACK's
    measure (|x| for real, |Re x| + |Im x| for complex), or a pivot that is
    itself rounding-level (the columns after it are noise)."""
    if k == 0:
        return False
    def size(x):
        return np.abs(x.real) + np.abs(x.imag) if np.iscomplexobj(x) else np.abs(x)
    eps = np.finfo(np.dtype(dtype).char.lower() if np.dtype(dtype).kind == "c" else dtype).eps
    diag = np.diagonal(lu)[:k]
    scale = size(lu).max(initial=0.0)
    rounding = 64 * eps * max(lu.shape)
    if not np.isfinite(scale) or np.any(size(diag) <= rounding * scale):
        return True
    below = np.tril(lu[:, :k], -1) * diag              # the candidates at each step
    return bool(np.any(size(below) >= (1 - rounding) * size(diag)))


def _native(a):
    """``a`` in native byte order: the oracle's input. (SciPy's ``lu``
    writes garbage pivots for big-endian input; lucy takes any order.)"""
    return a.astype(a.dtype.newbyteorder("="))


def _snapshot(view):
    root = view
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root, root.tobytes()


@given(stacks())
def test_lu_factor_matches_scipy_slice_by_slice(case):
    a, workers = case
    root, before = _snapshot(a)
    finite = bool(np.isfinite(a).all()) if a.dtype.kind in "fc" else True
    if not finite:
        with pytest.raises(ValueError, match="infs or NaNs"):
            lucy.lu_factor(a, workers=workers)
        assert root.tobytes() == before
        return
    lu, piv, info = lucy.lu_factor_ex(a, workers=workers)
    assert root.tobytes() == before, "the input was modified"
    one = lucy.lu_factor_ex(a, workers=1)
    assert lu.tobytes() == one[0].tobytes() and piv.tobytes() == one[1].tobytes()
    assert info.tobytes() == one[2].tobytes()
    *batch, m, n = a.shape
    k = min(m, n)
    a = _native(a)
    for idx in np.ndindex(*batch):
        if k == 0 and not SCIPY_TAKES_EMPTY:     # the oracle raises (SciPy 1.13)
            continue
        ref_lu, ref_piv = _scipy_factor(a[idx])
        assert lu.dtype == _scipy_dtype(sla.lu_factor, a.dtype)
        if _near_tie(ref_lu, k, lu.dtype) or _near_tie(lu[idx], k, lu.dtype):
            continue
        np.testing.assert_array_equal(piv[idx], ref_piv, err_msg=f"pivots at {idx}")
        close(lu[idx], ref_lu, lu.dtype, max(m, n))


@given(stacks())
def test_lu_matches_scipy_slice_by_slice(case):
    a, workers = case
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        return
    root, before = _snapshot(a)
    p, l, u = lucy.lu(a, p_indices=True, workers=workers)
    assert root.tobytes() == before, "the input was modified"
    same = lucy.lu(a, p_indices=True, workers=1)
    assert all(x.tobytes() == y.tobytes() for x, y in zip((p, l, u), same))
    *batch, m, n = a.shape
    k = min(m, n)
    if a.dtype.char in "gG" and not SCIPY_LU_TAKES_LONGDOUBLE:
        return                                   # the oracle refuses it (SciPy 1.13)
    a = _native(a)
    for idx in np.ndindex(*batch):
        if k == 0 and not SCIPY_TAKES_EMPTY:     # the oracle raises (SciPy 1.13)
            continue
        ref_lu, _ = _scipy_factor(a[idx])
        ref_p, ref_l, ref_u = sla.lu(a[idx], p_indices=True, check_finite=False)
        assert l.dtype == u.dtype == _scipy_dtype(sla.lu, a.dtype)
        if k == 0 or _near_tie(ref_lu, k, l.dtype):
            continue
        np.testing.assert_array_equal(p[idx], ref_p, err_msg=f"permutation at {idx}")
        close(l[idx], ref_l, l.dtype, max(m, n))
        close(u[idx], ref_u, u.dtype, max(m, n))


@given(stacks(), st.integers(0, 3), st.sampled_from([0, 1, 2]))
def test_lu_solve_matches_scipy_slice_by_slice(case, nrhs, trans):
    a, workers = case
    m = a.shape[-1]
    if a.shape[-2] != m or a.dtype.kind not in "fc" or not np.isfinite(a).all():
        return
    # Well-conditioned systems, so that the two solves differ by rounding only.
    a = a + 4 * m * np.eye(m, dtype=a.dtype) * max(1.0, float(np.abs(a).max(initial=0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        lu, piv = lucy.lu_factor(a)
    b = np.random.default_rng(m).standard_normal((*a.shape[:-1], nrhs)).astype(lu.dtype)
    lu_root, lu_before = _snapshot(lu)
    b_root, b_before = _snapshot(b)
    x = lucy.lu_solve((lu, piv), b, trans=trans, workers=workers)
    assert lu_root.tobytes() == lu_before and b_root.tobytes() == b_before
    assert x.tobytes() == lucy.lu_solve((lu, piv), b, trans=trans, workers=1).tobytes()
    for idx in np.ndindex(*a.shape[:-2]):
        if m == 0 and not SCIPY_TAKES_EMPTY:     # the oracle raises (SciPy 1.13)
            continue
        ref = sla.lu_solve((lu[idx], piv[idx]), b[idx], trans=trans)
        assert x.dtype == ref.dtype or ref.size == 0
        close(x[idx], ref, x.dtype, m)
