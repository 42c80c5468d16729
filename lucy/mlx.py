"""MLX's ``lu_factor`` and ``lu``, with MLX's conventions, run by lucy.

``lucy.mlx.lu_factor`` and ``lucy.mlx.lu`` are drop-ins for
``mlx.core.linalg.lu_factor`` and ``mlx.core.linalg.lu`` (conventions
measured on MLX 0.32.4): the same signature ``(a, *, stream=None)``, the
same outputs, dtypes and pivots, computed by lucy's parallel kernels.

* ``pivots`` are uint32, 0-based LAPACK row swaps (SciPy's ``piv`` as
  uint32), shape ``(..., K)``, ``K = min(M, N)``.
* ``lu`` returns ``P, L, U`` with ``P`` a uint32 row-index vector
  ``(..., M)`` and ``A == L[P] @ U`` (batched:
  ``take_along_axis(L, P[..., None], -2) @ U``).

:class:`mlx.core.array` input gives :class:`mlx.core.array` results with
MLX dtypes (float64 stays float64); anything else (NumPy arrays, lists,
...) gives NumPy arrays. MLX is never imported by this module: without
MLX installed it works on NumPy input.

Where lucy goes beyond MLX: empty matrices (M or N zero) return empty
results (MLX kills the process with SIGFPE); complex64/complex128 and the
dtypes SciPy casts (integers, bool, float16, bfloat16) are accepted (MLX
takes float32 and float64 only); the batch is factored in parallel with
SciPy's LAPACK (MLX runs it serially on reference LAPACK).
"""

from __future__ import annotations

import operator
import sys
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from ._api import _factor, lu as _lucy_lu
from ._threads import resolve_workers

if TYPE_CHECKING:
    from types import ModuleType
    from typing import SupportsIndex, TypeAlias

    # MLX's own types (mlx.core ships stubs). Where MLX is not installed a
    # type checker reads them as Any, so every call checks and returns Any.
    import mlx.core as mx
    from numpy.typing import ArrayLike, NDArray

    from ._typing import InexactArray, UInt32Array

    # None or an MLX CPU stream or device: lucy's default workers; an
    # integer: a worker count.
    _Stream: TypeAlias = SupportsIndex | mx.Stream | mx.Device | mx.DeviceType | None

__all__ = ["lu_factor", "lu"]


def _mx() -> ModuleType | None:
    """``mlx.core`` if it has been imported, else None.

    An ``mlx.core`` object can only exist once ``mlx.core`` is imported, so
    lucy never needs to import MLX itself."""
    return sys.modules.get("mlx.core")


def _workers_from_stream(stream: object) -> int | None:
    """lucy's ``workers`` for an MLX ``stream`` argument (None: the default)."""
    if stream is None:
        return None
    if not isinstance(stream, (bool, np.bool_)):   # NumPy 1.26 lets index() take np.bool_
        try:
            # Any object: a stream or device has no __index__ and lands in
            # the except clause.
            workers = operator.index(stream)  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            if workers == 0:
                raise ValueError(
                    "stream=0: an integer stream is lucy's worker count and "
                    "must not be 0 (MLX reads 0 as the CPU device; pass None "
                    "or mlx.core.cpu for lucy's default workers, 1 for one "
                    "thread, -1 for all cores)")
            try:
                return resolve_workers(workers)
            except ValueError as exc:
                raise ValueError(f"stream={workers} (lucy's worker count): {exc}") from None
    mx = _mx()
    device_type = None
    if mx is not None:
        if isinstance(stream, mx.Stream):
            device_type = stream.device.type
        elif isinstance(stream, mx.Device):
            device_type = stream.type
        elif isinstance(stream, mx.DeviceType):
            device_type = stream
    if device_type is None:
        raise TypeError(
            "stream must be None, an MLX CPU stream or device (mlx.core.cpu, "
            "mlx.core.Device, mlx.core.Stream) or an int worker count, not "
            f"{type(stream).__name__}")
    assert mx is not None       # device_type came from it
    if device_type != mx.cpu:
        raise ValueError(
            f"stream={stream!r}: lucy has no GPU LU (neither has MLX); pass "
            "None, mlx.core.cpu or a CPU stream")
    return None


def _as_input(a: ArrayLike) -> tuple[ArrayLike, ModuleType | None]:
    """(``a`` readable by lucy, mlx.core if results go back as MLX arrays)."""
    mx = _mx()
    if mx is not None and isinstance(a, mx.array):
        if a.dtype == mx.bfloat16:    # no NumPy dtype; SciPy's rule for float16
            a = a.astype(mx.float32)
        # A view of MLX's buffer (evaluated first if lazy), dtype kept.
        return np.asarray(a), mx
    return a, None


def _outputs(mx: ModuleType | None, arrays: tuple[NDArray[Any], ...]) -> tuple[Any, ...]:
    if mx is None:
        return arrays
    out = []
    for arr in arrays:
        dtype = getattr(mx, arr.dtype.name, None)
        if dtype is None:      # complex128: MLX has none (no MLX input gives it)
            raise TypeError(f"MLX has no dtype {arr.dtype}")
        # mx.array(...) alone would turn float64 into float32.
        out.append(mx.array(arr, dtype=dtype))
    return tuple(out)


@overload
def lu_factor(a: mx.array, *, stream: _Stream = ...) -> tuple[mx.array, mx.array]: ...
@overload
def lu_factor(a: ArrayLike, *, stream: _Stream = ...) -> tuple[InexactArray, UInt32Array]: ...
def lu_factor(a: ArrayLike, *, stream: _Stream = None
              ) -> tuple[InexactArray, UInt32Array] | tuple[mx.array, mx.array]:
    """Compact LU factorization with partial pivoting, as MLX computes it.

    A drop-in for ``mlx.core.linalg.lu_factor``: the same arguments and
    results, computed in parallel over the batch.

    Parameters
    ----------
    a : (..., M, N) mlx.core.array or array_like
        Matrices to factor. float32 and float64 keep their dtype; complex64
        and complex128 are factored as complex; other numeric dtypes are
        cast as SciPy does (bool, int8/16, uint8/16, float16 and bfloat16 to
        float32; wider integers to float64). MLX itself takes only float32
        and float64.
    stream : None, MLX CPU stream or device, or int, optional, keyword-only
        ``None``, ``mlx.core.cpu``, an ``mlx.core.Device`` or an
        ``mlx.core.Stream`` on the CPU: run on lucy's default number of
        threads (:func:`lucy.get_workers`; the stream itself is not used).
        An int is a thread count, as lucy's ``workers`` (positive, or
        negative to count back from the usable cores; not 0).

    Returns
    -------
    lu : (..., M, N) array
        U in the upper triangle and L, without its unit diagonal, below it.
    pivots : (..., K) array of uint32
        0-based LAPACK pivots, ``K = min(M, N)``: row ``i`` was interchanged
        with row ``pivots[..., i]``, for i = 0, ..., K-1 in order (SciPy's
        ``piv``, as uint32).

    Raises
    ------
    ValueError
        If ``a`` has fewer than 2 dimensions, or ``stream`` is a GPU
        stream or device, or 0.
    TypeError
        If ``a`` does not hold numbers, or ``stream`` is of another type.

    See Also
    --------
    lu : P, L, U with MLX's conventions
    lucy.lu_factor : SciPy's conventions (int32 pivots, finite check,
        warning on singular matrices)
    lucy.lu_factor_ex : which matrices of a stack are singular

    Notes
    -----
    Both results are :class:`mlx.core.array` when ``a`` is one (float32
    and float64 keep their dtype), else NumPy arrays; a NumPy ``lu`` is
    stored column-major per matrix, as :func:`lucy.lu_factor` returns it.

    As in MLX, singular matrices give a valid factorization and no warning
    (see :func:`lucy.lu_factor_ex` for the per-matrix status), and the
    input is not checked for inf or NaN (they give meaningless factors, but
    never a crash). Unlike MLX, empty matrices (M or N zero) return empty
    results; MLX 0.32 kills the process (SIGFPE) on them.

    Examples
    --------
    >>> import numpy as np
    >>> import lucy.mlx
    >>> A = np.array([[2., 5, 8, 7], [5, 2, 2, 8], [7, 5, 6, 6], [5, 4, 4, 8]])
    >>> lu, pivots = lucy.mlx.lu_factor(A)
    >>> pivots
    array([2, 2, 3, 3], dtype=uint32)
    >>> L, U = np.tril(lu, k=-1) + np.eye(4), np.triu(lu)
    >>> perm = lucy.pivots_to_permutation(pivots)     # A[perm] == L @ U
    >>> np.allclose(A[perm], L @ U)
    True

    A stack, on two threads:

    >>> stack = np.random.default_rng(0).standard_normal((1000, 5, 3))
    >>> lu, pivots = lucy.mlx.lu_factor(stack, stream=2)
    >>> lu.shape, pivots.shape, pivots.dtype
    ((1000, 5, 3), (1000, 3), dtype('uint32'))

    With MLX arrays (MLX installed):

    >>> import mlx.core as mx                               # doctest: +SKIP
    >>> a = mx.array(stack, dtype=mx.float64)               # doctest: +SKIP
    >>> lu, pivots = lucy.mlx.lu_factor(a, stream=mx.cpu)   # doctest: +SKIP
    >>> lu.dtype, pivots.dtype                              # doctest: +SKIP
    (mlx.core.float64, mlx.core.uint32)
    """
    workers = _workers_from_stream(stream)
    a, mx = _as_input(a)
    # MLX neither warns nor raises for singular matrices: no status is kept.
    lu, piv, _ = _factor(a, overwrite_a=False, check_finite=False, workers=workers,
                         per_matrix_info=False)
    return _outputs(mx, (lu, piv.view(np.uint32)))


@overload
def lu(a: mx.array, *, stream: _Stream = ...) -> tuple[mx.array, mx.array, mx.array]: ...
@overload
def lu(a: ArrayLike, *, stream: _Stream = ...
       ) -> tuple[UInt32Array, InexactArray, InexactArray]: ...
def lu(a: ArrayLike, *, stream: _Stream = None
       ) -> tuple[UInt32Array, InexactArray, InexactArray] | tuple[mx.array, mx.array, mx.array]:
    """LU factorization with partial pivoting as ``P, L, U``, as MLX does it.

    A drop-in for ``mlx.core.linalg.lu``: ``P`` is a row-index vector with
    ``A == L[P] @ U``.

    Parameters
    ----------
    a : (..., M, N) mlx.core.array or array_like
        Matrices to factor (dtypes as in :func:`lu_factor`).
    stream : None, MLX CPU stream or device, or int, optional, keyword-only
        As in :func:`lu_factor` (an int is lucy's thread count).

    Returns
    -------
    P : (..., M) array of uint32
        Row indices with ``A == L[P] @ U``; for a stack,
        ``A == take_along_axis(L, P[..., None], axis=-2) @ U``. The
        permutation matrix is ``eye(M)[P]`` (``A == eye(M)[P] @ L @ U``).
        The same numbers as ``scipy.linalg.lu(a, p_indices=True)[0]``.
    L : (..., M, K) array
        Unit lower triangular (trapezoidal), ``K = min(M, N)``.
    U : (..., K, N) array
        Upper triangular (trapezoidal).

    Raises
    ------
    ValueError, TypeError
        As in :func:`lu_factor`.

    See Also
    --------
    lu_factor : the compact form, faster and smaller
    lucy.lu : SciPy's conventions (permutation matrix by default)

    Notes
    -----
    The results are :class:`mlx.core.array` when ``a`` is one (float32 and
    float64 keep their dtype), else C-ordered NumPy arrays.

    Singular matrices are factored silently, inf and NaN are not checked,
    and empty matrices return empty results, as described for
    :func:`lu_factor`.

    Examples
    --------
    >>> import numpy as np
    >>> import lucy.mlx
    >>> A = np.array([[2., 5, 8, 7], [5, 2, 2, 8], [7, 5, 6, 6], [5, 4, 4, 8]])
    >>> P, L, U = lucy.mlx.lu(A)
    >>> P
    array([1, 3, 0, 2], dtype=uint32)
    >>> np.allclose(A, L[P] @ U)
    True

    A stack of tall matrices:

    >>> A = np.random.default_rng(0).standard_normal((10, 5, 3))
    >>> P, L, U = lucy.mlx.lu(A)
    >>> P.shape, L.shape, U.shape
    ((10, 5), (10, 5, 3), (10, 3, 3))
    >>> np.allclose(A, np.take_along_axis(L, P[..., None], axis=-2) @ U)
    True
    """
    workers = _workers_from_stream(stream)
    a, mx = _as_input(a)
    p, l, u = _lucy_lu(a, check_finite=False, p_indices=True, workers=workers)
    if u.size == 0:
        # Empty input (K == 0 or no matrices): no row swaps, P is the
        # identity order (lucy.lu leaves it unset there).
        p[...] = np.arange(p.shape[-1], dtype=p.dtype)
    return _outputs(mx, (p.view(np.uint32), l, u))
