"""Batch loops: lucy's compiled layer.

Each public operation is one function here, called once per Python call with
arrays the Python layer has already validated, broadcast and allocated. The
GIL is released for the whole loop; matrices are spread over OpenMP threads
with ``prange`` and each one goes through the single-matrix kernels of
``lucy/_kernels/matrix.pxd``. Nothing here raises for a bad matrix: a
per-matrix status is written to ``info`` (or, for lu_factor, only
summarised) and the Python layer turns it into warnings or errors after the
parallel region has ended.

Operands are described by ``Operand``/``Batch`` (pointer, byte strides of the
batch dimensions and of the two core dimensions), so any layout numpy can
express (negative or zero strides, Fortran order, views) is read in place
without a temporary of the batch's size.
"""
import collections
import os

import numpy as np

cimport cython
cimport numpy as cnp
from cython.parallel cimport parallel, prange
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport int32_t, int64_t, uintptr_t
from libc.stdlib cimport calloc, malloc, free

from lucy._kernels.lapack cimport (lapack_t, lapack_int, getrf, getrs, laswp, trsm_unit_lower,
                                   gemm_minus)
from lucy._kernels cimport matrix as mk
from lucy._kernels cimport plan as pl
from lucy._kernels.plan cimport Plan, SolvePlan, plan_factor, plan_solve, active, select_kernels
from lucy._kernels.kernels cimport (lucy_kernels, lucy_kernels_of, lucy_tiers_built,
                                    lucy_tiers_supported, LUCY_LANES, LUCY_LANES_MAX_N,
                                    LUCY_COLUMNS_GROUP, LUCY_COLUMNS_MAX_N)
from lucy._kernels.openmp cimport (lucy_team, lucy_team_init, lucy_team_hold, lucy_team_release,
                                   LUCY_OPENMP_ENABLED, LUCY_THREADS_PER_CPU, omp_get_max_threads,
                                   omp_get_thread_num)

cdef extern from "output_cache.h" nogil:
    size_t LUCY_CACHE_MIN_BYTES
    void* lucy_output_handler_address "(&lucy_output_handler)"
    void lucy_cache_configure(size_t limit)
    void lucy_cache_release()
    void lucy_cache_state(int* count, size_t* nbytes, size_t* limit)

cdef extern from "numpy/arrayobject.h":
    object PyDataMem_SetHandler(object handler)

cnp.import_array()

cdef enum:
    MAX_BATCH_DIMS = 64             # NumPy's NPY_MAXDIMS
    # Per-matrix status codes beyond LAPACK's own info (0 or a column > 0).
    NONFINITE = -2147483647 - 1     # the matrix holds inf or NaN
    BAD_PIVOT = -2147483647         # a pivot outside [0, M) (lu_solve)

INFO_NONFINITE = NONFINITE
INFO_BAD_PIVOT = BAD_PIVOT
# Matrices up to this size in both dimensions never reach LAPACK.
SMALL_N = pl.SMALL_N
SOLVE_KERNEL_MAX_NRHS = pl.SOLVE_KERNEL_MAX_NRHS
SOLVE_BLOCKS_MIN = pl.SOLVE_BLOCKS_MIN
# float32/float64/complex128 matrices up to this size, rows a multiple of
# the SIMD register's, take a columns kernel (where the tier has them).
COLUMNS_MAX_N = LUCY_COLUMNS_MAX_N
# float32/float64 matrices with min(M, N) above COLUMNS_MAX_N and up to this,
# rows a multiple of the SIMD register's, take the blocked LU on those panels.
PANELS_MAX_N = pl.PANELS_MAX_K - 1
cdef enum:
    # Matrices (systems) handed to a lane kernel per call, LUCY_LANES of
    # them side by side at a time: the kernels are reached through the
    # tier's table, and a call per LUCY_LANES cost time (bench/kernels.md).
    LANES_CHUNK = 32
    LANES_CHUNK_GROUPS = 8      # LANES_CHUNK / LUCY_LANES
# Matrices the tiny-matrix kernel takes per call (lu's and lu_solve's
# scratch is per matrix).
LANES = LANES_CHUNK
assert LANES_CHUNK == LANES_CHUNK_GROUPS * LUCY_LANES
# The cap on threads per usable core (lucy/_threads.py).
THREADS_PER_CPU = LUCY_THREADS_PER_CPU


# ---------------------------------------------------------------------------
# Output memory (output_cache.h): large outputs whose pages a later call
# takes back without faults

OUTPUT_CACHE_MIN_BYTES = LUCY_CACHE_MIN_BYTES
cdef object _output_handler = PyCapsule_New(lucy_output_handler_address, "mem_handler", NULL)


def cached_output(make, *args):
    """``make(*args)`` (np.empty or np.zeros) with its memory from lucy's
    output cache; the array keeps the cache's handler for its free."""
    previous = PyDataMem_SetHandler(_output_handler)
    try:
        return make(*args)
    finally:
        PyDataMem_SetHandler(previous)


def configure_output_cache(size_t limit):
    """Keep at most ``limit`` bytes of freed outputs (0: none)."""
    lucy_cache_configure(limit)


def release_output_cache():
    lucy_cache_release()


def output_cache_state():
    """(blocks kept, bytes kept, byte limit)."""
    cdef int count
    cdef size_t nbytes, limit
    lucy_cache_state(&count, &nbytes, &limit)
    return count, nbytes, limit


_KERNEL_NAMES = {pl.KERNEL_SCALAR: "scalar", pl.KERNEL_COLUMNS: "columns",
                 pl.KERNEL_PANELS: "panels", pl.KERNEL_GETRF: "getrf",
                 pl.KERNEL_BLOCKED: "blocked"}
FactorPlan = collections.namedtuple("FactorPlan", "kernel tier lanes reaches_lapack threads_inside")
SolvePlanInfo = collections.namedtuple("SolvePlan",
                                       "kernel tier lanes reaches_lapack threads_inside")
_SOLVE_KERNEL_NAMES = {pl.SOLVE_SMALL: "scalar", pl.SOLVE_GETRS: "getrs",
                       pl.SOLVE_KERNEL: "substitutions", pl.SOLVE_BLOCKS: "blocks"}


def factor_plan(dtype, Py_ssize_t m, Py_ssize_t n):
    """How lucy factors m x n matrices of ``dtype`` (float32/64,
    complex64/128) at the active tier (plan_factor of _kernels/plan.pxd):
    ``kernel`` for one matrix ("scalar", "columns", "panels", "getrf",
    "blocked"), ``tier`` whose SIMD kernels run (the active one, or a
    narrower one it falls back to), ``lanes`` (batches go four at a time
    through the lane kernel), ``reaches_lapack`` (LAPACK or BLAS is called, so BLAS must be
    kept at one thread while several matrices run in parallel) and
    ``threads_inside`` (the kernel uses threads within one matrix)."""
    cdef Plan p = plan_factor(dtype_code(dtype), m, n, active())
    return FactorPlan(_KERNEL_NAMES[p.kernel], p.simd.name.decode(), p.lanes, p.reaches_lapack,
                      p.threads_inside)


def solve_plan(dtype, Py_ssize_t m, int trans, Py_ssize_t nrhs=1):
    """How lucy solves op(A) X = B, ``nrhs`` right-hand sides, with the
    factors of m x m matrices of ``dtype`` (plan_solve): ``kernel``
    "substitutions" (the tier's, solve.c.in), "scalar" (matrix.pxd's, in a
    build without tiers), "getrs" (LAPACK's) or "blocks" (matrix.pxd's
    blocked substitutions by BLAS calls), ``tier``, ``lanes``,
    ``reaches_lapack``, ``threads_inside`` (threads work within one
    system)."""
    cdef SolvePlan p = plan_solve(dtype_code(dtype), m, nrhs, trans, active())
    return SolvePlanInfo(_SOLVE_KERNEL_NAMES[p.kernel], p.simd.name.decode(), p.lanes,
                         p.reaches_lapack, p.threads_inside)


# The SIMD tier this module runs: LUCY_KERNELS (auto, portable, avx2,
# avx512, neon), read once, here; a tier the build or the CPU lacks fails
# the import with a message naming what they have.
select_kernels(os.environ.get("LUCY_KERNELS", "auto"))


def kernel_tier():
    """The SIMD tier the kernels run at: "portable", "avx2", "avx512" or
    "neon" (LUCY_KERNELS, or the best one this build and CPU have)."""
    return active().name.decode()


def kernel_tiers_built():
    """The tiers compiled into this build, in lucy's order of preference
    (worst first)."""
    return pl.tier_names(lucy_tiers_built())


def kernel_tiers_supported():
    """The tiers this build has that this CPU can run."""
    return pl.tier_names(lucy_tiers_built() & pl.cpu_tiers())


def kernel_families():
    """What the active tier has: {"lanes": {dtype name: (largest n of the
    lane LU, of the lane solve)}, "columns": bool, "columns_max_n": {dtype
    name: largest m and n of the columns kernel}, "panels": bool, "rows":
    {dtype name: [rows of each columns kernel's register, the tier's own
    first, then narrower tiers' (m must be a multiple of one)]}}."""
    cdef const lucy_kernels* k = active()
    cdef const lucy_kernels* t
    rows, lanes = {}, {}
    for name, code in (("float32", pl.DTYPE_S), ("float64", pl.DTYPE_D), ("complex128", pl.DTYPE_Z)):
        lanes[name] = (pl.lanes_getrf_max_n(code, k), pl.lanes_getrs_max_n(code, k))
        rows[name] = []
        t = k
        while t != NULL:
            if pl.columns_rows(code, t):
                rows[name].append(pl.columns_rows(code, t))
            t = t.narrower
    return {"lanes": lanes, "columns": k.columns_getf2_d != NULL,
            "columns_max_n": {"float32": k.columns_max_n_s, "float64": k.columns_max_n_d,
                              "complex128": k.columns_max_n_z},
            "panels": pl.panel_cols(pl.DTYPE_D, k) > 0 and k.columns_getf2_d != NULL,
            "rows": rows}


def _use_kernels(name):
    """Run this module's kernels at tier ``name`` from now on (as
    LUCY_KERNELS=name would at import; RuntimeError if not available). For
    the tests and bench/run.py, which compare tiers in one process; never
    while a call runs. lucy.cython_lu has its own switch."""
    select_kernels(name)


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP."""
    return bool(LUCY_OPENMP_ENABLED)


def openmp_max_threads():
    """Threads an OpenMP region started now from this thread would get
    (OMP_NUM_THREADS, omp_set_num_threads, threadpoolctl limits)."""
    return omp_get_max_threads()


def factor_work(Py_ssize_t m, Py_ssize_t n):
    """Multiply-adds of one m x n LU and its copy (plan.pxd's factor_work),
    the measure behind the thread decisions."""
    return pl.factor_work(m, n)


def solve_work(dtype, Py_ssize_t m, Py_ssize_t nrhs):
    """Real multiply-adds of one system's substitutions (plan.pxd)."""
    return pl.solve_work(dtype_code(dtype), m, nrhs)


def lapack_int_size():
    """Bytes in a LAPACK integer as compiled in (4: LP64)."""
    return sizeof(lapack_int)


# ---------------------------------------------------------------------------
# Operand descriptions

cdef struct Batch:
    int ndim
    Py_ssize_t size
    Py_ssize_t shape[MAX_BATCH_DIMS]

cdef struct Operand:
    char* data
    Py_ssize_t row_stride       # bytes between rows (axis -2)
    Py_ssize_t col_stride       # bytes between columns (axis -1)
    Py_ssize_t strides[MAX_BATCH_DIMS]


cdef void describe(cnp.ndarray arr, int core_ndim, Batch* batch,
                   Operand* op) noexcept:
    """Fill ``op`` for ``arr`` whose leading dims are ``batch``'s shape."""
    cdef int d, nd = cnp.PyArray_NDIM(arr)
    cdef cnp.npy_intp* strides = cnp.PyArray_STRIDES(arr)
    op.data = <char*>cnp.PyArray_DATA(arr)
    op.row_stride = strides[nd - core_ndim] if core_ndim >= 1 else 0
    op.col_stride = strides[nd - core_ndim + 1] if core_ndim >= 2 else 0
    for d in range(batch.ndim):
        op.strides[d] = strides[d]


cdef Batch batch_of(cnp.ndarray arr, int core_ndim) except *:
    cdef Batch b
    cdef int d
    b.ndim = cnp.PyArray_NDIM(arr) - core_ndim
    if b.ndim > MAX_BATCH_DIMS:
        raise ValueError("too many batch dimensions")
    b.size = 1
    for d in range(b.ndim):
        b.shape[d] = cnp.PyArray_DIM(arr, d)
        b.size *= b.shape[d]
    return b


cdef void collapse(Batch* b, Operand** ops, int nops) noexcept:
    """Merge adjacent batch dimensions that every operand walks as one
    (stride[d] == stride[d+1] * shape[d+1]) and drop length-1 dimensions, so
    the usual case becomes one dimension and offsets need no division."""
    cdef int d, out = 0, k
    cdef bint mergeable
    for d in range(b.ndim):
        if b.shape[d] == 1:
            continue
        mergeable = out > 0
        if mergeable:
            for k in range(nops):
                if ops[k].strides[out - 1] != ops[k].strides[d] * b.shape[d]:
                    mergeable = False
                    break
        if mergeable:
            b.shape[out - 1] *= b.shape[d]
            for k in range(nops):
                ops[k].strides[out - 1] = ops[k].strides[d]
        else:
            b.shape[out] = b.shape[d]
            for k in range(nops):
                ops[k].strides[out] = ops[k].strides[d]
            out += 1
    b.ndim = out


cdef inline char* at(const Batch* b, const Operand* op, Py_ssize_t i) noexcept nogil:
    """Address of batch item ``i`` (C order over the batch shape) of ``op``."""
    cdef Py_ssize_t off = 0, d
    if b.ndim == 1:
        return op.data + i * op.strides[0]
    for d in range(b.ndim - 1, -1, -1):
        off += (i % b.shape[d]) * op.strides[d]
        i = i // b.shape[d]
    return op.data + off


cdef int type_num_code(int t) noexcept:
    """The one dtype dispatch: 0..3 (plan.pxd's DTYPE_S .. DTYPE_Z) for the
    NumPy type numbers of float32, float64, complex64, complex128; -1 else."""
    if t == cnp.NPY_FLOAT32:
        return pl.DTYPE_S
    if t == cnp.NPY_FLOAT64:
        return pl.DTYPE_D
    if t == cnp.NPY_COMPLEX64:
        return pl.DTYPE_C
    if t == cnp.NPY_COMPLEX128:
        return pl.DTYPE_Z
    return -1


cdef int dtype_code(dtype) except -1:
    dtype = np.dtype(dtype)
    cdef int code = type_num_code(dtype.num)
    if code < 0:
        raise TypeError(f"lucy kernels take float32/64 or complex64/128, not {dtype}")
    return code


cdef int type_index(cnp.ndarray arr) except -1:
    return dtype_code(arr.dtype)


# ---------------------------------------------------------------------------
# Scheduling
#
# Every loop runs as ``prange`` over BLOCKS of consecutive batch items, and
# each block is handled by an ordinary (not inlined) function that copies the
# operand descriptions into locals. Inlining the item loop straight into the
# OpenMP region made GCC reload every shared value per item and give up on
# specialising the tiny-matrix code: 2 threads ran slower than 1 at n = 4.

cdef inline Py_ssize_t block_length(Py_ssize_t size, int num_threads) noexcept nogil:
    # About 16 blocks per thread: dynamic scheduling can then even out a core
    # that is busy with something else, while scheduling costs stay nil.
    cdef Py_ssize_t length = size // (16 * <Py_ssize_t>num_threads)
    return length if length > 0 else 1


# ---------------------------------------------------------------------------
# Large matrices: a blocked LU whose parallel split does not depend on the
# number of threads
#
# OpenBLAS's threaded getrf rounds differently for different thread counts,
# so lucy keeps BLAS at one thread and parallelises large matrices itself:
# right-looking blocked LU, each panel of BLOCK_NB columns factored by
# LAPACK's getrf (one thread), then the trailing columns updated in tiles of
# BLOCK_TILE columns (row swaps, triangular solve, matrix product), one tile
# per task. The tiles are the same whatever the thread count, and each is
# computed by one-thread BLAS, so every thread count gives the same bits.
#
# Look-ahead: the task that updates the NEXT panel's columns goes on to
# factor that panel, so no thread waits for a serial panel factorisation.
# No barrier between steps either: the threads take tasks in one fixed order
# from a ticket (task_queue.h), and a task waits only for what it reads (its
# panel, and its columns' update by the step before), so a thread starts the
# next step's tiles while the last tile of this step is still running.
# Every matrix plan_factor gives KERNEL_BLOCKED (min(M, N) >= BLOCKED_MIN)
# takes this path, parallel or not.

cdef extern from "task_queue.h" nogil:
    int64_t lucy_counter_get(const int64_t* c)
    void lucy_counter_set(int64_t* c, int64_t v)
    int64_t lucy_counter_take(int64_t* c)
    void lucy_counter_wait(const int64_t* c, int64_t at_least)

cdef enum:
    BLOCK_NB = 128
    BLOCK_TILE = 384

BLOCKED_MIN_N = pl.BLOCKED_MIN


cdef struct Schedule:
    # One blocked LU's shared state. Tickets [0, step_tasks) are the steps'
    # tasks, step by step; the rest, one per panel but the last, apply the
    # row swaps of the later panels to that panel's L columns.
    Py_ssize_t m, n, k, lda, steps
    int64_t ticket
    int64_t step_tasks, tasks
    int64_t panels_ready        # panels factored so far
    # Per ticket of a step task (NULL when no memory could be had for them):
    int64_t* done               # 1 once the task has finished
    int64_t* swapped_early      # 1 if it gave its columns the next step's swaps
    int64_t* finished           # per step: its tasks finished
    bint waits                  # False on one thread: every wait is met
    lapack_int info


cdef inline Py_ssize_t panel_width(Py_ssize_t s, Py_ssize_t k) noexcept nogil:
    """Columns of panel s (0 past the last panel)."""
    cdef Py_ssize_t rest = k - s * BLOCK_NB
    return BLOCK_NB if rest > BLOCK_NB else (rest if rest > 0 else 0)


cdef inline Py_ssize_t first_tile_column(Py_ssize_t s, Py_ssize_t k) noexcept nogil:
    """Where step s's tiles start: after panel s and the next panel."""
    return s * BLOCK_NB + panel_width(s, k) + panel_width(s + 1, k)


cdef inline Py_ssize_t tasks_of_step(Py_ssize_t s, Py_ssize_t n,
                                     Py_ssize_t k) noexcept nogil:
    """Step s (panel s): a look-ahead task when a next panel exists, then
    the tiles of the columns after it."""
    return ((n - first_tile_column(s, k) + BLOCK_TILE - 1) // BLOCK_TILE
            + (1 if panel_width(s + 1, k) > 0 else 0))


cdef inline void task_columns(Py_ssize_t s, Py_ssize_t t, Py_ssize_t n,
                              Py_ssize_t k, Py_ssize_t* c0,
                              Py_ssize_t* c1) noexcept nogil:
    """The columns [c0, c1) that task t of step s updates."""
    cdef Py_ssize_t first = first_tile_column(s, k)
    if panel_width(s + 1, k) > 0:
        if t == 0:
            c0[0] = (s + 1) * BLOCK_NB
            c1[0] = first
            return
        t -= 1
    c0[0] = first + t * BLOCK_TILE
    c1[0] = c0[0] + BLOCK_TILE if c0[0] + BLOCK_TILE <= n else n


cdef lapack_int factor_panel(Py_ssize_t m, Py_ssize_t j0, Py_ssize_t jb,
                             lapack_t* a, Py_ssize_t lda,
                             lapack_int* ipiv) noexcept nogil:
    """getrf of the panel of columns [j0, j0 + jb), rows [j0, m); its 1-based
    pivots made absolute in ipiv[j0:j0 + jb]; info relative to column 0."""
    cdef lapack_int iinfo = 0
    cdef Py_ssize_t i
    getrf(<lapack_int>(m - j0), <lapack_int>jb, a + j0 + j0 * lda,
          <lapack_int>lda, ipiv + j0, &iinfo)
    for i in range(j0, j0 + jb):
        ipiv[i] += <lapack_int>j0
    return <lapack_int>(iinfo + j0) if iinfo > 0 else 0


cdef inline void swap_rows(Schedule* sc, Py_ssize_t s, Py_ssize_t c0,
                           Py_ssize_t c1, lapack_t* a,
                           lapack_int* ipiv) noexcept nogil:
    """Panel s's row interchanges on columns [c0, c1)."""
    cdef Py_ssize_t j0 = s * BLOCK_NB
    if c1 > c0:
        mk.laswp_prefetching(c1 - c0, a + c0 * sc.lda, sc.lda, j0 + 1,
                             j0 + panel_width(s, sc.k), ipiv)


cdef void wait_and_swap(Schedule* sc, Py_ssize_t s, int64_t prev_first,
                        Py_ssize_t c0, Py_ssize_t c1, lapack_t* a,
                        lapack_int* ipiv) noexcept nogil:
    """Wait until step s - 1 (whose tickets start at prev_first) is done with
    columns [c0, c1), then give them panel s's row swaps, but for the
    columns a task of step s - 1 already gave them to."""
    cdef Py_ssize_t u, u_last, u0, u1
    cdef int64_t ticket
    if s == 0 or sc.done == NULL:
        swap_rows(sc, s, c0, c1, a, ipiv)
        return
    # Step s's columns are the tiles of step s - 1, which has a look-ahead
    # task (panel s), so tile u of step s - 1 is its task u + 1.
    u = (c0 - first_tile_column(s - 1, sc.k)) // BLOCK_TILE
    u_last = (c1 - 1 - first_tile_column(s - 1, sc.k)) // BLOCK_TILE
    while u <= u_last:
        ticket = prev_first + u + 1
        if sc.waits:
            lucy_counter_wait(&sc.done[ticket], 1)
        if not sc.swapped_early[ticket]:
            task_columns(s - 1, u + 1, sc.n, sc.k, &u0, &u1)
            swap_rows(sc, s, u0 if u0 > c0 else c0, u1 if u1 < c1 else c1, a, ipiv)
        u += 1


cdef void step_task(Schedule* sc, Py_ssize_t s, Py_ssize_t t, int64_t ticket,
                    int64_t prev_first, lapack_t* a,
                    lapack_int* ipiv) noexcept nogil:
    """Task t of step s (ticket ``ticket``; step s - 1's start at
    prev_first). With a next panel, task 0 updates its columns and factors
    it, and the tiles start after it.

    A tile that finds the next panel already factored gives its columns that
    panel's row swaps at once, while some of them are still in cache from
    the update, instead of a step later (row swaps: 8.7 -> 7.1% of the CPU
    time at 3000 x 3000 on one thread; 406 -> 403 ms, and 210 -> 206 ms on
    two). The swaps are a permutation: when they happen changes no bit."""
    cdef Py_ssize_t j0 = s * BLOCK_NB, jb = panel_width(s, sc.k), c0, c1
    cdef bint look_ahead = t == 0 and panel_width(s + 1, sc.k) > 0
    cdef bint early
    cdef lapack_int info
    task_columns(s, t, sc.n, sc.k, &c0, &c1)
    if sc.waits:
        lucy_counter_wait(&sc.panels_ready, s + 1)
    wait_and_swap(sc, s, prev_first, c0, c1, a, ipiv)
    solve_and_subtract(sc.m, a, sc.lda, j0, jb, c0, c1 - c0)
    if look_ahead:
        # Panels are factored in order (each waits for the one before), so
        # the first singular panel's info is the one kept.
        info = factor_panel(sc.m, c0, c1 - c0, a, sc.lda, ipiv)
        if info > 0 and sc.info == 0:
            sc.info = info
        lucy_counter_set(&sc.panels_ready, s + 2)
    elif sc.done != NULL and panel_width(s + 1, sc.k) > 0:
        early = lucy_counter_get(&sc.panels_ready) >= s + 2
        if early:
            swap_rows(sc, s + 1, c0, c1, a, ipiv)
        sc.swapped_early[ticket] = early
    if sc.done != NULL:
        lucy_counter_set(&sc.done[ticket], 1)
        lucy_counter_take(&sc.finished[s])


cdef void swap_task(Schedule* sc, Py_ssize_t p, lapack_t* a,
                    lapack_int* ipiv) noexcept nogil:
    """Panel p's L columns take the row swaps of all the panels after it, as
    LAPACK's recursive getrf does at the end; once every panel is factored
    and step p (the one that reads these columns) is done."""
    if sc.waits:
        lucy_counter_wait(&sc.panels_ready, sc.steps)
        lucy_counter_wait(&sc.finished[p], tasks_of_step(p, sc.n, sc.k))
    mk.laswp_prefetching(BLOCK_NB, a + p * BLOCK_NB * sc.lda, sc.lda, (p + 1) * BLOCK_NB + 1,
                         sc.k, ipiv)


cdef void blocked_worker(Schedule* sc, lapack_t* a,
                         lapack_int* ipiv) noexcept nogil:
    """Take tasks until none is left. Tickets only grow, so the step of the
    next task is found by walking forward from the last one."""
    cdef int64_t ticket, first = 0, prev_first = 0
    cdef Py_ssize_t s = 0, count = tasks_of_step(0, sc.n, sc.k)
    while True:
        ticket = lucy_counter_take(&sc.ticket)
        if ticket >= sc.tasks:
            return
        if ticket >= sc.step_tasks:
            swap_task(sc, <Py_ssize_t>(ticket - sc.step_tasks), a, ipiv)
            continue
        while ticket >= first + count:
            prev_first = first
            first += count
            s += 1
            count = tasks_of_step(s, sc.n, sc.k)
        step_task(sc, s, <Py_ssize_t>(ticket - first), ticket, prev_first, a, ipiv)


cdef lapack_int factor_blocked(Py_ssize_t m, Py_ssize_t n, lapack_t* a,
                               Py_ssize_t lda, int32_t* piv,
                               int num_threads) noexcept nogil:
    """LU of the column-major m x n ``a`` in place, 0-based pivots to piv;
    LAPACK's info. Uses up to ``num_threads`` threads, same bits for any."""
    cdef Schedule sc
    cdef lapack_int* ipiv = <lapack_int*>piv    # same type; 1-based until the end
    cdef Py_ssize_t s, i
    cdef int64_t* counters
    sc.m = m
    sc.n = n
    sc.k = m if m < n else n
    sc.lda = lda
    sc.steps = (sc.k + BLOCK_NB - 1) // BLOCK_NB
    sc.ticket = 0
    sc.step_tasks = 0
    for s in range(sc.steps):
        sc.step_tasks += tasks_of_step(s, n, sc.k)
    sc.tasks = sc.step_tasks + sc.steps - 1
    counters = <int64_t*>calloc(2 * sc.step_tasks + sc.steps, sizeof(int64_t))
    # Without memory for the counters the tasks run in ticket order on this
    # thread, where every wait is met, and no swap is taken early.
    sc.done = counters
    sc.swapped_early = counters + sc.step_tasks if counters != NULL else NULL
    sc.finished = counters + 2 * sc.step_tasks if counters != NULL else NULL
    sc.waits = counters != NULL and num_threads > 1
    sc.info = factor_panel(m, 0, panel_width(0, sc.k), a, lda, ipiv)
    sc.panels_ready = 1
    cdef lucy_team team
    if sc.waits:
        lucy_team_init(&team, True)
        with parallel(num_threads=num_threads):
            lucy_team_hold(&team)
            blocked_worker(&sc, a, ipiv)
            lucy_team_release()
    else:
        blocked_worker(&sc, a, ipiv)
    free(counters)
    for i in range(sc.k):
        piv[i] -= 1
    return sc.info


cdef void solve_and_subtract(Py_ssize_t m, lapack_t* a, Py_ssize_t lda,
                             Py_ssize_t j0, Py_ssize_t jb, Py_ssize_t c0,
                             Py_ssize_t cw) noexcept nogil:
    """Columns [c0, c0 + cw) after the panel at j0 (jb columns), their rows
    swapped: solve with the panel's unit L, subtract the panel's product."""
    trsm_unit_lower(<lapack_int>jb, <lapack_int>cw, a + j0 + j0 * lda,
                    <lapack_int>lda, a + j0 + c0 * lda, <lapack_int>lda)
    if m > j0 + jb:
        gemm_minus(<lapack_int>(m - j0 - jb), <lapack_int>cw, <lapack_int>jb,
                   a + (j0 + jb) + j0 * lda, <lapack_int>lda,
                   a + j0 + c0 * lda, <lapack_int>lda,
                   a + (j0 + jb) + c0 * lda, <lapack_int>lda)


cdef inline lapack_int factor_matrix(const Plan* plan, Py_ssize_t m, Py_ssize_t n,
                                     lapack_t* a, Py_ssize_t lda, int32_t* piv,
                                     int inner_threads) noexcept nogil:
    """One matrix by the kernel of its plan (plan_factor)."""
    if plan.kernel == pl.KERNEL_BLOCKED:
        return factor_blocked(m, n, a, lda, piv, inner_threads)
    return mk.factor_planned(plan, m, n, a, lda, piv)


# ---------------------------------------------------------------------------
# Tiny matrices, four at a time (lanes.c.in)

cdef inline void lanes_getrf(const lucy_kernels* k, Py_ssize_t n, Py_ssize_t count,
                             const char** srcs, Py_ssize_t rs, Py_ssize_t cs, lapack_t** dsts,
                             int32_t** pivs, int32_t** stats, bint check_finite) noexcept nogil:
    """Factor count (a multiple of LUCY_LANES, up to LANES_CHUNK) matrices
    by k's lane kernel: srcs[w] by byte strides into column-major dsts[w]
    (ld n), 0-based pivots and status per matrix."""
    cdef double* zd[LANES_CHUNK]    # complex128: see mk.columns_getf2
    cdef Py_ssize_t w
    if lapack_t is double:
        k.lanes_getrf_d(<int>n, count, srcs, rs, cs, dsts, pivs, stats, check_finite)
    elif lapack_t is float:
        k.lanes_getrf_s(<int>n, count, srcs, rs, cs, dsts, pivs, stats, check_finite)
    elif lapack_t is cython.doublecomplex:
        for w in range(count):
            zd[w] = <double*>dsts[w]
        k.lanes_getrf_z(<int>n, count, srcs, rs, cs, zd, pivs, stats, check_finite)


# ---------------------------------------------------------------------------
# lu_factor

cdef inline Py_ssize_t packed_extent(const Batch* b, const Operand* op,
                                     Py_ssize_t first, Py_ssize_t count,
                                     Py_ssize_t m, Py_ssize_t n, Py_ssize_t sz,
                                     const char** low) noexcept nogil:
    """The bytes from the lowest to past the highest element of items
    [first, first + count) of ``op`` (m x n, ``sz``-byte elements), lowest
    address in ``low``, if they lie packed (no more bytes than they hold:
    nothing else's memory between them); else 0."""
    cdef Py_ssize_t i, rs = op.row_stride, cs = op.col_stride
    # (a length-1 axis's stride is multiplied by 0: numpy may give it any)
    cdef Py_ssize_t below = ((m - 1) * rs if rs < 0 else 0) + ((n - 1) * cs if cs < 0 else 0)
    cdef Py_ssize_t above = ((m - 1) * rs if rs > 0 else 0) + ((n - 1) * cs if cs > 0 else 0) + sz
    cdef const char* lo
    cdef const char* hi
    cdef const char* item
    if count <= 0:
        return 0
    lo = at(b, op, first) + below
    hi = at(b, op, first) + above
    for i in range(first + 1, first + count):
        item = at(b, op, i)
        if item + below < lo:
            lo = item + below
        if item + above > hi:
            hi = item + above
    if hi - lo > count * m * n * sz:
        return 0
    low[0] = lo
    return hi - lo


cdef inline void factor_group(const lucy_kernels* k, Py_ssize_t count, Py_ssize_t m,
                              Py_ssize_t n, lapack_t** a, Py_ssize_t lda, int32_t** piv,
                              int32_t** status, const char* ahead,
                              Py_ssize_t ahead_bytes, lapack_t** out,
                              Py_ssize_t out_lda) noexcept nogil:
    """k's columns kernel on ``count`` matrices, their LAPACK infos into
    status[q][0]; then, unless ``out`` is NULL, each matrix streamed to
    out[q] (leading dimension out_lda) by the active tier's streaming copy."""
    cdef int32_t info[LUCY_COLUMNS_GROUP]
    cdef Py_ssize_t q, sz = <Py_ssize_t>sizeof(lapack_t)
    mk.columns_getf2(k, count, m, n, a, lda, piv, info, ahead, ahead_bytes)
    for q in range(count):
        status[q][0] = info[q]
        if out != NULL:
            active().stream_columns(<char*>out[q], out_lda * sz, <const char*>a[q], m * sz, n)


cdef inline void factor_items(lapack_t* tag, const Plan* plan, Py_ssize_t start,
                              Py_ssize_t stop,
                              const Batch* b, const Operand* src,
                              const Operand* lu, const Operand* piv,
                              int32_t* info, Py_ssize_t m, Py_ssize_t n,
                              Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t lda,
                              bint in_place, bint check_finite,
                              int inner_threads) noexcept nogil:
    """Items [start, stop): load (unless in place), check, factor; item i's
    status goes to info[i - start]. Matrices for the vectorised kernel are
    factored in groups, side by side: in a big batch, in ``scratch``, from
    where they are streamed to the output (see LUCY_STREAM_MIN_BYTES)."""
    cdef Py_ssize_t i, count = 0, sz = <Py_ssize_t>sizeof(lapack_t)
    cdef bint finite
    # (a complex128 matrix takes the room of a real one twice as tall)
    cdef Py_ssize_t rows = 2 * m if lapack_t is cython.doublecomplex else m
    cdef Py_ssize_t group = (mk.lucy_columns_group(rows, n)
                             if plan.kernel == pl.KERNEL_COLUMNS else 0)
    cdef double scratch[mk.LUCY_STREAM_SCRATCH_DOUBLES]
    cdef bint streamed = (not in_place and group > 0 and active().stream_columns != NULL
                          and b.size * m * n * sz >= mk.LUCY_STREAM_MIN_BYTES
                          and group * m * n * sz <= <Py_ssize_t>sizeof(scratch))
    cdef Py_ssize_t ld = m if streamed else lda     # where the kernel works
    cdef lapack_t* a
    cdef lapack_t* out
    cdef int32_t* status
    cdef lapack_t* group_a[LUCY_COLUMNS_GROUP]
    cdef lapack_t* group_out[LUCY_COLUMNS_GROUP]
    cdef int32_t* group_piv[LUCY_COLUMNS_GROUP]
    cdef int32_t* group_status[LUCY_COLUMNS_GROUP]
    cdef const char* ahead = NULL
    cdef Py_ssize_t ahead_bytes
    cdef const Operand* read_next = lu if in_place else src
    for i in range(start, stop):
        out = <lapack_t*>at(b, lu, i)
        a = <lapack_t*>scratch + count * m * n if streamed else out
        status = info + (i - start)
        if in_place:
            finite = not check_finite or mk.all_finite(a, m, n, lda)
        else:
            finite = mk.load_fortran(at(b, src, i), rs, cs, a, m, n, ld, check_finite)
        if not finite:
            status[0] = NONFINITE
            if streamed:    # the output holds the copy, as on the other paths
                active().stream_columns(<char*>out, lda * sz, <const char*>a, m * sz, n)
            continue
        if group == 0:
            status[0] = factor_matrix(plan, m, n, a, lda, <int32_t*>at(b, piv, i),
                                      inner_threads)
            continue
        group_a[count] = a
        group_out[count] = out
        group_piv[count] = <int32_t*>at(b, piv, i)
        group_status[count] = status
        count += 1
        if count == group:
            # The next group's matrices are read right after: see
            # columns_fetch_ahead in columns.c.in.
            ahead_bytes = packed_extent(b, read_next, i + 1, min(group, stop - i - 1),
                                        m, n, sz, &ahead)
            factor_group(plan.simd, count, m, n, group_a, ld, group_piv, group_status, ahead,
                         ahead_bytes, group_out if streamed else NULL, lda)
            count = 0
    if count:   # the last, incomplete group
        factor_group(plan.simd, count, m, n, group_a, ld, group_piv, group_status, NULL, 0,
                     group_out if streamed else NULL, lda)
    if streamed:
        active().stream_fence()


cdef inline void factor_span(lapack_t* tag, const Plan* plan, Py_ssize_t start,
                             Py_ssize_t stop,
                             const Batch* b, const Operand* ops, Py_ssize_t m,
                             Py_ssize_t n, bint in_place, bint check_finite,
                             int inner_threads, int32_t* info) noexcept nogil:
    """Factor items [start, stop) of ops (src, lu, piv); item i's status goes
    to info[i - start]."""
    cdef const Operand* src = &ops[0]
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t), i = start, w
    # numpy gives a length-1 axis any stride: with one column, lda is moot.
    cdef Py_ssize_t lda = ops[1].col_stride // sz if n > 1 else m
    cdef Py_ssize_t count
    cdef const char* srcs[LANES_CHUNK]
    cdef lapack_t* dsts[LANES_CHUNK]
    cdef int32_t* pivs[LANES_CHUNK]
    cdef int32_t* stats[LANES_CHUNK]
    if not in_place and lda == n and plan.lanes:
        # Tiny matrices: four at a time, one per SIMD lane.
        while i + LUCY_LANES <= stop:
            count = min(LANES_CHUNK, (stop - i) // LUCY_LANES * LUCY_LANES)
            for w in range(count):
                srcs[w] = at(b, src, i + w)
                dsts[w] = <lapack_t*>at(b, &ops[1], i + w)
                pivs[w] = <int32_t*>at(b, &ops[2], i + w)
                stats[w] = info + (i + w - start)
            lanes_getrf(plan.simd, n, count, srcs, src.row_stride, src.col_stride, dsts,
                        pivs, stats, check_finite)
            i += count
    factor_items(tag, plan, i, stop, b, src, &ops[1], &ops[2], info + (i - start), m, n,
                 src.row_stride, src.col_stride, lda, in_place, check_finite,
                 inner_threads)


# lu_factor needs no per-matrix status, only what it warns or raises about:
# then each thread folds its items' statuses, a chunk at a time, into four
# numbers, and the Python layer gets the fold over the threads. That keeps
# the batch-sized status array (4 bytes a matrix, the only memory beyond the
# outputs) out of lu_factor. Every field is a minimum or a sum, so the
# result does not depend on how items were spread over threads.
cdef enum:
    STATUS_CHUNK = 64           # a multiple of LANES_CHUNK and of every group
    FIRST_NONFINITE = 0         # lowest batch index holding inf/NaN, or size
    SINGULAR_COUNT = 1          # how many matrices are singular
    FIRST_SINGULAR = 2          # lowest singular batch index, or size
    FIRST_SINGULAR_INFO = 3     # its LAPACK info (first zero pivot, 1-based)
    SUMMARY_FIELDS = 4


cdef void summary_clear(int64_t* summary, Py_ssize_t size) noexcept nogil:
    summary[FIRST_NONFINITE] = size
    summary[SINGULAR_COUNT] = 0
    summary[FIRST_SINGULAR] = size
    summary[FIRST_SINGULAR_INFO] = 0


cdef void summary_merge(int64_t* into, const int64_t* other) noexcept nogil:
    if other[FIRST_NONFINITE] < into[FIRST_NONFINITE]:
        into[FIRST_NONFINITE] = other[FIRST_NONFINITE]
    into[SINGULAR_COUNT] += other[SINGULAR_COUNT]
    if other[FIRST_SINGULAR] < into[FIRST_SINGULAR]:
        into[FIRST_SINGULAR] = other[FIRST_SINGULAR]
        into[FIRST_SINGULAR_INFO] = other[FIRST_SINGULAR_INFO]


cdef void fold_status(const int32_t* info, Py_ssize_t start, Py_ssize_t stop,
                      int64_t* summary) noexcept nogil:
    """Fold the statuses of items [start, stop) (info[i - start]) into summary."""
    cdef Py_ssize_t i
    for i in range(start, stop):
        if info[i - start] == 0:
            continue
        if info[i - start] == NONFINITE:
            if i < summary[FIRST_NONFINITE]:
                summary[FIRST_NONFINITE] = i
            continue
        summary[SINGULAR_COUNT] += 1
        if i < summary[FIRST_SINGULAR]:
            summary[FIRST_SINGULAR] = i
            summary[FIRST_SINGULAR_INFO] = info[i - start]


cdef void factor_block(lapack_t* tag, const Plan* plan, Py_ssize_t start,
                       Py_ssize_t stop,
                       const Batch* batch, const Operand* ops, Py_ssize_t m,
                       Py_ssize_t n, bint in_place, bint check_finite,
                       int inner_threads, int32_t* info,
                       int64_t* summaries) noexcept nogil:
    """Factor items [start, stop): statuses into the batch's C-contiguous
    ``info`` or, when that is NULL, folded into this thread's row of
    ``summaries``."""
    # Local copies: see "Scheduling" above.
    cdef Batch b = batch[0]
    cdef Operand local_ops[3]
    cdef int32_t chunk_info[STATUS_CHUNK]
    cdef Py_ssize_t c0, c1
    local_ops[0] = ops[0]; local_ops[1] = ops[1]; local_ops[2] = ops[2]
    if info != NULL:
        factor_span(tag, plan, start, stop, &b, local_ops, m, n, in_place, check_finite,
                    inner_threads, info + start)
        return
    c0 = start
    while c0 < stop:
        c1 = c0 + STATUS_CHUNK if c0 + STATUS_CHUNK < stop else stop
        factor_span(tag, plan, c0, c1, &b, local_ops, m, n, in_place, check_finite,
                    inner_threads, chunk_info)
        fold_status(chunk_info, c0, c1, summaries + SUMMARY_FIELDS * omp_get_thread_num())
        c0 = c1


cdef bint load_parallel(lapack_t* tag, Py_ssize_t i, const Batch* b,
                        const Operand* ops, Py_ssize_t m, Py_ssize_t n,
                        bint check_finite, int num_threads) noexcept nogil:
    """Copy item i of src (ops[0]) into lu (ops[1]), column-major, in column
    tiles over the threads; False if ``check_finite`` and it holds inf/NaN.
    Each tile is checked while it is in cache: a separate pass over the
    copy read 72 MB again on one thread at 3000 x 3000 (1% of the call)."""
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t), t, c0, cw
    cdef Py_ssize_t lda = ops[1].col_stride // sz
    cdef Py_ssize_t ntiles = (n + BLOCK_NB - 1) // BLOCK_NB
    cdef Py_ssize_t nonfinite_tiles = 0
    cdef const char* src = at(b, &ops[0], i)
    cdef lapack_t* dst = <lapack_t*>at(b, &ops[1], i)
    # A C-order float64 matrix too big to stay in cache is written by
    # streaming stores. lu_factor of 3000 x 3000, in one process, calls with
    # and without alternating: float64 0.966-0.973; complex128 (by the same
    # method) 0.989-1.001, so it copies as before.
    cdef const lucy_kernels* k = active()
    cdef bint streamed = (lapack_t is double and ops[0].col_stride == sz
                          and (<uintptr_t>dst) % 32 == 0
                          and m * n * sz >= mk.LUCY_STREAM_MIN_BYTES
                          and m % 8 == 0 and n % 4 == 0 and lda % 4 == 0
                          and k.stream_load_transposed_d != NULL)
    cdef bint finite
    cdef lucy_team team
    lucy_team_init(&team, True)
    with parallel(num_threads=num_threads):
        lucy_team_hold(&team)
        for t in prange(ntiles, schedule='static'):
            c0 = t * BLOCK_NB
            cw = BLOCK_NB if c0 + BLOCK_NB <= n else n - c0
            if streamed:
                finite = k.stream_load_transposed_d(
                    src + c0 * sz, ops[0].row_stride, m, cw, <double*>(dst + c0 * lda), lda)
                k.stream_fence()
                if check_finite and not finite:
                    nonfinite_tiles += 1
            elif not mk.load_fortran(src + c0 * ops[0].col_stride, ops[0].row_stride,
                                     ops[0].col_stride, dst + c0 * lda, m, cw, lda,
                                     check_finite):
                nonfinite_tiles += 1
        lucy_team_release()
    return nonfinite_tiles == 0


cdef void factor_loop(lapack_t* tag, const Plan* plan, const Batch* b,
                      const Operand* ops,
                      Py_ssize_t m, Py_ssize_t n, bint in_place,
                      bint check_finite, int num_threads, int32_t* info,
                      int64_t* summaries) noexcept nogil:
    cdef Py_ssize_t blk, length, nblocks, end, i
    cdef bint finite
    if not pl.threads_over_matrices(b.size, num_threads):
        # One at a time, the threads inside (only the blocked LU of large
        # matrices uses them).
        if num_threads > 1 and not in_place and plan.threads_inside:
            # Their copies into the output too: the first touch of the
            # output's pages (which the OS zeroes) and the transpose were
            # 10% of the CPU time at 3000 x 3000 (perf), all on one thread.
            # A batch found finite needs no second check; one that is not
            # takes the serial check, which names the first bad matrix.
            finite = True
            for i in range(b.size):
                finite &= load_parallel(tag, i, b, ops, m, n, check_finite, num_threads)
            in_place = True
            check_finite = check_finite and not finite
        factor_block(tag, plan, 0, b.size, b, ops, m, n, in_place, check_finite,
                     num_threads, info, summaries)
        return
    length = block_length(b.size, num_threads)
    nblocks = (b.size + length - 1) // length
    cdef lucy_team team
    lucy_team_init(&team, pl.holds_cpus(b.size * pl.factor_work(m, n)))
    with parallel(num_threads=num_threads):
        lucy_team_hold(&team)
        for blk in prange(nblocks, schedule='dynamic'):
            end = (blk + 1) * length
            factor_block(tag, plan, blk * length, end if end < b.size else b.size, b, ops,
                         m, n, in_place, check_finite, 1, info, summaries)
        lucy_team_release()


def factor(cnp.ndarray src, cnp.ndarray lu, cnp.ndarray piv, info,
           bint check_finite, int num_threads):
    """Factor every (M, N) matrix of ``src`` into ``lu`` (same dtype, each
    matrix column-major with leading dimension lu.strides[-1] / itemsize),
    0-based pivots into int32 ``piv`` (..., K).

    Statuses go into ``info``, a C-contiguous int32 array of the batch's
    shape, and None is returned. With ``info=None`` the statuses are only
    summarised and returned as (first non-finite flat batch index or None,
    number of singular matrices, first singular flat index or None, its info).

    ``src is lu`` factors in place. ``src`` may have any strides."""
    cdef Batch b = batch_of(lu, 2)
    cdef Operand ops[3]
    cdef Operand* views[3]
    cdef Py_ssize_t m = cnp.PyArray_DIM(lu, b.ndim), n = cnp.PyArray_DIM(lu, b.ndim + 1)
    cdef Py_ssize_t size = b.size
    cdef bint in_place = src is lu
    cdef int t = type_index(lu), k
    cdef Plan plan = plan_factor(t, m, n, active())
    cdef int32_t* info_data = NULL
    cdef int num_summaries = num_threads if num_threads > 0 else 1
    cdef int64_t* sums = NULL
    cdef int64_t total[SUMMARY_FIELDS]
    cdef cnp.ndarray info_arr
    if info is not None:
        info_arr = info
        if not (cnp.PyArray_TYPE(info_arr) == cnp.NPY_INT32
                and cnp.PyArray_IS_C_CONTIGUOUS(info_arr)
                and cnp.PyArray_SIZE(info_arr) == size):
            raise ValueError("info must be a C-contiguous int32 array of the batch's size")
        info_data = <int32_t*>cnp.PyArray_DATA(info_arr)
    else:
        sums = <int64_t*>malloc(num_summaries * SUMMARY_FIELDS * sizeof(int64_t))
        if sums == NULL:
            raise MemoryError()
        for k in range(num_summaries):
            summary_clear(sums + SUMMARY_FIELDS * k, size)
    describe(src, 2, &b, &ops[0])
    describe(lu, 2, &b, &ops[1])
    describe(piv, 1, &b, &ops[2])
    views[0] = &ops[0]; views[1] = &ops[1]; views[2] = &ops[2]
    collapse(&b, views, 3)
    with nogil:
        if t == 0:
            factor_loop(<float*>NULL, &plan, &b, ops, m, n, in_place, check_finite, num_threads,
                        info_data, sums)
        elif t == 1:
            factor_loop(<double*>NULL, &plan, &b, ops, m, n, in_place, check_finite, num_threads,
                        info_data, sums)
        elif t == 2:
            factor_loop(<float complex*>NULL, &plan, &b, ops, m, n, in_place, check_finite, num_threads,
                        info_data, sums)
        else:
            factor_loop(<double complex*>NULL, &plan, &b, ops, m, n, in_place, check_finite, num_threads,
                        info_data, sums)
    if sums == NULL:
        return None
    summary_clear(total, size)
    for k in range(num_summaries):
        summary_merge(total, sums + SUMMARY_FIELDS * k)
    free(sums)
    return (None if total[FIRST_NONFINITE] == size else total[FIRST_NONFINITE],
            total[SINGULAR_COUNT],
            None if total[FIRST_SINGULAR] == size else total[FIRST_SINGULAR],
            total[FIRST_SINGULAR_INFO])


# ---------------------------------------------------------------------------
# lu: P, L, U (or PL, U) built from a per-thread column-major work matrix

# LAPACK's trans argument for lu_solve's trans = 0, 1, 2.
cdef const char* TRANS_CODES = b"NTC"


cdef enum PermKind:
    PERM_NONE = 0       # permute_l: no permutation output
    PERM_INDICES = 1    # p_indices: int32 p with A == L[p] @ U
    PERM_MATRIX = 2     # P (real dtype) with A == P @ L @ U


cdef inline void emit_factors(lapack_t* lu, Py_ssize_t lda, const int32_t* piv,
                              Py_ssize_t m, Py_ssize_t n, Py_ssize_t i,
                              const Batch* b, const Operand* perm_out,
                              int perm_kind, const Operand* lower,
                              const Operand* upper, int32_t* perm) noexcept nogil:
    """Write item i's P (or p), L (or PL) and U from its column-major factor
    ``lu`` and 0-based pivots; ``perm`` is m-entry scratch."""
    cdef Py_ssize_t k = m if m < n else n, j, r
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t)
    cdef char* p_out
    mk.swaps_to_perm(piv, k, m, perm)
    mk.write_upper(lu, k, n, lda, <lapack_t*>at(b, upper, i),
                   upper.row_stride // sz, upper.col_stride // sz)
    if perm_kind == PERM_NONE:
        # PL = L[p] with p the inverse of perm: row i of L lands on row perm[i].
        mk.write_lower(lu, m, k, lda, <lapack_t*>at(b, lower, i),
                       lower.row_stride // sz, lower.col_stride // sz, perm)
        return
    mk.write_lower(lu, m, k, lda, <lapack_t*>at(b, lower, i),
                   lower.row_stride // sz, lower.col_stride // sz, NULL)
    p_out = at(b, perm_out, i)
    if perm_kind == PERM_INDICES:
        for j in range(m):
            (<int32_t*>(p_out + perm[j] * perm_out.row_stride))[0] = <int32_t>j
    else:
        # P[perm[j], j] = 1 on a zero-filled (calloc'd) output of the real dtype.
        for j in range(m):
            r = perm[j]
            if lapack_t is float or lapack_t is cython.floatcomplex:
                (<float*>(p_out + r * perm_out.row_stride + j * perm_out.col_stride))[0] = 1
            else:
                (<double*>(p_out + r * perm_out.row_stride + j * perm_out.col_stride))[0] = 1


cdef inline void lu_item(lapack_t* tag, const Plan* plan, Py_ssize_t i, const Batch* b,
                         const Operand* src, const Operand* piv_in,
                         bint piv_is_int64, const Operand* perm_out,
                         int perm_kind, const Operand* lower,
                         const Operand* upper, const Operand* info,
                         Py_ssize_t m, Py_ssize_t n, bint factor,
                         bint check_finite, lapack_t* work, int32_t* piv,
                         int32_t* perm, int inner_threads) noexcept nogil:
    """lu (``factor``): factor src's matrix in ``work`` and emit P, L, U.
    lu_unpack: read the factor ``src`` and pivots ``piv_in`` and emit them."""
    cdef Py_ssize_t k = m if m < n else n
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t)
    cdef int32_t* status = <int32_t*>at(b, info, i)
    cdef lapack_t* a = work
    cdef Py_ssize_t lda = m
    cdef bint finite = True
    if not factor and src.row_stride == sz and src.col_stride % sz == 0 and src.col_stride >= m * sz:
        a = <lapack_t*>at(b, src, i)     # already column-major: read in place
        lda = src.col_stride // sz
    else:
        finite = mk.load_fortran(at(b, src, i), src.row_stride, src.col_stride, work,
                                 m, n, m, factor and check_finite)
    if factor:
        if not finite:
            status[0] = NONFINITE
            return
        status[0] = factor_matrix(plan, m, n, work, m, piv, inner_threads)
    elif not mk.load_pivots(at(b, piv_in, i), piv_in.row_stride, piv_is_int64, k, m, 0, piv):
        status[0] = BAD_PIVOT
        return
    emit_factors(a, lda, piv, m, n, i, b, perm_out, perm_kind, lower, upper, perm)


cdef void lu_block(lapack_t* work, int32_t* iwork, const Plan* plan, Py_ssize_t start,
                   Py_ssize_t stop, const Batch* batch, const Operand* ops,
                   bint piv_is_int64, int perm_kind, Py_ssize_t m, Py_ssize_t n,
                   bint factor, bint check_finite,
                   int inner_threads) noexcept nogil:
    # ops: src, piv_in, perm_out, lower, upper, info. This thread's scratch:
    # LANES_CHUNK work matrices of m x n and LANES_CHUNK * (k + m) int32.
    cdef Batch b = batch[0]
    cdef Operand src = ops[0], piv_in = ops[1], perm = ops[2]
    cdef Operand lower = ops[3], upper = ops[4], info = ops[5]
    cdef Py_ssize_t k = m if m < n else n, i = start, w, count
    cdef const char* srcs[LANES_CHUNK]
    cdef lapack_t* dsts[LANES_CHUNK]
    cdef int32_t* pivs[LANES_CHUNK]
    cdef int32_t* stats[LANES_CHUNK]
    if factor and plan.lanes:
        # Tiny matrices: factor four at a time (one per SIMD lane) into the
        # work matrices, then emit each one's P, L, U. (Four a call, not
        # LANES_CHUNK: emitting the P, L, U of a chunk of 32 made complex128
        # lu slower, bench/kernels.md.)
        while i + LUCY_LANES <= stop:
            count = LUCY_LANES
            for w in range(count):
                srcs[w] = at(&b, &src, i + w)
                dsts[w] = work + w * m * n
                pivs[w] = iwork + w * (k + m)
                stats[w] = <int32_t*>at(&b, &info, i + w)
            lanes_getrf(plan.simd, n, count, srcs, src.row_stride, src.col_stride, dsts,
                        pivs, stats, check_finite)
            for w in range(count):
                if stats[w][0] != NONFINITE:
                    emit_factors(dsts[w], m, pivs[w], m, n, i + w, &b, &perm,
                                 perm_kind, &lower, &upper, pivs[w] + k)
            i += count
    while i < stop:
        lu_item(work, plan, i, &b, &src, &piv_in, piv_is_int64, &perm, perm_kind,
                &lower, &upper, &info, m, n, factor, check_finite, work,
                iwork, iwork + k, inner_threads)
        i += 1


cdef void lu_loop(lapack_t* work, int32_t* iwork, const Plan* plan, const Batch* b,
                  const Operand* ops, bint piv_is_int64, int perm_kind,
                  Py_ssize_t m, Py_ssize_t n, bint factor, bint check_finite,
                  int num_threads) noexcept nogil:
    cdef Py_ssize_t k = m if m < n else n
    cdef Py_ssize_t wsize = LANES_CHUNK * m * n, isize = LANES_CHUNK * (k + m)
    cdef Py_ssize_t blk, length, nblocks, end, t
    if not pl.threads_over_matrices(b.size, num_threads):
        lu_block(work, iwork, plan, 0, b.size, b, ops, piv_is_int64, perm_kind, m, n,
                 factor, check_finite, num_threads)
        return
    length = block_length(b.size, num_threads)
    nblocks = (b.size + length - 1) // length
    cdef lucy_team team
    lucy_team_init(&team, pl.holds_cpus(
        b.size * ((pl.factor_work(m, n) if factor else 0) + <double>m * m)))
    with parallel(num_threads=num_threads):
        lucy_team_hold(&team)
        for blk in prange(nblocks, schedule='dynamic'):
            t = omp_get_thread_num()
            end = (blk + 1) * length
            lu_block(work + t * wsize, iwork + t * isize, plan, blk * length,
                     end if end < b.size else b.size, b, ops, piv_is_int64,
                     perm_kind, m, n, factor, check_finite, 1)
        lucy_team_release()


def lu(cnp.ndarray src, piv_in, perm_out, cnp.ndarray lower, cnp.ndarray upper,
       cnp.ndarray info, int perm_kind, cnp.ndarray work, cnp.ndarray iwork,
       bint check_finite, int num_threads):
    """P, L, U of every matrix of ``src`` (dtype of ``lower``).

    With ``piv_in`` None, each matrix of ``src`` is factored (lu); else
    ``src`` holds factors as from ``factor`` and ``piv_in`` (..., K) their
    0-based int32/int64 pivots, validated here (lu_unpack).
    ``perm_kind`` 0: ``lower`` receives PL = P @ L and ``perm_out`` is unused;
    1: ``perm_out`` (..., M) int32 receives p with A == L[p] @ U;
    2: ``perm_out`` (..., M, M), zero-filled, real dtype, receives P.
    ``work`` holds num_threads * LANES * M * N elements of the dtype and
    ``iwork`` num_threads * LANES * (K + M) int32 entries."""
    cdef Batch b = batch_of(src, 2)
    cdef Operand ops[6]
    cdef Operand* views[6]
    cdef Py_ssize_t m = cnp.PyArray_DIM(src, b.ndim), n = cnp.PyArray_DIM(src, b.ndim + 1)
    cdef int t = type_index(lower), j
    cdef bint factor = piv_in is None
    cdef Plan plan = plan_factor(t, m, n, active())
    cdef bint piv_is_int64 = False
    cdef void* w = cnp.PyArray_DATA(work)
    cdef int32_t* iw = <int32_t*>cnp.PyArray_DATA(iwork)
    describe(src, 2, &b, &ops[0])
    if factor:
        describe(info, 0, &b, &ops[1])         # unused placeholder
    else:
        describe(piv_in, 1, &b, &ops[1])
        piv_is_int64 = cnp.PyArray_ITEMSIZE(piv_in) == 8
    if perm_kind == PERM_NONE:
        describe(lower, 2, &b, &ops[2])        # unused placeholder
    else:
        describe(perm_out, 2 if perm_kind == PERM_MATRIX else 1, &b, &ops[2])
    describe(lower, 2, &b, &ops[3])
    describe(upper, 2, &b, &ops[4])
    describe(info, 0, &b, &ops[5])
    for j in range(6):
        views[j] = &ops[j]
    collapse(&b, views, 6)
    with nogil:
        if t == 0:
            lu_loop(<float*>w, iw, &plan, &b, ops, piv_is_int64, perm_kind, m, n, factor, check_finite, num_threads)
        elif t == 1:
            lu_loop(<double*>w, iw, &plan, &b, ops, piv_is_int64, perm_kind, m, n, factor, check_finite, num_threads)
        elif t == 2:
            lu_loop(<float complex*>w, iw, &plan, &b, ops, piv_is_int64, perm_kind, m, n, factor, check_finite, num_threads)
        else:
            lu_loop(<double complex*>w, iw, &plan, &b, ops, piv_is_int64, perm_kind, m, n, factor, check_finite, num_threads)


# ---------------------------------------------------------------------------
# Pivots <-> permutations

cdef inline void to_perm_item(Py_ssize_t i, const Batch* b, const Operand* piv,
                              bint is_int64, const Operand* perm,
                              const Operand* info, Py_ssize_t k, Py_ssize_t m,
                              int32_t* scratch) noexcept nogil:
    if not mk.load_pivots(at(b, piv, i), piv.row_stride, is_int64, k, m, 0, scratch):
        (<int32_t*>at(b, info, i))[0] = BAD_PIVOT
        return
    mk.swaps_to_perm(scratch, k, m, <int32_t*>at(b, perm, i))


cdef inline void to_piv_item(Py_ssize_t i, const Batch* b, const Operand* perm,
                             bint is_int64, const Operand* piv,
                             const Operand* info, Py_ssize_t m, Py_ssize_t k,
                             int32_t* scratch) noexcept nogil:
    if not mk.perm_to_swaps(at(b, perm, i), perm.row_stride, is_int64, m, k,
                            <int32_t*>at(b, piv, i), scratch, scratch + m):
        (<int32_t*>at(b, info, i))[0] = BAD_PIVOT


def convert_pivots(cnp.ndarray src, cnp.ndarray dst, cnp.ndarray info,
                   bint to_permutation, cnp.ndarray iwork, int num_threads):
    """Pivots (..., K) -> permutations (..., M) (``to_permutation``), or back.

    ``src`` is int32 or int64 (validated here: BAD_PIVOT in ``info``);
    ``dst`` is C-contiguous int32; ``iwork`` holds num_threads * 2 * max(K, M)
    int32 entries."""
    cdef Batch b = batch_of(src, 1)
    cdef Operand o_src, o_dst, o_info
    cdef Operand* ops[3]
    cdef Py_ssize_t s = cnp.PyArray_DIM(src, b.ndim), d = cnp.PyArray_DIM(dst, b.ndim)
    cdef Py_ssize_t i, t, stride = 2 * (s if s > d else d)
    cdef bint is_int64 = cnp.PyArray_ITEMSIZE(src) == 8
    cdef int32_t* iw = <int32_t*>cnp.PyArray_DATA(iwork)
    describe(src, 1, &b, &o_src)
    describe(dst, 1, &b, &o_dst)
    describe(info, 0, &b, &o_info)
    ops[0] = &o_src; ops[1] = &o_dst; ops[2] = &o_info
    collapse(&b, ops, 3)
    with nogil:
        if to_permutation:
            for i in prange(b.size, num_threads=num_threads, schedule='static'):
                t = omp_get_thread_num()
                to_perm_item(i, &b, &o_src, is_int64, &o_dst, &o_info, s, d, iw + t * stride)
        else:
            for i in prange(b.size, num_threads=num_threads, schedule='static'):
                t = omp_get_thread_num()
                to_piv_item(i, &b, &o_src, is_int64, &o_dst, &o_info, s, d, iw + t * stride)


# ---------------------------------------------------------------------------
# lu_solve

cdef inline bint solve_prepare(lapack_t* tag, Py_ssize_t i, const Batch* b,
                               const Operand* lu, const Operand* piv,
                               bint piv_is_int64, const Operand* rhs,
                               const Operand* x, const Operand* info,
                               Py_ssize_t m, Py_ssize_t nrhs, bint in_place,
                               bint check_finite, bint zero_based,
                               lapack_t* lu_work, lapack_int* ipiv,
                               lapack_t** a_out, Py_ssize_t* lda_out) noexcept nogil:
    """Item i up to the substitutions: the factors column-major (in place,
    or copied into ``lu_work``), the right-hand side copied into x with the
    finite check (of b only, as SciPy's: the factors are lu_factor's, and a
    pass over them would cost as much as the solve itself), and the pivots
    checked and stored 0-based (lucy's substitutions) or 1-based for LAPACK
    in ``ipiv``. False, with the status set, if the item cannot be
    solved."""
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t)
    cdef lapack_t* xa = <lapack_t*>at(b, x, i)
    cdef Py_ssize_t ldx = x.col_stride // sz if nrhs > 1 else m
    cdef bint finite
    if lu.row_stride == sz and lu.col_stride % sz == 0 and lu.col_stride >= m * sz:
        # Column-major already (lucy's and SciPy's lu_factor output): use as is.
        a_out[0] = <lapack_t*>at(b, lu, i)
        lda_out[0] = lu.col_stride // sz
    else:
        a_out[0] = lu_work
        lda_out[0] = m
        mk.load_fortran(at(b, lu, i), lu.row_stride, lu.col_stride, lu_work, m, m, m, False)
    if in_place:
        finite = not check_finite or mk.all_finite(xa, m, nrhs, ldx)
    else:
        finite = mk.load_fortran(at(b, rhs, i), rhs.row_stride, rhs.col_stride, xa,
                                 m, nrhs, ldx, check_finite)
    if not finite:
        (<int32_t*>at(b, info, i))[0] = NONFINITE
        return False
    if not mk.load_pivots(at(b, piv, i), piv.row_stride, piv_is_int64, m, m,
                          0 if zero_based else 1, <int32_t*>ipiv):
        (<int32_t*>at(b, info, i))[0] = BAD_PIVOT
        return False
    (<int32_t*>at(b, info, i))[0] = 0
    return True


cdef inline void solve_one(const SolvePlan* plan, int trans, Py_ssize_t m, Py_ssize_t nrhs,
                           lapack_t* a, Py_ssize_t lda, lapack_int* ipiv, lapack_t* xa,
                           Py_ssize_t ldx, int32_t* status) noexcept nogil:
    """op(A) X = B for one prepared system (solve_prepare), by the plan's
    kernel."""
    if plan.kernel == pl.SOLVE_GETRS:
        # (on the fixed groups of right-hand sides that solve_groups hands to
        # threads: BLAS's bits for a column depend on the columns beside it)
        solve_groups(trans, m, nrhs, a, lda, ipiv, xa, ldx, status, 1)
    elif plan.kernel == pl.SOLVE_BLOCKS:
        solve_in_blocks(m, nrhs, a, lda, ipiv, xa, ldx, 1)
    else:
        mk.solve_substitutions(plan, trans, m, nrhs, a, lda, <int32_t*>ipiv, xa, ldx)


cdef inline void solve_item(lapack_t* tag, Py_ssize_t i, const Batch* b,
                            const Operand* lu, const Operand* piv,
                            bint piv_is_int64, const Operand* rhs,
                            const Operand* x, const Operand* info,
                            Py_ssize_t m, Py_ssize_t nrhs, int trans,
                            bint in_place, bint check_finite, const SolvePlan* plan,
                            lapack_t* lu_work, lapack_int* ipiv) noexcept nogil:
    cdef Py_ssize_t sz = <Py_ssize_t>sizeof(lapack_t)
    cdef lapack_t* xa = <lapack_t*>at(b, x, i)
    cdef lapack_t* a
    cdef Py_ssize_t lda, ldx = x.col_stride // sz if nrhs > 1 else m
    if not solve_prepare(tag, i, b, lu, piv, piv_is_int64, rhs, x, info, m,
                         nrhs, in_place, check_finite, not plan.reaches_lapack,
                         lu_work, ipiv, &a, &lda):
        return
    solve_one(plan, trans, m, nrhs, a, lda, ipiv, xa, ldx, <int32_t*>at(b, info, i))


cdef inline bint has_pair_solve(lapack_t* tag, const SolvePlan* plan) noexcept nogil:
    """Whether the plan's table solves two systems at once (solve_pair)."""
    if plan.kernel != pl.SOLVE_KERNEL:
        return False
    if lapack_t is float:
        return plan.simd.solve_s.getrs2 != NULL
    elif lapack_t is double:
        return plan.simd.solve_d.getrs2 != NULL
    return False


cdef inline void solve_pair(const SolvePlan* plan, Py_ssize_t m, lapack_t* a0, lapack_t* a1,
                            Py_ssize_t lda, int32_t* piv0, int32_t* piv1, lapack_t* x0,
                            lapack_t* x1) noexcept nogil:
    """A x = b for two prepared systems of one right-hand side (has_pair_solve)."""
    if lapack_t is float:
        plan.simd.solve_s.getrs2(m, a0, a1, lda, piv0, piv1, x0, x1)
    elif lapack_t is double:
        plan.simd.solve_d.getrs2(m, a0, a1, lda, piv0, piv1, x0, x1)


cdef void solve_block(lapack_t* lu_work, lapack_int* ipiv, const SolvePlan* plan,
                      Py_ssize_t start,
                      Py_ssize_t stop, const Batch* batch, const Operand* ops,
                      bint piv_is_int64, Py_ssize_t m, Py_ssize_t nrhs,
                      int trans, bint in_place, bint check_finite) noexcept nogil:
    # ops: lu, piv, rhs, x, info. ipiv holds LANES_CHUNK * m entries.
    cdef Batch b = batch[0]
    cdef Operand lu = ops[0], piv = ops[1], rhs = ops[2], x = ops[3], info = ops[4]
    cdef Py_ssize_t i = start, w, s, g, groups, lda
    cdef Py_ssize_t ldx = x.col_stride // <Py_ssize_t>sizeof(lapack_t) if nrhs > 1 else m
    cdef int ready
    cdef bint zero_based = not plan.reaches_lapack
    cdef bint pairs
    cdef lapack_t* factors[LANES_CHUNK]
    cdef lapack_t* xs[LANES_CHUNK]
    cdef double* zfactors[LANES_CHUNK]
    cdef double* zxs[LANES_CHUNK]
    cdef const int32_t* pivs[LANES_CHUNK]
    cdef bint ok[LUCY_LANES]
    cdef Py_ssize_t first[LANES_CHUNK_GROUPS]    # each group's first item
    cdef int nonfinite[LANES_CHUNK_GROUPS]
    # The lane solve needs the factors column-major as lu_factor returns
    # them, so that all of them share one leading dimension.
    if (plan.lanes and lu.row_stride == <Py_ssize_t>sizeof(lapack_t)
            and lu.col_stride == m * <Py_ssize_t>sizeof(lapack_t)):
        # Tiny systems: four at a time, one per SIMD lane, up to LANES_CHUNK
        # a call; a group with an item that fails its checks goes to the
        # one-system path. The lane kernel checks b for inf/NaN on the
        # registers it loads anyway (the separate check was a quarter of
        # lu_solve's time at 4 x 4), so the items are prepared without it.
        while i + LUCY_LANES <= stop:
            groups = 0
            while groups < LANES_CHUNK_GROUPS and i + LUCY_LANES <= stop:
                s = groups * LUCY_LANES
                ready = 0
                for w in range(LUCY_LANES):
                    pivs[s + w] = <int32_t*>(ipiv + (s + w) * m)
                    xs[s + w] = <lapack_t*>at(&b, &x, i + w)
                    ok[w] = solve_prepare(lu_work, i + w, &b, &lu, &piv, piv_is_int64,
                                          &rhs, &x, &info, m, nrhs, in_place,
                                          False, zero_based, lu_work, ipiv + (s + w) * m,
                                          &factors[s + w], &lda)
                    ready += ok[w]
                if ready == LUCY_LANES:
                    first[groups] = i
                    groups += 1
                else:
                    for w in range(LUCY_LANES):
                        if not ok[w]:
                            continue
                        if check_finite and not mk.all_finite(xs[s + w], m, nrhs, ldx):
                            (<int32_t*>at(&b, &info, i + w))[0] = NONFINITE
                            continue
                        solve_one(plan, trans, m, nrhs, factors[s + w], lda,
                                  <lapack_int*>pivs[s + w], xs[s + w], ldx,
                                  <int32_t*>at(&b, &info, i + w))
                i += LUCY_LANES
            if groups == 0:
                continue
            if lapack_t is double:
                plan.simd.lanes_getrs_d(<int>m, groups * LUCY_LANES, nrhs,
                                        <const double**>factors, lda, pivs, xs, ldx, nonfinite)
            elif lapack_t is float:
                plan.simd.lanes_getrs_s(<int>m, groups * LUCY_LANES, nrhs,
                                        <const float**>factors, lda, pivs, xs, ldx, nonfinite)
            elif lapack_t is cython.doublecomplex:
                # (arrays of double*: see mk.columns_getf2)
                for w in range(groups * LUCY_LANES):
                    zfactors[w] = <double*>factors[w]
                    zxs[w] = <double*>xs[w]
                plan.simd.lanes_getrs_z(<int>m, groups * LUCY_LANES, nrhs,
                                        <const double**>zfactors, lda, pivs, zxs, ldx, nonfinite)
            if check_finite:
                for g in range(groups):
                    for w in range(LUCY_LANES):
                        if nonfinite[g] & (1 << w):
                            (<int32_t*>at(&b, &info, first[g] + w))[0] = NONFINITE
    # Real systems of one right-hand side with lu_factor's factors: two at a
    # time through the substitutions (two independent chains of dependent
    # steps, which the core overlaps; the same bits as one at a time).
    pairs = (has_pair_solve(lu_work, plan) and trans == 0 and nrhs == 1
             and lu.row_stride == <Py_ssize_t>sizeof(lapack_t)
             and lu.col_stride == m * <Py_ssize_t>sizeof(lapack_t))
    while pairs and i + 2 <= stop:
        if i + 2 < stop:
            # (the next systems' factors, whose first lines may be on pages
            # the hardware prefetcher has not reached)
            mk.lucy_prefetch_bytes(at(&b, &lu, i + 2), m * m * <Py_ssize_t>sizeof(lapack_t))
        if i + 3 < stop:
            mk.lucy_prefetch_bytes(at(&b, &lu, i + 3), m * m * <Py_ssize_t>sizeof(lapack_t))
        ok[0] = solve_prepare(lu_work, i, &b, &lu, &piv, piv_is_int64, &rhs, &x, &info, m,
                              1, in_place, check_finite, True, lu_work, ipiv, &factors[0], &lda)
        ok[1] = solve_prepare(lu_work, i + 1, &b, &lu, &piv, piv_is_int64, &rhs, &x, &info, m,
                              1, in_place, check_finite, True, lu_work, ipiv + m, &factors[1],
                              &lda)
        xs[0] = <lapack_t*>at(&b, &x, i)
        xs[1] = <lapack_t*>at(&b, &x, i + 1)
        if ok[0] and ok[1]:
            solve_pair(plan, m, factors[0], factors[1], lda, <int32_t*>ipiv,
                       <int32_t*>(ipiv + m), xs[0], xs[1])
        else:
            for w in range(2):
                if ok[w]:
                    solve_one(plan, 0, m, 1, factors[w], lda, ipiv + w * m, xs[w], m,
                              <int32_t*>at(&b, &info, i + w))
        i += 2
    while i < stop:
        if i + 1 < stop:
            mk.lucy_prefetch_bytes(at(&b, &lu, i + 1), m * m * <Py_ssize_t>sizeof(lapack_t))
        solve_item(lu_work, i, &b, &lu, &piv, piv_is_int64, &rhs, &x, &info, m,
                   nrhs, trans, in_place, check_finite, plan, lu_work, ipiv)
        i += 1


cdef void solve_in_blocks_worker(Py_ssize_t m, Py_ssize_t nrhs, lapack_t* lu,
                                 Py_ssize_t lda, lapack_t* x, Py_ssize_t ldx,
                                 int64_t* counters) noexcept nogil:
    """Take tasks (row block i of column group g, i-major) until none is
    left; each waits only for the blocks its gemm calls read."""
    # counters: [forward done per group and block][backward ...][2 tickets]
    cdef Py_ssize_t nb = mk.solve_blocks_count(m), i, g, c0, w
    cdef Py_ssize_t width = pl.solve_blocks_width(m, nrhs)
    cdef Py_ssize_t groups = (nrhs + width - 1) // width
    cdef int64_t ticket
    cdef int64_t* forward = counters
    cdef int64_t* backward = counters + nb * groups
    cdef lapack_t* xg
    while True:     # L Y = P^T B: row blocks from the top
        ticket = lucy_counter_take(&counters[2 * nb * groups])
        if ticket >= nb * groups:
            break
        i = ticket // groups
        g = ticket % groups
        c0 = g * width
        w = min(width, nrhs - c0)
        xg = x + c0 * ldx
        if i >= 2:
            lucy_counter_wait(&forward[g * nb + i - 2], 1)
            mk.solve_blocks_product(m, w, lu, lda, xg, ldx, i, 0, i - 1)
        if i >= 1:
            lucy_counter_wait(&forward[g * nb + i - 1], 1)
            mk.solve_blocks_product(m, w, lu, lda, xg, ldx, i, i - 1, i)
        mk.solve_blocks_diagonal(m, w, lu, lda, xg, ldx, i, False)
        lucy_counter_set(&forward[g * nb + i], 1)
    while True:     # U X = Y: row blocks from the bottom
        ticket = lucy_counter_take(&counters[2 * nb * groups + 1])
        if ticket >= nb * groups:
            break
        i = nb - 1 - ticket // groups
        g = ticket % groups
        c0 = g * width
        w = min(width, nrhs - c0)
        xg = x + c0 * ldx
        lucy_counter_wait(&forward[g * nb + i], 1)
        if i + 2 < nb:
            lucy_counter_wait(&backward[g * nb + i + 2], 1)
            mk.solve_blocks_product(m, w, lu, lda, xg, ldx, i, i + 2, nb)
        if i + 1 < nb:
            lucy_counter_wait(&backward[g * nb + i + 1], 1)
            mk.solve_blocks_product(m, w, lu, lda, xg, ldx, i, i + 1, i + 2)
        mk.solve_blocks_diagonal(m, w, lu, lda, xg, ldx, i, True)
        lucy_counter_set(&backward[g * nb + i], 1)


cdef void solve_in_blocks(Py_ssize_t m, Py_ssize_t nrhs, lapack_t* lu, Py_ssize_t lda,
                          lapack_int* ipiv, lapack_t* x, Py_ssize_t ldx,
                          int num_threads) noexcept nogil:
    """A X = B for one system by the blocked substitutions (SOLVE_BLOCKS),
    with up to num_threads threads inside: row blocks handed out by ticket,
    each waiting only for the blocks it reads; the calls of
    mk.getrs_in_blocks, so the same bits for any num_threads. ipiv 1-based
    (int32 as load_pivots wrote it), checked."""
    cdef Py_ssize_t width = pl.solve_blocks_width(m, nrhs)
    cdef Py_ssize_t tasks = mk.solve_blocks_count(m) * ((nrhs + width - 1) // width)
    cdef int64_t* counters = NULL
    mk.widen_ipiv(ipiv, m)
    if num_threads > 1:
        counters = <int64_t*>calloc(2 * tasks + 2, sizeof(int64_t))
    if counters == NULL:        # (one thread, or no memory for the counters)
        mk.getrs_in_blocks(m, nrhs, lu, lda, ipiv, x, ldx)
        return
    laswp(<lapack_int>nrhs, x, <lapack_int>ldx, 1, <lapack_int>m, ipiv)
    cdef lucy_team team
    lucy_team_init(&team, True)
    with parallel(num_threads=num_threads):
        lucy_team_hold(&team)
        solve_in_blocks_worker(m, nrhs, lu, lda, x, ldx, counters)
        lucy_team_release()
    free(counters)


cdef void solve_groups(int trans, Py_ssize_t m, Py_ssize_t nrhs, lapack_t* a, Py_ssize_t lda,
                       lapack_int* ipiv, lapack_t* x, Py_ssize_t ldx, int32_t* status,
                       int num_threads) noexcept nogil:
    """op(A) X = B for one system by LAPACK's getrs on groups of columns of
    X (pl.rhs_group_width), spread over the threads (ipiv 1-based, shared:
    getrs only reads it); a grouping fixed by nrhs, so the same bits for any
    num_threads."""
    cdef Py_ssize_t width = pl.rhs_group_width(nrhs), g, c0
    cdef Py_ssize_t groups = (nrhs + width - 1) // width
    cdef lapack_int linfo = 0
    cdef lucy_team team
    mk.widen_ipiv(ipiv, m)      # ILP64 LAPACK: 64-bit ipiv (LP64: nothing)
    if num_threads <= 1:
        for g in range(groups):
            c0 = g * width
            getrs(TRANS_CODES[trans], <lapack_int>m,
                  <lapack_int>min(width, nrhs - c0), a, <lapack_int>lda, ipiv,
                  x + c0 * ldx, <lapack_int>ldx, &linfo)
    else:
        lucy_team_init(&team, True)
        with parallel(num_threads=num_threads):
            lucy_team_hold(&team)
            for g in prange(groups, schedule='dynamic'):
                c0 = g * width
                linfo = 0       # (assigned here: private to each thread)
                getrs(TRANS_CODES[trans], <lapack_int>m,
                      <lapack_int>min(width, nrhs - c0), a, <lapack_int>lda, ipiv,
                      x + c0 * ldx, <lapack_int>ldx, &linfo)
            lucy_team_release()
    status[0] = 0       # (arguments valid: getrs reports no error)


cdef void solve_loop(lapack_t* lu_work, lapack_int* ipiv, const SolvePlan* plan,
                     const Batch* b,
                     const Operand* ops, bint piv_is_int64, Py_ssize_t m,
                     Py_ssize_t nrhs, int trans, bint in_place,
                     bint check_finite, int num_threads) noexcept nogil:
    cdef Py_ssize_t blk, length, nblocks, end, t, i, lda
    cdef Py_ssize_t ldx = ops[3].col_stride // <Py_ssize_t>sizeof(lapack_t) if nrhs > 1 else m
    cdef lapack_t* a
    if num_threads <= 1:
        solve_block(lu_work, ipiv, plan, 0, b.size, b, ops, piv_is_int64, m, nrhs,
                    trans, in_place, check_finite)
        return
    if plan.threads_inside and not pl.threads_over_matrices(b.size, num_threads):
        # One system at a time, the threads inside.
        for i in range(b.size):
            if not solve_prepare(lu_work, i, b, &ops[0], &ops[1], piv_is_int64, &ops[2],
                                 &ops[3], &ops[4], m, nrhs, in_place, check_finite,
                                 not plan.reaches_lapack, lu_work, ipiv, &a, &lda):
                continue
            if plan.kernel == pl.SOLVE_BLOCKS:
                solve_in_blocks(m, nrhs, a, lda, ipiv, <lapack_t*>at(b, &ops[3], i), ldx,
                                num_threads)
            else:
                solve_groups(trans, m, nrhs, a, lda, ipiv, <lapack_t*>at(b, &ops[3], i), ldx,
                             <int32_t*>at(b, &ops[4], i), num_threads)
        return
    length = block_length(b.size, num_threads)
    nblocks = (b.size + length - 1) // length
    cdef lucy_team team
    lucy_team_init(&team, pl.holds_cpus(
        b.size * pl.solve_work(pl.dtype_of(lu_work), m, nrhs)))
    with parallel(num_threads=num_threads):
        lucy_team_hold(&team)
        for blk in prange(nblocks, schedule='dynamic'):
            t = omp_get_thread_num()
            end = (blk + 1) * length
            solve_block(lu_work + t * m * m, ipiv + t * LANES_CHUNK * m, plan, blk * length,
                        end if end < b.size else b.size, b, ops, piv_is_int64, m,
                        nrhs, trans, in_place, check_finite)
        lucy_team_release()


def solve(cnp.ndarray lu, cnp.ndarray piv, cnp.ndarray rhs, cnp.ndarray x,
          cnp.ndarray info, int trans, cnp.ndarray work, cnp.ndarray iwork,
          bint check_finite, int num_threads):
    """Solve op(A) X = B for every batch item. ``lu`` (..., M, M) and ``x``
    share the dtype; ``piv`` (..., M) is int32 or int64 and validated here;
    ``rhs`` (..., M, NRHS) is copied into ``x`` unless ``rhs is x``; ``x``
    is column-major per matrix. ``work``/``iwork`` hold num_threads * M * M
    elements and num_threads * LANES * M LAPACK integers."""
    cdef Batch b = batch_of(x, 2)
    cdef Operand ops[5]
    cdef Operand* views[5]
    cdef Py_ssize_t m = cnp.PyArray_DIM(x, b.ndim), nrhs = cnp.PyArray_DIM(x, b.ndim + 1)
    cdef int t = type_index(x), j
    cdef SolvePlan plan = plan_solve(t, m, nrhs, trans, active())
    cdef bint piv_is_int64 = cnp.PyArray_ITEMSIZE(piv) == 8
    cdef bint in_place = rhs is x
    cdef void* w = cnp.PyArray_DATA(work)
    cdef lapack_int* iw = <lapack_int*>cnp.PyArray_DATA(iwork)
    describe(lu, 2, &b, &ops[0])
    describe(piv, 1, &b, &ops[1])
    describe(rhs, 2, &b, &ops[2])
    describe(x, 2, &b, &ops[3])
    describe(info, 0, &b, &ops[4])
    for j in range(5):
        views[j] = &ops[j]
    collapse(&b, views, 5)
    with nogil:
        if t == 0:
            solve_loop(<float*>w, iw, &plan, &b, ops, piv_is_int64, m, nrhs, trans, in_place, check_finite, num_threads)
        elif t == 1:
            solve_loop(<double*>w, iw, &plan, &b, ops, piv_is_int64, m, nrhs, trans, in_place, check_finite, num_threads)
        elif t == 2:
            solve_loop(<float complex*>w, iw, &plan, &b, ops, piv_is_int64, m, nrhs, trans, in_place, check_finite, num_threads)
        else:
            solve_loop(<double complex*>w, iw, &plan, &b, ops, piv_is_int64, m, nrhs, trans, in_place, check_finite, num_threads)
