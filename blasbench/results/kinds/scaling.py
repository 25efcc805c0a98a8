"""``scaling.json``: a thread-scaling sweep of the network's rungs, or of a user's function."""

from __future__ import annotations

from ..analysis import analyse_scaling, sweep_measures
from .base import Kind


def _rungs_were_variants(data: dict) -> dict:
    """Version 1 called a ladder step "variant". Its points have no identity, so a sweep never
    resumes on them (they are moved aside), but they still render."""
    data["settings"]["rungs"] = data["settings"].pop("variants")
    for entry in data.get("points", []) + data.get("refused", []):
        entry["rung"] = entry.pop("variant")
    return data


class Scaling(Kind):
    name, file = "scaling", "scaling.json"
    required = ("settings", "points")
    migrations = {2: _rungs_were_variants}
    command, session = "scaling", "scaling"
    table, measure_title = "scaling", "Thread scaling (seconds per CG iteration)"

    def analyse(self, result: dict) -> dict:
        return analyse_scaling(result)

    def measures(self, result: dict, findings: dict) -> dict[tuple, dict]:
        return sweep_measures(result)


KIND = Scaling()
