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

import contextlib
import contextvars
import operator
import os
import threading

from . import _batch

__all__ = ["set_workers", "get_workers", "resolve_workers", "blas_single_threaded"]

_default_workers = contextvars.ContextVar("lucy_default_workers", default=None)


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _check_workers(workers):
    if isinstance(workers, bool):
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


def resolve_workers(workers=None):
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


def get_workers():
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
def set_workers(workers):
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


# -- BLAS held at one thread -----------------------------------------------

class _BlasThreads:
    """Holds every loaded BLAS at one thread while any lucy call runs.

    BLAS thread counts are process-global, so overlapping calls from several
    Python threads share one hold: the first to enter saves the counts and
    sets 1, the last to leave restores them. The library handles come from
    threadpoolctl, looked up once (about a millisecond) on first use; after
    that a hold costs a few direct C calls."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = None
        self._controllers = None

    def _libraries(self):
        if self._controllers is None:
            try:
                from threadpoolctl import ThreadpoolController
                ctl = ThreadpoolController().select(user_api="blas")
                self._controllers = list(ctl.lib_controllers)
            except Exception:  # threadpoolctl missing or failing: do nothing
                self._controllers = []
        return self._controllers

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                libs = self._libraries()
                self._saved = [lib.get_num_threads() for lib in libs]
                for lib, n in zip(libs, self._saved):
                    if n != 1:
                        lib.set_num_threads(1)
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for lib, n in zip(self._libraries(), self._saved):
                    if n != 1:
                        lib.set_num_threads(n)
                self._saved = None


blas_single_threaded = _BlasThreads()
