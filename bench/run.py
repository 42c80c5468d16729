"""lucy's benchmark: lucy against SciPy and, where installed, torch, MKL, JAX and MLX.

    python bench/run.py            # full run, about 5-10 minutes on 2 cores
    python bench/run.py --quick    # small sizes, 3 rounds, under a minute (CI smoke)

Prints the median time of every implementation on every row, lucy's speed-up
over each one and over the fastest peer of the row (where the targets are),
the machine's limits (matmul GFLOP/s, copy bandwidth) measured in the same run
with lucy's share of them, and lucy's extra memory; writes the
results to bench/results/ as JSON, Markdown and a PNG plot. Targets are
informational: the exit status is 0 whatever they say. See bench/README.md.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import _peers
import plot

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


# -- what is measured ---------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One line of the table: an operation on a stack of ``batch`` n x n matrices
    (lu_solve: with ``nrhs`` right-hand sides each)."""
    op: str
    batch: int
    n: int
    targets: dict[str, float] = field(default_factory=dict)  # column -> minimum ratio
    base: str = "lucy"          # the column whose speed-up the ratios show
    nrhs: int = 1

    @property
    def name(self):
        return f"{self.op} {self.batch}x{self.n}" + (f" nrhs={self.nrhs}" if self.nrhs != 1 else "")

    @property
    def size(self):
        """The table's "batch x n" cell."""
        return f"{self.batch} x {self.n}" + (f", nrhs={self.nrhs}" if self.nrhs != 1 else "")


# "lucy vs X" = time(X) / time(lucy); "w=1" compares lucy's default thread
# count with workers=1 (a default slower than one thread by > 5% fails).
THREADS_TARGET = {"w=1": 0.95}
# "lucy vs best" = the fastest of _peers.BEST_PEERS on the row / time(lucy):
# issue 18's targets are on that column. "cold best": the same for lucy's
# one-off calls (no reuse of its output memory; see _peers._lucy).
BEST = "best"
COLD_BEST = "cold best"
FULL_ROWS = (
    Row("lu_factor", 100_000, 4, {BEST: 2.5, COLD_BEST: 2, "MLX": 7}),
    Row("lu_factor", 20_000, 16, {BEST: 2.5}),
    Row("lu_factor", 2_000, 64, {BEST: 2}),
    Row("lu_factor", 200, 256, {BEST: 1.5}),
    Row("lu_factor", 10, 512, {BEST: 1.2}),
    Row("lu_factor", 1, 3000, {BEST: 1.15, "MLX": 15}),
    Row("lu", 100_000, 4, {"SciPy": 40, "torch": 2}),
    *(Row("lu_solve", batch, n, {BEST: 1.2}) for batch, n in
      ((100_000, 4), (20_000, 16), (2_000, 64), (100, 64), (200, 256), (10, 512), (1, 3000))),
    Row("lu_solve", 1, 3000, {BEST: 1.0}, nrhs=100),
)
# --mlx-compat: lucy.mlx (MLX arrays in and out, MLX's conventions) against
# mlx.core.linalg.lu_factor, as issue 3 asks (run with --dtype float32).
MLX_ROWS = (
    Row("lu_factor", 100_000, 4, {"MLX": 7}, base="lucy.mlx"),
    Row("lu_factor", 2_000, 64, {}, base="lucy.mlx"),
    Row("lu_factor", 1, 2000, {"MLX": 15}, base="lucy.mlx"),
)
MATMUL_SHARE_TARGET = 0.80          # lucy's 1 x n lu_factor vs numpy matmul GFLOP/s
MEMORY_TARGET_UNITS = 1.0           # extra memory, in workers x M x N elements
MEMORY_SHAPES = ((100_000, 4, 4), (200, 256, 256))
BUSY_LOAD = 0.5         # 1-min load average above which the run is flagged as noisy
COPY_BYTES = 200 * 2**20


def quick_rows():
    """--quick: the same rows, batches / 20 (at least 1) and n >= 1000 -> 1000."""
    return tuple(Row(r.op, max(1, r.batch // 20), 1000 if r.n >= 1000 else r.n, r.targets,
                     nrhs=r.nrhs)
                 for r in FULL_ROWS)


def lu_flops(n, dtype):
    """Real flops of one n x n LU (2/3 n^3; a complex multiply-add is 4x)."""
    return 2 / 3 * n**3 * (4 if np.dtype(dtype).kind == "c" else 1)


def matmul_flops(n, dtype):
    return 2 * n**3 * (4 if np.dtype(dtype).kind == "c" else 1)


# -- timing -------------------------------------------------------------------

@dataclass
class Plan:
    max_rounds: int
    min_rounds: int
    budget_s: float          # a cell stops after this much timed work (>= min_rounds)
    settle_max_s: float
    cell_limit_s: float = 20.0   # ... and after this much even short of min_rounds


@dataclass
class Cell:
    """One implementation on one row: its prepared call and its times."""
    impl: str
    call: Callable[[], Any] | None = None    # runs the op once, result computed
    prepare: Callable[[], None] = lambda: None   # untimed, before each timed call
    required: bool = False                   # errors propagate instead of n/a
    na: str = ""                             # why there is no time
    warning: str = ""                        # the warm-up result looked wrong
    times: list[float] = field(default_factory=list)

    def wants_more(self, plan):
        done, spent = len(self.times), sum(self.times)
        if done == 0:
            return plan.max_rounds > 0
        if done >= plan.max_rounds or spent >= plan.cell_limit_s:
            return False
        return done < plan.min_rounds or spent < plan.budget_s

    def median_ms(self):
        return float(np.median(self.times)) * 1e3 if self.times else None


def settle(max_s, window_s=0.005, busy_share=0.1):
    """Wait until this process's threads stop burning CPU, at most ``max_s``.

    Why: after a call, BLAS and OpenMP worker threads keep spinning, waiting
    for more work. Measured here: OpenBLAS spins ~100 ms on every core after
    a matmul (2^28 cycles), lucy's libgomp team 10-20 ms, torch and JAX
    10-20 ms. On a 2-core machine, spinning threads left by the previous
    implementation steal the cores of the next one, and a fixed 20-50 ms
    sleep is too short after OpenBLAS and needlessly long after the rest.
    So: sleep in short windows until one window used under 10 % of one core
    of CPU time (process_time counts all of our threads, and only ours:
    other users' load cannot stall this). ``max_s`` <= 0: no wait at all,
    for timing back-to-back calls with the thread pools still spinning."""
    if max_s <= 0:
        return
    deadline = time.perf_counter() + max_s
    while True:
        cpu0 = time.process_time()
        time.sleep(window_s)
        if time.process_time() - cpu0 < busy_share * window_s or time.perf_counter() > deadline:
            return


def time_once(call, prepare=lambda: None):
    prepare()
    t0 = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - t0
    del result          # freeing big outputs is not part of the call
    return elapsed


def no_check(impl_name, result):
    return None


def warm_up(cell, check, plan):
    """First call: JIT compilation (JAX), thread-pool start, lazy imports;
    it also tells whether the implementation can run this input at all."""
    settle(plan.settle_max_s)
    try:
        cell.warning = check(cell.impl, cell.call()) or ""
    except _peers.Unsupported as exc:
        cell.na, cell.call = str(exc), None
    except Exception as exc:
        if cell.required:
            raise
        cell.na, cell.call = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}", None


def measure(cells, plan, check=no_check):
    """Warm up, then time every runnable cell, interleaved: round r times each cell once,
    in an order shuffled by r (rotated), so that drifting machine load (a shared
    machine) spreads over all cells instead of hitting whichever ran last.
    Cells whose time budget is spent drop out (slow SciPy and MLX cells get
    fewer rounds). Medians over rounds are reported."""
    for cell in cells:
        if cell.call:
            warm_up(cell, check, plan)
    live = [c for c in cells if c.call]
    gc_was_enabled = gc.isenabled()
    gc.disable()            # no collection pauses inside a timed call
    try:
        for r in range(plan.max_rounds):
            active = [c for c in rotated(live, r) if c.wants_more(plan)]
            if not active:
                break
            gc.collect()
            for cell in active:
                settle(plan.settle_max_s)
                cell.times.append(time_once(cell.call, cell.prepare))
    finally:
        if gc_was_enabled:
            gc.enable()


def rotated(items, r):
    """Round r's order: a rotation, then shuffled with seed r, so that no
    cell always follows the same one (a library whose threads keep spinning
    after its call, as JAX's do, would otherwise always slow the same
    neighbour: lucy's 0.3 ms solves of 100 64 x 64 systems read 0.36 ms
    right after JAX and 0.29 ms elsewhere)."""
    k = r % len(items) if items else 0
    order = items[k:] + items[:k]
    random.Random(r).shuffle(order)
    return order


# -- rows of LU work ------------------------------------------------------------

@dataclass
class RowData:
    a: np.ndarray
    b: np.ndarray


def make_data(row, dtype, seed=0):
    """Standard-normal matrices (well conditioned enough, never singular in
    practice) and right-hand sides (..., n, nrhs). A single matrix is passed
    as 2-D, as its users would."""
    shape = (row.n, row.n) if row.batch == 1 else (row.batch, row.n, row.n)
    rng = np.random.default_rng(seed)

    def normal(shape):
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        return x.astype(dtype)
    return RowData(normal(shape), normal((*shape[:-1], row.nrhs)))


def prepare_call(impl, op, data):
    """The zero-argument call that the timer runs, with every input already
    converted (and, for lu_solve, factored by the same library)."""
    fn = impl.ops[op]
    a = impl.convert(data.a)
    if op == "lu_solve":
        factors = impl.ops["lu_factor"](a)
        impl.block(factors)
        args = (factors, impl.convert(data.b))
    else:
        args = (a,)

    def call():
        result = fn(*args)
        impl.block(result)
        return result
    return call


def make_cell(impl, op, data):
    if op not in impl.ops:
        return Cell(impl.name, na=f"no {op} in {impl.name}")
    try:
        return Cell(impl.name, call=prepare_call(impl, op, data), required=impl.required,
                    prepare=impl.prepare)
    except _peers.Unsupported as exc:
        return Cell(impl.name, na=str(exc))


# What each op returns that holds its numbers, for the warm-up check:
# lu_factor -> LU, lu -> U (the same in every library; P and L conventions
# differ), lu_solve -> x.
RESULT_PART = {"lu_factor": 0, "lu": 2, "lu_solve": None}
CHECK_MAX_N = 512     # beyond this, blocked LAPACKs may pick different pivots
                      # (lu_factor, lu; lu_solve's residual is checked at every n)


def result_checker(impl_by_name, op, data):
    """A function cell-result -> warning text (or None), for warm-up results.

    It catches silent failures that would make a fast time meaningless: a
    lower precision (JAX without x64, MLX's float32 default) and wrong
    numbers, by comparing the first and last matrix with SciPy computed
    one matrix at a time. The tolerance, sqrt(eps) relative, is far above
    rounding differences and far below any real error."""
    import scipy.linalg as sla
    a = data.a if data.a.ndim == 3 else data.a[None]
    b = data.b if data.b.ndim == 3 else data.b[None]
    picks = (sorted({0, len(a) - 1}) if a.shape[-1] <= CHECK_MAX_N or op == "lu_solve"
             else [])
    eps = np.finfo(data.a.dtype).eps
    expected = {i: {"lu_factor": lambda: sla.lu_factor(a[i])[0],
                    "lu": lambda: sla.lu(a[i])[2],
                    "lu_solve": lambda: b[i]}[op]() for i in picks}

    def check(impl_name, result):
        part = result if RESULT_PART[op] is None else result[RESULT_PART[op]]
        got = impl_by_name[impl_name].to_numpy(part)
        if got.dtype != data.a.dtype:
            return f"computes in {got.dtype}, not {data.a.dtype}"
        got = got if got.ndim == 3 else got[None]
        for i in picks:
            approx = a[i] @ got[i] if op == "lu_solve" else got[i]   # residual for solves
            err = np.abs(approx - expected[i]).max() / max(1.0, np.abs(expected[i]).max())
            if not err <= np.sqrt(eps) * (a.shape[-1] if op == "lu_solve" else 1):
                return f"matrix {i} differs from SciPy's (relative error {err:.1e})"
        return None
    return check


# The 1 x n lu_factor row also times a numpy matmul of n x n matrices, in the
# same rounds: lucy's share of the matmul rate is then a ratio of two times
# taken side by side, as every other ratio here is. (Measured at the end of
# the run instead, the matmul read 86-104.5 GFLOP/s in three runs while
# lucy's row stayed within 242-247 ms, so the share moved with the matmul.)
MATMUL_CELL = "matmul"


def shares_matmul(row):
    """The one large matrix (1 x 3000; 1 x 1000 with --quick), not 1 x 512 of --quick."""
    return row.op == "lu_factor" and row.batch == 1 and row.n >= 1000


def matmul_cell(n, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, n)).astype(dtype)
    y = rng.standard_normal((n, n)).astype(dtype)
    product = np.empty_like(x)
    return Cell(MATMUL_CELL, call=lambda: np.matmul(x, y, out=product))


def run_row(row, impls, dtype, plan):
    data = make_data(row, dtype)
    cells = [make_cell(impl, row.op, data) for impl in impls]
    check = result_checker({i.name: i for i in impls}, row.op, data)
    if shares_matmul(row):
        cells.append(matmul_cell(row.n, dtype))
    measure(cells, plan, lambda impl, result: None if impl == MATMUL_CELL else check(impl, result))
    return cells


# -- machine limits -----------------------------------------------------------

def run_limits(n, dtype, plan):
    """numpy matmul GFLOP/s at n and copy bandwidth, by the same timer."""
    src = np.ones(COPY_BYTES // 8)
    dst = np.zeros_like(src)            # both touched: no page faults timed
    matmul = matmul_cell(n, dtype)
    copy = Cell("copy", call=lambda: np.copyto(dst, src))
    measure([matmul, copy], plan)
    return {
        "matmul_n": n,
        "matmul_gflops": matmul_flops(n, dtype) / (matmul.median_ms() / 1e3) / 1e9,
        "copy_bytes": src.nbytes,
        "copy_gb_per_s": 2 * src.nbytes / (copy.median_ms() / 1e3) / 1e9,
        "rounds": {"matmul": len(matmul.times), "copy": len(copy.times)},
    }


# -- extra memory (child processes) ---------------------------------------------

def run_memory(shape, dtype):
    cmd = [sys.executable, str(BENCH_DIR / "_memory.py"), *map(str, shape), str(dtype)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"shape": list(shape), "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout)


# -- ratios and targets -------------------------------------------------------

def tier_columns(cells):
    """The --tiers columns, "lucy[avx2]", ..., in their order."""
    return [c.impl for c in cells if c.impl.startswith("lucy[")]


def best_peer(cells):
    """(name, median ms) of the fastest of _peers.BEST_PEERS on a row, or
    (None, None). A result that failed the check does not count: a fast
    wrong answer is no bar to beat."""
    times = [(c.median_ms(), c.impl) for c in cells
             if c.impl in _peers.BEST_PEERS and c.times and not c.warning]
    if not times:
        return None, None
    ms, name = min(times)
    return name, ms


def ratios(row, cells):
    """{column: {"value", "target", "pass"}}: lucy's speed-up over each
    implementation (time_X / time_lucy), over the fastest peer ("best", with
    "peer": which one) and over workers=1; with --tiers, each tier's speed-up
    over the first tier listed (informational)."""
    median = {c.impl: c.median_ms() for c in cells}
    lucy = median.get(row.base)
    targets = {**THREADS_TARGET, **row.targets}
    out = {}

    def ratio(col, slower, faster, **extra):
        value = slower / faster if slower and faster else None
        target = targets.get(col)
        passed = None if value is None or target is None else value >= target
        out[col] = {"value": value, "target": target, "pass": passed, **extra}

    tiers = tier_columns(cells)
    for tier in tiers[1:]:
        first = median.get(tiers[0])
        value = first / median[tier] if first and median.get(tier) else None
        out[f"{tier} vs {tiers[0]}"] = {"value": value, "target": None, "pass": None}
    for col, impl in [("w=1", "lucy w=1"), *((p, p) for p in _peers.PEERS)]:
        if impl in median:
            ratio(col, median[impl], lucy)
    peer, peer_ms = best_peer(cells)
    if any(c.impl in _peers.BEST_PEERS for c in cells):
        ratio(BEST, peer_ms, lucy, peer=peer)
        if "lucy cold" in median:
            ratio(COLD_BEST, peer_ms, median["lucy cold"], peer=peer)
    return out


def reports_bandwidth(row):
    """The rows of 4 x 4 matrices, bound by memory: lucy's bytes per second
    there are put against the copy bandwidth."""
    return row.op in ("lu_factor", "lu_solve") and row.n == 4


def bytes_moved(row, dtype):
    """Bytes lucy must read and write at the least: lu_factor reads A and writes
    LU and the pivots; lu_solve reads LU, the pivots and b and writes x.
    Pivots are int32 (SciPy's, and lucy's, pivot dtype)."""
    item = np.dtype(dtype).itemsize
    matrices = row.batch * row.n * row.n * item
    pivots = row.batch * row.n * 4
    if row.op == "lu_factor":
        return {"input read": matrices, "LU written": matrices, "pivots written": pivots}
    rhs = row.batch * row.n * row.nrhs * item
    return {"LU read": matrices, "pivots read": pivots, "b read": rhs, "x written": rhs}


def bandwidth_summary(limits, results, dtype):
    """For the rows of reports_bandwidth: lucy's bytes moved per second and
    its share of the copy bandwidth measured in the same run (None without
    the limits section, e.g. under --only)."""
    out = []
    copy = limits["copy_gb_per_s"] if limits else None
    for r in results:
        row, lucy = r["row"], r["cells"].get("lucy")
        if not reports_bandwidth(row) or not lucy or not lucy.times:
            continue
        parts = bytes_moved(row, dtype)
        rate = sum(parts.values()) / (lucy.median_ms() / 1e3) / 1e9
        out.append({"row": row.name, "bytes": parts, "lucy_ms": lucy.median_ms(),
                    "lucy_gb_per_s": rate, "share_of_copy": rate / copy if copy else None})
    return out


def limits_summary(limits, results, dtype):
    """GFLOP/s of every implementation at the 1 x n lu_factor row, and
    lucy's share of the rate of the matmul timed in the same rounds; lucy's
    share of the copy bandwidth on the 4 x 4 rows ("bandwidth")."""
    summary = {"bandwidth": bandwidth_summary(limits, results, dtype)}
    big = [r for r in results if shares_matmul(r["row"])]
    if not big:
        return summary
    big_row, cells = big[0]["row"], big[0]["cells"]
    rates = {c.impl: lu_flops(big_row.n, dtype) / (c.median_ms() / 1e3) / 1e9
             for c in cells.values() if c.times and c.impl != MATMUL_CELL}
    matmul = cells.get(MATMUL_CELL)
    matmul_rate = (matmul_flops(big_row.n, dtype) / (matmul.median_ms() / 1e3) / 1e9
                   if matmul and matmul.times else None)
    share = rates["lucy"] / matmul_rate if matmul_rate and "lucy" in rates else None
    return {**summary, "row": big_row.name, "gflops": rates, "matmul_gflops": matmul_rate,
            "lucy_share_of_matmul": share, "target": MATMUL_SHARE_TARGET,
            "pass": None if share is None else share >= MATMUL_SHARE_TARGET}


# -- formatting ---------------------------------------------------------------

def fmt_ms(ms):
    if ms is None:
        return "n/a"
    return f"{ms:.3g}" if ms < 1000 else f"{ms:.0f}"


def fmt_ratio(r):
    if r["value"] is None:
        return "-"
    v = r["value"]
    text = f"{v:.3g}x" if v < 1000 else f"{v:.0f}x"
    if r.get("peer"):
        text += f" ({r['peer']})"
    if r["target"] is not None:
        text += f" (>={r['target']:g} {'PASS' if r['pass'] else 'FAIL'})"
    return text


def table(headers, lines, markdown=False):
    if markdown:
        rows = [headers, ["---"] * len(headers), *lines]
        return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows)
    widths = [max(len(str(r[i])) for r in [headers, *lines]) for i in range(len(headers))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()
                     for r in [headers, *lines])


def time_cell_text(cell):
    if not cell.times:
        return "n/a"
    mark = "!" if cell.warning else ""
    return f"{fmt_ms(cell.median_ms())}{mark} ({len(cell.times)})"


def timing_table(results, columns, markdown=False):
    lines = [[r["row"].op, r["row"].size,
              *(time_cell_text(r["cells"][c]) if c in r["cells"] else "n/a" for c in columns)]
             for r in results]
    return table(["op", "batch x n", *columns], lines, markdown)


def ratio_table(results, ratio_columns, markdown=False):
    lines = [[r["row"].op, r["row"].size,
              *(fmt_ratio(r["ratios"][c]) if c in r["ratios"] else "-" for c in ratio_columns)]
             for r in results]
    headers = ["op", "batch x n", *("default vs w=1" if c == "w=1" else
                                    f"lucy cold vs {c[5:]}" if c.startswith("cold ") else
                                    c if c.startswith("lucy[") else
                                    f"lucy vs {c}" for c in ratio_columns)]
    return table(headers, lines, markdown)


def footnotes(results):
    notes = []
    for r in results:
        for c in r["cells"].values():
            if c.na:
                notes.append(f"{r['row'].name}, {c.impl}: n/a ({c.na})")
            if c.warning:
                notes.append(f"{r['row'].name}, {c.impl}: ! {c.warning}")
    return notes


def limits_text(limits, summary, dtype):
    lines = []
    if limits:
        lines.append(f"numpy matmul n={limits['matmul_n']} ({dtype}): "
                     f"{limits['matmul_gflops']:.1f} GFLOP/s (2n^3 flops)")
        lines.append(f"copy bandwidth (np.copyto, {limits['copy_bytes'] / 1e6:.0f} MB): "
                     f"{limits['copy_gb_per_s']:.1f} GB/s (2 x bytes / time)")
    if summary.get("gflops"):
        rates = ", ".join(f"{k} {v:.1f}" for k, v in summary["gflops"].items())
        lines.append(f"lu_factor GFLOP/s at {summary['row'].split()[1]} (2/3 n^3 flops): {rates}")
        if summary["lucy_share_of_matmul"] is not None:
            share = summary["lucy_share_of_matmul"]
            lines.append(f"lucy at {summary['row'].split()[1]}: {100 * share:.0f}% of the "
                         f"matmul timed in the same rounds ({summary['matmul_gflops']:.1f} "
                         f"GFLOP/s) (>={100 * summary['target']:.0f}% "
                         f"{'PASS' if summary['pass'] else 'FAIL'})")
    for b in summary.get("bandwidth", []):
        parts = " + ".join(f"{k} {v / 1e6:.1f}" for k, v in b["bytes"].items())
        share = (f"{100 * b['share_of_copy']:.0f}% of the copy bandwidth"
                 if b["share_of_copy"] is not None else "copy bandwidth not measured in this run")
        lines.append(f"lucy at {b['row']}: {b['lucy_gb_per_s']:.1f} GB/s moved ({parts} MB "
                     f"in {fmt_ms(b['lucy_ms'])} ms), {share}")
    return lines


def memory_text(memory):
    lines = []
    for m in memory:
        shape = "x".join(map(str, m["shape"]))
        if "error" in m:
            lines.append(f"{shape}: failed: {m['error']}")
            continue
        verdict = "PASS" if m["extra_units"] <= MEMORY_TARGET_UNITS else "FAIL"
        lines.append(
            f"{shape} {m['dtype']}: extra {m['extra_bytes'] / 1e3:.1f} kB beyond inputs "
            f"({m['input_bytes'] / 1e6:.1f} MB) and outputs ({m['output_bytes'] / 1e6:.1f} MB) "
            f"= {m['extra_units']:.3g} x (workers={m['workers']} x M x N elements = "
            f"{m['unit_bytes']} B) (<={MEMORY_TARGET_UNITS:g} {verdict}; "
            f"resolution {m['resolution_bytes']} B, {m['method']})")
    return lines


# -- environment ----------------------------------------------------------------

def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


DISTRIBUTIONS = ("numpy", "scipy", "torch", "mkl", "jax", "jaxlib", "mlx", "threadpoolctl",
                 "matplotlib")


def versions():
    from importlib import metadata
    import lucy
    # lucy's own version, from the lucy that runs (its distribution is
    # lucy-batched-lu; "lucy" on the package index is another project).
    found = {"python": platform.python_version(), "lucy": lucy.__version__}
    for dist in DISTRIBUTIONS:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    return found


def load_average():
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def environment(missing):
    import lucy
    import threadpoolctl
    torch = sys.modules.get("torch")
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"processor": platform.processor(), "cpu_count": os.cpu_count(),
                    "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
                    "model": cpu_model(), "platform": platform.platform(),
                    "load_average_start": load_average()},
        "versions": versions(),
        "workers": lucy.get_workers(),
        "torch_threads": torch.get_num_threads() if torch else None,
        "blas": [{k: lib.get(k) for k in ("internal_api", "version", "num_threads",
                                          "threading_layer")}
                 for lib in threadpoolctl.threadpool_info()],
        "mkl": dict(_peers.MKL_INFO) or None,     # library, threading layer, threads
        "missing": missing,
    }


# -- output files -------------------------------------------------------------

def to_json(results, env, settings, limits, summary, memory):
    rows = [{"name": r["row"].name, "op": r["row"].op, "batch": r["row"].batch, "n": r["row"].n,
             "nrhs": r["row"].nrhs,
             "cells": {c.impl: {"median_ms": c.median_ms(),
                                "min_ms": min(c.times) * 1e3 if c.times else None,
                                "rounds": len(c.times), "times_ms": [t * 1e3 for t in c.times],
                                "na": c.na or None, "warning": c.warning or None}
                       for c in r["cells"].values()},
             "ratios": r["ratios"]}
            for r in results]
    return {**env, "settings": settings, "rows": rows, "limits": limits,
            "limits_summary": summary, "memory": memory}


def header_lines(env, missing, dtype, quick):
    m = env["machine"]
    first = (f"{m['model']}, {m['cpu_count']} CPUs, lucy {env['versions']['lucy']} with "
             f"{env['workers']} workers, {dtype}"
             + (", --quick sizes (the targets are set for the full sizes)" if quick else ""))
    lines = [first, ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v),
             f"load average (1, 5, 15 min): {m['load_average_start']} at start, "
             f"{m['load_average_end']} at end; above 0 = other processes shared the cores"]
    if missing:
        lines.append(f"not installed: {', '.join(missing)} (pip install '.[peers]')")
    if env.get("mkl"):
        lines.append(f"MKL: {env['mkl']['threading_layer']} threading layer (lucy's libgomp), "
                     f"{env['mkl']['max_threads']} threads")
    busiest = max((la[0] for la in (m["load_average_start"], m["load_average_end"]) if la),
                  default=0)
    if busiest > BUSY_LOAD:
        lines.append(f"WARNING: the machine was busy (1-min load up to {busiest} on "
                     f"{m['usable_cpus'] or m['cpu_count']} cores): multi-threaded calls wait "
                     "for descheduled threads, so their times and the 'default vs w=1' "
                     "ratios are inflated; compare min_ms in the JSON or rerun on a quiet machine")
    return lines


def render(header, results, columns, ratio_columns, limits_lines, memory_lines, markdown=False):
    """The whole report, as terminal text or as Markdown (bench/results/*.md)."""
    def section(title, body):
        return f"\n### {title}\n\n{body}" if markdown else f"\n== {title}\n{body}"

    def bullets(lines):
        return "\n".join(("- " if markdown else "   ") + x for x in lines)

    notes = footnotes(results)
    parts = [("## lucy benchmark: " if markdown else "== lucy benchmark: ") + header[0],
             ("\n" if markdown else "") + bullets(header[1:]),
             section("median ms (timed rounds); ! = result check failed, see notes",
                     timing_table(results, columns, markdown)),
             section("lucy's speed-up: time of X / time of lucy (target, informational)",
                     ratio_table(results, ratio_columns, markdown)
                     + ("\n\n" if markdown and notes else "\n" if notes else "")
                     + bullets(f"note: {n}" for n in notes))]
    if limits_lines:
        parts.append(section("machine limits (same run)", bullets(limits_lines)))
    if memory_lines:
        parts.append(section("extra memory of lucy.lu_factor (child process)",
                             bullets(memory_lines)))
    return "\n".join(parts).rstrip() + "\n"


# -- main ---------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="batches / 20, 1 x 1000 instead of 1 x 3000, 3 rounds (CI smoke run)")
    p.add_argument("--dtype", default="float64",
                   choices=["float32", "float64", "complex64", "complex128"])
    p.add_argument("--rounds", type=int, help="most timed calls per cell (default 15; 3 with --quick)")
    p.add_argument("--min-rounds", type=int, default=3,
                   help="fewest timed calls per cell, however slow, short of --cell-limit "
                        "(default 3)")
    p.add_argument("--budget", type=float, default=3.0,
                   help="seconds of timed work per cell after which it stops early (default 3)")
    p.add_argument("--cell-limit", type=float, default=20.0,
                   help="seconds of timed work after which a cell stops even short of "
                        "--min-rounds (one round at least; default 20): bounds the run "
                        "when a cell is pathologically slow, e.g. on a loaded machine")
    p.add_argument("--settle-ms", type=float, default=300,
                   help="longest wait for idle worker threads before each call (default "
                        "300); 0 times back-to-back calls, thread pools still spinning")
    p.add_argument("--only", action="append", metavar="REGEX",
                   help="keep only rows whose name ('lu_factor 100000x4', 'lu 100000x4', "
                        "'lu_solve 1x3000 nrhs=100', 'limits', 'memory 200x256x256') "
                        "matches; repeatable")
    p.add_argument("--json-out", type=Path,
                   help="JSON results path (default bench/results/<date>.json); the .md and "
                        ".png are written beside it")
    p.add_argument("--mlx-compat", action="store_true",
                   help="only the rows of lucy.mlx.lu_factor against MLX (needs MLX)")
    p.add_argument("--plot-out", type=Path, help="also write the speed-up plot here "
                   "(e.g. bench/speedup.png for the README)")
    p.add_argument("--tiers", type=lambda text: [t.strip() for t in text.split(",")],
                   metavar="LIST",
                   help="also time lucy at each of these SIMD kernel tiers, side by side "
                        "in the same rounds ('avx2,avx512', or 'all': every tier this "
                        "machine runs): columns lucy[TIER] and each tier's speed-up over "
                        "the first one listed")
    p.add_argument("--impls", action="append", metavar="REGEX",
                   help="keep only the implementation columns whose name matches "
                        "('lucy\\[' for the tier columns alone); repeatable")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 15
    args.min_rounds = min(args.min_rounds, args.rounds)
    return args


def selected(name, patterns):
    return not patterns or any(re.search(p, name, re.IGNORECASE) for p in patterns)


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def output_paths(args, stamp):
    json_path = args.json_out or RESULTS_DIR / f"{stamp}.json"
    return json_path, json_path.with_suffix(".md"), json_path.with_suffix(".png")


def run_everything(args, impls):
    """All measurements: the rows, the machine limits, the memory children."""
    dtype = np.dtype(args.dtype)
    plan = Plan(args.rounds, args.min_rounds, args.budget, args.settle_ms / 1e3, args.cell_limit)
    all_rows = MLX_ROWS if args.mlx_compat else (quick_rows() if args.quick else FULL_ROWS)
    rows = [r for r in all_rows if selected(r.name, args.only)]
    results = []
    for k, row in enumerate(rows, 1):
        t0 = time.perf_counter()
        cells = run_row(row, impls, dtype, plan)
        results.append({"row": row, "cells": {c.impl: c for c in cells},
                        "ratios": ratios(row, cells)})
        progress(f"[{k}/{len(rows)}] {row.name}: {time.perf_counter() - t0:.1f} s")
    limits = None
    if selected("limits", args.only):
        limits = run_limits(1000 if args.quick else 3000, dtype, plan)
        progress("limits: done")
    memory = [run_memory(s, dtype) for s in MEMORY_SHAPES
              if selected("memory " + "x".join(map(str, s)), args.only)]
    settings = {"quick": args.quick, "dtype": str(dtype), "max_rounds": plan.max_rounds,
                "min_rounds": plan.min_rounds, "budget_s": plan.budget_s,
                "cell_limit_s": plan.cell_limit_s,
                "settle_max_ms": args.settle_ms, "only": args.only, "tiers": args.tiers,
                "impls": args.impls}
    return results, limits, limits_summary(limits, results, dtype), memory, settings


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    impls, missing = _peers.load_impls()
    if args.tiers:
        impls += _peers.lucy_tiers(args.tiers)
    if args.impls:
        impls = [i for i in impls if selected(i.name, args.impls)]
    env = environment(missing)
    columns = [i.name for i in impls]
    tiers = [c for c in columns if c.startswith("lucy[")]
    ratio_columns = [*(["w=1"] if "lucy" in columns and "lucy w=1" in columns else []),
                     *(p for p in _peers.PEERS if p in columns),
                     *([BEST] if any(p in columns for p in _peers.BEST_PEERS) else []),
                     *([COLD_BEST] if "lucy cold" in columns
                       and any(p in columns for p in _peers.BEST_PEERS) else []),
                     *(f"{t} vs {tiers[0]}" for t in tiers[1:])]

    results, limits, summary, memory, settings = run_everything(args, impls)

    env["machine"]["load_average_end"] = load_average()
    header = header_lines(env, missing, args.dtype, args.quick)
    report = (header, results, columns, ratio_columns,
              limits_text(limits, summary, args.dtype), memory_text(memory))
    print(render(*report))

    doc = to_json(results, env, settings, limits, summary, memory)
    doc["env_line"] = header[0]
    doc["elapsed_s"] = round(time.perf_counter() - started, 1)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    json_path, md_path, png_path = output_paths(args, stamp)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc, indent=1) + "\n")
    md_path.write_text(render(*report, markdown=True))
    print(f"== wrote {json_path}, {md_path}")
    for path in filter(None, [png_path, args.plot_out]):
        print(f"== {plot.speedup_plot(doc, path)}")
    print(f"== total {doc['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
