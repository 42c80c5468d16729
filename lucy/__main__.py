"""``python -m lucy``: build configuration, a self-check, and lucy vs SciPy.

Usage: python -m lucy [--batch B] [--n N] [--dtype float64] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy
import scipy.linalg as sla

import lucy

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _self_check(a: NDArray[Any]) -> tuple[bool | np.bool_, bool, float, float, float]:
    """lucy against SciPy on every matrix, and A == P @ L @ U."""
    lu, piv = lucy.lu_factor(a)
    worst, pivots_equal = 0.0, True
    for idx in np.ndindex(*a.shape[:-2]):
        ref_lu, ref_piv = sla.lu_factor(a[idx])
        pivots_equal &= bool(np.array_equal(piv[idx], ref_piv))
        worst = max(worst, float(np.abs(lu[idx] - ref_lu).max()))
    p, l, u = lucy.lu(a)
    recon = float(np.abs(p @ l @ u - a).max())
    b = a[..., :1]          # SciPy's rule: b with 2+ dims is (..., M, NRHS)
    x = lucy.lu_solve((lu, piv), b)
    resid = float(np.abs(a @ x - b).max())
    eps = np.finfo(a.dtype).eps
    tol = 1e3 * eps * a.shape[-1]
    ok = pivots_equal and worst <= tol and recon <= tol and resid <= tol * 100
    return ok, pivots_equal, worst, recon, resid


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lucy",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batch", type=int, default=None, help="matrices in the batch")
    parser.add_argument("--n", type=int, default=8, help="matrix size (n x n)")
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64", "complex64", "complex128"])
    parser.add_argument("--quick", action="store_true", help="a smaller batch, fewer repeats")
    args = parser.parse_args(argv)
    batch = args.batch or (5_000 if args.quick else 50_000)
    repeats = 3 if args.quick else 7

    if not lucy._batch.openmp_enabled():
        # First, where nobody misses it: every timing below is one core's.
        print("!! lucy was built WITHOUT OpenMP: every batch runs on one thread "
              "(see 'openmp:' below)\n")
    print("== lucy: build and runtime configuration")
    lucy.show_config()

    rng = np.random.default_rng(0)
    dtype = np.dtype(args.dtype)
    a = rng.standard_normal((batch, args.n, args.n))
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(a.shape)
    a = a.astype(dtype)

    print(f"\n== self-check on a built-in batch: {batch} x {args.n} x {args.n} {dtype}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        ok, pivots_equal, worst, recon, resid = _self_check(a)
    print(f"  pivots equal SciPy's for every matrix: {pivots_equal}")
    print(f"  max |lu - SciPy's lu|: {worst:.2e}   max |P L U - A|: {recon:.2e}   "
          f"max |A x - b|: {resid:.2e}")
    print(f"  self-check: {'passed' if ok else 'FAILED'}")

    print(f"\n== speed: lu_factor on the same batch, median of {repeats} (SciPy {scipy.__version__})")
    t_scipy = _median_time(lambda: sla.lu_factor(a), max(1, repeats // 2))
    lucy.lu_factor(a)   # warm up threads
    t_lucy = _median_time(lambda: lucy.lu_factor(a), repeats)
    t_lucy1 = _median_time(lambda: lucy.lu_factor(a, workers=1), repeats)
    print(f"  scipy.linalg.lu_factor : {t_scipy * 1e3:10.2f} ms")
    print(f"  lucy.lu_factor         : {t_lucy * 1e3:10.2f} ms   "
          f"({lucy.get_workers()} workers)   speed-up {t_scipy / t_lucy:6.1f}x")
    print(f"  lucy.lu_factor, 1 thread: {t_lucy1 * 1e3:9.2f} ms   speed-up {t_scipy / t_lucy1:6.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
