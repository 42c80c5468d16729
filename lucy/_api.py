"""lucy's public functions: validation, dtype and shape rules, warnings.

Each function checks its arguments, allocates its outputs, and makes one call
into the compiled batch loops of ``lucy._batch``; there is no Python loop over
the batch.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from scipy.linalg import LinAlgWarning

from . import _batch, _outputs
from ._dtypes import as_numeric_array, real_dtype, result_dtype
from ._threads import blas_single_threaded, fork_safe_threads, max_threads, resolve_workers

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Protocol, TypeVar

    from numpy.typing import ArrayLike, NDArray

    from ._typing import (DaskArray, DaskArrayT, InexactArray, Int32Array, RealArray,
                          SingularSummary, Trans, Workers)

    _T = TypeVar("_T")
    # lu's and lu_unpack's results for a permute_l or p_indices known only at run time.
    _PLU = (tuple[InexactArray, InexactArray] | tuple[Int32Array, InexactArray, InexactArray]
            | tuple[RealArray, InexactArray, InexactArray])

    class _DaskTwins(Protocol):
        """lucy._dask, as _dask_twin returns it (a module can satisfy a
        protocol; mypy checks these results against lucy._dask's)."""
        def lu_factor(self, *args: Any, **kwargs: Any) -> tuple[DaskArray, ...]: ...
        def lu_factor_ex(self, *args: Any, **kwargs: Any) -> tuple[DaskArray, ...]: ...
        def lu(self, *args: Any, **kwargs: Any) -> tuple[DaskArray, ...]: ...
        def lu_unpack(self, *args: Any, **kwargs: Any) -> tuple[DaskArray, ...]: ...
        def lu_solve(self, *args: Any, **kwargs: Any) -> DaskArray: ...

__all__ = ["lu_factor", "lu_factor_ex", "lu", "lu_solve", "lu_unpack"]

# Below this much arithmetic (multiply-adds, summed over the batch) a call
# runs on one thread: starting a team of threads costs more than it saves.
_PARALLEL_MIN_WORK = 100_000
# The same for lu_solve, in real multiply-adds of its substitutions (M^2
# NRHS a system, four times that for complex types): they stream the
# factors once, at memory speed, and waking a team of threads costs as much
# as a solve of 100 64 x 64 systems (bench/kernels.md).
_SOLVE_PARALLEL_MIN_WORK = 1_000_000
# LAPACK takes C int dimensions.
_MAX_DIM = 2**31 - 1


def _dask_twin(*args: object) -> _DaskTwins | None:
    """lucy._dask when an argument is a Dask array, else None. Only the
    type's module name is read, so that ``import lucy`` never imports Dask."""
    if any(type(x).__module__.partition(".")[0] == "dask" for x in args):
        from . import _dask
        return _dask
    return None


def _broadcast_batch_shapes(shapes: Sequence[tuple[int, ...]],
                            names: Sequence[str]) -> tuple[int, ...]:
    """NumPy's broadcasting rule for batch shapes (np.broadcast_shapes stops
    at 32 dimensions; arrays may have 64)."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    batch = []
    for dims in zip(*padded):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
            raise ValueError(f"batch shapes of {listed} do not broadcast together")
        batch.append(sizes.pop() if sizes else 1)
    return tuple(batch)


def _broadcast_to(arr: NDArray[Any], batch: tuple[int, ...], core_ndim: int) -> NDArray[Any]:
    """``arr`` with its batch dimensions broadcast to ``batch`` (a read-only
    view, stride 0 where broadcast; any number of dimensions), for the
    kernels to read; ``arr`` itself when it has that batch shape already
    (as_strided costs microseconds a call)."""
    nbatch = arr.ndim - core_ndim
    if arr.shape[:nbatch] == batch:
        return arr
    pad = len(batch) - nbatch
    strides = [0] * pad + [
        0 if size != want else stride
        for size, want, stride in zip(arr.shape[:nbatch], batch[pad:], arr.strides[:nbatch])]
    return np.lib.stride_tricks.as_strided(
        arr, tuple(batch) + arr.shape[nbatch:], tuple(strides) + arr.strides[nbatch:],
        writeable=False)


def _plan_threads(workers: Workers, batch_size: int, work_per_item: float,
                  threads_inside: bool = False, min_work: int = _PARALLEL_MIN_WORK) -> int:
    """Threads for one compiled call: the ``workers`` request, capped at
    :func:`max_threads` and at what the work can use (``threads_inside``:
    the kernel's plan uses threads within one matrix)."""
    threads = min(resolve_workers(workers), max_threads())
    if not threads_inside:
        threads = min(threads, batch_size)
    if threads > 1 and batch_size * work_per_item < min_work:
        return 1
    return fork_safe_threads(max(threads, 1))


def _check_core_size(*dims: int, name: str = "a") -> None:
    for d in dims:
        if d > _MAX_DIM:
            raise ValueError(f"{name} has a dimension of {d}, more than LAPACK "
                             f"can index ({_MAX_DIM})")


def _run_kernel(kernel: Callable[..., _T], args: tuple[object, ...], reaches_lapack: bool) -> _T:
    """One compiled call; BLAS held at one thread if it may call LAPACK
    (matrices lucy's own kernels factor never do). Returns what it returns."""
    if reaches_lapack:
        with blas_single_threaded:
            return kernel(*args)
    return kernel(*args)


def _batch_index(batch: tuple[int, ...], flat: int) -> tuple[int, ...]:
    """The batch index (a tuple) of flat C-order batch position ``flat``."""
    return tuple(int(i) for i in np.unravel_index(flat, batch))


def _raise_nonfinite(info: Int32Array, names: str) -> None:
    # min() needs no temporary; the batch-sized comparison runs only on failure.
    if info.size and info.min() == _batch.INFO_NONFINITE:
        _raise_nonfinite_at(np.flatnonzero(info == _batch.INFO_NONFINITE)[0], info.shape, names)


def _raise_nonfinite_at(flat: int, batch: tuple[int, ...], names: str) -> None:
    where = f" (first at batch index {_batch_index(batch, flat)})" if batch else ""
    raise ValueError(f"{names} must not contain infs or NaNs{where}; "
                     "pass check_finite=False to skip this check")


def _warn_singular(count: int, flat: int | None, diag: int, batch: tuple[int, ...],
                   func: str) -> None:
    """Warn that ``count`` matrices of a ``batch``-shaped stack are singular,
    the first at flat position ``flat`` with zero pivot number ``diag``."""
    if count == 0:
        return
    assert flat is not None     # there is a first singular matrix
    if not batch:
        msg = f"Diagonal number {diag} is exactly zero. Singular matrix."
    else:
        msg = (f"{func}: {count} of {math.prod(batch)} matrices are singular; the "
               f"first is at batch index {_batch_index(batch, flat)} (diagonal number "
               f"{diag} is exactly zero). Use lucy.lu_factor_ex for the per-matrix info.")
    warnings.warn(msg, LinAlgWarning, stacklevel=3)


def _in_factor_layout(arr: NDArray[Any], dtype: np.dtype[Any]) -> bool:
    """Whether ``arr`` can hold lu_factor's result in place: the result dtype,
    writeable, aligned, and each matrix column-major with the batch in C
    order (the layout lu_factor returns)."""
    if arr.dtype != dtype or not (arr.flags.writeable and arr.flags.aligned):
        return False
    if arr.ndim == 2:
        return arr.flags.f_contiguous
    return np.swapaxes(arr, -1, -2).flags.c_contiguous


def _empty_factor_layout(batch: tuple[int, ...], m: int, n: int,
                         dtype: np.dtype[Any]) -> NDArray[Any]:
    """A (*batch, m, n) array whose matrices are column-major, batch in C order."""
    return np.swapaxes(_outputs.empty((*batch, n, m), dtype), -1, -2)


@overload
def _factor(a: object, overwrite_a: bool, check_finite: bool, workers: Workers,
            per_matrix_info: Literal[True]) -> tuple[InexactArray, Int32Array, Int32Array]: ...
@overload
def _factor(a: object, overwrite_a: bool, check_finite: bool, workers: Workers,
            per_matrix_info: Literal[False]
            ) -> tuple[InexactArray, Int32Array, SingularSummary]: ...
def _factor(a: object, overwrite_a: bool, check_finite: bool, workers: Workers,
            per_matrix_info: bool) -> tuple[InexactArray, Int32Array, Int32Array | SingularSummary]:
    """lu, piv and either the per-matrix info array or, without
    ``per_matrix_info``, only (number of singular matrices, flat position of
    the first, its info): lu_factor keeps no batch-sized status array."""
    workers = resolve_workers(workers)
    a1 = as_numeric_array(a, "a", 2)
    dtype = result_dtype(a1)
    *batch, m, n = a1.shape
    batch = tuple(batch)
    _check_core_size(m, n)
    k = min(m, n)
    in_place = overwrite_a and _in_factor_layout(a1, dtype)
    lu = a1 if in_place else _empty_factor_layout(batch, m, n, dtype)
    piv = np.empty((*batch, k), np.int32)
    info = np.zeros(batch, np.int32) if per_matrix_info else None
    if lu.size == 0:
        return lu, piv, info if info is not None else (0, 0, 0)
    if in_place:
        src = lu
    elif a1.dtype == dtype and a1.flags.aligned:
        src = a1      # read in place by the kernels, whatever its strides
    else:
        # Other dtypes, byte orders or misaligned data: numpy casts straight
        # into the output, which is then factored in place.
        np.copyto(lu, a1, casting="unsafe")
        src = lu
    plan = _batch.factor_plan(dtype, m, n)
    threads = _plan_threads(workers, math.prod(batch), _batch.factor_work(m, n),
                            plan.threads_inside)
    summary = _run_kernel(_batch.factor, (src, lu, piv, info, check_finite, threads),
                          plan.reaches_lapack)
    if per_matrix_info:
        assert info is not None
        if check_finite:
            _raise_nonfinite(info, "a")
        return lu, piv, info
    assert summary is not None      # the kernel's summary, as info is None
    first_nonfinite, singular, first_singular, diag = summary
    if check_finite and first_nonfinite is not None:
        _raise_nonfinite_at(first_nonfinite, batch, "a")
    return lu, piv, (singular, first_singular, diag)


_CONVENTIONS = """
    The pivots ``piv`` are int32, 0-based, and are LAPACK's sequential row
    interchanges: row ``i`` of the matrix was interchanged with row
    ``piv[..., i]``, for i = 0, ..., K-1 in order. They are SciPy's pivots;
    MLX's are the same numbers as uint32 and PyTorch's are these plus one.
    ``lu`` holds U in its upper triangle and L, without its unit diagonal,
    below it; each matrix of ``lu`` is stored column-major (the batch
    dimensions in C order), the layout LAPACK works in, so no transpose back
    is paid; for 2-D input this is exactly SciPy's result."""


@overload
def lu_factor(a: DaskArrayT, overwrite_a: bool = ..., check_finite: bool = ..., *,
              workers: Workers = ...) -> tuple[DaskArrayT, DaskArrayT]: ...
@overload
def lu_factor(a: ArrayLike, overwrite_a: bool = ..., check_finite: bool = ..., *,
              workers: Workers = ...) -> tuple[InexactArray, Int32Array]: ...
def lu_factor(a: ArrayLike | DaskArray, overwrite_a: bool = False, check_finite: bool = True, *,
              workers: Workers = None) -> tuple[InexactArray, Int32Array] | tuple[DaskArray, ...]:
    """Compute the pivoted LU decomposition of each matrix in a stack.

    The decomposition is ``A = P @ L @ U`` with P a permutation matrix, L
    lower triangular (trapezoidal) with unit diagonal and U upper triangular
    (trapezoidal). A drop-in for :func:`scipy.linalg.lu_factor` that takes
    stacks ``(..., M, N)`` and factors them in parallel.

    Parameters
    ----------
    a : (..., M, N) array_like
        Matrices to decompose. Any numeric dtype; the computation runs in
        SciPy's dtype for it (float32 for bool, int8/16, uint8/16, float16
        and float32; float64 for wider integers, float64 and longdouble;
        complex64; complex128 for complex128 and clongdouble).
    overwrite_a : bool, optional
        Allow the factors to be written over ``a``. This happens, with no
        copy at all, only when ``a`` is a writeable array already in the
        output layout (the result dtype, each matrix column-major with the
        batch dimensions in C order, e.g. a Fortran-ordered 2-D array);
        then the returned ``lu`` is ``a``. Otherwise ``a`` is left alone.
    check_finite : bool, optional
        Check that the input contains only finite numbers (the check is
        fused into the copy and costs little). With False, inf or NaN input
        gives meaningless factors but never a crash.
    workers : int, optional, keyword-only
        Threads to use: a positive count, or negative to count back from
        the number of usable cores (-1: all). Default: :func:`get_workers`.
        The result is identical for any value. A call never starts more
        than 4 threads per usable core: larger requests (including a large
        ``OMP_NUM_THREADS``) are capped there, as threads beyond the cores
        only oversubscribe them.

    Returns
    -------
    lu : (..., M, N) ndarray
        L and U of each matrix in one array (see Notes).
    piv : (..., K) ndarray of int32
        Pivot indices, ``K = min(M, N)``: row ``i`` of the matrix was
        interchanged with row ``piv[..., i]``.

    Raises
    ------
    ValueError
        If ``a`` has fewer than 2 dimensions, or contains inf or NaN with
        ``check_finite=True``.
    TypeError
        If ``a`` does not hold numbers (strings, datetimes, objects).

    Warns
    -----
    scipy.linalg.LinAlgWarning
        Once per call when some matrices are exactly singular (a zero on
        U's diagonal), saying how many and where the first one is. The
        factorization is still returned and valid. Use
        :func:`lu_factor_ex` to get the per-matrix status instead.

    See Also
    --------
    lu_factor_ex : the same, returning per-matrix ``info`` instead of warning
    lu_solve : solve with the factorization
    lu : P, L and U as separate arrays
    lu_unpack : P, L, U from ``(lu, piv)`` without factoring again

    Notes
    -----%s

    Empty matrices (M or N zero) and zero-size batches return empty results
    (SciPy raises for zero-size batches). For empty input the result has
    the computation dtype rather than the input's.

    Examples
    --------
    >>> import numpy as np
    >>> import lucy
    >>> A = np.array([[2, 5, 8, 7], [5, 2, 2, 8], [7, 5, 6, 6], [5, 4, 4, 8]])
    >>> lu, piv = lucy.lu_factor(A)
    >>> piv
    array([2, 2, 3, 3], dtype=int32)

    Rebuild A from the factors: apply the row swaps to get ``perm`` with
    ``A[perm] == L @ U``.

    >>> L = np.tril(lu, k=-1) + np.eye(4)
    >>> U = np.triu(lu)
    >>> perm = lucy.pivots_to_permutation(piv)
    >>> perm
    array([2, 0, 3, 1], dtype=int32)
    >>> np.allclose(A[perm], L @ U)
    True

    A stack of matrices is factored in one call, each matrix exactly as
    SciPy factors it:

    >>> import scipy.linalg
    >>> stack = np.random.default_rng(0).standard_normal((1000, 6, 6))
    >>> lu, piv = lucy.lu_factor(stack)
    >>> lu.shape, piv.shape
    ((1000, 6, 6), (1000, 6))
    >>> lu7, piv7 = scipy.linalg.lu_factor(stack[7])
    >>> np.allclose(lu[7], lu7), np.array_equal(piv[7], piv7)
    (True, True)
    """
    if (dask := _dask_twin(a)) is not None:
        return dask.lu_factor(a, overwrite_a, check_finite, workers=workers)
    lu, piv, (singular, first, diag) = _factor(a, overwrite_a, check_finite, workers,
                                               per_matrix_info=False)
    _warn_singular(singular, first, diag, lu.shape[:-2], "lu_factor")
    return lu, piv


if lu_factor.__doc__:       # None under python -OO
    lu_factor.__doc__ %= _CONVENTIONS


@overload
def lu_factor_ex(a: DaskArrayT, overwrite_a: bool = ..., check_finite: bool = ..., *,
                 workers: Workers = ...) -> tuple[DaskArrayT, DaskArrayT, DaskArrayT]: ...
@overload
def lu_factor_ex(a: ArrayLike, overwrite_a: bool = ..., check_finite: bool = ..., *,
                 workers: Workers = ...) -> tuple[InexactArray, Int32Array, Int32Array]: ...
def lu_factor_ex(a: ArrayLike | DaskArray, overwrite_a: bool = False, check_finite: bool = True,
                 *, workers: Workers = None
                 ) -> tuple[InexactArray, Int32Array, Int32Array] | tuple[DaskArray, ...]:
    """LU decomposition of each matrix, with the per-matrix LAPACK status.

    The same as :func:`lu_factor` but it never warns about singular
    matrices: it returns LAPACK's ``info`` for each matrix instead, for code
    that must know which matrices are singular (like
    ``torch.linalg.lu_factor_ex``).

    Parameters
    ----------
    a : (..., M, N) array_like
        Matrices to decompose (see :func:`lu_factor`).
    overwrite_a, check_finite : bool, optional
        As in :func:`lu_factor`.
    workers : int, optional, keyword-only
        As in :func:`lu_factor`.

    Returns
    -------
    lu : (..., M, N) ndarray
        L and U of each matrix in one array, as from :func:`lu_factor`.
    piv : (..., K) ndarray of int32
        0-based pivot indices, as from :func:`lu_factor`.
    info : (...) ndarray of int32
        Per matrix: 0 if U has no zero on its diagonal, else ``j > 0``
        where ``U[j-1, j-1]`` is the first exact zero. Shape ``()`` for a
        single matrix.

    See Also
    --------
    lu_factor

    Examples
    --------
    >>> import numpy as np
    >>> import lucy
    >>> a = np.stack([np.eye(3), np.ones((3, 3)), 2 * np.eye(3)])
    >>> lu, piv, info = lucy.lu_factor_ex(a)
    >>> info
    array([0, 2, 0], dtype=int32)
    >>> np.flatnonzero(info)        # which matrices are singular
    array([1])
    """
    if (dask := _dask_twin(a)) is not None:
        return dask.lu_factor_ex(a, overwrite_a, check_finite, workers=workers)
    return _factor(a, overwrite_a, check_finite, workers, per_matrix_info=True)


# lu and lu_unpack return (pl, u) with permute_l=True, else (p, l, u) with p
# a row-index vector (p_indices=True) or a permutation matrix: a literal
# True or False picks the tuple, a bool known only at run time gives the
# union. p_indices=True needs every argument before it when passed by
# position, so it has one overload by position and one by keyword.
@overload
def lu(a: DaskArrayT, permute_l: Literal[True], overwrite_a: bool = ...,
       check_finite: bool = ..., p_indices: bool = ..., *,
       workers: Workers = ...) -> tuple[DaskArrayT, DaskArrayT]: ...
@overload
def lu(a: DaskArrayT, permute_l: Literal[False] = ..., overwrite_a: bool = ...,
       check_finite: bool = ..., p_indices: bool = ..., *,
       workers: Workers = ...) -> tuple[DaskArrayT, DaskArrayT, DaskArrayT]: ...
@overload
def lu(a: DaskArrayT, permute_l: bool, overwrite_a: bool = ..., check_finite: bool = ...,
       p_indices: bool = ..., *, workers: Workers = ...
       ) -> tuple[DaskArrayT, DaskArrayT] | tuple[DaskArrayT, DaskArrayT, DaskArrayT]: ...
@overload
def lu(a: ArrayLike, permute_l: Literal[True], overwrite_a: bool = ...,
       check_finite: bool = ..., p_indices: bool = ..., *,
       workers: Workers = ...) -> tuple[InexactArray, InexactArray]: ...
@overload
def lu(a: ArrayLike, permute_l: Literal[False], overwrite_a: bool, check_finite: bool,
       p_indices: Literal[True], *,
       workers: Workers = ...) -> tuple[Int32Array, InexactArray, InexactArray]: ...
@overload
def lu(a: ArrayLike, permute_l: Literal[False] = ..., overwrite_a: bool = ...,
       check_finite: bool = ..., *, p_indices: Literal[True],
       workers: Workers = ...) -> tuple[Int32Array, InexactArray, InexactArray]: ...
@overload
def lu(a: ArrayLike, permute_l: Literal[False] = ..., overwrite_a: bool = ...,
       check_finite: bool = ..., p_indices: Literal[False] = ..., *,
       workers: Workers = ...) -> tuple[RealArray, InexactArray, InexactArray]: ...
@overload
def lu(a: ArrayLike, permute_l: bool = ..., overwrite_a: bool = ..., check_finite: bool = ...,
       p_indices: bool = ..., *, workers: Workers = ...) -> _PLU: ...
def lu(a: ArrayLike | DaskArray, permute_l: bool = False, overwrite_a: bool = False,
       check_finite: bool = True, p_indices: bool = False, *,
       workers: Workers = None) -> _PLU | tuple[DaskArray, ...]:
    """LU decomposition with partial pivoting of each matrix, as P, L, U.

    A drop-in for :func:`scipy.linalg.lu` on ``(..., M, N)`` stacks. The
    decomposition satisfies ``A == P @ L @ U``; with ``permute_l=True`` the
    returned ``PL`` satisfies ``A == PL @ U``. The outputs are assembled in
    the same compiled pass that factors each matrix.

    Parameters
    ----------
    a : (..., M, N) array_like
        Matrices to decompose (any numeric dtype, cast as in
        :func:`lu_factor`).
    permute_l : bool, optional
        Return ``(PL, U)`` with ``PL = P @ L`` instead of ``(P, L, U)``.
    overwrite_a : bool, optional
        Accepted for compatibility; ``a`` is never written to (the outputs
        are new arrays in any case).
    check_finite : bool, optional
        Check that the input contains only finite numbers.
    p_indices : bool, optional
        Return the permutation as row indices ``p`` (int32) with
        ``A == L[p] @ U`` (batched: ``np.take_along_axis(L, p[..., None],
        -2) @ U``) instead of a permutation matrix.
    workers : int, optional, keyword-only
        Threads to use (see :func:`lu_factor`).

    Returns
    -------
    p : (..., M, M) ndarray or (..., M) ndarray of int32
        Permutation matrices (real dtype: float32 for float32/complex64,
        float64 otherwise), or row indices with ``p_indices=True``. Not
        returned when ``permute_l=True``.
    l : (..., M, K) ndarray
        Unit lower triangular or trapezoidal, ``K = min(M, N)``.
    pl : (..., M, K) ndarray
        ``P @ L``, returned instead of ``p, l`` when ``permute_l=True``.
    u : (..., K, N) ndarray
        Upper triangular or trapezoidal.

    See Also
    --------
    lu_factor : the compact form ``(lu, piv)``, faster and smaller
    lu_unpack : P, L, U from ``(lu, piv)`` without factoring again

    Notes
    -----
    Singular matrices give a valid decomposition and no warning, as in
    SciPy; use :func:`lu_factor_ex` to find them. ``p_indices`` are int32
    and ``P`` has the real dtype for every shape (SciPy's 1 x 1 shortcut
    returns int64 indices and a complex ``P`` for complex input). The outputs
    are C-ordered. ``p`` is the inverse of the permutation ``perm`` of
    :func:`pivots_to_permutation` (``A[perm] == L @ U``). For an ``M x 0``
    matrix (K = 0) ``P`` is the ``M x M`` identity, so that ``A == P @ L @ U``
    holds with ``L`` of shape ``(M, 0)``; SciPy returns ``P`` of shape
    ``(0, 0)`` there.

    Examples
    --------
    >>> import numpy as np
    >>> import lucy
    >>> A = np.array([[2, 5, 8, 7], [5, 2, 2, 8], [7, 5, 6, 6], [5, 4, 4, 8]])
    >>> p, l, u = lucy.lu(A)
    >>> np.allclose(A, p @ l @ u)
    True
    >>> p, _, _ = lucy.lu(A, p_indices=True)
    >>> p
    array([1, 3, 0, 2], dtype=int32)
    >>> np.allclose(A, l[p] @ u)
    True

    Stacks, including tall and wide matrices:

    >>> A = np.random.default_rng(0).uniform(-4, 4, size=(3, 2, 4, 6))
    >>> p, l, u = lucy.lu(A)
    >>> p.shape, l.shape, u.shape
    ((3, 2, 4, 4), (3, 2, 4, 4), (3, 2, 4, 6))
    >>> np.allclose(A, p @ l @ u)
    True
    >>> pl, u = lucy.lu(A, permute_l=True)
    >>> np.allclose(A, pl @ u)
    True
    """
    if (dask := _dask_twin(a)) is not None:
        return dask.lu(a, permute_l, overwrite_a, check_finite, p_indices, workers=workers)
    a1 = as_numeric_array(a, "a", 2)
    return _plu(a1, None, permute_l, p_indices, check_finite, workers)


def _plu(a1: NDArray[Any], piv: NDArray[np.int32 | np.int64] | None, permute_l: bool,
         p_indices: bool, check_finite: bool, workers: Workers, name: str = "a") -> _PLU:
    """lu() when ``piv`` is None; lu_unpack() of factors ``a1`` otherwise."""
    workers = resolve_workers(workers)
    dtype = result_dtype(a1)
    *batch, m, n = a1.shape
    _check_core_size(m, n, name=name)
    k = min(m, n)
    lower = _outputs.empty((*batch, m, k), dtype)
    upper = _outputs.empty((*batch, k, n), dtype)
    if permute_l:
        perm_kind, perm = 0, None
    elif p_indices:
        perm_kind, perm = 1, _outputs.empty((*batch, m), np.int32)
    else:
        # Zeros: fresh memory comes zeroed by the kernel, reused memory is
        # cleared in one pass; the kernel writes the ones.
        perm_kind, perm = 2, _outputs.zeros((*batch, m, m), real_dtype(dtype))
    outputs: _PLU = (lower, upper) if perm is None else (perm, lower, upper)
    info = np.zeros(batch, np.int32)
    if a1.size == 0:
        # No pivots (K == 0, or no matrices): the permutation is the identity.
        if perm_kind == 1:
            assert perm is not None
            perm[...] = np.arange(m, dtype=np.int32)
        elif perm_kind == 2:
            assert perm is not None
            perm[..., np.arange(m), np.arange(m)] = 1
        return outputs
    if a1.dtype == dtype and a1.flags.aligned:
        src = a1
    else:
        # Cast into whichever output has a's shape; the kernel reads each
        # matrix into its work matrix before writing that output's slot.
        src = upper if m <= n else lower
        np.copyto(src, a1, casting="unsafe")
    plan = _batch.factor_plan(dtype, m, n)
    threads = _plan_threads(workers, info.size,
                            (_batch.factor_work(m, n) if piv is None else 0) + m * m,
                            piv is None and plan.threads_inside)
    work = np.empty(threads * _batch.LANES * m * n, dtype)
    iwork = np.empty(threads * _batch.LANES * (k + m), np.int32)
    args = (src, piv, perm, lower, upper, info, perm_kind, work, iwork,
            check_finite, threads)
    _run_kernel(_batch.lu, args, piv is None and plan.reaches_lapack)
    if check_finite:
        _raise_nonfinite(info, "a")
    _raise_bad_pivots(info, "piv", m)
    return outputs


@overload
def lu_unpack(lu: DaskArrayT, piv: ArrayLike | DaskArray, *, permute_l: Literal[True],
              p_indices: bool = ..., workers: Workers = ...) -> tuple[DaskArrayT, DaskArrayT]: ...
@overload
def lu_unpack(lu: DaskArrayT, piv: ArrayLike | DaskArray, *, permute_l: Literal[False] = ...,
              p_indices: bool = ..., workers: Workers = ...
              ) -> tuple[DaskArrayT, DaskArrayT, DaskArrayT]: ...
@overload
def lu_unpack(lu: DaskArrayT, piv: ArrayLike | DaskArray, *, permute_l: bool,
              p_indices: bool = ..., workers: Workers = ...
              ) -> tuple[DaskArrayT, DaskArrayT] | tuple[DaskArrayT, DaskArrayT, DaskArrayT]: ...
@overload
def lu_unpack(lu: ArrayLike, piv: ArrayLike, *, permute_l: Literal[True],
              p_indices: bool = ..., workers: Workers = ...
              ) -> tuple[InexactArray, InexactArray]: ...
@overload
def lu_unpack(lu: ArrayLike, piv: ArrayLike, *, permute_l: Literal[False] = ...,
              p_indices: Literal[True], workers: Workers = ...
              ) -> tuple[Int32Array, InexactArray, InexactArray]: ...
@overload
def lu_unpack(lu: ArrayLike, piv: ArrayLike, *, permute_l: Literal[False] = ...,
              p_indices: Literal[False] = ..., workers: Workers = ...
              ) -> tuple[RealArray, InexactArray, InexactArray]: ...
@overload
def lu_unpack(lu: ArrayLike, piv: ArrayLike, *, permute_l: bool = ..., p_indices: bool = ...,
              workers: Workers = ...) -> _PLU: ...
def lu_unpack(lu: ArrayLike | DaskArray, piv: ArrayLike | DaskArray, *, permute_l: bool = False,
              p_indices: bool = False, workers: Workers = None) -> _PLU | tuple[DaskArray, ...]:
    """P, L and U from the compact factorization of :func:`lu_factor`.

    Gives the outputs of :func:`lu` from ``(lu, piv)`` without factoring
    again (like ``torch.lu_unpack``), for every matrix of a stack.

    Parameters
    ----------
    lu : (..., M, N) array_like
        Factors as returned by :func:`lu_factor` (any layout is read).
    piv : (..., K) array_like of int (or of floats with whole values)
        0-based pivots as returned by :func:`lu_factor`, ``K = min(M, N)``,
        each in ``[0, M)`` (checked). The batch dimensions of ``lu`` and
        ``piv`` broadcast together.
    permute_l, p_indices : bool, optional, keyword-only
        As in :func:`lu`.
    workers : int, optional, keyword-only
        Threads to use (see :func:`lu_factor`).

    Returns
    -------
    (p, l, u) or (pl, u)
        As returned by :func:`lu` for the factored matrices.

    Raises
    ------
    ValueError
        If the shapes do not match or a pivot is outside ``[0, M)``.

    Examples
    --------
    >>> import numpy as np
    >>> import lucy
    >>> a = np.random.default_rng(0).standard_normal((10, 4, 3))
    >>> lu, piv = lucy.lu_factor(a)
    >>> p, l, u = lucy.lu_unpack(lu, piv)
    >>> np.allclose(a, p @ l @ u)
    True
    >>> pl, u = lucy.lu_unpack(lu, piv, permute_l=True)
    >>> np.allclose(a, pl @ u)
    True
    """
    if (dask := _dask_twin(lu, piv)) is not None:
        return dask.lu_unpack(lu, piv, permute_l=permute_l, p_indices=p_indices,
                              workers=workers)
    lu = as_numeric_array(lu, "lu", 2)
    m, n = lu.shape[-2:]
    piv = _as_pivots(piv, min(m, n), "lu")
    batch = _broadcast_batch_shapes([lu.shape[:-2], piv.shape[:-1]], ["lu", "piv"])
    return _plu(_broadcast_to(lu, batch, 2), _broadcast_to(piv, batch, 1),
                permute_l, p_indices, False, workers, name="lu")


_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


def _as_pivots(piv: object, k: int | None = None, other: str = "lu",
               name: str = "piv") -> NDArray[np.int32 | np.int64]:
    """``piv`` as an int32 or int64 array of shape (..., k) (any last
    dimension when k is None), or a clear error. Other integer dtypes are
    converted, and so are real floats holding whole numbers (pivots read
    back from text, JSON or float-only stores; SciPy writes empty pivots as
    ``np.array([])``); the kernels check the range of the values. The
    caller's array is never modified: any conversion makes a copy."""
    if isinstance(piv, np.ma.MaskedArray):
        raise ValueError(f"{name}: masked arrays are not supported")
    piv = np.asarray(piv)
    if piv.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integers (or floats with whole values), "
                        f"not dtype {piv.dtype}")
    if piv.ndim < 1:
        raise ValueError(f"{name} must be at least one-dimensional, got shape {piv.shape}")
    if k is not None and piv.shape[-1] != k:
        raise ValueError(f"{name} must have shape (..., {k}) to match {other}, "
                         f"got {piv.shape}")
    if piv.dtype.kind == "f":
        return _whole_floats_as_int64(piv, name)
    native = piv.dtype.isnative and piv.flags.aligned
    if native and piv.dtype in (np.dtype(np.int32), np.dtype(np.int64)):
        return piv
    if piv.dtype == np.uint64 and piv.size and piv.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds values beyond any row index")
    return piv.astype(np.int64)


def _whole_floats_as_int64(piv: NDArray[np.floating[Any]], name: str) -> NDArray[np.int64]:
    """Float pivots as int64, or ValueError at the first value that is not a
    whole number. Whole values too large for int64 become -1, which the
    kernels then report as out of range at the right batch position."""
    whole = np.isfinite(piv)
    finite = piv[whole]
    whole[whole] = finite == np.trunc(finite)
    if not whole.all():
        flat = int(np.flatnonzero(~whole.reshape(-1))[0])
        batch = piv.shape[:-1]
        where = f" (first at batch index {_batch_index(batch, flat // piv.shape[-1])})" if batch else ""
        raise ValueError(f"{name} must hold whole numbers, got {float(piv.reshape(-1)[flat])!r}{where}")
    if float(np.finfo(piv.dtype).max) > 2.0**62:       # float16 cannot hold 2**62
        piv = np.where(np.abs(piv) < 2.0**62, piv, -1)
    return piv.astype(np.int64)


def _raise_bad_pivots(info: Int32Array, name: str, m: int, what: str = "row indices") -> None:
    if info.size == 0 or info.min() > _batch.INFO_BAD_PIVOT:
        return
    bad = np.flatnonzero(info == _batch.INFO_BAD_PIVOT)
    if bad.size:
        where = "" if info.ndim == 0 else f" (first at batch index {_batch_index(info.shape, bad[0])})"
        raise ValueError(f"{name} must hold {what} in [0, {m}){where}")


# A Dask array as lu or as b makes x a Dask array (lu's type first).
@overload
def lu_solve(lu_and_piv: tuple[DaskArrayT, ArrayLike | DaskArray], b: ArrayLike | DaskArray,
             trans: Trans = ..., overwrite_b: bool = ..., check_finite: bool = ..., *,
             workers: Workers = ...) -> DaskArrayT: ...
@overload
def lu_solve(lu_and_piv: tuple[ArrayLike, ArrayLike | DaskArray], b: DaskArrayT,
             trans: Trans = ..., overwrite_b: bool = ..., check_finite: bool = ..., *,
             workers: Workers = ...) -> DaskArrayT: ...
@overload
def lu_solve(lu_and_piv: tuple[ArrayLike, ArrayLike], b: ArrayLike, trans: Trans = ...,
             overwrite_b: bool = ..., check_finite: bool = ..., *,
             workers: Workers = ...) -> InexactArray: ...
def lu_solve(lu_and_piv: tuple[ArrayLike | DaskArray, ArrayLike | DaskArray],
             b: ArrayLike | DaskArray, trans: Trans = 0, overwrite_b: bool = False,
             check_finite: bool = True, *, workers: Workers = None) -> InexactArray | DaskArray:
    """Solve ``a x = b`` for each matrix, given the LU factorization of ``a``.

    A drop-in for :func:`scipy.linalg.lu_solve` that takes stacks: the batch
    dimensions of ``lu``, ``piv`` and ``b`` broadcast against each other.

    Parameters
    ----------
    lu_and_piv : tuple of (lu, piv)
        Factorization from :func:`lu_factor` (or SciPy's): ``lu`` of shape
        ``(..., M, M)`` and ``piv`` of shape ``(..., M)`` with 0-based pivots
        (any integer dtype, or floats holding whole numbers). Pivots outside ``[0, M)`` raise ValueError (they
        would make LAPACK read and write out of bounds). ``piv`` is never
        modified.
    b : array_like
        Right-hand side. 1-D ``b`` of shape ``(M,)`` is one vector; with 2
        or more dimensions ``b`` is ``(..., M, NRHS)``, as in SciPy.
    trans : {0, 1, 2}, optional
        The system to solve: 0 for ``a x = b``, 1 for ``a^T x = b``, 2 for
        ``a^H x = b``. ('N', 'T', 'C' are accepted too.)
    overwrite_b : bool, optional
        Allow the solution to be written over ``b``. This happens only when
        ``b`` is a writeable array of the result dtype whose matrices are
        column-major (batch in C order; a Fortran-ordered 2-D or a
        contiguous 1-D array) and no broadcasting enlarges it; the returned
        ``x`` is then ``b``. Otherwise ``b`` is left alone.
    check_finite : bool, optional
        Check that ``b`` contains only finite numbers, as SciPy does. ``lu``
        is not scanned: it normally comes from :func:`lu_factor`, which
        checked its input, and a pass over the factors would cost as much
        as the solve itself. An inf or NaN in ``lu`` gives inf/NaN in that
        matrix's solution (or zeros, for an inf on U's diagonal), never an
        error. The check rides on the copy of ``b`` into ``x``.
    workers : int, optional, keyword-only
        Threads to use (see :func:`lu_factor`). With fewer matrices than
        threads, the threads work inside each system with many right-hand
        sides: on row blocks of the factors from 512 x 512 (more than four
        right-hand sides), or on fixed groups of right-hand sides below
        (more than 64), so that the result is the same for any ``workers``.
        A system with fewer runs on one thread, as fast as memory gives it
        the factors.

    Returns
    -------
    x : ndarray
        Solution, of shape ``(*batch, M)`` for 1-D ``b`` or
        ``(*batch, M, NRHS)``, where ``batch`` is the broadcast batch shape;
        dtype as SciPy's (the common LAPACK dtype of ``lu`` and ``b``).

    Raises
    ------
    ValueError
        For non-square ``lu``, mismatched or non-broadcastable shapes,
        ``trans`` other than 0, 1, 2, pivots outside ``[0, M)``, or inf/NaN
        in ``b`` with ``check_finite=True``.
    TypeError
        For non-numeric ``lu``/``b`` or non-integer ``piv``.

    Notes
    -----
    A singular ``lu`` (a zero on U's diagonal) gives inf/NaN in ``x`` and
    no error, as in SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> import lucy
    >>> A = np.array([[2, 5, 8, 7], [5, 2, 2, 8], [7, 5, 6, 6], [5, 4, 4, 8]])
    >>> b = np.array([1, 1, 1, 1])
    >>> x = lucy.lu_solve(lucy.lu_factor(A), b)
    >>> np.allclose(A @ x, b)
    True

    One factorization per matrix of a stack, many right-hand sides each:

    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((500, 5, 5))
    >>> B = rng.standard_normal((500, 5, 3))
    >>> X = lucy.lu_solve(lucy.lu_factor(A), B)
    >>> X.shape, np.allclose(A @ X, B)
    ((500, 5, 3), True)
    """
    pair = lu_and_piv if isinstance(lu_and_piv, (tuple, list)) else ()
    if (dask := _dask_twin(b, *pair)) is not None:
        return dask.lu_solve(lu_and_piv, b, trans, overwrite_b, check_finite, workers=workers)
    workers = resolve_workers(workers)
    try:
        lu_arr, piv = lu_and_piv
    except (TypeError, ValueError):
        raise TypeError("lu_and_piv must be the pair (lu, piv) returned by "
                        "lu_factor") from None
    lu_arr = as_numeric_array(lu_arr, "lu", 2)
    b1 = as_numeric_array(b, "b", 1)
    try:
        if isinstance(trans, (bool, np.bool_, float, np.floating)):
            raise TypeError
        trans_code = _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"trans must be 0, 1 or 2 (or 'N', 'T', 'C'), got {trans!r}") from None
    m = lu_arr.shape[-1]
    if lu_arr.shape[-2] != m:
        raise ValueError(f"lu must be square, shape (..., M, M), got {lu_arr.shape}")
    _check_core_size(m, name="lu")
    piv = _as_pivots(piv, m)
    vector = b1.ndim == 1
    b_mat = b1[:, None] if vector else b1
    if b_mat.shape[-2] != m:
        hint = ""
        if b1.ndim >= 2 and b1.shape[-1] == m and b1.shape[:-1] == lu_arr.shape[:b1.ndim - 1]:
            # The most common batched mistake: a stack of vectors (..., M).
            hint = (f"; a stack of vectors is written b[..., None], of shape "
                    f"{(*b1.shape, 1)}")
        raise ValueError(f"Shapes of lu {lu_arr.shape} and b {b1.shape} are "
                         f"incompatible: b must have M = {m} rows, shape (M,) or "
                         f"(..., M, NRHS){hint}")
    nrhs = b_mat.shape[-1]
    _check_core_size(nrhs, name="b")
    batch = _broadcast_batch_shapes(
        [lu_arr.shape[:-2], piv.shape[:-1], b_mat.shape[:-2]], ["lu", "piv", "b"])
    dtype = result_dtype(lu_arr, b1)

    in_place = (overwrite_b and batch == b_mat.shape[:-2]
                and _in_factor_layout(b_mat, dtype))
    x_mat = b_mat if in_place else _empty_factor_layout(batch, m, nrhs, dtype)
    x = x_mat[..., 0] if vector else x_mat
    if in_place and vector:
        x = b1
    info = np.zeros(batch, np.int32)
    if x_mat.size == 0:
        return x
    if lu_arr.dtype != dtype or not lu_arr.flags.aligned:
        # Mixed precisions (e.g. a float32 lu with float64 b): the one case
        # that converts a whole input up front.
        lu_arr = lu_arr.astype(dtype)
    if in_place:
        rhs = x_mat
    elif b_mat.dtype == dtype and b_mat.flags.aligned:
        rhs = _broadcast_to(b_mat, batch, 2)
    else:
        np.copyto(x_mat, b_mat, casting="unsafe")
        rhs = x_mat
    plan = _batch.solve_plan(dtype, m, trans_code, nrhs)
    threads = _plan_threads(workers, info.size, _batch.solve_work(dtype, m, nrhs),
                            plan.threads_inside,
                            min_work=_SOLVE_PARALLEL_MIN_WORK)
    work = np.empty(threads * m * m, dtype)
    # Pivots of LANES systems per thread (the four-lane solve of tiny
    # systems), as LAPACK integers (1-based for getrs; int64 for ILP64).
    iwork = np.empty(threads * _batch.LANES * m,
                     np.int64 if _batch.lapack_int_size() == 8 else np.int32)
    args = (_broadcast_to(lu_arr, batch, 2), _broadcast_to(piv, batch, 1), rhs,
            x_mat, info, trans_code,
            work, iwork, check_finite, threads)
    _run_kernel(_batch.solve, args, plan.reaches_lapack)
    if info.size and info.min() < 0:       # (one pass over info when all went well)
        if check_finite:
            _raise_nonfinite(info, "b")
        _raise_bad_pivots(info, "piv", m)
    return x
