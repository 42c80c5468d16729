# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# (pointers to the first element of empty arrays are taken on purpose)
"""Python-callable twins of lucy.cython_lu's C functions, for the tests.

Each twin reaches one exported function family for all four types: the twin
``lu_factor`` calls ``slu_factor``, ``dlu_factor``, ``clu_factor`` or
``zlu_factor`` (through the fused wrapper of cython_lu.pxd) as the array's
dtype is float32, float64, complex64 or complex128. The twin of a C function
``[sdcz]NAME`` (or ``NAME``) is ``NAME``. This module ``cimport``s
lucy.cython_lu exactly as downstream code does (through Cython's capsules),
and releases the GIL around every call.

Arrays are passed in place of pointers; strides are numpy's divided by the
item size. Keyword overrides (``m``, ``lda``, ...) hand raw values to the C
function, to test its argument checks. ``work``: None (NULL) or a writable
uint8 array used as the workspace. Every twin returns the C function's int
result first, then the outputs it allocated.
"""
cimport cython
from libc.stdint cimport int32_t
cimport lucy.cython_lu as cl
from lucy.cython_lu cimport lu_t

import numpy as np

from lucy._threads import blas_single_threaded

LU_NO_MEMORY = cl.LU_NO_MEMORY


cdef Py_ssize_t elements(Py_ssize_t nbytes, Py_ssize_t itemsize) except? -1:
    if nbytes % itemsize:
        raise ValueError("strides must be whole elements")
    return nbytes // itemsize


cdef void* work_ptr(unsigned char[::1] work):
    return NULL if work is None else <void*>&work[0]


cdef Py_ssize_t col_major_lda(Py_ssize_t m, Py_ssize_t n, Py_ssize_t rs,
                              Py_ssize_t cs) except? -1:
    """The leading dimension of column-major storage (rs == 1)."""
    if m > 1 and n > 0 and rs != 1:
        raise ValueError("the matrix is not column-major")
    return cs if n > 1 and m > 0 else max(m, 1)


def _pick(value, default):
    return default if value is None else value


# ---------------------------------------------------------------------------
# Factor

def lu_factor(lu_t[:, :] a, m=None, n=None, lda=None):
    """?lu_factor on the column-major ``a`` (in place): (info, piv)."""
    cdef Py_ssize_t sz = sizeof(lu_t)
    cdef Py_ssize_t mm = _pick(m, a.shape[0]), nn = _pick(n, a.shape[1])
    cdef Py_ssize_t ld = _pick(lda, col_major_lda(
        a.shape[0], a.shape[1], elements(a.strides[0], sz), elements(a.strides[1], sz)))
    cdef int32_t[::1] piv = np.full(max(0, min(mm, nn)), -1, np.int32)
    cdef int info
    with nogil:
        info = cl.lu_factor(mm, nn, &a[0, 0], ld, &piv[0])
    return info, np.asarray(piv)


def lu_factor_strided(lu_t[:, :] a, unsigned char[::1] work=None, m=None,
                      n=None, row_stride=None, col_stride=None):
    """?lu_factor_strided on ``a`` of any strides (in place): (info, piv)."""
    cdef Py_ssize_t sz = sizeof(lu_t)
    cdef Py_ssize_t mm = _pick(m, a.shape[0]), nn = _pick(n, a.shape[1])
    cdef Py_ssize_t rs = _pick(row_stride, elements(a.strides[0], sz))
    cdef Py_ssize_t cs = _pick(col_stride, elements(a.strides[1], sz))
    cdef int32_t[::1] piv = np.full(max(0, min(mm, nn)), -1, np.int32)
    cdef void* w = work_ptr(work)
    cdef int info
    with nogil:
        info = cl.lu_factor_strided(mm, nn, &a[0, 0], rs, cs, &piv[0], w)
    return info, np.asarray(piv)


cdef factor_batch(lu_t[:, :, :] a, unsigned char[::1] work, piv_stride,
                  bint with_info, int num_threads, bint parallel, dict raw):
    cdef Py_ssize_t sz = sizeof(lu_t)
    cdef Py_ssize_t batch = raw.get("batch", a.shape[0])
    cdef Py_ssize_t m = raw.get("m", a.shape[1]), n = raw.get("n", a.shape[2])
    cdef Py_ssize_t bs = raw.get("batch_stride", elements(a.strides[0], sz))
    cdef Py_ssize_t rs = elements(a.strides[1], sz), cs = elements(a.strides[2], sz)
    cdef Py_ssize_t k = max(0, min(a.shape[1], a.shape[2]))
    cdef Py_ssize_t ps = _pick(piv_stride, k)
    cdef int32_t[:, ::1] piv = np.full((a.shape[0], max(ps, k, 1)), -1, np.int32)
    cdef int32_t[::1] info = np.full(a.shape[0], -7, np.int32)
    cdef int32_t* info_ptr = &info[0] if with_info else NULL
    cdef void* w = work_ptr(work)
    cdef int ret
    if parallel:
        with blas_single_threaded, nogil:
            ret = cl.lu_factor_batch_parallel(batch, m, n, &a[0, 0, 0], bs, rs, cs,
                                              &piv[0, 0], ps, info_ptr, w, num_threads)
    else:
        with nogil:
            ret = cl.lu_factor_batch(batch, m, n, &a[0, 0, 0], bs, rs, cs,
                                     &piv[0, 0], ps, info_ptr, w)
    return ret, np.asarray(piv)[:, :k], np.asarray(info)


def lu_factor_batch(lu_t[:, :, :] a, unsigned char[::1] work=None,
                    piv_stride=None, bint with_info=True, **raw):
    """?lu_factor_batch on the stack ``a`` (batch, M, N), each matrix in
    place: (result, piv (batch, K), info (batch,)). ``piv_stride`` > K
    spaces the pivot rows out; ``with_info=False`` passes info=NULL (the
    returned info then holds -7). ``raw``: batch, m, n, batch_stride."""
    return factor_batch(a, work, piv_stride, with_info, 1, False, raw)


def lu_factor_batch_parallel(lu_t[:, :, :] a, int num_threads,
                             unsigned char[::1] work=None, piv_stride=None,
                             bint with_info=True, **raw):
    """?lu_factor_batch_parallel (BLAS held at one thread, as the Python
    API does): as ``lu_factor_batch``."""
    return factor_batch(a, work, piv_stride, with_info, num_threads, True, raw)


# ---------------------------------------------------------------------------
# Solve

def lu_solve(int trans, const lu_t[:, :] lu, const int32_t[::1] piv,
             lu_t[:, :] b, n=None, nrhs=None, lda=None, ldb=None):
    """?lu_solve with column-major factors ``lu`` (n, n) and column-major
    ``b`` (n, nrhs), solved in place: info."""
    cdef Py_ssize_t sz = sizeof(lu_t)
    cdef Py_ssize_t nn = _pick(n, lu.shape[0]), nr = _pick(nrhs, b.shape[1])
    cdef Py_ssize_t la = _pick(lda, col_major_lda(
        lu.shape[0], lu.shape[1], elements(lu.strides[0], sz), elements(lu.strides[1], sz)))
    cdef Py_ssize_t lb = _pick(ldb, col_major_lda(
        b.shape[0], b.shape[1], elements(b.strides[0], sz), elements(b.strides[1], sz)))
    cdef int info
    with nogil:
        info = cl.lu_solve(trans, nn, nr, &lu[0, 0], la, &piv[0], &b[0, 0], lb)
    return info


def lu_solve_strided(int trans, const lu_t[:, :] lu, const int32_t[::1] piv,
                     lu_t[:, :] b, unsigned char[::1] work=None, n=None,
                     nrhs=None):
    """?lu_solve_strided with factors and ``b`` of any strides: info."""
    cdef Py_ssize_t sz = sizeof(lu_t)
    cdef Py_ssize_t nn = _pick(n, lu.shape[0]), nr = _pick(nrhs, b.shape[1])
    cdef Py_ssize_t a_rs = elements(lu.strides[0], sz), a_cs = elements(lu.strides[1], sz)
    cdef Py_ssize_t b_rs = elements(b.strides[0], sz), b_cs = elements(b.strides[1], sz)
    cdef void* w = work_ptr(work)
    cdef int info
    with nogil:
        info = cl.lu_solve_strided(trans, nn, nr, &lu[0, 0], a_rs, a_cs, &piv[0],
                                   &b[0, 0], b_rs, b_cs, w)
    return info


# ---------------------------------------------------------------------------
# Unpack, pivots

def lu_unpack(const lu_t[:, :] lu, lu_t[:, :] l, lu_t[:, :] u,
              unsigned char[::1] work=None, bint skip_l=False,
              bint skip_u=False):
    """?lu_unpack of the factors ``lu`` (any strides) into the caller's ``l``
    (M, K) and ``u`` (K, N), any strides; ``skip_l``/``skip_u`` pass NULL:
    info."""
    cdef Py_ssize_t sz = sizeof(lu_t)
    cdef lu_t* lp = NULL if skip_l else &l[0, 0]
    cdef lu_t* up = NULL if skip_u else &u[0, 0]
    cdef Py_ssize_t a_rs = elements(lu.strides[0], sz), a_cs = elements(lu.strides[1], sz)
    cdef Py_ssize_t l_rs = elements(l.strides[0], sz), l_cs = elements(l.strides[1], sz)
    cdef Py_ssize_t u_rs = elements(u.strides[0], sz), u_cs = elements(u.strides[1], sz)
    cdef void* w = work_ptr(work)
    cdef int info
    with nogil:
        info = cl.lu_unpack(lu.shape[0], lu.shape[1], &lu[0, 0], a_rs, a_cs,
                            lp, l_rs, l_cs, up, u_rs, u_cs, w)
    return info


def lu_pivots_to_permutation(const int32_t[::1] piv, Py_ssize_t m, k=None):
    """lu_pivots_to_permutation: (info, perm (m,))."""
    cdef Py_ssize_t kk = _pick(k, piv.shape[0])
    cdef int32_t[::1] perm = np.full(max(m, 0), -1, np.int32)
    cdef int info
    with nogil:
        info = cl.lu_pivots_to_permutation(kk, m, &piv[0], &perm[0])
    return info, np.asarray(perm)


# ---------------------------------------------------------------------------
# Workspace sizes: the typed function for ``dtype``, checked against the
# fused wrapper.

def _work_size(which, dtype, Py_ssize_t p, Py_ssize_t q):
    cdef Py_ssize_t typed, fused
    c = np.dtype(dtype).char
    if c not in "fdFD":
        raise TypeError(f"no lucy.cython_lu functions for {np.dtype(dtype)}")
    if which == "factor":
        if c == "f":
            typed, fused = cl.slu_factor_work_size(p, q), cl.lu_factor_work_size(p, q, <float*>NULL)
        elif c == "d":
            typed, fused = cl.dlu_factor_work_size(p, q), cl.lu_factor_work_size(p, q, <double*>NULL)
        elif c == "F":
            typed, fused = cl.clu_factor_work_size(p, q), cl.lu_factor_work_size(p, q, <float complex*>NULL)
        else:
            typed, fused = cl.zlu_factor_work_size(p, q), cl.lu_factor_work_size(p, q, <double complex*>NULL)
    elif which == "solve":
        if c == "f":
            typed, fused = cl.slu_solve_work_size(p, q), cl.lu_solve_work_size(p, q, <float*>NULL)
        elif c == "d":
            typed, fused = cl.dlu_solve_work_size(p, q), cl.lu_solve_work_size(p, q, <double*>NULL)
        elif c == "F":
            typed, fused = cl.clu_solve_work_size(p, q), cl.lu_solve_work_size(p, q, <float complex*>NULL)
        else:
            typed, fused = cl.zlu_solve_work_size(p, q), cl.lu_solve_work_size(p, q, <double complex*>NULL)
    else:
        if c == "f":
            typed, fused = cl.slu_unpack_work_size(p, q), cl.lu_unpack_work_size(p, q, <float*>NULL)
        elif c == "d":
            typed, fused = cl.dlu_unpack_work_size(p, q), cl.lu_unpack_work_size(p, q, <double*>NULL)
        elif c == "F":
            typed, fused = cl.clu_unpack_work_size(p, q), cl.lu_unpack_work_size(p, q, <float complex*>NULL)
        else:
            typed, fused = cl.zlu_unpack_work_size(p, q), cl.lu_unpack_work_size(p, q, <double complex*>NULL)
    assert typed == fused
    return typed


def lu_factor_work_size(dtype, Py_ssize_t m, Py_ssize_t n):
    """?lu_factor_work_size(m, n) for ``dtype``: bytes."""
    return _work_size("factor", dtype, m, n)


def lu_solve_work_size(dtype, Py_ssize_t n, Py_ssize_t nrhs):
    """?lu_solve_work_size(n, nrhs) for ``dtype``: bytes."""
    return _work_size("solve", dtype, n, nrhs)


def lu_unpack_work_size(dtype, Py_ssize_t m, Py_ssize_t n):
    """?lu_unpack_work_size(m, n) for ``dtype``: bytes."""
    return _work_size("unpack", dtype, m, n)
