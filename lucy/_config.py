"""Build and runtime configuration, for bug reports and ``python -m lucy``."""

from __future__ import annotations

import os
import platform
import sys
import warnings
from typing import Any

import numpy as np
import scipy

from . import _batch, _build_config, _outputs
from ._threads import _usable_cpus, get_workers

__all__ = ["show_config", "config"]

# What show_config and ``python -m lucy`` say when OpenMP is off because the
# compiler had none (a wheel from the package index always has it).
HOW_TO_GET_OPENMP = """\
To get it, rebuild lucy with a compiler that has OpenMP: GCC, or Clang with
libomp (Debian/Ubuntu: apt install libomp-dev; macOS: brew install libomp):
  pip install --force-reinstall --no-deps --no-cache-dir lucy-batched-lu
or, in a clone, pip install --force-reinstall --no-deps . (the build log
then shows "Run-time dependency OpenMP found: YES"). To build a serial lucy
on purpose, and silence the warning at import, add
-Csetup-args=-Dopenmp=disabled to that command."""


def openmp_warning(openmp: bool, openmp_option: str, cpus: int) -> str | None:
    """The warning ``import lucy`` gives about OpenMP, or None.

    Only a build that wanted OpenMP and did not get it (the compiler had
    none) warns, and only where more than one core is usable: that lucy runs
    every batch on one core without saying so anywhere else a user would
    look. A build with ``-Dopenmp=disabled`` is serial by choice and stays
    quiet.
    """
    if openmp or openmp_option == "disabled" or cpus < 2:
        return None
    return (f"lucy was built without OpenMP (the compiler had none), so every batch "
            f"runs on one of this machine's {cpus} cores; lucy.show_config() says "
            f"how to rebuild it with OpenMP")


def _warn_if_openmp_is_missing() -> None:
    message = openmp_warning(_batch.openmp_enabled(), _build_config.openmp_option,
                             _usable_cpus())
    if message:
        # stacklevel=2 names lucy/__init__.py; the user's `import lucy` lies
        # further up, behind importlib's frames.
        warnings.warn(message, UserWarning, stacklevel=2)


def _blas_libraries() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    ctl = ThreadpoolController().select(user_api="blas")
    return [
        {"library": lib.internal_api, "version": lib.version,
         "threads": lib.num_threads, "path": lib.filepath}
        for lib in ctl.lib_controllers
    ]


def config() -> dict[str, Any]:
    """lucy's configuration as a dict (see :func:`show_config`)."""
    from . import __version__
    return {
        "lucy": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "openmp": _batch.openmp_enabled(),
        "openmp_option": _build_config.openmp_option,
        "default_workers": get_workers(),
        "usable_cpus": _usable_cpus(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "lapack": "scipy.linalg.cython_lapack",
        "lapack_int_bytes": _batch.lapack_int_size(),
        "small_matrix_kernel_max_n": _batch.SMALL_N,
        "kernels": _batch.kernel_tier(),
        "kernel_tiers_built": _batch.kernel_tiers_built(),
        "kernel_tiers_supported": _batch.kernel_tiers_supported(),
        "LUCY_KERNELS": os.environ.get("LUCY_KERNELS"),
        "kernel_families": _batch.kernel_families(),
        "simd_blocked_real_max_n": _batch.PANELS_MAX_N,
        "output_cache": dict(zip(("blocks", "bytes", "limit"), _outputs.cache_state())),
        "blas": _blas_libraries(),
    }


def openmp_lines(c: dict[str, Any]) -> list[str]:
    """What show_config says about OpenMP, given :func:`config`'s dict."""
    if c["openmp"]:
        return ["on"]
    if c["openmp_option"] == "disabled":
        return ["off (built with -Dopenmp=disabled: every batch runs on one thread)"]
    return ["OFF: lucy was built without OpenMP (the compiler had none), so every "
            "batch runs on one thread.", *HOW_TO_GET_OPENMP.splitlines()]


def show_config() -> None:
    """Print how lucy was built and what it will use at run time.

    Shows the versions, whether the kernels were compiled with OpenMP
    (without it every batch runs on one thread), the default number of
    workers, the SIMD tier the kernels run at (``LUCY_KERNELS`` forces one:
    auto, portable, avx2, avx512, neon) and the tiers built, the output
    cache (see :func:`empty_cache`), and the LAPACK/BLAS libraries (SciPy's)
    lucy calls.

    Examples
    --------
    >>> import lucy
    >>> lucy.show_config()  # doctest: +ELLIPSIS
    lucy ...
      openmp: ...
    """
    c = config()
    print(f"lucy {c['lucy']} (Python {c['python']}, numpy {c['numpy']}, scipy {c['scipy']})")
    print(f"  platform: {c['platform']}")
    print("  openmp: " + "\n    ".join(openmp_lines(c)))
    print(f"  default workers: {c['default_workers']} (usable cores: {c['usable_cpus']}, "
          f"OMP_NUM_THREADS={c['OMP_NUM_THREADS']})")
    print(f"  lapack: {c['lapack']} ({8 * c['lapack_int_bytes']}-bit integers)")
    print(f"  kernels: {c['kernels']} (LUCY_KERNELS={c['LUCY_KERNELS']}; built: "
          f"{', '.join(c['kernel_tiers_built'])}; this CPU runs: "
          f"{', '.join(c['kernel_tiers_supported'])})")
    small, blocked = c["small_matrix_kernel_max_n"], c["simd_blocked_real_max_n"]
    fam = c["kernel_families"]
    rows = ", ".join(f"{' or '.join(map(str, dict.fromkeys(r)))} ({name})"
                     for name, r in fam["rows"].items() if r)
    print(f"  own kernels: every dtype up to {small} x {small}"
          + ("; SIMD: " + ", ".join(f"{name} up to {n} x {n}"
                                    for name, n in fam["columns_max_n"].items())
             + f" (rows a multiple of {rows})"
             + (", tiny ones four at a time" if any(max(n) for n in fam["lanes"].values())
                else "")
             + (f", float32/float64 up to {blocked} x {blocked} blocked on those panels"
                if fam["panels"] else "")
             if fam["columns"] else
             "; no SIMD kernels in this build (they need GCC >= 12 or Clang)"
             if c["kernel_tiers_built"] == ["portable"] and not fam["columns"] else
             "; no SIMD kernels at this tier"))
    print(f"  lu_solve: lucy's substitutions up to {_batch.SOLVE_KERNEL_MAX_NRHS} right-hand "
          f"sides at any size, any number up to {small} x {small}; beyond, LAPACK's getrs "
          f"below {_batch.SOLVE_BLOCKS_MIN} x {_batch.SOLVE_BLOCKS_MIN} and blocked "
          f"substitutions by BLAS gemm/trsm from there")
    cache = c["output_cache"]
    print("  output cache: " + (
        f"freed outputs of 4 MiB or more kept for reuse, up to {cache['limit'] / 2**20:.0f} "
        f"MiB (LUCY_OUTPUT_CACHE_BYTES); now {cache['blocks']} blocks, "
        f"{cache['bytes'] / 2**20:.1f} MiB" if cache["limit"] else
        "off (LUCY_OUTPUT_CACHE_BYTES=0, or no mmap on this platform)"))
    for lib in c["blas"]:
        print(f"  blas: {lib['library']} {lib['version']}, {lib['threads']} threads, {lib['path']}")
