"""setups.md's part in order: along each release axis (OpenBLAS releases under one build, NumPy's wheel
releases), each call's (or the workload's) time and thread speedup against the release, what
changed between consecutive releases, and a bisect's steps."""

from __future__ import annotations

from pathlib import Path

from ..results.directory import Results
from ..results.kinds import MEASURED
from ..results.kinds.release import AXES, FIRST_MEASURE, along, cells_by_label, directory_of, key_fields, label
from ..setups import VARIANTS
from .format import duration, table, times
from .plots import pyplot, save_figure

PAGE = "setups.md"

HOW = {
    "openblas": "One NumPy (and SciPy) built against the `scipy-openblas32` wheel, then each release of that wheel "
                "loaded in its place (its `lib` directory first in `LD_LIBRARY_PATH`, which the loader searches before "
                "the build's RUNPATH) and measured there as `threadmap` maps and `scaling` sweeps; what each release's "
                "processes loaded is what threadpoolctl reported. A point of another setup (`system:pthread`: Debian's "
                "OpenBLAS; `source:bookworm`: compiled here from Debian's source) is that OpenBLAS with the same NumPy (and "
                "SciPy) built against it: it differs from its neighbours in its build as well as its release.",
    "numpy": "PyPI's NumPy wheels as users install them, each release in its own environment (with the SciPy pip "
             "picked for it, unless NumPy's calls alone are mapped) and measured there as `threadmap` maps and `scaling` "
             "sweeps. Each wheel bundles its own "
             "OpenBLAS, as does SciPy's: a change between two NumPy releases is NumPy's code or the OpenBLAS it "
             "bundles (both named below), and where SciPy is loaded each process holds two OpenBLAS thread pools.",
}


def figures_and_pages(results: Results, out) -> dict[str, str | None]:
    """Each axis and measure's figure, and each point's own report (releases/<point>/threadmap.md or scaling.md)."""
    found = results.findings["release"]
    for record in found["measured"]:
        if point_pages := getattr(out.renderer_of(record["measure"]), "point_pages", None):
            point_pages(out, f"releases/{directory_of(record)}/", record["result"], found["analysed"][directory_of(record)])
    return {figure_stem(*line): out.figure(plot_releases, found, figure_stem(*line), *line) for line in found["lines"]}


def tables_of(found: dict, out) -> dict:
    """Each measure's tables across releases: its renderer's ``release_tables``, or :func:`release_tables`."""
    return {measure: getattr(out.renderer_of(measure), "release_tables", release_tables) for measure, _ in found["lines"]}


def figure_stem(measure: str, axis: str) -> str:
    return "releases" + ("" if measure == FIRST_MEASURE else f"-{measure}") + ("" if axis == "openblas" else f"-{axis}")


def headline(results: Results) -> list[str]:
    found = results.findings["release"]
    if not found["measured"]:
        return [f"- [Releases]({PAGE}): no release mapped yet."]
    lines = []
    if bisected := results["bisect"]:
        steps = results.findings["bisect"]
        lines.append(f"- [Bisect]({PAGE}#bisect): {bisected['releases'][0]} … {bisected['releases'][-1]}, "
                     f"{len(bisected['measured'])} of {len(bisected['releases'])} releases measured: "
                     + (f"{steps['placed']} step(s) placed, {steps['confirmed']} confirmed on fresh measures."
                        if steps["placed"] else "no cell changed between the ends by the rule."))
    for measure, axis in found["lines"]:
        records = along(found, measure, axis)
        names = [label(r) for r in records]
        changes = [c for c in found["changes"] if (c["measure"], c["axis"]) == (measure, axis)]
        packaging = sum(c["kernels_changed"] or c["build_changed"] for c in changes)
        variants = sum(bool(r.get("variant")) for r in records)
        where = ("under one build" + (f" and {variants} variant(s) built otherwise" if variants else "") if axis == "openblas"
                 else "as PyPI's wheels")
        what = MEASURED[measure].point_verb
        lines.append(f"- [Releases]({PAGE}): {len(names)} {AXES[axis]} release(s) {what} {where} ({names[0]} … "
                     f"{names[-1]}); {len(changes)} cell(s) changed between consecutive releases beyond noise"
                     + (f", {packaging} of them with a change of kernel set or build" if packaging else "") + ".")
    return lines


def cell_name(cell: dict, measure: str) -> str:
    """A cell of what ``measure`` measured, as its kind names it: a map's `solve` (float64) n = 2,048, a sweep's
    rung and workload."""
    return MEASURED[measure].cell_name(cell)


def change_line(change: dict) -> str:
    """One change between consecutive releases, and whether it came with another kernel set or build."""
    return (f"{cell_name(change, change['measure'])} at {change['threads']} thread(s): "
            f"{change['before']} {duration(change['seconds'][0])}, {change['after']} {duration(change['seconds'][1])}: "
            f"**{change['verdict']}** ({times(change['ratio'])} the time, p = {change['p']:.3g})"
            + (": the build changed too (another build of NumPy, against another OpenBLAS), a packaging change"
               if change["build_changed"] else
               ": the kernel set changed too, a packaging change" if change["kernels_changed"] else ""))


def points_table(records: list[dict], axis: str) -> str:
    """What each point ran: the release, the OpenBLAS threadpoolctl reported and its kernel set."""
    def its_report(r: dict) -> str:
        return f"[{r['measure']}.md](releases/{directory_of(r)}/{r['measure']}.md)"

    def build(r: dict) -> str:  # a point recorded before its setup was is a named variant
        return f"setup `{r.get('setup') or VARIANTS[r['variant']].setup}`" if r.get("variant") else "the one build"

    if axis == "openblas":
        return table(["release", "build", "OpenBLAS reported", "core type", "threading", "its report"],
                     [[f"`{r['release']}`", build(r),
                       r["loaded"]["version"], r["loaded"]["architecture"], r["loaded"]["threading_layer"], its_report(r)]
                      for r in records])
    rows = []
    for r in records:
        others = [lib for lib in r.get("libraries", []) if lib["filepath"] != r["loaded"]["filepath"]]
        rows.append([f"`{r['release']}`", r["installed"].get("scipy") or "–", r["loaded"]["version"],
                     r["loaded"]["architecture"], r["loaded"]["threading_layer"],
                     "; ".join(f"{lib['version']} ({lib['architecture']})" for lib in others) or "–", its_report(r)])
    return table(["NumPy", "SciPy", "NumPy's OpenBLAS", "core type", "threading", "SciPy's OpenBLAS", "its report"], rows)


def bisect_line(found: dict, measure: str) -> str:
    """One change a bisect of ``measure`` found: where, between which releases, and whether fresh measures confirmed it."""
    cell = f"{cell_name(found, measure)} at {found['threads']} thread(s)"
    if "not_monotone" in found:
        turn = found["not_monotone"]
        return (f"{cell}: {found['verdict']} from {found['before']} to {found['after']} overall, but {turn['verdict']} at "
                f"{turn['release']}: not monotone; bisect a narrower range on each side")
    again = found["confirmation"]
    return (f"{cell}: {found['before']} {duration(found['seconds'][0])}, {found['after']} {duration(found['seconds'][1])} "
            f"({found['verdict']}): " + ("confirmed" if found["confirmed"] else
                                        f"not confirmed (measured again: {again['verdict']}, {again['ratio']:.2f}x)")
            + f" on fresh measures (p = {again['p']:.3g})"
            + ("; the build changed too (another build of NumPy, against another OpenBLAS), a packaging change"
               if found.get("build_changed") else ""))


def bisect_section(bisected: dict) -> list[str]:
    """The bisect's answer: each step placed between two adjacent releases, confirmed or not."""
    ends = f"{bisected['releases'][0]} … {bisected['releases'][-1]}"
    return ["## Bisect",
            f"Over {ends} ({len(bisected['releases'])} releases; measured: {', '.join(bisected['measured'])}), each cell "
            "that changed between the ends by the rule, placed between the two adjacent releases that hold the step "
            "by halving, and that pair measured again, afresh and together (under `bisect/`), to confirm it.",
            "\n".join(f"- {bisect_line(f, bisected.get('measure', FIRST_MEASURE))}" for f in bisected["findings"])
            if bisected["findings"] else
            f"No cell changed between {ends} by the rule: nothing to place."]


def sections(found: dict, figures: dict[str, str | None] | None = None, bisected: dict | None = None,
             tables: dict | None = None) -> list[str]:
    """The releases in order, and a bisect's steps; ``figures`` by their stem; ``tables``: each measure's tables
    across releases (:func:`tables_of`, by default :func:`release_tables`)."""
    parts = bisect_section(bisected) if bisected else []
    if not found["measured"]:
        return parts + ["_No release mapped yet._"]
    for measure, axis in found["lines"]:
        changes = [c for c in found["changes"] if (c["measure"], c["axis"]) == (measure, axis)]
        records = along(found, measure, axis)
        parts += [f"## {AXES[axis]} releases: {MEASURED[measure].point_title}", HOW[axis], points_table(records, axis)]
        if figure := (figures or {}).get(figure_stem(measure, axis)):
            parts.append(f"![{AXES[axis]} releases]({figure})")
        parts += [f"### What changed between consecutive {AXES[axis]} releases",
                  f"{found['compared'][measure, axis]:,} cells compared between consecutive releases, each a chance of a "
                  "false alarm: a change just past the change factor is the kind a second run does not always find again. "
                  "`--bisect` over a range of releases maps the pair around a change afresh and says whether it is confirmed.",
                  "\n".join(f"- {change_line(c)}" for c in changes) if changes else
                  "Nothing beyond noise: no cell's time changed between consecutive releases by the rule."]
        parts += (tables or {}).get(measure, release_tables)(cells_by_label(found, records), [label(r) for r in records],
                                                             MEASURED[measure])
    if found["refused"]:
        parts.append("Refused: " + "; ".join(f"`{label(r)}`: {r['error']}" for r in found["refused"]) + ".")
    return parts


def release_tables(cells: dict[str, dict], releases: list[str], kind) -> list[str]:
    """Per cell (``cells``: each release's, by its name): each release's time at each thread count, and its speedup on
    one thread's (a sweep's per CG iteration or call)."""
    counts = sorted({threads for release in cells.values() for threads in release})
    parts = []
    for key in dict.fromkeys(key for release in cells.values() for row in release.values() for key in row):
        rows = []
        for release, by_threads in cells.items():
            one = by_threads.get(1, {}).get(key)
            rows.append([f"`{release}`", *(f"{duration(by_threads[t][key]['median'])}"
                                           + (f" · {times(one['median'] / by_threads[t][key]['median'])}" if one else "")
                                           if key in by_threads.get(t, {}) else "–" for t in counts)])
        parts += [f"### {kind.cell_name(key_fields(kind.name, key))}: time per {kind.cell_unit}, and the speedup",
                  table(["release", *(f"{t} thread(s)" for t in counts)], rows)]
    return parts


def plot_releases(found: dict, stem: Path, measure: str, axis: str) -> list[Path]:
    """Per call and size (a map) or per workload (a sweep), the time at one thread (solid) and at the
    most threads (dashed) against the releases of ``axis``, as a multiple of the first release's: a
    change between releases is a step away from 1."""
    plt = pyplot()
    records = along(found, measure, axis)
    cells, releases = cells_by_label(found, records), [label(r) for r in records]
    top = max(threads for release in releases for threads in cells[release])
    keys = list(dict.fromkeys(k for release in releases for k in cells[release].get(1, {})))
    panels: dict[str, dict[str, tuple]] = {}  # title -> series label -> cell
    for key in keys:
        title, series = MEASURED[measure].panel(key)
        panels.setdefault(title, {})[series] = key
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3 * rows), squeeze=False)
    for ax, (title, series) in zip(axes.flat, panels.items()):
        for name, key in series.items():
            for threads, style in ((1, "-"), (top, "--")):
                values = [cells[r].get(threads, {}).get(key, {}).get("median") for r in releases]
                first = next((v for v in values if v), None)
                ax.plot(range(len(releases)), [v / first if v and first else float("nan") for v in values], style,
                        marker="o", ms=2.5, label=f"{name}, {threads} thr".lstrip(", "))
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set(title=title, ylabel=f"time / {releases[0]}'s")
        ax.set_xticks(range(len(releases)), releases, rotation=45, fontsize=6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=4.5, ncol=2)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    return save_figure(fig, stem)
