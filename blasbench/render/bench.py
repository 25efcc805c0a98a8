"""reports/bench.md: one cost-and-gradient per rung and peer, against DGEMM and PyTorch."""

from __future__ import annotations

from ..results import bench_label
from .format import median_iqr, pct, provenance_lines, table

REFERENCE_PEER = "PyTorch float64"


def render_bench(result: dict) -> str:
    layers = ",".join(map(str, result["layers"]))
    parts = [
        "# Benchmark: one cost-and-gradient evaluation",
        f"[{layers}] on {result['train_size']:,} examples of MNIST, full batch: seconds per evaluation (median ± "
        f"IQR/2 of {result['repeats']}, after a warm-up), GFLOP/s of its matrix products "
        f"({result['product_flops'] / 1e9:.1f} GFLOP per evaluation), that rate as a share of a float64 DGEMM "
        f"{result['dgemm_size']}²'s (its best of {result['dgemm_repeats']}, measured in the same run at the "
        f"same thread count), and the time as a multiple of {REFERENCE_PEER}'s (below 1: faster than PyTorch).",
        peers_line(result["peers"]),
    ]
    for threads in sorted({row["threads"] for row in result["rows"]}):
        rows = [row for row in result["rows"] if row["threads"] == threads]
        reference = next((row for row in rows if row.get("peer") == REFERENCE_PEER), None)
        cells = [[bench_label(row) + (f" ({row['data_parallel']['chunks']} chunks)" if row.get("data_parallel") else ""),
                  median_iqr(row["seconds"], 3),
                  f"{row['gflops']:.1f}", pct(row["share_of_dgemm"]),
                  f"{row['seconds']['median'] / reference['seconds']['median']:.2f}x" if reference else "–"]
                 for row in rows]
        parts += [f"## {threads} thread(s): DGEMM {rows[0]['dgemm_gflops']:.1f} GFLOP/s",
                  table(["rung or peer", "s per evaluation", "GFLOP/s", "share of DGEMM", f"time / {REFERENCE_PEER}"],
                        cells)]
    threads = sorted({row["threads"] for row in result["rows"]})
    return "\n\n".join(parts + ["## Provenance", provenance_lines(result.get("environment"), threads)]) + "\n"


def peers_line(peers: dict) -> str:
    if "torch" not in peers:
        return "PyTorch: not measured (`--peers torch`)."
    torch = peers["torch"]
    if torch is None:
        return ("PyTorch: not installed (`python3 -m nox -s bench -- --peers torch` installs the `peers` dependency "
                "group).")
    return (f"PyTorch {torch['version']}, same data, initial weights and thread count, gradient by autograd; "
            "built with: " + "; ".join(f"`{line}`" for line in torch["config"]) + ".")
