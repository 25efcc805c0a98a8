"""``why.json``: the why-scaling-stops experiments."""

from __future__ import annotations

from .base import Kind, conditions_were_setups

PAYING_SPEEDUP = 1.2  # below this, threads do not pay for themselves


def analyse_why(why: dict) -> dict:
    """The experiments' findings: the problem-size cells where threads do not pay, and those where they lose."""
    found = {}
    if sizes := why["experiments"].get("sizes"):
        not_paying = [r for r in sizes["rows"] if r["speedup"] < PAYING_SPEEDUP]
        found["sizes"] = {"not_paying": not_paying, "losing": [r for r in not_paying if r["speedup"] < 1.0]}
    return found


def _conditions(result: dict) -> dict:
    return {**result, "experiments": {name: {**found, "rows": conditions_were_setups(found["rows"])}
                                      for name, found in result["experiments"].items()}}


class Why(Kind):
    name, file = "why", "why.json"
    required = ("experiments",)
    migrations = {9: _conditions}

    def analyse(self, result: dict) -> dict:
        return analyse_why(result)


KIND = Why()
