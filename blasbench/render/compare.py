"""reports/compare/compare.md: runs side by side."""

from __future__ import annotations

from ..results.change import beyond_noise
from ..results.directory import Results
from ..results.kinds import KINDS as RESULT_KINDS
from .format import change_rule, duration, fmt, table

KINDS = ("compare",)


def table_titles() -> dict[str, str]:
    """compare's tables, titled and ordered as the result kinds whose measures they hold."""
    return {kind.table: kind.measure_title for kind in RESULT_KINDS if kind.measure_title}


def pages(results: Results, out) -> None:
    out.page("compare.md", render_compare(results["compare"]))


def headline(results: Results) -> list[str]:
    comparison = results["compare"]
    flagged = sum(beyond_noise(r["verdict"]) for rows in comparison["tables"].values() for r in rows)
    return [f"- [Comparison](compare.md) of {len(comparison['runs'])} runs: {flagged} difference(s) beyond the runs' noise."]


def render_compare(comparison: dict) -> str:
    """Runs side by side: who they are (from provenance), then every shared measure."""
    runs = comparison["runs"]
    fields = ["cpu", "blas", "numpy", "python", "commit", "host", "date"]
    parts = [
        "# Comparison of runs",
        "Each run is identified by the provenance its results recorded. Ratios are other/" + runs[0]["label"]
        + " of the medians, with the range from the runs' extremes; the verdict is the one rule for \"changed\": "
        + change_rule(comparison["factor"]) + ".",
        table(["run", *fields, "directory"], [[r["label"], *(fmt(r["description"][f]) for f in fields), f"`{r['directory']}`"]
                                             for r in runs]),
    ]
    if words := together_words(comparison):
        parts.append(words)
    if comparison["differs_in"]:
        parts.append("The runs differ in: " + ", ".join(comparison["differs_in"])
                     + ". Ratios then compare machines or builds, not only noise.")
    parts += thread_effects_section(runs)
    if not comparison["tables"]:
        parts.append("_No measure appears in both runs (different rungs, thread counts or workloads)._")
    # In one fixed order: a comparison read back from disk has its tables sorted by name.
    titles = table_titles()
    for name, rows in sorted(comparison["tables"].items(), key=lambda item: list(titles).index(item[0])):
        flagged = [r for r in rows if beyond_noise(r["verdict"])]
        # a map's calls take microseconds to seconds; the other tables' measures, tenths of a second
        seconds, unit = (duration, "") if name == "threadmap" else ((lambda value: f"{value:.4f}"), " s")
        cells = []
        for r in rows:
            verdict = f"**{r['verdict']}**" if r in flagged else r["verdict"]
            cells.append([*(str(k) for k in r["key"]), f"{seconds(r['base']['median'])} (n={r['base']['n']})",
                          f"{r['other_label']}: {seconds(r['other']['median'])} (n={r['other']['n']})",
                          f"{r['ratio']:.2f} [{r['ratio_range'][0]:.2f}, {r['ratio_range'][1]:.2f}]", verdict])
        parts += [f"## {titles.get(name, name)}",
                  f"{len(flagged)} of {len(rows)} differences are beyond the noise.",
                  table(["measure", "workload", "threads", f"{runs[0]['label']} median{unit}", f"other median{unit}",
                         "ratio [range]", "verdict"], cells)]
    return "\n\n".join(parts) + "\n"


def together_words(comparison: dict) -> str:
    """Which kind of comparison it was: both sides in one run, in turn, or measured apart."""
    if comparison.get("together"):  # comparisons written before it was recorded say nothing of it
        return "The runs were measured in one job, a repeat (a round) of each in turn: a drift of the machine fell on each alike."
    if "together" in comparison:
        return ("The runs were measured apart (a stored baseline): a drift of the machine between them reads as a "
                "change of every measure alike; measure both in one job where they can be (docs/measuring.md).")
    return ""


def effect_words(effect: dict | None) -> str:
    if effect is None:
        return "–"
    hurt = (f"**slower** at n = {', '.join(f'{n:,}' for n in effect['hurts'])} (worst {effect['worst']:.2f}x)"
            if effect["hurts"] else "never slower")
    undecided = (f"; undecided at n = {', '.join(f'{n:,}' for n in effect['undecided'])}"
                 if effect.get("undecided") else "")  # maps before the rule have none
    return hurt + undecided + (f"; pays from n = {effect['pays_from']:,}" if effect["pays_from"] else "; never pays")


def thread_effects_section(runs: list[dict]) -> list[str]:
    """Which BLAS has the pathology, and where: each run's own map at its most threads against one."""
    mapped = [r for r in runs if r.get("thread_effects")]
    if not mapped:
        return []
    keys = list(dict.fromkeys((e["call"], m["dtype"]) for r in mapped for m in r["thread_effects"] for e in m["calls"]))
    effects = {r["label"]: {(e["call"], m["dtype"]): e for m in r["thread_effects"] for e in m["calls"]} for r in mapped}
    threads = sorted({m["threads"] for r in mapped for m in r["thread_effects"]})
    rows = [[f"`{call}` {dtype}", *(effect_words(effects[r["label"]].get((call, dtype))) for r in mapped)]
            for call, dtype in keys]
    return ["## Where threads hurt, per run",
            f"Each run's own threading map, at its most threads ({', '.join(map(str, threads))}) against one, as its "
            "threadmap.md says: the sizes where the call was slower beyond noise (the worst ratio, one thread's time "
            "over the threads'), and the size from which threads pay. Read across a row for which BLAS has the "
            "pathology, and where.",
            table(["call", *(f"{r['label']}: {r['description']['blas']}" for r in mapped)], rows)]
