"""lucy.lu and lucy.lu_unpack against SciPy's lu, matrix by matrix."""

import warnings

import numpy as np
import pytest
import scipy
import scipy.linalg as sla
from hypothesis import given

import lucy
from conftest import (CAST_DTYPES, EMPTY_SHAPES, LAPACK_DTYPES, SCIPY_LU_TAKES_LONGDOUBLE,
                      SHAPES, assert_reconstructs, close, layouts, random_matrices)
from test_lu_factor import matrix_stacks

# Every test here runs on each SIMD tier this machine has (conftest.py).
pytestmark = pytest.mark.every_tier


def scipy_lu(a2d, **kw):
    return sla.lu(a2d, **kw)


def assert_lu_matches_scipy(a, out, permute_l=False, p_indices=False):
    a = np.asarray(a)
    *batch, m, n = a.shape
    for idx in np.ndindex(*batch):
        ref = scipy_lu(a[idx], permute_l=permute_l, p_indices=p_indices)
        got = tuple(x[idx] for x in out)
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            if r.dtype.kind in "iu":             # p_indices: exact
                np.testing.assert_array_equal(g, r)
            elif not permute_l and g is got[0]:  # P matrix: exact 0/1
                # SciPy's 1 x 1 shortcut returns P in a's dtype (complex for
                # complex a); lucy's P is real for every shape.
                if (m, n) != (1, 1):
                    assert g.dtype == r.dtype
                np.testing.assert_array_equal(g, r)
            else:
                assert g.dtype == r.dtype
                close(g, r, g.dtype, max(m, n))


class TestLu:
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("mode", ["P", "p_indices", "permute_l"])
    def test_matches_scipy(self, shape, dtype, mode, rng):
        a = random_matrices(shape, dtype, rng)
        kw = {"p_indices": mode == "p_indices", "permute_l": mode == "permute_l"}
        out = lucy.lu(a, **kw)
        assert len(out) == (2 if mode == "permute_l" else 3)
        assert_lu_matches_scipy(a, out, **kw)
        if mode == "P":
            assert_reconstructs(a, *out)
            k = min(shape[-2:])
            assert out[0].shape == shape[:-1] + (shape[-2],)
            assert out[1].shape == shape[:-1] + (k,)
            assert out[2].shape == shape[:-2] + (k, shape[-1])

    @pytest.mark.parametrize("dtype", list(CAST_DTYPES))
    def test_cast_dtypes(self, dtype, rng):
        a = random_matrices((3, 4, 5), dtype, rng)
        p, l, u = lucy.lu(a)
        assert l.dtype == u.dtype == CAST_DTYPES[dtype]
        if np.dtype(dtype).char in "gG" and not SCIPY_LU_TAKES_LONGDOUBLE:
            pytest.skip(f"SciPy {scipy.__version__}'s lu (the oracle) refuses longdouble")
        assert_lu_matches_scipy(a, (p, l, u))

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_layouts(self, dtype, rng):
        a = random_matrices((3, 6, 4), dtype, rng)
        ref = lucy.lu(a, p_indices=True)
        for name, view in layouts(a):
            got = lucy.lu(view, p_indices=True)
            for g, r in zip(got, ref):
                np.testing.assert_array_equal(g, r, err_msg=name)
        bc = np.broadcast_to(a[0], (4, 6, 4))
        got = lucy.lu(bc, p_indices=True)
        for i in range(4):
            for g, r in zip(got, ref):
                np.testing.assert_array_equal(g[i], r[0])

    @pytest.mark.parametrize("shape", EMPTY_SHAPES)
    def test_empty(self, shape):
        m, n = shape[-2:]
        k = min(m, n)
        p, l, u = lucy.lu(np.ones(shape))
        assert p.shape == shape[:-2] + (m, m) and l.shape == shape[:-2] + (m, k)
        assert u.shape == shape[:-2] + (k, n)
        pi, _, _ = lucy.lu(np.ones(shape), p_indices=True)
        assert pi.shape == shape[:-2] + (m,) and pi.dtype == np.int32
        pl, u = lucy.lu(np.ones(shape), permute_l=True)
        assert pl.shape == shape[:-2] + (m, k)

    def test_singular_is_silent_like_scipy(self, rng):
        a = np.zeros((3, 4, 4))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = lucy.lu(a)
        assert_lu_matches_scipy(a, out)

    def test_never_writes_input(self, rng):
        a = np.asfortranarray(random_matrices((5, 5), np.float64, rng))
        before = a.copy()
        lucy.lu(a, overwrite_a=True)
        np.testing.assert_array_equal(a, before)

    def test_p_indices_are_int32_for_1x1(self):
        # SciPy returns int64 here and int32 everywhere else; lucy is uniform.
        p, _, _ = lucy.lu(np.array([[3.0]]), p_indices=True)
        assert p.dtype == np.int32 and p.tolist() == [0]


class TestLuUnpack:
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    @pytest.mark.parametrize("shape", SHAPES)
    def test_equals_lu(self, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv = lucy.lu_factor(a)
        for kw in ({}, {"p_indices": True}, {"permute_l": True}):
            got = lucy.lu_unpack(lu, piv, **kw)
            ref = lucy.lu(a, **kw)
            for g, r in zip(got, ref):
                np.testing.assert_array_equal(g, r)

    def test_any_layout_and_int64_pivots(self, rng):
        a = random_matrices((4, 5, 5), np.complex128, rng)
        lu, piv = lucy.lu_factor(a)
        ref = lucy.lu(a)
        for lu_view in (np.ascontiguousarray(lu), lu[::-1][::-1]):
            got = lucy.lu_unpack(lu_view, piv.astype(np.int64))
            for g, r in zip(got, ref):
                np.testing.assert_array_equal(g, r)

    def test_broadcasts_batch(self, rng):
        a = random_matrices((5, 5), np.float64, rng)
        lu, piv = lucy.lu_factor(a)
        p, l, u = lucy.lu_unpack(np.broadcast_to(lu, (3, 5, 5)), piv)
        assert p.shape == (3, 5, 5)
        assert_reconstructs(np.broadcast_to(a, (3, 5, 5)), p, l, u)

    def test_scipy_factors(self, rng):
        a = random_matrices((6, 4), np.float64, rng)
        p, l, u = lucy.lu_unpack(*sla.lu_factor(a))
        assert_reconstructs(a, p, l, u)

    @given(matrix_stacks())
    def test_roundtrip_property(self, a):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sla.LinAlgWarning)
            lu, piv = lucy.lu_factor(a)
        for kw in ({}, {"p_indices": True}, {"permute_l": True}):
            for g, r in zip(lucy.lu_unpack(lu, piv, **kw), lucy.lu(a, **kw)):
                np.testing.assert_array_equal(g, r)
