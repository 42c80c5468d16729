"""lucy on Dask arrays: lazy, the NumPy path's results bit for bit, its
errors at graph-build time, data errors and warnings at compute time, on
the threaded scheduler and on a dask.distributed cluster of two worker
processes (one per module), including a worker killed mid-computation, and
the out-of-core recipe of docs/dask.md with Zarr."""

import doctest
import logging
import os
import pathlib
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from scipy.linalg import LinAlgWarning

import lucy
from conftest import UNDER_ASAN

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import lucy._dask  # noqa: E402  (needs dask)

# The functions below that run in the cluster's worker processes travel by
# value: the workers cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROOT = pathlib.Path(__file__).resolve().parents[1]


def well_conditioned(shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return (a + 4 * np.eye(shape[-2], shape[-1])).astype(dtype)


def assert_bitwise_equal(actual, expected):
    """Same dtypes, shapes and bytes (NaNs included), output by output."""
    actual = actual if isinstance(actual, tuple) else (actual,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(actual) == len(expected)
    for i, (x, y) in enumerate(zip(actual, expected)):
        assert isinstance(x, np.ndarray), f"output {i} is {type(x)}"
        assert (x.dtype, x.shape) == (y.dtype, y.shape), f"output {i}"
        assert np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes(), \
            f"output {i} differs"


def dask_arrays(*outputs):
    for out in outputs:
        assert isinstance(out, da.Array), type(out)
    return outputs


# -- schedulers ---------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, shared by the whole module
    (starting them takes seconds)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    """What ``dask.compute(..., scheduler=)`` takes for each engine."""
    if request.param == "threads":
        return "threads"
    return request.getfixturevalue("client")


def compute(scheduler, *arrays):
    return dask.compute(*arrays, scheduler=scheduler)


# -- import --------------------------------------------------------------------

def test_import_lucy_does_not_import_dask():
    code = ("import sys, numpy as np, lucy; lucy.lu_factor(np.eye(3)); "
            "lucy.lu_solve(lucy.lu_factor(np.eye(3)), np.ones(3)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_doctests():
    result = doctest.testmod(lucy._dask, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_docs_page():
    """The runnable examples of docs/dask.md (the cluster ones are not)."""
    page = ROOT / "docs" / "dask.md"
    if not page.exists():
        pytest.skip("docs/dask.md is not beside the tests (an installed test tree)")
    pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


# -- results: the NumPy path's, bit for bit ------------------------------------

# (shape, chunks): batch chunks of all kinds, matrices split into chunks
# (merged by lucy), several batch dimensions, tall and wide, a single
# matrix, empty batches and empty matrices.
CHUNKINGS = [
    ((10, 4, 4), (3, 4, 4)),
    ((10, 4, 4), ((1, 2, 7), 4, 4)),
    ((10, 6, 6), (4, 2, 3)),
    ((3, 4, 5, 5), (2, 3, 5, 5)),
    ((9, 7, 3), (4, 7, 3)),
    ((9, 3, 7), (4, 1, 7)),
    ((40, 40), (16, 24)),
    ((5, 40, 40), (2, 40, 40)),
    ((0, 3, 3), (1, 3, 3)),
    ((4, 0, 3), (2, 0, 3)),
]
CHUNKING_IDS = ["x".join(map(str, s)) + "-" + str(c).replace(" ", "") for s, c in CHUNKINGS]


def _factor_calls():
    return [
        ("lu_factor", lambda a: lucy.lu_factor(a)),
        ("lu_factor_ex", lambda a: lucy.lu_factor_ex(a)),
        ("lu", lambda a: lucy.lu(a)),
        ("lu-p_indices", lambda a: lucy.lu(a, p_indices=True)),
        ("lu-permute_l", lambda a: lucy.lu(a, permute_l=True)),
        ("lu_unpack", lambda a: lucy.lu_unpack(*lucy.lu_factor(a))),
        ("lu_unpack-p_indices", lambda a: lucy.lu_unpack(*lucy.lu_factor(a), p_indices=True)),
        ("lu_solve", lambda a: lucy.lu_solve(lucy.lu_factor(_square(a)), _square(a)[..., :2])),
    ]


def _square(a):
    """The leading K x K block of each matrix (lu_solve's are square)."""
    k = min(a.shape[-2:])
    return a[..., :k, :k]


FACTOR_CALLS = _factor_calls()


class TestSameResults:
    @pytest.mark.parametrize("name,call", FACTOR_CALLS, ids=[c[0] for c in FACTOR_CALLS])
    @pytest.mark.parametrize("shape,chunks", CHUNKINGS, ids=CHUNKING_IDS)
    def test_threads(self, name, call, shape, chunks):
        a = well_conditioned(shape, seed=len(shape))
        out = dask_arrays(*_as_tuple(call(da.from_array(a, chunks=chunks))))
        assert_bitwise_equal(compute("threads", *out), _as_tuple(call(a)))

    @pytest.mark.parametrize("name,call", FACTOR_CALLS, ids=[c[0] for c in FACTOR_CALLS])
    def test_distributed(self, client, name, call):
        a = well_conditioned((30, 5, 5), seed=1)
        out = call(da.from_array(a, chunks=((7, 13, 10), 3, 5)))
        assert_bitwise_equal(compute(client, *_as_tuple(out)), _as_tuple(call(a)))

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128,
                                       np.int16, np.int64, np.bool_])
    def test_dtypes(self, scheduler, dtype):
        a = well_conditioned((12, 3, 3), np.complex128 if np.dtype(dtype).kind == "c" else
                             np.float64, seed=3)
        a = (a * 10).astype(dtype) if np.dtype(dtype).kind in "iub" else a.astype(dtype)
        out = lucy.lu_factor_ex(da.from_array(a, chunks=5))
        expected = lucy.lu_factor_ex(a)
        assert [x.dtype for x in out] == [x.dtype for x in expected]   # before computing
        assert_bitwise_equal(compute(scheduler, *out), expected)

    def test_chunks_of_the_results(self):
        x = da.from_array(well_conditioned((10, 3, 6, 6)), chunks=((4, 6), (1, 2), 2, 5))
        lu, piv, info = lucy.lu_factor_ex(x)
        batch = ((4, 6), (1, 2))
        assert lu.chunks == batch + ((6,), (6,))
        assert piv.chunks == batch + ((6,),)
        assert info.chunks == batch

    def test_each_chunk_is_one_lucy_call(self, monkeypatch):
        """lu, piv and info computed together factor each chunk once."""
        calls = []
        factor = lucy._api._factor
        monkeypatch.setattr(lucy._api, "_factor",
                            lambda a, *args, **kw: calls.append(a.shape) or factor(a, *args, **kw))
        x = da.from_array(well_conditioned((10, 4, 4)), chunks=((3, 3, 4), 2, 4))
        out = lucy.lu_factor_ex(x)
        calls.clear()                         # the graph-time check's
        compute("threads", *out)
        assert sorted(calls) == [(3, 4, 4), (3, 4, 4), (4, 4, 4)]

    def test_unknown_batch_sizes(self):
        a = well_conditioned((20, 3, 3))
        x = da.from_array(a, chunks=6)
        keep = x[:, 0, 0] > 4
        lu, piv = lucy.lu_factor(x[keep])
        assert np.isnan(lu.shape[0])
        assert_bitwise_equal(compute("threads", lu, piv),
                             lucy.lu_factor(a[a[:, 0, 0] > 4]))

    def test_unknown_matrix_sizes(self):
        x = da.from_array(well_conditioned((4, 5, 5)), chunks=2)
        rows = x[0, :, 0] > 4
        with pytest.raises(ValueError, match="compute_chunk_sizes"):
            lucy.lu_factor(x[:, rows])


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


class TestLuSolveBroadcasting:
    # (lu batch, b shape, b is 1-D): batch dims broadcast as on the NumPy path
    CASES = [
        ((8,), (8, 4, 2)),
        ((8, 1), (1, 3, 4, 2)),
        ((1, 3), (5, 3, 4, 1)),
        ((), (6, 4, 3)),
        ((7,), (4,)),
        ((2, 3), (4,)),
    ]

    @pytest.mark.parametrize("lu_batch,b_shape", CASES,
                             ids=[f"{c[0]}-{c[1]}".replace(" ", "") for c in CASES])
    @pytest.mark.parametrize("trans", [0, 1, 2])
    def test_threads(self, lu_batch, b_shape, trans):
        a = well_conditioned((*lu_batch, 4, 4), np.complex128, seed=2)
        b = np.random.default_rng(5).standard_normal(b_shape)
        lu, piv = lucy.lu_factor(a)
        x = lucy.lu_solve((da.from_array(lu, chunks=1), da.from_array(piv, chunks=1)),
                          da.from_array(b, chunks=2), trans)
        assert_bitwise_equal(compute("threads", *dask_arrays(x)),
                             lucy.lu_solve((lu, piv), b, trans))

    @pytest.mark.parametrize("dask_args", ["lu", "piv", "b", "lu,piv"])
    def test_numpy_beside_dask(self, scheduler, dask_args):
        """Any of lu, piv and b may be a Dask array, the rest NumPy."""
        lu, piv = lucy.lu_factor(well_conditioned((6, 3, 3), seed=4))
        b = np.random.default_rng(6).standard_normal((6, 3, 2))
        args = {"lu": lu, "piv": piv, "b": b}
        for name in dask_args.split(","):
            args[name] = da.from_array(args[name], chunks=4)
        x = lucy.lu_solve((args["lu"], args["piv"]), args["b"])
        assert_bitwise_equal(compute(scheduler, *dask_arrays(x)), lucy.lu_solve((lu, piv), b))

    def test_lu_unpack_broadcasts(self):
        lu, piv = lucy.lu_factor(well_conditioned((3, 1, 4, 4)))
        piv = np.broadcast_to(piv, (3, 5, 4))
        out = lucy.lu_unpack(da.from_array(lu, chunks=2), da.from_array(piv, chunks=(2, 3, 4)))
        assert_bitwise_equal(compute("threads", *dask_arrays(*out)), lucy.lu_unpack(lu, piv))


class TestThreads:
    @pytest.fixture
    def workers_seen(self, monkeypatch):
        """The ``workers`` every lucy call inside a chunk resolves."""
        seen = []
        resolve = lucy._api.resolve_workers
        monkeypatch.setattr(lucy._api, "resolve_workers",
                            lambda w=None: seen.append(w) or resolve(w))
        return seen

    X = well_conditioned((40, 4, 4))

    def test_one_thread_per_chunk_by_default(self, workers_seen):
        lu, piv = lucy.lu_factor(da.from_array(self.X, chunks=10))
        workers_seen.clear()                 # the graph-time check's
        compute("threads", lu, piv)
        assert workers_seen and set(workers_seen) == {1}

    @pytest.mark.parametrize("func", [lucy.lu_factor, lucy.lu_factor_ex, lucy.lu])
    def test_workers_argument_reaches_every_chunk(self, workers_seen, func):
        out = func(da.from_array(self.X, chunks=10), workers=2)
        workers_seen.clear()
        compute("threads", *out)
        assert workers_seen and set(workers_seen) == {2}

    def test_set_workers_at_graph_time_reaches_every_chunk(self, workers_seen):
        with lucy.set_workers(3):
            x = lucy.lu_solve(lucy.lu_factor(da.from_array(self.X, chunks=20)), np.ones(4))
        workers_seen.clear()
        compute("threads", x)
        assert workers_seen and set(workers_seen) == {3}    # lu_factor's and lu_solve's

    def test_same_bits_for_any_workers(self):
        x = da.from_array(well_conditioned((64, 40, 40)), chunks=32)
        assert_bitwise_equal(compute("threads", *lucy.lu_factor(x, workers=2)),
                             compute("threads", *lucy.lu_factor(x)))

    def test_workers_checked_at_graph_time(self):
        with pytest.raises(ValueError, match="workers must not be 0"):
            lucy.lu_factor(da.from_array(self.X), workers=0)
        with pytest.raises(TypeError, match="workers must be an integer"):
            lucy.lu_solve((da.from_array(self.X), np.zeros((40, 4), np.int32)), np.ones(4),
                          workers=1.5)

    def test_distributed_workers_keep_one_thread(self, client):
        """distributed starts its workers with OMP_NUM_THREADS=1 and lucy's
        default there is one thread, so workers= is the only way above it."""
        seen = client.run(lambda: (os.environ.get("OMP_NUM_THREADS"), lucy.get_workers()))
        assert list(seen.values()) == [("1", 1)] * 2


# -- graph-build-time errors, with the NumPy path's messages ---------------------

_LU, _PIV = lucy.lu_factor(well_conditioned((6, 4, 4)))
_B = np.ones((6, 4, 2))

# (id, call on NumPy or Dask arguments, arguments): each raises on the NumPy path
BAD_CALLS = [
    ("a-1d", lambda a: lucy.lu_factor(a), [np.ones(5)]),
    ("a-0d", lambda a: lucy.lu(a), [np.array(1.0)]),
    ("a-datetime", lambda a: lucy.lu_factor_ex(a), [np.zeros((2, 3, 3), "M8[s]")]),
    ("a-str", lambda a: lucy.lu_factor(a), [np.full((2, 3, 3), "x")]),
    ("lu_solve-b-rows", lambda lu, piv, b: lucy.lu_solve((lu, piv), b), [_LU, _PIV, np.ones((6, 5, 2))]),
    ("lu_solve-b-vector", lambda lu, piv, b: lucy.lu_solve((lu, piv), b), [_LU, _PIV, np.ones(3)]),
    ("lu_solve-b-0d", lambda lu, piv, b: lucy.lu_solve((lu, piv), b), [_LU, _PIV, np.array(1.0)]),
    ("lu_solve-not-square", lambda lu, piv, b: lucy.lu_solve((lu, piv), b),
     [_LU[..., :3], _PIV, _B]),
    ("lu_solve-piv-length", lambda lu, piv, b: lucy.lu_solve((lu, piv), b), [_LU, _PIV[:, :3], _B]),
    ("lu_solve-piv-complex", lambda lu, piv, b: lucy.lu_solve((lu, piv), b),
     [_LU, _PIV.astype(complex), _B]),
    ("lu_solve-batch", lambda lu, piv, b: lucy.lu_solve((lu, piv), b), [_LU, _PIV, _B[:4]]),
    ("lu_solve-trans", lambda lu, piv, b: lucy.lu_solve((lu, piv), b, trans=3), [_LU, _PIV, _B]),
    ("lu_solve-trans-str", lambda lu, piv, b: lucy.lu_solve((lu, piv), b, trans="X"),
     [_LU, _PIV, _B]),
    ("lu_solve-b-str", lambda lu, piv, b: lucy.lu_solve((lu, piv), b), [_LU, _PIV, _B.astype(str)]),
    ("lu_unpack-piv-length", lambda lu, piv: lucy.lu_unpack(lu, piv), [_LU, _PIV[:, :2]]),
    ("lu_unpack-batch", lambda lu, piv: lucy.lu_unpack(lu, piv), [_LU, _PIV[:5]]),
    ("lu_unpack-lu-1d", lambda lu, piv: lucy.lu_unpack(lu, piv), [np.ones(4), _PIV]),
]


class TestGraphTimeErrors:
    @pytest.mark.parametrize("call,args", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
    @pytest.mark.parametrize("which", ["all", "first"])
    def test_same_error_as_numpy(self, call, args, which):
        """Raised while the graph is built, with the NumPy path's exception
        and message, whichever arguments are Dask arrays."""
        with pytest.raises((TypeError, ValueError)) as on_numpy:
            call(*args)
        lazy = [da.from_array(x) if which == "all" or i == 0 else x for i, x in enumerate(args)]
        with pytest.raises(on_numpy.type) as on_dask:
            call(*lazy)
        assert str(on_dask.value) == str(on_numpy.value)

    def test_float_pivots_with_whole_values(self):
        x = lucy.lu_solve((da.from_array(_LU), da.from_array(_PIV.astype(float))), _B)
        np.testing.assert_array_equal(x.compute(), lucy.lu_solve((_LU, _PIV), _B))

    def test_object_dtype(self):
        x = da.from_array(np.ones((2, 3, 3), object), chunks=1)
        with pytest.raises(TypeError, match=r"^a: Dask arrays of dtype object.*astype"):
            lucy.lu_factor(x)

    def test_masked_chunks(self):
        x = da.ma.masked_array(da.ones((2, 3, 3)))
        with pytest.raises(ValueError, match="^a: masked arrays are not supported"):
            lucy.lu_factor(x)

    def test_other_dask_collections(self):
        lazy = dask.delayed(np.ones)((2, 3, 3))
        with pytest.raises(TypeError, match="only dask.array.Array, not Delayed"):
            lucy.lu_factor(lazy)

    def test_lu_and_piv_not_a_pair(self):
        with pytest.raises(TypeError, match="lu_and_piv must be the pair"):
            lucy.lu_solve((da.ones((3, 3)),), da.ones(3))


# -- compute time: nothing before, data errors and warnings after -----------------

def _explode(block):
    raise RuntimeError("a chunk was computed")


class TestLazy:
    @pytest.mark.parametrize("name,call", FACTOR_CALLS, ids=[c[0] for c in FACTOR_CALLS])
    def test_nothing_computed_before_asked(self, name, call):
        x = da.from_array(well_conditioned((6, 4, 4)), chunks=2)
        x = x.map_blocks(_explode, meta=x._meta)   # (meta: dask calls nothing to infer it)
        out = call(x)                         # builds the graph, reads nothing
        with pytest.raises(RuntimeError, match="a chunk was computed"):
            compute("sync", *_as_tuple(out))


def _with_nan(shape, index, chunks):
    a = well_conditioned(shape)
    a[index] = np.nan
    return a, da.from_array(a, chunks=chunks)


NONFINITE_CALLS = [
    ("lu_factor", lambda a, cf: lucy.lu_factor(a, check_finite=cf)),
    ("lu_factor_ex", lambda a, cf: lucy.lu_factor_ex(a, check_finite=cf)),
    ("lu", lambda a, cf: lucy.lu(a, check_finite=cf)),
    ("lu_solve-b", lambda a, cf: lucy.lu_solve(lucy.lu_factor(well_conditioned(a.shape)),
                                                a[..., :2], check_finite=cf)),
]


class TestComputeTimeErrors:
    @pytest.mark.parametrize("name,call", NONFINITE_CALLS, ids=[c[0] for c in NONFINITE_CALLS])
    def test_nonfinite_names_the_whole_arrays_index(self, scheduler, name, call):
        a, x = _with_nan((3, 9, 3, 3), (1, 7, 2, 1), ((1, 2), (4, 5), 3, 3))
        out = _as_tuple(call(x, True))        # no error yet
        with pytest.raises(ValueError, match=r"must not contain infs or NaNs \(first at batch "
                                             r"index \(1, 7\), in the Dask chunk \[1:3, 4:9\]\)"):
            compute(scheduler, *out)
        # the same call unchecked computes
        compute(scheduler, *_as_tuple(call(x, False)))

    def test_nonfinite_single_matrix(self):
        a, x = _with_nan((5, 5), (2, 3), (2, 5))
        with pytest.raises(ValueError) as on_numpy:
            lucy.lu_factor(a)
        with pytest.raises(ValueError) as on_dask:
            compute("threads", *lucy.lu_factor(x))
        assert str(on_dask.value) == str(on_numpy.value)

    @pytest.mark.parametrize("func", ["lu_unpack", "lu_solve"])
    def test_bad_pivots(self, scheduler, func):
        lu, piv = lucy.lu_factor(well_conditioned((10, 3, 3)))
        piv[6, 1] = 3
        lu, piv = da.from_array(lu, chunks=4), da.from_array(piv, chunks=4)
        out = (lucy.lu_unpack(lu, piv) if func == "lu_unpack"
               else (lucy.lu_solve((lu, piv), np.ones(3)),))
        with pytest.raises(ValueError, match=r"piv must hold row indices in \[0, 3\) \(first at "
                                             r"batch index \(6,\), in the Dask chunk \[4:8\]\)"):
            compute(scheduler, *out)


def _singular_stack():
    """12 matrices in chunks of 4: singular ones at 1 and 2 (chunk 0) and 9
    (chunk 2), none in chunk 1."""
    a = well_conditioned((12, 3, 3), seed=7)
    a[1, :, 0] = 0
    a[2, 1] = a[2, 0]
    a[9] = 0
    return a, da.from_array(a, chunks=4)


class TestSingular:
    def test_each_singular_chunk_warns(self):
        a, x = _singular_stack()
        lu, piv = lucy.lu_factor(x)
        with pytest.warns(LinAlgWarning) as record:
            result = compute("threads", lu, piv)
        messages = sorted(str(w.message) for w in record)
        assert messages == [
            "lu_factor: 1 of 4 matrices in the Dask chunk [8:12] are singular; the first is "
            "at batch index (9,) (diagonal number 1 is exactly zero). Use lucy.lu_factor_ex "
            "for the per-matrix info.",
            "lu_factor: 2 of 4 matrices in the Dask chunk [0:4] are singular; the first is "
            "at batch index (1,) (diagonal number 1 is exactly zero). Use lucy.lu_factor_ex "
            "for the per-matrix info.",
        ]
        assert_bitwise_equal(result, lucy.lu_factor_ex(a)[:2])

    def test_single_matrix_warns_as_numpy(self):
        a = np.ones((3, 3))
        with pytest.warns(LinAlgWarning) as on_numpy:
            lucy.lu_factor(a)
        with pytest.warns(LinAlgWarning) as on_dask:
            compute("threads", *lucy.lu_factor(da.from_array(a, chunks=2)))
        assert [str(w.message) for w in on_dask] == [str(w.message) for w in on_numpy]

    def test_no_warning_before_compute(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lucy.lu_factor(_singular_stack()[1])

    def test_info_is_a_dask_array_and_nothing_warns(self, scheduler):
        a, x = _singular_stack()
        lu, piv, info = dask_arrays(*lucy.lu_factor_ex(x))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = compute(scheduler, lu, piv, info)
        assert_bitwise_equal(result, lucy.lu_factor_ex(a))
        assert np.flatnonzero(result[2]).tolist() == [1, 2, 9]

    def test_lu_does_not_warn(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compute("threads", *lucy.lu(_singular_stack()[1]))

    @staticmethod
    def _warned(caplog):
        return sorted(r.getMessage() for r in caplog.records if r.name == "py.warnings")

    def test_distributed_worker_warns_into_its_log(self, client, caplog):
        """On a cluster a chunk warns in the worker that ran it; the recipe of
        docs/dask.md brings those warnings to the client's log."""
        a, x = _singular_stack()
        client.run(logging.captureWarnings, True)
        client.forward_logging("py.warnings")
        try:
            with caplog.at_level(logging.WARNING, logger="py.warnings"):
                result = compute(client, *lucy.lu_factor(x))
                # The records come to the client while or after it computes.
                deadline = time.monotonic() + 20
                while len(self._warned(caplog)) < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            client.unforward_logging("py.warnings")
            client.run(logging.captureWarnings, False)
        messages = self._warned(caplog)
        assert len(messages) == 2
        assert "LinAlgWarning: lu_factor: 1 of 4 matrices in the Dask chunk [8:12]" in messages[0]
        assert "LinAlgWarning: lu_factor: 2 of 4 matrices in the Dask chunk [0:4]" in messages[1]
        assert_bitwise_equal(result, lucy.lu_factor_ex(a)[:2])


# -- a worker process killed mid-computation ----------------------------------------

def _kill_worker_once(block, marker, block_id=None):
    """Chunk 5's first run kills the worker process that runs it."""
    if block_id[0] == 5 and not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return block


def test_killed_worker_is_retried(client, tmp_path):
    a = well_conditioned((80, 6, 6), seed=9)
    marker = str(tmp_path / "killed")
    x = da.from_array(a, chunks=10)
    x = x.map_blocks(_kill_worker_once, marker, meta=x._meta)
    pids = set(client.run(os.getpid).values())
    result = compute(client, *lucy.lu_factor_ex(x))
    assert_bitwise_equal(result, lucy.lu_factor_ex(a))
    killed = int(pathlib.Path(marker).read_text())
    assert killed in pids                      # a worker, and it was killed:
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)                        # (its nanny starts a new one)
    assert killed not in set(client.run(os.getpid).values())


# -- out of core: Zarr in, Zarr out ------------------------------------------------

def test_out_of_core_recipe(scheduler, tmp_path):
    """docs/dask.md's recipe: a stack in a Zarr store, factored chunk by
    chunk, lu, piv and info written to Zarr stores in one pass."""
    zarr = pytest.importorskip("zarr")
    a = well_conditioned((2000, 8, 8), seed=11)
    a[1234] = 0
    zarr.create_array(str(tmp_path / "a.zarr"), shape=a.shape, chunks=(300, 8, 8),
                      dtype=a.dtype)[...] = a

    stack = da.from_zarr(str(tmp_path / "a.zarr"))
    lu, piv, info = lucy.lu_factor_ex(stack)
    targets = [zarr.create_array(str(tmp_path / f"{name}.zarr"), shape=out.shape,
                                 chunks=out.chunksize, dtype=out.dtype)
               for name, out in [("lu", lu), ("piv", piv), ("info", info)]]
    da.store([lu, piv, info], targets, lock=False, scheduler=scheduler)

    written = tuple(zarr.open_array(str(tmp_path / f"{n}.zarr"), mode="r")[...]
                    for n in ("lu", "piv", "info"))
    assert_bitwise_equal(written, lucy.lu_factor_ex(a))
    assert np.flatnonzero(written[2]).tolist() == [1234]


def test_out_of_core_bench_runs(tmp_path):
    """bench/out_of_core.py end to end at a tiny size (its numbers are not
    checked, its agreement with the in-memory result is)."""
    script = ROOT / "bench" / "out_of_core.py"
    if not script.exists():
        pytest.skip("bench/ is not beside the tests")
    pytest.importorskip("zarr")
    if UNDER_ASAN:
        pytest.skip("the bench caps its child's memory with RLIMIT_DATA, where "
                    "AddressSanitizer cannot map its shadow memory")
    out = subprocess.run([sys.executable, str(script), "--size", "2MiB", "--cap", "1GiB",
                          "--chunk", "256KiB", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "lucy in memory): yes" in out.stdout
