"""The implementations bench/run.py times: one adapter per library.

Every adapter gives the runner the same handful of functions, so the runner
never has per-library code:

* ``convert``: NumPy input -> the library's own array. Done before timing:
  each library is timed on data it already holds, as its users would call it.
* ``ops``: ``"lu_factor": f(a)``, ``"lu": f(a)``, ``"lu_solve": f(factors, b)``
  where ``factors`` is what the same library's ``lu_factor`` returned. An op a
  library lacks is simply absent (its cell reads n/a).
* ``block``: returns once a result is really computed. JAX dispatches
  asynchronously and MLX evaluates lazily; without this they would be timed
  for queueing work, not doing it.
* ``to_numpy``: for the untimed check of each warm-up result.

A library that is not installed is reported as missing, never an error;
lucy and SciPy are ``required``: the benchmark is about them, so their
errors propagate (and fail the CI smoke run) instead of becoming n/a cells.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class Unsupported(Exception):
    """This library cannot run this input (its cell reads n/a, with the reason)."""


def _same(x):
    return x


def _nothing(_result):
    return None


@dataclass(frozen=True)
class Impl:
    name: str                                  # the table's column header
    version: str
    ops: dict[str, Callable[..., Any]]
    convert: Callable[[np.ndarray], Any] = _same
    block: Callable[[Any], None] = _nothing
    to_numpy: Callable[[Any], np.ndarray] = np.asarray
    required: bool = False
    notes: dict[str, str] = field(default_factory=dict)   # op -> remark for the README
    # Runs, untimed, before every timed call ("lucy cold" empties lucy's
    # output cache there, so its calls get fresh memory as the peers' do).
    prepare: Callable[[], None] = lambda: None


# -- lucy and SciPy: NumPy in, NumPy out, synchronous --------------------------

def _lucy_impl(name, workers, tier, prepare=lambda: None):
    """lucy at SIMD tier ``tier`` (lucy/_kernels): switched to before every
    call, untimed, since the tier columns of --tiers share one process."""
    import lucy

    def before_call():
        lucy._batch._use_kernels(tier)
        prepare()
    return Impl(name, lucy.__version__, required=True, prepare=before_call, ops={
        "lu_factor": lambda a: lucy.lu_factor(a, workers=workers),
        "lu": lambda a: lucy.lu(a, p_indices=True, workers=workers),
        "lu_solve": lambda f, b: lucy.lu_solve(f, b, workers=workers),
    })


def _lucy():
    import lucy
    tier = lucy._batch.kernel_tier()        # LUCY_KERNELS's, or the best here
    # "lucy w=1" makes the cost or gain of lucy's default thread count visible.
    # "lucy cold" starts every call with lucy's output cache empty: the time
    # of a one-off call, which pays the page faults of fresh output memory
    # as every peer does, where "lucy" reuses the memory of the output it
    # freed in the previous round, as a loop over batches does.
    return [_lucy_impl("lucy", None, tier), _lucy_impl("lucy w=1", 1, tier),
            _lucy_impl("lucy cold", None, tier, lucy.empty_cache)]


def lucy_tiers(tiers):
    """One column per SIMD tier, "lucy[avx2]", ..., default workers (run.py
    --tiers; "all": every tier this build has and this CPU runs)."""
    import lucy
    runnable = lucy._batch.kernel_tiers_supported()
    tiers = runnable if tiers == ["all"] else tiers
    for tier in tiers:
        if tier not in runnable:
            raise SystemExit(f"--tiers: {tier!r} does not run here; this build and CPU run "
                             f"{', '.join(runnable)}")
    return [_lucy_impl(f"lucy[{tier}]", None, tier) for tier in tiers]


def _scipy_batches():
    """Whether this SciPy factors stacks itself (it loops in Python over the
    batch since 1.15; older versions refuse 3-D input)."""
    import scipy.linalg as sla
    try:
        return sla.lu_factor(np.eye(2)[None].repeat(2, axis=0))[0].shape == (2, 2, 2)
    except ValueError:
        return False


def _loop_over_batch(fn):
    """``fn`` applied to each matrix (first axis) and the results stacked: what
    SciPy >= 1.15 does itself, for older SciPy."""
    def looped(*args):
        if np.ndim(args[-1]) < 3:
            return fn(*args)
        per_matrix = [fn(*_index(args, i)) for i in range(len(args[-1]))]
        if isinstance(per_matrix[0], tuple):
            return tuple(np.stack(parts) for parts in zip(*per_matrix))
        return np.stack(per_matrix)
    return looped


def _index(args, i):
    return tuple(tuple(x[i] for x in arg) if isinstance(arg, tuple) else arg[i]
                 for arg in args)


def _scipy():
    import scipy
    import scipy.linalg as sla
    ops = {
        "lu_factor": sla.lu_factor,
        "lu": lambda a: sla.lu(a, p_indices=True),
        "lu_solve": sla.lu_solve,
    }
    if not _scipy_batches():
        ops = {op: _loop_over_batch(fn) for op, fn in ops.items()}
    return [Impl("SciPy", scipy.__version__, ops, required=True)]


# -- peers ----------------------------------------------------------------------

def _torch():
    import torch
    # Never call torch.set_num_threads here: with torch 2.13 an explicit
    # set_num_threads(k > 1), even to the default, makes batched lu_factor
    # with n >= ~160 return garbage (MKL "DLASWP parameter 6" errors;
    # pytorch#141358). Default threads are what users get anyway.
    return [Impl("torch", torch.__version__, convert=torch.from_numpy,
                 to_numpy=lambda t: t.numpy(), ops={
                     "lu_factor": torch.linalg.lu_factor,
                     "lu": torch.linalg.lu,     # P comes back as a dense matrix
                     "lu_solve": lambda f, b: torch.linalg.lu_solve(f[0], f[1], b),
                 }, notes={"lu": "P is a dense M x M matrix"})]


def _jax():
    import jax
    # Without x64 JAX silently computes float64 input in float32.
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.linalg as jsl

    lu_one = jax.jit(jsl.lu)
    lu_stack = jax.jit(jax.vmap(jsl.lu))       # jsl.lu takes 2-D input only

    def convert(x):
        return jax.block_until_ready(jax.device_put(x))

    return [Impl("JAX", jax.__version__, convert=convert,
                 block=jax.block_until_ready, ops={
                     "lu_factor": jax.jit(jsl.lu_factor),
                     "lu": lambda a: (lu_stack if a.ndim == 3 else lu_one)(a),
                     "lu_solve": jax.jit(jsl.lu_solve),
                 }, notes={"lu": "jit(vmap(lu)); P is a dense M x M matrix"})]


def _mlx():
    import mlx.core as mx
    dtypes = {np.dtype(np.float32): mx.float32, np.dtype(np.float64): mx.float64,
              np.dtype(np.complex64): mx.complex64}

    def convert(x):
        # MLX kills the whole process (SIGFPE) on matrices with M or N == 0:
        # it must never see an empty array.
        if x.size == 0:
            raise Unsupported("MLX crashes on empty input")
        if x.dtype not in dtypes:
            raise Unsupported(f"MLX has no {x.dtype}")
        # mx.array(float64 array) would silently give float32: name the dtype.
        arr = mx.array(x, dtype=dtypes[x.dtype])
        mx.eval(arr)
        return arr

    import lucy
    import lucy.mlx
    return [Impl("MLX", mx.__version__, convert=convert, block=mx.eval,
                 to_numpy=np.array, ops={
                     "lu_factor": lambda a: mx.linalg.lu_factor(a, stream=mx.cpu),
                     "lu": lambda a: mx.linalg.lu(a, stream=mx.cpu),
                     # MLX has no lu_solve: that cell reads n/a.
                 }),
            # lucy's MLX-compatible functions, MLX arrays in and out: what a
            # port from MLX gets (conversions included).
            Impl("lucy.mlx", lucy.__version__, convert=convert, block=mx.eval,
                 to_numpy=np.array, ops={
                     "lu_factor": lambda a: lucy.mlx.lu_factor(a),
                     "lu": lambda a: lucy.mlx.lu(a),
                 })]


# -- Intel oneMKL's batched LAPACK, through ctypes -------------------------------

# MKL_THREADING_GNU of mkl_service.h (0 Intel, 1 sequential, 2 PGI, 3 GNU, 4 TBB)
_MKL_THREADING_GNU = 3
_MKL_PREFIX = {np.dtype(np.float32): "s", np.dtype(np.float64): "d",
               np.dtype(np.complex64): "c", np.dtype(np.complex128): "z"}
# What the loader found (library, threading layer, threads), for the JSON.
MKL_INFO: dict[str, Any] = {}


def _mkl_library():
    """libmkl_rt from the `mkl` wheel (sys.prefix/lib), else the system's."""
    import ctypes.util
    import glob
    import os
    import sys
    lib_dir = os.path.join(sys.prefix, "lib")
    found = sorted(glob.glob(os.path.join(lib_dir, "libmkl_rt.so*"))
                   + glob.glob(os.path.join(lib_dir, "libmkl_rt*.dylib")))
    return found[-1] if found else ctypes.util.find_library("mkl_rt")


class _MKLFactors(tuple):
    """MKL's (lu, ipiv): lu a (..., M, N) view of the column-major array MKL
    wrote, ipiv MKL's own (1-based, int32), as MKL's getrs takes them."""


def _mkl():
    import ctypes
    import os
    path = _mkl_library()
    if path is None:
        raise ImportError("no libmkl_rt (pip install mkl)")
    # MKL must share lucy's OpenMP runtime (libgomp): with its default Intel
    # layer it brings libiomp5, a second pool of one thread per core whose idle
    # threads spin for 200 ms (KMP_BLOCKTIME) and take the cores of whoever runs
    # next on this 2-core machine. Without the setting, MKL picks GNU or Intel
    # by whether libgomp happens to be loaded already (measured with this wheel).
    # The variable is read when the library loads; the call below is for an MKL
    # that had already loaded (it returns the layer in force).
    os.environ["MKL_THREADING_LAYER"] = "GNU"
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        raise ImportError(f"{path}: {exc}") from exc
    layer = lib.MKL_Set_Threading_Layer(_MKL_THREADING_GNU)
    threads = lib.MKL_Get_Max_Threads()
    try:
        from importlib import metadata
        version = metadata.version("mkl")
    except metadata.PackageNotFoundError:        # a system MKL: "... Version 2026.2-Product ..."
        text = ctypes.create_string_buffer(256)
        lib.MKL_Get_Version_String(text, len(text))
        version = text.value.decode(errors="replace").split("Version ")[-1].split("-")[0]
    MKL_INFO.update(library=path, threading_layer="GNU" if layer == _MKL_THREADING_GNU
                    else f"not GNU ({layer})", max_threads=threads)

    def ints(*values):          # Fortran-style: every scalar by pointer
        return [ctypes.byref(ctypes.c_int(v)) for v in values]

    def routine(dtype, name):
        if dtype not in _MKL_PREFIX:
            raise Unsupported(f"MKL has no {dtype} LU")
        return getattr(lib, _MKL_PREFIX[dtype] + name)

    def ptr(x):
        return x.ctypes.data_as(ctypes.c_void_p)

    def check_info(info, name):
        if (info < 0).any():
            raise RuntimeError(f"MKL {name}: argument {-info.min()} is wrong")

    def lu_factor(a):
        getrf = routine(a.dtype, "getrf_batch_strided")
        *batch, m, n = a.shape
        count = int(np.prod(batch))
        # The transposing copy into a fresh column-major array, as lucy's
        # (non-overwriting) call copies its input: MKL then overwrites it.
        lu_cm = np.ascontiguousarray(np.swapaxes(a, -1, -2))
        k = min(m, n)
        ipiv = np.empty((*batch, k), dtype=np.int32)
        info = np.empty(max(count, 1), dtype=np.int32)     # one per matrix
        getrf(*ints(m, n), ptr(lu_cm), *ints(max(1, m), m * n), ptr(ipiv),
              *ints(max(1, k), count), ptr(info))
        check_info(info, "getrf")
        return _MKLFactors((np.swapaxes(lu_cm, -1, -2), ipiv))

    def lu_solve(factors, b):
        lu, ipiv = factors
        getrs = routine(lu.dtype, "getrs_batch_strided")
        lu_cm = np.swapaxes(lu, -1, -2)          # MKL's array again, no copy
        *batch, n, nrhs = b.shape
        count = int(np.prod(batch))
        # A fresh column-major copy of b (getrs overwrites it): transposing
        # for several right-hand sides, a plain copy for one.
        x_cm = np.array(np.swapaxes(b, -1, -2), order="C")
        info = np.empty(max(count, 1), dtype=np.int32)
        getrs(ctypes.byref(ctypes.c_char(b"N")), *ints(n, nrhs), ptr(lu_cm),
              *ints(max(1, n), n * n), ptr(ipiv), *ints(max(1, n)), ptr(x_cm),
              *ints(max(1, n), n * nrhs, count), ptr(info))
        check_info(info, "getrs")
        return np.swapaxes(x_cm, -1, -2)

    def to_numpy(x):
        """SciPy's convention: (lu, 0-based piv) for MKL's factors."""
        if isinstance(x, _MKLFactors):
            return np.asarray(x[0]), x[1] - 1
        return np.asarray(x)

    return [Impl("MKL", version, to_numpy=to_numpy, ops={
                 "lu_factor": lu_factor,
                 "lu_solve": lu_solve,
                 # MKL has no P, L, U split: that cell reads n/a.
             }, notes={"lu_factor": "?getrf_batch_strided on a column-major copy",
                       "lu_solve": "?getrs_batch_strided"})]


# Column order of the tables. The loaders import their library when called.
LOADERS = {"lucy": _lucy, "SciPy": _scipy, "torch": _torch, "MKL": _mkl, "JAX": _jax,
           "MLX": _mlx}
PEERS = ("SciPy", "torch", "MKL", "JAX", "MLX")     # what lucy is compared with
# "lucy vs best": the fastest of these on each row (MLX's single-threaded
# reference LAPACK is never the fastest, and its targets stay its own).
BEST_PEERS = ("torch", "MKL", "JAX", "SciPy")


def load_impls():
    """The implementations that can run here, and {name: why not} for the rest."""
    impls, missing = [], {}
    for name, loader in LOADERS.items():
        try:
            impls.extend(loader())
        except ImportError as exc:
            if name in ("lucy", "SciPy"):
                raise
            missing[name] = str(exc).splitlines()[0]
    return impls, missing
