"""The figures (matplotlib, SVG: one format, scalable, the same bytes for the same results), drawn from analysed results."""

from __future__ import annotations

import io
from pathlib import Path

from ..results.seed import seed_scaling
from ..store import atomic_write_bytes
from .format import times


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    # the same results give the same files: SVG ids from a fixed salt, no creation date in the metadata
    matplotlib.rcParams["svg.hashsalt"] = "blasbench"
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, stem: Path) -> list[Path]:
    """The figure as SVG beside the report, written atomically."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    target = stem.with_suffix(".svg")
    atomic_write_bytes(target, buffer.getvalue())
    pyplot().close(fig)
    return [target]


def plot_scaling(analysis: dict, stem: Path, network: bool = True) -> list[Path]:
    """Time and speedup against threads for every rung (and peer), the ideal line, and for the
    network the seed's published curve (its speedup, and its times rescaled to each rung's 1-thread time)."""
    plt = pyplot()
    seed = seed_scaling() if network else {"threads": [1], "wall": {1: 1.0}, "speedup": {1: 1.0}}
    fig, (ax_time, ax_speed) = plt.subplots(1, 2, figsize=(11, 4.2))
    max_threads = 1
    for rung, result in analysis.items():
        rows = result["rows"]
        threads = [r["threads"] for r in rows]
        max_threads = max(max_threads, *threads)
        medians = [r["wall"]["median"] for r in rows]
        errors = [[r["wall"]["median"] - r["wall"]["q1"] for r in rows], [r["wall"]["q3"] - r["wall"]["median"] for r in rows]]
        line = ax_time.errorbar(threads, medians, yerr=errors, marker="o", capsize=3, label=f"{rung} (median, IQR)")
        if network:
            ax_time.plot(seed["threads"], [medians[0] * seed["wall"][p] / seed["wall"][1] for p in seed["threads"]],
                         ls=":", color=line[0].get_color(), alpha=0.6, label=f"seed's curve scaled to {rung}")
        ax_speed.plot(threads, [r["speedup"] for r in rows], marker="o", color=line[0].get_color(), label=rung)
    span = list(range(1, max(max_threads, max(seed["threads"])) + 1))
    ax_speed.plot(span, span, color="grey", ls="--", label="ideal")
    if network:
        ax_speed.plot(seed["threads"], [seed["speedup"][p] for p in seed["threads"]], color="black", ls=":",
                      marker="s", ms=3, label="seed post (12-core workstation)")
    ax_time.set(xlabel="threads", ylabel="training wall time (s)" if network else "seconds per call", title="Time")
    ax_speed.set(xlabel="threads", ylabel="speedup over 1 thread", title="Speedup",
                 xlim=(0.5, max(max_threads, 10) + 0.5), ylim=(0, max(max_threads, 4) + 0.5))
    for ax in (ax_time, ax_speed):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save_figure(fig, stem)


def plot_variants(variants: list[dict], stem: Path) -> list[Path]:
    """Every BLAS variant's training time (log scale: the reference BLAS is far slower) and
    speedup against threads."""
    fig, (ax_time, ax_speed) = pyplot().subplots(1, 2, figsize=(11, 4.2))
    max_threads = 1
    for variant in variants:
        rows = variant["rows"]
        threads = [r["threads"] for r in rows]
        max_threads = max(max_threads, *threads)
        medians = [r["wall"]["median"] for r in rows]
        errors = [[r["wall"]["median"] - r["wall"]["q1"] for r in rows], [r["wall"]["q3"] - r["wall"]["median"] for r in rows]]
        ax_time.errorbar(threads, medians, yerr=errors, marker="o", capsize=3, label=variant["name"])
        ax_speed.plot(threads, [r["speedup"] for r in rows], marker="o", label=variant["name"])
    span = list(range(1, max_threads + 1))
    ax_speed.plot(span, span, color="grey", ls="--", label="ideal")
    ax_time.set(xlabel="threads", ylabel="training wall time (s, median and IQR)", yscale="log", title="Time")
    ax_speed.set(xlabel="threads", ylabel="speedup over 1 thread", title="Speedup", xlim=(0.5, max_threads + 0.5),
                 ylim=(0, max_threads + 0.5))
    for ax in (ax_time, ax_speed):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_xticks(span)
    return save_figure(fig, stem)


def plot_threadmap(analysis: dict, stem: Path) -> list[Path]:
    """One heatmap per (thread count, dtype): calls by sizes, coloured by the speedup over one thread
    on a log scale centred on 1.0x (red: slower on more threads, blue: faster), each cell labelled."""
    import math

    from matplotlib.colors import TwoSlopeNorm

    plt = pyplot()
    maps = analysis["maps"]
    fig, axes = plt.subplots(len(maps), 1, figsize=(11, 0.45 * len(maps[0]["rows"]) * len(maps) + 1.2 * len(maps)),
                             squeeze=False)
    for ax, m in zip(axes[:, 0], maps):
        sizes = sorted({c["n"] for row in m["rows"] for c in row["cells"]})
        grid = [[math.nan] * len(sizes) for _ in m["rows"]]
        for i, row in enumerate(m["rows"]):
            for cell in row["cells"]:
                grid[i][sizes.index(cell["n"])] = math.log2(cell["speedup"])
        extreme = max([abs(v) for line in grid for v in line if not math.isnan(v)] + [0.5])
        image = ax.imshow(grid, cmap="RdBu", norm=TwoSlopeNorm(vmin=-extreme, vcenter=0.0, vmax=extreme), aspect="auto")
        for i, row in enumerate(m["rows"]):
            for cell in row["cells"]:
                ax.text(sizes.index(cell["n"]), i, times(cell["speedup"]), ha="center", va="center", fontsize=6.5,
                        fontweight="bold" if cell["verdict"] == "slower" else "normal")
        ax.set_xticks(range(len(sizes)), [f"{n:,}" for n in sizes], fontsize=7)
        ax.set_yticks(range(len(m["rows"])), [row["call"] for row in m["rows"]], fontsize=7)
        ax.set(xlabel="n", title=f"{m['threads']} threads against one, {m['dtype']} (speedup; bold: slower beyond noise)")
        bar = fig.colorbar(image, ax=ax, fraction=0.025)
        bar.set_label("speedup (log scale)", fontsize=7)
        top = math.floor(extreme)  # ticks inside the norm's range, five at most
        ticks = list(range(-top, top + 1, max(1, math.ceil(top / 2))))
        bar.set_ticks(ticks, labels=[times(2.0 ** t) for t in ticks], fontsize=6)
    return save_figure(fig, stem)

