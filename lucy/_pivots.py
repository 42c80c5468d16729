"""Conversions between LAPACK pivots and permutation indices, batched."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

import numpy as np

from . import _batch, _outputs
from ._api import _as_pivots, _plan_threads, _raise_bad_pivots
from ._threads import resolve_workers

if TYPE_CHECKING:
    from typing import SupportsIndex

    from numpy.typing import ArrayLike, NDArray

    from ._typing import Int32Array, Workers

__all__ = ["pivots_to_permutation", "permutation_to_pivots"]

# Permutations are int32: rows beyond this cannot be indexed.
_MAX_ROWS = 2**31 - 1


def _size_arg(value: SupportsIndex | None, name: str, default: int, minimum: int) -> int:
    if value is None:
        return default
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _convert(src: NDArray[np.int32 | np.int64], out_len: int, to_permutation: bool,
             workers: Workers) -> tuple[Int32Array, Int32Array]:
    workers = resolve_workers(workers)
    batch = src.shape[:-1]
    out = _outputs.empty((*batch, out_len), np.int32)
    info = np.zeros(batch, np.int32)
    if info.size == 0:
        return out, info
    threads = _plan_threads(workers, info.size, 4 * max(src.shape[-1], out_len))
    iwork = np.empty(threads * 2 * max(src.shape[-1], out_len, 1), np.int32)
    _batch.convert_pivots(src, out, info, to_permutation, iwork, threads)
    return out, info


def pivots_to_permutation(piv: ArrayLike, m: SupportsIndex | None = None, *,
                          workers: Workers = None) -> Int32Array:
    """Permutation indices ``perm`` from LAPACK pivots: ``A[perm] == L @ U``.

    Applies the row swaps ``piv`` (row i interchanged with row ``piv[i]``,
    for i = 0, ..., K-1 in order) to ``0, ..., m-1``.

    Parameters
    ----------
    piv : (..., K) array_like of int (or of floats with whole values)
        0-based pivots, as from :func:`lu_factor` (SciPy's; MLX's pivots as
        well; subtract 1 from PyTorch's). Each must lie in ``[0, m)``.
    m : int, optional
        Number of rows of the factored matrices; default ``K`` (square or
        wide matrices). For tall matrices pass ``M > K``.
    workers : int, optional, keyword-only
        Threads to use (see :func:`lu_factor`).

    Returns
    -------
    perm : (..., m) ndarray of int32
        Row order with ``A[perm] == L @ U``. Its inverse,
        ``np.argsort(perm, axis=-1)``, is ``lu(a, p_indices=True)[0]``,
        the ``p`` with ``A == L[p] @ U``.

    Raises
    ------
    ValueError
        If a pivot is outside ``[0, m)``, or ``m < K``.

    See Also
    --------
    permutation_to_pivots : the inverse conversion

    Examples
    --------
    >>> import numpy as np
    >>> import lucy
    >>> lucy.pivots_to_permutation([2, 2, 3, 3])
    array([2, 0, 3, 1], dtype=int32)
    >>> a = np.random.default_rng(1).standard_normal((5, 3))     # tall
    >>> lu, piv = lucy.lu_factor(a)
    >>> perm = lucy.pivots_to_permutation(piv, m=5)
    >>> L, U = np.tril(lu, -1) + np.eye(5, 3), np.triu(lu[:3])
    >>> np.allclose(a[perm], L @ U)
    True
    """
    piv = _as_pivots(piv)
    k = piv.shape[-1]
    m = _size_arg(m, "m", k, k)
    if m > _MAX_ROWS:
        raise ValueError(f"m must be at most {_MAX_ROWS} (int32 row indices), got {m}")
    perm, info = _convert(piv, m, True, workers)
    _raise_bad_pivots(info, "piv", m)
    return perm


def permutation_to_pivots(perm: ArrayLike, k: SupportsIndex | None = None, *,
                          workers: Workers = None) -> Int32Array:
    """LAPACK pivots from permutation indices; the inverse of
    :func:`pivots_to_permutation`.

    Finds the row swaps ``piv`` (``piv[i] >= i``, LAPACK's form) that turn
    ``0, ..., M-1`` into ``perm``. Such swaps are unique, so
    ``permutation_to_pivots(pivots_to_permutation(piv)) == piv``.

    Parameters
    ----------
    perm : (..., M) array_like of int (or of floats with whole values)
        Each a permutation of ``0, ..., M-1`` (checked), with the meaning
        ``A[perm] == L @ U``.
    k : int, optional
        Number of pivots to return, ``K = min(M, N)`` of the factored
        matrices; default ``M``. The permutation must then need no swap at
        rows ``K`` and beyond.
    workers : int, optional, keyword-only
        Threads to use (see :func:`lu_factor`).

    Returns
    -------
    piv : (..., k) ndarray of int32
        0-based pivots as :func:`lu_factor` returns them.

    Raises
    ------
    ValueError
        If a row of ``perm`` is not a permutation of ``0, ..., M-1``, or
        cannot be reached with ``k`` swaps.

    Examples
    --------
    >>> import lucy
    >>> lucy.permutation_to_pivots([2, 0, 3, 1])
    array([2, 2, 3, 3], dtype=int32)
    >>> lucy.permutation_to_pivots([[0, 1, 2], [2, 1, 0]])
    array([[0, 1, 2],
           [2, 1, 2]], dtype=int32)
    """
    perm = _as_pivots(perm, name="perm")
    m = perm.shape[-1]
    k = _size_arg(k, "k", m, 0)
    if k > m:
        raise ValueError(f"k must be at most M = {m}, got {k}")
    piv, info = _convert(perm, k, False, workers)
    _raise_bad_pivots(info, "perm", m,
                      what=f"a permutation of 0..{m - 1} reachable with {k} row swaps, with values")
    return piv
