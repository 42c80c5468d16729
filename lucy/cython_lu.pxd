# lucy's C-level API: LU factorisation with partial pivoting callable from
# other Cython code without the GIL.
#
#     from lucy.cython_lu cimport dlu_factor, dlu_solve, lu_factor
#
# Build with lucy's .pxd files on Cython's include path: `cython -I DIR`,
# DIR = `python -c "import lucy; print(lucy.get_include())"`. At run time the
# functions come from the compiled module lucy.cython_lu (imported
# automatically by the cimporting module, through Cython's capsules), so
# nothing of lucy is linked into your extension.
#
# Conventions (the same as lucy's Python API and SciPy's):
#
# * Types: prefix s float, d double, c float complex, z double complex; the
#   unprefixed names are fused wrappers over ``lu_t`` (inline, compiled into
#   your module) that call the typed functions.
# * Matrices are given by a pointer, the shape (m, n) and either a leading
#   dimension ``lda`` (column-major, LAPACK's layout: a[i + j*lda]) or element
#   strides (a[i*row_stride + j*col_stride]: row-major is (lda, 1),
#   column-major (1, lda); any sign). Matrices must not overlap each other.
# * ``piv``: int32, 0-based LAPACK row swaps, K = min(m, n) entries: row i was
#   interchanged with row piv[i], for i = 0..K-1 in order. SciPy's ``piv``.
# * Factors: L (unit diagonal, not stored) strictly below the diagonal, U on
#   and above, in the layout the matrix was given in.
# * Return value, LAPACK's ``info``: 0 success; j > 0: U[j-1, j-1] is exactly
#   zero (the factors are complete, but solving with them divides by zero);
#   -i: argument i (1-based, in the order of the signature) is invalid and
#   nothing was written; LU_NO_MEMORY: a workspace could not be allocated
#   (only when ``work`` is NULL).
# * No inf/NaN check is made (LAPACK handles them without crashing).
#
# Threads: every function is reentrant and may run concurrently in any
# number of threads (also inside your own ``prange``) on separate outputs;
# none touches global state or Python objects, and all are ``noexcept
# nogil``. Matrices that lucy's own kernels do not take (larger than 32 x 32,
# except float32, float64 and complex128 up to 96 x 96 where the CPU's SIMD
# tier has the columns kernels; docs/cython.md and docs/kernels.md have the
# rule) go to SciPy's LAPACK, and float32/float64 ones up to 511 x 511 (rows
# a multiple of the SIMD register's) to lucy's blocked LU, which calls
# BLAS's gemm, as does the solve of a system from 512 x 512 with more than
# four right-hand sides (gemm and trsm, in row blocks); that BLAS may run its
# own threads: when you call lucy from
# your own parallel loop, keep BLAS at one thread (for example
# ``threadpoolctl.threadpool_limits(1, "blas")`` around the loop, which is
# what lucy's Python API does). The kernels are lucy.lu_factor's,
# at the same SIMD tier (LUCY_KERNELS): with BLAS at one thread, its bits;
# pivots SciPy's except where candidates tie to within rounding, and factors
# equal to SciPy's to rounding (bit for bit where a matrix goes to LAPACK).
# OpenBLAS's threaded gemm and getrf round differently, so with more BLAS
# threads the factors of those matrices can differ from lucy.lu_factor's in
# the last bits.
#
# Workspace: ``work`` arguments take NULL or at least ``?lu_*_work_size()``
# bytes (any alignment malloc gives). With a workspace, no function
# allocates. With NULL, a function allocates (malloc) only what the data in
# hand needs, namely:
#   factor/unpack: an m*n copy when the matrix is not column-major;
#   solve: copies of the factors / right-hand sides that are not
#          column-major, and LAPACK's n pivot integers when n > 256;
# and in builds against an ILP64 LAPACK interface (none exists today) the
# min(m, n) 64-bit pivots of LAPACK when min(m, n) > 256. The functions
# without a ``work`` argument (?lu_factor, ?lu_solve) allocate only in that
# ILP64 case (?lu_solve: also when n > 256); pass a workspace to their
# strided variants to avoid any allocation.
#
# The functions here and their C signatures are a stable interface: lucy's
# test suite holds a snapshot of them and fails if one changes or vanishes.

cimport cython
from libc.stdint cimport int32_t

cdef enum:
    # Returned (instead of running) when a needed workspace could not be
    # allocated; never when the caller passes ``work``.
    LU_NO_MEMORY = -1000

ctypedef fused lu_t:
    float
    double
    float complex
    double complex


# ---------------------------------------------------------------------------
# Factor one matrix, in place.

# Column-major ``a`` (lda >= max(1, m)): a holds L and U afterwards, exactly
# as LAPACK's ?getrf leaves them; piv receives K pivots. No workspace.
cdef int slu_factor(Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t lda, int32_t* piv) noexcept nogil
cdef int dlu_factor(Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t lda, int32_t* piv) noexcept nogil
cdef int clu_factor(Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t lda, int32_t* piv) noexcept nogil
cdef int zlu_factor(Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t lda, int32_t* piv) noexcept nogil

# Any layout given by element strides (row-major: row_stride=lda,
# col_stride=1). Afterwards a[i*row_stride + j*col_stride] holds the factor
# entry (i, j) -- for row-major input that is SciPy's ``lu`` in C order.
# Column-major input is factored in place directly; any other layout through
# a column-major copy in ``work`` (NULL: allocated). Zero strides along a
# dimension longer than 1 are invalid.
cdef int slu_factor_strided(Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil
cdef int dlu_factor_strided(Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil
cdef int clu_factor_strided(Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil
cdef int zlu_factor_strided(Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil

# Bytes of ``work`` any of the factor functions needs for one m x n matrix
# (whatever its layout); negative for negative or overflowing sizes.
cdef Py_ssize_t slu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t dlu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t clu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t zlu_factor_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil


# ---------------------------------------------------------------------------
# Factor a strided batch: matrix b at a + b*batch_stride (elements), its
# pivots at piv + b*piv_stride (|piv_stride| >= K), its info in info[b]
# (info may be NULL). Returns 0 if every matrix factored with info 0, the
# number of matrices with info > 0 otherwise, or a negative error (then no
# matrix was touched).

# Serial: one matrix after the other on the calling thread, so it may be
# called from inside your own ``prange``. ``work``: NULL or
# ?lu_factor_work_size(m, n) bytes, reused for every matrix.
cdef int slu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil
cdef int dlu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil
cdef int clu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil
cdef int zlu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil

# Parallel: lucy's own OpenMP loop over the batch with ``num_threads``
# (>= 1; capped at ``batch``) threads; the same results as the serial one for
# any thread count. ``work``: NULL or num_threads * ?lu_factor_work_size(m, n)
# bytes. Call it from serial code (inside another OpenMP region it runs on
# one thread unless nested parallelism is enabled), with BLAS held at one
# thread. Without OpenMP at build time it runs serially.
cdef int slu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil
cdef int dlu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil
cdef int clu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, float complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil
cdef int zlu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, double complex* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil


# ---------------------------------------------------------------------------
# Solve op(A) X = B with the factors of an n x n A, in place in B (n x nrhs):
# trans 0: A X = B, 1: A^T X = B, 2: A^H X = B (the same as 1 for real
# types). The pivots are checked to lie in [0, n) (an invalid one returns
# the -position of ``piv``); ``lu`` and ``piv`` are only read, so many
# threads may solve with the same factors at once. A zero on U's diagonal
# gives inf/NaN in X, as in LAPACK (check the factor's info first).

# Column-major factors (lda) and B (ldb), as ?lu_factor leaves them.
cdef int slu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float* lu, Py_ssize_t lda, const int32_t* piv, float* b, Py_ssize_t ldb) noexcept nogil
cdef int dlu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double* lu, Py_ssize_t lda, const int32_t* piv, double* b, Py_ssize_t ldb) noexcept nogil
cdef int clu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float complex* lu, Py_ssize_t lda, const int32_t* piv, float complex* b, Py_ssize_t ldb) noexcept nogil
cdef int zlu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double complex* lu, Py_ssize_t lda, const int32_t* piv, double complex* b, Py_ssize_t ldb) noexcept nogil

# Factors and B in any layout (element strides; for example the row-major
# factors of ?lu_factor_strided). ``work``: NULL or
# ?lu_solve_work_size(n, nrhs) bytes.
cdef int slu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, float* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil
cdef int dlu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, double* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil
cdef int clu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const float complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, float complex* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil
cdef int zlu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const double complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, double complex* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil

# Bytes of ``work`` ?lu_solve_strided needs (any layouts); negative for
# negative or overflowing sizes.
cdef Py_ssize_t slu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil
cdef Py_ssize_t dlu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil
cdef Py_ssize_t clu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil
cdef Py_ssize_t zlu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil


# ---------------------------------------------------------------------------
# Unpack the m x n factors (any layout) into L (m x K, unit lower
# trapezoidal) and U (K x n, upper trapezoidal), K = min(m, n), each written
# in full (zeros included) with its own element strides; pass NULL for ``l``
# or ``u`` to skip it. ``work``: NULL or ?lu_unpack_work_size(m, n) bytes
# (used only when the factors are not column-major).
cdef int slu_unpack(Py_ssize_t m, Py_ssize_t n, const float* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, float* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, float* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil
cdef int dlu_unpack(Py_ssize_t m, Py_ssize_t n, const double* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, double* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, double* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil
cdef int clu_unpack(Py_ssize_t m, Py_ssize_t n, const float complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, float complex* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, float complex* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil
cdef int zlu_unpack(Py_ssize_t m, Py_ssize_t n, const double complex* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, double complex* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, double complex* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil

cdef Py_ssize_t slu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t dlu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t clu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t zlu_unpack_work_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil


# ---------------------------------------------------------------------------
# Pivots -> permutation: the k row swaps ``piv`` (each in [0, m), else
# -3) applied to 0..m-1, written to perm (m entries, not overlapping piv), so
# that A[perm] == L @ U (lucy.pivots_to_permutation; SciPy's p_indices are
# its inverse). Requires 0 <= k <= m. No workspace.
cdef int lu_pivots_to_permutation(Py_ssize_t k, Py_ssize_t m, const int32_t* piv, int32_t* perm) noexcept nogil


# ---------------------------------------------------------------------------
# Fused wrappers: one name for the four types (the typed call is chosen at
# compile time). The *_work_size wrappers take a pointer of the element type
# only to select it (it is not read; NULL is fine).

cdef inline int lu_factor(Py_ssize_t m, Py_ssize_t n, lu_t* a, Py_ssize_t lda, int32_t* piv) noexcept nogil:
    if lu_t is float:
        return slu_factor(m, n, a, lda, piv)
    elif lu_t is double:
        return dlu_factor(m, n, a, lda, piv)
    elif lu_t is cython.floatcomplex:
        return clu_factor(m, n, a, lda, piv)
    else:
        return zlu_factor(m, n, a, lda, piv)


cdef inline int lu_factor_strided(Py_ssize_t m, Py_ssize_t n, lu_t* a, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, void* work) noexcept nogil:
    if lu_t is float:
        return slu_factor_strided(m, n, a, row_stride, col_stride, piv, work)
    elif lu_t is double:
        return dlu_factor_strided(m, n, a, row_stride, col_stride, piv, work)
    elif lu_t is cython.floatcomplex:
        return clu_factor_strided(m, n, a, row_stride, col_stride, piv, work)
    else:
        return zlu_factor_strided(m, n, a, row_stride, col_stride, piv, work)


cdef inline Py_ssize_t lu_factor_work_size(Py_ssize_t m, Py_ssize_t n, const lu_t* type_of) noexcept nogil:
    if lu_t is float:
        return slu_factor_work_size(m, n)
    elif lu_t is double:
        return dlu_factor_work_size(m, n)
    elif lu_t is cython.floatcomplex:
        return clu_factor_work_size(m, n)
    else:
        return zlu_factor_work_size(m, n)


cdef inline int lu_factor_batch(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, lu_t* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work) noexcept nogil:
    if lu_t is float:
        return slu_factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work)
    elif lu_t is double:
        return dlu_factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work)
    elif lu_t is cython.floatcomplex:
        return clu_factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work)
    else:
        return zlu_factor_batch(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work)


cdef inline int lu_factor_batch_parallel(Py_ssize_t batch, Py_ssize_t m, Py_ssize_t n, lu_t* a, Py_ssize_t batch_stride, Py_ssize_t row_stride, Py_ssize_t col_stride, int32_t* piv, Py_ssize_t piv_stride, int32_t* info, void* work, int num_threads) noexcept nogil:
    if lu_t is float:
        return slu_factor_batch_parallel(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads)
    elif lu_t is double:
        return dlu_factor_batch_parallel(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads)
    elif lu_t is cython.floatcomplex:
        return clu_factor_batch_parallel(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads)
    else:
        return zlu_factor_batch_parallel(batch, m, n, a, batch_stride, row_stride, col_stride, piv, piv_stride, info, work, num_threads)


cdef inline int lu_solve(int trans, Py_ssize_t n, Py_ssize_t nrhs, const lu_t* lu, Py_ssize_t lda, const int32_t* piv, lu_t* b, Py_ssize_t ldb) noexcept nogil:
    if lu_t is float:
        return slu_solve(trans, n, nrhs, lu, lda, piv, b, ldb)
    elif lu_t is double:
        return dlu_solve(trans, n, nrhs, lu, lda, piv, b, ldb)
    elif lu_t is cython.floatcomplex:
        return clu_solve(trans, n, nrhs, lu, lda, piv, b, ldb)
    else:
        return zlu_solve(trans, n, nrhs, lu, lda, piv, b, ldb)


cdef inline int lu_solve_strided(int trans, Py_ssize_t n, Py_ssize_t nrhs, const lu_t* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, const int32_t* piv, lu_t* b, Py_ssize_t b_row_stride, Py_ssize_t b_col_stride, void* work) noexcept nogil:
    if lu_t is float:
        return slu_solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)
    elif lu_t is double:
        return dlu_solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)
    elif lu_t is cython.floatcomplex:
        return clu_solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)
    else:
        return zlu_solve_strided(trans, n, nrhs, lu, lu_row_stride, lu_col_stride, piv, b, b_row_stride, b_col_stride, work)


cdef inline Py_ssize_t lu_solve_work_size(Py_ssize_t n, Py_ssize_t nrhs, const lu_t* type_of) noexcept nogil:
    if lu_t is float:
        return slu_solve_work_size(n, nrhs)
    elif lu_t is double:
        return dlu_solve_work_size(n, nrhs)
    elif lu_t is cython.floatcomplex:
        return clu_solve_work_size(n, nrhs)
    else:
        return zlu_solve_work_size(n, nrhs)


cdef inline int lu_unpack(Py_ssize_t m, Py_ssize_t n, const lu_t* lu, Py_ssize_t lu_row_stride, Py_ssize_t lu_col_stride, lu_t* l, Py_ssize_t l_row_stride, Py_ssize_t l_col_stride, lu_t* u, Py_ssize_t u_row_stride, Py_ssize_t u_col_stride, void* work) noexcept nogil:
    if lu_t is float:
        return slu_unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)
    elif lu_t is double:
        return dlu_unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)
    elif lu_t is cython.floatcomplex:
        return clu_unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)
    else:
        return zlu_unpack(m, n, lu, lu_row_stride, lu_col_stride, l, l_row_stride, l_col_stride, u, u_row_stride, u_col_stride, work)


cdef inline Py_ssize_t lu_unpack_work_size(Py_ssize_t m, Py_ssize_t n, const lu_t* type_of) noexcept nogil:
    if lu_t is float:
        return slu_unpack_work_size(m, n)
    elif lu_t is double:
        return dlu_unpack_work_size(m, n)
    elif lu_t is cython.floatcomplex:
        return clu_unpack_work_size(m, n)
    else:
        return zlu_unpack_work_size(m, n)
