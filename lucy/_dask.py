"""lucy's functions on Dask arrays: lazy, one lucy call per chunk.

:mod:`lucy._api` imports this module only when an argument is a Dask array,
so ``import lucy`` never imports Dask. Every public function of lucy has a
twin here with the same arguments, and returns lazy Dask arrays where the
NumPy path returns ndarrays.

How a call becomes a graph
--------------------------
1. lucy's own NumPy function runs on zero-size stand-ins of the arguments
   (the real matrix dimensions, no matrices). Every check the NumPy path
   makes on shapes, dtypes, ``trans`` and ``workers`` therefore happens
   here, at graph-build time, with the same message, and the stand-in's
   outputs give each result's dtype and matrix shape. Batch dimensions are
   checked with the NumPy path's broadcasting rule.
2. The matrix (core) dimensions of every argument are rechunked to a single
   chunk; batch dimensions keep whatever chunks they have (``blockwise``
   brings the arguments of ``lu_solve`` and ``lu_unpack`` to common batch
   chunks, broadcasting dimensions of size 1).
3. One ``dask.array.blockwise`` task per batch chunk calls lucy's NumPy
   function on that chunk and returns all its outputs together; each output
   is then one ``getitem`` layer over those tasks, so computing ``lu`` and
   ``piv`` together factors each chunk once.

Nothing reads the data before the user computes. What only the data can
tell is reported at compute time, by the chunk that holds it: non-finite
input and out-of-range pivots raise ``ValueError`` naming the global batch
index, and every chunk of ``lu_factor`` with singular matrices issues its own
``LinAlgWarning`` (in the process that ran the chunk: a distributed worker's
warnings go to that worker's log).

Threads
-------
Dask already runs one task per core (the threaded scheduler's pool,
``distributed``'s worker threads), so a chunk runs lucy on one thread unless
the call says otherwise, and BLAS stays at one thread while lucy calls
LAPACK: Dask threads x 1 x 1 threads in all. ``workers=`` given to the call,
or a :func:`lucy.set_workers` setting in effect when the call builds the
graph, is passed to every chunk instead (a negative count is resolved
against the cores of the machine that runs the chunk).

Examples
--------
>>> import numpy as np, dask.array as da, lucy
>>> stack = np.random.default_rng(0).standard_normal((1000, 4, 4))
>>> x = da.from_array(stack, chunks=(250, 2, 4))
>>> lu, piv = lucy.lu_factor(x)          # a graph: nothing is computed yet
>>> lu
dask.array<lucy-lu_factor-0, shape=(1000, 4, 4), dtype=float64, chunksize=(250, 4, 4), chunktype=numpy.ndarray>
>>> lu_np, piv_np = lucy.lu_factor(stack)
>>> np.array_equal(lu.compute(), lu_np), np.array_equal(piv.compute(), piv_np)
(True, True)
"""

from __future__ import annotations

import math
import operator
import re
import warnings
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.layers import ArraySliceDep
from scipy.linalg import LinAlgWarning

from . import _api, _threads
from ._dtypes import as_numeric_array

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias, TypeVar

    from numpy.typing import NDArray

    from ._typing import InexactArray, Int32Array, SingularSummary, Trans, Workers

    _R = TypeVar("_R")
    # The slices of the broadcast batch dimensions that one chunk covers.
    _Where: TypeAlias = tuple[slice, ...]
    # (array, number of core dimensions, name) of each argument.
    _Args: TypeAlias = list[tuple[da.Array, int, str]]
    # lucy's NumPy function on one chunk, all its outputs as a tuple.
    _ChunkFunc: TypeAlias = Callable[..., tuple[NDArray[Any], ...]]

__all__ = ["lu_factor", "lu_factor_ex", "lu", "lu_solve", "lu_unpack"]


# -- the calls, one per chunk ----------------------------------------------

def _task_workers(workers: Workers) -> Workers:
    """Threads one chunk's lucy call uses: ``workers`` as given to the
    graph, else one (Dask runs one task per core already)."""
    return 1 if workers is None else workers


def _warn_singular(summary: SingularSummary, where: _Where, batch: tuple[int, ...]) -> None:
    count, first, diag = summary
    if count == 0:
        return
    assert first is not None    # there is a first singular matrix
    if not batch:
        # A single matrix: the NumPy path's message, word for word.
        _api._warn_singular(count, first, diag, batch, "lu_factor")
        return
    index = tuple(s.start + i for s, i in zip(where, _api._batch_index(batch, first)))
    warnings.warn(
        f"lu_factor: {count} of {math.prod(batch)} matrices in the Dask chunk "
        f"[{_span(where)}] are singular; the first is at batch index {index} "
        f"(diagonal number {diag} is exactly zero). Use lucy.lu_factor_ex for the "
        "per-matrix info.", LinAlgWarning, stacklevel=2)


def _span(where: _Where) -> str:
    return ", ".join(f"{s.start}:{s.stop}" for s in where)


def _lu_factor_chunk(where: _Where, a: NDArray[Any], *, check_finite: bool,
                     workers: Workers) -> tuple[InexactArray, Int32Array]:
    lu, piv, summary = _api._factor(a, False, check_finite, _task_workers(workers),
                                    per_matrix_info=False)
    _warn_singular(summary, where, lu.shape[:-2])
    return lu, piv


def _lu_factor_ex_chunk(where: _Where, a: NDArray[Any], *, check_finite: bool,
                        workers: Workers) -> tuple[InexactArray, Int32Array, Int32Array]:
    return _api.lu_factor_ex(a, check_finite=check_finite, workers=_task_workers(workers))


def _lu_chunk(where: _Where, a: NDArray[Any], *, permute_l: bool, check_finite: bool,
              p_indices: bool, workers: Workers) -> tuple[NDArray[Any], ...]:
    return _api.lu(a, permute_l=permute_l, check_finite=check_finite,
                   p_indices=p_indices, workers=_task_workers(workers))


def _lu_unpack_chunk(where: _Where, lu: NDArray[Any], piv: NDArray[Any], *, permute_l: bool,
                     p_indices: bool, workers: Workers) -> tuple[NDArray[Any], ...]:
    return _api.lu_unpack(lu, piv, permute_l=permute_l, p_indices=p_indices,
                          workers=_task_workers(workers))


def _lu_solve_chunk(where: _Where, lu: NDArray[Any], piv: NDArray[Any], b: NDArray[Any], *,
                    trans: Trans, check_finite: bool, workers: Workers) -> tuple[InexactArray]:
    return (_api.lu_solve((lu, piv), b, trans, check_finite=check_finite,
                          workers=_task_workers(workers)),)


# lucy's messages locate a bad matrix as "(first at batch index (i, j))",
# counted within the array lucy was given: here, one chunk.
_LOCAL_INDEX = re.compile(r"first at batch index \(([0-9, ]*)\)")


def _in_whole_array(message: str, where: _Where) -> str:
    """``message`` with a chunk's batch index turned into the whole array's."""
    def whole(match: re.Match[str]) -> str:
        local = [int(i) for i in match.group(1).split(",") if i.strip()]
        index = tuple(s.start + i for s, i in zip(where, local))
        return f"first at batch index {index}, in the Dask chunk [{_span(where)}]"
    return _LOCAL_INDEX.sub(whole, message)


def _chunk_task(where: _Where | None, *chunks: NDArray[Any], chunk_func: _ChunkFunc,
                options: dict[str, Any]) -> tuple[NDArray[Any], ...]:
    """One Dask task: lucy on one chunk; all outputs as a tuple. ``where``
    holds the chunk's slices of the broadcast batch dimensions."""
    where = () if where is None else where
    try:
        return chunk_func(where, *chunks, **options)
    except ValueError as exc:
        raise ValueError(_in_whole_array(str(exc), where)) from None


# -- building the graph -----------------------------------------------------

def _as_dask(x: object, name: str) -> da.Array:
    if isinstance(x, da.Array):
        meta = x._meta
        if isinstance(meta, np.ma.MaskedArray):
            raise ValueError(f"{name}: masked arrays are not supported")
        if type(meta) is not np.ndarray:
            raise TypeError(f"{name}: lucy runs on NumPy chunks, and this Dask "
                            f"array's chunks are {type(meta).__module__}."
                            f"{type(meta).__name__}")
        if x.dtype.char == "O":
            # The NumPy path converts objects by looking at the numbers;
            # a lazy array must know its result dtype before it has them.
            raise TypeError(f"{name}: Dask arrays of dtype object are not supported; "
                            "convert with .astype() to a numeric dtype first")
        return x
    if type(x).__module__.partition(".")[0] == "dask":
        raise TypeError(f"{name}: of the Dask collections lucy takes only "
                        f"dask.array.Array, not {type(x).__name__}")
    # NumPy data beside Dask arrays (say, one matrix shared by a chunked b):
    # converted as the NumPy path converts it, then one chunk. (from_array
    # has no annotations: the variable's gives its result a type.)
    converted: da.Array = da.from_array(as_numeric_array(x, name, 0), chunks=-1)
    return converted


def _stand_in(x: da.Array, core_ndim: int) -> NDArray[Any]:
    """A zero-size ndarray of ``x``'s dtype with ``x``'s matrix dimensions
    and batch dimensions of size 0, at least one unless ``x`` is 1-D (or
    ``x``'s own shape when it has too few dimensions, for the NumPy path's
    error). lucy's NumPy functions check it and return empty outputs."""
    nbatch = x.ndim - core_ndim
    if nbatch < 0:
        shape = x.shape
    else:
        # A 1-D piv, or lu_solve's vector b, has no batch to stand in for.
        shape = (0,) * (max(nbatch, 1) if x.ndim > 1 else 0) + x.shape[nbatch:]
    if any(math.isnan(d) for d in shape):
        raise ValueError(f"an argument of shape {x.shape} has matrix dimensions of "
                         "unknown size; call .compute_chunk_sizes() on it first")
    # Zero bytes whatever the shape: every stride is 0.
    return np.broadcast_to(np.zeros((), x.dtype), shape)


def _empty_outputs(call: Callable[..., _R], args: _Args) -> _R:
    """``call`` (lucy's NumPy function) on stand-ins of ``args``, the
    (array, core dimensions, name) triples of :func:`_map_chunks`: its
    checks, and its empty outputs. Its error messages name the arrays' real
    shapes rather than the stand-ins'."""
    stand_ins = [_stand_in(x, core) for x, core, _ in args]
    try:
        return call(*stand_ins)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for stand_in, (x, _, _) in zip(stand_ins, args):
            message = message.replace(str(stand_in.shape), str(x.shape))
        raise type(exc)(message) from None


def _map_chunks(func_name: str, chunk_func: _ChunkFunc, args: _Args,
                outputs: list[tuple[NDArray[Any], int]],
                options: dict[str, Any]) -> tuple[da.Array, ...]:
    """Lazy outputs of ``chunk_func`` mapped over the batch chunks of ``args``.

    ``args``: (dask array, number of core dimensions, name) for each
    argument, batch dimensions leading. ``outputs``: (stand-in output, its
    number of core dimensions) for each output; the stand-in's trailing
    dimensions give the output's matrix shape, its dtype the output's."""
    batches = [x.shape[:x.ndim - core] for x, core, _ in args]
    # Unknown sizes (nan) broadcast with anything here; Dask checks them
    # when it aligns the chunks.
    _api._broadcast_batch_shapes(
        [tuple(1 if math.isnan(d) else d for d in b) for b in batches],
        [name for _, _, name in args])
    nbatch = max(len(b) for b in batches)
    batch_ind = tuple(f"batch{i}" for i in range(nbatch))
    argpairs = []
    for i, (x, core, _) in enumerate(args):
        nb = x.ndim - core
        # Every matrix whole in one chunk: lucy factors a matrix at a time.
        x = x.rechunk({axis: -1 for axis in range(nb, x.ndim)})
        argpairs += [x, batch_ind[nbatch - nb:] + tuple(f"core{i}_{j}" for j in range(core))]
    chunkss, arrays = da.core.unify_chunks(*argpairs)
    argpairs[::2] = arrays
    name = f"lucy-{func_name}"
    where = (ArraySliceDep(tuple(chunkss[i] for i in batch_ind)), batch_ind) if nbatch else (None, None)
    token = tokenize(name, chunk_func, options, *argpairs)
    tuples = da.blockwise(
        _chunk_task, batch_ind, *where, *argpairs,
        chunk_func=chunk_func, options=options,
        name=f"{name}-{token}", concatenate=True, align_arrays=False,
        meta=np.empty((0,) * nbatch, object))
    results = []
    for i, (out, core) in enumerate(outputs):
        core_shape = out.shape[out.ndim - core:]
        core_ind = tuple(f"out{i}_{j}" for j in range(core))
        results.append(da.blockwise(
            operator.getitem, batch_ind + core_ind, tuples, batch_ind, i, None,
            new_axes=dict(zip(core_ind, core_shape)),
            name=f"{name}-{i}-{token}",
            meta=np.empty((0,) * (nbatch + core), out.dtype)))
    return tuple(results)


def _graph_workers(workers: Workers) -> Workers:
    """The ``workers`` a graph carries to its chunks: the argument, else a
    :func:`lucy.set_workers` setting in effect now (it is local to this
    thread, and Dask's threads and processes would not see it), else None."""
    return _threads._default_workers.get() if workers is None else workers


# -- the public functions' Dask twins ----------------------------------------
# ``overwrite_*`` are accepted and ignored: a chunk may be a view of the
# caller's array, or the input of other tasks, or needed again if a worker
# dies and the task is rerun.

def lu_factor(a: object, overwrite_a: bool = False, check_finite: bool = True, *,
              workers: Workers = None) -> tuple[da.Array, ...]:
    """:func:`lucy.lu_factor` of a Dask array: lazy ``(lu, piv)``."""
    args = [(_as_dask(a, "a"), 2, "a")]
    lu, piv, _ = _empty_outputs(
        lambda a: _api.lu_factor_ex(a, check_finite=check_finite, workers=workers), args)
    return _map_chunks("lu_factor", _lu_factor_chunk, args, [(lu, 2), (piv, 1)],
                       dict(check_finite=check_finite, workers=_graph_workers(workers)))


def lu_factor_ex(a: object, overwrite_a: bool = False, check_finite: bool = True, *,
                 workers: Workers = None) -> tuple[da.Array, ...]:
    """:func:`lucy.lu_factor_ex` of a Dask array: lazy ``(lu, piv, info)``."""
    args = [(_as_dask(a, "a"), 2, "a")]
    lu, piv, info = _empty_outputs(
        lambda a: _api.lu_factor_ex(a, check_finite=check_finite, workers=workers), args)
    return _map_chunks("lu_factor_ex", _lu_factor_ex_chunk, args,
                       [(lu, 2), (piv, 1), (info, 0)],
                       dict(check_finite=check_finite, workers=_graph_workers(workers)))


def lu(a: object, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True,
       p_indices: bool = False, *, workers: Workers = None) -> tuple[da.Array, ...]:
    """:func:`lucy.lu` of a Dask array: lazy ``(p, l, u)`` or ``(pl, u)``."""
    args = [(_as_dask(a, "a"), 2, "a")]
    outs = _empty_outputs(
        lambda a: _api.lu(a, permute_l=permute_l, check_finite=check_finite,
                          p_indices=p_indices, workers=workers), args)
    return _map_chunks("lu", _lu_chunk, args, _with_core_ndims(outs, p_indices),
                       dict(permute_l=permute_l, check_finite=check_finite,
                            p_indices=p_indices, workers=_graph_workers(workers)))


def _with_core_ndims(outs: tuple[NDArray[Any], ...],
                     p_indices: bool) -> list[tuple[NDArray[Any], int]]:
    """lu's outputs, ``(p, l, u)`` or ``(pl, u)``, each paired with its
    number of core dimensions (p is 1-D with ``p_indices``)."""
    return [(out, 1 if p_indices and len(outs) == 3 and i == 0 else 2)
            for i, out in enumerate(outs)]


def lu_unpack(lu: object, piv: object, *, permute_l: bool = False, p_indices: bool = False,
              workers: Workers = None) -> tuple[da.Array, ...]:
    """:func:`lucy.lu_unpack` of Dask arrays: lazy ``(p, l, u)`` or ``(pl, u)``."""
    args = [(_as_dask(lu, "lu"), 2, "lu"), (_as_dask(piv, "piv"), 1, "piv")]
    outs = _empty_outputs(
        lambda lu, piv: _api.lu_unpack(lu, piv, permute_l=permute_l, p_indices=p_indices,
                                       workers=workers), args)
    return _map_chunks("lu_unpack", _lu_unpack_chunk, args, _with_core_ndims(outs, p_indices),
                       dict(permute_l=permute_l, p_indices=p_indices,
                            workers=_graph_workers(workers)))


def lu_solve(lu_and_piv: tuple[object, object], b: object, trans: Trans = 0,
             overwrite_b: bool = False, check_finite: bool = True, *,
             workers: Workers = None) -> da.Array:
    """:func:`lucy.lu_solve` with Dask arrays among ``lu``, ``piv`` and ``b``:
    a lazy ``x``."""
    try:
        lu, piv = lu_and_piv
    except (TypeError, ValueError):
        raise TypeError("lu_and_piv must be the pair (lu, piv) returned by "
                        "lu_factor") from None
    b = _as_dask(b, "b")
    # A 1-D b is one vector (M,), with no batch dimensions.
    b_core = 1 if b.ndim == 1 else 2
    args = [(_as_dask(lu, "lu"), 2, "lu"), (_as_dask(piv, "piv"), 1, "piv"), (b, b_core, "b")]
    x = _empty_outputs(
        lambda lu, piv, b: _api.lu_solve((lu, piv), b, trans, check_finite=check_finite,
                                         workers=workers), args)
    return _map_chunks("lu_solve", _lu_solve_chunk, args, [(x, b_core)],
                       dict(trans=trans, check_finite=check_finite,
                            workers=_graph_workers(workers)))[0]
