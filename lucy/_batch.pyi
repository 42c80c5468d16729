import numpy as np
import numpy.typing as npt

INFO_NONFINITE: int
INFO_BAD_PIVOT: int
SMALL_N: int
LANES: int
BLOCKED_MIN_N: int

def openmp_enabled() -> bool: ...
def openmp_max_threads() -> int: ...
def lapack_int_size() -> int: ...
def factor(src: np.ndarray, lu: np.ndarray, piv: npt.NDArray[np.int32],
           info: npt.NDArray[np.int32], check_finite: bool, num_threads: int) -> None: ...
def lu(src: np.ndarray, piv_in: np.ndarray | None, perm_out: np.ndarray | None,
       lower: np.ndarray, upper: np.ndarray, info: npt.NDArray[np.int32], perm_kind: int,
       work: np.ndarray, iwork: npt.NDArray[np.int32], check_finite: bool,
       num_threads: int) -> None: ...
def solve(lu: np.ndarray, piv: np.ndarray, rhs: np.ndarray, x: np.ndarray,
          info: npt.NDArray[np.int32], trans: int, work: np.ndarray,
          iwork: np.ndarray, check_finite: bool, num_threads: int) -> None: ...
def convert_pivots(src: np.ndarray, dst: npt.NDArray[np.int32], info: npt.NDArray[np.int32],
                   to_permutation: bool, iwork: npt.NDArray[np.int32],
                   num_threads: int) -> None: ...
