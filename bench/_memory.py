"""Extra memory of one lucy.lu_factor call, measured in a fresh process.

Usage (bench/run.py runs it): python bench/_memory.py BATCH M N DTYPE
Prints one JSON object.

"Extra" is the peak resident memory during the call beyond what was resident
before it (the input is already there) and beyond the outputs it returns:
scratch space, copies, per-thread buffers. It is measured in a child process
so that nothing else the benchmark allocated can hide or inflate the peak.

How the peak is isolated: writing "5" to /proc/self/clear_refs (Linux >= 4.0)
resets the peak (VmHWM) to the current RSS, so VmHWM after the call minus
VmRSS before it is exactly the call's rise. Elsewhere ru_maxrss is used,
which is only right when the call's peak is the process's highest so far
(the input is filled in chunks so that making it leaves no higher peak).
"""

import json
import os
import resource
import sys

# Large blocks straight from mmap and back to the system when freed: glibc's
# adaptive threshold would otherwise keep freed warm-up buffers resident and
# serve the measured call from them, hiding its allocations.
if os.environ.get("MALLOC_MMAP_THRESHOLD_") is None:
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import numpy as np  # noqa: E402  (after the re-exec)

import lucy  # noqa: E402

_KIB = 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

try:
    from numpy.lib.array_utils import byte_bounds      # numpy >= 2.0
except ImportError:
    from numpy import byte_bounds


def _status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_kib():
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm
    scale = 1 if sys.platform != "darwin" else 1 / _KIB   # macOS reports bytes
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale)


def _random_stack(batch, m, n, dtype, chunk=1 << 20):
    """A standard-normal (batch, m, n) stack made in place, chunk by chunk,
    so that making it leaves no large temporary and no peak above its size."""
    a = np.empty((batch, m, n), dtype)
    flat = a.reshape(-1).view(a.real.dtype)      # complex: (re, im) pairs
    rng = np.random.default_rng(0)
    for start in range(0, flat.size, chunk):
        block = flat[start:start + chunk]
        block[...] = rng.standard_normal(block.size)
    return a


def _one_call_rise(a):
    """(peak RSS rise during one lu_factor call in bytes, output bytes, exact?)."""
    # Memory lucy kept from freed outputs would let the call reuse pages that
    # are already resident and read as less than nothing: start without it.
    lucy.empty_cache()
    before_kib = _status_kib("VmRSS")
    exact = _reset_peak() and before_kib is not None
    if not exact:
        before_kib = _peak_kib()
    lu, piv = lucy.lu_factor(a)
    rise = (_peak_kib() - before_kib) * _KIB
    return rise, _resident_bytes(lu) + _resident_bytes(piv), exact


def _resident_bytes(arr):
    """Bytes of the whole pages ``arr``'s data spans: what it adds to RSS.
    (Its nbytes would count the partly used first and last pages as extra.)"""
    low, high = byte_bounds(arr)
    return (high - 1) // _PAGE * _PAGE + _PAGE - low // _PAGE * _PAGE


def measure(batch, m, n, dtype, calls=5):
    a = _random_stack(batch, m, n, np.dtype(dtype))
    # Warm up on the same input: every OpenMP thread's stack and every page
    # of code the call runs (file-backed pages count in RSS too: 64 kB the
    # first time lucy's output cache is used) are resident before the call.
    # Through the same function as the measured calls, so that the calling
    # thread's C stack reaches the same depth.
    _one_call_rise(a)
    # The median of a few calls. The kernel's proactive reclaim (DAMON runs
    # on some VMs) can page out cold memory during a call and make one
    # reading low, even negative; and a call can be the first to touch a
    # page that stays resident for the rest of the process (the interpreter's
    # heap, a thread's stack): one 4 kB page in 1 to 3 runs of 15 at
    # 100000 x 4 x 4. Memory a call needs, scratch or copies, shows in every
    # call.
    readings = sorted(_one_call_rise(a) for _ in range(calls))
    rise, outputs, exact = readings[len(readings) // 2]
    extra = rise - outputs
    workers = lucy.get_workers()
    unit = workers * m * n * a.itemsize                 # workers x M x N elements
    return {
        "shape": [batch, m, n], "dtype": str(a.dtype), "workers": workers,
        "input_bytes": a.nbytes, "output_bytes": outputs, "peak_rise_bytes": rise,
        "extra_bytes": extra, "unit_bytes": unit, "extra_units": extra / unit,
        "resolution_bytes": _PAGE,
        "method": (f"VmHWM reset via clear_refs, median of {calls} calls" if exact
                   else f"ru_maxrss (approximate), median of {calls} calls"),
    }


if __name__ == "__main__":
    batch, m, n = (int(x) for x in sys.argv[1:4])
    print(json.dumps(measure(batch, m, n, sys.argv[4])))
