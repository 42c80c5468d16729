"""Threads: the ``workers`` argument, its default, and keeping BLAS serial.

Two pools could run lucy's work: lucy's own OpenMP threads and the BLAS
library's threads (OpenBLAS in SciPy's wheels). lucy uses only the first.
While lucy calls LAPACK, BLAS is held at one thread, for two reasons:

* speed: OpenMP threads over the batch while OpenBLAS also threads each call
  oversubscribes the cores (measured 2-3x slower than either alone);
* reproducibility: OpenBLAS's threaded ``getrf`` rounds differently for
  different thread counts, and lucy promises identical results for any
  ``workers``. lucy's own parallel split is fixed by the problem, not by the
  thread count, so any number of threads gives the same bits.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import operator
import os
import sys
import threading
import warnings
from typing import TYPE_CHECKING

import numpy as np

from . import _batch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType
    from typing import Any, SupportsIndex

    from ._typing import Workers

__all__ = ["set_workers", "get_workers", "resolve_workers", "blas_single_threaded"]

_default_workers: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "lucy_default_workers", default=None)


# A request for more threads than this many per usable core is capped there:
# threads beyond the cores only oversubscribe them (and give the same bits,
# as any thread count does), while OpenMP asked for tens of thousands of
# threads fails to create them and kills the process. The factor leaves room
# to test more threads than cores. cython_lu's C API applies the same cap.
THREADS_PER_CPU = _batch.THREADS_PER_CPU


def max_threads() -> int:
    """The most threads one lucy call starts: ``THREADS_PER_CPU`` times the
    usable cores."""
    return THREADS_PER_CPU * _usable_cpus()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _check_workers(workers: SupportsIndex) -> int:
    # np.bool_ too: NumPy 1.26 still lets operator.index() take it.
    if isinstance(workers, (bool, np.bool_)):
        raise TypeError("workers must be an integer or None, not bool")
    try:
        workers = operator.index(workers)
    except TypeError:
        raise TypeError(f"workers must be an integer or None, "
                        f"not {type(workers).__name__}") from None
    if workers == 0:
        raise ValueError("workers must not be 0 (use 1 for one thread, "
                         "-1 for all cores)")
    if workers < 0:
        cpus = _usable_cpus()
        if workers < -cpus:
            raise ValueError(f"workers={workers} asks for fewer than one "
                             f"thread on this machine ({cpus} cores)")
        workers = cpus + 1 + workers
    return workers


def resolve_workers(workers: Workers = None) -> int:
    """The thread count a call with this ``workers`` argument will use.

    ``None`` means the default: the value set by :func:`set_workers`, else
    the threads OpenMP would give a parallel region started now from this
    thread (``OMP_NUM_THREADS``, threadpoolctl's limits and the CPU affinity
    all lower it)."""
    if workers is None:
        workers = _default_workers.get()
        if workers is None:
            return max(1, _batch.openmp_max_threads())
    return _check_workers(workers)


# GNU OpenMP (libgomp, what GCC builds use) cannot run a parallel region in
# a process forked after the parent had run one: the child waits for ever on
# worker threads that fork did not copy. multiprocessing forks by default on
# Linux before Python 3.14, so a Pool whose tasks call lucy would hang. lucy
# therefore runs on one thread in such a child (and says so once).
_parallel_started = False
_forked_after_parallel = False
_fork_warned = False


def _openmp_threads_started() -> bool:
    """Whether lucy has started OpenMP threads in this process: through its
    Python functions, or through cython_lu's C API called from other code."""
    cython_lu = sys.modules.get("lucy.cython_lu")
    return _parallel_started or (cython_lu is not None and cython_lu._openmp_threads_started())


def _after_fork_in_child() -> None:
    global _forked_after_parallel, _fork_warned
    _forked_after_parallel = _forked_after_parallel or _openmp_threads_started()
    _fork_warned = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _caller_stacklevel() -> int:
    """warnings.warn's stacklevel that names the first caller outside lucy."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame: FrameType | None
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package:
        frame, level = frame.f_back, level + 1
    return level


def fork_safe_threads(threads: int) -> int:
    """``threads`` for a compiled call about to run, or 1 in a child process
    forked after lucy had started its OpenMP threads."""
    global _parallel_started, _fork_warned
    if threads <= 1:
        return threads
    if _forked_after_parallel:
        if not _fork_warned:
            _fork_warned = True
            warnings.warn(
                "lucy runs on one thread in this process: it was forked after lucy "
                "had started its OpenMP threads, which the GNU OpenMP runtime cannot "
                "start again in a forked child. For parallel lucy in child processes "
                "use multiprocessing's 'spawn' or 'forkserver' start method.",
                RuntimeWarning, stacklevel=_caller_stacklevel())
        return 1
    _parallel_started = True
    return threads


def get_workers() -> int:
    """Return the number of threads lucy's functions use by default.

    Returns
    -------
    workers : int
        The value set by the innermost :func:`set_workers` block of this
        thread or context, else the number of threads OpenMP may use here.

    Examples
    --------
    >>> import lucy
    >>> with lucy.set_workers(1):
    ...     lucy.get_workers()
    1
    """
    return resolve_workers(None)


@contextlib.contextmanager
def set_workers(workers: SupportsIndex) -> Iterator[None]:
    """Context manager setting the default ``workers`` of lucy's functions.

    Parameters
    ----------
    workers : int
        As the ``workers`` argument: a positive thread count, or a negative
        number counting back from the number of usable cores (-1: all).
        The setting is local to the current thread (and ``contextvars``
        context), like :func:`scipy.fft.set_workers`.

    Examples
    --------
    >>> import numpy as np, lucy
    >>> a = np.random.default_rng(0).standard_normal((1000, 8, 8))
    >>> with lucy.set_workers(1):
    ...     lu, piv = lucy.lu_factor(a)   # one thread
    """
    token = _default_workers.set(_check_workers(workers))
    try:
        yield
    finally:
        _default_workers.reset(token)


# -- BLAS held at one thread ----------------------------------------------

# Process-wide (setter, getter) pairs; SciPy's and NumPy's wheels prefix
# OpenBLAS's symbols with ``scipy_`` and suffix the ILP64 build's with ``64_``.
_PROCESS_WIDE = [
    (f"{p}openblas_set_num_threads{s}", f"{p}openblas_get_num_threads{s}")
    for p in ("", "scipy_") for s in ("", "64_")
] + [("MKL_Set_Num_Threads", "MKL_Get_Max_Threads"),
     ("bli_thread_set_num_threads", "bli_thread_get_num_threads")]


def _c_function(dll: ctypes.CDLL, name: str, argtypes: list[Any],
                restype: Any) -> Any:
    fn = getattr(dll, name, None)
    if fn is not None:
        fn.argtypes, fn.restype = argtypes, restype
    return fn


class _BlasThreads:
    """Holds BLAS at one thread, process-wide, while lucy calls LAPACK.

    BLAS thread counts are process-global, so overlapping calls from several
    Python threads share one hold: the first to enter saves the counts and
    sets 1, the last to leave restores them. While a lucy call runs, BLAS
    calls made by other threads of the process therefore run on one thread
    too.

    The library's own functions are called, through pointers found once:
    threadpoolctl lets only one Python thread change OpenBLAS's count and
    silently ignores the others, and OpenBLAS's
    ``openblas_set_num_threads_local`` is not thread-local in its pthreads
    builds (it sets the global count), so neither can give per-call control.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)    # depth dropped to 0 / fork done
        self._depth = 0
        self._fork_pending = False      # a fork waits: no new hold may start
        self._saved: list[int] | None = None
        # (set, get) ctypes functions, found on first use
        self._process_wide: list[tuple[Callable[[int], None], Callable[[], int]]] | None = None
        if hasattr(os, "register_at_fork"):
            # A fork copies the lock and the hold as they are, but not the
            # threads inside lucy that would release them: the child would
            # block on the lock and keep BLAS at one thread for its whole
            # life. The lock is held across the fork, so the child sees a
            # consistent state, and the child then drops the hold. The fork
            # also waits until no lucy call is inside LAPACK/BLAS: a thread
            # forked away in the middle of BLAS can leave one of BLAS's own
            # locks taken (OpenBLAS's buffer allocator), and the child's
            # first BLAS call then waits for ever (1 child in 150 hung so).
            os.register_at_fork(before=self._lock_for_fork,
                                after_in_parent=self._unlock_after_fork,
                                after_in_child=self._reset_in_child)

    def _lock_for_fork(self) -> None:
        self._lock.acquire()
        # New holds wait (__enter__) until the fork is done, so that the
        # running ones can drain instead of a busy loop of calls starving it.
        self._fork_pending = True
        while self._depth:
            self._idle.wait()       # (releases the lock while it waits)

    def _unlock_after_fork(self) -> None:
        self._fork_pending = False
        self._idle.notify_all()
        self._lock.release()

    def _reset_in_child(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._fork_pending = False
        if self._depth:
            self._restore()
            self._depth = 0

    def _restore(self) -> None:
        # Only while a hold is in place, which __enter__ saved.
        assert self._process_wide is not None and self._saved is not None
        for (set_, _), n in zip(self._process_wide, self._saved):
            if n != 1:
                set_(n)
        self._saved = None

    def setup(self) -> None:
        """Find the loaded BLAS libraries (threadpoolctl; about a
        millisecond) and their thread-count functions."""
        try:
            from threadpoolctl import ThreadpoolController
            libs = ThreadpoolController().select(user_api="blas").lib_controllers
            dlls = [ctypes.CDLL(lib.filepath) for lib in libs]
        except Exception:  # threadpoolctl missing or failing: nothing to hold
            dlls = []
        self._process_wide = []
        for dll in dlls:
            for set_name, get_name in _PROCESS_WIDE:
                set_fn = _c_function(dll, set_name, [ctypes.c_int], None)
                get_fn = _c_function(dll, get_name, [], ctypes.c_int)
                if set_fn is not None and get_fn is not None:
                    self._process_wide.append((set_fn, get_fn))
                    break

    def __enter__(self) -> None:
        with self._lock:
            while self._fork_pending:
                self._idle.wait()
            if self._process_wide is None:
                # Looked up on first use: calls that never reach LAPACK
                # (lucy's own kernels) do not pay for it at import.
                self.setup()
            assert self._process_wide is not None
            if self._depth == 0:
                self._saved = [get() for _, get in self._process_wide]
                for (set_, _), n in zip(self._process_wide, self._saved):
                    if n != 1:
                        set_(1)
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._restore()
                self._idle.notify_all()


blas_single_threaded = _BlasThreads()
