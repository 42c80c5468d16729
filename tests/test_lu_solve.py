"""lucy.lu_solve against SciPy's lu_solve on the same factors."""

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, strategies as st

import lucy
from conftest import LAPACK_DTYPES, close, layouts, random_matrices

# Every test here runs on each SIMD tier this machine has (conftest.py).
pytestmark = pytest.mark.every_tier


def assert_solve_matches_scipy(lu, piv, b, x, trans=0):
    """SciPy's lu_solve on each broadcast batch item of the same factors."""
    lu, piv, b = np.asarray(lu), np.asarray(piv), np.asarray(b)
    vector = b.ndim == 1
    b_batch = () if vector else b.shape[:-2]
    batch = np.broadcast_shapes(lu.shape[:-2], piv.shape[:-1], b_batch)
    m = lu.shape[-1]
    lu_b = np.broadcast_to(lu, (*batch, m, m))
    piv_b = np.broadcast_to(piv, (*batch, m))
    b_b = b if vector else np.broadcast_to(b, (*batch, *b.shape[-2:]))
    assert x.shape == ((*batch, m) if vector else (*batch, *b.shape[-2:]))
    for idx in np.ndindex(*batch):
        ref = sla.lu_solve((lu_b[idx], piv_b[idx]), b_b if vector else b_b[idx], trans=trans)
        assert x[idx].dtype == ref.dtype
        close(x[idx], ref, ref.dtype, m)


# (lu batch, b shape given M): broadcasting cases of SciPy's rule
B_CASES = [
    ((), lambda m: (m,)),
    ((), lambda m: (m, 3)),
    ((), lambda m: (m, 1)),
    ((4,), lambda m: (m,)),
    ((4,), lambda m: (4, m, 2)),
    ((4,), lambda m: (m, 2)),
    ((3, 1), lambda m: (5, m, 2)),
    ((), lambda m: (2, 3, m, 4)),
    ((2,), lambda m: (m, 40)),
]


class TestLuSolve:
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    @pytest.mark.parametrize("m", [1, 3, 8, 40])
    @pytest.mark.parametrize("case", range(len(B_CASES)))
    @pytest.mark.parametrize("trans", [0, 1, 2])
    def test_matches_scipy(self, dtype, m, case, trans, rng):
        lu_batch, b_shape = B_CASES[case]
        a = random_matrices((*lu_batch, m, m), dtype, rng) + 4 * np.eye(m, dtype=dtype)
        b = random_matrices(b_shape(m), dtype, rng)
        lu, piv = lucy.lu_factor(a)
        x = lucy.lu_solve((lu, piv), b, trans=trans)
        assert x.dtype == dtype
        assert_solve_matches_scipy(lu, piv, b, x, trans)

    @pytest.mark.parametrize("lu_dtype, b_dtype, expected", [
        (np.float32, np.float64, np.float64),
        (np.float64, np.float32, np.float64),
        (np.complex64, np.float64, np.complex128),
        (np.float32, np.complex64, np.complex64),
        (np.float64, np.int64, np.float64),
        (np.float32, np.int8, np.float32),
        (np.float32, np.bool_, np.float32),
    ])
    def test_mixed_dtypes_like_scipy(self, lu_dtype, b_dtype, expected, rng):
        a = random_matrices((2, 5, 5), lu_dtype, rng) + 4 * np.eye(5, dtype=lu_dtype)
        lu, piv = lucy.lu_factor(a)
        b = random_matrices((2, 5, 3), b_dtype, rng)
        x = lucy.lu_solve((lu, piv), b)
        assert x.dtype == expected
        assert_solve_matches_scipy(lu, piv, b, x)

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_layouts_of_lu_and_b(self, dtype, rng):
        a = random_matrices((3, 6, 6), dtype, rng) + 4 * np.eye(6, dtype=dtype)
        b = random_matrices((3, 6, 2), dtype, rng)
        lu, piv = lucy.lu_factor(a)
        ref = lucy.lu_solve((lu, piv), b)
        for name, lu_view in layouts(lu):
            np.testing.assert_array_equal(lucy.lu_solve((lu_view, piv), b), ref, err_msg=name)
        for name, b_view in layouts(b):
            before = b_view.copy()
            np.testing.assert_array_equal(lucy.lu_solve((lu, piv), b_view), ref, err_msg=name)
            np.testing.assert_array_equal(b_view, before)
        piv_c = piv.copy()
        for piv_view in (piv.astype(np.int64), piv_c[::-1][::-1], piv.astype(np.int16)):
            np.testing.assert_array_equal(lucy.lu_solve((lu, piv_view), b), ref)
        np.testing.assert_array_equal(piv, piv_c)      # never modified

    def test_scipy_factors(self, rng):
        a = random_matrices((6, 6), np.float64, rng)
        b = random_matrices((6,), np.float64, rng)
        lu, piv = sla.lu_factor(a)
        np.testing.assert_allclose(lucy.lu_solve((lu, piv), b), sla.lu_solve((lu, piv), b))

    def test_overwrite_b(self, rng):
        a = random_matrices((5, 5), np.float64, rng) + 4 * np.eye(5)
        fac = lucy.lu_factor(a)
        b = np.asfortranarray(random_matrices((5, 2), np.float64, rng))
        ref = lucy.lu_solve(fac, b)
        x = lucy.lu_solve(fac, b, overwrite_b=True)
        assert x is b
        np.testing.assert_array_equal(x, ref)
        v = random_matrices((5,), np.float64, rng)
        ref_v = lucy.lu_solve(fac, v)
        xv = lucy.lu_solve(fac, v, overwrite_b=True)
        assert xv is v
        np.testing.assert_array_equal(xv, ref_v)
        c = np.ascontiguousarray(random_matrices((5, 2), np.float64, rng))
        before = c.copy()
        lucy.lu_solve(fac, c, overwrite_b=True)       # C order: not in place
        np.testing.assert_array_equal(c, before)

    @pytest.mark.parametrize("b_shape", [(0,), (0, 3), (0, 0), (2, 0, 1)])
    def test_empty_m(self, b_shape):
        x = lucy.lu_solve((np.ones((0, 0)), np.ones(0, np.int32)), np.ones(b_shape))
        assert x.shape == b_shape and x.dtype == np.float64

    def test_empty_rhs_and_batch(self, rng):
        a = random_matrices((3, 3), np.float64, rng) + 4 * np.eye(3)
        fac = lucy.lu_factor(a)
        assert lucy.lu_solve(fac, np.ones((3, 0))).shape == (3, 0)
        lu0, piv0 = lucy.lu_factor(np.ones((0, 3, 3)))
        assert lucy.lu_solve((lu0, piv0), np.ones(3)).shape == (0, 3)

    def test_singular_gives_inf_not_error(self):
        lu, piv, _ = lucy.lu_factor_ex(np.array([[1.0, 2.0], [2.0, 4.0]]))
        with np.errstate(all="ignore"):
            x = lucy.lu_solve((lu, piv), np.ones(2))
        assert not np.isfinite(x).all()

    @pytest.mark.parametrize("m", [40, 300, 700])     # registers; four-column passes
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=lambda d: np.dtype(d).name)
    def test_signed_zeros_as_lapack(self, dtype, m, rng):
        # b = -0 and L = I: every update subtracts a product with t = -0,
        # whose sign decides each zero of x. A register filled as 0 + t
        # would hold +0 there.
        a = (3 * np.eye(m) + np.triu(rng.standard_normal((m, m)), 1)).astype(dtype)
        fac = sla.lu_factor(a)
        b = np.full((m, 1), -0.0, dtype)
        real = np.empty(0, dtype).real.dtype
        got, want = lucy.lu_solve(fac, b), sla.lu_solve(fac, b)
        np.testing.assert_array_equal(np.signbit(got.view(real)), np.signbit(want.view(real)))

    @given(st.integers(1, 6), st.integers(0, 4), st.integers(0, 3), st.sampled_from([0, 1, 2]))
    def test_residual_property(self, m, nrhs, batch, trans):
        rng = np.random.default_rng(m * 100 + nrhs * 10 + batch)
        a = rng.standard_normal((batch, m, m)) + 1j * rng.standard_normal((batch, m, m))
        a += 4 * np.eye(m)
        b = rng.standard_normal((batch, m, nrhs))
        x = lucy.lu_solve(lucy.lu_factor(a), b, trans=trans)
        op = {0: a, 1: np.swapaxes(a, -1, -2), 2: np.conj(np.swapaxes(a, -1, -2))}[trans]
        np.testing.assert_allclose(op @ x, b, atol=1e-10)


class TestLaneSolve:
    """float32, float64 and complex128 systems with 2 <= M <= 8 are solved
    four at a time, one per SIMD lane; groups of four where one item fails its checks, and the items left
    over after the last group, take the one-system path."""

    @pytest.mark.parametrize("m", [2, 3, 4, 5, 7, 8])
    @pytest.mark.parametrize("nrhs", [1, 3])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    def test_matches_scipy(self, m, nrhs, dtype, rng):
        a = random_matrices((11, m, m), dtype, rng)
        b = random_matrices((11, m, nrhs), dtype, rng)
        lu, piv = lucy.lu_factor(a)
        for name, view in layouts(b):
            x = lucy.lu_solve((lu, piv), view)
            assert_solve_matches_scipy(lu, piv, b, x), name

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    @pytest.mark.parametrize("m", [2, 4, 7])
    @pytest.mark.parametrize("where", ["lu", "b"])
    @pytest.mark.parametrize("value", [np.nan, np.inf])
    def test_nonfinite_found_by_the_lanes(self, dtype, m, where, value, rng):
        # The lane kernel checks b for inf/NaN on the registers it loads,
        # every item of a full group of four; the factors are not checked
        # (as SciPy's lu_solve), their inf/NaN go into x.
        a = random_matrices((8, m, m), dtype, rng)
        b = random_matrices((8, m, 2), dtype, rng)
        lu, piv = lucy.lu_factor(a)
        for item in (1, 6):
            bad_lu, bad_b = lu.copy(order="K"), b.copy()   # lu stays column-major
            assert bad_lu.strides == lu.strides
            (bad_lu if where == "lu" else bad_b)[item, m - 1, -1] = value
            if where == "b":
                with pytest.raises(ValueError, match=rf"^b must not .* \({item},\)"):
                    lucy.lu_solve((bad_lu, piv), bad_b)
            else:
                x = lucy.lu_solve((bad_lu, piv), bad_b)
                np.testing.assert_array_equal(
                    x, lucy.lu_solve((bad_lu, piv), bad_b, check_finite=False))
            x = lucy.lu_solve((bad_lu, piv), bad_b, check_finite=False)
            good = np.arange(8) != item
            assert_solve_matches_scipy(lu[good], piv[good], b[good], x[good])

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    @pytest.mark.parametrize("m", [2, 3, 4, 7, 8])
    def test_same_bits_in_a_group_as_alone(self, dtype, m, rng):
        # Systems of a batch go four at a time through the lane solve, the
        # rest (and single systems) through the substitutions: the same
        # bits either way, so that they do not depend on a system's place in
        # the batch or on the number of threads.
        a = random_matrices((9, m, m), dtype, rng)
        b = random_matrices((9, m, 2), dtype, rng)
        lu, piv = lucy.lu_factor(a)
        x = lucy.lu_solve((lu, piv), b)
        for i in range(9):
            np.testing.assert_array_equal(lucy.lu_solve((lu[i], piv[i]), b[i]), x[i])

    def test_one_bad_item_in_a_group(self, rng):
        a = random_matrices((8, 4, 4), np.float64, rng)
        b = random_matrices((8, 4, 1), np.float64, rng)
        lu, piv = lucy.lu_factor(a)
        bad = piv.copy()
        bad[5, 2] = 4
        with pytest.raises(ValueError, match="piv"):
            lucy.lu_solve((lu, bad), b)
        nonfinite = b.copy()
        nonfinite[2, 1, 0] = np.nan
        with pytest.raises(ValueError, match="infs or NaNs"):
            lucy.lu_solve((lu, piv), nonfinite)
        x = lucy.lu_solve((lu, piv), nonfinite, check_finite=False)
        assert np.isnan(x[2]).all()
        good = np.arange(8) != 2
        assert_solve_matches_scipy(lu[good], piv[good], b[good], x[good])


@pytest.mark.parametrize("m,dtype", [(300, np.float64), (1100, np.float64),
                                     (600, np.complex128), (530, np.float32),
                                     (520, np.complex64), (1030, np.float32),
                                     (2100, np.float64)])
@pytest.mark.parametrize("nrhs", [1, 3, 60, 100, 300])
def test_one_large_system_same_bits_for_any_workers(m, dtype, nrhs, rng):
    # One system: lucy's substitutions on one thread (few right-hand
    # sides), or threads inside: its blocked substitutions by BLAS calls
    # on row blocks and fixed groups of right-hand sides (many, M >= 512;
    # the groups are wider from M = 2048 on) or getrs on fixed groups of
    # right-hand sides (many, smaller M): the same bits for any workers.
    if m == 2100 and nrhs in (3, 60):
        pytest.skip("(one size of group is enough at this size)")
    a = random_matrices((m, m), dtype, rng)
    b = random_matrices((m, nrhs), dtype, rng)
    f = lucy.lu_factor(a)
    plan = lucy._batch.solve_plan(dtype, m, 0, nrhs)
    if nrhs <= 4:
        assert not plan.threads_inside
    elif m >= 512:
        assert plan.kernel == "blocks" and plan.threads_inside
    else:
        assert plan.kernel == "getrs" and plan.threads_inside == (nrhs > 64)
    x1 = lucy.lu_solve(f, b, workers=1)
    for workers in (2, 3, -1):
        np.testing.assert_array_equal(lucy.lu_solve(f, b, workers=workers), x1)
    assert_solve_matches_scipy(f[0], f[1], b, x1)


@pytest.mark.parametrize("dtype", [np.float64, np.complex64])
def test_blocked_substitutions_any_layout_and_batch(dtype, rng):
    # Many right-hand sides from 512 x 512: lucy's blocked substitutions
    # (a last row block of 8 rows here), on factors and right-hand sides in
    # any layout, in place, and over a batch whose threads take whole
    # systems: SciPy's results, the same bits each way.
    m, nrhs = 520, 9
    a = random_matrices((2, m, m), dtype, rng)
    b = random_matrices((2, m, nrhs), dtype, rng)
    lu, piv = lucy.lu_factor(a)
    assert lucy._batch.solve_plan(dtype, m, 0, nrhs).kernel == "blocks"
    ref = lucy.lu_solve((lu, piv), b, workers=1)
    assert_solve_matches_scipy(lu, piv, b, ref)
    np.testing.assert_array_equal(lucy.lu_solve((lu, piv), b, workers=2), ref)
    for name, lu_view in layouts(lu):
        np.testing.assert_array_equal(lucy.lu_solve((lu_view, piv), b), ref, err_msg=name)
    for name, b_view in layouts(b):
        np.testing.assert_array_equal(lucy.lu_solve((lu, piv), b_view), ref, err_msg=name)
    one = np.asfortranarray(b[1])
    x = lucy.lu_solve((lu[1], piv[1]), one, overwrite_b=True)
    np.testing.assert_array_equal(x, ref[1])
