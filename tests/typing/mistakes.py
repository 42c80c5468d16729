"""Mistakes mypy must report in code that calls lucy: each line marked
``# E: <code>`` has exactly that error, and no other line has one
(tests/test_typing.py). The file is only type-checked, never run."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

import lucy

a = np.random.default_rng(0).standard_normal((10, 4, 4))
b = np.ones((10, 4, 1))
lu, piv = lucy.lu_factor(a)


def as_float_matrix(m: NDArray[np.floating[Any]]) -> None: ...


lucy.lu_factor(a, workers="two")  # E: call-overload
lucy.lu_solve(np.eye(3), b)  # E: call-overload
lucy.lu_solve((lu, piv), b, trans="X")  # E: call-overload
lucy.lu_solve(lu, piv, b)  # E: call-overload
lucy.lu(a, p_indices=True, workers=2.0)  # E: call-overload

# p_indices gives int32 row indices, not a permutation matrix ...
perm, l, u = lucy.lu(a, p_indices=True)
as_float_matrix(perm)  # E: arg-type
p_matrix: NDArray[np.floating[Any]] = lucy.lu_unpack(lu, piv, p_indices=True)[0]  # E: assignment
# ... permute_l gives two arrays, not three,
p, l, u = lucy.lu(a, permute_l=True)  # E: misc
# and the pivots are int32.
piv_float: NDArray[np.float64] = piv  # E: assignment

lucy.pivots_to_permutation(piv, m="4")  # E: arg-type
lucy.set_workers("two")  # E: arg-type
workers: str = lucy.get_workers()  # E: assignment
