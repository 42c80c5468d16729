"""Pivot toolkit: pivots_to_permutation / permutation_to_pivots."""

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import lucy
from conftest import random_matrices


def reference_perm(piv, m):
    perm = np.arange(m)
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


@st.composite
def pivot_stacks(draw):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    m = draw(st.integers(0, 9))
    k = draw(st.integers(0, m))
    # LAPACK pivots: piv[i] in [i, m)
    cols = [draw(hnp.arrays(np.int32, batch, elements=st.integers(i, m - 1)))
            for i in range(k)]
    piv = np.stack(cols, axis=-1) if k else np.zeros((*batch, 0), np.int32)
    return piv, m


class TestPivotsToPermutation:
    def test_matches_reference_and_scipy_lu(self, rng):
        for shape in [(5, 5), (7, 4), (4, 7), (3, 6, 6), (2, 9, 3)]:
            a = random_matrices(shape, np.float64, rng)
            lu, piv = lucy.lu_factor(a)
            m = shape[-2]
            perm = lucy.pivots_to_permutation(piv, m)
            assert perm.dtype == np.int32 and perm.shape == shape[:-2] + (m,)
            for idx in np.ndindex(*shape[:-2]):
                np.testing.assert_array_equal(perm[idx], reference_perm(piv[idx], m))
                p, _, _ = sla.lu(a[idx], p_indices=True)
                np.testing.assert_array_equal(np.argsort(perm[idx]), p)

    def test_accepts_mlx_and_torch_dtypes(self):
        piv = np.array([2, 2, 3, 3])
        ref = lucy.pivots_to_permutation(piv)
        for dt in (np.uint32, np.int64, np.uint8, np.int16):
            np.testing.assert_array_equal(lucy.pivots_to_permutation(piv.astype(dt)), ref)
        torch_style = piv + 1
        np.testing.assert_array_equal(lucy.pivots_to_permutation(torch_style - 1), ref)

    def test_empty(self):
        assert lucy.pivots_to_permutation(np.zeros((3, 0), np.int32)).shape == (3, 0)
        assert lucy.pivots_to_permutation(np.zeros((0, 4), np.int32)).shape == (0, 4)
        assert lucy.pivots_to_permutation(np.zeros(0, np.int32), m=3).tolist() == [0, 1, 2]


class TestPermutationToPivots:
    def test_examples(self):
        assert lucy.permutation_to_pivots([0]).tolist() == [0]
        assert lucy.permutation_to_pivots([1, 0]).tolist() == [1, 1]
        assert lucy.permutation_to_pivots([1, 0, 2], k=1).tolist() == [1]

    @given(pivot_stacks())
    def test_roundtrip(self, case):
        piv, m = case
        k = piv.shape[-1]
        perm = lucy.pivots_to_permutation(piv, m)
        for idx in np.ndindex(*piv.shape[:-1]):
            np.testing.assert_array_equal(perm[idx], reference_perm(piv[idx], m))
        back = lucy.permutation_to_pivots(perm, k)
        np.testing.assert_array_equal(back, piv)

    @given(st.integers(1, 8), st.integers(0, 2**32 - 1))
    def test_any_permutation_roundtrips(self, m, seed):
        perm = np.random.default_rng(seed).permutation(m)
        piv = lucy.permutation_to_pivots(perm)
        assert (piv >= np.arange(m)).all()
        np.testing.assert_array_equal(lucy.pivots_to_permutation(piv), perm)
