"""The types in lucy's signatures, for type checkers.

lucy's modules import this one only under ``typing.TYPE_CHECKING`` (their
annotations are strings), so ``import lucy`` never loads it; it is installed
so that a user's type checker can read lucy's signatures. (Imported at run
time, it needs typing_extensions before Python 3.13, as mypy does.)
"""

import sys
from typing import Any, Literal, Protocol, SupportsIndex, TypeAlias

import numpy as np
from numpy.typing import NDArray

if sys.version_info >= (3, 13):
    from typing import TypeVar
else:
    from typing_extensions import TypeVar

# Factors and solutions come in the dtype SciPy's rule picks for the input:
# float32, float64, complex64 or complex128.
InexactArray: TypeAlias = NDArray[np.inexact[Any]]
# lu's permutation matrices P: the real dtype of that.
RealArray: TypeAlias = NDArray[np.floating[Any]]
Int32Array: TypeAlias = NDArray[np.int32]
UInt32Array: TypeAlias = NDArray[np.uint32]

# What lu_factor keeps of the statuses of a stack (no batch-sized array):
# (number of singular matrices, flat position of the first or None, its info).
SingularSummary: TypeAlias = tuple[int, int | None, int]

# Any integer operator.index() takes, NumPy's included (bool is refused at
# run time, which no annotation can say: bool is an int).
Workers: TypeAlias = SupportsIndex | None
# lu_solve's `trans`, as SciPy takes it.
Trans: TypeAlias = Literal[0, 1, 2, "N", "T", "C"]


class DaskArray(Protocol):
    """A ``dask.array.Array``, recognised by two of its attributes.

    lucy's functions return lazy Dask arrays for Dask input. A structural
    type says so without naming Dask, so a user's type checker needs no Dask
    to check NumPy code; ``numblocks`` leaves out the other objects that
    carry a Dask graph (an xarray ``DataArray``, which lucy reads as NumPy
    data; Dask's data frames and bags, which lucy refuses)."""

    @property
    def numblocks(self) -> tuple[int, ...]: ...

    def __dask_graph__(self) -> object: ...


# A Dask result has the type of the Dask argument it came from. Where mypy
# cannot tell that type, the default makes it Any rather than Never: the
# result of lu_factor(x) for an x of type Any is a tuple of Anys that mypy
# does not count as Any when it picks lu_solve's overload, so it picks the
# first, the Dask one, and solves DaskArrayT from nothing.
DaskArrayT = TypeVar("DaskArrayT", bound=DaskArray, default=Any)
