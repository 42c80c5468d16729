# cython: language_level=3, boundscheck=False, wraparound=False
"""Factor and solve stacks of matrices with lucy's C-level API, from this
module's own OpenMP loop (the GIL released throughout)."""
from cython.parallel cimport parallel, prange
from libc.stdint cimport int32_t
from libc.stdlib cimport free, malloc

from lucy.cython_lu cimport (
    dlu_solve_strided, dlu_solve_work_size, lu_factor_strided,
    lu_factor_work_size, lu_t)

import numpy as np


def factor(lu_t[:, :, :] a, int num_threads=2):
    """Factor every a[i] in place (any strides), like lucy.lu_factor_ex:
    returns (piv, info); a[i] then holds its L and U in its own layout."""
    cdef Py_ssize_t batch = a.shape[0], m = a.shape[1], n = a.shape[2], i
    cdef Py_ssize_t rs = a.strides[1] // sizeof(lu_t)
    cdef Py_ssize_t cs = a.strides[2] // sizeof(lu_t)
    cdef int32_t[:, ::1] piv = np.zeros((batch, min(m, n)), np.int32)
    cdef int32_t[::1] info = np.zeros(batch, np.int32)
    cdef void* work = NULL
    with nogil, parallel(num_threads=num_threads):
        # One workspace per thread, reused for each of its matrices (if
        # malloc fails, work is NULL and lucy allocates what it needs).
        work = malloc(lu_factor_work_size(m, n, <lu_t*>NULL))
        for i in prange(batch, schedule='static'):
            info[i] = lu_factor_strided(m, n, &a[i, 0, 0], rs, cs,
                                        &piv[i, 0], work)
        free(work)
    return np.asarray(piv), np.asarray(info)


def solve(const double[:, :, :] lu, const int32_t[:, :] piv, double[:, :] b,
          int trans=0, int num_threads=2):
    """Solve op(A_i) x = b[i] for every i with the factors from ``factor``,
    overwriting b[i] with x; returns info (0, or -i for a bad argument i)."""
    cdef Py_ssize_t batch = lu.shape[0], n = lu.shape[1], i
    cdef Py_ssize_t lu_rs = lu.strides[1] // sizeof(double)
    cdef Py_ssize_t lu_cs = lu.strides[2] // sizeof(double)
    cdef Py_ssize_t b_rs = b.strides[1] // sizeof(double)
    cdef int32_t[::1] info = np.zeros(batch, np.int32)
    cdef void* work = NULL
    with nogil, parallel(num_threads=num_threads):
        work = malloc(dlu_solve_work_size(n, 1))
        for i in prange(batch, schedule='static'):
            info[i] = dlu_solve_strided(trans, n, 1, &lu[i, 0, 0], lu_rs, lu_cs,
                                        &piv[i, 0], &b[i, 0], b_rs, 1, work)
        free(work)
    return np.asarray(info)
