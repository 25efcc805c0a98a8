"""``compare.json``: result directories side by side (``compare``, or a Slurm job's nodes)."""

from __future__ import annotations

from . import Kind


def _description_was_identity(data: dict) -> dict:
    """Version 1 called a run's shown fields its "identity", now a word of provenance."""
    for run in data["runs"]:
        run["description"] = run.pop("identity")
    return data


class Compare(Kind):
    name, file = "compare", "compare.json"
    required = ("runs", "tables")
    migrations = {2: _description_was_identity}


KIND = Compare()
