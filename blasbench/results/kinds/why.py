"""``why.json``: the why-scaling-stops experiments."""

from __future__ import annotations

from ..analysis import analyse_why
from .base import Kind, conditions_were_setups


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
