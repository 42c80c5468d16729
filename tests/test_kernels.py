"""The kernel planner (lucy/_kernels/plan.pxd): one function maps (dtype, M,
N, tier) to the kernel, and the Python layer and the kernels both follow it.

The results of each kernel are checked against SciPy in test_lu_factor.py
and test_lu_solve.py; here: that the plan is self-consistent, that the
Python layer's BLAS and thread decisions are the plan's, and that the
kernels the plan names really ran (their bits)."""

import numpy as np
import pytest
import scipy.linalg as sla

import lucy
from lucy import _api, _batch
from lucy._threads import blas_single_threaded
from conftest import LAPACK_DTYPES, random_matrices

# Every test here runs on each SIMD tier this machine has (conftest.py).
pytestmark = pytest.mark.every_tier

KERNELS = {"scalar", "columns", "panels", "getrf", "blocked"}
LAPACK_KERNELS = {"panels", "getrf", "blocked"}
PLAN_SHAPES = [(1, 1), (2, 2), (3, 3), (4, 4), (8, 8), (9, 9), (12, 12), (16, 16),
               (32, 32), (33, 33), (40, 40), (64, 64), (96, 96), (97, 97), (100, 100),
               (128, 128), (256, 256), (511, 511), (512, 512), (600, 520), (520, 600),
               (64, 12), (12, 64), (96, 200), (200, 96), (36, 36), (24, 24)]


def reference_lu(a):
    """Right-looking LU with partial pivoting in NumPy, in the order lucy's
    real kernels round: the first largest |x| as pivot, the column times the
    reciprocal of the pivot (divided by it below the safe minimum), then
    each trailing element minus one product (a multiply, then a
    subtraction, no fused multiply-add). (lu, piv)."""
    a = np.array(a, order="F")
    m, n = a.shape
    tiny = np.finfo(a.dtype).tiny
    piv = np.zeros(min(m, n), np.int32)
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        piv[j] = p
        if a[p, j] == 0:
            continue
        a[[j, p]] = a[[p, j]]
        if abs(a[j, j]) >= tiny:
            a[j + 1:, j] *= a.dtype.type(1) / a[j, j]
        else:
            a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.multiply.outer(a[j + 1:, j], a[j, j + 1:])
    return a, piv


class TestPlan:
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_rules(self, dtype):
        for m, n in PLAN_SHAPES:
            p = _batch.factor_plan(dtype, m, n)
            assert p.kernel in KERNELS
            assert p.reaches_lapack == (p.kernel in LAPACK_KERNELS), (m, n, p)
            assert p.threads_inside == (p.kernel == "blocked"), (m, n, p)
            if min(m, n) >= _batch.BLOCKED_MIN_N:
                assert p.kernel == "blocked", (m, n, p)
            elif m <= _batch.SMALL_N and n <= _batch.SMALL_N:
                # lucy's own kernels only, whatever the tier
                assert not p.reaches_lapack, (m, n, p)
            if p.lanes:
                assert m == n and 2 <= n <= 8 and np.dtype(dtype) != np.complex64

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_solve_rules(self, dtype):
        own = "substitutions" if _batch.kernel_tiers_built() else "scalar"
        most = _batch.SOLVE_KERNEL_MAX_NRHS
        for m in (1, 2, 4, 8, 9, 32, 33, 100, 3000):
            for nrhs in (1, most, most + 1, 100):
                for trans in (0, 1, 2):
                    p = _batch.solve_plan(dtype, m, trans, nrhs)
                    assert p.reaches_lapack == (p.kernel in ("getrs", "blocks"))
                    if m <= _batch.SMALL_N:
                        assert p.kernel == own, (m, nrhs, p)
                    elif nrhs <= most:
                        assert p.kernel == ("substitutions" if own == "substitutions"
                                            else "getrs"), (m, nrhs, p)
                    elif trans == 0 and m >= _batch.SOLVE_BLOCKS_MIN:
                        assert p.kernel == "blocks" and p.threads_inside, (m, nrhs, p)
                    else:
                        assert p.kernel == "getrs", (m, nrhs, p)
                    assert not p.lanes or (trans == 0 and 2 <= m <= 8)

    def test_rejects_other_dtypes(self):
        with pytest.raises(TypeError, match="float32/64 or complex64/128"):
            _batch.factor_plan(np.int64, 4, 4)


class TestPythonLayerAsksThePlan:
    """lu_factor, lu and lu_solve hold BLAS at one thread exactly when the
    plan reaches LAPACK/BLAS, and use threads inside one matrix exactly when
    its kernel can."""

    @pytest.fixture
    def calls(self, monkeypatch):
        seen = []
        run, plan_threads = _api._run_kernel, _api._plan_threads

        def record_run(kernel, args, reaches_lapack):
            seen.append(("lapack", reaches_lapack))
            return run(kernel, args, reaches_lapack)

        def record_threads(workers, batch_size, work, threads_inside=False, **kwargs):
            seen.append(("inside", threads_inside))
            return plan_threads(workers, batch_size, work, threads_inside, **kwargs)

        monkeypatch.setattr(_api, "_run_kernel", record_run)
        monkeypatch.setattr(_api, "_plan_threads", record_threads)
        return seen

    @pytest.mark.parametrize("shape", [(3, 4, 4), (2, 16, 16), (2, 33, 33), (1, 100, 100),
                                       (1, 100, 36), (1, 520, 512)])
    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_factor(self, calls, shape, dtype, rng):
        a = random_matrices(shape, dtype, rng)
        plan = _batch.factor_plan(dtype, *shape[-2:])
        lucy.lu_factor(a)
        lucy.lu(a)
        assert calls == [("inside", plan.threads_inside), ("lapack", plan.reaches_lapack)] * 2

    @pytest.mark.parametrize("m", [4, 32, 33])
    def test_solve(self, calls, m, rng):
        a = random_matrices((2, m, m), np.float64, rng)
        f = lucy.lu_factor(a)
        calls.clear()
        lucy.lu_solve(f, np.ones((2, m, 40)))
        assert calls[-1] == ("lapack", _batch.solve_plan(np.float64, m, 0, 40).reaches_lapack)

    def test_one_system_with_many_rhs_holds_blas(self, calls, rng):
        # One system through getrs: lucy's threads take groups of
        # right-hand sides (fixed by their number), each a getrs on one BLAS
        # thread.
        a = random_matrices((40, 40), np.float64, rng)
        f = lucy.lu_factor(a)
        plan = _batch.solve_plan(np.float64, 40, 0, 100)
        assert plan.reaches_lapack and plan.threads_inside
        calls.clear()
        lucy.lu_solve(f, np.ones((40, 100)), workers=2)
        assert calls == [("inside", True), ("lapack", True)]


class TestKernelsFollowThePlan:
    """The kernel the plan names is the one that ran, told by its bits:
    lucy's own real kernels (scalar, columns, lanes) round exactly as the
    NumPy reference above; LAPACK's getrf gives SciPy's bits."""

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("shape", [(9, 2, 2), (9, 3, 3), (9, 4, 4), (9, 8, 8), (3, 12, 12),
                                       (3, 16, 16), (3, 24, 24), (2, 40, 40), (2, 64, 64),
                                       (2, 96, 96), (2, 64, 12), (2, 12, 64), (2, 30, 18),
                                       (2, 80, 92)])
    def test_own_kernels_round_as_the_reference(self, dtype, shape, rng):
        plan = _batch.factor_plan(dtype, *shape[-2:])
        if plan.reaches_lapack:
            pytest.skip(f"{plan.kernel} at this tier")
        a = random_matrices(shape, dtype, rng)
        for workers in (1, 2):
            lu, piv = lucy.lu_factor(a, workers=workers)
            for i in range(shape[0]):
                ref_lu, ref_piv = reference_lu(a[i])
                np.testing.assert_array_equal(piv[i], ref_piv)
                np.testing.assert_array_equal(lu[i], ref_lu)

    @pytest.mark.parametrize("dtype", LAPACK_DTYPES)
    def test_getrf_plan_is_lapack(self, dtype, rng):
        for shape in [(33, 33), (100, 36), (97, 80)]:
            if _batch.factor_plan(dtype, *shape).kernel != "getrf":
                continue
            a = random_matrices(shape, dtype, rng)
            lu, piv = lucy.lu_factor(a, workers=1)
            with blas_single_threaded:
                ref_lu, ref_piv, _ = sla.get_lapack_funcs("getrf", (a,))(a)
            np.testing.assert_array_equal(piv, ref_piv)
            np.testing.assert_array_equal(lu, ref_lu)
