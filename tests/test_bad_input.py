"""Bad input: every public function rejects it with a clear ValueError or
TypeError naming the offending argument, never crashes, and never modifies
the caller's arrays (unless asked to with ``overwrite_*=True`` on an array
already in the output layout)."""

import contextlib
import decimal
import fractions
import re
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sps

import lucy
from conftest import skip_beyond_numpy_max_dims

SEED = 20261122


def well_conditioned(shape, dtype=np.float64, seed=0):
    """Random matrices with a dominant diagonal (never singular), so no
    LinAlgWarning can turn into an error under filterwarnings=error."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    a = a + 4 * np.eye(shape[-2], shape[-1])
    return a.astype(dtype)


def _root(x):
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


@contextlib.contextmanager
def unchanged(*arrays):
    """Assert that the memory behind each array (its whole root buffer, so
    writes into the gaps of a strided view count too) and its writeable
    flag are the same after the block as before."""
    roots = [_root(np.asarray(a)) for a in arrays]
    saved = [(r.tobytes(), r.flags.writeable) for r in roots]
    yield
    for i, (r, (data, writeable)) in enumerate(zip(roots, saved)):
        assert r.tobytes() == data, f"input {i} was modified"
        assert r.flags.writeable == writeable, f"input {i} changed its writeable flag"


def named(name):
    """A ``match`` pattern: the message starts with the argument's name."""
    return rf"^{re.escape(name)}\b"


def assert_same_outputs(actual, expected):
    if not isinstance(expected, tuple):
        actual, expected = (actual,), (expected,)
    assert len(actual) == len(expected)
    for x, y in zip(actual, expected):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


# A valid 2 x 2 factorization: the other arguments of a call whose one
# argument under test is a bad 2 x 2 (or (..., 2, 2)) array.
_A2 = np.array([[4.0, 1.0], [2.0, 3.0]])
_LU2, _PIV2 = sla.lu_factor(_A2)
_B2 = np.array([1.0, 2.0])

# (id, argument name in the message, call with the bad value x)
ARRAY_SITES = [
    ("lu_factor-a", "a", lambda x: lucy.lu_factor(x)),
    ("lu_factor_ex-a", "a", lambda x: lucy.lu_factor_ex(x)),
    ("lu-a", "a", lambda x: lucy.lu(x)),
    ("lu_unpack-lu", "lu", lambda x: lucy.lu_unpack(x, _PIV2)),
    ("lu_solve-lu", "lu", lambda x: lucy.lu_solve((x, _PIV2), _B2)),
    ("lu_solve-b", "b", lambda x: lucy.lu_solve((_LU2, _PIV2), x)),
]
ARRAY_SITE_IDS = [s[0] for s in ARRAY_SITES]

# The same for integer arguments (pivots / permutations), x of shape (..., 2)
PIVOT_SITES = [
    ("lu_solve-piv", "piv", lambda x: lucy.lu_solve((_LU2, x), _B2)),
    ("lu_unpack-piv", "piv", lambda x: lucy.lu_unpack(_LU2, x)),
    ("pivots_to_permutation-piv", "piv", lambda x: lucy.pivots_to_permutation(x)),
    ("permutation_to_pivots-perm", "perm", lambda x: lucy.permutation_to_pivots(x)),
]
PIVOT_SITE_IDS = [s[0] for s in PIVOT_SITES]


# ---------------------------------------------------------------------------

class TestTooFewDimensions:
    @pytest.mark.parametrize("func", [lucy.lu_factor, lucy.lu_factor_ex, lucy.lu])
    @pytest.mark.parametrize("a", [np.float64(3.0), 3.0, np.array(2.0), np.ones(3), [1.0, 2.0],
                                   np.ones(0)], ids=["np-scalar", "float", "0d", "1d", "list", "1d-empty"])
    def test_a(self, func, a):
        with pytest.raises(ValueError, match=named("a") + ".*two-dimensional"):
            func(a)

    @pytest.mark.parametrize("lu", [np.array(1.0), np.ones(2)], ids=["0d", "1d"])
    def test_lu_solve_lu(self, lu):
        with pytest.raises(ValueError, match=named("lu") + ".*two-dimensional"):
            lucy.lu_solve((lu, _PIV2), _B2)

    @pytest.mark.parametrize("lu", [np.array(1.0), np.ones(2)], ids=["0d", "1d"])
    def test_lu_unpack_lu(self, lu):
        with pytest.raises(ValueError, match=named("lu") + ".*two-dimensional"):
            lucy.lu_unpack(lu, _PIV2)

    @pytest.mark.parametrize("b", [np.array(1.0), 1.0, np.float32(2)], ids=["0d", "float", "np-scalar"])
    def test_lu_solve_b_0d(self, b):
        with pytest.raises(ValueError, match=named("b") + ".*one-dimensional"):
            lucy.lu_solve((_LU2, _PIV2), b)

    def test_piv_0d(self):
        with pytest.raises(ValueError, match=named("piv")):
            lucy.lu_solve((_LU2, np.int32(0)), _B2)
        with pytest.raises(ValueError, match=named("piv")):
            lucy.lu_unpack(_LU2, np.int32(0))
        with pytest.raises(ValueError, match=named("piv")):
            lucy.pivots_to_permutation(np.int32(0))
        with pytest.raises(ValueError, match=named("perm")):
            lucy.permutation_to_pivots(0)


# ---------------------------------------------------------------------------
# inf and NaN

# (dtype, value): real values in real arrays, complex ones in complex arrays;
# float16/longdouble go through the casting copy instead of being read in place.
NONFINITE = [
    (np.float64, np.nan), (np.float64, np.inf), (np.float64, -np.inf),
    (np.float32, np.nan), (np.float32, -np.inf),
    (np.float16, np.inf), (np.longdouble, np.nan),
    (np.complex128, complex(np.nan, 0)), (np.complex128, complex(0, np.nan)),
    (np.complex128, complex(np.inf, 0)), (np.complex128, complex(1, -np.inf)),
    (np.complex64, complex(-np.inf, np.nan)), (np.complex64, complex(0, np.inf)),
]
NONFINITE_IDS = [f"{np.dtype(d).name}-{v}" for d, v in NONFINITE]
# where in the bad matrix (matrix 1 of a batch of 3)
POSITIONS = {"first": (0, 0), "last": (-1, -1), "interior": (2, 1)}
CHECKED_SITES = ["lu_factor", "lu_factor_ex", "lu", "lu_solve-b"]
# lu_solve's check_finite looks at b only, as SciPy's: a non-finite lu is
# passed through to x (the site is still tested unchecked, and below).
SITES = CHECKED_SITES + ["lu_solve-lu"]


def _nonfinite_call(site, n, dtype, value, pos):
    """Inputs (3 matrices, matrix 1 bad) and the call; returns
    (inputs, call(check_finite), reference call on matrices 0 and 2, name)."""
    a = well_conditioned((3, n, n), dtype, seed=n)
    if site in ("lu_factor", "lu_factor_ex", "lu"):
        func = getattr(lucy, site)
        a[1][pos] = value
        return ((a,), lambda cf: func(a, check_finite=cf),
                lambda: func(a[[0, 2]]), "a")
    lu, piv = lucy.lu_factor(a)
    b = well_conditioned((3, n, 2), dtype, seed=n + 1)
    if site == "lu_solve-lu":
        lu[1][pos] = value
    else:
        b[1][pos[0], pos[1] % 2] = value
    return ((lu, piv, b), lambda cf: lucy.lu_solve((lu, piv), b, check_finite=cf),
            lambda: lucy.lu_solve((lu[[0, 2]], piv[[0, 2]]), b[[0, 2]]), "b")


class TestNonFinite:
    @pytest.mark.parametrize("site", CHECKED_SITES)
    @pytest.mark.parametrize("dtype,value", NONFINITE, ids=NONFINITE_IDS)
    @pytest.mark.parametrize("pos", list(POSITIONS.values()), ids=list(POSITIONS))
    @pytest.mark.parametrize("n", [4, 40])
    def test_check_finite_raises(self, site, dtype, value, pos, n):
        inputs, call, _, name = _nonfinite_call(site, n, dtype, value, pos)
        pattern = named(name) + r" must not contain infs or NaNs \(first at batch index \(1,\)\)"
        with unchanged(*inputs), pytest.raises(ValueError, match=pattern):
            call(True)

    @pytest.mark.parametrize("dtype,value", NONFINITE, ids=NONFINITE_IDS)
    @pytest.mark.parametrize("pos", list(POSITIONS.values()), ids=list(POSITIONS))
    @pytest.mark.parametrize("n", [4, 40])
    def test_solve_does_not_scan_lu(self, dtype, value, pos, n):
        # As SciPy's: check_finite=True checks b; a non-finite lu goes into
        # its item's x (a NaN always shows there; an inf on U's diagonal
        # may give zeros) and leaves the other items alone.
        inputs, call, reference, _ = _nonfinite_call("lu_solve-lu", n, dtype, value, pos)
        with unchanged(*inputs):
            out = call(True)
        np.testing.assert_array_equal(out[[0, 2]], reference())
        if np.isnan(value):
            assert not np.isfinite(out[1]).all()

    @pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
    @pytest.mark.parametrize("site", SITES)
    @pytest.mark.parametrize("dtype,value", NONFINITE, ids=NONFINITE_IDS)
    @pytest.mark.parametrize("pos", list(POSITIONS.values()), ids=list(POSITIONS))
    @pytest.mark.parametrize("n", [4, 40])
    def test_unchecked_does_not_raise(self, site, dtype, value, pos, n):
        inputs, call, reference, _ = _nonfinite_call(site, n, dtype, value, pos)
        with unchanged(*inputs):
            out = call(False)
        # The bad matrix's result is unspecified; the good ones are unaffected.
        ref = reference()
        outs = out if isinstance(out, tuple) else (out,)
        refs = ref if isinstance(ref, tuple) else (ref,)
        for o, r in zip(outs, refs):
            np.testing.assert_array_equal(o[[0, 2]], r)

    # C-order matrices are checked on the registers of the copy into the
    # output: square 4-64 kB ones on the in-place transpose after a plain copy
    # (diagonal blocks, and blocks above and below it), the others on the
    # transposing copy; Fortran-order ones after their copy.
    @pytest.mark.parametrize("dtype,shape,order", [
        (np.complex128, (16, 16), "C"), (np.complex128, (64, 64), "C"),
        (np.complex128, (66, 66), "C"), (np.complex128, (6, 4), "C"),
        (np.float64, (16, 16), "C"), (np.float64, (24, 24), "C"),
        (np.float64, (100, 100), "C"), (np.float64, (12, 8), "C"),
        (np.float32, (32, 32), "C"), (np.float32, (16, 8), "C"),
        (np.float64, (24, 24), "F"), (np.complex128, (16, 16), "F"),
    ])
    def test_every_element_checked_on_the_copy(self, dtype, shape, order):
        m, n = shape
        rows = sorted({i for i in (0, 1, 2, 3, 5, m // 2, m - 3, m - 1) if i < m})
        cols = sorted({j for j in (0, 1, 2, 3, 5, n // 2, n - 3, n - 1) if j < n})
        good = np.asarray(well_conditioned((2, m, n), dtype, seed=m + n), order=order)
        pattern = r"must not contain infs or NaNs \(first at batch index \(1,\)\)"
        bad = np.nan if dtype != np.complex128 else complex(0, np.inf)
        # lu_solve copies right-hand sides that are not column-major the
        # same way (the factors it copies unchecked: check_finite is b's).
        piv = lucy.lu_factor(good)[1]
        rhs = np.asarray(well_conditioned((2, m, 4), dtype, seed=1), order=order)
        for i in rows:
            for j in cols:
                a = good.copy(order=order)
                a[1, i, j] = bad
                for func in (lucy.lu_factor, lucy.lu):
                    with pytest.raises(ValueError, match=pattern):
                        func(a)
                if m == n and order == "C":
                    b = rhs.copy(order=order)
                    b[1, i, j % 4] = bad
                    with pytest.raises(ValueError, match=pattern):
                        lucy.lu_solve((good, piv), b)
        lucy.lu_factor(good)   # and a finite batch passes
        if m == n:
            lucy.lu_solve((good, piv), rhs)

    @pytest.mark.parametrize("pos", [(0, 0), (599, 599), (300, 130)])
    def test_large_matrices_checked_while_copied(self, pos):
        # Fewer 600 x 600 matrices than threads: all threads copy each one
        # into the output and check the columns they copied.
        a = well_conditioned((2, 600, 600), np.float64, seed=6)
        a[1][pos] = np.nan
        pattern = r"must not contain infs or NaNs \(first at batch index \(1,\)\)"
        for func in (lucy.lu_factor, lucy.lu_factor_ex):
            with unchanged(a), pytest.raises(ValueError, match=pattern):
                func(a, workers=3)
            with unchanged(a), pytest.raises(ValueError, match="must not contain infs or NaNs"):
                func(a[1], workers=2)

    def test_2d_message_has_no_batch_index(self):
        a = np.eye(3)
        a[1, 2] = np.nan
        with pytest.raises(ValueError, match=r"^a must not contain infs or NaNs;"):
            lucy.lu_factor(a)

    def test_nd_batch_index(self):
        a = well_conditioned((2, 3, 4, 4))
        a[1, 2, 3, 0] = np.inf
        a[1, 1, 0, 0] = np.nan      # the first one in C order over the batch
        with pytest.raises(ValueError, match=r"first at batch index \(1, 1\)"):
            lucy.lu_factor(a)

    def test_lu_unpack_has_no_check(self):
        lu = np.full((2, 2), np.nan)
        p, l, u = lucy.lu_unpack(lu, _PIV2)
        assert p.shape == l.shape == u.shape == (2, 2)

    def test_object_array_none_is_nan_or_rejected(self):
        a = np.array([[None, 1.0], [2.0, 3.0]], dtype=object)
        with pytest.raises((ValueError, TypeError), match=named("a")):
            lucy.lu_factor(a)


# ---------------------------------------------------------------------------
# Non-numeric input

def _object_array(values):
    out = np.empty((2, 2), dtype=object)
    for idx in np.ndindex(2, 2):
        out[idx] = values[idx[0]][idx[1]]
    return out


NON_NUMERIC = {
    "str": lambda: np.array([["4", "1"], ["2", "3"]]),
    "bytes": lambda: np.array([[b"4", b"1"], [b"2", b"3"]]),
    "list-of-str": lambda: [["4", "1"], ["2", "3"]],
    "datetime64": lambda: np.arange(4).astype("M8[D]").reshape(2, 2),
    "timedelta64": lambda: np.arange(4).astype("m8[s]").reshape(2, 2),
    "structured": lambda: np.zeros((2, 2), [("re", "f8"), ("im", "f8")]),
    "structured-one-field": lambda: np.ones((2, 2), [("x", "f8")]),
    "void": lambda: np.zeros((2, 2), "V8"),
    "batched-str": lambda: np.array([[["4", "1"], ["2", "3"]]] * 3),
}

# Object arrays whose elements are not real or complex numbers.
OBJECT_NON_NUMBERS = {
    "words": [["a", "b"], ["c", "d"]],
    "None": [[None, 1.0], [2.0, 3.0]],
    "numeric-str": [["4", "1"], ["2", "3"]],
    "numeric-bytes": [[b"4", b"1"], [b"2", b"3"]],
    "datetime64": [[np.datetime64("2020-01-01"), 1.0], [2.0, 3.0]],
    "list": [[[4.0], 1.0], [2.0, 3.0]],
    "dict": [[{}, 1.0], [2.0, 3.0]],
}


def _numbers(kind):
    """(object array, the numeric array it stands for)."""
    rng = np.random.default_rng(SEED)
    re_, im = rng.standard_normal((2, 2, 2)) + 4 * np.eye(2)
    if kind == "float":
        num = re_
        return num.astype(object), num
    if kind == "complex":
        num = re_ + 1j * im
        return num.astype(object), num
    if kind == "python-int":
        num = np.array([[4.0, 1.0], [-2.0, 3.0]])
        return _object_array([[4, 1], [-2, 3]]), num
    if kind == "mixed-int-float":
        num = np.array([[4.0, 1.5], [-2.0, 3.0]])
        return _object_array([[4, 1.5], [-2, 3.0]]), num
    if kind == "fraction":
        num = np.array([[4.0, 0.5], [0.25, 3.0]])
        return _object_array([[fractions.Fraction(4), fractions.Fraction(1, 2)],
                              [fractions.Fraction(1, 4), 3]]), num
    if kind == "decimal":
        num = np.array([[4.0, 0.5], [0.25, 3.0]])
        return _object_array([[decimal.Decimal(4), decimal.Decimal("0.5")],
                              [decimal.Decimal("0.25"), 3]]), num
    scalar = {"np.float32": np.float32, "np.float64": np.float64,
              "np.complex64": np.complex64, "np.complex128": np.complex128}[kind]
    num = re_ + 1j * im if np.dtype(scalar).kind == "c" else re_
    num = num.astype(scalar)
    obj = _object_array([[scalar(num[i, j]) for j in range(2)] for i in range(2)])
    # lucy computes object arrays in float64 / complex128
    return obj, num.astype(np.complex128 if num.dtype.kind == "c" else np.float64)


OBJECT_NUMBER_KINDS = ["float", "complex", "python-int", "mixed-int-float", "fraction", "decimal",
                       "np.float32", "np.float64", "np.complex64", "np.complex128"]
OBJECT_NUMBER_SITES = {
    "lu_factor": lambda x: lucy.lu_factor(x),
    "lu": lambda x: lucy.lu(x),
    "lu_solve-b": lambda x: lucy.lu_solve((_LU2, _PIV2), x),
}


class TestNonNumeric:
    @pytest.mark.parametrize("site", ARRAY_SITES, ids=ARRAY_SITE_IDS)
    @pytest.mark.parametrize("kind", list(NON_NUMERIC))
    def test_dtype_rejected(self, site, kind):
        _, name, call = site
        x = NON_NUMERIC[kind]()
        with unchanged(np.asarray(x)), pytest.raises(TypeError, match=named(name)):
            call(x)

    @pytest.mark.parametrize("site", [ARRAY_SITES[0], ARRAY_SITES[5]],
                             ids=[ARRAY_SITE_IDS[0], ARRAY_SITE_IDS[5]])
    @pytest.mark.parametrize("kind", list(OBJECT_NON_NUMBERS))
    def test_object_non_numbers_rejected(self, site, kind):
        # check_finite=False: None must not slip through as NaN either
        _, name, _ = site
        x = _object_array(OBJECT_NON_NUMBERS[kind])
        if name == "a":
            def call():
                return lucy.lu_factor(x, check_finite=False)
        else:
            def call():
                return lucy.lu_solve((_LU2, _PIV2), x, check_finite=False)
        with unchanged(x), pytest.raises((TypeError, ValueError), match=named(name)):
            call()

    @pytest.mark.parametrize("site", list(OBJECT_NUMBER_SITES))
    @pytest.mark.parametrize("kind", OBJECT_NUMBER_KINDS)
    def test_object_numbers_accepted(self, site, kind):
        obj, num = _numbers(kind)
        call = OBJECT_NUMBER_SITES[site]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with unchanged(obj):
                out = call(obj)
        assert_same_outputs(out, call(num))
        assert not caught, [str(w.message) for w in caught]

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    @pytest.mark.parametrize("piv", [
        np.array([0j, 1]), np.array([False, True]), np.array(["0", "1"]),
        np.array([0, 1], object), np.array([0, 1], "m8[s]"),
    ], ids=["complex", "bool", "str", "object", "timedelta"])
    def test_non_integer_pivots(self, site, piv):
        _, name, call = site
        with unchanged(piv), pytest.raises(TypeError, match=named(name) + " must hold integers"):
            call(piv)

    def test_ragged_nested_list(self):
        with pytest.raises(ValueError):
            lucy.lu_factor([[1.0, 2.0], [3.0]])


# ---------------------------------------------------------------------------
# Masked arrays and sparse matrices

SPARSE_KINDS = {
    "csr_matrix": sps.csr_matrix,
    "csr_array": sps.csr_array,
    "coo_array": sps.coo_array,
    "dia_matrix": sps.dia_matrix,
}


class TestFloatPivots:
    """Pivots and permutations of a float dtype (read back from text, JSON or
    float-only stores; SciPy's own tests write empty pivots as
    ``np.array([])``) are taken when every value is a whole number."""

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    @pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble, ">f8"])
    def test_whole_values_as_integers(self, site, dtype):
        _, _, call = site
        ints = np.array([[1, 0], [0, 1], [1, 0]])
        floats = ints.astype(dtype)
        with unchanged(floats):
            out = call(floats)
        assert_same_outputs(out, call(ints))

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    def test_float_list_and_strided(self, site):
        _, _, call = site
        assert_same_outputs(call([1.0, 0.0]), call([1, 0]))
        strided = np.array([0.0, 9.5, 1.0, 9.5])[2::-2]      # [1.0, 0.0], stride -16
        assert_same_outputs(call(strided), call([1, 0]))

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    @pytest.mark.parametrize("bad", [0.5, -0.25, 1e-300, np.nan, np.inf, -np.inf])
    def test_not_whole_names_first_batch_index(self, site, bad):
        _, name, call = site
        piv = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, bad], [bad, 0.0]])
        with unchanged(piv), pytest.raises(
                ValueError, match=named(name) + r" must hold whole numbers.*batch index \(2,\)"):
            call(piv)

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    @pytest.mark.parametrize("bad", [2.0, -1.0, 2.0**31, 2.0**63, 1e300])
    def test_out_of_range_names_first_batch_index(self, site, bad):
        _, name, call = site
        piv = np.array([[1.0, 0.0], [1.0, bad], [bad, 1.0]])
        with unchanged(piv), pytest.raises(ValueError, match=named(name) + r".*batch index \(1,\)"):
            call(piv)

    def test_empty_float_pivots(self):
        # SciPy's test_decomp_lu: lu_solve((np.empty((0, 0)), np.array([])), b)
        x = lucy.lu_solve((np.empty((0, 0)), np.array([])), np.array([]))
        assert x.shape == (0,) and x.dtype == np.float64


class TestMaskedAndSparse:
    @pytest.mark.parametrize("site", ARRAY_SITES, ids=ARRAY_SITE_IDS)
    @pytest.mark.parametrize("mask", [False, True], ids=["nothing-masked", "one-masked"])
    def test_masked_rejected(self, site, mask):
        _, name, call = site
        x = np.ma.array(_A2.copy(), mask=[[mask, False], [False, False]])
        with unchanged(x.data), pytest.raises(ValueError, match=named(name) + ": masked"):
            call(x)

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    def test_masked_pivots_rejected(self, site):
        # The mask must not be dropped silently for integer arguments either.
        _, name, call = site
        x = np.ma.array([1, 0], mask=[True, False])    # valid data under the mask
        with pytest.raises((ValueError, TypeError), match=named(name)):
            call(x)

    @pytest.mark.parametrize("site", ARRAY_SITES, ids=ARRAY_SITE_IDS)
    @pytest.mark.parametrize("kind", list(SPARSE_KINDS))
    def test_sparse_rejected(self, site, kind):
        _, name, call = site
        with pytest.raises(TypeError, match=named(name) + ": sparse"):
            call(SPARSE_KINDS[kind](_A2))

    @pytest.mark.parametrize("site", PIVOT_SITES, ids=PIVOT_SITE_IDS)
    def test_sparse_pivots_rejected(self, site):
        _, name, call = site
        with pytest.raises((TypeError, ValueError), match=named(name)):
            call(sps.csr_array(np.array([[1, 1]])))


# ---------------------------------------------------------------------------
# lu_solve's own arguments

M = 4


def _solve_inputs(batch=(3,), dtype=np.float64):
    a = well_conditioned((*batch, M, M), dtype, seed=7)
    lu, piv = lucy.lu_factor(a)
    b = well_conditioned((*batch, M, 2), dtype, seed=8)
    return lu, piv, b


# Pivots no (M = 4)-row matrix has, by dtype
BAD_PIVOTS = [
    (np.int32, -1), (np.int32, M), (np.int32, 2**31 - 1), (np.int32, -2**31),
    (np.int64, -1), (np.int64, M), (np.int64, 2**32), (np.int64, 2**32 + 1),
    (np.int64, 2**63 - 1), (np.int64, -2**63),
    (np.uint64, 2**64 - 1), (np.uint64, 2**63), (np.uint64, 2**32), (np.uint64, M),
    (np.uint32, 2**32 - 1), (np.uint32, 2**31),
    (np.int8, -1), (np.int8, -128), (np.int8, 127), (np.uint8, 255),
    (np.int16, -32768), (np.uint16, 65535),
]
BAD_PIVOT_IDS = [f"{np.dtype(d).name}:{v}" for d, v in BAD_PIVOTS]

GOOD_PIVOT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                     np.uint32, np.uint64, ">i4", ">i8", "<u8"]


class TestLuSolveArguments:
    @pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 4), (1, 5)])
    def test_non_square_lu(self, shape):
        lu = np.ones(shape)
        with pytest.raises(ValueError, match=named("lu") + " must be square"):
            lucy.lu_solve((lu, np.zeros(shape[-1], np.int32)), np.ones(shape[-1]))

    @pytest.mark.parametrize("b_shape", [(M + 1,), (M - 1,), (M + 1, 2), (3, M - 1, 2), (2, 3, 1, M)])
    def test_b_wrong_rows(self, b_shape):
        lu, piv, _ = _solve_inputs()
        b = np.ones(b_shape)
        with unchanged(lu, piv, b), pytest.raises(ValueError, match=r"\bb\b.*rows"):
            lucy.lu_solve((lu, piv), b)

    def test_stack_of_vectors_gets_a_hint(self):
        # lu (10, 4, 4) with b (10, 4): SciPy's rule reads b as one 10 x 4
        # matrix; the message names M and the spelling of a vector stack.
        lu = np.broadcast_to(np.eye(4), (10, 4, 4))
        piv = np.zeros((10, 4), np.int32) + np.arange(4, dtype=np.int32)
        with pytest.raises(ValueError, match=r"M = 4 rows.*b\[\.\.\., None\], of shape \(10, 4, 1\)"):
            lucy.lu_solve((lu, piv), np.ones((10, 4)))
        with pytest.raises(ValueError, match=r"M = 4 rows") as info:
            lucy.lu_solve((lu, piv), np.ones((10, 5)))
        assert "None" not in str(info.value)

    @pytest.mark.parametrize("lu_batch,piv_batch,b_batch", [
        ((3,), (2,), ()),
        ((3,), (3,), (2,)),
        ((3,), (), (4,)),
        ((2, 3), (3,), (3, 3)),
        ((), (2,), (5,)),
    ])
    def test_batches_do_not_broadcast(self, lu_batch, piv_batch, b_batch):
        lu = np.broadcast_to(np.eye(M), (*lu_batch, M, M))
        piv = np.broadcast_to(np.arange(M, dtype=np.int32), (*piv_batch, M))
        b = np.ones((*b_batch, M, 2))
        with pytest.raises(ValueError, match=r"batch shapes of lu .* piv .* b .* do not broadcast"):
            lucy.lu_solve((lu, piv), b)

    @pytest.mark.parametrize("trans", [3, -1, "X", "NT", "", 1.5, None, [0], (1,),
                                       np.array([0, 1]), "t", b"N"])
    def test_bad_trans(self, trans):
        lu, piv, b = _solve_inputs()
        with unchanged(lu, piv, b), pytest.raises(
                ValueError, match=named("trans") + r" must be 0, 1 or 2 \(or 'N', 'T', 'C'\)"):
            lucy.lu_solve((lu, piv), b, trans=trans)

    @pytest.mark.parametrize("trans,code", [(0, 0), (1, 1), (2, 2), ("N", 0), ("T", 1),
                                            ("C", 2), (np.int64(2), 2)])
    def test_good_trans(self, trans, code):
        lu, piv, b = _solve_inputs(batch=(), dtype=np.complex128)
        x = lucy.lu_solve((lu, piv), b, trans=trans)
        ref = sla.lu_solve((lu, piv), b, trans=code)
        np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("pair", ["lu-only", "1-tuple", "3-tuple", "None", "int", "set"])
    def test_lu_and_piv_not_a_pair(self, pair):
        lu, piv, b = _solve_inputs(batch=())
        value = {"lu-only": lu, "1-tuple": (lu,), "3-tuple": (lu, piv, piv),
                 "None": None, "int": 5, "set": {1}}[pair]
        with unchanged(lu, piv, b), pytest.raises(TypeError, match=named("lu_and_piv")):
            lucy.lu_solve(value, b)

    def test_lu_and_piv_two_rows_of_an_array(self):
        # A (2, M) array unpacks into two 1-D "arguments": refused by name.
        with pytest.raises((TypeError, ValueError), match=r"^(lu|piv)\b"):
            lucy.lu_solve(np.ones((2, M)), np.ones(M))

    @pytest.mark.parametrize("piv_shape", [(M - 1,), (M + 1,), (0,), (3, M - 1), (M, 1)])
    def test_piv_wrong_length(self, piv_shape):
        lu, _, b = _solve_inputs()
        piv = np.zeros(piv_shape, np.int32)
        with pytest.raises(ValueError, match=named("piv") + r" must have shape \(\.\.\., 4\)"):
            lucy.lu_solve((lu, piv), b)

    @pytest.mark.parametrize("dtype,value", BAD_PIVOTS, ids=BAD_PIVOT_IDS)
    @pytest.mark.parametrize("func", ["lu_solve", "lu_unpack", "pivots_to_permutation"])
    def test_pivots_out_of_range(self, func, dtype, value):
        lu, piv, b = _solve_inputs()
        bad = piv.astype(dtype)
        bad[1, 2] = np.array(value).astype(dtype)       # one matrix of the batch
        with unchanged(lu, bad, b), pytest.raises(ValueError, match=named("piv")):
            if func == "lu_solve":
                lucy.lu_solve((lu, bad), b)
            elif func == "lu_unpack":
                lucy.lu_unpack(lu, bad)
            else:
                lucy.pivots_to_permutation(bad, m=M)

    @pytest.mark.parametrize("dtype", GOOD_PIVOT_DTYPES, ids=lambda d: np.dtype(d).str)
    def test_pivot_dtypes_accepted(self, dtype):
        lu, piv, b = _solve_inputs()
        other = piv.astype(dtype)
        assert_same_outputs(lucy.lu_solve((lu, other), b), lucy.lu_solve((lu, piv), b))
        assert_same_outputs(lucy.lu_solve((lu, other), b[0, :, 0]),
                            lucy.lu_solve((lu, piv), b[0, :, 0]))
        assert_same_outputs(lucy.lu_unpack(lu, other), lucy.lu_unpack(lu, piv))
        assert_same_outputs(lucy.pivots_to_permutation(other), lucy.pivots_to_permutation(piv))
        perm = lucy.pivots_to_permutation(piv)
        assert_same_outputs(lucy.permutation_to_pivots(perm.astype(dtype)), piv)

    def test_strided_and_broadcast_pivots(self):
        lu, piv, b = _solve_inputs()
        big = np.zeros((3, 2 * M), np.int64)
        big[:, ::2] = piv
        x = lucy.lu_solve((lu, big[:, ::2]), b)
        assert_same_outputs(x, lucy.lu_solve((lu, piv), b))
        one = np.broadcast_to(piv[1], (3, M))
        assert_same_outputs(lucy.lu_solve((lu[1], one), b), lucy.lu_solve((lu[[1, 1, 1]], piv[[1, 1, 1]]), b))


# ---------------------------------------------------------------------------
# workers

_W_A = well_conditioned((3, 4, 4))
_W_LU, _W_PIV = lucy.lu_factor(_W_A)
WORKER_CALLS = {
    "lu_factor": lambda w: lucy.lu_factor(_W_A, workers=w),
    "lu_factor_ex": lambda w: lucy.lu_factor_ex(_W_A, workers=w),
    "lu": lambda w: lucy.lu(_W_A, workers=w),
    "lu_solve": lambda w: lucy.lu_solve((_W_LU, _W_PIV), _W_A, workers=w),
    "lu_unpack": lambda w: lucy.lu_unpack(_W_LU, _W_PIV, workers=w),
    "pivots_to_permutation": lambda w: lucy.pivots_to_permutation(_W_PIV, workers=w),
    "permutation_to_pivots": lambda w: lucy.permutation_to_pivots(
        np.array([[1, 0, 2, 3]] * 3), workers=w),
}
# Empty inputs: the argument is still checked.
EMPTY_WORKER_CALLS = {
    "lu_factor": lambda w: lucy.lu_factor(np.empty((0, 3, 3)), workers=w),
    "lu": lambda w: lucy.lu(np.empty((0, 3, 3)), workers=w),
    "lu_solve": lambda w: lucy.lu_solve((np.empty((0, 3, 3)), np.empty((0, 3), np.int32)),
                                        np.ones(3), workers=w),
    "pivots_to_permutation": lambda w: lucy.pivots_to_permutation(
        np.empty((0, 3), np.int32), workers=w),
}
BAD_WORKERS = [
    (0, ValueError), (-10**6, ValueError), (-2**70, ValueError),
    (1.5, TypeError), (2.0, TypeError), ("2", TypeError), (True, TypeError),
    (False, TypeError), (np.float64(2), TypeError), (np.True_, TypeError),
    ([2], TypeError), (2 + 0j, TypeError),
]
BAD_WORKER_IDS = [repr(w) for w, _ in BAD_WORKERS]
GOOD_WORKERS = [None, 1, 2, 3, -1, np.int64(2), np.int32(-1)]


class TestWorkersArgument:
    @pytest.mark.parametrize("func", list(WORKER_CALLS))
    @pytest.mark.parametrize("workers,exc", BAD_WORKERS, ids=BAD_WORKER_IDS)
    def test_bad(self, func, workers, exc):
        with unchanged(_W_A, _W_LU, _W_PIV), pytest.raises(exc, match=named("workers")):
            WORKER_CALLS[func](workers)

    @pytest.mark.parametrize("func", list(EMPTY_WORKER_CALLS))
    @pytest.mark.parametrize("workers,exc", [(0, ValueError), ("2", TypeError)], ids=["0", "'2'"])
    def test_bad_with_empty_input(self, func, workers, exc):
        with pytest.raises(exc, match=named("workers")):
            EMPTY_WORKER_CALLS[func](workers)

    @pytest.mark.parametrize("func", list(WORKER_CALLS))
    @pytest.mark.parametrize("workers", GOOD_WORKERS, ids=repr)
    def test_good(self, func, workers):
        assert_same_outputs(WORKER_CALLS[func](workers), WORKER_CALLS[func](1))

    @pytest.mark.parametrize("workers,exc", BAD_WORKERS, ids=BAD_WORKER_IDS)
    def test_set_workers_rejects(self, workers, exc):
        before = lucy.get_workers()
        with pytest.raises(exc, match=named("workers")):
            with lucy.set_workers(workers):
                pass
        assert lucy.get_workers() == before

    def test_minus_one_is_all_cores(self):
        with lucy.set_workers(-1):
            all_cores = lucy.get_workers()
        assert all_cores >= 1
        with lucy.set_workers(-all_cores):
            assert lucy.get_workers() == 1
        with pytest.raises(ValueError, match=named("workers")):
            with lucy.set_workers(-all_cores - 1):
                pass


# ---------------------------------------------------------------------------
# Pivot conversions

class TestPivotConversionArguments:
    @pytest.mark.parametrize("m", [0, 1, 2])
    def test_m_less_than_k(self, m):
        with pytest.raises(ValueError, match=named("m")):
            lucy.pivots_to_permutation(np.array([2, 2, 2]), m=m)

    @pytest.mark.parametrize("m", [3.0, "4", 1.5, [4]], ids=repr)
    def test_m_not_an_integer(self, m):
        with pytest.raises(TypeError, match=named("m")):
            lucy.pivots_to_permutation(np.array([2, 2, 2]), m=m)

    @pytest.mark.parametrize("piv,m", [([3, 1, 2], None), ([-1, 1, 2], None), ([0, 4, 2], 4),
                                       ([[0, 1, 2], [0, 1, 3]], None)])
    def test_out_of_range(self, piv, m):
        piv = np.array(piv, np.int32)
        with unchanged(piv), pytest.raises(ValueError, match=named("piv")):
            lucy.pivots_to_permutation(piv, m=m)

    @pytest.mark.parametrize("perm", [
        [0, 0, 1], [2, 1, 1], [0, 1, 3], [-1, 0, 1], [3, 4, 5],
        [[0, 1, 2], [1, 1, 2]], [[0, 1, 2], [2, 0, 2**40]],
    ], ids=str)
    def test_not_a_permutation(self, perm):
        perm = np.array(perm)
        with unchanged(perm), pytest.raises(ValueError, match=named("perm")):
            lucy.permutation_to_pivots(perm)

    @pytest.mark.parametrize("perm", [[0, 0, 1], [5, 5, 5], [-1, 0, 1]], ids=str)
    @pytest.mark.parametrize("k", [0, 1, 2])
    def test_not_a_permutation_with_k(self, perm, k):
        with pytest.raises(ValueError, match=named("perm")):
            lucy.permutation_to_pivots(np.array(perm), k=k)

    @pytest.mark.parametrize("k", [4, 10, 2**40])
    def test_k_greater_than_m(self, k):
        with pytest.raises(ValueError, match=named("k")):
            lucy.permutation_to_pivots(np.array([1, 0, 2]), k=k)

    def test_k_negative_or_not_integer(self):
        with pytest.raises(ValueError, match=named("k")):
            lucy.permutation_to_pivots(np.array([1, 0, 2]), k=-1)
        with pytest.raises(TypeError, match=named("k")):
            lucy.permutation_to_pivots(np.array([1, 0, 2]), k=1.0)

    @pytest.mark.parametrize("perm,k", [
        ([1, 0, 2], 0),             # needs a swap at row 0
        ([0, 2, 1], 1),             # needs a swap at row 1
        ([2, 0, 1], 1),             # needs two swaps
        ([[0, 1, 2, 3], [0, 1, 3, 2]], 2),  # the second row of the batch needs 3
    ], ids=str)
    def test_k_too_small(self, perm, k):
        perm = np.array(perm)
        with unchanged(perm), pytest.raises(ValueError, match=named("perm")):
            lucy.permutation_to_pivots(perm, k=k)

    @pytest.mark.parametrize("perm,k,piv", [
        ([1, 0, 2], 1, [1]), ([0, 2, 1], 2, [0, 2]), ([0, 1, 2], 0, []),
    ], ids=str)
    def test_k_just_enough(self, perm, k, piv):
        out = lucy.permutation_to_pivots(np.array(perm), k=k)
        np.testing.assert_array_equal(out, np.array(piv, np.int32))


# ---------------------------------------------------------------------------
# Caller's arrays are never modified

def _readonly(x):
    y = np.array(x, copy=True)
    y.flags.writeable = False
    return y


def _strided(x):
    """x as a view with a gap after every element on every axis."""
    big = np.zeros(tuple(2 * s + 1 for s in x.shape), x.dtype)
    view = big[tuple(slice(1, None, 2) for _ in x.shape)]
    view[...] = x
    return view


def _negative(x):
    every = (slice(None, None, -1),) * x.ndim
    return np.ascontiguousarray(x[every])[every]


def _factor_layout(x):
    if x.ndim < 2:
        return x.copy()
    return np.swapaxes(np.ascontiguousarray(np.swapaxes(x, -1, -2)), -1, -2)


def _readonly_strided(x):
    y = _strided(x)
    y.flags.writeable = False
    return y


LAYOUTS = {
    "C": np.ascontiguousarray,
    "factor-layout": _factor_layout,    # Fortran matrices: the in-place layout
    "readonly": _readonly,
    "readonly-factor-layout": lambda x: _readonly(_factor_layout(x)),
    "strided": _strided,
    "readonly-strided": _readonly_strided,
    "negative-strides": _negative,
    "broadcast": lambda x: np.broadcast_to(x[:1], x.shape),    # stride 0, read-only
}


def _inputs(n):
    a = well_conditioned((3, n, n), seed=n)
    lu, piv = lucy.lu_factor(a)
    perm = lucy.pivots_to_permutation(piv)
    return {"a": a, "lu": lu, "piv": piv, "perm": perm,
            "b": well_conditioned((3, n, 2), seed=n + 1), "b1": well_conditioned((n, 1))[:, 0]}


# (name, call(inputs, overwrite), layouts that overwrite=True may write into,
#  whether the function has an overwrite argument at all)
_FACTOR_LAYOUT = {"factor-layout"}
CALLS = [
    ("lu_factor", lambda d, ov: lucy.lu_factor(d["a"], overwrite_a=ov), _FACTOR_LAYOUT, True),
    ("lu_factor_ex", lambda d, ov: lucy.lu_factor_ex(d["a"], overwrite_a=ov), _FACTOR_LAYOUT, True),
    ("lu", lambda d, ov: lucy.lu(d["a"], overwrite_a=ov), set(), True),
    ("lu-permute_l", lambda d, ov: lucy.lu(d["a"], permute_l=True, overwrite_a=ov), set(), True),
    ("lu-p_indices", lambda d, ov: lucy.lu(d["a"], p_indices=True, overwrite_a=ov), set(), True),
    ("lu_solve", lambda d, ov: lucy.lu_solve((d["lu"], d["piv"]), d["b"], overwrite_b=ov),
     _FACTOR_LAYOUT, True),
    ("lu_solve-trans", lambda d, ov: lucy.lu_solve((d["lu"], d["piv"]), d["b"], trans=2,
                                                   overwrite_b=ov), _FACTOR_LAYOUT, True),
    # a contiguous 1-D b is in the output layout
    ("lu_solve-vector", lambda d, ov: lucy.lu_solve((d["lu"][0], d["piv"][0]), d["b1"],
                                                    overwrite_b=ov), {"C", "factor-layout"}, True),
    ("lu_unpack", lambda d, ov: lucy.lu_unpack(d["lu"], d["piv"]), set(), False),
    ("lu_unpack-permute_l", lambda d, ov: lucy.lu_unpack(d["lu"], d["piv"], permute_l=True),
     set(), False),
    ("pivots_to_permutation", lambda d, ov: lucy.pivots_to_permutation(d["piv"]), set(), False),
    ("permutation_to_pivots", lambda d, ov: lucy.permutation_to_pivots(d["perm"]), set(), False),
]
IMMUTABILITY_CASES = [
    pytest.param(name, call, layout, ov, id=f"{name}-{layout}" + ("-overwrite" if ov else ""))
    for name, call, writable_layouts, has_overwrite in CALLS
    for layout in LAYOUTS
    for ov in ((False, True) if has_overwrite else (False,))
    # a writeable input already in the output layout, with overwrite: may be written
    if not (ov and layout in writable_layouts)
]


class TestInputsNeverModified:
    @pytest.mark.parametrize("n", [5, 40])
    @pytest.mark.parametrize("name,call,layout,overwrite", IMMUTABILITY_CASES)
    def test_successful_call(self, name, call, layout, overwrite, n):
        plain = _inputs(n)
        if layout == "broadcast":     # every batch item (and all of b1) the same
            plain = {k: np.ascontiguousarray(np.broadcast_to(v[:1], v.shape))
                     for k, v in plain.items()}
        expected = call({k: v.copy() for k, v in plain.items()}, False)
        inputs = {k: LAYOUTS[layout](v) for k, v in plain.items()}
        with unchanged(*inputs.values()):
            out = call(inputs, overwrite)
        assert_same_outputs(out, expected)

    @pytest.mark.parametrize("layout", ["C", "factor-layout", "readonly-factor-layout", "strided"])
    @pytest.mark.parametrize("func", [lucy.lu_factor, lucy.lu_factor_ex, lucy.lu])
    @pytest.mark.parametrize("n", [5, 40])
    def test_failing_factor(self, func, layout, n):
        a = well_conditioned((3, n, n), seed=n)
        a[2, n - 1, 0] = np.nan
        a = LAYOUTS[layout](a)
        with unchanged(a), pytest.raises(ValueError, match=named("a")):
            func(a)
        if layout.startswith("readonly"):
            with unchanged(a), pytest.raises(ValueError, match=named("a")):
                func(a, overwrite_a=True)

    @pytest.mark.parametrize("layout", ["C", "factor-layout", "readonly-factor-layout", "strided"])
    @pytest.mark.parametrize("what", ["nan-b", "bad-piv"])
    @pytest.mark.parametrize("vector", [False, True])
    def test_failing_solve(self, layout, what, vector):
        d = _inputs(5)
        lu, piv, b = d["lu"], d["piv"], d["b"]
        if vector:
            lu, piv, b = lu[1].copy(), piv[1].copy(), b[1, :, 0].copy()
        at = () if vector else (1,)     # the bad item
        if what == "nan-b":
            b[at][0] = np.nan
        else:
            piv[at][2] = 5
        lu, piv, b = (LAYOUTS[layout](x) for x in (lu, piv, b))
        match = named("piv") if what == "bad-piv" else named("b")
        with unchanged(lu, piv, b), pytest.raises(ValueError, match=match):
            lucy.lu_solve((lu, piv), b)
        if layout.startswith("readonly"):
            with unchanged(lu, piv, b), pytest.raises(ValueError, match=match):
                lucy.lu_solve((lu, piv), b, overwrite_b=True)

    @pytest.mark.parametrize("layout", ["C", "readonly", "strided"])
    def test_failing_unpack_and_conversions(self, layout):
        d = _inputs(5)
        piv = d["piv"].copy()
        piv[1, 4] = 7
        perm = d["perm"].copy()
        perm[2, 0] = perm[2, 1]
        lu, piv, perm = (LAYOUTS[layout](x) for x in (d["lu"], piv, perm))
        with unchanged(lu, piv, perm):
            with pytest.raises(ValueError, match=named("piv")):
                lucy.lu_unpack(lu, piv)
            with pytest.raises(ValueError, match=named("piv")):
                lucy.pivots_to_permutation(piv)
            with pytest.raises(ValueError, match=named("perm")):
                lucy.permutation_to_pivots(perm)
            with pytest.raises(ValueError, match=named("piv")):
                lucy.lu_solve((lu, piv), d["b"])


# ---------------------------------------------------------------------------
# overwrite_a / overwrite_b

def assert_close_to_scipy_factor(lu, piv, original):
    ref_lu, ref_piv = sla.lu_factor(original)
    np.testing.assert_array_equal(piv, ref_piv)
    scale = max(1.0, float(np.abs(ref_lu).max()))
    eps = np.finfo(ref_lu.real.dtype).eps
    assert np.abs(lu - ref_lu).max() <= 64 * eps * max(original.shape) * scale


class TestOverwrite:
    @pytest.mark.parametrize("func", [lucy.lu_factor, lucy.lu_factor_ex])
    @pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
    @pytest.mark.parametrize("n", [1, 5, 40])
    def test_fortran_array_is_factored_in_place(self, func, dtype, n):
        original = well_conditioned((n, n), dtype, seed=n)
        a = np.asfortranarray(original.copy())
        out = func(a, overwrite_a=True)
        lu, piv = out[0], out[1]
        assert lu is a
        assert np.shares_memory(lu, a)
        assert_close_to_scipy_factor(lu, piv, original)
        # exactly what a copying call gives
        assert_same_outputs(out, func(original))

    @pytest.mark.parametrize("n", [3, 40])
    def test_stack_in_output_layout_is_factored_in_place(self, n):
        original = well_conditioned((2, 3, n, n), seed=n)
        a = _factor_layout(original)
        assert a.flags.writeable and not a.flags.c_contiguous
        lu, piv = lucy.lu_factor(a, overwrite_a=True)
        assert lu is a
        for idx in np.ndindex(2, 3):
            assert_close_to_scipy_factor(lu[idx], piv[idx], original[idx])

    @pytest.mark.parametrize("layout", ["C", "int64-fortran", "big-endian-fortran", "strided"])
    @pytest.mark.parametrize("n", [5, 40])
    def test_other_layouts_are_left_alone(self, layout, n):
        original = well_conditioned((n, n), seed=n)
        if layout == "C":
            a = original.copy()
        elif layout == "int64-fortran":
            original = np.round(original * 10)
            a = np.asfortranarray(original.astype(np.int64))
        elif layout == "big-endian-fortran":
            a = np.asfortranarray(original.astype(">f8"))
        else:
            a = np.asfortranarray(np.repeat(original, 2, axis=1))[:, ::2]
        with unchanged(a):
            lu, piv = lucy.lu_factor(a, overwrite_a=True)
        assert not np.shares_memory(lu, a)
        assert_same_outputs((lu, piv), lucy.lu_factor(original))
        assert_close_to_scipy_factor(lu, piv, original)

    def test_lu_never_writes(self):
        a = np.asfortranarray(well_conditioned((40, 40)))
        with unchanged(a):
            p, l, u = lucy.lu(a, overwrite_a=True)
        np.testing.assert_allclose(p @ l @ u, a, rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("vector", [False, True])
    @pytest.mark.parametrize("n", [5, 40])
    def test_lu_solve_overwrite_b_in_place(self, vector, n):
        lu, piv = lucy.lu_factor(well_conditioned((n, n), seed=n))
        original = well_conditioned((n, 3), seed=n + 1)
        if vector:
            original = original[:, 0].copy()
        b = np.asfortranarray(original.copy())
        x = lucy.lu_solve((lu, piv), b, overwrite_b=True)
        assert x is b
        np.testing.assert_allclose(x, sla.lu_solve((lu, piv), original), rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("case", ["C", "broadcast-enlarged", "int", "readonly"])
    def test_lu_solve_other_b_left_alone(self, case):
        n = 5
        lu, piv = lucy.lu_factor(well_conditioned((n, n), seed=n))
        b = well_conditioned((n, 2), seed=9)
        if case == "C":
            b = np.ascontiguousarray(np.concatenate([b, b], axis=1))
        elif case == "broadcast-enlarged":
            lu, piv = np.stack([lu, lu]), np.stack([piv, piv])
            b = np.asfortranarray(b)
        elif case == "int":
            b = np.asfortranarray(np.arange(2 * n).reshape(n, 2))
        else:
            b = _readonly(np.asfortranarray(b))
        with unchanged(b):
            x = lucy.lu_solve((lu, piv), b, overwrite_b=True)
        assert not np.shares_memory(x, b)
        assert_same_outputs(x, lucy.lu_solve((lu, piv), b.copy()))


# ---------------------------------------------------------------------------
# Absurd sizes: rejected before anything big is allocated, never a crash

class TestAbsurdSizes:
    # stride-0 views: no memory behind them
    @pytest.mark.parametrize("shape", [(2**31, 1), (1, 2**31), (2, 2**31, 1), (2**40, 1)])
    @pytest.mark.parametrize("func", [lucy.lu_factor, lucy.lu_factor_ex, lucy.lu])
    def test_core_dimension_beyond_lapack(self, func, shape):
        a = np.broadcast_to(np.ones((1, 1)), shape)
        with pytest.raises(ValueError, match=named("a")):
            func(a)

    def test_lu_solve_core_dimension_beyond_lapack(self):
        m = 2**31
        lu = np.broadcast_to(np.ones((1, 1), np.int8), (m, m))
        piv = np.broadcast_to(np.int32(0), (m,))
        b = np.broadcast_to(np.ones((1, 1), np.int8), (m, 1))
        with pytest.raises(ValueError, match=named("lu")):
            lucy.lu_solve((lu, piv), b)

    @pytest.mark.parametrize("shape", [(2**31, 1), (1, 2**31)])
    def test_lu_unpack_core_dimension_beyond_lapack(self, shape):
        lu = np.broadcast_to(np.ones((1, 1)), shape)
        with pytest.raises(ValueError, match=named("lu")):
            lucy.lu_unpack(lu, np.zeros(1, np.int32))

    def test_many_batch_dimensions(self):
        # NumPy's maximum of 64 dimensions: 62 batch dimensions
        skip_beyond_numpy_max_dims(64)
        a = well_conditioned((2,) + (1,) * 59 + (3, 1, 3, 3))
        with unchanged(a):
            lu, piv = lucy.lu_factor(a)
            p, l, u = lucy.lu(a)
        ref_lu, ref_piv = lucy.lu_factor(a.reshape(6, 3, 3))
        np.testing.assert_array_equal(lu.reshape(6, 3, 3), ref_lu)
        np.testing.assert_array_equal(piv.reshape(6, 3), ref_piv)
        ref_p, ref_l, ref_u = lucy.lu(a.reshape(6, 3, 3))
        assert p.ndim == l.ndim == u.ndim == 64
        np.testing.assert_array_equal(l.reshape(6, 3, 3), ref_l)
        perm = lucy.pivots_to_permutation(piv)
        np.testing.assert_array_equal(lucy.permutation_to_pivots(perm), piv)

    @pytest.mark.parametrize("func", ["lu_solve", "lu_unpack"])
    @pytest.mark.parametrize("batch_ndim", [32, 33, 62])
    def test_many_batch_dimensions_broadcasting(self, func, batch_ndim):
        # These broadcast the batch shapes of their arguments: beyond what
        # np.broadcast_shapes takes (32 dimensions) they must still work, or
        # at least refuse with a ValueError, not NumPy's RuntimeError.
        skip_beyond_numpy_max_dims(batch_ndim + 2)
        a = well_conditioned((2,) + (1,) * (batch_ndim - 1) + (3, 3))
        lu, piv = lucy.lu_factor(a)
        try:
            out = lucy.lu_solve((lu, piv), a) if func == "lu_solve" else lucy.lu_unpack(lu, piv)
        except ValueError:
            return
        ref = (lucy.lu_solve((lu.reshape(2, 3, 3), piv.reshape(2, 3)), a.reshape(2, 3, 3))
               if func == "lu_solve" else lucy.lu_unpack(lu.reshape(2, 3, 3), piv.reshape(2, 3)))
        outs = out if isinstance(out, tuple) else (out,)
        refs = ref if isinstance(ref, tuple) else (ref,)
        for o, r in zip(outs, refs):
            np.testing.assert_array_equal(o.reshape(r.shape), r)

    def test_stride0_batch(self):
        one = well_conditioned((5, 5))
        a = np.broadcast_to(one, (1000, 5, 5))
        with unchanged(a):
            lu, piv = lucy.lu_factor(a)
            x = lucy.lu_solve((lu, piv), np.broadcast_to(np.ones((5, 1)), (1000, 5, 1)))
        ref_lu, ref_piv = lucy.lu_factor(one)
        assert (lu == ref_lu).all() and (piv == ref_piv).all()
        assert (x == x[0]).all()
