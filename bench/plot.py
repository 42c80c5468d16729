"""lucy's lu_factor speed-up over each peer against n, from bench/run.py's JSON.

    python bench/plot.py bench/results/<date>.json bench/speedup.png

bench/run.py calls speedup_plot itself; this script re-draws a saved run.
matplotlib is optional: without it the plot is skipped with a message.
"""

import json
import sys
from pathlib import Path

PEERS = ("SciPy", "torch", "MKL", "JAX", "MLX")      # same order as bench/_peers.py
STYLES = {"SciPy": "o-", "torch": "s-", "MKL": "v-", "JAX": "^-", "MLX": "D-"}


def speedup_series(doc):
    """{peer: [(n, batch, speed-up), ...]} over the lu_factor rows."""
    series = {}
    for row in doc["rows"]:
        if row["op"] != "lu_factor":
            continue
        for peer in PEERS:
            value = row["ratios"].get(peer, {}).get("value")
            if value:
                series.setdefault(peer, []).append((row["n"], row["batch"], value))
    return series


def speedup_plot(doc, path):
    """Draw the plot to ``path``; returns a line saying what happened."""
    try:
        import matplotlib
        matplotlib.use("Agg")            # files only, no display needed
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        return f"plot {path} skipped: matplotlib is not installed (pip install '.[bench]')"
    series = speedup_series(doc)
    if not series:
        return f"plot {path} skipped: no lu_factor speed-ups to draw"
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for peer, points in series.items():
        ns, _, values = zip(*sorted(points))
        ax.plot(ns, values, STYLES[peer], label=f"vs {peer}")
    ticks = sorted({(n, b) for points in series.values() for n, b, _ in points})
    ax.set_xscale("log")
    ax.set_yscale("log")
    # (short labels: "(200 mat.)" and "(10 mat.)" ran into each other at n = 256 and 512)
    ax.set_xticks([n for n, _ in ticks], [f"{n}\n\u00d7{b}" for n, b in ticks])
    ax.minorticks_off()
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.axhline(1, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("matrix size n (\u00d7 batch: number of matrices)")
    ax.set_ylabel("speed-up of lucy: time(peer) / time(lucy)")
    ax.set_title(f"lucy.lu_factor speed-up over its peers\n{doc['env_line']}", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"wrote plot {path}"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(speedup_plot(json.loads(Path(sys.argv[1]).read_text()), sys.argv[2]))
