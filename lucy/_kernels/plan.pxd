# The one place that decides which kernel factors (or solves with) a matrix:
# a function of the dtype, the shape and the SIMD tier only, asked by the
# batch loops (_batch.pyx), the C-level API (cython_lu.pyx) and, through
# _batch's Python wrappers, the Python layer (which keeps BLAS at one thread
# only when LAPACK or BLAS is reached, and uses threads inside one matrix
# only when the kernel can).
cimport cython
from libc.stdint cimport int32_t
from lucy._lapack cimport lapack_t, lapack_int

cdef extern from "_simd_columns.h" nogil:
    bint lucy_lanes_usable()
    enum:
        LUCY_LANES_AVAILABLE
        LUCY_LANES_MAX_N
    const Py_ssize_t LUCY_COLUMNS_MAX_N
    const Py_ssize_t LUCY_COLUMNS_MAX_N_Z
    const Py_ssize_t LUCY_COLUMNS_WIDTH_D
    const Py_ssize_t LUCY_COLUMNS_WIDTH_S

# dtype codes, in LAPACK's s, d, c, z order (_batch.type_index).
cdef enum:
    DTYPE_S = 0
    DTYPE_D = 1
    DTYPE_C = 2
    DTYPE_Z = 3

# SIMD tiers.
cdef enum:
    TIER_PORTABLE = 0   # no SIMD kernels: the scalar kernel and LAPACK
    TIER_AVX2 = 1       # x86-64 with AVX2 and FMA

cdef enum:
    # Matrices up to this size in both dimensions that no vectorised kernel
    # takes are factored by the scalar getf2 of _matrix.pxd instead of
    # LAPACK, and systems up to this size are solved by lucy's own
    # substitutions: for them a LAPACK call (argument checks, OpenBLAS's
    # buffer lock and dispatch) costs more than the arithmetic. See bench/
    # for the measurement behind the value.
    SMALL_N = 32
    # Real matrices with min(M, N) above the columns kernel's limit and
    # below this go through the blocked LU on that kernel's panels
    # (factor_panels); float64 512 x 512, one thread: getrf 2.90 ms,
    # factor_panels 3.23.
    PANELS_MAX_K = 512
    # From this min(M, N) on, the parallel blocked LU of _batch.pyx, whose
    # split (and so its bits) does not depend on the number of threads.
    BLOCKED_MIN = 512

cdef enum Kernel:
    KERNEL_SCALAR = 0    # getf2 of _matrix.pxd (any dtype)
    KERNEL_COLUMNS = 1   # the vectorised columns kernel (_simd_columns.h)
    KERNEL_PANELS = 2    # blocked LU: columns-kernel panels, BLAS between
    KERNEL_GETRF = 3     # LAPACK's ?getrf
    KERNEL_BLOCKED = 4   # lucy's parallel blocked LU (_batch.pyx)

cdef enum SolveKernel:
    SOLVE_SMALL = 0      # getrs_small of _matrix.pxd
    SOLVE_GETRS = 1      # LAPACK's ?getrs

cdef struct Plan:
    Kernel kernel           # factors one m x n matrix
    bint lanes              # square n <= LUCY_LANES_MAX_N: batches go four at
                            # a time through the lane kernel, the rest by kernel
    bint reaches_lapack     # a LAPACK or BLAS routine is called
    bint threads_inside     # the kernel itself can use several threads

cdef struct SolvePlan:
    SolveKernel kernel      # solves one system
    bint lanes              # A X = B, 2 <= m <= LUCY_LANES_MAX_N: four
                            # systems at a time through the lane solve
    bint reaches_lapack


cdef inline int dtype_of(lapack_t* tag) noexcept nogil:
    """The dtype code of a fused-type pointer (its value is not read)."""
    if lapack_t is float:
        return DTYPE_S
    elif lapack_t is double:
        return DTYPE_D
    elif lapack_t is cython.floatcomplex:
        return DTYPE_C
    else:
        return DTYPE_Z


cdef inline int active_tier() noexcept nogil:
    """The tier the kernels run at: the best one this build and CPU have."""
    return TIER_AVX2 if LUCY_LANES_AVAILABLE and lucy_lanes_usable() else TIER_PORTABLE


cdef inline bint columns_fit(int dtype, Py_ssize_t m, Py_ssize_t n, int tier) noexcept nogil:
    """The columns kernel takes float32/float64 matrices with m a multiple of
    its register width and complex128 ones with m even, both sides up to its
    limit."""
    if tier == TIER_PORTABLE:
        return False
    if dtype == DTYPE_D:
        return m % LUCY_COLUMNS_WIDTH_D == 0 and m <= LUCY_COLUMNS_MAX_N and n <= LUCY_COLUMNS_MAX_N
    if dtype == DTYPE_S:
        return m % LUCY_COLUMNS_WIDTH_S == 0 and m <= LUCY_COLUMNS_MAX_N and n <= LUCY_COLUMNS_MAX_N
    if dtype == DTYPE_Z:
        return m % 2 == 0 and m <= LUCY_COLUMNS_MAX_N_Z and n <= LUCY_COLUMNS_MAX_N_Z
    return False


cdef inline Plan plan_factor(int dtype, Py_ssize_t m, Py_ssize_t n, int tier,
                             bint blocked_available=True) noexcept nogil:
    """How an m x n matrix of ``dtype`` is factored at ``tier``.

    ``blocked_available``: the caller has the parallel blocked LU (lucy's
    batch loops; the C-level API calls LAPACK's getrf instead)."""
    cdef Plan p
    cdef Py_ssize_t k = m if m < n else n
    p.lanes = (tier != TIER_PORTABLE and dtype != DTYPE_C and m == n
               and 2 <= n <= LUCY_LANES_MAX_N)
    if columns_fit(dtype, m, n, tier):
        p.kernel = KERNEL_COLUMNS
    elif (tier != TIER_PORTABLE and LUCY_COLUMNS_MAX_N < k < PANELS_MAX_K
          and ((dtype == DTYPE_D and m % LUCY_COLUMNS_WIDTH_D == 0)
               or (dtype == DTYPE_S and m % LUCY_COLUMNS_WIDTH_S == 0))):
        # every panel's rows then fill whole registers
        p.kernel = KERNEL_PANELS
    elif m <= SMALL_N and n <= SMALL_N:
        p.kernel = KERNEL_SCALAR
    elif (blocked_available and k >= BLOCKED_MIN
          and sizeof(lapack_int) == sizeof(int32_t)):
        # (it hands LAPACK lucy's int32 pivots: LP64 interfaces only)
        p.kernel = KERNEL_BLOCKED
    else:
        p.kernel = KERNEL_GETRF
    p.reaches_lapack = p.kernel >= KERNEL_PANELS
    p.threads_inside = p.kernel == KERNEL_BLOCKED
    return p


cdef inline SolvePlan plan_solve(int dtype, Py_ssize_t m, int trans, int tier) noexcept nogil:
    """How op(A) X = B is solved with the factors of an m x m matrix."""
    cdef SolvePlan p
    p.lanes = (tier != TIER_PORTABLE and dtype != DTYPE_C and trans == 0
               and 2 <= m <= LUCY_LANES_MAX_N)
    p.kernel = SOLVE_SMALL if m <= SMALL_N else SOLVE_GETRS
    p.reaches_lapack = p.kernel == SOLVE_GETRS
    return p
