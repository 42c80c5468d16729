"""lucy's C-level API, ``cimport lucy.cython_lu``.

* The Python twins (tests/_cython_lu_twins, a small Cython project that
  cimports lucy.cython_lu the way downstream code does, built against the
  installed lucy by the ``twins`` fixture) against lucy's Python API and
  SciPy, for every exported function and dtype.
* The ABI: the exported C signatures against the checked-in snapshot.
* A downstream meson project (tests/_cython_examples, also the example of
  docs/cython.md) built as C and C++ against the installed lucy and run.

Run this file as a script to print the current signature snapshot.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg as sla

import lucy
import lucy.cython_lu
from lucy import _batch
from lucy._threads import blas_single_threaded
import _capi
from conftest import LAPACK_DTYPES, close, random_matrices, scipy_lu_factor

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "cython_api_signatures.txt"
EXAMPLE = HERE / "_cython_examples"
TWINS = HERE / "_cython_lu_twins"

# (M, N): square, tall, wide, 1 x 1, and both sides of the small-matrix
# kernel (n <= 32) and LAPACK.
SHAPES = [(1, 1), (2, 2), (4, 4), (5, 3), (3, 5), (8, 8), (32, 32), (33, 33),
          (40, 25), (25, 40), (70, 70)]
TYPECODES = {np.dtype(t).char: t for t in LAPACK_DTYPES}


def dtype_id(dtype):
    return np.dtype(dtype).name


def lucy_factor(a):
    """lucy.lu_factor_ex of a 2-D matrix: (lu, piv, info)."""
    with np.errstate(all="ignore"):
        lu, piv, info = lucy.lu_factor_ex(a)
    return lu, piv, int(info)


def work_for(nbytes):
    return np.zeros(max(nbytes, 0), np.uint8)


def layouts_2d(a):
    """(name, writable copy of ``a`` in that layout): column-major, row-major,
    both strides non-unit, and negative strides."""
    yield "F", np.asfortranarray(a.copy())
    yield "C", np.ascontiguousarray(a.copy())
    big = np.zeros((2 * a.shape[0] + 1, 3 * a.shape[1] + 1), a.dtype)
    view = big[1::2, 1::3]
    view[...] = a
    yield "strided", view
    flipped = np.ascontiguousarray(a[::-1, ::-1])
    yield "negative", flipped[::-1, ::-1]


capi_signatures = _capi.signatures


def read_snapshot():
    sigs = {}
    for line in SNAPSHOT.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sig = line.split(": ", 1)
            sigs[name] = sig
    return sigs


# ---------------------------------------------------------------------------
# Factor

@pytest.mark.every_tier   # (conftest.py)
@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
class TestFactor:

    def test_lu_factor(self, twins, dtype, shape, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv, info = lucy_factor(a)
        f = np.asfortranarray(a.copy())
        with blas_single_threaded:
            got_info, got_piv = twins.lu_factor(f)
        assert got_info == info == 0
        np.testing.assert_array_equal(got_piv, piv)
        close(f, lu, dtype, max(shape))
        ref_lu, ref_piv = scipy_lu_factor(a)
        np.testing.assert_array_equal(got_piv, ref_piv)
        close(f, ref_lu, dtype, max(shape))

    def test_lu_factor_padded_lda(self, twins, dtype, shape, rng):
        a = random_matrices(shape, dtype, rng)
        big = np.zeros((shape[0] + 3, shape[1]), dtype, order="F")
        big[:shape[0]] = a
        info, piv = twins.lu_factor(big, m=shape[0], lda=shape[0] + 3)
        lu, ref_piv, _ = lucy_factor(a)
        assert info == 0
        np.testing.assert_array_equal(piv, ref_piv)
        close(big[:shape[0]], lu, dtype, max(shape))
        assert not big[shape[0]:].any()     # the padding is never touched

    @pytest.mark.parametrize("with_work", [False, True], ids=["work=NULL", "work"])
    def test_lu_factor_strided(self, twins, dtype, shape, with_work, rng):
        a = random_matrices(shape, dtype, rng)
        lu, piv, _ = lucy_factor(a)
        for name, view in layouts_2d(a):
            work = work_for(twins.lu_factor_work_size(dtype, *shape)) if with_work else None
            info, got_piv = twins.lu_factor_strided(view, work)
            assert info == 0, name
            np.testing.assert_array_equal(got_piv, piv, err_msg=name)
            # The factors are left in the input's own layout.
            close(view, lu, dtype, max(shape))


@pytest.mark.every_tier   # (conftest.py)
@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
class TestFactorBatch:

    @pytest.mark.parametrize("shape", [(7, 4, 4), (5, 3, 6), (6, 6, 3), (3, 40, 40),
                                       (1, 2, 2), (9, 1, 1)], ids=str)
    @pytest.mark.parametrize("order", ["C", "F"])
    @pytest.mark.parametrize("threads", [None, 1, 2, 3], ids=lambda t: f"threads={t}")
    def test_matches_lu_factor_ex(self, twins, dtype, shape, order, threads, rng):
        a = random_matrices(shape, dtype, rng)
        a[1 % shape[0]] = 0                 # one singular matrix
        with np.errstate(all="ignore"):
            lu, piv, info = lucy.lu_factor_ex(a)
        stack = a.copy(order="C")
        if order == "F":                    # column-major matrices, C-ordered batch
            stack = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)
        if threads is None:
            ret, got_piv, got_info = twins.lu_factor_batch(stack)
        else:
            ret, got_piv, got_info = twins.lu_factor_batch_parallel(stack, threads)
        assert ret == np.count_nonzero(info > 0) == 1
        np.testing.assert_array_equal(got_info, info)
        np.testing.assert_array_equal(got_piv, piv)
        close(stack, lu, dtype, max(shape[1:]))

    @pytest.mark.parametrize("parallel", [False, True])
    def test_strides_work_and_no_info(self, twins, dtype, parallel, rng):
        a = random_matrices((6, 5, 7), dtype, rng)
        lu, piv, _ = lucy.lu_factor_ex(a)
        # Every other matrix of a bigger stack, each transposed in memory,
        # pivots 9 apart, a caller's workspace, info=NULL.
        big = np.zeros((12, 7, 5), dtype)
        stack = big[::2].transpose(0, 2, 1)
        stack[...] = a
        threads = 2
        work = work_for(threads * twins.lu_factor_work_size(dtype, 5, 7))
        if parallel:
            ret, got_piv, got_info = twins.lu_factor_batch_parallel(
                stack, threads, work, piv_stride=9, with_info=False)
        else:
            ret, got_piv, got_info = twins.lu_factor_batch(
                stack, work, piv_stride=9, with_info=False)
        assert ret == 0
        assert (got_info == -7).all()       # info=NULL: not written
        np.testing.assert_array_equal(got_piv, piv)
        close(stack, lu, dtype, 7)
        assert not big[1::2].any()

    def test_negative_batch_stride(self, twins, dtype, rng):
        a = random_matrices((5, 4, 4), dtype, rng)
        lu, piv, _ = lucy.lu_factor_ex(a)
        stack = np.ascontiguousarray(a[::-1])[::-1]
        ret, got_piv, _ = twins.lu_factor_batch(stack)
        assert ret == 0
        np.testing.assert_array_equal(got_piv, piv)
        close(stack, lu, dtype, 4)


@pytest.mark.every_tier   # (conftest.py)
def test_parallel_batch_is_thread_count_independent(twins, rng):
    a = random_matrices((64, 36, 36), np.float64, rng)
    results = []
    for threads in (1, 2, 4):
        stack = a.copy()
        ret, piv, info = twins.lu_factor_batch_parallel(stack, threads)
        results.append((stack, piv, info))
    for stack, piv, info in results[1:]:
        np.testing.assert_array_equal(stack, results[0][0])
        np.testing.assert_array_equal(piv, results[0][1])


@pytest.mark.every_tier   # (conftest.py)
def test_singular_info_matches_lapack(twins, rng):
    a = rng.standard_normal((4, 4))
    a[:, 2] = 0                              # U[2, 2] == 0: info 3
    for dtype in LAPACK_DTYPES:
        f = np.asfortranarray(a.astype(dtype))
        info, piv = twins.lu_factor(f)
        assert info == 3 == lucy_factor(a.astype(dtype))[2]


def test_concurrent_calls_from_python_threads(twins, rng):
    """The C functions are reentrant: twins running in 4 Python threads at
    once (GIL released) give the serial results."""
    stacks = [random_matrices((40, 12, 12), np.complex128, rng) for _ in range(8)]
    expected = [lucy.lu_factor_ex(s) for s in stacks]

    def run(s):
        s = s.copy()
        ret, piv, info = twins.lu_factor_batch(s)
        return s, piv, info

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(run, stacks))
    for (lu, piv, info), (s, gpiv, ginfo) in zip(expected, got):
        np.testing.assert_array_equal(gpiv, piv)
        close(s, lu, np.complex128, 12)


# ---------------------------------------------------------------------------
# Solve

@pytest.mark.every_tier   # (conftest.py)
@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("n", [1, 3, 8, 33, 300])
@pytest.mark.parametrize("trans", [0, 1, 2])
class TestSolve:

    def test_lu_solve(self, twins, dtype, n, trans, rng):
        a = random_matrices((n, n), dtype, rng) + n * np.eye(n, dtype=dtype)
        b = random_matrices((n, 3), dtype, rng)
        lu, piv, _ = lucy_factor(a)
        expected = lucy.lu_solve((lu, piv), b, trans=trans)
        for nrhs in (1, 3):
            x = np.asfortranarray(b[:, :nrhs].copy())
            assert twins.lu_solve(trans, lu, piv, x) == 0
            close(x, expected[:, :nrhs], dtype, n)
            close(x, sla.lu_solve((lu, piv), b[:, :nrhs], trans=trans), dtype, n)

    @pytest.mark.parametrize("with_work", [False, True], ids=["work=NULL", "work"])
    def test_lu_solve_strided(self, twins, dtype, n, trans, with_work, rng):
        a = random_matrices((n, n), dtype, rng) + n * np.eye(n, dtype=dtype)
        b = random_matrices((n, 2), dtype, rng)
        lu, piv, _ = lucy_factor(a)
        expected = lucy.lu_solve((lu, piv), b, trans=trans)
        for lu_name, lu_view in layouts_2d(lu):
            for b_name, x in layouts_2d(b):
                work = work_for(twins.lu_solve_work_size(dtype, n, 2)) if with_work else None
                info = twins.lu_solve_strided(trans, lu_view, piv, x, work)
                assert info == 0, (lu_name, b_name)
                close(x, expected, dtype, n)


def test_solve_with_row_major_factors(twins, rng):
    """The factors ?lu_factor_strided leaves in a C-ordered matrix solve."""
    for dtype in LAPACK_DTYPES:
        a = random_matrices((6, 6), dtype, rng)
        b = random_matrices((6, 2), dtype, rng)
        c = np.ascontiguousarray(a.copy())
        info, piv = twins.lu_factor_strided(c)
        x = b.copy()
        assert info == 0 and twins.lu_solve_strided(0, c, piv, x) == 0
        close(x, np.linalg.solve(a, b), dtype, 6)


@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
def test_solve_in_blocks_same_bits_as_python(twins, dtype, rng):
    """Many right-hand sides of a large system take the blocked
    substitutions by BLAS calls in both APIs: the same calls, the same bits
    with BLAS at one thread (the Python API's on two threads of lucy's)."""
    n, nrhs = 600, 40
    a = random_matrices((n, n), dtype, rng)
    b = random_matrices((n, nrhs), dtype, rng)
    lu, piv, _ = lucy_factor(a)
    assert lucy._batch.solve_plan(dtype, n, 0, nrhs).kernel == "blocks"
    x = np.asfortranarray(b.copy())
    with blas_single_threaded:
        assert twins.lu_solve(0, lu, piv, x) == 0
    np.testing.assert_array_equal(x, lucy.lu_solve((lu, piv), b, workers=2))
    close(x, sla.lu_solve((lu, piv), b), dtype, n)


def test_solve_rejects_bad_pivots(twins):
    lu = np.asfortranarray(np.eye(3))
    for bad in ([0, 3, 2], [-1, 1, 2]):
        piv = np.array(bad, np.int32)
        b = np.ones((3, 1), order="F")
        assert twins.lu_solve(0, lu, piv, b) == -6
        assert twins.lu_solve_strided(0, lu, piv, b) == -7
        assert (b == 1).all()


# ---------------------------------------------------------------------------
# Unpack, pivots

@pytest.mark.every_tier   # (conftest.py)
@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (5, 3), (3, 5), (40, 40)], ids=str)
def test_lu_unpack(twins, dtype, shape, rng):
    m, n = shape
    k = min(m, n)
    a = random_matrices(shape, dtype, rng)
    lu, piv, _ = lucy_factor(a)
    _, ref_l, ref_u = lucy.lu_unpack(lu, piv)
    for lu_name, lu_view in layouts_2d(lu):
        for order in "CF":
            l = np.full((m, k), 7, dtype, order=order)
            u = np.full((k, n), 7, dtype, order="F" if order == "C" else "C")
            work = work_for(twins.lu_unpack_work_size(dtype, m, n))
            assert twins.lu_unpack(lu_view, l, u, work if order == "F" else None) == 0
            np.testing.assert_array_equal(l, ref_l, err_msg=lu_name)
            np.testing.assert_array_equal(u, ref_u, err_msg=lu_name)
    l = np.full((m, k), 7, dtype)
    u = np.full((k, n), 7, dtype)
    assert twins.lu_unpack(lu, l, u, skip_l=True) == 0
    assert (l == 7).all()
    np.testing.assert_array_equal(u, ref_u)
    u[...] = 7
    assert twins.lu_unpack(lu, l, u, skip_u=True) == 0
    assert (u == 7).all()
    np.testing.assert_array_equal(l, ref_l)


@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (6, 3), (3, 6), (0, 4)], ids=str)
def test_lu_pivots_to_permutation(twins, shape, rng):
    m, n = shape
    a = random_matrices(shape, np.float64, rng)
    _, piv, _ = lucy_factor(a)
    info, perm = twins.lu_pivots_to_permutation(piv, m)
    assert info == 0
    np.testing.assert_array_equal(perm, lucy.pivots_to_permutation(piv, m))
    if m:
        p, l, u = lucy.lu(a, p_indices=True)
        np.testing.assert_array_equal(np.argsort(perm), p)


def test_pivots_to_permutation_checks(twins):
    assert twins.lu_pivots_to_permutation(np.array([0, 5], np.int32), 5)[0] == -3
    assert twins.lu_pivots_to_permutation(np.array([-1], np.int32), 5)[0] == -3
    assert twins.lu_pivots_to_permutation(np.array([0, 1, 2], np.int32), 2)[0] == -1
    assert twins.lu_pivots_to_permutation(np.array([0], np.int32), 3, k=-1)[0] == -1
    info, perm = twins.lu_pivots_to_permutation(np.array([2, 2], np.int32), 3)
    assert info == 0 and perm.tolist() == [2, 0, 1]


# ---------------------------------------------------------------------------
# Argument checks, empty input, workspace sizes

def test_invalid_arguments_are_reported_and_touch_nothing(twins):
    a = np.asfortranarray(np.arange(1.0, 10.0).reshape(3, 3))
    before = a.copy()
    assert twins.lu_factor(a, m=-1)[0] == -1
    assert twins.lu_factor(a, n=-1)[0] == -2
    assert twins.lu_factor(a, lda=2)[0] == -4
    assert twins.lu_factor(a, m=2**31)[0] == -1
    assert twins.lu_factor_strided(a, m=-1)[0] == -1
    assert twins.lu_factor_strided(a, row_stride=0)[0] == -4
    assert twins.lu_factor_strided(a, col_stride=0)[0] == -5
    stack = np.asfortranarray(np.ones((3, 2, 2)))
    assert twins.lu_factor_batch(stack, batch=-1)[0] == -1
    assert twins.lu_factor_batch(stack, batch_stride=0)[0] == -5
    assert twins.lu_factor_batch(stack, piv_stride=1)[0] == -9
    assert twins.lu_factor_batch_parallel(stack, 0)[0] == -12
    piv = np.arange(3, dtype=np.int32)
    b = np.ones((3, 1), order="F")
    assert twins.lu_solve(3, a, piv, b) == -1
    assert twins.lu_solve(0, a, piv, b, n=-1) == -2
    assert twins.lu_solve(0, a, piv, b, nrhs=-1) == -3
    assert twins.lu_solve(0, a, piv, b, lda=2) == -5
    assert twins.lu_solve(0, a, piv, b, ldb=2) == -8
    assert twins.lu_solve_strided(-1, a, piv, b) == -1
    np.testing.assert_array_equal(a, before)
    assert (b == 1).all() and (stack == 1).all()


@pytest.mark.parametrize("bad", [-1, 3, 2**31 - 1])
def test_errors_write_nothing(twins, bad):
    """cython_lu.pxd: on a negative return nothing was written. The twins
    fill every output with a marker (-1 pivots and permutations, -7 info)
    before the call; each function is called with each kind of error."""
    piv = np.array([2, 1, bad], np.int32)                 # only the last is bad
    info, perm = twins.lu_pivots_to_permutation(piv, 3)
    assert info == -3 and (perm == -1).all()
    a = np.asfortranarray(np.arange(1.0, 10.0).reshape(3, 3) + 4 * np.eye(3))
    before = a.copy()
    lu, _ = sla.lu_factor(a)
    b = np.asfortranarray(np.arange(3.0).reshape(3, 1))
    for solve in (twins.lu_solve, twins.lu_solve_strided):
        x = b.copy(order="F")
        assert solve(0, lu, piv, x) < 0
        np.testing.assert_array_equal(x, b)
    assert (twins.lu_factor(a, m=-1)[1] == -1).all()
    assert (twins.lu_factor(a, lda=2)[1] == -1).all()
    assert (twins.lu_factor_strided(a, row_stride=0)[1] == -1).all()
    stack = np.asfortranarray(np.ones((3, 2, 2)))
    for ret, out_piv, out_info in (twins.lu_factor_batch(stack, batch_stride=0),
                                   twins.lu_factor_batch(stack, piv_stride=1),
                                   twins.lu_factor_batch_parallel(stack, 0)):
        assert ret < 0 and (out_piv == -1).all() and (out_info == -7).all()
    l, u = np.full((3, 3), 7.0), np.full((3, 3), 7.0)
    rows_alike = np.broadcast_to(np.ones(3), (3, 3))      # row stride 0
    assert twins.lu_unpack(rows_alike, l, u) == -4
    assert (l == 7).all() and (u == 7).all()
    np.testing.assert_array_equal(a, before)         # the factor calls above failed


@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
def test_empty_matrices(twins, dtype):
    for shape in [(0, 0), (0, 3), (3, 0)]:
        a = np.zeros(shape, dtype, order="F")
        info, piv = twins.lu_factor(a)
        assert info == 0 and piv.shape == (0,)
        assert twins.lu_factor_strided(a)[0] == 0
        stack = np.zeros((2, *shape), dtype)
        ret, piv, info = twins.lu_factor_batch(stack)
        assert ret == 0 and (info == 0).all() and piv.shape == (2, 0)
    assert twins.lu_factor_batch(np.zeros((0, 3, 3), dtype))[0] == 0
    lu = np.zeros((0, 0), dtype, order="F")
    b = np.zeros((0, 2), dtype, order="F")
    assert twins.lu_solve(0, lu, np.zeros(0, np.int32), b) == 0
    assert twins.lu_unpack(np.zeros((0, 3), dtype), np.zeros((0, 0), dtype),
                           np.zeros((0, 3), dtype)) == 0


@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
def test_work_sizes(twins, dtype):
    itemsize = np.dtype(dtype).itemsize
    for m, n in [(1, 1), (4, 4), (5, 3), (3, 5), (100, 70)]:
        assert twins.lu_factor_work_size(dtype, m, n) >= m * n * itemsize
        assert twins.lu_unpack_work_size(dtype, m, n) >= m * n * itemsize
        assert twins.lu_solve_work_size(dtype, m, n) >= (m * m + m * n) * itemsize + 4 * m
    for size in (twins.lu_factor_work_size, twins.lu_unpack_work_size,
                 twins.lu_solve_work_size):
        assert size(dtype, -1, 3) < 0
        assert size(dtype, 2**62, 2**62) < 0        # overflow
        assert size(dtype, 0, 0) == 0


def test_no_memory_constant(twins):
    assert twins.LU_NO_MEMORY == -1000


# ---------------------------------------------------------------------------
# The interface: every function has a twin, the ABI snapshot, the .pxd

def test_every_exported_function_has_a_twin(twins):
    for name in lucy.cython_lu.__pyx_capi__:
        twin = re.sub(r"^[sdcz](?=lu_)", "", name)
        assert callable(getattr(twins, twin, None)), f"{name} has no twin {twin}"


def test_abi_snapshot():
    """Exported C signatures may be added to, never changed or removed:
    compiled downstream modules look them up by name and signature."""
    live = capi_signatures()
    frozen = read_snapshot()
    assert len(frozen) >= 41
    missing = sorted(set(frozen) - set(live))
    assert not missing, f"exported functions removed: {missing}"
    changed = {name: (frozen[name], live[name]) for name in frozen
               if live[name] != frozen[name]}
    assert not changed, f"exported signatures changed (was, now): {changed}"


def test_installed_pxd_declares_every_function_noexcept_nogil():
    pxd = (Path(lucy.get_include()) / "lucy" / "cython_lu.pxd").read_text()
    decls = {m.group(1): m.group(0) for m in
             re.finditer(r"^cdef (?:int|Py_ssize_t) (\w+)\(.*$", pxd, re.M)}
    assert set(decls) == set(lucy.cython_lu.__pyx_capi__)
    for name, line in decls.items():
        assert line.rstrip().endswith(") noexcept nogil"), line


def test_get_include_holds_the_pxd_file():
    inc = Path(lucy.get_include())
    assert (inc / "lucy" / "cython_lu.pxd").is_file()


def test_installed_files_are_what_users_import():
    """An install ships lucy's modules, stubs and the public .pxd, and none of
    the test-only twins or the kernels' private .pxd/.h/.pxi (compiled in)."""
    reason = editable_reason()
    if reason:
        pytest.skip(reason)
    names = {f.name for f in importlib.metadata.files("lucy-batched-lu")
             if f.parts[0] == "lucy"}
    assert {"__init__.py", "cython_lu.pxd", "cython_lu.pyi",
            "py.typed"} <= names
    assert sum(name.endswith(sysconfig.get_config_var("EXT_SUFFIX")) for name in names) == 2
    private = sorted(name for name in names
                     if name.endswith((".pxd", ".pxi", ".h", ".pyx", ".c", ".in"))
                     and name != "cython_lu.pxd")
    assert not private
    assert not [name for name in names if "twins" in name]


# ---------------------------------------------------------------------------
# ILP64: the build-time detection of LAPACK's integer

def load_detector():
    path = HERE.parent / "lucy" / "_kernels" / "detect_lapack_int.py"
    if not path.is_file():
        pytest.skip("lucy/_kernels/detect_lapack_int.py (a build script) is not in this checkout")
    spec = importlib.util.spec_from_file_location("detect_lapack_int", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lapack_int_detection():
    detect = load_detector().lapack_int_declaration
    lp64 = "cdef void dgetrf(int *m, int *n, d *a, int *lda, int *ipiv, int *info) noexcept nogil"
    assert detect(lp64) == "ctypedef int lapack_int\n"
    ilp64 = lp64.replace("int *", "int64_t *")
    assert detect(ilp64).endswith("ctypedef int64_t lapack_int\n")
    assert "cimport int64_t" in detect(ilp64)
    aliased = "ctypedef int64_t blas_int\n" + lp64.replace("int *", "blas_int *")
    assert detect(aliased) == "from scipy.linalg.cython_lapack cimport blas_int as lapack_int\n"
    with pytest.raises(ValueError):
        detect("cdef void sgetrf(int *m)")
    scipy_pxd = Path(sla.__file__).parent / "cython_lapack.pxd"
    assert detect(scipy_pxd.read_text()) == "ctypedef int lapack_int\n"


def test_lapack_int_compiled_in():
    # SciPy's cython_lapack is LP64 today; the kernels were built with its int.
    assert _batch.lapack_int_size() == 4


# ---------------------------------------------------------------------------
# Building small Cython projects against the installed lucy: the twins (every
# test above) and the downstream example (below)

def editable_reason():
    try:
        direct_url = importlib.metadata.distribution("lucy-batched-lu").read_text(
            "direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        direct_url = None
    if direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"):
        return ("lucy is an editable install: lucy.get_include() is the source tree, "
                "which holds every private .pxd, so the build would not show that the "
                "installed files suffice")
    if (Path(lucy.get_include()) / "lucy" / "meson.build").exists():
        return "lucy is imported from a source tree, not an installed package"
    return None


def build_tools():
    """(meson command, env, cython) for building with this Python's tools, or
    a pytest.skip saying what is missing."""
    scripts = sysconfig.get_path("scripts")
    path = os.pathsep.join([scripts, os.environ.get("PATH", "")])
    if importlib.util.find_spec("mesonbuild") is not None:
        meson = [sys.executable, "-m", "mesonbuild.mesonmain"]
    elif shutil.which("meson", path=path):
        meson = [shutil.which("meson", path=path)]
    else:
        pytest.skip("meson is not installed (pip install '.[test]')")
    env = dict(os.environ, PATH=path)
    try:
        import ninja
        env["NINJA"] = os.path.join(ninja.BIN_DIR, "ninja")
    except ImportError:
        if not (shutil.which("ninja", path=path) or shutil.which("samu", path=path)):
            pytest.skip("ninja is not installed (pip install '.[test]')")
    cython = shutil.which("cython", path=path)
    if cython is None or importlib.util.find_spec("Cython") is None:
        pytest.skip("Cython is not installed (pip install '.[test]')")
    return meson, env, cython


def build_project(src, request, tmp_path_factory):
    """Build the meson project in ``src`` with this Python against the lucy it
    imports; returns the build directory.

    The build directory is kept in pytest's cache, one per (project, Python,
    lucy): the next run only recompiles what changed (ninja follows Cython's
    depfiles to the installed .pxd), instead of seconds of Cython and C every
    run. Without the cache (``-p no:cacheprovider``) it is a fresh temporary
    directory."""
    meson, env, cython = build_tools()
    key = hashlib.sha256("\0".join(
        [str(src), sys.executable, sys.version, lucy.get_include()]).encode()).hexdigest()[:16]
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        root = cache.mkdir(f"meson-{src.name}-{key}")
    else:
        root = tmp_path_factory.mktemp(src.name)
    build = root / "build"
    native = root / "native.ini"
    # The running Python (and its Cython), whatever meson finds on PATH.
    native.write_text(f"[binaries]\npython = '{sys.executable}'\ncython = '{cython}'\n")
    commands = [[*meson, "compile", "-C", str(build)]]
    if not (build / "build.ninja").is_file():     # new, or a setup that did not finish
        shutil.rmtree(build, ignore_errors=True)
        commands.insert(0, [*meson, "setup", "--native-file", str(native), str(build), str(src)])
    for cmd in commands:
        out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}"
    return build


def load_extension(build_dir, name):
    """Import the module ``name`` from ``build_dir`` only (no sys.path)."""
    path = build_dir / (name + sysconfig.get_config_var("EXT_SUFFIX"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def twins(request, tmp_path_factory):
    """The Python-callable twins of lucy.cython_lu's functions: test-only, so
    built here (also for editable installs) and never shipped with lucy."""
    return load_extension(build_project(TWINS, request, tmp_path_factory), "_cython_lu_twins")


@pytest.fixture(scope="module")
def downstream(request, tmp_path_factory):
    """The example project, built as C and C++ against the installed lucy."""
    reason = editable_reason()
    if reason:
        pytest.skip(reason)
    return build_project(EXAMPLE, request, tmp_path_factory)


def test_downstream_built_against_installed_pxd(downstream):
    """Cython's depfiles show the installed cython_lu.pxd was cimported."""
    installed = (Path(lucy.get_include()) / "lucy" / "cython_lu.pxd").resolve()
    depfiles = list(downstream.rglob("*.dep"))
    assert len(depfiles) == 2, depfiles
    for dep in depfiles:
        used = {(downstream / p).resolve() for p in
                re.findall(r"\S+cython_lu\.pxd", dep.read_text())}
        assert used == {installed}, (dep, used)


@pytest.mark.every_tier   # (conftest.py)
@pytest.mark.parametrize("module", ["extending", "extending_cpp"])
@pytest.mark.parametrize("dtype", LAPACK_DTYPES, ids=dtype_id)
def test_downstream_factor_and_solve(downstream, module, dtype, rng):
    ext = load_extension(downstream, module)
    for shape in [(50, 4, 4), (7, 5, 3), (5, 3, 7), (6, 40, 40)]:
        a = random_matrices(shape, dtype, rng)
        a[0] = 0
        with np.errstate(all="ignore"):
            lu, piv, info = lucy.lu_factor_ex(a)
        for view in (a.copy(), np.asfortranarray(a.transpose(1, 2, 0)).transpose(2, 0, 1)):
            with blas_single_threaded:
                got_piv, got_info = ext.factor(view, num_threads=2)
            np.testing.assert_array_equal(got_info, info)
            np.testing.assert_array_equal(got_piv, piv)
            close(view, lu, dtype, max(shape[1:]))
    a = random_matrices((30, 6, 6), np.float64, rng) + 6 * np.eye(6)
    b = random_matrices((30, 6), np.float64, rng)
    factors = a.copy()
    piv, info = ext.factor(factors)
    for trans in (0, 1):
        x = b.copy()
        assert not ext.solve(factors, piv, x, trans=trans).any()
        lu, lpiv = lucy.lu_factor(a)
        close(x, lucy.lu_solve((lu, lpiv), b[..., None], trans=trans)[..., 0],
              np.float64, 6)


# ---------------------------------------------------------------------------
# The documented example is the project the test builds

def test_docs_example_is_the_tested_project():
    """Each fenced block docs/cython.md introduces with a file name of
    tests/_cython_examples is that file."""
    guide = HERE.parent / "docs" / "cython.md"
    if not guide.is_file():
        pytest.skip("docs/cython.md is not in this checkout")
    text = guide.read_text()
    for name in ("meson.build", "extending.pyx"):
        m = re.search(rf"`tests/_cython_examples/{re.escape(name)}`[^\n]*\n+```\w*\n(.*?)```",
                      text, re.S)
        assert m, f"no code block for tests/_cython_examples/{name}"
        assert m.group(1) == (EXAMPLE / name).read_text(), name


if __name__ == "__main__":
    for name, sig in sorted(capi_signatures().items()):
        print(f"{name}: {sig}")
