"""``threadmap.json``: NumPy's and SciPy's calls timed over sizes and thread counts; its analysis: per
cell, threads against one thread by the rule for "changed", where threads pay and where they hurt."""

from __future__ import annotations

from collections import defaultdict

from ...facts import CHANGE_FACTOR
from ..change import FEWEST_TO_DECIDE, decide
from ..stats import summarize
from .base import Kind


def _one_round(data: dict) -> dict:
    """Version 5's threading map measured each thread count in one process: round 0 of 1."""
    data["settings"].setdefault("rounds", 1)
    for entry in data["runs"] + data.get("refused", []):
        entry.setdefault("round", 0)
    return data


def _measurements_were_repeats(data: dict) -> dict:
    """Version 6 called the measurements of a cell in one process its "repeats"."""
    data["settings"]["measurements"] = data["settings"].pop("repeats")
    return data


class Threadmap(Kind):
    name, file = "threadmap", "threadmap.json"
    required = ("settings", "runs")
    migrations = {6: _one_round, 7: _measurements_were_repeats}
    command, session = "threadmap", "threadmap"
    table, measure_title = "threadmap", "Threading map (seconds per call)"
    cell_fields, point_title, point_verb = ("call", "dtype", "n"), "threading map", "mapped"
    more_processes = "--rounds"

    def analyse(self, result: dict) -> dict:
        return analyse_threadmap(result)

    def measures(self, result: dict, findings: dict) -> dict[tuple, dict]:
        return {(f"`{call}` {dtype} n = {n}", "threading map", threads): seconds
                for threads, cells in threadmap_cells(result).items() for (call, dtype, n), seconds in cells.items()}

    def cells(self, result: dict) -> dict[int, dict[tuple, dict]]:
        return threadmap_cells(result)

    def cell_name(self, cell: dict) -> str:
        return f"`{cell['call']}` ({cell['dtype']}) n = {cell['n']:,}"

    def panel(self, cell: tuple) -> tuple[str, str]:
        return f"{cell[0]} ({cell[1]})", f"n = {cell[2]:,}"


def threadmap_cells(result: dict) -> dict[int, dict[tuple, dict]]:
    """threads -> (call, dtype, n) -> a cell's seconds per call: the summary of every measurement of
    every round, ``processes``, one value per process (its median), the samples the rule for
    "changed" tests, and ``rounds``, the round each of them came from."""
    pooled: dict = defaultdict(lambda: defaultdict(list))
    for run in result["runs"]:
        for c in run["cells"]:
            if "seconds" in c:
                pooled[run["threads"]][c["call"], c["dtype"], c["n"]].append((run["round"], c["seconds"]))
    return {threads: {key: {**(found[0][1] if len(found) == 1 else summarize([v for _, s in found for v in s["values"]])),
                            "processes": [s["median"] for _, s in found], "rounds": [r for r, _ in found]}
                      for key, found in cells.items()} for threads, cells in pooled.items()}


def undecided_cells(result: dict, rounds: int | None = None) -> dict[int, list[tuple]]:
    """threads -> the (call, dtype, n) cells that the first ``rounds`` rounds' processes (default: the
    map's rounds) leave "undecided" against one thread, for the thread counts that have any: the cells
    the further rounds measure."""
    rounds = result["settings"]["rounds"] if rounds is None else rounds
    kept = {**result, "runs": [run for run in result["runs"] if run["round"] < rounds]}
    found: dict[int, list[tuple]] = defaultdict(list)
    for m in analyse_threadmap(kept)["maps"]:
        found[m["threads"]] += [(row["call"], m["dtype"], cell["n"]) for row in m["rows"] for cell in row["undecided"]]
    return {threads: sorted(keys) for threads, keys in found.items() if keys}


def split_rounds(seconds: dict, rounds: int) -> tuple[list[float], list[float]]:
    """A cell's processes from the map's rounds, and those from its further rounds."""
    pairs = list(zip(seconds["rounds"], seconds["processes"]))
    return [p for r, p in pairs if r < rounds], [p for r, p in pairs if r >= rounds]


def threads_verdict(one: dict, many: dict, rounds: int, factor: float = CHANGE_FACTOR) -> dict:
    """A cell's verdict, threads against one thread, by the rule for "changed": on the rounds' processes;
    where those leave it undecided and the further rounds measured it on both sides, on the further
    rounds' processes alone (a fresh sample, tested once), never on the two pooled. ``decided_by`` says which."""
    (one_rounds, one_further), (many_rounds, many_further) = split_rounds(one, rounds), split_rounds(many, rounds)
    change = {**decide(one_rounds, many_rounds, factor), "decided_by": "rounds", "processes": len(many_rounds)}
    if change["verdict"] == "undecided" and min(len(one_further), len(many_further)) >= FEWEST_TO_DECIDE:
        change = {**decide(one_further, many_further, factor), "decided_by": "further rounds",
                  "processes": len(many_further)}
    return change


def analyse_threadmap(result: dict, factor: float = CHANGE_FACTOR) -> dict:
    """Per thread count above one and dtype: each call's cells (size, seconds at one thread and at
    these, speedup, the rule's verdict, :func:`threads_verdict`), the size from which threads pay
    (faster there and at every larger size measured), and the cells where they hurt. The cells one
    thread skipped (a call over the time limit) are listed."""
    settings = result["settings"]
    runs = {threads: {key: {"seconds": seconds} for key, seconds in cells.items()}
            for threads, cells in threadmap_cells(result).items()}
    maps = []
    for threads in sorted(t for t in runs if t > 1 and 1 in runs):
        for dtype in settings["dtypes"]:
            rows = []
            for call in settings["calls"]:
                cells = []
                for n in settings["sizes"]:
                    one, many = runs[1].get((call, dtype, n)), runs[threads].get((call, dtype, n))
                    if one and many:
                        change = threads_verdict(one["seconds"], many["seconds"], settings["rounds"], factor)
                        cells.append({"n": n, "one": one["seconds"], "many": many["seconds"],
                                      **{k: change[k] for k in ("verdict", "p", "decided_by", "processes")},
                                      "speedup": one["seconds"]["median"] / many["seconds"]["median"]})
                pays_from = None
                for cell in reversed(cells):
                    if cell["verdict"] != "faster":
                        break
                    pays_from = cell["n"]
                hurts = [cell for cell in cells if cell["verdict"] == "slower"]
                rows.append({"call": call, "cells": cells, "pays_from": pays_from, "hurts": hurts,
                             "undecided": [cell for cell in cells if cell["verdict"] == "undecided"],
                             "worst": min(hurts, key=lambda c: c["speedup"]) if hurts else None})
            maps.append({"threads": threads, "dtype": dtype, "rows": rows})
    skipped = [cell for run in result["runs"] if run["threads"] == 1 for cell in run["cells"] if "skipped" in cell]
    measured = {run["threads"] for run in result["runs"]}
    return {"maps": maps, "skipped": skipped, "missing": sorted(set(settings["threads"]) - measured)}


KIND = Threadmap()
