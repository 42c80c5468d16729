"""lucy out of core: a Zarr stack larger than the memory the job may use.

    python bench/out_of_core.py                          # 1 GiB under a 512 MiB cap
    python bench/out_of_core.py --size 4GiB --cap 1GiB   # the README's figures

Writes a stack of n x n float64 matrices (standard normal, seed 0) to a Zarr
store, then, each in a fresh child process:

1. out of core: ``da.from_zarr`` -> ``lucy.lu_factor_ex`` -> ``da.store`` of
   lu, piv and info into three Zarr stores, on Dask's threaded scheduler,
   with the child's data memory capped at ``--cap`` (``RLIMIT_DATA``: an
   allocation beyond it fails, so the run proves the cap);
2. the stack copied from Zarr to Zarr the same way, with no lucy: what the
   reading and writing cost alone;
3. Dask in memory, no cap: the stack read into one ndarray (not timed), the
   same graph on it, results stored into ndarrays: Dask's cost without Zarr
   (Dask's ``from_array`` copies the ndarray, so the stack is there twice);
4. lucy in memory, no cap: the stack read into one ndarray (not timed), and
   ``lucy.lu_factor_ex`` on it, three times (the median is reported).

The results of 3 and 4 are compared with the Zarr results of 1, chunk by
chunk, bit for bit. Prints matrices/s, wall seconds and each child's peak
RSS (VmHWM, the whole process: interpreter, libraries, Dask, buffers), and
the data size against the cap. Needs ``pip install ".[dask]"``. Linux for the cap and VmHWM.
The store lives in ``--dir`` (a temporary folder by default, removed at the
end unless ``--keep``); an existing input of the same shape there is reused.
"""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from run import cpu_model     # bench/run.py's: lscpu's model name

_UNITS = {"": 1, "B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
          "KB": 10**3, "MB": 10**6, "GB": 10**9}


def parse_bytes(text):
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 4GiB, 512MiB, 10MB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def human(nbytes):
    for unit in ("GiB", "MiB", "KiB"):
        scale = _UNITS[unit.upper()]
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} B"


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _peak_rss():
    hwm = _status_kib("VmHWM") if sys.platform.startswith("linux") else None
    if hwm is not None:
        return hwm * 1024
    scale = 1 if sys.platform == "darwin" else 1024      # macOS reports bytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


# -- the input ---------------------------------------------------------------

def make_input(path, batch, n, chunk):
    """A (batch, n, n) float64 standard-normal stack in a Zarr store, written
    a chunk at a time (uncompressed: random numbers do not compress, and
    the figures are then lucy's and Dask's, not a codec's)."""
    import zarr
    try:
        z = zarr.open_array(str(path), mode="r")
        if z.shape == (batch, n, n) and z.chunks == (chunk, n, n):
            return
    except Exception:           # nothing there, or not this stack
        pass
    z = zarr.create_array(str(path), shape=(batch, n, n), chunks=(chunk, n, n),
                          dtype=np.float64, compressors=None, overwrite=True)
    rng = np.random.default_rng(0)
    for start in range(0, batch, chunk):
        stop = min(start + chunk, batch)
        z[start:stop] = rng.standard_normal((stop - start, n, n))


# -- the children ------------------------------------------------------------

def child_out_of_core(args):
    """The recipe of docs/dask.md, timed, under the memory cap."""
    import dask
    import dask.array as da
    import zarr

    import lucy

    stack = da.from_zarr(str(args.dir / "a.zarr"))
    lu, piv, info = lucy.lu_factor_ex(stack)
    targets = [zarr.create_array(str(args.dir / f"{name}.zarr"), shape=x.shape,
                                 chunks=x.chunksize, dtype=x.dtype, compressors=None,
                                 overwrite=True)
               for name, x in (("lu", lu), ("piv", piv), ("info", info))]
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        start = time.perf_counter()
        da.store([lu, piv, info], targets, lock=False)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "chunks": stack.numblocks[0]}


def child_zarr_copy(args):
    """The stack copied from Zarr to Zarr through the same Dask scheduler,
    no lucy: what reading and writing the stores alone costs."""
    import dask
    import dask.array as da
    import zarr

    stack = da.from_zarr(str(args.dir / "a.zarr"))
    target = zarr.create_array(str(args.dir / "copy.zarr"), shape=stack.shape,
                               chunks=stack.chunksize, dtype=stack.dtype, compressors=None,
                               overwrite=True)
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        start = time.perf_counter()
        da.store(stack, target, lock=False)
        seconds = time.perf_counter() - start
    shutil.rmtree(args.dir / "copy.zarr", ignore_errors=True)
    return {"seconds": seconds}


def _same_bits(x, y, step):
    """Whether x and y (same shape) hold the same bytes, compared ``step``
    matrices at a time (no copy of the whole stack)."""
    return x.shape == y.shape and all(
        np.ascontiguousarray(x[i:i + step]).tobytes() == np.ascontiguousarray(y[i:i + step]).tobytes()
        for i in range(0, x.shape[0], step))


def _in_memory(args):
    """The input stack as one ndarray, and the Zarr stores of the
    out-of-core results (to compare with)."""
    import zarr
    z = zarr.open_array(str(args.dir / "a.zarr"), mode="r")
    stored = [zarr.open_array(str(args.dir / f"{name}.zarr"), mode="r")
              for name in ("lu", "piv", "info")]
    return z[...], z.chunks, stored


def child_dask_in_memory(args):
    """The out-of-core graph on an ndarray, into ndarrays: Dask's and lucy's
    cost without Zarr. (Its peak RSS holds the stack twice: Dask's
    from_array copies an ndarray.)"""
    import dask.array as da

    import lucy

    a, chunks, stored = _in_memory(args)
    # (name=False: no hashing of the whole stack to name the graph)
    outs = lucy.lu_factor_ex(da.from_array(a, chunks=chunks, name=False))
    # Written once before timing: the first touch of fresh pages (about a
    # second per GiB on the project's VMs) is neither Dask's nor lucy's cost.
    dests = [np.ones(x.shape, x.dtype) for x in outs]
    start = time.perf_counter()
    da.store(list(outs), dests, lock=False, scheduler="threads", num_workers=args.threads)
    seconds = time.perf_counter() - start
    return {"seconds": seconds,
            "identical": all(_same_bits(x, y, chunks[0]) for x, y in zip(dests, stored))}


def child_lucy_in_memory(args):
    """lucy.lu_factor_ex on the whole stack in memory, three times."""
    import lucy

    a, chunks, stored = _in_memory(args)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        lu, piv, info = lucy.lu_factor_ex(a)
        times.append(time.perf_counter() - start)
        if len(times) < 3:
            del lu, piv, info
    return {"times": times, "seconds": sorted(times)[1], "workers": lucy.get_workers(),
            "singular": int(np.count_nonzero(info)),
            "identical": all(_same_bits(x, y, chunks[0])
                             for x, y in zip((lu, piv, info), stored))}


def run_child(which, args, cap=None):
    cmd = [sys.executable, __file__, "--child", which, "--dir", str(args.dir),
           "--threads", str(args.threads)]
    if cap:
        cmd += ["--rlimit-data", str(cap)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the {which} child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


CHILDREN = {"out-of-core": child_out_of_core, "zarr-copy": child_zarr_copy,
            "dask-in-memory": child_dask_in_memory,
            "lucy-in-memory": child_lucy_in_memory}


def child_main(args):
    if args.rlimit_data:
        # Data memory (heap, anonymous maps, thread stacks) of this process,
        # counted as reserved, which is at least what is resident.
        resource.setrlimit(resource.RLIMIT_DATA, (args.rlimit_data, args.rlimit_data))
    result = CHILDREN[args.child](args)
    result["peak_rss"] = _peak_rss()
    print(json.dumps(result))


# -- the report ----------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_bytes, default=parse_bytes("1GiB"),
                        help="bytes of input matrices (default 1GiB)")
    parser.add_argument("--cap", type=parse_bytes, default=parse_bytes("512MiB"),
                        help="data memory allowed to the out-of-core run (default 512MiB)")
    parser.add_argument("--n", type=int, default=8, help="matrix size n (default 8)")
    parser.add_argument("--chunk", type=parse_bytes, default=parse_bytes("16MiB"),
                        help="bytes of input per chunk (default 16MiB)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="Dask threads (default: the cores)")
    parser.add_argument("--dir", type=Path, help="where the Zarr stores go")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    parser.add_argument("--json-out", type=Path, help="also write the figures here")
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--rlimit-data", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)

    n, itemsize = args.n, 8
    batch = max(1, args.size // (n * n * itemsize))
    chunk = max(1, min(batch, args.chunk // (n * n * itemsize)))
    own_dir = args.dir is None
    args.dir = Path(tempfile.mkdtemp(prefix="lucy-ooc-")) if own_dir else args.dir
    args.dir.mkdir(parents=True, exist_ok=True)
    data = batch * n * n * itemsize
    try:
        print(f"{batch} matrices {n} x {n} float64 = {human(data)} in chunks of {chunk} "
              f"({human(chunk * n * n * itemsize)}); cap {human(args.cap)} "
              f"(the data is {data / args.cap:.1f}x the cap); {args.threads} Dask threads; "
              f"CPU: {cpu_model()}, {os.cpu_count()} cores; store: {args.dir}")
        start = time.perf_counter()
        make_input(args.dir / "a.zarr", batch, n, chunk)
        print(f"input written in {time.perf_counter() - start:.1f} s")
        load_before = os.getloadavg()[0]
        ooc = run_child("out-of-core", args, cap=args.cap)
        copy = run_child("zarr-copy", args, cap=args.cap)
        dask_mem = run_child("dask-in-memory", args)
        lucy_mem = run_child("lucy-in-memory", args)
    finally:
        if own_dir and not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)

    rows = [
        ("Zarr -> lucy on Dask -> Zarr (out of core, capped)", ooc),
        ("Zarr -> Dask -> Zarr, the stack copied, no lucy (capped)", copy),
        ("ndarray -> lucy on Dask -> ndarray", dask_mem),
        ("lucy.lu_factor_ex(ndarray), median of 3", lucy_mem),
    ]
    print("\n| run | seconds | matrices/s | peak RSS |\n|---|---|---|---|")
    for name, result in rows:
        print(f"| {name} | {result['seconds']:.2f} | {batch / result['seconds']:,.0f} | "
              f"{human(result['peak_rss'])} |")
    identical = dask_mem["identical"] and lucy_mem["identical"]
    print(f"\nout of core: {ooc['chunks']} chunks, peak RSS {human(ooc['peak_rss'])} = "
          f"{ooc['peak_rss'] / args.cap:.2f}x the cap; the data is {data / ooc['peak_rss']:.1f}x "
          f"that peak. In memory lucy ran on {lucy_mem['workers']} threads; its three "
          f"calls took {', '.join(f'{t:.2f}' for t in lucy_mem['times'])} s. Peak RSS "
          "counts the whole process (interpreter, libraries, the stack read in memory).")
    load = (load_before, os.getloadavg()[0])
    # Other users' work inflates every time here (see bench/README.md).
    print(f"1-minute load average at start and end: {load[0]:.2f}, {load[1]:.2f}")
    print(f"singular matrices: {lucy_mem['singular']}; results identical (out of core, "
          f"Dask in memory, lucy in memory): {'yes' if identical else 'NO'}")
    if args.json_out:
        args.json_out.write_text(json.dumps({
            "batch": batch, "n": n, "chunk": chunk, "data_bytes": data, "cap_bytes": args.cap,
            "threads": args.threads, "cpu": cpu_model(), "load": load, "out_of_core": ooc,
            "zarr_copy": copy,
            "dask_in_memory": dask_mem, "lucy_in_memory": lucy_mem}, indent=1))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
