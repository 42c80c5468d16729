# The one place that decides which kernel factors (or solves with) a matrix:
# plan_factor and plan_solve, functions of the dtype, the shape and the SIMD
# tier's table (kernels.pxd) only. The batch loops (_batch.pyx), the C-level
# API (cython_lu.pyx) and, through _batch's Python wrappers, the Python layer
# (which keeps BLAS at one thread only when LAPACK or BLAS is reached, and
# uses threads inside one matrix only when the kernel can) all ask them.
#
# Also here: the choice of the tier at import (select_kernels), shared by
# every module that runs the kernels.
cimport cython
from libc.stdint cimport int32_t
from lucy._kernels.lapack cimport lapack_t, lapack_int
from lucy._kernels.kernels cimport (lucy_kernels, lucy_active, lucy_kernels_use, lucy_tier_best,
                                    lucy_tier_name, lucy_tiers_built, lucy_tiers_supported,
                                    LUCY_TIER_COUNT, LUCY_LANES_MAX_N)

# dtype codes, in LAPACK's s, d, c, z order.
cdef enum:
    DTYPE_S = 0
    DTYPE_D = 1
    DTYPE_C = 2
    DTYPE_Z = 3

cdef enum:
    # Matrices up to this size in both dimensions that no vectorised kernel
    # takes are factored by the scalar getf2 of matrix.pxd instead of
    # LAPACK, and systems up to this size are solved by lucy's own
    # substitutions: for them a LAPACK call (argument checks, OpenBLAS's
    # buffer lock and dispatch) costs more than the arithmetic. See bench/
    # for the measurement behind the value.
    SMALL_N = 32
    # Real matrices with min(M, N) above the columns kernels' limit and
    # below this go through the blocked LU on their panels
    # (factor_panels); at 512 LAPACK's getrf was faster (bench/kernels.md).
    PANELS_MAX_K = 512
    # From this min(M, N) on, the parallel blocked LU of _batch.pyx, whose
    # split (and so its bits) does not depend on the number of threads.
    BLOCKED_MIN = 512
    # Systems with more right-hand sides than this and M above SMALL_N go
    # to LAPACK's getrs, whose blocked triangular solves reuse each block of
    # the factors across the right-hand sides; with fewer, the factors are
    # read once per right-hand side anyway and lucy's substitutions, without
    # getrs's call overhead and a pass over B for the swaps, are faster
    # (bench/kernels.md).
    SOLVE_KERNEL_MAX_NRHS = 4
    # A batch with fewer systems than threads solves each A X = B with
    # threads inside the system where the plan's kernel can: getrs, given
    # more right-hand sides than this, runs on groups
    # of at most this many (as even as can be: 100 are two groups of 50),
    # spread over the threads. The groups depend on NRHS only, so the bits do
    # not depend on the number of threads (BLAS's own threads would give
    # other bits for other counts). Each group reads all of the factors: the
    # groups are as wide as can be.
    SOLVE_RHS_GROUP = 64
    # From this M on, A X = B with more right-hand sides than
    # SOLVE_KERNEL_MAX_NRHS is solved by lucy's own blocked substitutions
    # (SOLVE_BLOCKS) instead of getrs: row blocks of SOLVE_BLOCKS_NB, each
    # block's updates single-thread gemm calls with all the right-hand
    # sides, a fixed sequence of calls split among the threads by row block
    # (so the same bits for any thread count). getrs's trsm on a group of
    # columns ran at 80% of gemm's speed, and one group ran on one thread.
    SOLVE_BLOCKS_MIN = 512
    SOLVE_BLOCKS_NB = 256
    # Right-hand sides per group (solve_blocks_width): from
    # SOLVE_BLOCKS_MANY_ROWS rows on, enough row blocks keep the threads busy.
    SOLVE_BLOCKS_MANY_ROWS = 2048
    SOLVE_BLOCKS_WIDE = 128
    SOLVE_BLOCKS_NARROW = 32

cdef enum Kernel:
    KERNEL_SCALAR = 0    # getf2 of matrix.pxd (any dtype)
    KERNEL_COLUMNS = 1   # a columns kernel (columns.c.in)
    KERNEL_PANELS = 2    # blocked LU: columns-kernel panels, BLAS between
    KERNEL_GETRF = 3     # LAPACK's ?getrf
    KERNEL_BLOCKED = 4   # lucy's parallel blocked LU (_batch.pyx)

cdef enum SolveKernel:
    SOLVE_SMALL = 0      # getrs_small of matrix.pxd
    SOLVE_GETRS = 1      # LAPACK's ?getrs
    SOLVE_KERNEL = 2     # the tier's substitutions (solve.c.in)
    SOLVE_BLOCKS = 3     # blocked substitutions by BLAS calls (matrix.pxd)

cdef struct Plan:
    Kernel kernel               # factors one m x n matrix
    const lucy_kernels* simd    # the table whose lane, columns or panel
                                # kernels run (KERNEL_COLUMNS/PANELS, lanes)
    bint lanes                  # square n <= LUCY_LANES_MAX_N: batches go four
                                # at a time through simd's lane kernel, the rest
                                # by kernel
    bint reaches_lapack         # a LAPACK or BLAS routine is called
    bint threads_inside         # the kernel itself can use several threads

cdef struct SolvePlan:
    SolveKernel kernel          # solves one system
    const lucy_kernels* simd
    bint lanes                  # A X = B, 2 <= m <= LUCY_LANES_MAX_N: four
                                # systems at a time through simd's lane solve
    bint reaches_lapack
    bint threads_inside         # several threads can work within one system:
                                # A X = B by simd's substitutions on row
                                # blocks, or getrs on groups of columns of B


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


cdef inline const lucy_kernels* active() noexcept nogil:
    """The table of the tier this module runs (select_kernels)."""
    return lucy_active


cdef inline int lanes_getrf_max_n(int dtype, const lucy_kernels* k) noexcept nogil:
    """The largest n k's lane LU takes for dtype (0: none)."""
    if dtype == DTYPE_S and k.lanes_getrf_s != NULL:
        return k.lanes_getrf_max_n_s
    if dtype == DTYPE_D and k.lanes_getrf_d != NULL:
        return k.lanes_getrf_max_n_d
    if dtype == DTYPE_Z and k.lanes_getrf_z != NULL:
        return k.lanes_getrf_max_n_z
    return 0


cdef inline int lanes_getrs_max_n(int dtype, const lucy_kernels* k) noexcept nogil:
    """The largest n k's lane solve takes for dtype (0: none)."""
    if dtype == DTYPE_S and k.lanes_getrs_s != NULL:
        return k.lanes_getrs_max_n_s
    if dtype == DTYPE_D and k.lanes_getrs_d != NULL:
        return k.lanes_getrs_max_n_d
    if dtype == DTYPE_Z and k.lanes_getrs_z != NULL:
        return k.lanes_getrs_max_n_z
    return 0


cdef inline Py_ssize_t columns_rows(int dtype, const lucy_kernels* k) noexcept nogil:
    """m must be a multiple of this for k's columns kernel of dtype; 0: none."""
    if dtype == DTYPE_S and k.columns_getf2_s != NULL:
        return k.columns_rows_s
    if dtype == DTYPE_D and k.columns_getf2_d != NULL:
        return k.columns_rows_d
    if dtype == DTYPE_Z and k.columns_getf2_z != NULL:
        return k.columns_rows_z
    return 0


cdef inline Py_ssize_t columns_max_n(int dtype, const lucy_kernels* k) noexcept nogil:
    """The largest m and n of k's columns kernel of dtype."""
    if dtype == DTYPE_S:
        return k.columns_max_n_s
    if dtype == DTYPE_D:
        return k.columns_max_n_d
    return k.columns_max_n_z


cdef inline Py_ssize_t columns_min_m(int dtype, const lucy_kernels* k) noexcept nogil:
    if dtype == DTYPE_S:
        return k.columns_min_m_s
    if dtype == DTYPE_D:
        return k.columns_min_m_d
    return k.columns_min_m_z


cdef inline Py_ssize_t panel_cols(int dtype, const lucy_kernels* k) noexcept nogil:
    """Columns per panel of k's blocked LU of dtype (0: none)."""
    if dtype == DTYPE_S:
        return k.panel_cols_s
    if dtype == DTYPE_D:
        return k.panel_cols_d
    return 0


cdef inline const lucy_kernels* columns_for(int dtype, Py_ssize_t m, Py_ssize_t n,
                                            const lucy_kernels* k) noexcept nogil:
    """The table, k or a narrower one, whose columns kernel takes m x n."""
    cdef Py_ssize_t rows
    while k != NULL:
        rows = columns_rows(dtype, k)
        if (rows > 0 and m % rows == 0 and columns_min_m(dtype, k) <= m
                and m <= columns_max_n(dtype, k) and n <= columns_max_n(dtype, k)):
            return k
        k = k.narrower
    return NULL


cdef inline const lucy_kernels* panels_for(int dtype, Py_ssize_t m, Py_ssize_t n,
                                           const lucy_kernels* k) noexcept nogil:
    """The table, k or a narrower one, whose blocked LU takes m x n: min(m,
    n) above its columns kernels' limit and below PANELS_MAX_K, m a
    multiple of the register's rows (every panel's rows fill whole
    registers)."""
    cdef Py_ssize_t rows, kk = m if m < n else n
    while k != NULL:
        rows = columns_rows(dtype, k)
        if (rows > 0 and m % rows == 0 and panel_cols(dtype, k) > 0
                and columns_max_n(dtype, k) < kk < PANELS_MAX_K):
            return k
        k = k.narrower
    return NULL


cdef inline Plan plan_factor(int dtype, Py_ssize_t m, Py_ssize_t n, const lucy_kernels* k,
                             bint blocked_available=True) noexcept nogil:
    """How an m x n matrix of ``dtype`` is factored with tier table k.

    ``blocked_available``: the caller has the parallel blocked LU (lucy's
    batch loops; the C-level API calls LAPACK's getrf instead)."""
    cdef Plan p
    cdef Py_ssize_t kk = m if m < n else n
    cdef const lucy_kernels* columns = columns_for(dtype, m, n, k)
    cdef const lucy_kernels* panels = panels_for(dtype, m, n, k)
    p.simd = k
    p.lanes = m == n and 2 <= n <= lanes_getrf_max_n(dtype, k)
    if columns != NULL:
        p.kernel = KERNEL_COLUMNS
        p.simd = columns
    elif panels != NULL:
        p.kernel = KERNEL_PANELS
        p.simd = panels
    elif m <= SMALL_N and n <= SMALL_N:
        p.kernel = KERNEL_SCALAR
    elif (blocked_available and kk >= BLOCKED_MIN
          and sizeof(lapack_int) == sizeof(int32_t)):
        # (it hands LAPACK lucy's int32 pivots: LP64 interfaces only)
        p.kernel = KERNEL_BLOCKED
    else:
        p.kernel = KERNEL_GETRF
    p.reaches_lapack = p.kernel >= KERNEL_PANELS
    p.threads_inside = p.kernel == KERNEL_BLOCKED
    return p


cdef inline Py_ssize_t even_group_width(Py_ssize_t nrhs, Py_ssize_t widest) noexcept nogil:
    """Columns per group when nrhs columns are cut into groups of at most
    ``widest``, as even as can be (the last may be narrower): 100 at most
    64 wide are two groups of 50."""
    cdef Py_ssize_t groups = (nrhs + widest - 1) // widest
    return (nrhs + groups - 1) // groups if groups > 0 else 1


cdef inline Py_ssize_t rhs_group_width(Py_ssize_t nrhs) noexcept nogil:
    """Columns of B per getrs call."""
    return even_group_width(nrhs, SOLVE_RHS_GROUP)


cdef inline Py_ssize_t solve_blocks_width(Py_ssize_t m, Py_ssize_t nrhs) noexcept nogil:
    """Columns of X per group of the blocked substitutions (SOLVE_BLOCKS;
    the last group may be narrower). Threads share a system's row blocks,
    and with few row blocks its groups too: wide groups make gemm's best
    shape, narrow ones more work that can run at once. Fixed by m and nrhs,
    so the bits do not depend on the number of threads."""
    return even_group_width(nrhs, SOLVE_BLOCKS_WIDE if m >= SOLVE_BLOCKS_MANY_ROWS
                            else SOLVE_BLOCKS_NARROW)


cdef inline bint has_solve(int dtype, const lucy_kernels* k) noexcept nogil:
    """Whether k has lu_solve's substitutions for dtype."""
    if dtype == DTYPE_S:
        return k.solve_s.getrs != NULL
    if dtype == DTYPE_D:
        return k.solve_d.getrs != NULL
    if dtype == DTYPE_C:
        return k.solve_c.getrs != NULL
    return k.solve_z.getrs != NULL


cdef inline SolvePlan plan_solve(int dtype, Py_ssize_t m, Py_ssize_t nrhs, int trans,
                                 const lucy_kernels* k) noexcept nogil:
    """How op(A) X = B, nrhs right-hand sides, is solved with the factors of
    an m x m matrix."""
    cdef SolvePlan p
    p.simd = k
    p.lanes = trans == 0 and 2 <= m <= lanes_getrs_max_n(dtype, k)
    # (a narrower tier's substitutions where they were faster: same bits)
    while (p.simd.narrower != NULL and has_solve(dtype, p.simd.narrower)
           and m < (p.simd.solve_min_n_s if dtype == DTYPE_S else
                    p.simd.solve_min_n_d if dtype == DTYPE_D else 0)):
        p.simd = p.simd.narrower
    if has_solve(dtype, p.simd) and (m <= SMALL_N or nrhs <= SOLVE_KERNEL_MAX_NRHS):
        p.kernel = SOLVE_KERNEL
    elif m <= SMALL_N:
        p.kernel = SOLVE_SMALL
    elif trans == 0 and m >= SOLVE_BLOCKS_MIN:
        p.kernel = SOLVE_BLOCKS
    else:
        p.kernel = SOLVE_GETRS
    p.reaches_lapack = p.kernel == SOLVE_GETRS or p.kernel == SOLVE_BLOCKS
    # (lucy's substitutions of one system run on one thread: they stream the
    # factors at about one core's memory bandwidth, and a second thread on
    # row blocks, late to start after an idle spell, made one 3000 x 3000
    # system slower in the benchmark's rounds: float64 2.33 -> 2.65 ms,
    # complex128 4.78 -> 6.21; bench/kernels.md)
    p.threads_inside = ((p.kernel == SOLVE_GETRS and nrhs > SOLVE_RHS_GROUP)
                        or p.kernel == SOLVE_BLOCKS)
    return p


cdef inline double factor_work(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """Multiply-adds of one m x n LU plus its copy into place (the
    measure of work behind the thread decisions of lucy/_api.py and
    holds_cpus)."""
    cdef double k = m if m < n else n
    return <double>m * n * k - (<double>m + n) * k * k / 2 + k * k * k / 3 + <double>m * n


cdef inline double solve_work(int dtype, Py_ssize_t m, Py_ssize_t nrhs) noexcept nogil:
    """Real multiply-adds of one system's substitutions (a complex
    multiply-add is four)."""
    return <double>m * m * nrhs * (4 if dtype == DTYPE_C or dtype == DTYPE_Z else 1)


cdef enum:
    # From this much work in a call (factor_work or solve_work, summed over
    # the batch), the threads of a loop over its matrices each hold a CPU of
    # their own for the loop (openmp.pxd, lucy_team_hold). Where Linux
    # queues the woken worker on the caller's CPU, holding means waking an
    # idle CPU for it, 65-73 us on this project's VM (sometimes more), which
    # a loop of a few tens of microseconds cannot win back; from 10^6 (10 x
    # 512 x 512 solves, 2.6 x 10^6, take 0.7-0.9 ms) the loops measured ran
    # at two threads' speed instead of one's in half the calls
    # (bench/kernels.md). Solves below 10^6 run on one thread anyway
    # (lucy/_api.py's _SOLVE_PARALLEL_MIN_WORK). The loops inside one large
    # matrix always hold.
    HOLD_CPUS_MIN_WORK = 1000000


cdef inline bint holds_cpus(double work) noexcept nogil:
    """Whether a batch loop of ``work`` multiply-adds holds its CPUs."""
    return work >= HOLD_CPUS_MIN_WORK


cdef inline bint threads_over_matrices(Py_ssize_t batch_size, int num_threads) noexcept nogil:
    """How a batch's threads share its work: each takes whole matrices (or
    systems) when there are at least as many as threads; with fewer, the
    matrices go one at a time and the threads work inside each, where the
    plan's kernel can (threads_inside). On two threads, whole matrices a
    thread against both threads inside each matrix in turn: 10 x 512 x 512
    12.0 against 16.0 ms, 4 x 512 x 512 4.8 against 6.5, 2 x 1024 x 1024
    16.0 against 17.7 (bench/kernels.md)."""
    return num_threads > 1 and batch_size >= num_threads


# ---------------------------------------------------------------------------
# The tier

cdef inline list tier_names(int mask):
    return [lucy_tier_name(t).decode() for t in range(LUCY_TIER_COUNT) if mask & (1 << t)]


cdef inline int tier_by_name(str name) except -2:
    """The tier called ``name``, -1 for "auto"; ValueError if unknown."""
    cdef int t
    if name == "auto":
        return -1
    for t in range(LUCY_TIER_COUNT):
        if name == lucy_tier_name(t).decode():
            return t
    raise ValueError(f"LUCY_KERNELS={name!r} is not a kernel tier: use auto, "
                      + ", ".join(tier_names((1 << LUCY_TIER_COUNT) - 1)))


cdef inline int cpu_tiers() except -1:
    """The tiers this CPU runs (bit t: tier t). _LUCY_TEST_CPU_TIERS, a
    comma-separated list, narrows them, so that the tests can see what
    happens on a CPU without some of them."""
    import os
    cdef int tiers = lucy_tiers_supported(), pretend = 0
    names = os.environ.get("_LUCY_TEST_CPU_TIERS")
    if names is None:
        return tiers
    for name in names.split(","):
        if name.strip():
            pretend |= 1 << tier_by_name(name.strip())
    return tiers & pretend


cdef inline int select_kernels(str request) except -1:
    """Run this module's kernels at the tier ``request`` names ("auto": the
    best this build and CPU have). RuntimeError if the build lacks it or
    the CPU cannot run it, naming what they have; ValueError for a name that
    is no tier. (Not ImportError: lucy's __init__ reads that as an unbuilt
    source tree.) Returns the tier."""
    cdef int tier = tier_by_name(request.strip().lower() or "auto")
    cdef int usable = lucy_tiers_built() & cpu_tiers()
    if tier < 0:
        tier = lucy_tier_best(usable)
    if not lucy_tiers_built() & (1 << tier):
        raise RuntimeError(
            f"LUCY_KERNELS={request!r}: this build of lucy has no {lucy_tier_name(tier).decode()} "
            f"kernels; it has {', '.join(tier_names(lucy_tiers_built()))}")
    if not usable & (1 << tier):
        raise RuntimeError(
            f"LUCY_KERNELS={request!r}: this CPU cannot run the "
            f"{lucy_tier_name(tier).decode()} kernels; it runs "
            f"{', '.join(tier_names(usable))}")
    lucy_kernels_use(tier)
    return tier
