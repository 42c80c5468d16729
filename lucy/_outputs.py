"""Memory for lucy's large outputs, kept for reuse after they are freed.

A large fresh array costs a page fault and the kernel's zeroing for every
page on its first write (a third of lu_factor's time at 20000 x 16 x 16), and
glibc maps every block of 32 MiB or more afresh and unmaps it when it is
freed, and returns smaller ones to the kernel once twice the largest is free
at the top of its heap (lu's L and U), so a loop that factors a new batch
each step pays that again on every call. lucy's outputs of at least 4 MiB
therefore come from its own allocator (``_kernels/output_cache.h``), which
keeps the memory of freed outputs, up to a limit, for later calls of the
same or a somewhat smaller size, marked MADV_FREE so the kernel can still
reclaim it under memory pressure. Intermediate arrays and other libraries' arrays are
untouched.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _batch

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import DTypeLike, NDArray

__all__ = ["empty", "zeros", "empty_cache"]

_ENV = "LUCY_OUTPUT_CACHE_BYTES"
_DEFAULT_LIMIT = 1 << 30        # bytes; at most an eighth of the RAM


def _default_limit() -> int:
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _DEFAULT_LIMIT
    return min(_DEFAULT_LIMIT, ram // 8)


def _limit_from_environment() -> int:
    text = os.environ.get(_ENV, "").strip()
    if not text:
        return _default_limit()
    try:
        limit = int(text)
    except ValueError:
        limit = -1
    if not 0 <= limit < 2**63:     # the allocator counts bytes in a size_t
        warnings.warn(f"{_ENV}={text!r} is not a byte count >= 0 and < 2**63; using the default "
                      f"({_default_limit()} bytes)", RuntimeWarning, stacklevel=2)
        return _default_limit()
    return limit


_batch.configure_output_cache(_limit_from_environment())


def _make(make: Callable[[tuple[int, ...], np.dtype[Any]], NDArray[Any]],
          shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
    dtype = np.dtype(dtype)
    if math.prod(shape) * dtype.itemsize < _batch.OUTPUT_CACHE_MIN_BYTES:
        return make(shape, dtype)
    return _batch.cached_output(make, shape, dtype)


def empty(shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
    """np.empty for an output of lucy's."""
    return _make(np.empty, shape, dtype)


def zeros(shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
    """np.zeros for an output of lucy's."""
    return _make(np.zeros, shape, dtype)


def empty_cache() -> None:
    """Release the memory lucy keeps from its freed outputs.

    lucy's outputs of 4 MiB or more come from memory that lucy keeps when
    they are freed, so that a later call of the same or a somewhat smaller
    size reuses it without the page faults and the kernel's zeroing of fresh
    memory (a loop that factors a new 20000 x 16 x 16 batch each step runs
    about 1.5x faster). At most 1 GiB, and at most an eighth of the RAM, is
    kept, in at most 8 blocks; the kernel may reclaim it at any time under
    memory pressure (it is marked ``MADV_FREE``), and a block that the next 8
    large outputs do not take is released. The environment variable
    ``LUCY_OUTPUT_CACHE_BYTES``, read when lucy is imported, sets the limit
    (0 keeps nothing). This function gives everything kept back to the
    operating system now, like ``torch.cuda.empty_cache``.

    Examples
    --------
    >>> import numpy as np, lucy
    >>> lu, piv = lucy.lu_factor(np.random.default_rng(0).random((20000, 16, 16)))
    >>> del lu, piv            # lu's 41 MB are kept for the next call
    >>> lucy.empty_cache()     # and now given back
    """
    _batch.release_output_cache()


def cache_state() -> tuple[int, int, int]:
    """(blocks kept, bytes kept, byte limit) of the output cache."""
    return _batch.output_cache_state()
