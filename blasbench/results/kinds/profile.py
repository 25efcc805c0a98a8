"""``profile.json``: the optimisation ladder's rungs under cProfile."""

from __future__ import annotations

from .base import Kind


def analyse_profile(results: dict) -> list[dict]:
    """Each rung's shares and its change against the previous rung. cProfile sees the main
    thread only: a data-parallel rung's work, on worker threads, has no shares (its phase
    timers still measure it)."""
    rows, previous = [], None
    for rung in results["rungs"]:
        profile = rung["cprofile"]
        seen = not rung["options"].get("data_parallel")
        row = {
            "rung": rung["rung"], "options": rung["options"], "seconds": rung["seconds"],
            "evaluations": rung["evaluations"], "seconds_per_evaluation": rung["seconds"] / rung["evaluations"],
            "share": {k: profile[k] / profile["total"] if seen else None for k in ("sigmoid", "products", "elsewhere")},
            "phases": rung["phases"], "prof": rung["prof"],
        }
        if previous:
            compared = seen and not previous["options"].get("data_parallel")
            row["change"] = {
                "overall": row["seconds_per_evaluation"] / previous["seconds_per_evaluation"] - 1,
                **{part: _per_eval(profile[part], rung) / _per_eval(previous["cprofile"][part], previous) - 1
                   if compared else None for part in ("sigmoid", "products")},
            }
        rows.append(row)
        previous = {**rung, "seconds_per_evaluation": row["seconds_per_evaluation"]}
    return rows


def _per_eval(seconds: float, rung: dict) -> float:
    return seconds / rung["evaluations"]


class Profile(Kind):
    name, file = "profile", "profile.json"
    required = ("rungs",)

    def analyse(self, result: dict) -> list[dict]:
        return analyse_profile(result)


KIND = Profile()
