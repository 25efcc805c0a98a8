"""reports/threadmap.md: where BLAS threads pay and where they hurt, per call and size."""

from __future__ import annotations

from ..facts import CELL_SECONDS
from ..results.change import processes_to_decide
from ..results.directory import Results
from .format import change_rule, duration, provenance_lines, table, thread_variable, times
from .plots import plot_threadmap

KINDS = ("threadmap",)
ARROW = {"faster": " ↑", "slower": " **↓**", "undecided": " ?"}


def pages(results: Results, out) -> None:
    map_page(out, "", results["threadmap"], results.findings["threadmap"])


def map_page(out, where: str, result: dict, analysis: dict) -> None:
    """A map's page and heatmap, under ``where`` (a variant's directory, or this one)."""
    figure = out.figure(plot_threadmap, analysis, f"{where}threadmap") if analysis["maps"] else None
    out.page(f"{where}threadmap.md", render_threadmap(result, analysis, figure))


point_pages = map_page  # a release point's map: its page beside the point's record


def release_tables(cells: dict[str, dict], releases: list[str], kind) -> list[str]:
    """setups.md's tables of maps (``cells``: each release's, by its name): per call, each release's time at one
    thread and its speedup at the most threads, per size."""
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


def headline(results: Results) -> list[str]:
    return [f"- [Threading map](threadmap.md): {threadmap_line(results.findings['threadmap'])}"]


def hurt_sizes(row: dict) -> str:
    """The sizes at which threads made a call slower, as a report names them: ``n = 16, 64``."""
    return "n = " + ", ".join(f"{cell['n']:,}" for cell in row["hurts"])


def advice(row: dict, threads: int, dtype: str, variable: str) -> str | None:
    """What to set, in code, for a call that threads made slower (None when they never did)."""
    if not row["hurts"]:
        return None
    worst = row["worst"]
    return (f"`{row['call']}` ({dtype}) at {hurt_sizes(row)} is {'up to ' if len(row['hurts']) > 1 else ''}"
            f"{1 / worst['speedup']:.1f}x slower on {threads} "
            f"threads than on one (n = {worst['n']:,}: {worst['one']['median'] * 1e6:,.1f} µs against "
            f"{worst['many']['median'] * 1e6:,.1f} µs; {how_decided(row['hurts'])}): wrap such calls in "
            f"`with threadpoolctl.threadpool_limits(1):`, or run a program made of them with `{variable}=1`.")


def how_decided(cells: list[dict]) -> str:
    """Which processes decided these cells: the rounds', or (where those left a cell undecided) the
    further rounds' own, fresh ones."""
    by = {}
    for cell in cells:
        by.setdefault((cell["decided_by"], cell["processes"]), []).append(f"{cell['n']:,}")
    return "; ".join(f"{'n = ' + ', '.join(sizes) + ' ' if len(by) > 1 else ''}decided on "
                     + (f"{count} process(es) a side" if how == "rounds" else
                        f"the further rounds' {count} fresh process(es) a side, the rounds having left it undecided")
                     for (how, count), sizes in by.items())


def render_threadmap(result: dict, analysis: dict, figure: str | None = None) -> str:
    settings = result["settings"]
    parts = [
        "# Threading map: where BLAS threads pay, and where they hurt",
        f"{len(settings['calls'])} calls ({', '.join(f'`{call}`' for call in settings['calls'])}) "
        f"over sizes n = {', '.join(f'{n:,}' for n in settings['sizes'])} "
        f"({', '.join(settings['dtypes'])}), at {', '.join(map(str, sorted({1, *settings['threads']})))} thread(s), each "
        f"thread count measured in {settings['rounds']} fresh process(es), interleaved (the thread counts one after "
        "another, then again), each with every thread variable set and its limit checked with threadpoolctl. "
        f"Each cell is the median of {settings['measurements'] * settings['rounds']} measurements "
        f"({settings['measurements']} per process), each timing the call as often as it takes to last "
        f"{CELL_SECONDS * 1000:g} ms. A cell is **slower** (↓) or faster (↑) against one thread by the one rule for "
        f"\"changed\": {change_rule()}. Undecided cells are marked ?. Threads **pay from** the smallest size at which they are "
        "faster there and at every larger size measured.",
    ]
    if analysis["missing"]:
        parts.append(f"**Partial map:** thread count(s) {', '.join(map(str, analysis['missing']))} not measured "
                     "(refused or interrupted); run the same command again to measure them.")
    if not analysis["maps"]:
        parts.append("_Nothing to compare: a map needs one thread and at least one more thread count measured._")
    variable = thread_variable(result.get("environment"))
    lines = [line for m in analysis["maps"] for row in m["rows"]
             if (line := advice(row, m["threads"], m["dtype"], variable))]
    parts += ["## Where threads hurt", "\n".join(f"- {line}" for line in lines) if lines else
              "Nowhere beyond noise: no call was slower on more threads than on one."]
    undecided = [f"`{row['call']}` ({m['dtype']}, {m['threads']} threads) at n = "
                 + ", ".join(f"{c['n']:,} ({times(c['speedup'])})" for c in cells)
                 for m in analysis["maps"] for row in m["rows"] if (cells := [c for c in row["undecided"] if c["speedup"] < 1])]
    if undecided:
        parts.append(f"**Undecided** (slower by the change factor, not beyond the test with {settings['rounds']} "
                     f"process(es) a thread count; more processes decide: `--rounds "
                     f"{processes_to_decide(settings['rounds'])}`, or a larger `--more-time`): "
                     + "; ".join(undecided) + ".")
    if figure:
        parts.append(f"![threading map]({figure})")
    for m in analysis["maps"]:
        sizes = [n for n in settings["sizes"] if any(c["n"] == n for row in m["rows"] for c in row["cells"])]
        rows = []
        for row in m["rows"]:
            by_size = {c["n"]: c for c in row["cells"]}
            rows.append([f"`{row['call']}`",
                         *(f"{times(by_size[n]['speedup'])}{ARROW.get(by_size[n]['verdict'], '')}" if n in by_size else "–"
                           for n in sizes),
                         f"{row['pays_from']:,}" if row["pays_from"] else "never",
                         ", ".join(f"{c['n']:,}" for c in row["hurts"]) or "nowhere"])
        parts += [f"## {m['threads']} threads against one, {m['dtype']}: speedup per size",
                  table(["call", *(f"n = {n:,}" for n in sizes), "threads pay from n =", "slower at n ="], rows)]
    if analysis["skipped"]:
        parts.append("Not measured (a single call at one thread took longer than the time limit, "
                     f"`--call-limit {settings['max_seconds']:g}`): "
                     + "; ".join(f"`{c['call']}` {c['dtype']} from n = {c['n']:,}" for c in analysis["skipped"]) + ".")
    if result.get("refused"):
        parts.append("Refused thread counts (their limit did not take effect): "
                     + "; ".join(f"{r['threads']}: {r['why']}" for r in result["refused"]) + ".")
    parts += ["## Provenance", provenance_lines(result.get("environment"), sorted({1, *result["settings"]["threads"]}))]
    return "\n\n".join(parts) + "\n"


def threadmap_line(analysis: dict) -> str:
    """Which calls threads made slower, and from which size they pay, at the most threads."""
    if not analysis["maps"]:
        return "not enough thread counts measured to compare."
    top = max(m["threads"] for m in analysis["maps"])
    words = []
    for m in (m for m in analysis["maps"] if m["threads"] == top):
        hurt = [f"`{row['call']}` at {hurt_sizes(row)}" for row in m["rows"] if row["hurts"]]
        slower = [f"`{row['call']}` at n = " + ", ".join(f"{c['n']:,}" for c in cells) for row in m["rows"]
                  if (cells := [c for c in row["undecided"] if c["speedup"] < 1])]
        words.append(f"{m['dtype']} on {top} threads: " + (f"slower than one thread for {', '.join(hurt)}" if hurt
                                                          else "never slower than one thread beyond noise")
                     + (f"; undecided, slower by the factor but not beyond noise, for {', '.join(slower)}" if slower else ""))
    return "; ".join(words) + "."
