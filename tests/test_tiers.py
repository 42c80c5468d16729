"""The SIMD kernel tiers (lucy/_kernels, docs/kernels.md): LUCY_KERNELS at
import, and what the tiers promise about each other's bits.

The kernel-path tests of the other files run on every tier this machine has
(conftest.py, every_tier); here, the choice of the tier and the comparison
of tiers."""

import os
import subprocess
import sys

import numpy as np
import scipy.linalg
import pytest

import lucy
from lucy import _batch
from conftest import KERNEL_TIERS, kernels, random_matrices

# lucy's order of preference (dispatch.c, lucy_tier_best).
PREFERENCE = ["avx512", "avx2", "neon", "portable"]
ALL_TIERS = ["portable", "avx2", "avx512", "neon"]
FUSED_TIERS = ["avx2", "avx512", "neon"]     # complex128's columns kernel fuses


def run_lucy(code, **env):
    """Run ``code`` in a fresh interpreter with the environment changed by
    env (None removes a variable); its CompletedProcess."""
    environ = dict(os.environ)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=environ)


TIER_OF_BOTH = ("import lucy, lucy.cython_lu as c; "
                "print(lucy._batch.kernel_tier(), c._kernel_tier())")


class TestLucyKernels:
    @pytest.mark.parametrize("tier", KERNEL_TIERS)
    def test_forces_the_tier_of_both_modules(self, tier):
        out = run_lucy(TIER_OF_BOTH + "; lucy.show_config()", LUCY_KERNELS=tier.upper())
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0] == f"{tier} {tier}"
        assert f"kernels: {tier} (LUCY_KERNELS={tier.upper()};" in out.stdout

    def test_auto_takes_the_best_the_cpu_runs(self):
        best = next(t for t in PREFERENCE if t in KERNEL_TIERS)
        for value in (None, "auto", ""):
            out = run_lucy(TIER_OF_BOTH, LUCY_KERNELS=value)
            assert out.returncode == 0, out.stderr
            assert out.stdout.split() == [best, best]

    def test_auto_on_a_cpu_with_less(self):
        # The test hook narrows what the CPU is taken to run.
        out = run_lucy(TIER_OF_BOTH, LUCY_KERNELS="auto", _LUCY_TEST_CPU_TIERS="portable")
        assert out.stdout.split() == ["portable", "portable"], out.stderr

    def test_a_tier_the_cpu_lacks_fails_the_import_naming_what_it_runs(self):
        wanted = [t for t in KERNEL_TIERS if t != "portable"]
        if not wanted:
            pytest.skip("this machine runs the portable tier only")
        out = run_lucy("import lucy", LUCY_KERNELS=wanted[-1],
                       _LUCY_TEST_CPU_TIERS="portable")
        assert out.returncode != 0
        assert (f"RuntimeError: LUCY_KERNELS='{wanted[-1]}': this CPU cannot run the "
                f"{wanted[-1]} kernels; it runs portable") in out.stderr

    def test_a_tier_not_built_fails_the_import_naming_those_built(self):
        missing = [t for t in ALL_TIERS if t not in _batch.kernel_tiers_built()]
        if not missing:
            pytest.skip("this build has every tier")
        out = run_lucy("import lucy", LUCY_KERNELS=missing[0])
        assert out.returncode != 0
        built = ", ".join(_batch.kernel_tiers_built())
        assert (f"RuntimeError: LUCY_KERNELS='{missing[0]}': this build of lucy has no "
                f"{missing[0]} kernels; it has {built}") in out.stderr

    def test_an_unknown_name_fails_the_import(self):
        out = run_lucy("import lucy", LUCY_KERNELS="sse9")
        assert out.returncode != 0
        assert ("ValueError: LUCY_KERNELS='sse9' is not a kernel tier: use auto, "
                "portable, avx2, avx512, neon") in out.stderr

    def test_the_runtime_switch_checks_too(self):
        with pytest.raises(ValueError, match="not a kernel tier"):
            _batch._use_kernels("sse9")
        assert _batch.kernel_tier() in KERNEL_TIERS


def factor_on(tier, a, workers=1):
    with kernels(tier):
        return lucy.lu_factor(a, workers=workers)


def assert_same_bits(tiers, a):
    results = {t: factor_on(t, a) for t in tiers}
    first = tiers[0]
    for t in tiers[1:]:
        np.testing.assert_array_equal(results[t][1], results[first][1], err_msg=f"{t} {first}")
        np.testing.assert_array_equal(results[t][0], results[first][0], err_msg=f"{t} {first}")


class TestTiersAgree:
    """docs/kernels.md: float32 and float64 give the same bits on every tier
    wherever the tiers' plans all take lucy's own unblocked kernels (lanes,
    columns, scalar: they round alike); complex128 too for square matrices
    up to 8, while its columns kernel's fused products make avx2, avx512 and
    neon agree among themselves, and not with portable, on other shapes."""

    REAL_SHAPES = [(9, 2, 2), (9, 3, 3), (9, 4, 4), (9, 8, 8), (3, 16, 16), (2, 24, 20),
                   (2, 32, 32), (2, 48, 48), (2, 64, 64), (2, 96, 96), (2, 64, 12), (2, 12, 64),
                   (2, 30, 30), (2, 40, 40)]

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("shape", REAL_SHAPES, ids=str)
    def test_real_own_kernels(self, dtype, shape, rng):
        tiers = []
        for t in KERNEL_TIERS:
            with kernels(t):
                if not _batch.factor_plan(dtype, *shape[-2:]).reaches_lapack:
                    tiers.append(t)
        if len(tiers) < 2:
            pytest.skip("fewer than two tiers take this shape without LAPACK")
        assert_same_bits(tiers, random_matrices(shape, dtype, rng))

    @pytest.mark.parametrize("n", range(2, 9))
    def test_complex128_small_square_on_every_tier(self, n, rng):
        if len(KERNEL_TIERS) < 2:
            pytest.skip("one tier on this machine")
        assert_same_bits(KERNEL_TIERS, random_matrices((9, n, n), np.complex128, rng))

    @pytest.mark.parametrize("shape", [(3, 16, 16), (2, 40, 24), (2, 24, 40), (2, 64, 64),
                                       (2, 96, 96), (2, 10, 10)], ids=str)
    def test_complex128_fused_tiers(self, shape, rng):
        tiers = [t for t in KERNEL_TIERS if t in FUSED_TIERS]
        if len(tiers) < 2:
            pytest.skip("fewer than two tiers with fused complex products here")
        assert_same_bits(tiers, random_matrices(shape, np.complex128, rng))

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
    @pytest.mark.parametrize("m", [1, 9, 33, 100, 1030])
    @pytest.mark.parametrize("trans", [0, 1, 2])
    def test_solve_on_every_tier(self, dtype, m, trans, rng):
        # lu_solve's substitutions (solve.c.in) fuse nothing and fix their
        # sums' order: the same bits on every tier, for every dtype (1030:
        # real types' passes of eight columns, then four and single ones).
        a = random_matrices((3, m, m), dtype, rng)
        # (slice by slice: SciPy before 1.15 takes 2-D input only)
        lu, piv = (np.stack(f) for f in zip(*(scipy.linalg.lu_factor(x) for x in a)))
        b = random_matrices((3, m, 3), dtype, rng)
        xs = {}
        for t in KERNEL_TIERS:
            with kernels(t):
                assert _batch.solve_plan(dtype, m, trans, 3).kernel == "substitutions"
                xs[t] = lucy.lu_solve((lu, piv), b, trans=trans)
        for t in KERNEL_TIERS[1:]:
            np.testing.assert_array_equal(xs[t], xs[KERNEL_TIERS[0]], err_msg=t)

    def test_portable_rounds_complex128_otherwise(self, rng):
        # The promise above is only as wide as it says: where the columns
        # kernel fuses, portable's unfused products give other bits.
        fused = [t for t in KERNEL_TIERS if t in FUSED_TIERS]
        if "portable" not in KERNEL_TIERS or not fused:
            pytest.skip("needs portable and a fused tier")
        a = random_matrices((4, 24, 24), np.complex128, rng)
        lu_p, piv_p = factor_on("portable", a)
        lu_f, piv_f = factor_on(fused[0], a)
        assert not np.array_equal(lu_p, lu_f)
        np.testing.assert_allclose(lu_p, lu_f, rtol=1e-10, atol=1e-12)
