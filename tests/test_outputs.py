"""The output cache: lucy's outputs of 4 MiB or more come from memory that
lucy keeps when they are freed. Reused memory must never show through in a
result, the cache must stay within its limits, and it must be safe from many
threads at once."""

import concurrent.futures
import os
import subprocess
import sys

import numpy as np
import pytest

import lucy
from lucy import _outputs

from conftest import assert_lu_factor_matches_scipy

MIB = 1 << 20


def data_address(arr):
    return arr.__array_interface__["data"][0]


def big_batch(n=16, items=None, dtype=np.float64, seed=0):
    """A stack whose lu_factor output is above 32 MiB (the cache takes 4 MiB
    or more; glibc would map this size afresh for every call)."""
    items = 33 * MIB // (np.dtype(dtype).itemsize * n * n) + 1 if items is None else items
    a = np.random.default_rng(seed).standard_normal((items, n, n)).astype(dtype)
    assert a.nbytes >= 32 * MIB
    return a


def kept_size_output():
    """An untouched cache-sized output (its pages never become resident)."""
    return _outputs.empty((33 * MIB // 8,), np.float64)


@pytest.fixture(autouse=True)
def empty_cache_around():
    lucy.empty_cache()
    yield
    lucy.empty_cache()


def blocks_kept():
    return _outputs.cache_state()[0]


class TestReuse:
    @pytest.mark.parametrize("n", [4, 16, 64])
    def test_freed_output_is_reused_and_fully_overwritten(self, n):
        a = big_batch(n)
        lu, piv = lucy.lu_factor(a)
        first, address = lu.copy(), data_address(lu.base)
        lu[...] = np.nan                     # what the next call must not see
        del lu, piv
        assert blocks_kept() == 1
        lu, piv = lucy.lu_factor(a)
        assert data_address(lu.base) == address and blocks_kept() == 0
        np.testing.assert_array_equal(lu, first)
        assert_lu_factor_matches_scipy(a[::97], lu[::97], piv[::97])

    def test_zeros_are_zero_in_reused_memory(self):
        a = big_batch(16)
        p, l, u = lucy.lu(a)
        p[...] = 7.0
        del p, l, u
        p, l, u = lucy.lu(a)
        assert set(np.unique(p)) == {0.0, 1.0}
        np.testing.assert_array_equal(p.sum(axis=-1), 1.0)
        np.testing.assert_allclose(p @ l @ u, a, atol=1e-12)

    def test_outputs_are_aligned_and_writeable(self):
        lu, piv = lucy.lu_factor(big_batch(16))
        assert data_address(lu.base) % 64 == 0
        assert lu.flags.writeable and lu.flags.aligned and lu.base.flags.owndata

    def test_small_outputs_bypass_the_cache(self):
        a = np.random.default_rng(0).standard_normal((64, 16, 16))
        lu, piv = lucy.lu_factor(a)
        del lu, piv
        assert blocks_kept() == 0

    def test_alternating_sizes_keep_both(self):
        # lu_factor then lu_solve in a loop: two sizes, each reused.
        addresses = set()
        for _ in range(4):
            x = kept_size_output()
            y = _outputs.empty((3 * 33 * MIB // 8,), np.float64)     # 3x the size
            addresses |= {data_address(x), data_address(y)}
            del x, y
        assert len(addresses) == 2 and blocks_kept() == 2

    def test_a_smaller_request_reuses_a_kept_block_whole(self):
        # Batches of varying sizes reuse memory; the block goes back to the
        # cache with its full length (its pages past the request included).
        x = _outputs.empty((3 * 33 * MIB // 8,), np.float64)
        address = data_address(x)
        del x
        kept = _outputs.cache_state()[:2]
        for fraction in (0.9, 0.7):
            y = _outputs.empty((int(fraction * 3 * 33 * MIB) // 8,), np.float64)
            assert data_address(y) == address
            y[...] = 1.0
            del y
            assert _outputs.cache_state()[:2] == kept
        z = _outputs.empty((int(0.4 * 3 * 33 * MIB) // 8,), np.float64)   # far smaller
        assert data_address(z) != address

    def test_a_block_not_taken_within_eight_requests_is_released(self):
        x = _outputs.empty((3 * 33 * MIB // 8,), np.float64)
        del x
        for requests in range(1, 10):
            y = kept_size_output()          # too small for the kept block
            del y
            assert blocks_kept() == (2 if requests <= 8 else 1)

    def test_empty_cache_releases_everything(self):
        outs = [kept_size_output() for _ in range(3)]
        del outs
        count, nbytes, limit = _outputs.cache_state()
        assert count == 3 and 3 * 33 * MIB <= nbytes <= limit
        lucy.empty_cache()
        assert _outputs.cache_state()[:2] == (0, 0)

    def test_at_most_eight_blocks_are_kept(self):
        outs = [kept_size_output() for _ in range(10)]
        del outs
        assert blocks_kept() == 8


class TestResize:
    @pytest.mark.parametrize("new_len", [6 * MIB, MIB // 8, 1000])
    def test_resize_keeps_the_data(self, new_len):
        # ndarray.resize reaches the handler's realloc, which gets no old size.
        x = _outputs.empty((5 * MIB,), np.float64)      # 40 MiB: a kept mapping
        x[...] = np.arange(5 * MIB)
        x.resize(new_len, refcheck=False)
        keep = min(5 * MIB, new_len)
        np.testing.assert_array_equal(x[:keep], np.arange(keep))
        x[...] = 1.0                                     # all of it is writeable

    def test_resize_of_a_small_output(self):
        x = _outputs.empty((1000,), np.float64)
        x[...] = np.arange(1000)
        x.resize(5 * MIB, refcheck=False)
        np.testing.assert_array_equal(x[:1000], np.arange(1000))


class TestLimit:
    def run(self, value, code):
        env = dict(os.environ, LUCY_OUTPUT_CACHE_BYTES=value)
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)

    CODE = ("import numpy as np, lucy; from lucy import _outputs; "
            "lu, piv = lucy.lu_factor(np.ones((16500, 16, 16)) + np.eye(16)); del lu; "
            "print(_outputs.cache_state())")

    def test_zero_keeps_nothing(self):
        out = self.run("0", self.CODE)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "(0, 0, 0)"

    def test_a_block_above_the_limit_is_not_kept(self):
        out = self.run(str(32 * MIB), self.CODE)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"(0, 0, {32 * MIB})"

    @pytest.mark.parametrize("value", ["-1", "lots", "1.5e9", str(2**64), str(2**63), "9" * 400])
    def test_bad_value_warns_and_uses_the_default(self, value):
        out = self.run(value, "import warnings; warnings.simplefilter('always'); " + self.CODE)
        assert out.returncode == 0, out.stderr
        assert "LUCY_OUTPUT_CACHE_BYTES" in out.stderr and "not a byte count" in out.stderr
        assert out.stdout.strip().startswith("(1, ")


def test_many_threads_allocate_and_free_at_once():
    arrays = [big_batch(16, seed=s) for s in range(2)]
    expected = [lucy.lu_factor(a, workers=1) for a in arrays]

    def work(i):
        for _ in range(5):
            lu, piv = lucy.lu_factor(arrays[i % 2], workers=1)
            if not (np.array_equal(lu, expected[i % 2][0])
                    and np.array_equal(piv, expected[i % 2][1])):
                return False
            lu[...] = np.nan
            del lu, piv
            x = kept_size_output()            # a second size in the mix
            del x
        return True

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))
    assert blocks_kept() <= 8
