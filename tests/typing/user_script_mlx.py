"""lucy.mlx as a user's typed code calls it (checked by tests/test_typing.py
where MLX is installed): MLX arrays in, MLX arrays out; NumPy in, NumPy out."""

from typing import Any, assert_type

import mlx.core as mx
import numpy as np
from numpy.typing import NDArray

import lucy.mlx

stack = np.random.default_rng(0).standard_normal((10, 4, 4))
lu, pivots = lucy.mlx.lu_factor(stack, stream=2)
assert_type(lu, NDArray[np.inexact[Any]])
assert_type(pivots, NDArray[np.uint32])
P, L, U = lucy.mlx.lu(stack)
assert_type(P, NDArray[np.uint32])

a = mx.array(stack, dtype=mx.float64)
mlu, mpivots = lucy.mlx.lu_factor(a, stream=mx.cpu)
assert_type(mlu, mx.array)
MP, ML, MU = lucy.mlx.lu(a, stream=None)
assert_type(MP, mx.array)
