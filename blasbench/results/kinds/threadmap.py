"""``threadmap.json``: NumPy's and SciPy's calls timed over sizes and thread counts."""

from __future__ import annotations

from ..analysis import analyse_threadmap, threadmap_cells
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

    def analyse(self, result: dict) -> dict:
        return analyse_threadmap(result)

    def measures(self, result: dict, findings: dict) -> dict[tuple, dict]:
        return {(f"`{call}` {dtype} n = {n}", "threading map", threads): seconds
                for threads, cells in threadmap_cells(result).items() for (call, dtype, n), seconds in cells.items()}


KIND = Threadmap()
