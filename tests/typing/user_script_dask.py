"""lucy on Dask arrays, as a user's typed code calls it (checked by
tests/test_typing.py where Dask is installed): Dask in, Dask out."""

from typing import assert_type

import dask.array as da
import numpy as np
from numpy.typing import NDArray

import lucy

stack = np.random.default_rng(0).standard_normal((100, 4, 4))
one: NDArray[np.float64] = stack[0]
a: da.Array = da.from_array(stack, chunks=(25, 4, 4))
b: da.Array = da.from_array(stack[..., :1], chunks=(25, 4, 1))

lu, piv = lucy.lu_factor(a)
assert_type(lu, da.Array)
x = lucy.lu_solve((lu, piv), b)
assert_type(x, da.Array)
# One NumPy matrix shared by a chunked b.
x = lucy.lu_solve(lucy.lu_factor(one), b)
assert_type(x, da.Array)
lu, piv, info = lucy.lu_factor_ex(a)
assert_type(info, da.Array)
p, l, u = lucy.lu(a, p_indices=True)
pl, u = lucy.lu(a, permute_l=True)
p, l, u = lucy.lu_unpack(lu, piv)
assert_type(p, da.Array)
assert np.allclose(x.compute(), np.linalg.solve(one, stack[..., :1]))
