"""lucy's C-level API: ``cimport lucy.cython_lu`` (contracts in cython_lu.pxd).

Each exported function is a typed (s, d, c, z) shell over one fused
implementation below; the implementations check the arguments, then run the
single-matrix kernels of ``_kernels/matrix.pxd`` and LAPACK through ``_kernels/lapack.pxd``,
the same code lucy's Python API runs, so the results are the same bits.
Nothing here touches Python objects or global state; the only memory taken is
a workspace the caller did not pass (malloc/free within the call).
"""
import os

cimport cython
cimport cython.parallel
from cython.parallel cimport prange
from libc.stdint cimport int32_t
from libc.stdlib cimport malloc, free

from lucy._kernels.lapack cimport lapack_t, lapack_int, getrs
from lucy._kernels cimport matrix as mk
from lucy._kernels.plan cimport (Plan, SolvePlan, plan_factor, plan_solve, dtype_of, active,
                                 select_kernels, KERNEL_GETRF, SOLVE_GETRS,
                                 SOLVE_BLOCKS, factor_work, holds_cpus)
from lucy._kernels.openmp cimport (lucy_max_threads, omp_get_thread_num, lucy_team,
                                   lucy_team_init, lucy_team_hold, lucy_team_release)

cdef extern from "Python.h":
    Py_ssize_t PY_SSIZE_T_MAX

cdef enum:
    INT32_MAX = 2147483647
    ALIGN = 64              # offsets of the parts of a workspace
    BAD_PIVOT = -2000       # internal: mapped to -(position of piv)
    IPIV_STACK = 256        # = matrix.IPIV_STACK

# The module's contract says LU_NO_MEMORY; the kernels return NO_MEMORY.
assert <int>LU_NO_MEMORY == <int>mk.NO_MEMORY and <int>IPIV_STACK == <int>mk.IPIV_STACK


# Set once this module has started OpenMP threads (cimporting code calling
# ?lu_factor_batch_parallel). GNU OpenMP cannot start them again in a child
# forked after that; lucy's Python layer reads this flag in such a child and
# runs serially (lucy/_threads.py).
cdef bint openmp_threads_started = False


# This module's SIMD tier, as lucy._batch's: LUCY_KERNELS at import.
select_kernels(os.environ.get("LUCY_KERNELS", "auto"))


def _use_kernels(name):
    """Run this module's kernels at tier ``name`` from now on (lucy._batch's
    _use_kernels, for this module); for the tests."""
    select_kernels(name)


def _kernel_tier():
    """The tier this module's kernels run at."""
    return active().name.decode()


def _openmp_threads_started():
    """Whether this module has run an OpenMP region with several threads."""
    return openmp_threads_started


# ---------------------------------------------------------------------------
# Helpers

cdef inline Py_ssize_t lapack_int_max() noexcept nogil:
    return INT32_MAX if sizeof(lapack_int) <= 4 else PY_SSIZE_T_MAX


cdef inline Py_ssize_t nbytes(Py_ssize_t count, Py_ssize_t size) noexcept nogil:
    """count * size rounded up to ALIGN; -1 if negative or too large."""
    if count < 0 or count > (PY_SSIZE_T_MAX - ALIGN) // size:
        return -1
    return (count * size + (ALIGN - 1)) // ALIGN * ALIGN


cdef inline Py_ssize_t product(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """a * b for a, b >= 0; -1 if negative or overflowing."""
    if a < 0 or b < 0 or (b > 0 and a > PY_SSIZE_T_MAX // b):
        return -1
    return a * b


cdef inline Py_ssize_t add(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    if a < 0 or b < 0 or a > PY_SSIZE_T_MAX - b:
        return -1
    return a + b


cdef inline bint bad_dim(Py_ssize_t d) noexcept nogil:
    # Pivots are int32, so no dimension may exceed INT32_MAX.
    return d < 0 or d > INT32_MAX


cdef inline bint bad_ld(Py_ssize_t ld, Py_ssize_t rows) noexcept nogil:
    return ld < (rows if rows > 1 else 1) or ld > lapack_int_max()


cdef inline bint bad_stride(Py_ssize_t stride, Py_ssize_t extent,
                            Py_ssize_t size) noexcept nogil:
    """A dimension of ``extent`` elements ``stride`` elements apart cannot
    be addressed: a zero stride (every element the same) or an overflow."""
    if extent <= 1:
        return False
    if stride < 0:
        stride = -stride
    return stride == 0 or stride > PY_SSIZE_T_MAX // size // extent


cdef inline Py_ssize_t col_major_ld(Py_ssize_t m, Py_ssize_t n, Py_ssize_t rs,
                                    Py_ssize_t cs) noexcept nogil:
    """LAPACK's leading dimension if element strides (rs, cs) describe a
    column-major m x n matrix LAPACK can use in place; else 0. A length-1
    dimension's stride does not matter."""
    cdef Py_ssize_t rows = m if m > 1 else 1
    if m > 1 and rs != 1:
        return 0
    if n <= 1:
        return rows
    if cs < rows or cs > lapack_int_max():
        return 0
    return cs


# ---------------------------------------------------------------------------
# Workspace sizes (bytes). Factor/unpack: [m*n matrix][ILP64 only: K pivots];
# solve: [n*n factors][n*nrhs right-hand sides][n pivots].

cdef Py_ssize_t factor_work_size(lapack_t* tag, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k = m if m < n else n
    cdef Py_ssize_t size = nbytes(product(m, n), sizeof(lapack_t))
    if size < 0:
        return -1
    if sizeof(lapack_int) != sizeof(int32_t):
        size = add(size, nbytes(k, sizeof(lapack_int)))
    return size


cdef inline lapack_int* factor_ipiv_scratch(lapack_t* tag, char* work, Py_ssize_t m,
                                            Py_ssize_t n) noexcept nogil:
    """The ILP64 pivot part of a factor workspace; NULL in LP64 builds,
    where LAPACK writes lucy's int32 pivots directly."""
    if work == NULL or sizeof(lapack_int) == sizeof(int32_t):
        return NULL
    return <lapack_int*>(work + nbytes(m * n, sizeof(lapack_t)))


cdef Py_ssize_t solve_work_size(lapack_t* tag, Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil:
    return add(add(nbytes(product(n, n), sizeof(lapack_t)),
                   nbytes(product(n, nrhs), sizeof(lapack_t))),
               nbytes(n, sizeof(lapack_int)))


cdef Py_ssize_t unpack_work_size(lapack_t* tag, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return nbytes(product(m, n), sizeof(lapack_t))


# ---------------------------------------------------------------------------
# Factor

cdef inline int factor_cm(Py_ssize_t m, Py_ssize_t n, lapack_t* a, Py_ssize_t lda,
                          int32_t* piv, lapack_int* ipiv) noexcept nogil:
    """Column-major, in place: the kernel of plan_factor (LAPACK's getrf
    where lucy's batch loops would run their parallel blocked LU). With an
    ILP64 LAPACK and the caller's pivot scratch, LAPACK's pivots go through
    that scratch (the first condition is a compile-time constant: LP64
    builds keep only the plain call)."""
    cdef Plan plan = plan_factor(dtype_of(a), m, n, active(), False)
    if (sizeof(lapack_int) != sizeof(int32_t) and ipiv != NULL
            and plan.kernel == KERNEL_GETRF):
        return <int>mk.getrf_wide(m, n, a, lda, piv, ipiv)
    return <int>mk.factor_planned(&plan, m, n, a, lda, piv)


cdef int factor_one(Py_ssize_t m, Py_ssize_t n, lapack_t* a, Py_ssize_t rs,
                    Py_ssize_t cs, int32_t* piv, char* work) noexcept nogil:
    """One matrix of any layout (m, n > 0, arguments checked): in place when
    column-major, else through a column-major copy in ``work`` (NULL:
    malloc'd here)."""
    cdef Py_ssize_t sz = sizeof(lapack_t)
    cdef Py_ssize_t ld = col_major_ld(m, n, rs, cs)
    cdef char* own = NULL
    cdef int info
    if ld > 0:
        return factor_cm(m, n, a, ld, piv, factor_ipiv_scratch(a, work, m, n))
    if work == NULL:
        own = work = <char*>malloc(factor_work_size(a, m, n))
        if own == NULL:
            return LU_NO_MEMORY
    mk.load_fortran(<const char*>a, rs * sz, cs * sz, <lapack_t*>work, m, n, m, False)
    info = factor_cm(m, n, <lapack_t*>work, m, piv, factor_ipiv_scratch(a, work, m, n))
    mk.store_strided(<lapack_t*>work, m, n, m, <char*>a, rs * sz, cs * sz)
    free(own)
    return info


cdef int factor_lda(Py_ssize_t m, Py_ssize_t n, lapack_t* a, Py_ssize_t lda,
                    int32_t* piv) noexcept nogil:
    if bad_dim(m):
        return -1
    if bad_dim(n):
        return -2
    if bad_ld(lda, m):
        return -4
    if m == 0 or n == 0:
        return 0
    if a == NULL:
        return -3
    if piv == NULL:
        return -5
    return factor_cm(m, n, a, lda, piv, NULL)


cdef int factor_strided(Py_ssize_t m, Py_ssize_t n, lapack_t* a, Py_ssize_t rs,
                        Py_ssize_t cs, int32_t* piv, void* work) noexcept nogil:
    cdef Py_ssize_t sz = sizeof(lapack_t)
    if bad_dim(m):
        return -1
    if bad_dim(n):
        return -2
    if m == 0 or n == 0:
        return 0
    if a == NULL:
        return -3
    if bad_stride(rs, m, sz):
        return -4
    if bad_stride(cs, n, sz):
        return -5
    if piv == NULL:
        return -6
    return factor_one(m, n, a, rs, cs, piv, <char*>work)


cdef int factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, lapack_t* a,
                      Py_ssize_t batch_stride, Py_ssize_t rs, Py_ssize_t cs,
                      int32_t* piv, Py_ssize_t piv_stride, int32_t* info,
                      void* work, int num_threads, bint parallel) noexcept nogil:
    """Serial (``parallel`` False) or lucy's OpenMP loop over the batch."""
    global openmp_threads_started
    cdef Py_ssize_t sz = sizeof(lapack_t), k = m if m < n else n
    cdef Py_ssize_t i, t, ws, count = 0
    cdef int status, nt = 1
    cdef char* own = NULL
    cdef char* w = <char*>work
    cdef lucy_team team
    if batch < 0:
        return -1
    if bad_dim(m):
        return -2
    if bad_dim(n):
        return -3
    if parallel and num_threads < 1:
        return -12
    if batch == 0:
        return 0
    if m == 0 or n == 0:
        if info != NULL:
            for i in range(batch):
                info[i] = 0
        return 0
    if a == NULL:
        return -4
    if bad_stride(batch_stride, batch, sz):
        return -5
    if bad_stride(rs, m, sz):
        return -6
    if bad_stride(cs, n, sz):
        return -7
    if piv == NULL:
        return -8
    if batch > 1 and (bad_stride(piv_stride, batch, sizeof(int32_t))
                      or (piv_stride if piv_stride > 0 else -piv_stride) < k):
        return -9
    if parallel:
        nt = num_threads if num_threads < batch else <int>batch
        if nt > lucy_max_threads():
            nt = lucy_max_threads()
        if nt > 1:
            openmp_threads_started = True
    ws = factor_work_size(a, m, n)
    if w == NULL and (col_major_ld(m, n, rs, cs) == 0
                      or sizeof(lapack_int) != sizeof(int32_t)):
        # One workspace per thread, taken once for the whole batch.
        own = w = <char*>malloc(product(nt, ws))
        if own == NULL:
            return LU_NO_MEMORY
    if nt <= 1:
        for i in range(batch):
            status = factor_one(m, n, a + i * batch_stride, rs, cs,
                                piv + i * piv_stride, w)
            if info != NULL:
                info[i] = status
            if status > 0:
                count += 1
    else:
        lucy_team_init(&team, holds_cpus(batch * factor_work(m, n)))
        with cython.parallel.parallel(num_threads=nt):     # (`parallel` is an argument)
            lucy_team_hold(&team)
            for i in prange(batch, schedule='guided'):
                t = omp_get_thread_num()
                status = factor_one(m, n, a + i * batch_stride, rs, cs,
                                    piv + i * piv_stride,
                                    w + t * ws if w != NULL else NULL)
                if info != NULL:
                    info[i] = status
                count += status > 0
            lucy_team_release()
    free(own)
    return <int>(count if count < INT32_MAX else INT32_MAX)


# ---------------------------------------------------------------------------
# Solve

cdef int solve_one(int trans, Py_ssize_t n, Py_ssize_t nrhs, const lapack_t* lu,
                   Py_ssize_t lu_rs, Py_ssize_t lu_cs, const int32_t* piv,
                   lapack_t* b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                   char* work) noexcept nogil:
    """op(A) X = B for any layouts (n, nrhs > 0, arguments checked), by the
    kernel of plan_solve (lucy's substitutions, LAPACK's getrs or the blocked
    substitutions by BLAS calls); BAD_PIVOT
    if a pivot is outside [0, n)."""
    cdef Py_ssize_t sz = sizeof(lapack_t)
    cdef Py_ssize_t lda = col_major_ld(n, n, lu_rs, lu_cs)
    cdef Py_ssize_t ldb = col_major_ld(n, nrhs, b_rs, b_cs)
    cdef Py_ssize_t off_b = nbytes(n * n, sz)
    cdef Py_ssize_t off_ipiv = off_b + nbytes(n * nrhs, sz)
    cdef lapack_int stack[IPIV_STACK]
    cdef lapack_int* ipiv = stack
    cdef lapack_int linfo = 0
    cdef bint valid
    cdef char* own = NULL
    cdef lapack_t* fa = <lapack_t*>lu
    cdef lapack_t* x = b
    cdef char tr = b'N' if trans == 0 else (b'T' if trans == 1 else b'C')
    cdef SolvePlan plan = plan_solve(dtype_of(b), n, nrhs, trans, active())
    if work == NULL and (lda == 0 or ldb == 0 or n > IPIV_STACK):
        own = work = <char*>malloc(solve_work_size(b, n, nrhs))
        if own == NULL:
            return LU_NO_MEMORY
    if work != NULL:
        ipiv = <lapack_int*>(work + off_ipiv)
    if plan.reaches_lapack:
        valid = mk.ipiv_from_piv(piv, n, n, ipiv)
    else:   # (in range, 0-based as they are)
        valid = mk.load_pivots(<const char*>piv, sizeof(int32_t), False, n, n, 0,
                               <int32_t*>ipiv)
    if not valid:
        free(own)
        return BAD_PIVOT
    if lda == 0:
        fa = <lapack_t*>work
        mk.load_fortran(<const char*>lu, lu_rs * sz, lu_cs * sz, fa, n, n, n, False)
        lda = n
    if ldb == 0:
        x = <lapack_t*>(work + off_b)
        mk.load_fortran(<const char*>b, b_rs * sz, b_cs * sz, x, n, nrhs, n, False)
    if plan.kernel == SOLVE_GETRS:
        getrs(tr, <lapack_int>n, <lapack_int>nrhs, fa, <lapack_int>lda, ipiv, x,
              <lapack_int>(ldb if ldb > 0 else n), &linfo)
    elif plan.kernel == SOLVE_BLOCKS:
        mk.getrs_in_blocks(n, nrhs, fa, lda, ipiv, x, ldb if ldb > 0 else n)
    else:
        mk.solve_substitutions(&plan, trans, n, nrhs, fa, lda, piv, x, ldb if ldb > 0 else n)
    if ldb == 0:
        mk.store_strided(x, n, nrhs, n, <char*>b, b_rs * sz, b_cs * sz)
    free(own)
    return <int>linfo


cdef int solve_lda(int trans, Py_ssize_t n, Py_ssize_t nrhs, const lapack_t* lu,
                   Py_ssize_t lda, const int32_t* piv, lapack_t* b,
                   Py_ssize_t ldb) noexcept nogil:
    cdef int info
    if trans < 0 or trans > 2:
        return -1
    if bad_dim(n):
        return -2
    if bad_dim(nrhs):
        return -3
    if bad_ld(lda, n):
        return -5
    if bad_ld(ldb, n):
        return -8
    if n == 0 or nrhs == 0:
        return 0
    if lu == NULL:
        return -4
    if piv == NULL:
        return -6
    if b == NULL:
        return -7
    info = solve_one(trans, n, nrhs, lu, 1, lda, piv, b, 1, ldb, NULL)
    return -6 if info == BAD_PIVOT else info


cdef int solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const lapack_t* lu,
                       Py_ssize_t lu_rs, Py_ssize_t lu_cs, const int32_t* piv,
                       lapack_t* b, Py_ssize_t b_rs, Py_ssize_t b_cs,
                       void* work) noexcept nogil:
    cdef Py_ssize_t sz = sizeof(lapack_t)
    cdef int info
    if trans < 0 or trans > 2:
        return -1
    if bad_dim(n):
        return -2
    if bad_dim(nrhs):
        return -3
    if n == 0 or nrhs == 0:
        return 0
    if lu == NULL:
        return -4
    if bad_stride(lu_rs, n, sz):
        return -5
    if bad_stride(lu_cs, n, sz):
        return -6
    if piv == NULL:
        return -7
    if b == NULL:
        return -8
    if bad_stride(b_rs, n, sz):
        return -9
    if bad_stride(b_cs, nrhs, sz):
        return -10
    info = solve_one(trans, n, nrhs, lu, lu_rs, lu_cs, piv, b, b_rs, b_cs, <char*>work)
    return -7 if info == BAD_PIVOT else info


# ---------------------------------------------------------------------------
# Unpack, pivots

cdef int unpack(Py_ssize_t m, Py_ssize_t n, const lapack_t* lu, Py_ssize_t lu_rs,
                Py_ssize_t lu_cs, lapack_t* l, Py_ssize_t l_rs, Py_ssize_t l_cs,
                lapack_t* u, Py_ssize_t u_rs, Py_ssize_t u_cs,
                void* work) noexcept nogil:
    cdef Py_ssize_t sz = sizeof(lapack_t), k = m if m < n else n
    cdef Py_ssize_t ld
    cdef const lapack_t* src = lu
    cdef char* own = NULL
    if bad_dim(m):
        return -1
    if bad_dim(n):
        return -2
    if m == 0 or n == 0:
        return 0
    if lu == NULL:
        return -3
    if bad_stride(lu_rs, m, sz):
        return -4
    if bad_stride(lu_cs, n, sz):
        return -5
    if l != NULL and bad_stride(l_rs, m, sz):
        return -7
    if l != NULL and bad_stride(l_cs, k, sz):
        return -8
    if u != NULL and bad_stride(u_rs, k, sz):
        return -10
    if u != NULL and bad_stride(u_cs, n, sz):
        return -11
    ld = col_major_ld(m, n, lu_rs, lu_cs)
    if ld == 0:
        if work == NULL:
            own = <char*>malloc(unpack_work_size(l, m, n))
            if own == NULL:
                return LU_NO_MEMORY
            work = own
        mk.load_fortran(<const char*>lu, lu_rs * sz, lu_cs * sz, <lapack_t*>work, m, n, m, False)
        src = <const lapack_t*>work
        ld = m
    if l != NULL:
        mk.write_lower(src, m, k, ld, l, l_rs, l_cs, NULL)
    if u != NULL:
        mk.write_upper(src, k, n, ld, u, u_rs, u_cs)
    free(own)
    return 0


cdef int lu_pivots_to_permutation(Py_ssize_t k, Py_ssize_t m, const int32_t* piv,
                                  int32_t* perm) noexcept nogil:
    cdef Py_ssize_t i
    if k < 0:
        return -1
    if bad_dim(m):
        return -2
    if k > m:
        return -1
    if m == 0:
        return 0
    if piv == NULL and k > 0:
        return -3
    if perm == NULL:
        return -4
    # Every pivot is checked before perm is touched: on an error nothing is
    # written (cython_lu.pxd), and an invalid pivot would write out of bounds.
    for i in range(k):
        if piv[i] < 0 or piv[i] >= m:
            return -3
    mk.swaps_to_perm(piv, k, m, perm)
    return 0


# ---------------------------------------------------------------------------
# The exported, typed functions (signatures as in cython_lu.pxd).


cdef int slu_factor(Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t lda, int32_t* piv) noexcept nogil:
    return factor_lda(m, n, a, lda, piv)


cdef int dlu_factor(Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t lda, int32_t* piv) noexcept nogil:
    return factor_lda(m, n, a, lda, piv)


cdef int clu_factor(Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t lda, int32_t* piv) noexcept nogil:
    return factor_lda(m, n, a, lda, piv)


cdef int zlu_factor(Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t lda, int32_t* piv) noexcept nogil:
    return factor_lda(m, n, a, lda, piv)


cdef int slu_factor_strided(Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil:
    return factor_strided(m, n, a, row_stride, col_stride, piv, work)


cdef int dlu_factor_strided(Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil:
    return factor_strided(m, n, a, row_stride, col_stride, piv, work)


cdef int clu_factor_strided(Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil:
    return factor_strided(m, n, a, row_stride, col_stride, piv, work)


cdef int zlu_factor_strided(Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil:
    return factor_strided(m, n, a, row_stride, col_stride, piv, work)


cdef Py_ssize_t slu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return factor_work_size(<float*>NULL, m, n)


cdef Py_ssize_t dlu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return factor_work_size(<double*>NULL, m, n)


cdef Py_ssize_t clu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return factor_work_size(<float complex*>NULL, m, n)


cdef Py_ssize_t zlu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return factor_work_size(<double complex*>NULL, m, n)


cdef int slu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, 1, False)


cdef int dlu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, 1, False)


cdef int clu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, 1, False)


cdef int zlu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, 1, False)


cdef int slu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads, True)


cdef int dlu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads, True)


cdef int clu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads, True)


cdef int zlu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil:
    return factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads, True)


cdef int slu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float* lu, Py_ssize_t lda, const int32_t* piv, float* b, Py_ssize_t ldb) noexcept nogil:
    return solve_lda(trans, n, nrhs, lu, lda, piv, b, ldb)


cdef int dlu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double* lu, Py_ssize_t lda, const int32_t* piv, double* b, Py_ssize_t ldb) noexcept nogil:
    return solve_lda(trans, n, nrhs, lu, lda, piv, b, ldb)


cdef int clu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float complex* lu, Py_ssize_t lda, const int32_t* piv, float complex* b, Py_ssize_t ldb) noexcept nogil:
    return solve_lda(trans, n, nrhs, lu, lda, piv, b, ldb)


cdef int zlu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double complex* lu, Py_ssize_t lda, const int32_t* piv, double complex* b, Py_ssize_t ldb) noexcept nogil:
    return solve_lda(trans, n, nrhs, lu, lda, piv, b, ldb)


cdef int slu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, float* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil:
    return solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)


cdef int dlu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, double* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil:
    return solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)


cdef int clu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, float complex* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil:
    return solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)


cdef int zlu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, double complex* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil:
    return solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)


cdef Py_ssize_t slu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil:
    return solve_work_size(<float*>NULL, n, nrhs)


cdef Py_ssize_t dlu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil:
    return solve_work_size(<double*>NULL, n, nrhs)


cdef Py_ssize_t clu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil:
    return solve_work_size(<float complex*>NULL, n, nrhs)


cdef Py_ssize_t zlu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil:
    return solve_work_size(<double complex*>NULL, n, nrhs)


cdef int slu_unpack(Py_ssize_t m, Py_ssize_t n, const float* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, float* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, float* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil:
    return unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)


cdef int dlu_unpack(Py_ssize_t m, Py_ssize_t n, const double* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, double* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, double* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil:
    return unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)


cdef int clu_unpack(Py_ssize_t m, Py_ssize_t n, const float complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, float complex* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, float complex* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil:
    return unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)


cdef int zlu_unpack(Py_ssize_t m, Py_ssize_t n, const double complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, double complex* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, double complex* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil:
    return unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)


cdef Py_ssize_t slu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return unpack_work_size(<float*>NULL, m, n)


cdef Py_ssize_t dlu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return unpack_work_size(<double*>NULL, m, n)


cdef Py_ssize_t clu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return unpack_work_size(<float complex*>NULL, m, n)


cdef Py_ssize_t zlu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    return unpack_work_size(<double complex*>NULL, m, n)
