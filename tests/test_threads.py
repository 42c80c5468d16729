"""Threads: identical results for any ``workers``, the ``set_workers``
context manager and the default, BLAS held at one thread only while lucy
runs, many Python threads calling lucy at once, and the GIL released."""

import concurrent.futures
import contextlib
import functools
import io
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import scipy.linalg as sla
from threadpoolctl import threadpool_info, threadpool_limits

import lucy

N_PYTHON_THREADS = 8


def well_conditioned(shape, dtype=np.float64, seed=0):
    """Random matrices with a dominant diagonal (never singular)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    a = a + 4 * np.eye(shape[-2], shape[-1])
    return a.astype(dtype)


def readonly(x):
    x = np.array(x, copy=True)
    x.flags.writeable = False
    return x


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def assert_bitwise_equal(actual, expected, what=""):
    actual, expected = as_tuple(actual), as_tuple(expected)
    assert len(actual) == len(expected), what
    for i, (x, y) in enumerate(zip(actual, expected)):
        assert x.dtype == y.dtype and x.shape == y.shape, f"{what} output {i}"
        assert x.tobytes() == y.tobytes(), f"{what} output {i} differs"


def openmp_enabled():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        lucy.show_config()
    return "openmp: on" in buf.getvalue()


def blas_threads():
    """(library, threads) of every BLAS threadpoolctl finds."""
    return sorted((d["filepath"], d["num_threads"]) for d in threadpool_info()
                  if d["user_api"] == "blas")


# ---------------------------------------------------------------------------
# Identical results whatever the number of threads

# (lu_solve runs threads from 10^6 multiply-adds: M^2 x 3 right-hand sides
# x batch; the first two and the last are above it)
SIZES = {
    "small-4x4": (30000, 4, 4),
    "medium-24x24": (2000, 24, 24),
    "medium-20x20": (500, 20, 20),
    "medium-40x40": (100, 40, 40),     # LAPACK path (n > 32)
    "tall-wide-mix": (300, 36, 9),
    "large-1x300x300": (1, 300, 300),
}
DTYPES = [np.float64, np.complex64]
WORKERS = [2, 3, -1, None]      # compared with workers=1

OPERATIONS = {
    "lu_factor": lambda d, w: lucy.lu_factor(d["a"], workers=w),
    "lu_factor_ex": lambda d, w: lucy.lu_factor_ex(d["a"], workers=w),
    "lu": lambda d, w: lucy.lu(d["a"], workers=w),
    "lu-permute_l": lambda d, w: lucy.lu(d["a"], permute_l=True, workers=w),
    "lu-p_indices": lambda d, w: lucy.lu(d["a"], p_indices=True, workers=w),
    "lu_solve": lambda d, w: lucy.lu_solve((d["lu"], d["piv"]), d["b"], workers=w),
    "lu_solve-trans": lambda d, w: lucy.lu_solve((d["lu"], d["piv"]), d["b"], trans=2, workers=w),
    "lu_solve-vector": lambda d, w: lucy.lu_solve((d["lu"], d["piv"]), d["b"][0, :, 0], workers=w),
    "lu_unpack": lambda d, w: lucy.lu_unpack(d["lu"], d["piv"], workers=w),
    "lu_unpack-p_indices": lambda d, w: lucy.lu_unpack(d["lu"], d["piv"], p_indices=True,
                                                       workers=w),
    "pivots_to_permutation": lambda d, w: lucy.pivots_to_permutation(d["piv"], m=d["m"],
                                                                     workers=w),
    "permutation_to_pivots": lambda d, w: lucy.permutation_to_pivots(d["perm"], k=d["k"],
                                                                     workers=w),
}


@functools.lru_cache(maxsize=None)
def _inputs(size, dtype):
    shape = SIZES[size]
    m, n = shape[-2:]
    a = readonly(well_conditioned(shape, dtype, seed=sum(shape)))
    lu, piv = lucy.lu_factor(a, workers=1)
    if m != n:      # lu_solve needs square factors
        sq_lu, sq_piv = lucy.lu_factor(a[..., :min(m, n), :min(m, n)], workers=1)
    else:
        sq_lu, sq_piv = lu, piv
    b = readonly(well_conditioned((shape[0], min(m, n), 3), dtype, seed=1))
    perm = lucy.pivots_to_permutation(piv, m=m, workers=1)
    return {"a": a, "lu": readonly(sq_lu), "piv": readonly(sq_piv), "b": b, "m": m,
            "k": min(m, n), "perm": readonly(perm), "unpack_lu": readonly(lu),
            "unpack_piv": readonly(piv)}


class TestIdenticalForAnyWorkers:
    @pytest.mark.parametrize("size", list(SIZES))
    @pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
    @pytest.mark.parametrize("op", list(OPERATIONS))
    def test_bitwise_identical(self, op, dtype, size):
        d = dict(_inputs(size, dtype))
        if op.startswith(("lu_unpack", "pivots_to_permutation")):
            # factors of the (possibly non-square) matrices themselves
            d["lu"], d["piv"] = d["unpack_lu"], d["unpack_piv"]
        reference = OPERATIONS[op](d, 1)
        for workers in WORKERS:
            assert_bitwise_equal(OPERATIONS[op](d, workers), reference, f"workers={workers}")
        with lucy.set_workers(2):
            assert_bitwise_equal(OPERATIONS[op](d, None), reference, "set_workers(2)")

    @pytest.mark.parametrize("shape,dtype", [((1, 200, 200), np.float64),
                                             ((1, 120, 120), np.complex64),
                                             ((3, 150, 150), np.complex128)],
                             ids=["200x200-float64", "120x120-complex64", "3x150x150-complex128"])
    def test_same_result_from_another_python_thread(self, shape, dtype):
        # Large enough for OpenBLAS's getrf to use its threads if it may: it
        # rounds differently then, so this fails unless BLAS is really held
        # at one thread in every calling thread.
        a = readonly(well_conditioned(shape, dtype, seed=3))
        with threadpool_limits(limits=2, user_api="blas"):
            reference = lucy.lu_factor(a, workers=1)
            for workers in (1, 2):
                out = _in_other_thread(lambda: lucy.lu_factor(a, workers=workers))
                assert_bitwise_equal(out, reference, f"other thread, workers={workers}")
                with concurrent.futures.ThreadPoolExecutor(2) as pool:
                    for out in pool.map(lambda _: lucy.lu_factor(a, workers=workers), range(4)):
                        assert_bitwise_equal(out, reference, f"pool thread, workers={workers}")

    @pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
    def test_more_workers_than_matrices_or_cores(self, dtype):
        a = readonly(well_conditioned((5, 40, 40), dtype))
        reference = lucy.lu_factor(a, workers=1)
        for workers in (4, 5, 6, 17):
            assert_bitwise_equal(lucy.lu_factor(a, workers=workers), reference, f"workers={workers}")


def _cpu_sets():
    """{thread id: its allowed CPUs} for every thread of this process."""
    sets = {}
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(FileNotFoundError):
            with open(f"/proc/self/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        sets[tid] = line.split(":", 1)[1].strip()
    return sets


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_threads_hold_cpus_after_idle_spells():
    # Every parallel region of enough work holds a CPU per thread for its
    # duration (openmp.pxd, lucy_team_hold), moving a worker that wakes on
    # its caller's CPU to a free one, and gives each thread its CPU set back
    # at the end. Exercised after idle spells, when a woken worker is most
    # often queued on the caller's CPU: the blocked LU and its copy-in, the
    # blocked substitutions, and the loops over a batch's matrices (lu_factor,
    # lu, lu_solve). Same bits as one thread, and every thread's CPU set as
    # it was.
    a = readonly(well_conditioned((1, 600, 600)))
    b = readonly(well_conditioned((1, 600, 8), seed=1))
    many = readonly(well_conditioned((2000, 16, 16), seed=2))
    many_b = readonly(well_conditioned((2000, 16, 40), seed=3))
    calls = {
        "lu_factor, one large matrix": lambda w: lucy.lu_factor(a, workers=w),
        "lu_solve, blocked substitutions": lambda w: lucy.lu_solve(lu_1, b, workers=w),
        "lu_factor, a batch": lambda w: lucy.lu_factor(many, workers=w),
        "lu, a batch": lambda w: lucy.lu(many, workers=w),
        "lu_solve, a batch": lambda w: lucy.lu_solve(many_lu, many_b, workers=w),
    }
    lu_1 = lucy.lu_factor(a, workers=1)
    many_lu = lucy.lu_factor(many, workers=1)
    expected = {name: call(1) for name, call in calls.items()}
    # (the caller's set before any call of this test: the workers' sets are
    # the process's, which every thread, the caller included, has here)
    allowed = _cpu_sets()[str(threading.get_native_id())]
    for _ in range(3):
        for name, call in calls.items():
            time.sleep(0.02)
            assert_bitwise_equal(call(2), expected[name], f"{name} after idle")
            assert set(_cpu_sets().values()) == {allowed}, f"{name}: a CPU set not given back"


# ---------------------------------------------------------------------------
# set_workers / get_workers

def _in_other_thread(func):
    out = []
    thread = threading.Thread(target=lambda: out.append(func()))
    thread.start()
    thread.join()
    assert len(out) == 1, "the thread failed"
    return out[0]


class TestSetWorkers:
    def test_sets_and_restores(self):
        default = lucy.get_workers()
        target = default + 3
        with lucy.set_workers(target):
            assert lucy.get_workers() == target
        assert lucy.get_workers() == default

    @pytest.mark.parametrize("workers", [1, 2, 5, 64])
    def test_positive_values(self, workers):
        with lucy.set_workers(workers):
            assert lucy.get_workers() == workers

    def test_negative_counts_back_from_cores(self):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        with lucy.set_workers(-1):
            assert lucy.get_workers() == cores
        with lucy.set_workers(-cores):
            assert lucy.get_workers() == 1

    def test_restores_after_exception(self):
        default = lucy.get_workers()
        with pytest.raises(ZeroDivisionError):
            with lucy.set_workers(default + 2):
                assert lucy.get_workers() == default + 2
                1 / 0
        assert lucy.get_workers() == default
        # and after an exception raised by lucy itself inside the block
        with pytest.raises(ValueError, match="infs or NaNs"):
            with lucy.set_workers(default + 2):
                lucy.lu_factor(np.full((2, 2), np.nan))
        assert lucy.get_workers() == default

    def test_nests(self):
        default = lucy.get_workers()
        with lucy.set_workers(default + 1):
            with lucy.set_workers(default + 2):
                assert lucy.get_workers() == default + 2
                with lucy.set_workers(1):
                    assert lucy.get_workers() == 1
                assert lucy.get_workers() == default + 2
            assert lucy.get_workers() == default + 1
        assert lucy.get_workers() == default

    def test_thread_local(self):
        default = lucy.get_workers()
        other_default = _in_other_thread(lucy.get_workers)
        target = max(default, other_default) + 5
        with lucy.set_workers(target):
            assert _in_other_thread(lucy.get_workers) == other_default
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                assert pool.submit(lucy.get_workers).result() == other_default
            assert lucy.get_workers() == target

    def test_setting_in_another_thread_does_not_leak(self):
        default = lucy.get_workers()
        entered, release = threading.Event(), threading.Event()
        seen = []

        def hold():
            with lucy.set_workers(default + 7):
                seen.append(lucy.get_workers())
                entered.set()
                release.wait(30)
            seen.append(lucy.get_workers())

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert entered.wait(30)
            assert lucy.get_workers() == default     # while the other thread is inside
        finally:
            release.set()
            thread.join()
        assert seen[0] == default + 7
        assert lucy.get_workers() == default

    def test_calls_use_the_setting(self):
        a = readonly(well_conditioned((2000, 6, 6)))
        reference = lucy.lu_factor(a, workers=1)
        for workers in (1, 2, 3):
            with lucy.set_workers(workers):
                assert_bitwise_equal(lucy.lu_factor(a), reference)
                assert_bitwise_equal(lucy.lu(a), lucy.lu(a, workers=1))


_SUBPROCESS_CODE = """
import lucy
print(lucy.get_workers())
with lucy.set_workers(4):
    print(lucy.get_workers())
print(lucy.get_workers())
"""


def _workers_in_subprocess(tmp_path, omp_num_threads):
    """get_workers() in a fresh interpreter: by default, inside
    set_workers(4), and after it."""
    environ = dict(os.environ, OMP_NUM_THREADS=omp_num_threads)
    result = subprocess.run([sys.executable, "-c", _SUBPROCESS_CODE], env=environ,
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [int(line) for line in result.stdout.split()[-3:]]


class TestDefaultWorkers:
    def test_omp_num_threads_1(self, tmp_path):
        assert _workers_in_subprocess(tmp_path, "1") == [1, 4, 1]

    def test_omp_num_threads_3(self, tmp_path):
        if not openmp_enabled():
            pytest.skip("lucy was built without OpenMP")
        assert _workers_in_subprocess(tmp_path, "3") == [3, 4, 3]

    def test_threadpoolctl_openmp_limit(self):
        default = lucy.get_workers()
        openmp = [d for d in threadpool_info() if d["user_api"] == "openmp"]
        if not openmp_enabled() or not openmp:
            pytest.skip("no OpenMP runtime visible to threadpoolctl")
        with threadpool_limits(limits=1, user_api="openmp"):
            assert lucy.get_workers() == 1
            with lucy.set_workers(3):       # an explicit setting still wins
                assert lucy.get_workers() == 3
        assert lucy.get_workers() == default


# ---------------------------------------------------------------------------
# A long single-threaded lucy call, for the tests that watch another thread

_LONG_SIZES = [512, 1024, 1536, 2048]


def _timed_factor(a):
    start = time.perf_counter()
    lucy.lu_factor(a, workers=1)
    return start, time.perf_counter()


def _run_while_watching(watch, min_seconds=0.25):
    """Run lucy.lu_factor(workers=1) on 2 large matrices while ``watch``
    (called repeatedly in another thread) records samples; grow the matrices
    until the call takes at least ``min_seconds``. Returns (start, end,
    samples) with samples a list of (time, value)."""
    for n in _LONG_SIZES:
        a = np.broadcast_to(well_conditioned((n, n), seed=n), (2, n, n))
        samples, stop, started = [], threading.Event(), threading.Event()

        def watcher():
            started.set()
            while not stop.is_set():
                samples.append((time.perf_counter(), watch()))

        thread = threading.Thread(target=watcher)
        thread.start()
        try:
            assert started.wait(30)
            start, end = _timed_factor(a)
        finally:
            stop.set()
            thread.join()
        if end - start >= min_seconds or n == _LONG_SIZES[-1]:
            return start, end, samples


def _middle(start, end, samples):
    """Samples from the middle half of the call: far (tens of ms) from the
    Python code before and after the compiled part, which holds the GIL."""
    lo, hi = start + 0.25 * (end - start), start + 0.75 * (end - start)
    return [value for t, value in samples if lo <= t <= hi]


class TestGilReleased:
    def test_other_thread_progresses_during_a_call(self):
        counter = {"n": 0}

        def count():
            # a little pure-Python work per sample: it needs the GIL
            for _ in range(100):
                counter["n"] += 1
            return counter["n"]

        # Holding the GIL, no Python code could run in the middle of the call,
        # in any attempt; on a loaded machine the scheduler alone can starve
        # the watching thread for one call, so three attempts are allowed.
        seen = []
        for _ in range(3):
            start, end, samples = _run_while_watching(count)
            if end - start < 0.1:
                pytest.skip(f"could not make a call longer than {end - start:.3f} s")
            middle = _middle(start, end, samples)
            if len(middle) >= 5 and middle[-1] > middle[0]:
                return
            seen.append(f"{len(middle)} samples in {end - start:.3f} s")
        pytest.fail("no progress in the middle of the call: " + "; ".join(seen))


# ---------------------------------------------------------------------------
# BLAS thread counts

def _big_calls(seed=0):
    """lucy calls that reach LAPACK (n > 32)."""
    a = well_conditioned((4, 48, 48), seed=seed)
    lu, piv = lucy.lu_factor(a)
    lucy.lu_factor_ex(a, workers=2)
    lucy.lu(a)
    lucy.lu(a, permute_l=True, workers=1)
    lucy.lu_solve((lu, piv), well_conditioned((4, 48, 40), seed=seed + 1))
    lucy.lu_unpack(lu, piv)
    lucy.lu_factor(well_conditioned((200, 200), seed=seed))
    lucy.lu_solve((lu[0], piv[0]), np.ones((48, 50)))


class TestBlasThreads:
    def test_restored_after_calls(self):
        before = blas_threads()
        if not before:
            pytest.skip("threadpoolctl finds no BLAS")
        _big_calls()
        assert blas_threads() == before

    @pytest.mark.parametrize("limit", [1, 2, 3])
    def test_restored_under_a_limit(self, limit):
        original = blas_threads()
        if not original:
            pytest.skip("threadpoolctl finds no BLAS")
        with threadpool_limits(limits=limit, user_api="blas"):
            before = blas_threads()
            _big_calls()
            assert blas_threads() == before
        assert blas_threads() == original

    def test_restored_after_an_error(self):
        before = blas_threads()
        a = well_conditioned((3, 40, 40))
        a[1, 5, 5] = np.nan
        with pytest.raises(ValueError, match="infs or NaNs"):
            lucy.lu_factor(a)
        assert blas_threads() == before
        with pytest.raises(ValueError, match="infs or NaNs"):
            lucy.lu(a)
        assert blas_threads() == before
        lu, piv = lucy.lu_factor(well_conditioned((40, 40)))
        bad = piv.copy()
        bad[3] = 40
        with pytest.raises(ValueError, match="piv"):
            lucy.lu_solve((lu, bad), np.ones((40, 40)))
        assert blas_threads() == before

    def test_restored_after_concurrent_calls(self):
        before = blas_threads()
        with concurrent.futures.ThreadPoolExecutor(N_PYTHON_THREADS) as pool:
            futures = [pool.submit(_big_calls, seed) for seed in range(N_PYTHON_THREADS)]
            for f in futures:
                f.result()
        assert blas_threads() == before

    @pytest.mark.parametrize("caller", ["main-thread", "other-thread", "pool-thread"])
    # (201 rows: float64 with a row count a multiple of 4 takes lucy's own
    # blocked LU at this size, not getrf)
    @pytest.mark.parametrize("shape,dtype", [((1, 201, 201), np.float64),
                                             ((2, 120, 120), np.complex64)],
                             ids=["1x201x201-float64", "2x120x120-complex64"])
    def test_lapack_runs_single_threaded(self, shape, dtype, caller):
        # BLAS may use 2 threads, yet lucy's LAPACK calls give exactly what
        # single-threaded LAPACK gives (OpenBLAS's threaded getrf rounds
        # differently at these sizes), whichever Python thread calls lucy.
        # This holds however lucy keeps BLAS at one thread (a process-wide
        # hold or a per-thread setting), so it watches results, not counts.
        a = readonly(well_conditioned(shape, dtype, seed=5))
        getrf = sla.get_lapack_funcs("getrf", (a,))
        with threadpool_limits(limits=1, user_api="blas"):
            reference = [getrf(np.asfortranarray(m))[:2] for m in a]
        with threadpool_limits(limits=2, user_api="blas"):
            before = blas_threads()
            if not before or all(n == 1 for _, n in before):
                pytest.skip("cannot give BLAS more than one thread here")

            def call():
                return lucy.lu_factor(a, workers=1)

            if caller == "main-thread":
                lu, piv = call()
            elif caller == "other-thread":
                lu, piv = _in_other_thread(call)
            else:
                with concurrent.futures.ThreadPoolExecutor(2) as pool:
                    lu, piv = pool.submit(call).result()
            assert blas_threads() == before
        for i, (ref_lu, ref_piv) in enumerate(reference):
            np.testing.assert_array_equal(piv[i], ref_piv)
            assert lu[i].tobytes() == ref_lu.tobytes(), f"matrix {i} differs"


# ---------------------------------------------------------------------------
# Many Python threads at once on shared inputs

def _shared_cases():
    """Read-only inputs, small and large, with their single-threaded results."""
    cases = []
    for i, (shape, dtype) in enumerate([((200, 6, 6), np.float64), ((60, 20, 20), np.complex128),
                                        ((6, 48, 48), np.float64), ((3, 70, 70), np.float32),
                                        ((1, 120, 120), np.complex64)]):
        a = readonly(well_conditioned(shape, dtype, seed=i))
        b = readonly(well_conditioned((shape[0], shape[-1], 2), dtype, seed=100 + i))
        lu, piv = lucy.lu_factor(a, workers=1)
        lu, piv = readonly(lu), readonly(piv)
        expected = {
            "lu_factor": lucy.lu_factor(a, workers=1),
            "lu": lucy.lu(a, workers=1),
            "lu-p_indices": lucy.lu(a, p_indices=True, workers=1),
            "lu_solve": lucy.lu_solve((lu, piv), b, workers=1),
            "lu_unpack": lucy.lu_unpack(lu, piv, workers=1),
        }
        cases.append(({"a": a, "b": b, "lu": lu, "piv": piv}, expected))
    return cases


def _hammer(cases, thread_index, iterations):
    workers = [1, 2, None][thread_index % 3]
    for it in range(iterations):
        for case_index, (d, expected) in enumerate(cases):
            what = f"thread {thread_index} iteration {it} case {case_index}"
            assert_bitwise_equal(lucy.lu_factor(d["a"], workers=workers),
                                 expected["lu_factor"], what)
            assert_bitwise_equal(lucy.lu(d["a"], workers=workers), expected["lu"], what)
            assert_bitwise_equal(lucy.lu(d["a"], p_indices=True, workers=workers),
                                 expected["lu-p_indices"], what)
            assert_bitwise_equal(lucy.lu_solve((d["lu"], d["piv"]), d["b"], workers=workers),
                                 expected["lu_solve"], what)
            assert_bitwise_equal(lucy.lu_unpack(d["lu"], d["piv"], workers=workers),
                                 expected["lu_unpack"], what)
    return thread_index


class TestConcurrentCalls:
    def test_threads_on_shared_inputs(self):
        cases = _shared_cases()
        snapshots = [{k: v.tobytes() for k, v in d.items()} for d, _ in cases]
        before = blas_threads()
        barrier = threading.Barrier(N_PYTHON_THREADS)

        def job(i):
            barrier.wait(60)        # all start together
            return _hammer(cases, i, iterations=8)

        with concurrent.futures.ThreadPoolExecutor(N_PYTHON_THREADS) as pool:
            done = list(pool.map(job, range(N_PYTHON_THREADS)))
        assert done == list(range(N_PYTHON_THREADS))
        for (d, _), snap in zip(cases, snapshots):
            for k, v in d.items():
                assert v.tobytes() == snap[k], f"shared input {k} was modified"
                assert not v.flags.writeable
        assert blas_threads() == before

    def test_threads_with_their_own_set_workers(self):
        a = readonly(well_conditioned((500, 8, 8)))
        expected = lucy.lu_factor(a, workers=1)
        barrier = threading.Barrier(N_PYTHON_THREADS)

        def job(i):
            barrier.wait(60)
            with lucy.set_workers(1 + i % 3):
                for _ in range(10):
                    assert lucy.get_workers() == 1 + i % 3
                    assert_bitwise_equal(lucy.lu_factor(a), expected)
            return True

        with concurrent.futures.ThreadPoolExecutor(N_PYTHON_THREADS) as pool:
            assert all(pool.map(job, range(N_PYTHON_THREADS)))

    def test_threads_raising_errors(self):
        # Errors in some threads do not disturb the others or the BLAS hold.
        good = readonly(well_conditioned((4, 40, 40)))
        bad = well_conditioned((4, 40, 40))
        bad[2, 0, 0] = np.inf
        bad = readonly(bad)
        expected = lucy.lu_factor(good, workers=1)
        before = blas_threads()

        def job(i):
            for _ in range(10):
                if i % 2:
                    with pytest.raises(ValueError, match="infs or NaNs"):
                        lucy.lu_factor(bad)
                else:
                    assert_bitwise_equal(lucy.lu_factor(good), expected)
            return True

        with concurrent.futures.ThreadPoolExecutor(N_PYTHON_THREADS) as pool:
            assert all(pool.map(job, range(N_PYTHON_THREADS)))
        assert blas_threads() == before


# ---------------------------------------------------------------------------
# Absurd thread counts are capped before they reach OpenMP

_HUGE_WORKERS_CODE = """
import sys
import numpy as np
import lucy, lucy.mlx

rng = np.random.default_rng(0)
big = rng.standard_normal((600, 600))
many = rng.standard_normal((200_000, 4, 4)) + 4 * np.eye(4)
b = rng.standard_normal((200_000, 4, 1))
huge = int(sys.argv[1]) if len(sys.argv) > 1 else None
kw = {} if huge is None else {"workers": huge}

def same(x, y):
    x, y = (x if isinstance(x, tuple) else (x,)), (y if isinstance(y, tuple) else (y,))
    assert all(p.tobytes() == q.tobytes() for p, q in zip(x, y))

same(lucy.lu_factor(big, **kw), lucy.lu_factor(big, workers=1))
same(lucy.lu_factor(many, **kw), lucy.lu_factor(many, workers=1))
same(lucy.lu(many, **kw), lucy.lu(many, workers=1))
lu, piv = lucy.lu_factor(many, workers=1)
same(lucy.lu_solve((lu, piv), b, **kw), lucy.lu_solve((lu, piv), b, workers=1))
same(lucy.pivots_to_permutation(piv, **kw), lucy.pivots_to_permutation(piv, workers=1))
same(lucy.lu_unpack(lu, piv, **kw), lucy.lu_unpack(lu, piv, workers=1))
stream = {} if huge is None else {"stream": huge}
same(lucy.mlx.lu_factor(many, **stream), lucy.mlx.lu_factor(many, stream=1))
if huge is not None:
    with lucy.set_workers(huge):
        same(lucy.lu_factor(many), lucy.lu_factor(many, workers=1))

# The C API caps num_threads too.
from _capi import dlu_factor_batch_parallel
factor_batch_parallel = dlu_factor_batch_parallel()
a = np.ascontiguousarray(np.swapaxes(many, 1, 2))
piv_c = np.empty((len(many), 4), np.int32)
assert factor_batch_parallel(len(many), 4, 4, a.ctypes.data, 16, 1, 4, piv_c.ctypes.data,
                             4, None, None, huge or 100_000) == 0
assert (piv_c == piv).all()
print("ok")
"""


class TestThreadCap:
    """More threads than ``THREADS_PER_CPU`` per usable core are never
    started: OpenMP asked for 100000 threads kills the process (SIGSEGV in
    GOMP_parallel, or "Thread creation failed"). Each case runs in a fresh
    interpreter so that a crash fails the test, not the suite."""

    @pytest.mark.parametrize("env, argv", [
        ({}, ["100000"]), ({}, ["50000"]), ({"OMP_NUM_THREADS": "100000"}, []),
    ], ids=["workers=100000", "workers=50000", "OMP_NUM_THREADS=100000"])
    def test_huge_requests_are_capped(self, env, argv):
        # The script imports tests/_capi.py from beside this file.
        path = os.pathsep.join(filter(None, [os.path.dirname(__file__),
                                             os.environ.get("PYTHONPATH")]))
        result = subprocess.run([sys.executable, "-c", _HUGE_WORKERS_CODE, *argv],
                                env=dict(os.environ, PYTHONPATH=path, **env),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and result.stdout.strip() == "ok", (
            f"exit {result.returncode}: {result.stderr[-2000:]}")

    def test_max_threads(self):
        from lucy import _threads
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        assert _threads.max_threads() == _threads.THREADS_PER_CPU * cores >= 4
