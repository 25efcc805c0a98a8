"""From measured points to findings: per-rung scaling tables, fits and recommendations,
and the seed post's published figures to put beside them."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from importlib.resources import files

from nn.options import ITERATIONS, TRAIN_SIZE

from ..facts import (
    ALL_LIMITED,
    HONOURED_CORES,
    LOADED_POINT_CORES,
    NO_LIMIT,
    PARALLEL_SPEEDUP,
    PEERS,
    SERIAL_LAYERS,
)
from ..setups import DEFAULT_VARIANT, VARIANTS
from .change import decide
from .stats import RECOMMENDATION_RULE, amdahl_fit, amdahl_limit, karp_flatt, recommend, summarize

PHASES = ("products", "sigmoid", "elementwise", "rest")


@functools.cache
def seed_figures() -> dict:
    """The figures published with the seed post (copied into the package from the project's seed),
    read once per process."""
    return json.loads(files("blasbench").joinpath("seed_figures.json").read_text())


def reference_accuracy() -> dict:
    """Not published by the post: its own code, measured on this project's data."""
    return seed_figures()["accuracy"]["reference_measured"]


def seed_scaling() -> dict:
    """The seed's wall, user and system seconds per thread count, with its speedup."""
    scaling = seed_figures()["scaling"]
    wall = {int(p): t for p, t in scaling["threads_vs_wall_seconds"].items()}
    return {
        "threads": sorted(wall),
        "wall": wall,
        "user": {int(p): t for p, t in scaling["threads_vs_user_seconds"].items()},
        "system": {int(p): t for p, t in scaling["threads_vs_system_seconds"].items()},
        "speedup": {p: wall[1] / t for p, t in wall.items()},
    }


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


PAYING_SPEEDUP = 1.2  # below this, threads do not pay for themselves


def analyse_why(why: dict) -> dict:
    """The experiments' findings: the problem-size cells where threads do not pay, and those where they lose."""
    found = {}
    if sizes := why["experiments"].get("sizes"):
        not_paying = [r for r in sizes["rows"] if r["speedup"] < PAYING_SPEEDUP]
        found["sizes"] = {"not_paying": not_paying, "losing": [r for r in not_paying if r["speedup"] < 1.0]}
    return found


def seed_recommendation() -> int:
    """The rule applied to the seed post's own timings (1-10 threads)."""
    seed = seed_scaling()
    return recommend(seed["threads"], [[seed["wall"][p]] for p in seed["threads"]])["threads"]


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


def threading(variant: dict) -> str:
    """How a variant's BLAS ran the probe's DGEMM on every thread: "serial" (a single-threaded
    BLAS), "one unless told" (one thread with no thread variable set: the probe sets none, while a
    sweep's points set every one), "parallel" (at least PARALLEL_SPEEDUP faster than on one), or
    "no gain" (threads ran but did not pay)."""
    serial = variant["blas"]["threading_layer"] in SERIAL_LAYERS or not variant["blas"]["reported_threads"]
    if variant["dgemm_all"]["cpu_per_wall"] < HONOURED_CORES:
        return "serial" if serial else "one unless told"
    return "parallel" if variant["dgemm_speedup"] >= PARALLEL_SPEEDUP else "no gain"


def limit_effect(row: dict, rows: list[dict]) -> str | None:
    """What one way of asking for one thread did (``rows``: every way, measured alike): "honoured"
    (the DGEMM kept at most HONOURED_CORES busy), "compute only" (it ran at the one-thread rate,
    nearer that of an honoured limit than the free rate, while the library's idle threads kept
    cores busy spinning), "ignored", or None where the library ran one thread without a limit."""
    if row["honoured"] is not False:
        return None if row["honoured"] is None else "honoured"
    one = [r["dgemm"]["gflops"] for r in rows if r["honoured"]]
    free = next(r for r in rows if r["condition"] == NO_LIMIT)["dgemm"]["gflops"]
    rate = row["dgemm"]["gflops"]
    return "compute only" if one and abs(rate - min(one, key=lambda g: abs(g - rate))) < abs(rate - free) else "ignored"


def analyse_variants(records: list[dict], maps: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """Per measured variant: DGEMM at one and all threads (share of nominal peak), training
    time at one and all threads, speedup, how its BLAS threads, and its threading map's analysis
    (``maps``, by variant); and the variants that failed or have neither a sweep nor a map, a variant
    stopped by an error in both lists (what it measured before the error, and the error). A variant
    mapped and not swept is in neither: ``maps`` has it."""
    measured, failed = [], []
    for record in records:
        scaling = record.get("scaling") or {}
        # a speedup to show: the limits probed and every thread count measured at least once
        points = scaling.get("points") or []
        swept = bool(points) and "limits" in record and {p["threads"] for p in points} >= set(scaling["settings"]["threads"])
        if "error" in record or not (swept or record["variant"]["name"] in maps):
            failed.append(record)
        if not swept:
            continue
        [sweep] = analyse_scaling(record["scaling"]).values()
        limits = {row["condition"]: row for row in record["limits"]}
        one, everyone = limits[ALL_LIMITED], limits[NO_LIMIT]
        peak = everyone["peak_gflops_per_core_estimate"]
        threads_all = everyone["reported_threads"] or 1
        rows = sweep["rows"]
        best = min(rows, key=lambda r: r["wall"]["median"])
        measured.append(variant := {
            "name": record["variant"]["name"], "description": record["variant"]["description"],
            # records before setups were spelt name their variant alone
            "setup": record["variant"].get("setup") or str(VARIANTS[record["variant"]["name"]].setup),
            "blas": everyone, "library": record["installed"]["library"],
            "dgemm_one": one["dgemm"], "dgemm_all": everyone["dgemm"], "threads_all": threads_all,
            "share_of_peak_one": one["dgemm"]["gflops"] / peak if peak else None,
            "share_of_peak_all": everyone["dgemm"]["gflops"] / (peak * threads_all) if peak else None,
            "rows": rows, "points": record["scaling"]["points"], "one": rows[0], "all": rows[-1],
            "best_seconds": best["wall"]["median"],
            "training_speedup": rows[0]["wall"]["median"] / rows[-1]["wall"]["median"],
            "ignored": [row["condition"] for row in record["limits"] if limit_effect(row, record["limits"]) == "ignored"],
            "limits": record["limits"], "environment": record.get("environment"),
            "settings": record["scaling"]["settings"], "blas_sha256": record.get("blas_sha256", {}),
            "build_seconds": build_seconds(record["installed"]),
            "threadmap": maps.get(record["variant"]["name"]),
            "dgemm_speedup": everyone["dgemm"]["gflops"] / one["dgemm"]["gflops"],
            "answers": sweep["answers"],
        })
        variant["threading"] = threading(variant)
    if measured:
        fastest = min(measured, key=lambda v: v["best_seconds"])
        for variant in measured:
            variant["against_fastest"] = variant["best_seconds"] / fastest["best_seconds"]
            variant["fastest"] = variant is fastest
    return measured, failed


def build_seconds(installed: dict) -> float | str | None:
    """How long compiling the variant's NumPy and SciPy took: "prebuilt" for PyPI's wheels, None
    when the record predates build times."""
    seconds = [w.get("build_seconds") for w in installed.get("wheels", [])]
    if not seconds:
        return "prebuilt"
    return sum(seconds) if None not in seconds else None


def serial_without_limit(limits: list[dict]) -> bool:
    """Whether the BLAS ran one core with no limit set, so that no limit had anything to honour."""
    return next(r for r in limits if r["condition"] == NO_LIMIT)["dgemm"]["cpu_per_wall"] < HONOURED_CORES


def variants_findings(measured: list[dict]) -> dict:
    """What the comparison says, at one thread and at all: the fastest variant, by how much it
    beats the next one and the rule's verdict on that (the next "slower", or within noise, or
    undecided), each variant's time against the default build's, and which variants load the same binary."""
    findings = {}
    for end in ("one", "all"):
        ranked = sorted(measured, key=lambda v: v[end]["wall"]["median"])
        first, second = ranked[0], ranked[1] if len(ranked) > 1 else None
        findings[end] = {
            "threads": first[end]["threads"], "fastest": first["name"], "seconds": first[end]["wall"]["median"],
            "next": second and second["name"],
            "ratio": second and second[end]["wall"]["median"] / first[end]["wall"]["median"],
            # the next against the fastest, by the rule: "slower" where the fastest is fastest beyond noise
            "verdict": decide(walls(first, end), walls(second, end))["verdict"] if second else None,
        }
    baseline = next((v for v in measured if v["name"] == DEFAULT_VARIANT), None)
    findings["against_default"] = {v["name"]: {end: v[end]["wall"]["median"] / baseline[end]["wall"]["median"]
                                               for end in ("one", "all")} for v in measured} if baseline else {}
    by_digest: dict[str, list[str]] = {}
    for v in measured:
        for digest_ in v["blas_sha256"].values():
            by_digest.setdefault(digest_, []).append(v["name"])
    findings["same_binary"] = [names for names in by_digest.values() if len(names) > 1]
    return findings


def bench_label(row: dict) -> str:
    """A bench row's name: the rung and its dtype, or the peer."""
    return f"{row['rung']} {row['dtype']}" if row.get("rung") else row["peer"]


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


def walls(variant: dict, end: str) -> list[float]:
    """A variant's training (or call) times at its fewest ("one") or most ("all") threads, one per point."""
    return [p["wall"] for p in variant["points"] if p["threads"] == variant[end]["threads"]]


def bottom_line(scaling: dict | None, rungs: dict | None, variants: list[dict]) -> dict | None:
    """What a user can act on: the fastest rung (not a peer) at its recommended thread count, and the
    variant that trained fastest; None when neither was measured."""
    found: dict = {}
    if scaling and (analysed := {r: a for r, a in (rungs or {}).items() if r not in PEERS}):
        def time_at_advice(a: dict) -> float:
            return next(r for r in a["rows"] if r["threads"] == a["recommendation"]["threads"])["wall"]["median"]

        rung, a = min(analysed.items(), key=lambda item: time_at_advice(item[1]))
        cores = ((scaling.get("environment") or {}).get("cpu") or {}).get("usable_cores")
        found.update(rung=rung, analysis=a, threads=a["recommendation"]["threads"],
                     all_cores=a["recommendation"]["threads"] == cores)
    if variants:
        found["fastest_variant"] = min(variants, key=lambda v: v["best_seconds"])["name"]
    return found or None

