from typing import Any, Callable, NamedTuple

import numpy as np
import numpy.typing as npt

INFO_NONFINITE: int
INFO_BAD_PIVOT: int
SMALL_N: int
COLUMNS_MAX_N: int
COLUMNS_MAX_N_COMPLEX128: int
PANELS_MAX_N: int
LANES: int
THREADS_PER_CPU: int
BLOCKED_MIN_N: int

class FactorPlan(NamedTuple):
    kernel: str
    lanes: bool
    reaches_lapack: bool
    threads_inside: bool

class SolvePlanInfo(NamedTuple):
    kernel: str
    lanes: bool
    reaches_lapack: bool

def factor_plan(dtype: npt.DTypeLike, m: int, n: int) -> FactorPlan: ...
def solve_plan(dtype: npt.DTypeLike, m: int, trans: int) -> SolvePlanInfo: ...
def simd_kernels() -> bool: ...
def simd_kernels_compiled() -> bool: ...
def openmp_enabled() -> bool: ...
def openmp_max_threads() -> int: ...
def lapack_int_size() -> int: ...
OUTPUT_CACHE_MIN_BYTES: int

def cached_output(make: Callable[..., npt.NDArray[Any]], *args: Any) -> npt.NDArray[Any]: ...
def configure_output_cache(limit: int) -> None: ...
def release_output_cache() -> None: ...
def output_cache_state() -> tuple[int, int, int]: ...
def factor(src: npt.NDArray[Any], lu: npt.NDArray[Any], piv: npt.NDArray[np.int32],
           info: npt.NDArray[np.int32] | None, check_finite: bool,
           num_threads: int) -> tuple[int | None, int, int | None, int] | None: ...
def lu(src: npt.NDArray[Any], piv_in: npt.NDArray[Any] | None,
       perm_out: npt.NDArray[Any] | None, lower: npt.NDArray[Any], upper: npt.NDArray[Any],
       info: npt.NDArray[np.int32], perm_kind: int, work: npt.NDArray[Any],
       iwork: npt.NDArray[np.int32], check_finite: bool, num_threads: int) -> None: ...
def solve(lu: npt.NDArray[Any], piv: npt.NDArray[Any], rhs: npt.NDArray[Any],
          x: npt.NDArray[Any], info: npt.NDArray[np.int32], trans: int, work: npt.NDArray[Any],
          iwork: npt.NDArray[Any], check_finite: bool, num_threads: int) -> None: ...
def convert_pivots(src: npt.NDArray[Any], dst: npt.NDArray[np.int32],
                   info: npt.NDArray[np.int32], to_permutation: bool,
                   iwork: npt.NDArray[np.int32], num_threads: int) -> None: ...
