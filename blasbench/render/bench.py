"""reports/bench.md: one cost-and-gradient per rung and peer, against DGEMM and PyTorch."""

from __future__ import annotations

from ..results.directory import Results
from ..results.kinds.bench import bench_label
from .format import median_iqr, pct, provenance_lines, ratio_words, table

KINDS = ("bench",)

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


def pages(results: Results, out) -> None:
    out.page("bench.md", render_bench(results["bench"]))


def headline(results: Results) -> list[str]:
    return [f"- [Bench](bench.md): {bench_line(results['bench'])}"]


def bench_line(bench: dict) -> str:
    """At the most threads, per dtype: the fastest rung, and how it stands against PyTorch in the same dtype."""
    top = max(row["threads"] for row in bench["rows"])
    rows = [row for row in bench["rows"] if row["threads"] == top]
    parts = []
    for dtype in dict.fromkeys(row["dtype"] for row in rows if row.get("rung")):
        fastest = min((row for row in rows if row.get("rung") and row["dtype"] == dtype),
                      key=lambda row: row["seconds"]["median"])
        part = (f"in {dtype} `{fastest['rung']}`, {fastest['seconds']['median']:.3f} s per evaluation "
                f"({pct(fastest['share_of_dgemm'])} of the float64 DGEMM rate)")
        if torch := next((row for row in rows if row.get("peer") == f"PyTorch {dtype}"), None):
            part += f", {ratio_words(torch['seconds']['median'], fastest['seconds']['median'])} than PyTorch {dtype}"
        parts.append(part)
    return f"the fastest rung at {top} thread(s): " + "; ".join(parts) + "."


def peers_line(peers: dict) -> str:
    if "torch" not in peers:
        return "PyTorch: not measured (`--peers torch`)."
    torch = peers["torch"]
    if torch is None:
        return ("PyTorch: not installed (`python3 -m nox -s bench -- --peers torch` installs the `peers` dependency "
                "group).")
    return (f"PyTorch {torch['version']}, same data, initial weights and thread count, gradient by autograd; "
            "built with: " + "; ".join(f"`{line}`" for line in torch["config"]) + ".")
