"""reports/releases.md: along each release axis (OpenBLAS releases under one build, NumPy's wheel
releases), each call's time and thread speedup against the release, and what changed between
consecutive releases."""

from __future__ import annotations

from pathlib import Path

from ..results.directory import Results
from ..results.kinds.release import AXES, label, point_directory
from .format import change_rule, duration, table, times
from .plots import pyplot, save_figure
from .threadmap import map_page

KINDS = ("release",)

HOW = {
    "openblas": "One NumPy (and SciPy) built against the `scipy-openblas32` wheel, then each release of that wheel "
                "loaded in its place (its `lib` directory first in `LD_LIBRARY_PATH`, which the loader searches before "
                "the build's RUNPATH) and mapped as `threadmap` maps; what each release's processes loaded is what "
                "threadpoolctl reported.",
    "numpy": "PyPI's NumPy wheels as users install them, each release in its own environment (with the SciPy pip "
             "picked for it, where SciPy's calls are mapped) and mapped as `threadmap` maps. Each wheel bundles its own "
             "OpenBLAS, as does SciPy's: a change between two NumPy releases is NumPy's code or the OpenBLAS it "
             "bundles (both named below), and where SciPy is loaded each process holds two OpenBLAS thread pools.",
}


def pages(results: Results, out) -> None:
    """releases.md, and each point's own map beside it (releases/<point>/threadmap.md)."""
    found = results.findings["release"]
    figures = {axis: out.figure(plot_releases, found, f"releases-{axis}" if axis != "openblas" else "releases", axis)
               for axis in found["axes"]}
    out.page("releases.md", render_releases(found, figures))
    for record in found["measured"]:
        map_page(out, f"releases/{point_directory(record['axis'], record['release'])}/", record["threadmap"],
                 found["maps"][label(record)])


def headline(results: Results) -> list[str]:
    found = results.findings["release"]
    if not found["measured"]:
        return ["- [Releases](releases.md): no release mapped yet."]
    lines = []
    for axis in found["axes"]:
        names = [label(r) for r in along(found, axis)]
        changes = [c for c in found["changes"] if c["axis"] == axis]
        packaging = sum(c["kernels_changed"] for c in changes)
        where = "under one build" if axis == "openblas" else "as PyPI's wheels"
        lines.append(f"- [Releases](releases.md): {len(names)} {AXES[axis]} release(s) mapped {where} ({names[0]} … "
                     f"{names[-1]}); {len(changes)} cell(s) changed between consecutive releases beyond noise"
                     + (f", {packaging} of them with a change of kernel set" if packaging else "") + ".")
    return lines


def along(found: dict, axis: str) -> list[dict]:
    return [r for r in found["measured"] if r["axis"] == axis]


def change_line(change: dict) -> str:
    """One change between consecutive releases, and whether it came with another kernel set."""
    return (f"`{change['call']}` ({change['dtype']}) n = {change['n']:,} at {change['threads']} thread(s): "
            f"{change['before']} {duration(change['seconds'][0])}, {change['after']} {duration(change['seconds'][1])}: "
            f"**{change['verdict']}** ({times(change['ratio'])} the time, p = {change['p']:.3g})"
            + (": the kernel set changed too, a packaging change" if change["kernels_changed"] else ""))


def points_table(records: list[dict], axis: str) -> str:
    """What each point ran: the release, the OpenBLAS threadpoolctl reported and its kernel set."""
    def its_map(r: dict) -> str:
        return f"[threadmap.md](releases/{point_directory(axis, r['release'])}/threadmap.md)"

    if axis == "openblas":
        return table(["release", "OpenBLAS reported", "core type", "threading", "its map"],
                     [[f"`{r['release']}`", r["loaded"]["version"], r["loaded"]["architecture"],
                       r["loaded"]["threading_layer"], its_map(r)] for r in records])
    rows = []
    for r in records:
        others = [lib for lib in r.get("libraries", []) if lib["filepath"] != r["loaded"]["filepath"]]
        rows.append([f"`{r['release']}`", r["installed"].get("scipy") or "–", r["loaded"]["version"],
                     r["loaded"]["architecture"], r["loaded"]["threading_layer"],
                     "; ".join(f"{lib['version']} ({lib['architecture']})" for lib in others) or "–", its_map(r)])
    return table(["NumPy", "SciPy", "NumPy's OpenBLAS", "core type", "threading", "SciPy's OpenBLAS", "its map"], rows)


def render_releases(found: dict, figures: dict[str, str | None] | None = None) -> str:
    parts = ["# Releases",
             f"A change between consecutive releases counts by the one rule for \"changed\": {change_rule()}."]
    if not found["measured"]:
        return "\n\n".join(parts + ["_No release mapped yet._"]) + "\n"
    for axis in found["axes"]:
        changes = [c for c in found["changes"] if c["axis"] == axis]
        parts += [f"## {AXES[axis]} releases", HOW[axis], points_table(along(found, axis), axis)]
        if (figures or {}).get(axis):
            parts.append(f"![{AXES[axis]} releases]({figures[axis]})")
        parts += [f"### What changed between consecutive {AXES[axis]} releases",
                  "\n".join(f"- {change_line(c)}" for c in changes) if changes else
                  "Nothing beyond noise: no cell's time changed between consecutive releases by the rule."]
        parts += per_call_tables(found, axis)
    if found["refused"]:
        parts.append("Refused: " + "; ".join(f"`{label(r)}`: {r['error']}" for r in found["refused"]) + ".")
    return "\n\n".join(parts) + "\n"


def per_call_tables(found: dict, axis: str) -> list[str]:
    """Per call: each release's time at one thread and its speedup at the most threads, per size."""
    cells, releases = found["cells"], [label(r) for r in along(found, axis)]
    top = max(threads for release in releases for threads in cells[release])
    keys = sorted({key for release in releases for key in cells[release].get(1, {})}, key=lambda k: (k[0], k[1], k[2]))
    parts = [f"### Per call: time at one thread, and the speedup at {top} threads"]
    for call, dtype in dict.fromkeys((k[0], k[1]) for k in keys):
        sizes = [k[2] for k in keys if k[:2] == (call, dtype)]
        rows = []
        for release in releases:
            one, many = cells[release].get(1, {}), cells[release].get(top, {})
            rows.append([f"`{release}`", *(f"{duration(one[call, dtype, n]['median'])} · "
                                           f"{times(one[call, dtype, n]['median'] / many[call, dtype, n]['median'])}"
                                           if (call, dtype, n) in one and (call, dtype, n) in many else "–" for n in sizes)])
        parts += [f"#### `{call}` ({dtype})", table(["release", *(f"n = {n:,}" for n in sizes)], rows)]
    return parts


def plot_releases(found: dict, stem: Path, axis: str) -> list[Path]:
    """Per call, each size's time at one thread (solid) and at the most threads (dashed) against the
    releases of ``axis``, as a multiple of the first release's: a change between releases is a step away from 1."""
    plt = pyplot()
    cells, releases = found["cells"], [label(r) for r in along(found, axis)]
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
