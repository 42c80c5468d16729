"""lucy.mlx: MLX's lu_factor / lu conventions.

The first part needs no MLX (NumPy input). The second part is differential:
lucy.mlx against the real ``mlx.core.linalg`` (MLX >= 0.32 CPU), skipped
where MLX is not installed (``pip install "mlx[cpu]"`` on Linux x86_64).
MLX is never called on input with M == 0 or N == 0: it kills the process
with SIGFPE there (MLX 0.32.4).
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, strategies as st

import lucy
import lucy.mlx
from conftest import CAST_DTYPES, EMPTY_SHAPES, SHAPES, close, random_matrices, tolerance

FLOATS = [np.float32, np.float64]


def take_rows(l, p):
    return np.take_along_axis(l, p[..., None].astype(np.intp), axis=-2)


def assert_mlx_lu(a, p, l, u, dtype):
    """MLX's lu conventions: P uint32 (..., M), L (..., M, K) unit lower,
    U (..., K, N) upper, A == L[P] @ U."""
    a = np.asarray(a)
    *batch, m, n = a.shape
    k = min(m, n)
    assert p.dtype == np.uint32 and p.shape == (*batch, m)
    assert l.dtype == dtype and l.shape == (*batch, m, k)
    assert u.dtype == dtype and u.shape == (*batch, k, n)
    np.testing.assert_array_equal(np.sort(p, axis=-1), np.broadcast_to(np.arange(m), p.shape))
    np.testing.assert_array_equal(np.triu(l, 1), 0)
    np.testing.assert_array_equal(np.diagonal(l, axis1=-2, axis2=-1), 1)
    np.testing.assert_array_equal(np.tril(u, -1), 0)
    if a.size:
        close(take_rows(l, p) @ u, a.astype(dtype), dtype, max(m, n))


# ---------------------------------------------------------------------------
# Without MLX: NumPy input
# ---------------------------------------------------------------------------

class TestNumpyInput:
    @pytest.mark.parametrize("dtype", FLOATS + [np.complex64, np.complex128])
    @pytest.mark.parametrize("shape", SHAPES)
    def test_lu_factor_is_lucy_with_uint32_pivots(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv = lucy.mlx.lu_factor(a)
        ref_lu, ref_piv, _ = lucy.lu_factor_ex(a)
        assert isinstance(lu, np.ndarray) and lu.dtype == dtype and lu.shape == shape
        assert piv.dtype == np.uint32 and piv.shape == shape[:-2] + (min(shape[-2:]),)
        np.testing.assert_array_equal(lu, ref_lu)
        np.testing.assert_array_equal(piv, ref_piv)
        for idx in np.ndindex(*shape[:-2]):      # SciPy's piv, as uint32
            np.testing.assert_array_equal(piv[idx], sla.lu_factor(a[idx])[1])

    @pytest.mark.parametrize("dtype", FLOATS + [np.complex64, np.complex128])
    @pytest.mark.parametrize("shape", SHAPES)
    def test_lu_conventions_and_scipy_p_indices(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        p, l, u = lucy.mlx.lu(a)
        assert all(isinstance(x, np.ndarray) for x in (p, l, u))
        assert_mlx_lu(a, p, l, u, np.dtype(dtype))
        for idx in np.ndindex(*shape[:-2]):
            sp, sl, su = sla.lu(a[idx], p_indices=True)
            np.testing.assert_array_equal(p[idx], sp)
            close(l[idx], sl, dtype, max(shape[-2:]))
            close(u[idx], su, dtype, max(shape[-2:]))

    def test_p_from_pivots(self, rng):
        """P is the inverse of the row order the pivots' swaps give."""
        a = rng.standard_normal((20, 7, 5))
        _, piv = lucy.mlx.lu_factor(a)
        p, _, _ = lucy.mlx.lu(a)
        perm = lucy.pivots_to_permutation(piv, m=7)
        np.testing.assert_array_equal(p, np.argsort(perm, axis=-1))
        np.testing.assert_array_equal(lucy.permutation_to_pivots(np.argsort(p, axis=-1), k=5), piv)

    @pytest.mark.parametrize("dtype, expected", list(CAST_DTYPES.items()))
    def test_cast_dtypes(self, dtype, expected, rng):
        a = random_matrices((3, 4, 4), dtype, rng)
        lu, piv = lucy.mlx.lu_factor(a)
        p, l, u = lucy.mlx.lu(a)
        assert lu.dtype == l.dtype == u.dtype == expected
        assert piv.dtype == p.dtype == np.uint32

    def test_array_like(self):
        lu, piv = lucy.mlx.lu_factor([[1.0, 2.0], [3.0, 4.0]])
        assert piv.tolist() == [1, 1] and lu.dtype == np.float64
        p, l, u = lucy.mlx.lu([[1, 2], [3, 4]])
        assert p.tolist() == [1, 0]

    @pytest.mark.parametrize("shape", EMPTY_SHAPES)
    @pytest.mark.parametrize("dtype", FLOATS)
    def test_empty(self, shape, dtype):
        """MLX dies with SIGFPE here; lucy returns empty results."""
        *batch, m, n = shape
        k = min(m, n)
        a = np.zeros(shape, dtype)
        lu, piv = lucy.mlx.lu_factor(a)
        assert lu.shape == shape and lu.dtype == dtype
        assert piv.shape == (*batch, k) and piv.dtype == np.uint32
        p, l, u = lucy.mlx.lu(a)
        assert p.shape == (*batch, m) and p.dtype == np.uint32
        assert l.shape == (*batch, m, k) and u.shape == (*batch, k, n)
        assert l.dtype == u.dtype == dtype
        if not batch or np.prod(batch) > 0:
            np.testing.assert_array_equal(p, np.broadcast_to(np.arange(m), p.shape))

    @pytest.mark.parametrize("a", [np.float64(1.0), np.ones(3), []])
    def test_fewer_than_two_dims(self, a):
        with pytest.raises(ValueError, match="two-dimensional"):
            lucy.mlx.lu_factor(a)
        with pytest.raises(ValueError, match="two-dimensional"):
            lucy.mlx.lu(a)

    def test_non_numeric(self):
        with pytest.raises(TypeError):
            lucy.mlx.lu_factor(np.array([["a", "b"], ["c", "d"]]))

    def test_singular_is_silent(self):
        """No warning, as in MLX."""
        a = np.stack([np.zeros((3, 3)), np.ones((3, 3)),
                      np.array([[0., 1, 2], [0, 3, 4], [0, 5, 7]])])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lu, piv = lucy.mlx.lu_factor(a)
            p, l, u = lucy.mlx.lu(a)
        assert piv.tolist() == [[0, 1, 2], [0, 1, 2], [0, 2, 2]]
        assert_mlx_lu(a, p, l, u, np.dtype(np.float64))
        _, _, info = lucy.lu_factor_ex(a)       # where to find out which
        assert info.tolist() == [1, 2, 1]

    def test_no_finite_check(self):
        """Like MLX: inf/NaN are not checked; no error, no crash."""
        a = np.array([[[np.nan, 1.0], [2.0, 3.0]], [[np.inf, 1.0], [2.0, 3.0]]])
        lu, piv = lucy.mlx.lu_factor(a)
        assert lu.shape == (2, 2, 2) and piv.shape == (2, 2)
        p, l, u = lucy.mlx.lu(a)
        assert p.shape == (2, 2)

    def test_input_not_modified(self, rng):
        a = rng.standard_normal((4, 5, 5))
        a.flags.writeable = False
        copy = a.copy()
        lucy.mlx.lu_factor(a)
        lucy.mlx.lu(a)
        np.testing.assert_array_equal(a, copy)

    def test_signature_matches_mlx(self):
        import inspect
        for f in (lucy.mlx.lu_factor, lucy.mlx.lu):
            params = inspect.signature(f).parameters
            assert list(params) == ["a", "stream"]
            assert params["stream"].kind is inspect.Parameter.KEYWORD_ONLY
            assert params["stream"].default is None
        with pytest.raises(TypeError):
            lucy.mlx.lu_factor(np.eye(2), None)          # stream is keyword-only


class TestStreamWithoutMlx:
    @pytest.mark.parametrize("stream", [None, 1, 2, 3, -1, np.int64(2)])
    def test_int_is_worker_count(self, stream, rng):
        a = rng.standard_normal((300, 12, 12))
        lu, piv = lucy.mlx.lu_factor(a, stream=stream)
        ref_lu, ref_piv = lucy.mlx.lu_factor(a)
        np.testing.assert_array_equal(lu, ref_lu)         # identical for any workers
        np.testing.assert_array_equal(piv, ref_piv)
        p, l, u = lucy.mlx.lu(a, stream=stream)
        np.testing.assert_array_equal(l, lucy.mlx.lu(a)[1])

    def test_zero_is_refused(self):
        with pytest.raises(ValueError, match="stream=0"):
            lucy.mlx.lu_factor(np.eye(2), stream=0)
        with pytest.raises(ValueError, match="stream=0"):
            lucy.mlx.lu(np.eye(2), stream=0)

    def test_too_negative(self):
        with pytest.raises(ValueError, match="fewer than one thread"):
            lucy.mlx.lu_factor(np.eye(2), stream=-100_000)

    @pytest.mark.parametrize("stream", [True, False, "cpu", 1.0, object(), [1]])
    def test_other_types(self, stream):
        with pytest.raises(TypeError, match="stream"):
            lucy.mlx.lu_factor(np.eye(2), stream=stream)
        with pytest.raises(TypeError, match="stream"):
            lucy.mlx.lu(np.eye(2), stream=stream)


def test_never_imports_mlx(tmp_path):
    """Neither ``import lucy`` nor ``lucy.mlx`` on NumPy input imports MLX,
    and lucy.mlx works where MLX cannot be imported at all."""
    code = """
import sys
sys.modules["mlx"] = None          # any 'import mlx' would now fail
import numpy as np
import lucy
assert "lucy.mlx" not in sys.modules
import lucy.mlx
lu, piv = lucy.mlx.lu_factor(np.eye(3)[::-1])
p, l, u = lucy.mlx.lu(np.eye(3)[::-1])
assert piv.dtype == np.uint32 and piv.tolist() == [2, 1, 2], piv
assert p.tolist() == [2, 1, 0], p
try:
    lucy.mlx.lu(np.eye(3), stream=object())
except TypeError:
    pass
else:
    raise AssertionError("no TypeError")
assert sys.modules["mlx"] is None and "mlx.core" not in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------------------
# Differential tests against the real MLX
# ---------------------------------------------------------------------------

def _mx():
    return pytest.importorskip(
        "mlx.core",
        reason="MLX not installed (pip install 'mlx[cpu]', Linux x86_64 / macOS arm64)")


# Every shape class, on both sides of lucy's small-matrix kernel (n <= 32).
DIFF_SHAPES = [
    (1, 1), (5, 1, 1),                       # 1 x 1
    (2, 2), (4, 4), (8, 8), (33, 33), (64, 64),   # square
    (5, 3), (40, 25), (5, 1), (6, 5, 1),     # tall
    (3, 5), (25, 40), (1, 5), (6, 1, 5),     # wide
    (7, 4, 4), (2, 3, 5, 5), (3, 40, 40), (4, 12, 7), (4, 7, 12),   # batched
]
KINDS = ["normal", "ties", "singular", "mixed"]


def _tie_column(size, rng):
    """Values from {-2, -1, 1, 2}, the largest magnitude repeated (with
    both signs where there is room)."""
    col = rng.choice([-2.0, -1.0, 1.0, 2.0], size=size)
    if size >= 2:
        i, j = rng.choice(size, 2, replace=False)
        col[i], col[j] = 2.0, -2.0
    return col


def _ties(shape, rng):
    """Exact ties for the pivot, at the first step and at a later one.

    Each matrix is block diagonal, B (m1 x n1) and C (m2 x n2), with its
    rows and columns shuffled; the first column of each block holds tied
    values. Elimination never mixes the blocks (every update of one block
    by the other adds exact zeros), so when C's first column comes up its
    values are still the original ties, whatever the order of the
    arithmetic. Ties that only hold in exact arithmetic (a row and its
    negation, say) are broken by rounding, differently by different LAPACKs
    (MLX's reference LAPACK and OpenBLAS disagree on them); see
    test_rounding_dependent_pivots."""
    *batch, m, n = shape
    a = np.zeros(shape)
    for idx in np.ndindex(*batch):
        m1, n1 = (int(rng.integers(1, m)), int(rng.integers(1, n))) if min(m, n) >= 2 else (m, n)
        mat = np.zeros((m, n))
        for rows, cols in ((slice(0, m1), slice(0, n1)), (slice(m1, m), slice(n1, n))):
            block = rng.standard_normal((rows.stop - rows.start, cols.stop - cols.start))
            if block.size:
                block[:, 0] = _tie_column(block.shape[0], rng)
            mat[rows, cols] = block
        a[idx] = mat[rng.permutation(m)][:, rng.permutation(n)]
    return a


def _singular(shape, rng):
    """Exactly singular whatever the order of the arithmetic: a zero
    column, a zero row, both, or all zeros."""
    a = rng.standard_normal(shape)
    *batch, m, n = shape
    for idx in np.ndindex(*batch):
        how = rng.integers(4)
        mat = a[idx]
        if how in (0, 2):
            mat[:, rng.integers(n)] = 0
        if how in (1, 2):
            mat[rng.integers(m), :] = 0
        if how == 3:
            mat[...] = 0
    return a


def _make(kind, shape, rng):
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "ties":
        return _ties(shape, rng)
    if kind == "singular":
        return _singular(shape, rng)
    # mixed: each matrix of the batch of a random kind
    a = rng.standard_normal(shape)
    for idx in np.ndindex(*shape[:-2]):
        a[idx] = _make(["normal", "ties", "singular"][rng.integers(3)], shape[-2:], rng)
    return a


def mlx_reference(x):
    """MLX's own lu_factor and lu of the MLX array ``x``, as NumPy arrays."""
    mx = _mx()
    assert 0 not in x.shape[-2:], "MLX crashes the process on empty matrices"
    lu, piv = mx.linalg.lu_factor(x, stream=mx.cpu)
    p, l, u = mx.linalg.lu(x, stream=mx.cpu)
    return tuple(np.asarray(r) for r in (lu, piv, p, l, u))


def close_to_mlx(actual, desired, dtype, n, scale):
    """Within rounding of MLX's factors. MLX runs reference LAPACK and lucy
    OpenBLAS or its own kernel: they round differently, and the difference
    grows with small pivots (the singular cases here), so the allowance is
    4 times conftest's, relative to the size of both factors (``scale``:
    an entry of L can move as much as one of U)."""
    assert actual.shape == desired.shape
    if desired.size:
        err = float(np.abs(actual - desired).max())
        assert err <= 4 * tolerance(dtype, n) * scale, f"max error {err:.3g} (scale {scale:.3g})"


def rounding_ties(piv, ref_piv, ref_lu, dtype, m, n):
    """Batch indices whose pivots differ from MLX's, each checked to be a
    rounding tie: at the first step where they differ, the row lucy took
    has a multiplier of magnitude 1 (to rounding) in MLX's factorization,
    so it was as large as MLX's pivot and either choice is right."""
    ties = []
    for idx in np.ndindex(*piv.shape[:-1]):
        diff = np.flatnonzero(piv[idx] != ref_piv[idx])
        if not diff.size:
            continue
        step = diff[0]
        order = np.arange(m)
        for i in range(step):
            order[[i, piv[idx][i]]] = order[[piv[idx][i], i]]
        row = order[piv[idx][step]]
        final = np.flatnonzero(lucy.pivots_to_permutation(ref_piv[idx], m) == row)[0]
        mult = abs(float(ref_lu[idx][final, step]))
        assert mult >= 1 - tolerance(dtype, max(m, n)), (
            f"pivot {step} of matrix {idx} is {piv[idx][step]}, MLX's is "
            f"{ref_piv[idx][step]}, and it is no rounding tie (|l| = {mult})")
        ties.append(idx)
    return ties


def check_against_mlx(a, dtype, allow_rounding_ties=False):
    """lucy.mlx on mx.array(a, dtype) equals MLX: pivots and P exactly,
    factors within rounding; plus the identity A == L[P] @ U.

    With ``allow_rounding_ties``, a matrix where two pivot candidates are
    equal to rounding may pick the other one (different LAPACKs round
    differently: MLX's reference LAPACK, OpenBLAS, lucy's kernel); that is
    checked to be the case, and such matrices are then only checked for the
    identity. Returns the number of them."""
    mx = _mx()
    mdt = {np.dtype(np.float32): mx.float32, np.dtype(np.float64): mx.float64}[np.dtype(dtype)]
    a = a.astype(dtype)
    x = mx.array(a, dtype=mdt)
    ref_lu, ref_piv, ref_p, ref_l, ref_u = mlx_reference(x)

    lu, piv = lucy.mlx.lu_factor(x)
    p, l, u = lucy.mlx.lu(x)
    for r in (lu, piv, p, l, u):
        assert isinstance(r, mx.array)
    assert lu.dtype == l.dtype == u.dtype == mdt
    assert piv.dtype == p.dtype == mx.uint32
    lu, piv, p, l, u = (np.asarray(r) for r in (lu, piv, p, l, u))
    assert lu.shape == ref_lu.shape and piv.shape == ref_piv.shape
    assert p.shape == ref_p.shape and l.shape == ref_l.shape and u.shape == ref_u.shape
    assert_mlx_lu(a, p, l, u, np.dtype(dtype))
    np.testing.assert_array_equal(np.asarray(x), a)       # input untouched

    m, n = a.shape[-2:]
    ties = rounding_ties(piv, ref_piv, ref_lu, dtype, m, n) if allow_rounding_ties else []
    keep = np.ones(a.shape[:-2], bool)
    for idx in ties:
        keep[idx] = False
    mine, theirs = (lu, piv, p, l, u), (ref_lu, ref_piv, ref_p, ref_l, ref_u)
    if ties:
        mine, theirs = ([r[keep] for r in rs] for rs in (mine, theirs))
    lu, piv, p, l, u = mine
    ref_lu, ref_piv, ref_p, ref_l, ref_u = theirs
    np.testing.assert_array_equal(piv, ref_piv)
    np.testing.assert_array_equal(p, ref_p)
    scale = max([1.0] + [float(np.abs(r).max()) for r in (ref_l, ref_u) if r.size])
    for ours, ref in ((lu, ref_lu), (l, ref_l), (u, ref_u)):
        close_to_mlx(ours, ref, dtype, max(m, n), scale)
    return len(ties)


class TestAgainstMlx:
    @pytest.mark.parametrize("dtype", FLOATS)
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("shape", DIFF_SHAPES, ids=str)
    def test_random_batches(self, shape, kind, dtype, rng):
        check_against_mlx(_make(kind, shape, rng), dtype)

    @given(shape=st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(1, 12),
                           st.integers(1, 12)),
           ndim=st.integers(2, 4), kind=st.sampled_from(KINDS[:3]),
           dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**32 - 1))
    def test_hypothesis(self, shape, ndim, kind, dtype, seed):
        shape = shape[4 - ndim:]
        if 0 in shape[:-2]:
            shape = shape[-2:]
        # Random data on every run: a pivot choice between two candidates
        # equal to rounding may go either way (verified as such).
        check_against_mlx(_make(kind, shape, np.random.default_rng(seed)), dtype,
                          allow_rounding_ties=True)

    @pytest.mark.parametrize("dtype", FLOATS)
    @pytest.mark.parametrize("shape", [(20, 8, 8), (10, 40, 40), (6, 64, 64), (6, 50, 30)], ids=str)
    def test_rounding_dependent_pivots(self, shape, dtype, rng):
        """Where candidates tie only in exact arithmetic (rank-deficient
        integer matrices: the trailing columns are rounding noise), the
        pivots depend on the order of the arithmetic, and LAPACKs differ
        (MLX's reference LAPACK and SciPy's OpenBLAS disagree there too).
        Both factorizations are then valid; only that is required."""
        mx = _mx()
        *batch, m, n = shape
        r = max(1, min(m, n) // 2)
        a = (rng.integers(-2, 3, (*batch, m, r)) @ rng.integers(-2, 3, (*batch, r, n))).astype(dtype)
        x = mx.array(a, dtype={np.float32: mx.float32, np.float64: mx.float64}[dtype])
        p, l, u = (np.asarray(t) for t in lucy.mlx.lu(x))
        assert_mlx_lu(a, p, l, u, np.dtype(dtype))
        _, piv = lucy.mlx.lu_factor(x)
        piv = np.asarray(piv)
        assert ((piv >= np.arange(min(m, n))) & (piv < m)).all()
        np.testing.assert_array_equal(np.argsort(lucy.pivots_to_permutation(piv, m), axis=-1), p)
        _, _, ref_p, ref_l, ref_u = mlx_reference(x)
        assert_mlx_lu(a, ref_p, ref_l, ref_u, np.dtype(dtype))

    def test_p_is_not_its_inverse(self, rng):
        """A permutation that is not an involution tells the conventions
        apart: A == L[P] @ U (and eye(M)[P] @ L @ U), while A[P] != L @ U."""
        mx = _mx()
        want = np.array([1, 4, 3, 0, 2])         # a 5-cycle
        l0 = np.tril(rng.uniform(-0.9, 0.9, (5, 5)), -1) + np.eye(5)
        u0 = np.triu(rng.standard_normal((5, 5))) + 4 * np.eye(5)
        a = l0[want] @ u0             # partial pivoting recovers want, l0, u0
        x = mx.array(a, dtype=mx.float64)
        p, l, u = (np.asarray(r) for r in lucy.mlx.lu(x))
        np.testing.assert_array_equal(p, want)
        np.testing.assert_array_equal(p, np.asarray(mx.linalg.lu(x, stream=mx.cpu)[0]))
        np.testing.assert_allclose(l[p] @ u, a, atol=1e-13)
        np.testing.assert_allclose(np.eye(5)[p] @ l @ u, a, atol=1e-13)
        assert not np.allclose(a[p], l @ u)
        perm = lucy.pivots_to_permutation(np.asarray(lucy.mlx.lu_factor(x)[1]))
        np.testing.assert_array_equal(perm, np.argsort(p))
        np.testing.assert_allclose(a[perm], l @ u, atol=1e-13)

    def test_float64_stays_float64(self, rng):
        """mx.array(np_float64) would be float32; lucy keeps the dtype."""
        mx = _mx()
        a = rng.standard_normal((3, 4, 4))
        x = mx.array(a, dtype=mx.float64)
        lu, piv = lucy.mlx.lu_factor(x)
        assert lu.dtype == mx.float64
        np.testing.assert_array_equal(np.asarray(lu), lucy.lu_factor(a)[0])
        assert all(r.dtype == mx.float64 for r in lucy.mlx.lu(x)[1:])

    @pytest.mark.parametrize("mdtype, expected", [
        ("complex64", "complex64"), ("float16", "float32"), ("bfloat16", "float32"),
        ("bool_", "float32"), ("int8", "float32"), ("uint16", "float32"),
        ("int32", "float64"), ("int64", "float64"), ("uint32", "float64"),
    ])
    def test_dtypes_mlx_refuses(self, mdtype, expected, rng):
        """MLX takes only float32/float64; lucy follows SciPy's casts."""
        mx = _mx()
        src = rng.integers(-3, 4, size=(2, 5, 5)).astype(np.float32)
        if mdtype == "bool_":
            src = src > 0
        elif mdtype.startswith("u"):
            src = np.abs(src)
        elif mdtype == "complex64":
            src = src + 1j * rng.standard_normal(src.shape).astype(np.float32)
        x = mx.array(src).astype(getattr(mx, mdtype))
        with pytest.raises(ValueError, match="float32 or float64"):
            mx.linalg.lu_factor(x, stream=mx.cpu)
        lu, piv = lucy.mlx.lu_factor(x)
        p, l, u = lucy.mlx.lu(x)
        want = getattr(mx, expected)
        assert lu.dtype == l.dtype == u.dtype == want and piv.dtype == p.dtype == mx.uint32
        ref_lu, ref_piv, _ = lucy.lu_factor_ex(src.astype(np.dtype(expected)))
        np.testing.assert_array_equal(np.asarray(piv), ref_piv)
        close(np.asarray(lu), ref_lu, np.dtype(expected), 5)
        assert_mlx_lu(src, np.asarray(p), np.asarray(l), np.asarray(u), np.dtype(expected))

    @pytest.mark.parametrize("shape", EMPTY_SHAPES)
    def test_empty_mlx_input(self, shape):
        """(MLX itself kills the process on M == 0 or N == 0; not called.)"""
        mx = _mx()
        *batch, m, n = shape
        k = min(m, n)
        x = mx.zeros(shape, dtype=mx.float64)
        lu, piv = lucy.mlx.lu_factor(x)
        p, l, u = lucy.mlx.lu(x)
        assert isinstance(lu, mx.array) and lu.shape == shape and lu.dtype == mx.float64
        assert piv.shape == (*batch, k) and piv.dtype == mx.uint32
        assert p.shape == (*batch, m) and p.dtype == mx.uint32
        assert l.shape == (*batch, m, k) and u.shape == (*batch, k, n)

    def test_zero_batch_matches_mlx(self):
        mx = _mx()
        x = mx.zeros((0, 4, 4), dtype=mx.float32)     # MLX handles this one
        ref = mlx_reference(x)
        ours = [*lucy.mlx.lu_factor(x), *lucy.mlx.lu(x)]
        for r, o in zip(ref, ours):
            assert o.shape == r.shape and o.dtype == mx.array(r).dtype

    def test_strided_and_lazy_input(self, rng):
        mx = _mx()
        a = rng.standard_normal((3, 6, 9))
        x = mx.array(a, dtype=mx.float64)
        for view, ref in [(x.transpose(0, 2, 1), np.swapaxes(a, 1, 2)),
                          (x[:, ::2, 1::2], a[:, ::2, 1::2]),
                          (x[::-1] * 2.0, a[::-1] * 2.0),      # lazy, not evaluated yet
                          (mx.swapaxes(x, 0, 1), np.swapaxes(a, 0, 1))]:
            lu, piv = lucy.mlx.lu_factor(view)
            ref_lu, ref_piv = lucy.lu_factor(ref)
            np.testing.assert_array_equal(np.asarray(piv), ref_piv)
            np.testing.assert_array_equal(np.asarray(lu), ref_lu)
            check_against_mlx(ref, np.float64)

    @pytest.mark.parametrize("make", [
        lambda mx: mx.cpu,
        lambda mx: mx.Device(mx.cpu),
        lambda mx: mx.Device(mx.cpu, 0),
        lambda mx: mx.default_stream(mx.cpu),
        lambda mx: mx.new_stream(mx.cpu),
    ])
    def test_cpu_streams(self, make, rng):
        mx = _mx()
        stream = make(mx)
        x = mx.array(rng.standard_normal((5, 6, 6)), dtype=mx.float64)
        lu, piv = lucy.mlx.lu_factor(x, stream=stream)
        ref_lu, ref_piv = mx.linalg.lu_factor(x, stream=stream)     # MLX takes it too
        np.testing.assert_array_equal(np.asarray(piv), np.asarray(ref_piv))
        p, _, _ = lucy.mlx.lu(x, stream=stream)
        np.testing.assert_array_equal(np.asarray(p), np.asarray(mx.linalg.lu(x, stream=stream)[0]))

    @pytest.mark.parametrize("make", [lambda mx: mx.gpu, lambda mx: mx.Device(mx.gpu)])
    def test_gpu_streams_refused(self, make):
        mx = _mx()
        stream = make(mx)
        with pytest.raises(ValueError, match="no GPU LU"):
            lucy.mlx.lu_factor(mx.eye(3), stream=stream)
        with pytest.raises(ValueError, match="no GPU LU"):
            lucy.mlx.lu(mx.eye(3), stream=stream)

    def test_numpy_input_gives_numpy_even_with_mlx(self, rng):
        _mx()
        a = rng.standard_normal((2, 3, 3))
        assert all(isinstance(r, np.ndarray) for r in lucy.mlx.lu_factor(a))
        assert all(isinstance(r, np.ndarray) for r in lucy.mlx.lu(a))

    def test_fewer_than_two_dims(self):
        mx = _mx()
        for x in (mx.array(1.0), mx.ones((3,))):
            with pytest.raises(ValueError):
                mx.linalg.lu_factor(x, stream=mx.cpu)
            with pytest.raises(ValueError, match="two-dimensional"):
                lucy.mlx.lu_factor(x)
            with pytest.raises(ValueError, match="two-dimensional"):
                lucy.mlx.lu(x)
