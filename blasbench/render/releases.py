"""reports/releases.md: each call's time and thread speedup against the OpenBLAS release loaded
under one build, and what changed between consecutive releases."""

from __future__ import annotations

from pathlib import Path

from ..results.directory import Results
from .format import change_rule, duration, table, times
from .plots import pyplot, save_figure
from .threadmap import map_page

KINDS = ("release",)


def pages(results: Results, out) -> None:
    """releases.md, and each release's own map beside it (releases/<version>/threadmap.md)."""
    found = results.findings["release"]
    figure = out.figure(plot_releases, found, "releases") if found["measured"] else None
    out.page("releases.md", render_releases(found, figure))
    for record in found["measured"]:
        map_page(out, f"releases/{record['release']}/", record["threadmap"], found["maps"][record["release"]])


def headline(results: Results) -> list[str]:
    found = results.findings["release"]
    if not found["measured"]:
        return ["- [Releases](releases.md): no release mapped yet."]
    names = [r["release"] for r in found["measured"]]
    packaging = sum(c["kernels_changed"] for c in found["changes"])
    return [f"- [Releases](releases.md): {len(names)} OpenBLAS release(s) mapped under one build ({names[0]} … {names[-1]}); "
            f"{len(found['changes'])} cell(s) changed between consecutive releases beyond noise"
            + (f", {packaging} of them with a change of kernel set" if packaging else "") + "."]


def change_line(change: dict) -> str:
    """One change between consecutive releases, and whether it came with another kernel set."""
    return (f"`{change['call']}` ({change['dtype']}) n = {change['n']:,} at {change['threads']} thread(s): "
            f"{change['before']} {duration(change['seconds'][0])}, {change['after']} {duration(change['seconds'][1])}: "
            f"**{change['verdict']}** ({times(change['ratio'])} the time, p = {change['p']:.3g})"
            + (": the kernel set changed too, a packaging change" if change["kernels_changed"] else ""))


def render_releases(found: dict, figure: str | None = None) -> str:
    measured = found["measured"]
    parts = ["# OpenBLAS releases under one build",
             "One NumPy (and SciPy) built against the `scipy-openblas32` wheel, then each release of that wheel loaded in "
             "its place (its `lib` directory first in `LD_LIBRARY_PATH`, which the loader searches before the build's "
             "RUNPATH) and mapped as `threadmap` maps; what each release's processes loaded is what threadpoolctl "
             "reported. A change between consecutive releases counts by the one rule for \"changed\": "
             f"{change_rule()}."]
    if not measured:
        return "\n\n".join(parts + ["_No release mapped yet._"]) + "\n"
    parts.append(table(["release", "OpenBLAS reported", "core type", "threading", "its map"],
                       [[f"`{r['release']}`", r["loaded"]["version"], r["loaded"]["architecture"], r["loaded"]["threading_layer"],
                         f"[threadmap.md](releases/{r['release']}/threadmap.md)"] for r in measured]))
    if found["refused"]:
        parts.append("Refused: " + "; ".join(f"`{r['release']}`: {r['error']}" for r in found["refused"]) + ".")
    if figure:
        parts.append(f"![releases]({figure})")
    changes = found["changes"]
    parts += ["## What changed between consecutive releases",
              "\n".join(f"- {change_line(c)}" for c in changes) if changes else
              "Nothing beyond noise: no cell's time changed between consecutive releases by the rule."]
    parts += per_call_tables(found)
    return "\n\n".join(parts) + "\n"


def per_call_tables(found: dict) -> list[str]:
    """Per call: each release's time at one thread and its speedup at the most threads, per size."""
    cells, releases = found["cells"], [r["release"] for r in found["measured"]]
    top = max(threads for release in releases for threads in cells[release])
    keys = sorted({key for release in releases for key in cells[release].get(1, {})}, key=lambda k: (k[0], k[1], k[2]))
    parts = [f"## Per call: time at one thread, and the speedup at {top} threads"]
    for call, dtype in dict.fromkeys((k[0], k[1]) for k in keys):
        sizes = [k[2] for k in keys if k[:2] == (call, dtype)]
        rows = []
        for release in releases:
            one, many = cells[release].get(1, {}), cells[release].get(top, {})
            rows.append([f"`{release}`", *(f"{duration(one[call, dtype, n]['median'])} · "
                                           f"{times(one[call, dtype, n]['median'] / many[call, dtype, n]['median'])}"
                                           if (call, dtype, n) in one and (call, dtype, n) in many else "–" for n in sizes)])
        parts += [f"### `{call}` ({dtype})", table(["release", *(f"n = {n:,}" for n in sizes)], rows)]
    return parts


def plot_releases(found: dict, stem: Path) -> list[Path]:
    """Per call, each size's time at one thread (solid) and at the most threads (dashed) against the
    release, as a multiple of the first release's: a change between releases is a step away from 1."""
    plt = pyplot()
    cells, releases = found["cells"], [r["release"] for r in found["measured"]]
    top = max(threads for release in releases for threads in cells[release])
    calls = list(dict.fromkeys((k[0], k[1]) for release in releases for k in cells[release].get(1, {})))
    columns = min(3, len(calls))
    rows = -(-len(calls) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3 * rows), squeeze=False)
    for ax, (call, dtype) in zip(axes.flat, calls):
        sizes = sorted({k[2] for release in releases for k in cells[release].get(1, {}) if k[:2] == (call, dtype)})
        for n in sizes:
            for threads, style in ((1, "-"), (top, "--")):
                values = [cells[r].get(threads, {}).get((call, dtype, n), {}).get("median") for r in releases]
                first = next((v for v in values if v), None)
                ax.plot(range(len(releases)), [v / first if v and first else float("nan") for v in values], style,
                        marker="o", ms=2.5, label=f"n = {n:,}, {threads} thr")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set(title=f"{call} ({dtype})", ylabel=f"time / {releases[0]}'s")
        ax.set_xticks(range(len(releases)), releases, rotation=45, fontsize=6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=4.5, ncol=2)
    for ax in list(axes.flat)[len(calls):]:
        ax.axis("off")
    return save_figure(fig, stem)
