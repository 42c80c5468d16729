"""lucy.lu_factor / lu_factor_ex against SciPy, matrix by matrix."""

import sys
import warnings

import numpy as np
import pytest
import scipy
import scipy.linalg as sla
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import lucy
from conftest import (CAST_DTYPES, EMPTY_SHAPES, LAPACK_DTYPES, SCIPY_TAKES_EMPTY,
                      SHAPES, assert_lu_factor_matches_scipy, layouts, random_matrices)

# Every test here runs on each SIMD tier this machine has (conftest.py).
pytestmark = pytest.mark.every_tier


class TestLuFactor:
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    @pytest.mark.parametrize("shape", SHAPES)
    def test_matches_scipy(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv = lucy.lu_factor(a)
        assert lu.dtype == dtype
        assert_lu_factor_matches_scipy(a, lu, piv)

    @pytest.mark.parametrize("dtype", list(CAST_DTYPES))
    @pytest.mark.parametrize("shape", [(3, 3), (4, 6, 6), (2, 5, 3)])
    def test_cast_dtypes_match_scipy(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        with warnings.catch_warnings():
            # small random integer/bool matrices are often singular
            warnings.simplefilter("ignore", sla.LinAlgWarning)
            lu, piv = lucy.lu_factor(a)
        assert lu.dtype == CAST_DTYPES[dtype]
        assert_lu_factor_matches_scipy(a, lu, piv)

    def test_object_array_of_numbers(self, rng):
        a = random_matrices((3, 4, 4), np.float64, rng)
        lu, piv = lucy.lu_factor(a.astype(object))
        ref_lu, ref_piv = lucy.lu_factor(a)
        np.testing.assert_array_equal(lu, ref_lu)
        np.testing.assert_array_equal(piv, ref_piv)
        lu_c, _ = lucy.lu_factor((a + 1j).astype(object))
        assert lu_c.dtype == np.complex128

    def test_nested_lists(self):
        lu, piv = lucy.lu_factor([[[2, 5], [5, 2]], [[1, 0], [0, 1]]])
        assert lu.dtype == np.float64
        assert_lu_factor_matches_scipy(np.array([[[2, 5], [5, 2]], [[1, 0], [0, 1]]]), lu, piv)

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    @pytest.mark.parametrize("shape", [(4, 4), (3, 5, 3), (2, 2, 3, 5), (3, 40, 36)])
    def test_layouts(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        ref_lu, ref_piv = lucy.lu_factor(a)
        for name, view in layouts(a):
            before = view.copy()
            lu, piv = lucy.lu_factor(view)
            np.testing.assert_array_equal(piv, ref_piv, err_msg=name)
            np.testing.assert_array_equal(lu, ref_lu, err_msg=name)
            np.testing.assert_array_equal(view, before, err_msg=name)
        assert_lu_factor_matches_scipy(a, ref_lu, ref_piv)

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_broadcast_stride0(self, dtype, rng):
        a2 = random_matrices((5, 5), dtype, rng)
        stack = np.broadcast_to(a2, (6, 5, 5))
        lu, piv = lucy.lu_factor(stack)
        ref_lu, ref_piv = lucy.lu_factor(a2)
        for i in range(6):
            np.testing.assert_array_equal(lu[i], ref_lu)
            np.testing.assert_array_equal(piv[i], ref_piv)
        # a stride-0 row inside each matrix: every matrix singular
        row = np.broadcast_to(random_matrices((1, 4), dtype, rng), (3, 4, 4))
        with pytest.warns(sla.LinAlgWarning, match="3 of 3 matrices"):
            lu, piv = lucy.lu_factor(row)
        assert_lu_factor_matches_scipy(row, lu, piv)

    @pytest.mark.parametrize("shape", EMPTY_SHAPES)
    def test_empty(self, shape):
        a = np.ones(shape)
        lu, piv = lucy.lu_factor(a)
        assert lu.shape == shape and lu.dtype == np.float64
        assert piv.shape == shape[:-2] + (min(shape[-2:]),) and piv.dtype == np.int32
        if len(shape) == 2 and 0 in shape:
            if not SCIPY_TAKES_EMPTY:
                pytest.skip(f"SciPy {scipy.__version__}'s lu_factor (the oracle) raises "
                            f"on empty input")
            ref_lu, ref_piv = sla.lu_factor(a)
            assert ref_lu.shape == lu.shape and ref_piv.shape == piv.shape

    def test_output_layout(self, rng):
        lu, _ = lucy.lu_factor(random_matrices((5, 6), np.float64, rng))
        assert lu.flags.f_contiguous          # SciPy's 2-D layout
        lu, _ = lucy.lu_factor(random_matrices((3, 2, 5, 6), np.float64, rng))
        assert np.swapaxes(lu, -1, -2).flags.c_contiguous

    def test_overwrite_in_place(self, rng):
        a = random_matrices((4, 5, 5), np.float64, rng)
        ref_lu, ref_piv = lucy.lu_factor(a)
        # already in the output layout: factored where it is, no copy
        buf = np.ascontiguousarray(np.swapaxes(a, -1, -2))
        target = np.swapaxes(buf, -1, -2)
        lu, piv = lucy.lu_factor(target, overwrite_a=True)
        assert np.shares_memory(lu, buf)
        np.testing.assert_array_equal(lu, ref_lu)
        np.testing.assert_array_equal(piv, ref_piv)
        # 2-D Fortran order: the same object comes back, as from SciPy
        f = np.asfortranarray(a[0])
        lu2, _ = lucy.lu_factor(f, overwrite_a=True)
        assert lu2 is f
        # C order cannot be factored in place: the input stays untouched
        c = a.copy()
        lu3, _ = lucy.lu_factor(c, overwrite_a=True)
        np.testing.assert_array_equal(c, a)
        np.testing.assert_array_equal(lu3, ref_lu)

    def test_pivot_ties_take_first_maximum(self):
        # LAPACK picks the first entry of largest magnitude; so must lucy,
        # in both the small-matrix kernel and the LAPACK path.
        for n in (4, 40):
            a = np.ones((n, n)) + np.eye(n)
            a[:, 0] = 3.0
            lu, piv = lucy.lu_factor(a)
            assert_lu_factor_matches_scipy(a, lu, piv)
            a = np.array([[1, 2], [-1, 3]], dtype=np.complex128)
            a[1, 0] = 1j         # |re| + |im| ties with row 0
            lu, piv = lucy.lu_factor(a)
            assert_lu_factor_matches_scipy(a, lu, piv)
        z = np.array([[0.5 + 0.5j, 1], [1 + 0j, 2]])   # abs1 ties, |z| does not
        lu, piv = lucy.lu_factor(z)
        assert_lu_factor_matches_scipy(z, lu, piv)

    @pytest.mark.parametrize("n", [3, 16, 40])
    @pytest.mark.parametrize("dtype", [np.float64, np.complex128])
    @pytest.mark.parametrize("scale", [1e-306, 1e300])
    def test_tiny_pivots_scaled_like_lapack(self, n, dtype, scale, rng):
        # Tiny pivots divide instead of multiplying by an overflowing
        # reciprocal; huge ones must not overflow in complex division.
        a = random_matrices((n, n), dtype, rng) * scale
        lu, piv = lucy.lu_factor(a)
        assert_lu_factor_matches_scipy(a, lu, piv)


class TestKernelPaths:
    """Each of lucy's factorisation kernels, chosen by shape and dtype alone,
    against SciPy: the four-matrix SIMD lanes (float32, float64 and
    complex128 n <= 8, batches of four and more), the vectorised kernel
    (float32/float64 with M a multiple of the register width, sides up to
    96; complex128 with M even, up to 96), the scalar kernel (other sides up to
    32), lucy's blocked LU of medium real matrices (M a multiple of the
    register width, min(M, N) from 97 to 511: panels by the vectorised kernel,
    16 float64 or 32 float32 columns each) and LAPACK (the rest)."""

    # Square, tall and wide; a last panel narrower than the others with
    # columns right of it (wide: k = 136); M not a multiple of the register
    # width (LAPACK instead, the same answers).
    PANEL_SHAPES = [(2, 104, 104), (2, 128, 128), (1, 200, 136), (1, 136, 200),
                    (1, 304, 120), (1, 120, 304), (1, 256, 256), (1, 504, 504),
                    (1, 130, 130)]

    @pytest.mark.parametrize("shape", PANEL_SHAPES)
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_panels(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv = lucy.lu_factor(a)
        assert_lu_factor_matches_scipy(a, lu, piv)
        for workers in (2, 3):
            lu_w, piv_w = lucy.lu_factor(a, workers=workers)
            np.testing.assert_array_equal(lu_w, lu)
            np.testing.assert_array_equal(piv_w, piv)
        # in place on the output layout: the same bits
        f = np.asfortranarray(a[0])
        lu1, piv1 = lucy.lu_factor(f, overwrite_a=True)
        np.testing.assert_array_equal(lu1, lu[0])
        np.testing.assert_array_equal(piv1, piv[0])
        if shape[-1] == shape[-2]:
            b = random_matrices(shape[:-1] + (3,), dtype, rng)
            x = lucy.lu_solve((lu, piv), b)
            for i in range(shape[0]):
                ref = sla.lu_solve(sla.lu_factor(a[i]), b[i])
                tol = 2e-2 if dtype == np.float32 else 1e-8
                np.testing.assert_allclose(x[i], ref, rtol=tol, atol=tol)

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("zero_col", [0, 15, 16, 31, 32, 37, 127])
    def test_panels_exactly_singular(self, dtype, zero_col, rng):
        # An exactly zero column stays zero below the diagonal through every
        # update, wherever it falls among the panels; info names the first,
        # as LAPACK's does, and the steps after it go on.
        a = random_matrices((2, 128, 128), dtype, rng)
        a[0, :, zero_col] = 0
        a[1, :, [zero_col, 100]] = 0
        lu, piv, info = lucy.lu_factor_ex(a)
        getrf = sla.get_lapack_funcs("getrf", (a[0],))
        for i in range(2):
            ref_lu, ref_piv, ref_info = getrf(a[i])
            assert info[i] == ref_info == (zero_col if i == 0 else min(zero_col, 100)) + 1
            np.testing.assert_array_equal(piv[i], ref_piv)   # 0-based from SciPy too
            tol = 1e-3 if dtype == np.float32 else 1e-10
            np.testing.assert_allclose(lu[i], ref_lu, rtol=tol, atol=tol)

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("scale", [1e-300, 1e300])
    def test_panels_tiny_and_huge(self, dtype, scale, rng):
        # Pivots below the safe minimum are divided, not inverted.
        scale = float(np.finfo(dtype).tiny) * 4 if scale < 1 else float(np.finfo(dtype).max) / 1e3
        a = random_matrices((1, 136, 136), dtype, rng) * dtype(scale)
        lu, piv = lucy.lu_factor(a)
        assert np.all(np.isfinite(lu))
        assert_lu_factor_matches_scipy(a, lu, piv)

    def test_panels_nonfinite_unchecked(self, rng):
        # A NaN in one matrix spreads through its own factors only.
        a = random_matrices((3, 128, 128), np.float64, rng)
        a[1, 40, 50] = np.nan
        lu, piv = lucy.lu_factor(a, check_finite=False)
        assert np.isnan(lu[1]).any()
        assert_lu_factor_matches_scipy(a[[0, 2]], lu[[0, 2]], piv[[0, 2]])

    @pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    def test_lanes_every_layout(self, n, dtype, rng):
        a = random_matrices((9, n, n), dtype, rng)   # two lane groups + one
        for name, view in layouts(a):
            lu, piv = lucy.lu_factor(view)
            assert_lu_factor_matches_scipy(a, lu, piv), name

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    @pytest.mark.parametrize("scale", [1e-306, 1e300])
    def test_lanes_tiny_and_huge_pivots(self, dtype, scale, rng):
        # Below the safe minimum the lanes divide; complex division scales.
        if dtype == np.float32:
            scale = 1e-37 if scale < 1 else 1e36
        a = random_matrices((8, 4, 4), dtype, rng) * dtype(scale)
        a[3] = random_matrices((4, 4), dtype, rng)   # a lane of ordinary size
        lu, piv = lucy.lu_factor(a)
        assert_lu_factor_matches_scipy(a, lu, piv)

    @pytest.mark.parametrize("shape", [(4, 4), (8, 8), (16, 16), (24, 24),
                                       (32, 32), (48, 48), (64, 64), (16, 40),
                                       (8, 64), (64, 12), (40, 3), (56, 64),
                                       (96, 96), (80, 92), (10, 10), (22, 30)])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    def test_columns_kernel_shapes(self, shape, dtype, rng):
        a = random_matrices((3, *shape), dtype, rng)
        lu, piv = lucy.lu_factor(a)
        assert_lu_factor_matches_scipy(a, lu, piv)
        lu, piv = lucy.lu_factor(np.asfortranarray(a[0]), overwrite_a=True)
        assert_lu_factor_matches_scipy(a[0], lu, piv)

    @pytest.mark.parametrize("n", [16, 24, 64])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
    def test_columns_kernel_ties_tiny_and_zero_columns(self, n, dtype, rng):
        tie = np.ones((n, n), dtype) + np.eye(n, dtype=dtype)
        tie[:, 0] = 3         # every row ties: the first must win
        tie[n - 1, 1] = -7    # the largest |x| sits in the last register
        zero = random_matrices((n, n), dtype, rng)
        zero[:, 5] = 0        # U[5, 5] == 0: info 6, and the factor goes on
        zero_even = random_matrices((n, n), dtype, rng)
        zero_even[:, 4] = 0   # the other step of a two-step pass (n >= 24)
        cases = [(tie, 0), (zero, 6), (zero_even, 5)]
        if dtype != np.float32:   # pivots below DBL_MIN: divide, not scale
            cases.append((random_matrices((n, n), dtype, rng) * 1e-306, 0))
        for a, expected_info in cases:
            lu, piv, info = lucy.lu_factor_ex(a)
            assert info == expected_info
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sla.LinAlgWarning)
                ref_lu, ref_piv = sla.lu_factor(a)
            np.testing.assert_array_equal(piv, ref_piv)
            tol = 1e-4 if dtype == np.float32 else 1e-10
            np.testing.assert_allclose(lu, ref_lu, rtol=tol, atol=tol)

    @pytest.mark.parametrize("n", [16, 40])
    def test_columns_kernel_groups_are_independent(self, n, rng):
        # Matrices are factored side by side in groups; a matrix's result
        # must not depend on its neighbours (NaN ones included) nor on where
        # the group boundaries fall: bitwise equal to factoring it alone.
        a = random_matrices((7, n, n), np.float64, rng)
        a[2, 0, 0] = np.nan
        lu, piv, info = lucy.lu_factor_ex(a, check_finite=False)
        for i in range(7):
            lu1, piv1, info1 = lucy.lu_factor_ex(a[i], check_finite=False)
            np.testing.assert_array_equal(lu[i], lu1)
            np.testing.assert_array_equal(piv[i], piv1)
        good = np.arange(7) != 2
        assert_lu_factor_matches_scipy(a[good], lu[good], piv[good])

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    @pytest.mark.parametrize("n", range(2, 10))
    def test_same_bits_wherever_a_matrix_falls(self, dtype, n, rng):
        # Square matrices up to 8 go four at a time through the lane kernel,
        # the rest of the batch (and in-place calls) through the columns or
        # the scalar kernel, and thread chunks move that boundary: every way
        # must round alike (the columns kernel's fused complex products are
        # kept to the shapes no other kernel takes).
        a = random_matrices((9, n, n), dtype, rng)
        a[8], a[5] = a[0], a[1]
        for workers in (1, 2, 3):
            lu, piv = lucy.lu_factor(a, workers=workers)
            for i, j in ((8, 0), (5, 1)):
                np.testing.assert_array_equal(lu[i], lu[j])
                np.testing.assert_array_equal(piv[i], piv[j])
        alone = np.asfortranarray(a[0])
        lu0, piv0 = lucy.lu_factor(alone, overwrite_a=True)
        np.testing.assert_array_equal(lu0, lu[0])
        np.testing.assert_array_equal(piv0, piv[0])
        assert_lu_factor_matches_scipy(a, lu, piv)

    # Batches of 32 MiB and more go through the columns kernel in a scratch
    # buffer and are streamed to the output (lucy_stream_columns), as long as
    # a group of matrices fits in 32 kB (not complex128 64 x 64): the bits
    # must be the in-place path's (no scratch), on any thread count, with a
    # last group cut short, non-square shapes, a C-order copy that is square
    # and one that is not, and a NaN matrix unchecked and checked.
    STREAM_BYTES = 32 << 20

    @pytest.mark.parametrize("dtype, m, n", [(np.float64, 16, 16), (np.float32, 8, 12),
                                             (np.complex128, 16, 16), (np.complex128, 32, 32),
                                             (np.float64, 24, 20), (np.float64, 64, 64)])
    def test_big_batches_streamed_to_the_output(self, dtype, m, n, rng):
        size = -(-self.STREAM_BYTES // (m * n * np.dtype(dtype).itemsize)) + 3
        a = random_matrices((size, m, n), dtype, rng)
        a[7, 1, 2] = np.nan
        f = np.ascontiguousarray(np.swapaxes(a, -1, -2))
        ref_lu, ref_piv, _ = lucy.lu_factor_ex(np.swapaxes(f, -1, -2), overwrite_a=True,
                                               check_finite=False)
        for workers in (1, 2):
            lu, piv, _ = lucy.lu_factor_ex(a, check_finite=False, workers=workers)
            np.testing.assert_array_equal(piv, ref_piv)
            np.testing.assert_array_equal(lu, ref_lu)
        some = [0, 1, 5, size // 2, size - 1]
        assert_lu_factor_matches_scipy(a[some], lu[some], piv[some])
        with pytest.raises(ValueError, match=r"batch index \(7,\)"):
            lucy.lu_factor(a)

    @pytest.mark.parametrize("shape", [(31, 31), (33, 33), (65, 65), (97, 80)])
    def test_scalar_and_lapack_kernels(self, shape, rng):
        for dtype in LAPACK_DTYPES:
            a = random_matrices((2, *shape), dtype, rng)
            lu, piv = lucy.lu_factor(a)
            assert_lu_factor_matches_scipy(a, lu, piv)


class TestSingular:
    @pytest.mark.parametrize("n", [4, 40])
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_one_warning_per_call(self, n, dtype, rng):
        a = random_matrices((5, n, n), dtype, rng)
        a[1, :, 2] = 0          # U[2, 2] == 0
        a[3] = 0                # U[0, 0] == 0
        with pytest.warns(sla.LinAlgWarning) as record:
            lu, piv = lucy.lu_factor(a)
        assert len(record) == 1
        msg = str(record[0].message)
        assert "2 of 5 matrices are singular" in msg and "(1,)" in msg
        assert "diagonal number 3" in msg
        assert_lu_factor_matches_scipy(a, lu, piv)

    @pytest.mark.parametrize("n", [4, 16, 40])
    @pytest.mark.parametrize("workers", [1, 2, 3, 8])
    def test_message_matches_per_matrix_info(self, n, workers, rng):
        # lu_factor keeps no per-matrix status: each thread folds its items'
        # into a count and the first one, 64 items at a time. The warning
        # must say what lu_factor_ex's info says, for any number of workers.
        batch = (3, 150)
        a = random_matrices((*batch, n, n), np.float64, rng)
        flat = a.reshape(-1, n, n)
        for item in rng.choice(450, size=37, replace=False):
            flat[item, :, rng.integers(n)] = 0
        flat[[-1, 63, 64, 127]] = 0              # chunk edges and the last item
        _, _, info = lucy.lu_factor_ex(a, workers=1)
        first = np.flatnonzero(info)[0]
        index = tuple(int(i) for i in np.unravel_index(first, batch))
        expected = (f"{np.count_nonzero(info)} of 450 matrices are singular; the first "
                    f"is at batch index {index} (diagonal number {info.flat[first]} ")
        with pytest.warns(sla.LinAlgWarning) as record:
            lu, piv = lucy.lu_factor(a, workers=workers)
        assert len(record) == 1 and expected in str(record[0].message)
        assert_lu_factor_matches_scipy(a, lu, piv)

    @pytest.mark.parametrize("n", [4, 16, 40])
    @pytest.mark.parametrize("workers", [1, 2, 3])
    def test_first_nonfinite_among_singular(self, n, workers, rng):
        a = random_matrices((450, n, n), np.float64, rng)
        a[5] = 0                                  # singular before the first NaN
        a[[300, 449], 0, 0] = np.nan
        a[[201, 140], -1, -1] = np.inf            # the first bad one is 140
        with warnings.catch_warnings():
            warnings.simplefilter("error")        # the error comes alone
            with pytest.raises(ValueError, match=r"first at batch index \(140,\)"):
                lucy.lu_factor(a, workers=workers)

    def test_2d_message_like_scipy(self):
        a = np.array([[1.0, 2.0], [2.0, 4.0]])
        with pytest.warns(sla.LinAlgWarning, match="Diagonal number 2 is exactly zero"):
            lucy.lu_factor(a)

    def test_nd_batch_index(self):
        a = np.tile(np.eye(3), (2, 3, 1, 1))
        a[1, 2] = 0
        with pytest.warns(sla.LinAlgWarning, match=r"at batch index \(1, 2\)"):
            lucy.lu_factor(a)

    @pytest.mark.parametrize("n", [3, 40])
    def test_lu_factor_ex_reports_info(self, n, rng):
        a = random_matrices((4, n, n), np.float64, rng)
        a[0, :, 1] = 0
        a[2] = 0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lu, piv, info = lucy.lu_factor_ex(a)
        np.testing.assert_array_equal(info, [2, 0, 1, 0])
        assert info.dtype == np.int32 and info.shape == (4,)
        assert_lu_factor_matches_scipy(a, lu, piv)
        _, _, info2 = lucy.lu_factor_ex(a[1])
        assert info2.shape == () and info2 == 0

    def test_all_zero_tall_and_wide(self):
        for shape in [(5, 3), (3, 5), (40, 35), (35, 40)]:
            a = np.zeros(shape)
            lu, piv, info = lucy.lu_factor_ex(a)
            assert info == 1
            np.testing.assert_array_equal(piv, np.arange(min(shape)))


@st.composite
def matrix_stacks(draw, max_side=6, dtypes=(np.float64, np.complex128, np.float32)):
    dtype = draw(st.sampled_from(dtypes))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    m = draw(st.integers(1, max_side))
    n = draw(st.integers(1, max_side))
    elements = st.floats(-8, 8, allow_nan=False, allow_subnormal=False, width=32)
    real = draw(hnp.arrays(np.float64, (*batch, m, n), elements=elements))
    if np.dtype(dtype).kind == "c":
        imag = draw(hnp.arrays(np.float64, (*batch, m, n), elements=elements))
        real = real + 1j * imag
    return real.astype(dtype)


class TestProperties:
    @given(matrix_stacks())
    def test_reconstruction_and_batch_equals_loop(self, a):
        lu, piv, info = lucy.lu_factor_ex(a)
        *batch, m, n = a.shape
        k = min(m, n)
        perm = lucy.pivots_to_permutation(piv, m)
        L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
        U = np.triu(lu[..., :k, :])
        scale = max(1.0, float(np.abs(a).max())) if a.size else 1.0
        rec = np.take_along_axis(a, perm[..., None].astype(np.intp), axis=-2)
        eps = np.finfo(lu.real.dtype).eps
        assert np.abs(rec - L @ U).max(initial=0) <= 64 * eps * max(m, n) * scale
        if a.dtype.kind == "f":   # partial pivoting keeps |L| <= 1
            assert np.abs(L).max(initial=0) <= 1 + 1e-6
        for idx in np.ndindex(*batch):
            lu1, piv1, info1 = lucy.lu_factor_ex(a[idx])
            np.testing.assert_array_equal(lu1, lu[idx])
            np.testing.assert_array_equal(piv1, piv[idx])
            assert info1 == info[idx]

    @given(matrix_stacks(max_side=5, dtypes=(np.float64,)))
    def test_matches_scipy_when_no_near_ties(self, a):
        # Hypothesis loves repeated values; where pivot candidates tie only
        # after rounding, two correct LUs may pick different pivots. Compare
        # with SciPy where lucy's choice is unambiguous, else rely on the
        # reconstruction property above.
        # Exact singularity is such a tie too: whether a cancellation gives
        # exactly 0, or a residue of rounding, depends on the order of the
        # operations (OpenBLAS's getf2 is left-looking, lucy's right-looking),
        # and the steps after such a pivot divide by that residue. So only
        # matrices whose pivots all stand above rounding are compared.
        lu, piv, info = lucy.lu_factor_ex(a)
        for idx in np.ndindex(*a.shape[:-2]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sla.LinAlgWarning)
                ref_lu, ref_piv = sla.lu_factor(a[idx])
            rounding = 64 * np.finfo(a.dtype).eps * max(a.shape[-2:]) * np.abs(a[idx]).max()
            ref_singular = np.any(np.abs(np.diagonal(ref_lu)) <= rounding)
            if info[idx] == 0 and not ref_singular and np.array_equal(ref_piv, piv[idx]):
                np.testing.assert_allclose(lu[idx], ref_lu, rtol=1e-12, atol=1e-12)


class TestLargeBlocked:
    """Matrices with min(M, N) >= 512 take lucy's blocked LU, parallel
    within one matrix over a fixed grid of tiles."""

    @pytest.mark.parametrize("shape, dtype", [((600, 600), np.float64),
                                              ((1, 700, 520), np.complex64),
                                              ((520, 650), np.float32)])
    def test_matches_scipy_and_any_workers(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv = lucy.lu_factor(a, workers=1)
        assert_lu_factor_matches_scipy(a, lu, piv)
        for workers in (2, 3, -1):
            lu_w, piv_w = lucy.lu_factor(a, workers=workers)
            np.testing.assert_array_equal(lu_w, lu)
            np.testing.assert_array_equal(piv_w, piv)
        # lu() factors with the same algorithm: exactly the unpacked factors
        for got, ref in zip(lucy.lu(a, workers=2), lucy.lu_unpack(lu, piv)):
            np.testing.assert_array_equal(got, ref)

    @pytest.mark.parametrize("workers", [2, 3, 7])
    @pytest.mark.parametrize("shape", [(900, 2100), (1300, 530), (530, 1700)])
    def test_many_steps_and_tiles(self, shape, workers, rng):
        # Up to 8 steps of up to 6 tasks each, then the swaps of the panels:
        # tasks of one step overlap the next, on more threads than this
        # machine's cores too, and a last panel narrower than the others
        # puts tile edges inside blocks of 128 columns. Any schedule must
        # give the one-thread bits.
        a = random_matrices(shape, np.float64, rng)
        lu, piv = lucy.lu_factor(a, workers=1)
        assert_lu_factor_matches_scipy(a, lu, piv)
        lu_w, piv_w = lucy.lu_factor(a, workers=workers)
        np.testing.assert_array_equal(lu_w, lu)
        np.testing.assert_array_equal(piv_w, piv)

    @pytest.mark.parametrize("shape, dtype", [((2048, 2048), np.float64),
                                              ((2056, 2100), np.float64),
                                              ((1456, 1460), np.complex128)])
    def test_big_matrix_copied_with_streaming_stores(self, shape, dtype, rng):
        # From 32 MiB, a C-order float64 matrix with rows a multiple of 8 is
        # copied into the output by streaming stores on the threads
        # (lucy_stream_load_transposed_d; 2100 columns: a last tile of 52);
        # complex128 is copied as before. The factors must be those of the
        # same matrix factored in place, and a NaN in the last row and tile
        # must still be found.
        a = random_matrices(shape, dtype, rng)
        lu, piv = lucy.lu_factor(a, workers=2)
        ref_lu, ref_piv = lucy.lu_factor(np.asfortranarray(a), overwrite_a=True, workers=2)
        np.testing.assert_array_equal(piv, ref_piv)
        np.testing.assert_array_equal(lu, ref_lu)
        assert_lu_factor_matches_scipy(a, lu, piv)
        a[-1, -3] = np.nan
        with pytest.raises(ValueError, match="infs or NaNs"):
            lucy.lu_factor(a, workers=2)

    def test_first_singular_panel_reported(self, rng):
        # Zero columns in the third and fifth panels: each is factored by a
        # look-ahead task, and info names the first, as LAPACK's does.
        a = random_matrices((700, 700), np.float64, rng)
        a[:, [300, 600]] = 0
        for workers in (1, 2, 4):
            lu, piv, info = lucy.lu_factor_ex(a, workers=workers)
            assert info == 301
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sla.LinAlgWarning)
                assert_lu_factor_matches_scipy(a, lu, piv)


def _array_ending_at_a_guard_page(shape, dtype, order):
    """An array whose last byte is followed by an inaccessible page, so a
    kernel that reads past a matrix's end crashes the test instead of
    passing by luck."""
    import ctypes
    import mmap
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    page = mmap.PAGESIZE
    total = (nbytes + page - 1) // page * page + page
    buf = mmap.mmap(-1, total)
    start = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(start + total - page, page, 0) == 0     # PROT_NONE
    flat = np.frombuffer(buf, dtype, count=nbytes // dtype.itemsize,
                         offset=total - page - nbytes)
    if order == "F":
        return flat.reshape(shape[:-2] + shape[-1:] + shape[-2:-1]).swapaxes(-1, -2), buf
    return flat.reshape(shape), buf


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mprotect via libc")
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [2, 3, 5, 6, 7, 8])
def test_no_read_past_the_last_matrix(n, order, dtype, rng):
    # The lane kernels load rows (or columns) whose length is not a multiple
    # of 4 with masked loads; the batch's last matrix (in the last group of
    # four) ends at a guard page.
    a, buf = _array_ending_at_a_guard_page((8, n, n), dtype, order)
    a[...] = random_matrices((8, n, n), dtype, rng)
    lu, piv = lucy.lu_factor(a, workers=1)
    assert_lu_factor_matches_scipy(a, lu, piv)
    del a


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mprotect via libc")
@pytest.mark.parametrize("dtype, n", [
    (np.float32, 28), (np.float32, 32), (np.float32, 128), (np.float32, 132),
    (np.float64, 20), (np.float64, 24), (np.float64, 88), (np.float64, 92),
    (np.complex128, 14), (np.complex128, 16), (np.complex128, 64), (np.complex128, 66)])
def test_square_c_order_copies(dtype, n, rng):
    # Square C-order matrices of 4 to 64 kB are copied whole and transposed
    # in place (lucy/_kernels/copies.c.in, copies_whole_first); these sizes sit on
    # both sides of each bound. The batch ends at a guard page, and the
    # input must come out untouched.
    a, buf = _array_ending_at_a_guard_page((3, n, n), dtype, "C")
    a[...] = random_matrices((3, n, n), dtype, rng)
    before = a.copy()
    for workers in (1, 2):
        lu, piv = lucy.lu_factor(a, workers=workers)
        assert_lu_factor_matches_scipy(a, lu, piv)
        np.testing.assert_array_equal(a, before)
    # C-order factors and a square C-order right-hand side: lu_solve copies
    # both into column-major the same way.
    x = lucy.lu_solve((np.ascontiguousarray(lu), piv), a)
    np.testing.assert_allclose(np.einsum("bij,bjk->bik", before, x), before,
                               atol=1e-3 if dtype == np.float32 else 1e-9)
    del a, lu, x
