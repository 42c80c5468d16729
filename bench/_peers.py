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


# Column order of the tables. The loaders import their library when called.
LOADERS = {"lucy": _lucy, "SciPy": _scipy, "torch": _torch, "JAX": _jax, "MLX": _mlx}
PEERS = ("SciPy", "torch", "JAX", "MLX")     # what lucy is compared with


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
