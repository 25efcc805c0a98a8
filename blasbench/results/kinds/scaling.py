"""``scaling.json``: a thread-scaling sweep of the network's rungs, or of a user's function."""

from __future__ import annotations

import json
from collections import defaultdict

from nn.options import ITERATIONS, TRAIN_SIZE

from ...facts import HONOURED_CORES, LOADED_POINT_CORES
from ..stats import RECOMMENDATION_RULE, amdahl_fit, amdahl_limit, karp_flatt, recommend, summarize
from .base import Kind

PHASES = ("products", "sigmoid", "elementwise", "rest")


def of_function(settings: dict) -> bool:
    """Whether a sweep measured a user's function (``--workload FILE.py:FUNCTION``), not the post's network."""
    return "function" in settings["workload"]


def phases_with_rest(point: dict) -> dict:
    timed = {name: point["phases"].get(name, 0.0) for name in PHASES[:-1]}
    timed["rest"] = max(0.0, point["wall"] - sum(timed.values()))
    return timed


def analyse_rung(points: list[dict], settings: dict | None = None) -> dict:
    """Medians and spreads per thread count, speedup, efficiency, Karp–Flatt, Amdahl fit (three
    thread counts or more), the recommendation, and whether the sweep is complete: ``settings``
    (the sweep's) say which thread counts and repeats were asked for."""
    by_threads = defaultdict(list)
    for point in points:
        by_threads[point["threads"]].append(point)
    threads = sorted(by_threads)
    rows = []
    for p in threads:
        runs = by_threads[p]
        wall = summarize([r["wall"] for r in runs])
        phases = {name: summarize([phases_with_rest(r)[name] for r in runs])["median"] for name in PHASES}
        rows.append({"threads": p, "runs": len(runs), "wall": wall,
                     "user": summarize([r["user"] for r in runs])["median"],
                     "system": summarize([r["system"] for r in runs])["median"],
                     "seconds_per_iteration": summarize([r["seconds_per_iteration"] for r in runs])["median"],
                     "under_load": sum(1 for r in runs if under_load(r)),
                     "phases": phases})
    base = rows[0]  # speedup is relative to the fewest threads measured, normally 1
    base_by_repeat = {point["repeat"]: point["wall"] for point in by_threads[base["threads"]]}
    for row in rows:
        row["speedup"] = base["wall"]["median"] / row["wall"]["median"]
        # each repeat's own speedup: its runs at every thread count were measured one after another
        by_repeat = [base_by_repeat[point["repeat"]] / point["wall"] for point in by_threads[row["threads"]]
                     if point["repeat"] in base_by_repeat]
        row["speedup_range"] = [min(by_repeat), max(by_repeat)] if row is not base and len(by_repeat) > 1 else None
        row["efficiency"] = row["speedup"] * base["threads"] / row["threads"]
        row["karp_flatt"] = karp_flatt(row["speedup"], row["threads"]) if base["threads"] == 1 else None
        row["phase_speedup"] = {name: (base["phases"][name] / row["phases"][name]) if row["phases"][name] > 0 else None
                                for name in PHASES}
    for row in rows:
        row["cpu_per_wall"] = (row["user"] + row["system"]) / row["wall"]["median"]
    medians = [row["wall"]["median"] for row in rows]
    fit = amdahl_fit(threads, medians)
    advice = recommend(threads, [[point["wall"] for point in by_threads[p]] for p in threads])
    asked = list((settings or {}).get("threads") or threads)
    repeats = (settings or {}).get("repeats") or 1
    missing = [p for p in asked if len(by_threads.get(p, [])) < repeats]
    workload = (settings or {}).get("workload") or {}
    # fewer iterations or examples than the post's, or one run per point (no noise known): a smoke run
    smoke = (repeats < 2 or workload.get("iterations", ITERATIONS) < ITERATIONS
             or workload.get("train_size", TRAIN_SIZE) < TRAIN_SIZE)
    return {
        "rows": rows,
        "amdahl": {**fit, "max_speedup": amdahl_limit(fit["serial_fraction"])},
        "recommendation": {**advice, "rule": RECOMMENDATION_RULE,
                           "provisional": bool(missing) or smoke or bool(advice["undecided"])},
        "smoke": smoke,
        "best_threads": threads[medians.index(min(medians))],
        "complete": not missing,
        "measured_thread_counts": len(asked) - len(missing),
        "asked_thread_counts": len(asked),
        "under_load": sum(row["under_load"] for row in rows),
        # more threads asked for than the process kept busy: the speedup there is not a measure of threading
        "threads_unused": [row for row in rows if row["threads"] > 1 and row["cpu_per_wall"] < HONOURED_CORES],
        # more time in the kernel than in user code: I/O, page faults or sleeping, not the BLAS
        "system_bound": [row for row in rows if row["system"] > row["user"]],
        "answers": analyse_answers(points) if any("answer" in p for p in points) else None,
    }


def analyse_answers(points: list[dict]) -> dict:
    """Does threading change a function's answer? Each point's answer was compared with the first
    point's (the fewest threads, repeat 0). The other repeats at the fewest threads say first whether
    the function gives one answer at all: only then is a difference at more threads the threads'.
    ``finding``: "unchanged", "threads" (they changed it), "not deterministic" (it differs between
    repeats at the fewest threads), or "unknown" (it differs at more threads, with one repeat a
    thread count nothing tells threads from run-to-run differences)."""
    compared = [p for p in points if "verdict" in p["answer"]]
    fewest = min(p["threads"] for p in points)
    repeats = [p for p in compared if p["threads"] == fewest and p["repeat"] > 0]
    unstable = [p for p in repeats if p["answer"]["verdict"] == "differs"]
    differs = [p for p in compared if p["threads"] != fewest and p["answer"]["verdict"] == "differs"]
    if unstable:
        finding = "not deterministic"
    elif differs:
        finding = "threads" if repeats else "unknown"
    else:
        finding = "unchanged"
    largest = max((p["answer"].get("max_relative_difference") or 0.0 for p in unstable or differs), default=None)
    return {"finding": finding, "fewest": fewest, "largest_difference": largest,
            "at": sorted({p["threads"] for p in (unstable or differs)})}


def under_load(point: dict) -> bool:
    return (point.get("load") or {}).get("other_cores", 0.0) > LOADED_POINT_CORES


def analyse_scaling(results: dict) -> dict:
    rungs = defaultdict(list)
    for point in results["points"]:
        rungs[point["rung"]].append(point)
    return {rung: analyse_rung(points, results.get("settings")) for rung, points in rungs.items()}


def workload_label(workload: dict) -> str:
    """A workload as ``compare`` keys its measures: a function by its spec and arguments (not its file's hash:
    two versions of one function, before and after a change, are the comparison the gate is for; the hash
    stays in each run's provenance), or the network's size."""
    if "function" in workload:
        args = workload.get("args")
        return f"`{workload['spec']}`" + (f" {json.dumps(args, sort_keys=True)}" if args else "")
    return f"[{workload['layers']}], {workload['train_size']:,} examples"


def sweep_measures(sweep: dict, prefix: str = "") -> dict[tuple, dict]:
    """A sweep's comparable measures: (rung, workload, threads) -> the summary of its seconds per CG
    iteration (per call, for a function), so that runs of different lengths on one workload compare;
    each point is a process of its own, so its value is one of the measure's ``processes``."""
    workload = workload_label(sweep["settings"]["workload"])
    samples: dict[tuple, list[float]] = {}
    for point in sweep["points"]:
        samples.setdefault((prefix + point["rung"], workload, point["threads"]), []).append(point["seconds_per_iteration"])
    return {key: {**summarize(values), "processes": values} for key, values in samples.items()}


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
    cell_fields, cell_unit, point_title, point_verb = ("rung", "workload"), "iteration or call", "thread sweep", "swept"
    more_processes = "--repeats"

    def analyse(self, result: dict) -> dict:
        return analyse_scaling(result)

    def measures(self, result: dict, findings: dict) -> dict[tuple, dict]:
        return sweep_measures(result)


KIND = Scaling()
