# Kernels for ONE matrix, shared by the batch loops (_batch.pyx) and the
# public cimport API (cython_lu). All are ``inline noexcept nogil`` and touch
# no Python object, so they can run inside any thread's ``prange``.
#
# Storage convention: a factored matrix is column-major with leading dimension
# ``lda`` (LAPACK's layout). Anything else (the caller's input, lu()'s C-order
# outputs) is described by element or byte strides and converted on the fly.
#
# Pivots are 0-based int32 row swaps everywhere (row j was interchanged with
# row piv[j]); LAPACK's 1-based ``ipiv`` never leaves ``factor_planned`` and
# ``load_pivots``.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.float cimport FLT_MIN, DBL_MIN
from libc.math cimport fabs
cimport cython
from lucy._kernels.lapack cimport (lapack_t, lapack_int, getrf, laswp, trsm_unit_lower,
                                   trsm_left, gemm_minus)
from lucy._kernels.kernels cimport lucy_kernels, LUCY_COLUMNS_GROUP, LUCY_PANEL_MAX_COLS
from lucy._kernels.plan cimport (Plan, SolvePlan, active, KERNEL_COLUMNS, KERNEL_PANELS,
                                 KERNEL_SCALAR, SOLVE_KERNEL, SOLVE_BLOCKS_NB,
                                 solve_blocks_width)


cdef inline Py_ssize_t lucy_columns_group(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """How many m x n matrices (complex128: 2m x n) a columns kernel factors
    side by side. One matrix's steps are a chain (search -> swap -> divide
    -> scale -> update -> next search) that runs at its latency; several
    independent chains interleaved fill the pipeline, as long as they fit in
    L1 together. Measured per matrix on AMD EPYC (Zen 4), ns for 1 / 2 / 4
    at a time: 16 x 16: 622 / 445 / 391; 32 x 32: 2109 / 1767 / 1732; 48 x
    48: 5148 / 4576 / 4997; 64 x 64: 10838 / 11422 / 11680."""
    return 4 if m * n <= 32 * 32 else (2 if m * n <= 48 * 48 else 1)


# Outputs of LUCY_STREAM_MIN_BYTES and more are written with streaming
# stores, which skip reading each output line into cache before overwriting
# it (a third of the memory traffic of a copy): a batch of small matrices is
# factored a group at a time in a scratch buffer that stays in L1 and then
# streamed out (factor_items in _batch.pyx), and one big float64 matrix is
# copied in by the tier's stream_load_transposed_d. Streamed outputs are
# left out of cache, where the caller's next step would find them if they
# fit, hence only from the size of this machine's L3 (32 MB); bench/kernels.md
# has the measurements. The scratch holds one group of matrices (32 kB, L1's
# size: a 64 kB one, which then lives in L2, made it slower).
cdef enum:
    LUCY_STREAM_MIN_BYTES = 32 << 20
    LUCY_STREAM_SCRATCH_DOUBLES = 4096


cdef extern from *:
    """
    #include <complex.h>
    #include <math.h>
    #include <string.h>
    /* The first `bytes` (at most 4 kB) at p fetched into cache: the next
       small matrix of a batch, whose first lines are often on a page the
       hardware prefetcher has not reached (it stops at 4 kB pages). */
    static inline void lucy_prefetch_bytes(const void *p, ptrdiff_t bytes)
    {
    #if defined(__GNUC__)
        const char *c = (const char *)p;
        if (bytes > 4096)
            bytes = 4096;
        for (ptrdiff_t off = 0; off < bytes; off += 64)
            __builtin_prefetch(c + off, 0, 3);
    #else
        (void)p; (void)bytes;
    #endif
    }
    /* The cache line at p fetched for writing. */
    static inline void lucy_prefetch_line(const void *p)
    {
    #if defined(__GNUC__)
        __builtin_prefetch(p, 1, 3);
    #else
        (void)p;
    #endif
    }
    /* x / y by Smith's method, as GCC's -fcx-fortran-rules expands it and
       as the SIMD kernels compute it: with it every compiler gives the same
       bits (Clang's C99 division is another formula). A complex number is
       laid out as an array of its two parts (C11 6.2.5); CMPLX is missing
       with Clang 14 and glibc. */
    static inline double _Complex lucy_zdiv(double _Complex x, double _Complex y)
    {
        const double xr = creal(x), xi = cimag(x), yr = creal(y), yi = cimag(y);
        double q[2], r, d;
        double _Complex z;
        if (fabs(yr) >= fabs(yi)) {
            r = yi / yr; d = yr + yi * r;
            q[0] = (xr + xi * r) / d; q[1] = (xi - xr * r) / d;
        } else {
            r = yr / yi; d = yi + yr * r;
            q[0] = (xr * r + xi) / d; q[1] = (xi * r - xr) / d;
        }
        memcpy(&z, q, sizeof z);
        return z;
    }
    /* The same in float arithmetic, for complex64. */
    static inline float _Complex lucy_cdiv(float _Complex x, float _Complex y)
    {
        const float xr = crealf(x), xi = cimagf(x), yr = crealf(y), yi = cimagf(y);
        float q[2], r, d;
        float _Complex z;
        if (fabsf(yr) >= fabsf(yi)) {
            r = yi / yr; d = yr + yi * r;
            q[0] = (xr + xi * r) / d; q[1] = (xi - xr * r) / d;
        } else {
            r = yr / yi; d = yi + yr * r;
            q[0] = (xr * r + xi) / d; q[1] = (xi * r - xr) / d;
        }
        memcpy(&z, q, sizeof z);
        return z;
    }
    """
    void lucy_prefetch_bytes(const void* p, Py_ssize_t bytes) noexcept nogil
    void lucy_prefetch_line(const void* p) noexcept nogil
    double complex lucy_zdiv(double complex x, double complex y) noexcept nogil
    float complex lucy_cdiv(float complex x, float complex y) noexcept nogil


cdef inline lapack_t divide(lapack_t x, lapack_t y) noexcept nogil:
    """x / y; for complex types by Smith's method (lucy_zdiv above)."""
    if lapack_t is float or lapack_t is double:
        return x / y
    elif lapack_t is cython.floatcomplex:
        return lucy_cdiv(x, y)
    else:
        return lucy_zdiv(x, y)


cdef inline double abs1(lapack_t x) noexcept nogil:
    """LAPACK's pivot size: |x| for real, |re(x)| + |im(x)| for complex
    (what i?amax compares), so lucy picks the pivots LAPACK picks."""
    # fabs compiles to a bit mask: no branch on the sign of random data.
    if lapack_t is float or lapack_t is double:
        return fabs(x)
    else:
        return fabs(x.real) + fabs(x.imag)


cdef inline bint all_finite(const lapack_t* a, Py_ssize_t m, Py_ssize_t n,
                            Py_ssize_t lda) noexcept nogil:
    """True if the column-major m x n matrix holds no inf or NaN."""
    # On the bits: a value is inf/NaN when its exponent field is all ones,
    # and adding one unit of the exponent then carries into the sign bit.
    # And, add and or are associative, so the compiler vectorises the loop;
    # a floating-point sum (x * 0) would be one serial chain of additions,
    # slower than the factorisation of a 16 x 16 matrix itself.
    cdef uint64_t acc64 = 0
    cdef uint32_t acc32 = 0
    cdef const uint64_t* w64
    cdef const uint32_t* w32
    cdef Py_ssize_t i, j
    cdef Py_ssize_t words = m if (lapack_t is float or lapack_t is double) else 2 * m
    for j in range(n):
        if lapack_t is double or lapack_t is cython.doublecomplex:
            w64 = <const uint64_t*>(a + j * lda)
            for i in range(words):
                acc64 |= (w64[i] & 0x7FF0000000000000ULL) + 0x0010000000000000ULL
        else:
            w32 = <const uint32_t*>(a + j * lda)
            for i in range(words):
                acc32 |= (w32[i] & 0x7F800000U) + 0x00800000U
    if lapack_t is double or lapack_t is cython.doublecomplex:
        return (acc64 >> 63) == 0
    else:
        return (acc32 >> 31) == 0


cdef inline void copy_strided(lapack_t* tag, const char* src, Py_ssize_t src_rs,
                              Py_ssize_t src_cs, char* dst, Py_ssize_t dst_rs,
                              Py_ssize_t dst_cs, Py_ssize_t m,
                              Py_ssize_t n) noexcept nogil:
    """Element (i, j) of an m x n matrix from ``src`` to ``dst``, each given
    by byte strides (any sign, any order), element by element: in one pass
    when both sides run down their columns contiguously or the matrix fits a
    tile, else in tiles, so that a transpose walks both sides in cache-sized
    blocks instead of striding through a whole column per element."""
    cdef Py_ssize_t i, j, i0, j0, i1, j1
    cdef Py_ssize_t TILE = 32
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t)
    if (src_rs == sz and dst_rs == sz) or (m <= TILE and n <= TILE):
        for j in range(n):
            for i in range(m):
                (<lapack_t*>(dst + i * dst_rs + j * dst_cs))[0] = \
                    (<const lapack_t*>(src + i * src_rs + j * src_cs))[0]
        return
    j0 = 0
    while j0 < n:
        j1 = j0 + TILE if j0 + TILE < n else n
        i0 = 0
        while i0 < m:
            i1 = i0 + TILE if i0 + TILE < m else m
            for j in range(j0, j1):
                for i in range(i0, i1):
                    (<lapack_t*>(dst + i * dst_rs + j * dst_cs))[0] = \
                        (<const lapack_t*>(src + i * src_rs + j * src_cs))[0]
            i0 = i1
        j0 = j1


cdef inline bint load_fortran(const char* src, Py_ssize_t row_stride,
                              Py_ssize_t col_stride, lapack_t* dst,
                              Py_ssize_t m, Py_ssize_t n, Py_ssize_t ldd,
                              bint check_finite) noexcept nogil:
    """Copy an m x n matrix given by byte strides (any sign, any order) into
    column-major ``dst`` with leading dimension ``ldd``. Returns False if
    ``check_finite`` and the matrix holds inf or NaN, else True.

    The register-transposing copies of C-order matrices (the active tier's,
    where it has them) check on their registers; the others
    (``copy_strided``) check the copy afterwards (``all_finite``)."""
    cdef bint finite
    cdef const lucy_kernels* k = active()
    if ((lapack_t is double or lapack_t is float)
            and col_stride == <Py_ssize_t>sizeof(lapack_t) and m % 4 == 0
            and n % 4 == 0 and k.load_transposed_d != NULL):
        # Rows contiguous (C order): 4 x 4 register transposes.
        if lapack_t is double:
            finite = k.load_transposed_d(src, row_stride, m, n, dst, ldd)
        else:
            finite = k.load_transposed_s(src, row_stride, m, n, dst, ldd)
        return finite or not check_finite
    if (lapack_t is cython.doublecomplex and col_stride == <Py_ssize_t>sizeof(lapack_t)
            and m % 2 == 0 and n % 2 == 0 and k.load_transposed_z != NULL):
        # Rows contiguous (C order): 2 x 2 register transposes.
        finite = k.load_transposed_z(src, row_stride, m, n, <double*>dst, ldd)
        return finite or not check_finite
    copy_strided(dst, src, row_stride, col_stride, <char*>dst, sizeof(lapack_t),
                 ldd * <Py_ssize_t>sizeof(lapack_t), m, n)
    return not check_finite or all_finite(dst, m, n, ldd)


cdef inline lapack_int getf2(Py_ssize_t m, Py_ssize_t n, lapack_t* a,
                             Py_ssize_t lda, int32_t* piv) noexcept nogil:
    """Unblocked right-looking LU with partial pivoting (LAPACK's ?getf2
    algorithm) for small matrices; 0-based pivots; returns LAPACK's info.

    The pivot is the first entry of largest ``abs1`` in the column, as in
    LAPACK, so the pivots equal LAPACK's whenever the candidates are not tied
    to within rounding; the factors then agree to rounding."""
    cdef Py_ssize_t k = m if m < n else n
    cdef Py_ssize_t i, j, jj, p
    cdef lapack_int info = 0
    cdef double best, v, sfmin
    cdef bint bigger
    cdef lapack_t pivot, t, r, one = 1
    cdef lapack_t* col
    cdef lapack_t* other
    if lapack_t is float or lapack_t is cython.floatcomplex:
        sfmin = FLT_MIN
    else:
        sfmin = DBL_MIN
    for j in range(k):
        col = a + j * lda
        p = j
        best = abs1(col[j])
        for i in range(j + 1, m):
            # Branch-free first maximum: which row wins is data, and random
            # data makes a branch here mispredict half the time.
            v = abs1(col[i])
            bigger = v > best
            p = i if bigger else p
            best = v if bigger else best
        piv[j] = <int32_t>p
        if best == 0:
            # An exactly zero column below the diagonal: U[j, j] == 0.
            # LAPACK records the first such column and carries on.
            if info == 0:
                info = <lapack_int>(j + 1)
            continue
        # Swap unconditionally (p == j swaps a row with itself): no branch.
        for jj in range(n):
            t = a[j + jj * lda]
            a[j + jj * lda] = a[p + jj * lda]
            a[p + jj * lda] = t
        pivot = col[j]
        if best >= sfmin:
            r = divide(one, pivot)
            for i in range(j + 1, m):
                col[i] = col[i] * r
        else:
            for i in range(j + 1, m):
                col[i] = divide(col[i], pivot)
        for jj in range(j + 1, n):
            other = a + jj * lda
            t = other[j]
            for i in range(j + 1, m):
                other[i] = other[i] - col[i] * t
    return info


cdef inline void columns_getf2(const lucy_kernels* k, Py_ssize_t count, Py_ssize_t m,
                               Py_ssize_t n, lapack_t** a, Py_ssize_t lda, int32_t** piv,
                               int32_t* info, const char* ahead=NULL,
                               Py_ssize_t ahead_bytes=0) noexcept nogil:
    """Factor ``count`` <= LUCY_COLUMNS_GROUP matrices by k's columns kernel
    (a plan's KERNEL_COLUMNS and its table) side by side; info[q] is
    LAPACK's info of a[q]. Meanwhile the ``ahead_bytes`` at ``ahead`` (what
    the caller reads next) are fetched into cache, a slice per step."""
    # complex128: the pointers copied into an array of double* (the
    # kernel's type); reading a double complex* object through a double*
    # lvalue would break C's aliasing rules, and GCC drops stores it then
    # thinks unread.
    cdef double* za[LUCY_COLUMNS_GROUP]
    cdef Py_ssize_t q
    if lapack_t is double:
        k.columns_getf2_d(count, m, n, a, lda, piv, info, ahead, ahead_bytes)
    elif lapack_t is float:
        k.columns_getf2_s(count, m, n, a, lda, piv, info, ahead, ahead_bytes)
    elif lapack_t is cython.doublecomplex:
        for q in range(count):
            za[q] = <double*>a[q]
        k.columns_getf2_z(count, m, n, za, lda, piv, info, ahead, ahead_bytes)


cdef inline Py_ssize_t factor_panels_width(const lucy_kernels* k, lapack_t* tag) noexcept nogil:
    """Columns per panel of ``factor_panels`` with k's kernels."""
    if lapack_t is double:
        return k.panel_cols_d
    else:
        return k.panel_cols_s


cdef inline void columns_trsm(const lucy_kernels* k, Py_ssize_t nc, const lapack_t* l,
                              Py_ssize_t lda, lapack_t* b, Py_ssize_t ldb) noexcept nogil:
    """B := L^-1 B, L the unit lower triangle of the factor_panels_width-square at
    ``l``, B factor_panels_width rows by nc columns (real dtypes)."""
    if lapack_t is double:
        k.columns_trsm_d(nc, l, lda, b, ldb)
    elif lapack_t is float:
        k.columns_trsm_s(nc, l, lda, b, ldb)


cdef enum:
    # laswp_prefetching prefetches the rows of the column this many columns
    # ahead (2, 4 and 8 were alike).
    SWAP_ROWS_AHEAD = 4


cdef inline void laswp_prefetching(Py_ssize_t n, lapack_t* a, Py_ssize_t lda, Py_ssize_t k1,
                                   Py_ssize_t k2, const lapack_int* ipiv) noexcept nogil:
    """LAPACK's ``?laswp`` with increment 1: rows i and ipiv[i] - 1
    interchanged for i = k1 - 1, ..., k2 - 1 in turn (1-based k1, k2 and
    ipiv, as laswp's), on the n columns at a.

    A column at a time, its swaps in order, so the same moves as laswp's.
    Why not laswp: in the blocked LU the pivot rows are scattered over a
    tall column-major matrix, a cache line per row and column, which no
    hardware prefetcher foresees; here the lines of the column
    SWAP_ROWS_AHEAD columns ahead are prefetched (the same rows, lda
    further on) while this one's swaps run. bench/kernels.md has the
    measurements."""
    cdef Py_ssize_t c, i, q, step = 64 // sizeof(lapack_t)      # elements a cache line
    cdef lapack_t* col
    cdef lapack_t* ahead
    cdef lapack_t t
    for c in range(n):
        col = a + c * lda
        if c + SWAP_ROWS_AHEAD < n:
            ahead = col + SWAP_ROWS_AHEAD * lda
            i = k1 - 1
            while i < k2:
                lucy_prefetch_line(ahead + i)
                i += step
            lucy_prefetch_line(ahead + k2 - 1)
            for i in range(k1 - 1, k2):
                lucy_prefetch_line(ahead + ipiv[i] - 1)
        for i in range(k1 - 1, k2):
            q = ipiv[i] - 1
            t = col[i]
            col[i] = col[q]
            col[q] = t


cdef inline lapack_int factor_panels(const lucy_kernels* k, Py_ssize_t m, Py_ssize_t n,
                                     lapack_t* a, Py_ssize_t lda,
                                     int32_t* piv) noexcept nogil:
    """Right-looking blocked LU of a medium real matrix (KERNEL_PANELS, with
    k's kernels), in place; 0-based pivots, LAPACK's info.

    Each panel of ``factor_panels_width`` columns is factored by the columns kernel,
    its row swaps go to the columns left and right of it (laswp), the rows
    of U beside it come from the columns trsm kernel, and BLAS's gemm
    updates the rest. One thread, us, getrf -> this: float32 128 x 128 62 -> 40, 256 x
    256 302 -> 237, 384 x 384 795 -> 664; float64 128 x 128 86 -> 61, 256 x
    256 443 -> 383, 384 x 384 1269 -> 1105 (C harness). OpenBLAS's getrf
    spends much of its time in small trsm calls, which the trsm kernel
    replaces."""
    cdef Py_ssize_t kk = m if m < n else n
    cdef Py_ssize_t nb = factor_panels_width(k, a), j = 0, jb, i, right
    # 1-based, from the panel's top; room for the widest panel of any tier
    cdef lapack_int ipiv[LUCY_PANEL_MAX_COLS]
    cdef lapack_int info = 0
    cdef int32_t status
    cdef lapack_t* panel
    cdef lapack_t* beside
    cdef int32_t* panel_piv
    while j < kk:
        jb = nb if kk - j > nb else kk - j
        panel = a + j + j * lda
        panel_piv = piv + j
        columns_getf2(k, 1, m - j, jb, &panel, lda, &panel_piv, &status)
        if status != 0 and info == 0:
            info = <lapack_int>(status + j)
        for i in range(jb):
            ipiv[i] = <lapack_int>(panel_piv[i] + 1)
            panel_piv[i] += <int32_t>j
        if j > 0:
            laswp(<lapack_int>j, a + j, <lapack_int>lda, 1, <lapack_int>jb, ipiv)
        right = n - j - jb
        if right > 0:
            beside = a + j + (j + jb) * lda
            laswp(<lapack_int>right, beside, <lapack_int>lda, 1, <lapack_int>jb, ipiv)
            if jb == nb:
                columns_trsm(k, right, panel, lda, beside, lda)
            else:   # a narrower last panel of a wide matrix
                trsm_unit_lower(<lapack_int>jb, <lapack_int>right, panel,
                                <lapack_int>lda, beside, <lapack_int>lda)
            if m > j + jb:
                gemm_minus(<lapack_int>(m - j - jb), <lapack_int>right, <lapack_int>jb,
                           panel + jb, <lapack_int>lda, beside, <lapack_int>lda,
                           beside + jb, <lapack_int>lda)
        j += jb
    return info


cdef inline lapack_int factor_planned(const Plan* plan, Py_ssize_t m, Py_ssize_t n,
                                      lapack_t* a, Py_ssize_t lda,
                                      int32_t* piv) noexcept nogil:
    """LU with partial pivoting of one column-major m x n matrix, in place,
    by the kernel ``plan`` names (plan_factor of this dtype and shape; not
    KERNEL_BLOCKED, which _batch.pyx runs itself).

    Writes K = min(m, n) 0-based pivots to ``piv`` and returns LAPACK's info
    (0: success; j > 0: U[j-1, j-1] is exactly zero)."""
    cdef lapack_int info = 0
    cdef Py_ssize_t i, k = m if m < n else n
    cdef int32_t status
    if plan.kernel == KERNEL_COLUMNS:
        columns_getf2(plan.simd, 1, m, n, &a, lda, &piv, &status)
        return status
    if plan.kernel == KERNEL_PANELS:
        return factor_panels(plan.simd, m, n, a, lda, piv)
    if plan.kernel == KERNEL_SCALAR:
        return getf2(m, n, a, lda, piv)
    if sizeof(lapack_int) != sizeof(int32_t):
        return getrf_wide(m, n, a, lda, piv, NULL)   # ILP64; compiled out in LP64
    # int32_t and lapack_int are the same type (see lapack.pxd), so LAPACK
    # writes straight into the pivot output; only the base changes.
    getrf(<lapack_int>m, <lapack_int>n, a, <lapack_int>lda, <lapack_int*>piv, &info)
    for i in range(k):
        piv[i] -= 1
    return info


cdef inline lapack_t conj_if(lapack_t x, bint conjugate) noexcept nogil:
    if lapack_t is float or lapack_t is double:
        return x
    else:
        return x.conjugate() if conjugate else x


cdef inline void getrs_small(int trans, Py_ssize_t n, Py_ssize_t nrhs,
                             const lapack_t* lu, Py_ssize_t lda,
                             const int32_t* piv, lapack_t* b,
                             Py_ssize_t ldb) noexcept nogil:
    """Solve op(A) X = B with the factors of ``getf2``/``factor_in_place``
    (0-based ``piv``), in place in column-major ``b``; trans 0: A, 1: A^T,
    2: A^H. The substitutions of LAPACK's ?getrs without its call overhead,
    for small n. A zero on U's diagonal gives inf/NaN, as in LAPACK."""
    cdef Py_ssize_t c, i, j
    cdef lapack_t t, s
    cdef lapack_t* x
    cdef bint cj = trans == 2
    for c in range(nrhs):
        x = b + c * ldb
        if trans == 0:
            # x = U^-1 L^-1 P^T b
            for i in range(n):
                if piv[i] != i:
                    t = x[i]
                    x[i] = x[piv[i]]
                    x[piv[i]] = t
            for j in range(n):
                t = x[j]
                for i in range(j + 1, n):
                    x[i] = x[i] - lu[i + j * lda] * t
            for j in range(n - 1, -1, -1):
                x[j] = divide(x[j], lu[j + j * lda])
                t = x[j]
                for i in range(j):
                    x[i] = x[i] - lu[i + j * lda] * t
        else:
            # x = P L^-T U^-T b (conjugated factors for trans 2)
            for j in range(n):
                s = x[j]
                for i in range(j):
                    s = s - conj_if(lu[i + j * lda], cj) * x[i]
                x[j] = divide(s, conj_if(lu[j + j * lda], cj))
            for j in range(n - 1, -1, -1):
                s = x[j]
                for i in range(j + 1, n):
                    s = s - conj_if(lu[i + j * lda], cj) * x[i]
                x[j] = s
            for i in range(n - 1, -1, -1):
                if piv[i] != i:
                    t = x[i]
                    x[i] = x[piv[i]]
                    x[piv[i]] = t


# Blocked substitutions (SOLVE_BLOCKS) for A X = B with many right-hand
# sides: X in row blocks of SOLVE_BLOCKS_NB, and in groups of columns
# (plan.pxd's solve_blocks_width). Row block i of L Y = P^T B takes its
# products with the blocks above it in two gemm calls, first all of those
# but the last (one call with K up to n: gemm's best shape), then the last,
# then the triangular solve with its diagonal block; U X = Y the same way
# from the bottom. The calls are fixed by n and nrhs, whichever thread
# makes them, so any split among threads gives the same bits (_batch.pyx's
# solve_in_blocks hands the blocks out; getrs_in_blocks runs them in order
# on one thread). A block's first call needs only the blocks two above it,
# so while one thread solves a diagonal block another is already
# multiplying for the next.

cdef inline Py_ssize_t solve_blocks_count(Py_ssize_t n) noexcept nogil:
    return (n + SOLVE_BLOCKS_NB - 1) // SOLVE_BLOCKS_NB


cdef inline void solve_blocks_product(Py_ssize_t n, Py_ssize_t nrhs, lapack_t* lu,
                                      Py_ssize_t lda, lapack_t* x, Py_ssize_t ldx,
                                      Py_ssize_t i, Py_ssize_t k0, Py_ssize_t k1) noexcept nogil:
    """X_i -= F[i, k0:k1] X[k0:k1] in row blocks, F the factors (L below
    the diagonal, U above; k0 < k1, all != i)."""
    cdef Py_ssize_t r0 = i * SOLVE_BLOCKS_NB, c0 = k0 * SOLVE_BLOCKS_NB
    cdef Py_ssize_t rows = min(SOLVE_BLOCKS_NB, n - r0)
    cdef Py_ssize_t cols = min(k1 * SOLVE_BLOCKS_NB, n) - c0
    gemm_minus(<lapack_int>rows, <lapack_int>nrhs, <lapack_int>cols, lu + r0 + c0 * lda,
               <lapack_int>lda, x + c0, <lapack_int>ldx, x + r0, <lapack_int>ldx)


cdef inline void solve_blocks_diagonal(Py_ssize_t n, Py_ssize_t nrhs, lapack_t* lu,
                                       Py_ssize_t lda, lapack_t* x, Py_ssize_t ldx,
                                       Py_ssize_t i, bint upper) noexcept nogil:
    """X_i := T_ii^-1 X_i, T the unit lower (L) or the upper (U) triangle."""
    cdef Py_ssize_t r0 = i * SOLVE_BLOCKS_NB, rows = min(SOLVE_BLOCKS_NB, n - r0)
    trsm_left(c'U' if upper else c'L', c'N' if upper else c'U', <lapack_int>rows,
              <lapack_int>nrhs, lu + r0 + r0 * lda, <lapack_int>lda, x + r0, <lapack_int>ldx)


cdef inline void getrs_in_blocks(Py_ssize_t n, Py_ssize_t nrhs, lapack_t* lu,
                                 Py_ssize_t lda, lapack_int* ipiv, lapack_t* x,
                                 Py_ssize_t ldx) noexcept nogil:
    """A X = B in place in x by the blocked substitutions on this thread
    (1-based ipiv, checked)."""
    cdef Py_ssize_t nb = solve_blocks_count(n), i, c0
    cdef Py_ssize_t width = solve_blocks_width(n, nrhs), w
    laswp(<lapack_int>nrhs, x, <lapack_int>ldx, 1, <lapack_int>n, ipiv)
    c0 = 0
    while c0 < nrhs:
        w = min(width, nrhs - c0)
        for i in range(nb):
            if i >= 2:
                solve_blocks_product(n, w, lu, lda, x + c0 * ldx, ldx, i, 0, i - 1)
            if i >= 1:
                solve_blocks_product(n, w, lu, lda, x + c0 * ldx, ldx, i, i - 1, i)
            solve_blocks_diagonal(n, w, lu, lda, x + c0 * ldx, ldx, i, False)
        for i in range(nb - 1, -1, -1):
            if i + 2 < nb:
                solve_blocks_product(n, w, lu, lda, x + c0 * ldx, ldx, i, i + 2, nb)
            if i + 1 < nb:
                solve_blocks_product(n, w, lu, lda, x + c0 * ldx, ldx, i, i + 1, i + 2)
            solve_blocks_diagonal(n, w, lu, lda, x + c0 * ldx, ldx, i, True)
        c0 += width


cdef inline void solve_substitutions(const SolvePlan* plan, int trans, Py_ssize_t n,
                                    Py_ssize_t nrhs, const lapack_t* lu, Py_ssize_t lda,
                                    const int32_t* piv, lapack_t* b,
                                    Py_ssize_t ldb) noexcept nogil:
    """op(A) X = B in place in b by lucy's own substitutions, for a plan
    whose kernel is not LAPACK's getrs: the tier's (solve.c.in), or
    getrs_small in a build without tiers. piv 0-based, checked."""
    if plan.kernel != SOLVE_KERNEL:
        getrs_small(trans, n, nrhs, lu, lda, piv, b, ldb)
    elif lapack_t is float:
        plan.simd.solve_s.getrs(trans, n, nrhs, lu, lda, piv, b, ldb)
    elif lapack_t is double:
        plan.simd.solve_d.getrs(trans, n, nrhs, lu, lda, piv, b, ldb)
    elif lapack_t is cython.floatcomplex:
        plan.simd.solve_c.getrs(trans, n, nrhs, <const float*>lu, lda, piv, <float*>b, ldb)
    else:
        plan.simd.solve_z.getrs(trans, n, nrhs, <const double*>lu, lda, piv, <double*>b, ldb)


cdef inline void swaps_to_perm(const int32_t* piv, Py_ssize_t k, Py_ssize_t m,
                               int32_t* perm) noexcept nogil:
    """Apply the k row swaps in ``piv`` to 0..m-1: ``A[perm] == L @ U``."""
    cdef Py_ssize_t i
    cdef int32_t t
    for i in range(m):
        perm[i] = <int32_t>i
    for i in range(k):
        t = perm[i]
        perm[i] = perm[piv[i]]
        perm[piv[i]] = t


cdef inline void write_lower(const lapack_t* lu, Py_ssize_t m, Py_ssize_t k,
                             Py_ssize_t lda, lapack_t* dst,
                             Py_ssize_t row_step, Py_ssize_t col_step,
                             const int32_t* row_of) noexcept nogil:
    """Write the unit lower-trapezoidal m x k factor L held in ``lu`` to
    ``dst`` (element steps between rows/columns); with ``row_of`` given,
    row i of L goes to row ``row_of[i]`` of ``dst`` (permute_l)."""
    cdef Py_ssize_t i, j, r
    for i in range(m):
        r = row_of[i] if row_of != NULL else i
        for j in range(k):
            if j < i:
                dst[r * row_step + j * col_step] = lu[i + j * lda]
            elif j == i:
                dst[r * row_step + j * col_step] = 1
            else:
                dst[r * row_step + j * col_step] = 0


cdef inline void write_upper(const lapack_t* lu, Py_ssize_t k, Py_ssize_t n,
                             Py_ssize_t lda, lapack_t* dst,
                             Py_ssize_t row_step,
                             Py_ssize_t col_step) noexcept nogil:
    """Write the upper-trapezoidal k x n factor U held in ``lu`` to ``dst``."""
    cdef Py_ssize_t i, j
    for i in range(k):
        for j in range(n):
            dst[i * row_step + j * col_step] = lu[i + j * lda] if j >= i else 0


cdef inline bint load_pivots(const char* piv, Py_ssize_t stride, bint is_int64,
                             Py_ssize_t k, Py_ssize_t m, int32_t base,
                             int32_t* dst) noexcept nogil:
    """Read k 0-based pivots (int32 or int64, byte stride), check each is in
    [0, m), and write them plus ``base`` (1 for LAPACK's ``ipiv``) to dst.
    False if any is out of range: LAPACK would read and write out of bounds
    with it, and no permutation of m rows has it."""
    cdef Py_ssize_t i
    cdef int64_t p
    for i in range(k):
        if is_int64:
            p = (<const int64_t*>(piv + i * stride))[0]
        else:
            p = (<const int32_t*>(piv + i * stride))[0]
        if p < 0 or p >= m:
            return False
        dst[i] = <int32_t>(p + base)
    return True


cdef inline bint perm_to_swaps(const char* perm, Py_ssize_t stride,
                               bint is_int64, Py_ssize_t m, Py_ssize_t k,
                               int32_t* piv, int32_t* work,
                               int32_t* where) noexcept nogil:
    """The k pivots (row swaps, piv[i] >= i) that turn 0..m-1 into the
    permutation ``perm``; the inverse of ``swaps_to_perm``. False if perm is
    not a permutation of 0..m-1 or needs more than k swaps. ``work`` and
    ``where`` are m-entry scratch."""
    cdef Py_ssize_t i
    cdef int64_t p
    cdef int32_t j, t
    for i in range(m):
        where[i] = -1
    for i in range(m):
        if is_int64:
            p = (<const int64_t*>(perm + i * stride))[0]
        else:
            p = (<const int32_t*>(perm + i * stride))[0]
        if p < 0 or p >= m or where[p] != -1:
            return False
        where[p] = <int32_t>i
    # work is the current arrangement, where[v] the position of value v in it.
    for i in range(m):
        work[i] = <int32_t>i
        where[i] = <int32_t>i
    for i in range(m):
        if is_int64:
            p = (<const int64_t*>(perm + i * stride))[0]
        else:
            p = (<const int32_t*>(perm + i * stride))[0]
        j = where[p]
        if i >= k:
            if j != i:
                return False
            continue
        piv[i] = j
        t = work[i]
        work[i] = work[j]
        work[j] = t
        where[work[j]] = j
        where[work[i]] = <int32_t>i
    return True


# ---------------------------------------------------------------------------
# For the C-level API (cython_lu) and ILP64 LAPACK interfaces.

from libc.stdlib cimport malloc, free

cdef enum:
    # Returned as info when a scratch buffer could not be allocated (the
    # same value as cython_lu's LU_NO_MEMORY).
    NO_MEMORY = -1000
    # LAPACK pivot scratch up to this many entries lives on the stack.
    IPIV_STACK = 256


cdef inline void store_strided(const lapack_t* src, Py_ssize_t m, Py_ssize_t n,
                               Py_ssize_t lds, char* dst, Py_ssize_t row_stride,
                               Py_ssize_t col_stride) noexcept nogil:
    """The inverse of ``load_fortran``: copy the column-major m x n ``src``
    (leading dimension ``lds``) to ``dst`` given by byte strides (any sign,
    any order), with ``copy_strided``."""
    copy_strided(<lapack_t*>src, <const char*>src, sizeof(lapack_t),
                 lds * <Py_ssize_t>sizeof(lapack_t), dst, row_stride, col_stride, m, n)


cdef inline lapack_int getrf_wide(Py_ssize_t m, Py_ssize_t n, lapack_t* a,
                                  Py_ssize_t lda, int32_t* piv,
                                  lapack_int* ipiv) noexcept nogil:
    """``?getrf`` with 0-based int32 pivots when ``lapack_int`` is wider than
    int32 (an ILP64 interface), so LAPACK cannot write into ``piv``: its
    ``ipiv`` goes to ``ipiv`` (K-entry scratch), or with NULL to the stack
    up to IPIV_STACK entries and to malloc'd memory beyond (NO_MEMORY if
    that fails). Returns LAPACK's info. Never called in LP64 builds."""
    cdef lapack_int stack[IPIV_STACK]
    cdef lapack_int* buf = ipiv
    cdef lapack_int info = 0
    cdef Py_ssize_t i, k = m if m < n else n
    if buf == NULL:
        if k <= IPIV_STACK:
            buf = stack
        else:
            buf = <lapack_int*>malloc(k * sizeof(lapack_int))
            if buf == NULL:
                return NO_MEMORY
    getrf(<lapack_int>m, <lapack_int>n, a, <lapack_int>lda, buf, &info)
    for i in range(k):
        piv[i] = <int32_t>(buf[i] - 1)
    if buf != ipiv and buf != stack:
        free(buf)
    return info


cdef inline void widen_ipiv(lapack_int* ipiv, Py_ssize_t k) noexcept nogil:
    """k int32 values written at the start of ``ipiv`` become k lapack_int
    (a no-op for LP64). Widened in place from the top: wide entry i covers
    32-bit entries 2i and 2i + 1, both >= i and so already read."""
    cdef Py_ssize_t i
    if sizeof(lapack_int) != sizeof(int32_t):
        for i in range(k - 1, -1, -1):
            ipiv[i] = (<int32_t*>ipiv)[i]


cdef inline bint ipiv_from_piv(const int32_t* piv, Py_ssize_t k, Py_ssize_t m,
                               lapack_int* ipiv) noexcept nogil:
    """LAPACK's 1-based ``ipiv`` (k lapack_int) from k 0-based int32 pivots,
    each checked to lie in [0, m) by ``load_pivots``; False if one does not."""
    if not load_pivots(<const char*>piv, sizeof(int32_t), False, k, m, 1,
                       <int32_t*>ipiv):
        return False
    widen_ipiv(ipiv, k)
    return True
