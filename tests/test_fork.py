"""Fork safety: children forked while lucy is busy, or after it ran OpenMP
threads, neither hang nor inherit a broken state.

Each scenario runs in a fresh interpreter with a timeout, and each forked
child is waited for with its own deadline, so a hang fails the test instead
of stalling the suite.
"""

import os
import subprocess
import sys
import textwrap

import pytest
import scipy

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# Shared by the scenarios: fork, let the child run `child()`, and wait for it
# with a deadline. Exit codes: 0 ok, 97 hung (killed), else the child's own.
_FORK_HELPERS = """
import os, sys, time, warnings

def run_forked(child, deadline_s=30.0):
    pid = os.fork()
    if pid == 0:
        try:
            code = child()
        except BaseException as exc:
            print(f"child failed: {exc!r}", file=sys.stderr, flush=True)
            code = 98
        os._exit(code)
    deadline = time.monotonic() + deadline_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return 97
        time.sleep(0.002)
"""


def _run(script, timeout=240):
    # The scripts import tests/_capi.py from beside this file.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [os.path.dirname(__file__), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", _FORK_HELPERS + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout



def test_fork_while_another_thread_is_inside_lucy():
    """One thread loops on lu_factor of a matrix that reaches LAPACK (so BLAS
    is held at one thread, under lucy's lock); the main thread forks. Every
    child must finish its own lu_factor and see BLAS's thread counts as the
    parent had them before lucy held them."""
    out = _run("""
        import threading
        import numpy as np
        from threadpoolctl import threadpool_info
        import lucy

        def blas_threads():
            return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

        a = np.random.default_rng(0).standard_normal((300, 300))
        expected = blas_threads()
        stop = threading.Event()

        def busy():
            while not stop.is_set():
                lucy.lu_factor(a, workers=1)

        def child():
            warnings.simplefilter("ignore")
            lu, piv = lucy.lu_factor(a)
            if not np.allclose(lu, lucy.lu_factor(a, workers=1)[0]):
                return 3
            return 0 if blas_threads() == expected else 4

        thread = threading.Thread(target=busy)
        thread.start()
        try:
            codes = [run_forked(child) for _ in range(150)]
        finally:
            stop.set()
            thread.join()
        print("hung", codes.count(97), "blas", codes.count(4), "other",
              sum(c not in (0, 4, 97) for c in codes), "expected", expected)
    """)
    assert out.startswith("hung 0 blas 0 other 0"), out


def test_fork_after_the_cimport_apis_parallel_loop():
    """cython_lu's ?lu_factor_batch_parallel (called here through its C
    function pointer, as cimporting code calls it) starts OpenMP threads;
    GNU OpenMP cannot start them again in a forked child, so the child's
    lucy must run on one thread, say so, and finish."""
    out = _run("""
        import numpy as np
        import lucy
        from _capi import dlu_factor_batch_parallel

        factor_batch_parallel = dlu_factor_batch_parallel()

        batch, n = 64, 6
        stack = np.random.default_rng(1).standard_normal((batch, n, n)) + 8 * np.eye(n)
        a = np.ascontiguousarray(np.swapaxes(stack, 1, 2))      # column-major matrices
        piv = np.empty((batch, n), np.int32)
        ret = factor_batch_parallel(batch, n, n, a.ctypes.data, n * n, 1, n,
                                    piv.ctypes.data, n, None, None, 2)
        assert ret == 0, ret

        big = np.random.default_rng(2).standard_normal((20000, 8, 8)) + 8 * np.eye(8)

        def child():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lu, piv = lucy.lu_factor(big, workers=2)
            if not any("forked after lucy" in str(w.message) for w in caught):
                return 5
            return 0 if np.array_equal(piv, lucy.lu_factor(big, workers=1)[1]) else 3

        codes = [run_forked(child) for _ in range(3)]
        print("codes", codes)
    """)
    assert out.strip() == "codes [0, 0, 0]", out


def test_child_forked_after_lucys_parallel_call_runs_serially():
    """multiprocessing forks by default on Linux before Python 3.14: a child
    forked after lucy's own parallel call must finish, with the right results
    and one warning."""
    out = _run("""
        import numpy as np, scipy.linalg as sla, lucy

        a = np.random.default_rng(0).standard_normal((4096, 16, 16))
        lucy.lu_factor(a, workers=2)

        def child():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lu, piv = lucy.lu_factor(a, workers=2)
                lucy.lu_factor(a[:2000], workers=2)
            ref = sla.lu_factor(a[7])
            if not (np.allclose(lu[7], ref[0]) and (piv[7] == ref[1]).all()):
                return 3
            return 0 if len(caught) == 1 and "forked" in str(caught[0].message) else 5

        print("code", run_forked(child))
    """)
    assert out.strip() == "code 0", out
