"""Input conversion and the dtype rule: the one place that decides which
LAPACK precision a call runs in."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["as_numeric_array", "result_dtype", "real_dtype"]

# SciPy's rule (scipy.linalg.blas.find_best_blas_type), so every result has the
# dtype SciPy gives for the same inputs: small ints, bool and float16 compute
# in float32; wider ints, float64 and longdouble in float64; complex64 stays;
# complex128 and clongdouble in complex128.
_SCORE = {c: 1 for c in "?bBhHef"}
_SCORE.update({c: 2 for c in "iIlLqQdgpP"})
_SCORE.update({"F": 3, "D": 4, "G": 4})
_DTYPE_OF_SCORE: dict[int, np.dtype[np.inexact[Any]]] = {
    1: np.dtype(np.float32),
    2: np.dtype(np.float64),
    3: np.dtype(np.complex64),
    4: np.dtype(np.complex128),
}


def result_dtype(*arrays: NDArray[Any]) -> np.dtype[np.inexact[Any]]:
    """The LAPACK dtype SciPy would compute ``arrays`` in together."""
    scores = [_SCORE[a.dtype.char] for a in arrays]
    best = max(scores)
    # complex64 together with float64 needs complex128 (as SciPy does).
    if best == 3 and 2 in scores:
        best = 4
    return _DTYPE_OF_SCORE[best]


def real_dtype(dtype: np.dtype[Any]) -> np.dtype[np.floating[Any]]:
    """float32 for float32/complex64, float64 for float64/complex128."""
    return np.dtype(np.float32) if dtype.char in "fF" else np.dtype(np.float64)


# SciPy's wording, so that code matching SciPy's messages keeps working.
_NDIM_WORDS = {1: "one", 2: "two"}


def as_numeric_array(a: object, name: str, min_ndim: int) -> NDArray[Any]:
    """``a`` as an ndarray of a numeric dtype, or a clear exception.

    Object arrays are converted when every element is a real or complex
    number; strings, bytes, datetimes, structured dtypes, masked arrays and
    sparse matrices are refused (SciPy would silently parse strings and drop
    masks)."""
    if type(a) is np.ndarray:       # (the common case, neither masked nor sparse)
        arr = a
    else:
        if isinstance(a, np.ma.MaskedArray):
            raise ValueError(f"{name}: masked arrays are not supported")
        if hasattr(a, "tocsr") or hasattr(a, "todense") and not isinstance(a, np.ndarray):
            raise TypeError(f"{name}: sparse matrices are not supported; "
                            "convert with .toarray() first")
        try:
            arr = np.asarray(a)
        except (ValueError, TypeError) as exc:   # e.g. ragged nested lists
            raise ValueError(f"{name} cannot be read as an array: {exc}") from None
    if arr.dtype.char == "O":
        arr = _convert_objects(arr, name)
    elif arr.dtype.char not in _SCORE:
        raise TypeError(f"{name} must hold numbers (bool, integer, float or "
                        f"complex), not dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must be at least {_NDIM_WORDS[min_ndim]}-dimensional, "
            f"got shape {arr.shape}"
            + (" (a stack of matrices has shape (..., M, N))" if min_ndim == 2 else ""))
    return arr


def _convert_objects(arr: NDArray[np.object_], name: str) -> NDArray[np.float64 | np.complex128]:
    # numpy would turn None into NaN, parse numeric strings, and drop the
    # imaginary part of complex objects cast to float: check, then cast.
    items = list(arr.flat)
    if not all(isinstance(x, numbers.Number) for x in items):
        raise TypeError(f"{name} has dtype object with elements that are not "
                        "real or complex numbers")
    is_complex = any(isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real)
                     for x in items)
    return arr.astype(np.complex128 if is_complex else np.float64)
