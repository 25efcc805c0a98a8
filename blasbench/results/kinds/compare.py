"""``compare.json``: result directories side by side (``compare``, or a Slurm job's nodes)."""

from __future__ import annotations

from .base import Kind


def _description_was_identity(data: dict) -> dict:
    """Version 1 called a run's shown fields its "identity", now a word of provenance."""
    for run in data["runs"]:
        run["description"] = run.pop("identity")
    return data


# Version 6's words for what its rule found, in the words of the one rule for "changed".
OLD_FLAGS = {"within noise": "no change", "below the factor": "no change", "single run: noise unknown": "noise unknown"}


def _verdict_was_flag(data: dict) -> dict:
    """Version 6's rows said their "flag", decided by non-overlapping ranges; the words are kept where
    they are the rule's (slower, faster) and translated where not. Run `compare` again to apply the rule."""
    for rows in data["tables"].values():
        for row in rows:
            flag = row.pop("flag")
            row["verdict"] = OLD_FLAGS.get(flag, flag)
            row.setdefault("p", None)
    return data


class Compare(Kind):
    name, file = "compare", "compare.json"
    required = ("runs", "tables")
    migrations = {2: _description_was_identity, 7: _verdict_was_flag}


KIND = Compare()
