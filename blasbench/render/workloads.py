"""reports/workloads.md: several functions swept side by side on one setup (``scaling --workload A B ...``),
each against the first."""

from __future__ import annotations

from ..results.change import processes_to_decide
from ..results.directory import Results
from .format import change_rule, duration, provenance_lines, table, times

KINDS = ("workload",)


def pages(results: Results, out) -> None:
    out.page("workloads.md", render_workloads(results.findings["workload"], results["workload"]))


def against_words(against: dict) -> str:
    """One workload against the first, over its thread counts: the rule's verdict at each."""
    return "; ".join(f"{times(row['ratio'])} at {row['threads']} thread(s), {verdict_words(row)}" for row in against["rows"])


def verdict_words(row: dict) -> str:
    return {"slower": "**slower**", "faster": "**faster**", "no change": "within noise"}.get(
        row["verdict"], row["verdict"]) + (f" (p = {row['p']:.2g})" if row["p"] is not None else "")


def headline(results: Results) -> list[str]:
    found = results.findings["workload"]
    return ([f"- [Workloads](workloads.md) `{a['name']}` against `{a['base']}`: {against_words(a)}."
             for a in found["against_first"]]
            + [f"- [Workloads](workloads.md) `{f['name']}`: not measured ({f['error']})." for f in found["failed"]])


def render_workloads(found: dict, records: list[dict]) -> str:
    parts = ["# Workloads side by side",
             "Each function swept on the same setup in one run, a repeat of each in turn (A B A B ...), so that a "
             "machine that drifts over the run shifts them all alike; each is held against the first, thread count "
             f"by thread count, by the rule for \"changed\": {change_rule()}."]
    rows = []
    for workload in found["workloads"]:
        advice = workload["analysis"]["recommendation"]
        revision = f"`{workload['revision'][:12]}`" if workload["revision"] else "working tree"
        rows.append([f"`{workload['name']}`", f"`{workload['spec']}`", revision, f"`{workload['sha256'][:12]}`",
                     ("provisionally " if advice["provisional"] else "") + f"use {advice['threads']}"])
    parts += ["## The workloads",
              table(["workload", "function", "file from", "file sha256", "threads"], rows)]
    for against in found["against_first"]:
        lines = [[row["threads"], duration(row["medians"][0]), duration(row["medians"][1]), times(row["ratio"]),
                  f"{times(row['ratio_range'][0])}–{times(row['ratio_range'][1])}", verdict_words(row)]
                 for row in against["rows"]]
        parts += [f"## `{against['name']}` against `{against['base']}`",
                  table(["threads", f"`{against['base']}` per call", f"`{against['name']}` per call", "ratio",
                         "range", "verdict"], lines)]
        if undecided := [row for row in against["rows"] if row["verdict"] == "undecided"]:
            had = min(min(row["processes"]) for row in undecided)
            parts.append(f"Undecided at {', '.join(str(row['threads']) for row in undecided)} thread(s): "
                         f"`--repeats {processes_to_decide(had)}` can decide it.")
        if against["same_answer"] is not None:
            parts.append("Its answer is bit-for-bit the first's." if against["same_answer"] else
                         "**Its answer differs** from the first's (by its bytes, at the fewest threads).")
    if found["failed"]:
        parts += ["## Not measured", "\n".join(f"- `{f['name']}` ({f['asked']}): {f['error']}" for f in found["failed"])]
    parts.append("To gate on it, `compare` the two workloads' folders: `python3 -m blasbench compare "
                 "RESULTS/workloads/FIRST RESULTS/workloads/OTHER --fail-on slower`.")
    for record in records:
        if (record.get("scaling") or {}).get("environment"):
            settings = record["scaling"]["settings"]
            parts += [f"### Provenance of `{record['name']}`",
                      provenance_lines(record["scaling"]["environment"], settings["threads"], settings["workload"])]
    return "\n\n".join(parts) + "\n"

