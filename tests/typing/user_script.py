"""lucy as a user's typed code calls it: mypy --strict must accept this file
(tests/test_typing.py), and the types it asserts are what lucy's overloads
promise. It also runs (assert_type returns its argument)."""

from typing import Any, assert_type

import numpy as np
from numpy.typing import NDArray

import lucy

Inexact = NDArray[np.inexact[Any]]
Int32 = NDArray[np.int32]

rng = np.random.default_rng(0)
a: NDArray[np.float64] = rng.standard_normal((10, 4, 4))
b = rng.standard_normal((10, 4, 2))

lu, piv = lucy.lu_factor(a, workers=2)
assert_type(lu, Inexact)
assert_type(piv, Int32)
x = lucy.lu_solve((lu, piv), b, trans="T", check_finite=False)
assert_type(x, Inexact)
# NumPy's integers are accepted wherever an int is (operator.index).
x = lucy.lu_solve(lucy.lu_factor([[2.0, 1.0], [1.0, 3.0]]), [1.0, 2.0], 1,
                  workers=np.int64(1))

lu, piv, info = lucy.lu_factor_ex(a, overwrite_a=False)
assert_type(info, Int32)
singular: NDArray[np.intp] = np.flatnonzero(info)

# The tuple lu returns follows permute_l and p_indices, by keyword or by position.
p, l, u = lucy.lu(a)
assert_type(p, NDArray[np.floating[Any]])
assert_type(l, Inexact)
pl, u = lucy.lu(a, permute_l=True)
pl, u = lucy.lu(a, True)
perm, l, u = lucy.lu(a, p_indices=True)
assert_type(perm, Int32)
perm, l, u = lucy.lu(a, False, False, True, True)
assert_type(perm, Int32)
assert np.allclose(a, np.take_along_axis(l, perm[..., None], axis=-2) @ u)

p, l, u = lucy.lu_unpack(lu, piv)
assert_type(p, NDArray[np.floating[Any]])
pl, u = lucy.lu_unpack(lu, piv, permute_l=True)
perm, l, u = lucy.lu_unpack(lu, piv, p_indices=True)
assert_type(perm, Int32)


def factors(a: NDArray[np.float64], permute_l: bool) -> int:
    # A flag known only at run time: either tuple.
    return len(lucy.lu(a, permute_l=permute_l))


perm = lucy.pivots_to_permutation(piv, m=4, workers=-1)
assert_type(perm, Int32)
assert_type(lucy.permutation_to_pivots(perm, k=np.int64(4)), Int32)

with lucy.set_workers(1):
    workers: int = lucy.get_workers()
lucy.empty_cache()
lucy.show_config()
include: str = lucy.get_include()
version: str = lucy.__version__
